//! What a run selects and says it selected, on real repositories: the affected packages of a
//! Cargo workspace, a Go module and an npm workspace (dependents included, everything on a
//! global input or a broken manifest), the base and how it was chosen, `--explain`, and the
//! order gates start in when there are more than job slots.

use serde_json::Value;

use crate::support::{Sandbox, position, redactions};

/// A gate printing both package lists, on the normal lane.
const PRINTING_CONFIG: &str = r#"[project]
name = "mono"

[gates.unit]
run = 'echo "all=$FIXLANE_CHANGED_PACKAGES direct=$FIXLANE_DIRECTLY_CHANGED_PACKAGES"'
tier = "required"
"#;

/// The repository with `files` committed on `main`, then a `feature` branch.
fn repository(files: &[(&str, &str)]) -> Sandbox {
    let sandbox = Sandbox::empty();
    sandbox.write("fixlane.toml", PRINTING_CONFIG);
    for (path, contents) in files {
        sandbox.write(path, contents);
    }
    sandbox.commit("the workspace");
    sandbox.git(&["checkout", "--quiet", "-b", "feature"]);
    sandbox
}

/// `core` ← `api` ← `cli`, `core` ← `web`, and `util` alone.
fn cargo_workspace() -> Sandbox {
    repository(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\n\n[workspace.dependencies]\ncore = { path = \"crates/core\" }\n",
        ),
        ("Cargo.lock", "version = 4\n"),
        ("crates/core/Cargo.toml", "[package]\nname = \"core\"\n"),
        ("crates/core/src/lib.rs", "pub fn one() -> u8 { 1 }\n"),
        (
            "crates/api/Cargo.toml",
            "[package]\nname = \"api\"\n[dependencies]\ncore.workspace = true\n",
        ),
        (
            "crates/cli/Cargo.toml",
            "[package]\nname = \"cli\"\n[dependencies]\napi = { path = \"../api\" }\n",
        ),
        (
            "crates/web/Cargo.toml",
            "[package]\nname = \"web\"\n[dev-dependencies]\ncore = { path = \"../core\" }\n",
        ),
        ("crates/util/Cargo.toml", "[package]\nname = \"util\"\n"),
        ("crates/util/src/lib.rs", "pub fn two() -> u8 { 2 }\n"),
    ])
}

/// The `--json` run's `run_started` selection and what the `unit` gate printed.
fn run_and_read(sandbox: &Sandbox) -> (Value, String) {
    let run = sandbox.fixlane(&["run", "--json"]);
    run.expect_code(0);
    let events = run.events();
    let started = &events[0];
    assert_eq!(started["event"], "run_started");
    let log = std::fs::read_to_string(
        sandbox
            .path()
            .join(".git/fixlane/logs")
            .join(started["run_id"].as_str().unwrap())
            .join("unit.log"),
    )
    .unwrap();
    (started["selection"].clone(), log.trim().to_owned())
}

fn names(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect()
}

#[test]
fn a_change_to_a_library_others_depend_on_selects_its_dependents() {
    let sandbox = cargo_workspace();
    sandbox.write("crates/core/src/lib.rs", "pub fn one() -> u8 { 2 - 1 }\n");
    sandbox.commit("core: one, computed");
    let (selection, log) = run_and_read(&sandbox);
    assert_eq!(log, "all=api cli core web direct=core");
    assert_eq!(selection["base_choice"]["how"], "merge_base");
    assert_eq!(selection["base_choice"]["with"], "main");
    assert_eq!(selection["base"], sandbox.git(&["rev-parse", "main"]));
    assert_eq!(selection["changed_files"], 1);
    assert_eq!(names(&selection["packages"]["direct"]), ["core"]);
    assert_eq!(
        names(&selection["packages"]["dependents"]),
        ["api", "cli", "web"]
    );
    assert!(selection["packages"].get("everything").is_none());
    // The plain view says the same in its first lines.
    let stderr = sandbox.fixlane(&["run"]).expect_code(0).stderr();
    let first: Vec<&str> = stderr.lines().take(3).collect();
    assert!(
        first[1].ends_with(" (the merge-base with main), 1 changed file"),
        "{stderr}"
    );
    assert!(
        first[2].ends_with("] packages: core changed; 3 depend on it: api, cli, web"),
        "{stderr}"
    );
}

#[test]
fn a_lockfile_change_selects_every_package() {
    let sandbox = cargo_workspace();
    sandbox.write("Cargo.lock", "version = 4\n# bumped\n");
    sandbox.commit("bump the lockfile");
    let (selection, log) = run_and_read(&sandbox);
    assert_eq!(log, "all=api cli core util web direct=");
    assert_eq!(
        selection["packages"]["everything"],
        "`Cargo.lock` changed: a lockfile is a global input"
    );
    let stderr = sandbox.fixlane(&["run"]).expect_code(0).stderr();
    assert!(
        stderr.contains(
            "] packages: all 5, because `Cargo.lock` changed: a lockfile is a global input\n"
        ),
        "{stderr}"
    );
}

#[test]
fn a_declared_global_input_selects_every_package() {
    let sandbox = cargo_workspace();
    sandbox.write(
        "fixlane.toml",
        &PRINTING_CONFIG.replace(
            "name = \"mono\"\n",
            "name = \"mono\"\nglobal_inputs = [\"ci/**\"]\n",
        ),
    );
    sandbox.commit("ci files are global");
    sandbox.git(&["checkout", "--quiet", "-b", "ci-change"]);
    sandbox.write("ci/image/Dockerfile", "FROM scratch\n");
    sandbox.commit("a new CI image");
    let (selection, log) = run_and_read(&sandbox);
    assert_eq!(log, "all=api cli core util web direct=");
    assert_eq!(
        selection["packages"]["everything"],
        "`ci/image/Dockerfile` changed: it matches `ci/**` in [project] global_inputs"
    );
}

#[test]
fn a_broken_member_manifest_selects_every_package_with_a_warning() {
    let sandbox = cargo_workspace();
    sandbox.write("crates/util/Cargo.toml", "[package\nname = \"util\"\n");
    sandbox.write("crates/util/src/lib.rs", "pub fn two() -> u8 { 3 - 1 }\n");
    sandbox.commit("util: a typo in its manifest");
    let (selection, log) = run_and_read(&sandbox);
    // The broken member has no name to list; every other package is selected.
    assert_eq!(log, "all=api cli core web direct=");
    assert_eq!(
        selection["packages"]["everything"],
        "`crates/util/Cargo.toml` could not be read"
    );
    let stderr = sandbox.fixlane(&["run"]).expect_code(0).stderr();
    assert!(
        stderr.contains(
            "] warning: `crates/util/Cargo.toml` could not be read (TOML parse error at line 1, column 9), so every package is selected\n"
        ),
        "{stderr}"
    );
}

#[test]
fn a_go_package_change_selects_its_importers_within_the_module() {
    let sandbox = repository(&[
        ("go.mod", "module example.com/shop\n\ngo 1.22\n"),
        (
            "main.go",
            "package main\n\nimport \"example.com/shop/internal/pay\"\n\nfunc main() { pay.Pay() }\n",
        ),
        (
            "internal/pay/pay.go",
            "package pay\n\nimport (\n\t\"fmt\"\n\tm \"example.com/shop/internal/money\"\n)\n\nfunc Pay() { fmt.Println(m.Cents) }\n",
        ),
        (
            "internal/money/money.go",
            "package money\n\nconst Cents = 1\n",
        ),
        ("internal/audit/audit.go", "package audit\n"),
    ]);
    sandbox.write(
        "internal/money/money.go",
        "package money\n\nconst Cents = 100\n",
    );
    sandbox.commit("money: cents");
    let (selection, log) = run_and_read(&sandbox);
    assert_eq!(
        log,
        "all=example.com/shop example.com/shop/internal/money example.com/shop/internal/pay direct=example.com/shop/internal/money"
    );
    assert_eq!(selection["changed_files"], 1);
}

#[test]
fn an_npm_workspace_change_selects_the_workspaces_depending_on_it() {
    let sandbox = repository(&[
        (
            "package.json",
            r#"{ "name": "shop", "private": true, "workspaces": ["packages/*"] }"#,
        ),
        ("packages/ui/package.json", r#"{ "name": "@shop/ui" }"#),
        ("packages/ui/index.js", "export const button = 1;\n"),
        (
            "packages/web/package.json",
            r#"{ "name": "@shop/web", "dependencies": { "@shop/ui": "*" } }"#,
        ),
        ("packages/docs/package.json", r#"{ "name": "@shop/docs" }"#),
    ]);
    sandbox.write("packages/ui/index.js", "export const button = 2;\n");
    sandbox.commit("ui: a new button");
    let (_, log) = run_and_read(&sandbox);
    assert_eq!(log, "all=@shop/ui @shop/web direct=@shop/ui");
    sandbox.write("package-lock.json", "{}\n");
    sandbox.commit("a lockfile");
    let (selection, log) = run_and_read(&sandbox);
    assert_eq!(log, "all=@shop/docs @shop/ui @shop/web direct=@shop/ui");
    assert_eq!(selection["changed_files"], 2);
}

#[test]
fn explain_says_why_each_gate_was_selected_shortened_skipped_or_owed() {
    let sandbox = Sandbox::example();
    sandbox.git(&["checkout", "--quiet", "-b", "hotfix/INC-4-payments"]);
    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit("hotfix: payments");
    let run = sandbox.fixlane(&["run", "--explain", "--jobs", "1"]);
    run.expect_code(1);
    let stderr = run.stderr();
    // The run's first lines: what it selected and why, up to the first gate's start.
    let head: Vec<&str> = stderr
        .lines()
        .take_while(|line| !line.contains("] started  "))
        .collect();
    redactions(&sandbox).bind(|| insta::assert_snapshot!(head.join("\n")));
}

#[test]
fn critical_gates_start_first_and_ready_does_not_wait_for_an_optional_one() {
    let sandbox = Sandbox::empty();
    // The worst order: the slow optional gate first, the critical one last.
    sandbox.write(
        "fixlane.toml",
        r#"[project]
name = "x"

[gates.docs]
run = "sleep 0.5"
tier = "optional"

[gates.lint]
run = "true"
tier = "required"

[gates.scan]
run = "true"
tier = "critical"
"#,
    );
    sandbox.commit("config");
    let run = sandbox.fixlane(&["run", "--json", "--jobs", "1"]);
    run.expect_code(0);
    let events = run.events();
    let started: Vec<&str> = events
        .iter()
        .filter(|event| event["event"] == "gate_started")
        .map(|event| event["gate"].as_str().unwrap())
        .collect();
    assert_eq!(started, ["scan", "lint", "docs"]);
    let ready = position(&events, |event| {
        event["event"] == "verdict_changed" && event["verdict"] == "ready"
    })
    .expect("a ready verdict");
    let docs = position(&events, |event| {
        event["event"] == "gate_started" && event["gate"] == "docs"
    })
    .unwrap();
    assert!(
        ready < docs,
        "ready waited for the optional gate: {events:#?}"
    );
    assert_eq!(events.last().unwrap()["verdict"], "green");
}
