//! `changed_packages` on real manifests: Cargo workspaces, Go modules, npm workspaces.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside `#[test]` functions are test code too, and fail loudly"
)]

use std::path::Path;

use fixlane_runner::packages::changed_packages;

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
