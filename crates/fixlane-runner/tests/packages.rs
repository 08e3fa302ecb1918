//! `changed_packages` on real manifests: Cargo workspaces, Go modules, npm workspaces.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside `#[test]` functions are test code too, and fail loudly"
)]

use std::path::Path;

use fixlane_runner::packages::{affected_packages, changed_packages};

fn write(root: &Path, file: &str, contents: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn files(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn cargo_workspace_members_by_deepest_directory() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\", \"crates/alpha/nested\", \"tools/cli\"]\nexclude = [\"crates/skipped\"]\n",
    );
    write(
        root,
        "crates/alpha/Cargo.toml",
        "[package]\nname = \"alpha\"\n",
    );
    write(
        root,
        "crates/alpha/nested/Cargo.toml",
        "[package]\nname = \"alpha-nested\"\n",
    );
    write(
        root,
        "crates/beta/Cargo.toml",
        "[package]\nname = \"beta\"\nversion = \"1.0.0\"\n",
    );
    write(
        root,
        "crates/skipped/Cargo.toml",
        "[package]\nname = \"skipped\"\n",
    );
    write(root, "tools/cli/Cargo.toml", "[package]\nname = \"cli\"\n");
    write(
        root,
        "tools/other/Cargo.toml",
        "[package]\nname = \"other\"\n",
    );
    std::fs::create_dir_all(root.join("crates/not-a-crate")).unwrap();

    let changed = files(&[
        "crates/alpha/src/lib.rs",
        "crates/alpha/nested/src/lib.rs",
        "tools/cli/Cargo.toml",
        "crates/skipped/src/lib.rs",
        "tools/other/src/main.rs",
        "crates/not-a-crate/file",
        "README.md",
        "crates/alphabet.txt",
    ]);
    assert_eq!(
        changed_packages(root, &changed),
        ["alpha", "alpha-nested", "cli"]
    );
    assert_eq!(
        changed_packages(
            root,
            &files(&["crates/beta/src/a.rs", "crates/beta/src/b.rs"])
        ),
        ["beta"]
    );
    assert!(changed_packages(root, &[]).is_empty());
}

#[test]
fn a_single_crate_is_its_own_package() {
    let directory = tempfile::tempdir().unwrap();
    write(
        directory.path(),
        "Cargo.toml",
        "[package]\nname = \"solo\"\nversion = \"0.1.0\"\n",
    );
    assert_eq!(
        changed_packages(directory.path(), &files(&["src/main.rs", "Cargo.lock"])),
        ["solo"]
    );
}

#[test]
fn go_packages_are_the_module_path_and_the_directory() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(root, "go.mod", "module example.com/svc\n\ngo 1.22\n");
    write(
        root,
        "tools/go.mod",
        "module example.com/tools // generators\n",
    );
    let changed = files(&[
        "internal/pay/pay.go",
        "internal/pay/pay_test.go",
        "main.go",
        "docs/guide.md",
        "tools/gen/gen.go",
        "cmd/removed/gone.go",
    ]);
    assert_eq!(
        changed_packages(root, &changed),
        [
            "example.com/svc",
            "example.com/svc/cmd/removed",
            "example.com/svc/internal/pay",
            "example.com/tools/gen",
        ]
    );
}

#[test]
fn npm_workspaces_by_their_package_names() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(
        root,
        "package.json",
        r#"{ "name": "monorepo", "private": true, "workspaces": ["packages/*", "apps/web", "!packages/legacy"] }"#,
    );
    write(
        root,
        "packages/ui/package.json",
        r#"{ "name": "@acme/ui" }"#,
    );
    write(
        root,
        "packages/api-client/package.json",
        r#"{ "name": "@acme/api-client" }"#,
    );
    write(
        root,
        "packages/legacy/package.json",
        r#"{ "name": "@acme/legacy" }"#,
    );
    write(root, "apps/web/package.json", r#"{ "name": "web" }"#);
    write(
        root,
        "packages/ui/node_modules/dep/package.json",
        r#"{ "name": "dep" }"#,
    );
    let changed = files(&[
        "packages/ui/src/Button.tsx",
        "apps/web/pages/index.tsx",
        "packages/legacy/index.js",
        "packages/ui/node_modules/dep/index.js",
        "package-lock.json",
    ]);
    assert_eq!(changed_packages(root, &changed), ["@acme/ui", "web"]);
}

#[test]
fn yarn_workspace_objects_and_mixed_ecosystems() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(
        root,
        "package.json",
        r#"{ "private": true, "workspaces": { "packages": ["js/**"] } }"#,
    );
    write(
        root,
        "js/deep/lib/package.json",
        r#"{ "name": "deep-lib" }"#,
    );
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"rust/core\"]\n",
    );
    write(
        root,
        "rust/core/Cargo.toml",
        "[package]\nname = \"core-rs\"\n",
    );
    write(root, "go/go.mod", "module \"example.com/go\"\n");
    let changed = files(&["js/deep/lib/index.js", "rust/core/src/lib.rs", "go/x.go"]);
    assert_eq!(
        changed_packages(root, &changed),
        ["core-rs", "deep-lib", "example.com/go"]
    );
}

fn affected(root: &Path, changed: &[&str]) -> fixlane_core::affected::Affected {
    let globals = fixlane_core::affected::GlobalInputs::new(None, &[]).unwrap();
    affected_packages(root, &files(changed), &globals)
}

/// `core` ← `api` (path) ← `cli` (workspace = true), `core` ← `web` (dev, under a target), and
/// `tools/gen`, outside `members`, reached only as `api`'s path dependency.
fn cargo_graph(root: &Path) {
    write(
        root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.dependencies]\napi = { path = \"crates/api\" }\nserde = \"1\"\n",
    );
    write(
        root,
        "crates/core/Cargo.toml",
        "[package]\nname = \"core\"\n",
    );
    write(
        root,
        "crates/api/Cargo.toml",
        "[package]\nname = \"api\"\n[dependencies]\ncore = { path = \"../core\" }\nserde.workspace = true\n[build-dependencies]\ngen = { path = \"../../tools/gen\", package = \"codegen\" }\n",
    );
    write(
        root,
        "crates/cli/Cargo.toml",
        "[package]\nname = \"cli\"\n[dependencies]\napi = { workspace = true }\n",
    );
    write(
        root,
        "crates/web/Cargo.toml",
        "[package]\nname = \"web\"\n[target.'cfg(unix)'.dev-dependencies]\nthe-core = { path = \"../core\", package = \"core\" }\n",
    );
    write(
        root,
        "crates/util/Cargo.toml",
        "[package]\nname = \"util\"\n",
    );
    write(
        root,
        "tools/gen/Cargo.toml",
        "[package]\nname = \"codegen\"\n",
    );
}

#[test]
fn a_cargo_library_change_selects_its_dependents_through_path_and_workspace_dependencies() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    cargo_graph(root);
    let core = affected(root, &["crates/core/src/lib.rs"]);
    assert_eq!(core.direct, ["core"]);
    assert_eq!(core.dependents, ["api", "cli", "web"]);
    assert_eq!(core.everything, None);
    let generator = affected(root, &["tools/gen/src/main.rs"]);
    assert_eq!(generator.direct, ["codegen"]);
    assert_eq!(generator.dependents, ["api", "cli"]);
    assert_eq!(affected(root, &["crates/util/src/lib.rs"]).all(), ["util"]);
    // The hotfix commit's own concern is the direct package only.
    assert_eq!(
        changed_packages(root, &files(&["crates/core/src/lib.rs"])),
        ["core"]
    );
}

#[test]
fn a_lockfile_or_root_manifest_change_selects_every_cargo_package() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    cargo_graph(root);
    for file in [
        "Cargo.lock",
        "Cargo.toml",
        "rust-toolchain.toml",
        ".cargo/config.toml",
    ] {
        let all = affected(root, &[file]);
        assert_eq!(
            all.all(),
            ["api", "cli", "codegen", "core", "util", "web"],
            "{file}"
        );
        assert!(
            all.everything
                .as_deref()
                .unwrap()
                .starts_with(&format!("`{file}` changed")),
            "{all:?}"
        );
    }
}

#[test]
fn a_broken_member_manifest_selects_every_package_and_names_it() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    cargo_graph(root);
    write(
        root,
        "crates/broken/Cargo.toml",
        "[package\nname = \"broken\"\n",
    );
    write(
        root,
        "crates/nameless/Cargo.toml",
        "[lib]\npath = \"x.rs\"\n",
    );
    let affected = affected(root, &["crates/util/src/lib.rs"]);
    assert_eq!(affected.direct, ["util"]);
    assert_eq!(
        affected.all(),
        ["api", "cli", "codegen", "core", "util", "web"]
    );
    assert_eq!(
        affected.everything.as_deref(),
        Some("`crates/broken/Cargo.toml` could not be read")
    );
    assert_eq!(affected.warnings.len(), 2, "{:?}", affected.warnings);
    assert!(
        affected.warnings[0]
            .starts_with("`crates/broken/Cargo.toml` could not be read (TOML parse error"),
        "{:?}",
        affected.warnings
    );
    assert_eq!(
        affected.warnings[1],
        "`crates/nameless/Cargo.toml` could not be read (it has no `[package]` name), so every package is selected"
    );
    // A broken root manifest too.
    write(root, "Cargo.toml", "[workspace\n");
    let root_broken = self::affected(root, &["crates/util/src/lib.rs"]);
    assert_eq!(
        root_broken.everything.as_deref(),
        Some("`Cargo.toml` could not be read")
    );
}

#[test]
fn go_importers_within_the_module_follow_a_changed_package() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(root, "go.mod", "module example.com/svc\n\ngo 1.22\n");
    write(
        root,
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\t\"example.com/svc/internal/pay\"\n)\n\nfunc main() { fmt.Println(pay.Pay()) }\n",
    );
    write(
        root,
        "internal/pay/pay.go",
        "package pay\n\nimport m \"example.com/svc/internal/money\"\n\nfunc Pay() int { return m.Cents }\n",
    );
    write(
        root,
        "internal/money/money.go",
        "package money\n\nconst Cents = 1\n",
    );
    write(
        root,
        "internal/report/report_test.go",
        "package report\n\nimport (\n\t\"testing\"\n\t_ \"example.com/svc/internal/money\"\n)\n\nfunc TestX(t *testing.T) {}\n",
    );
    write(root, "internal/other/other.go", "package other\n");
    write(
        root,
        "internal/pay/testdata/vendor.go",
        "package ignored\n\nimport \"example.com/svc/internal/other\"\n",
    );
    write(root, "tools/go.mod", "module example.com/tools\n");
    write(
        root,
        "tools/gen/gen.go",
        "package main\n\nimport \"example.com/svc/internal/money\"\n",
    );
    let money = affected(root, &["internal/money/money.go"]);
    assert_eq!(money.direct, ["example.com/svc/internal/money"]);
    assert_eq!(
        money.dependents,
        [
            "example.com/svc",
            "example.com/svc/internal/pay",
            "example.com/svc/internal/report",
            "example.com/tools/gen",
        ]
    );
    // testdata is not a package, and what it imports makes nobody a dependent.
    assert_eq!(
        affected(root, &["internal/other/other.go"]).all(),
        ["example.com/svc/internal/other"]
    );
    let sum = affected(root, &["go.sum"]);
    assert_eq!(sum.all().len(), 6, "{sum:?}");
    assert!(sum.everything.is_some());
}

#[test]
fn go_links_are_not_followed_to_directories_but_are_read_as_files_and_late_imports_count() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(root, "go.mod", "module example.com/m\n");
    write(root, "base/base.go", "package base\n");
    write(
        root,
        "user/user.go",
        "package user\n\nimport \"example.com/m/base\"\n",
    );
    // Followed, the link would be a package of its own, importing `base`.
    std::os::unix::fs::symlink(root.join("user"), root.join("alias")).unwrap();
    // A link named like a Go file is read through.
    write(root, "linked/other.go", "package linked\n");
    std::os::unix::fs::symlink(root.join("user/user.go"), root.join("linked/user.go")).unwrap();
    // Imports after a long licence header, past the first read of a file.
    let licence = format!(
        "/*\n{}*/\n",
        "Licensed under the terms below.\n".repeat(400)
    );
    write(
        root,
        "late/late.go",
        &format!("{licence}package late\n\nimport (\n\t\"fmt\"\n\t\"example.com/m/base\"\n)\n"),
    );
    let base = affected(root, &["base/base.go"]);
    assert_eq!(base.direct, ["example.com/m/base"]);
    assert_eq!(
        base.dependents,
        [
            "example.com/m/late",
            "example.com/m/linked",
            "example.com/m/user"
        ]
    );
    assert!(base.everything.is_none(), "{base:?}");
}

/// Runs `body` on a thread that cannot pass over file permissions (root's capabilities to do
/// so dropped from it, and from the threads it starts), so that a directory without
/// permissions cannot be read even when the tests run as root.
fn bound_by_permissions<T: Send>(body: impl FnOnce() -> T + Send) -> T {
    use rustix::thread::CapabilitySet;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut sets = rustix::thread::capabilities(None).unwrap();
                sets.effective -= CapabilitySet::DAC_OVERRIDE | CapabilitySet::DAC_READ_SEARCH;
                rustix::thread::set_capabilities(None, sets).unwrap();
                body()
            })
            .join()
            .unwrap()
    })
}

#[test]
fn a_go_directory_that_cannot_be_listed_selects_every_package() {
    use std::os::unix::fs::PermissionsExt as _;
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(root, "go.mod", "module example.com/m\n");
    write(root, "base/base.go", "package base\n");
    write(root, "other/other.go", "package other\n");
    // It may hold a package importing `base`: that cannot be ruled out.
    write(
        root,
        "locked/user/user.go",
        "package user\n\nimport \"example.com/m/base\"\n",
    );
    let locked = root.join("locked");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let (listed, base) = bound_by_permissions(|| {
        (
            std::fs::read_dir(&locked).is_ok(),
            affected(root, &["base/base.go"]),
        )
    });
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(
        !listed,
        "the directory must be unreadable for the test to mean anything"
    );
    assert_eq!(
        base.everything.as_deref(),
        Some("`locked` could not be read")
    );
    assert_eq!(base.direct, ["example.com/m/base"]);
    assert_eq!(base.dependents, ["example.com/m/other"]);
    assert!(
        base.warnings[0].starts_with("`locked` could not be read (Permission denied"),
        "{:?}",
        base.warnings
    );
}

#[test]
fn npm_workspaces_select_the_workspaces_depending_on_a_changed_one() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(
        root,
        "package.json",
        r#"{ "name": "monorepo", "private": true, "workspaces": ["packages/*", "apps/*"] }"#,
    );
    write(
        root,
        "packages/ui/package.json",
        r#"{ "name": "@acme/ui", "dependencies": { "react": "^18" } }"#,
    );
    write(
        root,
        "packages/forms/package.json",
        r#"{ "name": "@acme/forms", "peerDependencies": { "@acme/ui": "*" } }"#,
    );
    write(
        root,
        "apps/web/package.json",
        r#"{ "name": "web", "dependencies": { "@acme/forms": "workspace:*" } }"#,
    );
    write(
        root,
        "apps/admin/package.json",
        r#"{ "name": "admin", "devDependencies": { "@acme/ui": "1.0.0" } }"#,
    );
    write(root, "apps/docs/package.json", r#"{ "name": "docs" }"#);
    let ui = affected(root, &["packages/ui/src/Button.tsx"]);
    assert_eq!(ui.direct, ["@acme/ui"]);
    assert_eq!(ui.dependents, ["@acme/forms", "admin", "web"]);
    let lock = affected(root, &["package-lock.json"]);
    assert_eq!(lock.all().len(), 5);
    write(root, "apps/docs/package.json", r#"{ "name": "docs", "#);
    let broken = affected(root, &["apps/web/index.ts"]);
    assert_eq!(
        broken.all().len(),
        4,
        "the broken one has no name to list: {broken:?}"
    );
    assert_eq!(
        broken.everything.as_deref(),
        Some("`apps/docs/package.json` could not be read")
    );
}

#[test]
fn pnpm_workspaces_come_from_pnpm_workspace_yaml() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write(
        root,
        "package.json",
        r#"{ "name": "root", "private": true }"#,
    );
    write(
        root,
        "pnpm-workspace.yaml",
        "packages:\n  - 'libs/*'\n  - '!libs/old'\n",
    );
    write(root, "libs/a/package.json", r#"{ "name": "a" }"#);
    write(
        root,
        "libs/b/package.json",
        r#"{ "name": "b", "dependencies": { "a": "workspace:^" } }"#,
    );
    write(
        root,
        "libs/old/package.json",
        r#"{ "name": "old", "dependencies": { "a": "1" } }"#,
    );
    let changed = affected(root, &["libs/a/index.js"]);
    assert_eq!(changed.direct, ["a"]);
    assert_eq!(changed.dependents, ["b"]);
}
