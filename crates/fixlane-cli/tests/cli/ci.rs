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
