//! The affected-set rules on plain workspaces: dependents, global inputs, unreadable manifests,
//! Go's per-directory packages; and, over random graphs, that the set is exactly the closure.

use proptest::prelude::*;

use super::*;

fn package(ecosystem: Ecosystem, name: &str, directory: &str, needs: &[&str]) -> Package {
    Package {
        ecosystem,
        name: name.to_owned(),
        directory: directory.to_owned(),
        needs: needs.iter().map(|need| (*need).to_owned()).collect(),
    }
}

fn files(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

fn globals() -> GlobalInputs {
    GlobalInputs::builtin()
}

/// core ← api ← cli, core ← web; util alone.
fn cargo_workspace() -> Workspace {
    Workspace {
        packages: vec![
            package(Ecosystem::Cargo, "core", "crates/core", &[]),
            package(Ecosystem::Cargo, "api", "crates/api", &["core", "serde"]),
            package(Ecosystem::Cargo, "cli", "crates/cli", &["api"]),
            package(Ecosystem::Cargo, "web", "crates/web", &["core"]),
            package(Ecosystem::Cargo, "util", "crates/util", &[]),
        ],
        ..Workspace::default()
    }
}

#[test]
fn a_change_to_a_library_selects_its_dependents_transitively() {
    let affected = affected(
        &cargo_workspace(),
        &files(&["crates/core/src/lib.rs"]),
        &globals(),
    );
    assert_eq!(affected.direct, ["core"]);
    assert_eq!(affected.dependents, ["api", "cli", "web"]);
    assert_eq!(affected.everything, None);
    assert_eq!(affected.all(), ["api", "cli", "core", "web"]);
}

#[test]
fn a_change_to_a_leaf_selects_only_the_leaf_and_nothing_changed_selects_nothing() {
    let workspace = cargo_workspace();
    let leaf = affected(&workspace, &files(&["crates/cli/src/main.rs"]), &globals());
    assert_eq!(leaf.all(), ["cli"]);
    assert!(leaf.dependents.is_empty());
    let docs = affected(&workspace, &files(&["README.md", "docs/a.md"]), &globals());
    assert!(docs.all().is_empty(), "{docs:?}");
}

#[test]
fn a_lockfile_or_toolchain_or_root_manifest_selects_every_package() {
    let workspace = cargo_workspace();
    for (file, says) in [
        (
            "Cargo.lock",
            "`Cargo.lock` changed: a lockfile is a global input",
        ),
        (
            "Cargo.toml",
            "`Cargo.toml` changed: the root manifest is a global input",
        ),
        (
            "rust-toolchain.toml",
            "`rust-toolchain.toml` changed: a toolchain file is a global input",
        ),
        (
            "fixlane.toml",
            "`fixlane.toml` changed: the config is a global input",
        ),
        (
            "web/.nvmrc",
            "`web/.nvmrc` changed: a toolchain file is a global input",
        ),
    ] {
        let affected = affected(
            &workspace,
            &files(&["crates/cli/src/main.rs", file]),
            &globals(),
        );
        assert_eq!(affected.everything.as_deref(), Some(says), "{file}");
        assert_eq!(affected.direct, ["cli"], "{file}");
        assert_eq!(
            affected.all(),
            ["api", "cli", "core", "util", "web"],
            "{file}"
        );
    }
    // A member's own manifest is that member's change, not a global one.
    let member = affected(&workspace, &files(&["crates/core/Cargo.toml"]), &globals());
    assert_eq!(member.everything, None);
    assert_eq!(member.all(), ["api", "cli", "core", "web"]);
}

#[test]
fn the_config_file_and_declared_global_inputs_select_every_package() {
    let globals = GlobalInputs::new(
        Some("ci/fixlane.toml"),
        &["ci/**".to_owned(), "*.env".to_owned()],
    )
    .unwrap();
    let workspace = cargo_workspace();
    let config = affected(&workspace, &files(&["ci/fixlane.toml"]), &globals);
    assert_eq!(
        config.everything.as_deref(),
        Some("`ci/fixlane.toml` changed: the config is a global input")
    );
    let declared = affected(&workspace, &files(&["ci/image/Dockerfile"]), &globals);
    assert_eq!(
        declared.everything.as_deref(),
        Some("`ci/image/Dockerfile` changed: it matches `ci/**` in [project] global_inputs")
    );
    assert_eq!(declared.all().len(), 5);
    let other = affected(&workspace, &files(&["docs/ci/x.md"]), &globals);
    assert_eq!(other.everything, None);
    assert!(GlobalInputs::new(None, &["a/[".to_owned()]).is_err());
}

#[test]
fn an_unreadable_manifest_fails_closed_and_says_which() {
    let mut workspace = cargo_workspace();
    workspace.unreadable.push(Unreadable {
        path: "crates/broken/Cargo.toml".to_owned(),
        why: "TOML parse error at line 2".to_owned(),
    });
    let affected = affected(&workspace, &files(&["crates/util/src/lib.rs"]), &globals());
    assert_eq!(affected.direct, ["util"]);
    assert_eq!(affected.all().len(), 5);
    assert_eq!(
        affected.everything.as_deref(),
        Some("`crates/broken/Cargo.toml` could not be read")
    );
    assert_eq!(
        affected.warnings,
        [
            "`crates/broken/Cargo.toml` could not be read (TOML parse error at line 2), so every package is selected"
        ]
    );
}

#[test]
fn the_deepest_member_holds_a_file_and_directories_match_whole() {
    let workspace = Workspace {
        packages: vec![
            package(Ecosystem::Cargo, "root", "", &[]),
            package(Ecosystem::Cargo, "alpha", "crates/alpha", &["root"]),
            package(Ecosystem::Cargo, "nested", "crates/alpha/nested", &[]),
        ],
        ..Workspace::default()
    };
    let nested = affected(
        &workspace,
        &files(&["crates/alpha/nested/src/lib.rs"]),
        &globals(),
    );
    assert_eq!(nested.all(), ["nested"]);
    let sibling = affected(&workspace, &files(&["crates/alphabet/x.rs"]), &globals());
    assert_eq!(sibling.direct, ["root"]);
    assert_eq!(sibling.dependents, ["alpha"]);
}

#[test]
fn go_packages_are_directories_and_their_importers_follow() {
    let workspace = Workspace {
        packages: vec![
            package(
                Ecosystem::Go,
                "example.com/svc",
                "",
                &["example.com/svc/internal/pay"],
            ),
            package(
                Ecosystem::Go,
                "example.com/svc/internal/pay",
                "internal/pay",
                &["example.com/svc/internal/money"],
            ),
            package(
                Ecosystem::Go,
                "example.com/svc/internal/money",
                "internal/money",
                &[],
            ),
            package(
                Ecosystem::Go,
                "example.com/svc/cmd/report",
                "cmd/report",
                &[],
            ),
        ],
        go_modules: vec![GoModule {
            directory: String::new(),
            path: "example.com/svc".to_owned(),
        }],
        ..Workspace::default()
    };
    let money = affected(&workspace, &files(&["internal/money/money.go"]), &globals());
    assert_eq!(money.direct, ["example.com/svc/internal/money"]);
    assert_eq!(
        money.dependents,
        ["example.com/svc", "example.com/svc/internal/pay"]
    );
    // A subdirectory is another package; an asset or testdata belongs to its own directory's.
    let asset = affected(
        &workspace,
        &files(&[
            "internal/pay/templates.txt",
            "cmd/report/testdata/in/a.json",
            "docs/x.md",
        ]),
        &globals(),
    );
    assert_eq!(
        asset.direct,
        ["example.com/svc/cmd/report", "example.com/svc/internal/pay"]
    );
    assert_eq!(asset.dependents, ["example.com/svc"]);
    // A package whose last file was deleted is still named.
    let gone = affected(&workspace, &files(&["cmd/old/old.go"]), &globals());
    assert_eq!(gone.all(), ["example.com/svc/cmd/old"]);
}

#[test]
fn the_changed_go_packages_are_the_known_direct_ones_of_go_alone() {
    let mut workspace = Workspace {
        packages: vec![
            package(Ecosystem::Cargo, "tool", "tools/x", &[]),
            package(Ecosystem::Go, "example.com/svc", "", &[]),
            package(Ecosystem::Go, "example.com/svc/pay", "pay", &[]),
            package(Ecosystem::Go, "example.com/svc/money", "money", &[]),
        ],
        go_modules: vec![GoModule {
            directory: String::new(),
            path: "example.com/svc".to_owned(),
        }],
        ..Workspace::default()
    };
    // A Cargo file, a deleted package's file, an asset and a global input: only the known Go
    // packages count, the lockfile no differently from any other file.
    let changed = files(&[
        "tools/x/src/lib.rs",
        "gone/gone.go",
        "money/rates.json",
        "pay/pay.go",
        "go.sum",
    ]);
    assert_eq!(changed_go_packages(&workspace, &changed), [1, 2, 3]);
    assert_eq!(
        changed_go_packages(&workspace, &files(&["docs/x.md"])),
        [0_usize; 0]
    );
    // Two packages of one name: the last, as `affected` resolves a need of that name.
    workspace.packages.push(package(
        Ecosystem::Go,
        "example.com/svc/pay",
        "vendored/pay",
        &[],
    ));
    assert_eq!(
        changed_go_packages(&workspace, &files(&["pay/pay.go"])),
        [4]
    );
}

#[test]
fn names_are_matched_within_one_ecosystem() {
    let workspace = Workspace {
        packages: vec![
            package(Ecosystem::Cargo, "web", "rust/web", &[]),
            package(Ecosystem::Npm, "web", "js/web", &[]),
            package(Ecosystem::Npm, "app", "js/app", &["web"]),
            package(Ecosystem::Cargo, "server", "rust/server", &["web"]),
        ],
        ..Workspace::default()
    };
    let rust = affected(&workspace, &files(&["rust/web/src/lib.rs"]), &globals());
    assert_eq!(rust.all(), ["server", "web"]);
    let js = affected(&workspace, &files(&["js/web/index.js"]), &globals());
    assert_eq!(js.all(), ["app", "web"]);
}

#[test]
fn every_package_says_why_and_keeps_the_warnings() {
    let mut workspace = cargo_workspace();
    workspace.unreadable.push(Unreadable {
        path: "x/package.json".to_owned(),
        why: "expected value".to_owned(),
    });
    let all = every_package(&workspace, "a full run selects every package".to_owned());
    assert!(all.direct.is_empty());
    assert_eq!(all.dependents, ["api", "cli", "core", "util", "web"]);
    assert_eq!(
        all.everything.as_deref(),
        Some("a full run selects every package")
    );
    assert_eq!(all.warnings.len(), 1);
}

#[test]
fn a_dependency_cycle_ends() {
    let workspace = Workspace {
        packages: vec![
            package(Ecosystem::Npm, "a", "a", &["b"]),
            package(Ecosystem::Npm, "b", "b", &["a"]),
            package(Ecosystem::Npm, "c", "c", &["b"]),
        ],
        ..Workspace::default()
    };
    let affected = affected(&workspace, &files(&["a/x.js"]), &globals());
    assert_eq!(affected.direct, ["a"]);
    assert_eq!(affected.dependents, ["b", "c"]);
}

/// A random DAG-or-not of up to 12 packages, each needing a few others, and a few changed ones.
fn graph() -> impl Strategy<Value = (Vec<Vec<usize>>, Vec<usize>)> {
    (1_usize..12).prop_flat_map(|count| {
        (
            proptest::collection::vec(proptest::collection::vec(0..count, 0..4), count),
            proptest::collection::vec(0..count, 0..4),
        )
    })
}

proptest! {
    /// Selected = the changed packages and every package that reaches one through `needs`:
    /// closed (whoever needs a selected package is selected) and minimal.
    #[test]
    fn the_selection_is_exactly_the_closure_over_dependents((needs, changed) in graph()) {
        let workspace = Workspace {
            packages: needs
                .iter()
                .enumerate()
                .map(|(index, needs)| Package {
                    ecosystem: Ecosystem::Cargo,
                    name: format!("p{index}"),
                    directory: format!("p{index}"),
                    needs: needs.iter().map(|need| format!("p{need}")).collect(),
                })
                .collect(),
            ..Workspace::default()
        };
        let changed_files: Vec<String> = changed.iter().map(|index| format!("p{index}/f")).collect();
        let result = affected(&workspace, &changed_files, &globals());
        let all = result.all();
        let selected = |index: usize| all.contains(&format!("p{index}"));
        for index in &changed {
            let name = format!("p{index}");
            prop_assert!(result.direct.contains(&name), "{} is not direct", name);
        }
        // Closed: whoever needs a selected package is selected.
        for (index, package_needs) in needs.iter().enumerate() {
            if package_needs.iter().any(|need| selected(*need)) {
                prop_assert!(selected(index), "p{index} needs a selected package");
            }
        }
        // Minimal: each selected package reaches a changed one through its needs.
        for index in 0..needs.len() {
            if !selected(index) {
                continue;
            }
            let mut seen = vec![false; needs.len()];
            let mut stack = vec![index];
            let mut reaches = false;
            while let Some(at) = stack.pop() {
                if changed.contains(&at) {
                    reaches = true;
                    break;
                }
                for need in &needs[at] {
                    if !seen[*need] {
                        seen[*need] = true;
                        stack.push(*need);
                    }
                }
            }
            prop_assert!(reaches, "p{index} is selected but needs no changed package");
        }
        prop_assert!(result.direct.iter().all(|name| !result.dependents.contains(name)));
    }

    /// A global input anywhere among the changed files selects every package, whatever else.
    #[test]
    fn a_global_input_selects_every_package((needs, changed) in graph(), at in 0_usize..5) {
        let workspace = Workspace {
            packages: (0..needs.len())
                .map(|index| package(Ecosystem::Npm, &format!("p{index}"), &format!("p{index}"), &[]))
                .collect(),
            ..Workspace::default()
        };
        let mut changed_files: Vec<String> = changed.iter().map(|index| format!("p{index}/f")).collect();
        changed_files.insert(at.min(changed_files.len()), "pnpm-lock.yaml".to_owned());
        let result = affected(&workspace, &changed_files, &globals());
        prop_assert_eq!(result.all().len(), needs.len());
        prop_assert!(result.everything.is_some());
    }
}
