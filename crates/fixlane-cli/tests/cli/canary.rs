//! `fixlane canary` and `fixlane verify` on the example service: real deploy scripts that log
//! what they were asked to do, a real command metric source, and the emergency's timeline.

use crate::support::{Run, Sandbox, redactions};

const ID: &str = "INC-2026-05-20-001";

/// The example with second-long bakes and evaluations, so a whole canary takes seconds.
pub(crate) fn fast_example() -> Sandbox {
    let sandbox = Sandbox::example();
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    let config = config
        .replace("interval = \"10s\"", "interval = \"1s\"")
        .replace(
            "steps = [{ weight = 1, bake = \"5m\" }, { weight = 10, bake = \"5m\" }, { weight = 50, bake = \"10m\" }, { weight = 100, bake = \"30m\" }]",
            "steps = [{ weight = 1, bake = \"2s\" }, { weight = 10, bake = \"2s\" }, { weight = 50, bake = \"2s\" }, { weight = 100, bake = \"2s\" }]",
        )
        .replace("steps = [{ weight = 100, bake = \"30m\" }]", "steps = [{ weight = 100, bake = \"2s\" }]");
    sandbox.write("fixlane.toml", &config);
    sandbox.commit("fast canary");
    sandbox
}

fn approved(sandbox: &Sandbox, category: &str, approvers: &[&str]) {
    sandbox
        .fixlane(&[
            "declare",
            // The suite's ids are fixed dates, so it reads the same on any day.
            "--any-date",
            ID,
            "--severity",
            "P0",
            "--category",
            category,
            "--title",
            "fix payment timeout",
            "--cleanup-owner",
            "bob",
            "--flag-flip",
            "no flag",
            "--rollback",
            "no target",
            "--as",
            "bob",
        ])
        .expect_code(0);
    for approver in approvers {
        sandbox
            .fixlane(&["approve", ID, "--as", approver])
            .expect_code(0);
    }
}

fn bypass(sandbox: &Sandbox, element: &str) {
    sandbox
        .fixlane(&[
            "bypass",
            ID,
            element,
            "--reason",
            "harm is ongoing",
            "--compensation",
            "intensive monitoring at 100%",
            "--as",
            "bob",
        ])
        .expect_code(0);
}

pub(crate) fn deploy_log(sandbox: &Sandbox) -> Vec<String> {
    std::fs::read_to_string(sandbox.path().join("deploy.log"))
        .unwrap_or_default()
        .lines()
        .map(|line| line.split(" incident=").next().unwrap_or(line).to_owned())
        .collect()
}

fn snapshot(sandbox: &Sandbox, name: &str, text: &str) {
    redactions(sandbox).bind(|| insta::assert_snapshot!(name, text));
}

fn record(sandbox: &Sandbox) -> serde_json::Value {
    serde_json::from_str(&sandbox.fixlane(&["show", ID, "--json"]).stdout()).unwrap()
}

#[test]
fn a_healthy_compressed_canary_promotes_and_verifies() {
    let sandbox = fast_example();
    approved(&sandbox, "security", &["carol", "dave"]);
    let canary = sandbox.fixlane(&["canary", ID, "--json"]);
    canary.expect_code(0);
    assert_eq!(
        deploy_log(&sandbox),
        [
            "rollback-check weight=0 step=0",
            "set-weight weight=1 step=1",
            "set-weight weight=10 step=2",
            "set-weight weight=50 step=3",
            "set-weight weight=100 step=4",
            "promote weight=100 step=4",
        ]
    );
    let events = canary.events();
    assert!(
        events
            .iter()
            .any(|event| event["event"] == "check_evaluated" && event["check"] == "error-rate")
    );
    assert_eq!(events.last().unwrap()["outcome"], "promoted");
    assert_eq!(record(&sandbox)["state"], "promoted");
    // The promoted fix has left the emergency lane: its follow-ups are open and owned.
    let due = sandbox.fixlane(&["due", "--json"]);
    let open: Vec<serde_json::Value> = serde_json::from_str(&due.stdout()).unwrap();
    let kinds: Vec<&str> = open
        .iter()
        .map(|item| item["kind"].as_str().unwrap())
        .collect();
    for kind in ["cleanup", "postmortem", "audit-review"] {
        assert!(kinds.contains(&kind), "{kind} not open: {kinds:?}");
    }

    let verified = sandbox.fixlane(&[
        "verify",
        ID,
        "--check",
        "error-rate",
        "--for",
        "2s",
        "--timeout",
        "30s",
    ]);
    verified.expect_code(0);
    assert!(
        verified.stdout().contains("recovered after"),
        "{}",
        verified.stdout()
    );
    let states: Vec<String> = record(&sandbox)["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        states,
        ["declared", "approved", "deploying", "promoted", "verified"]
    );
    let log = sandbox.fixlane(&["audit", "export"]).stdout();
    for action in [
        "canary-started",
        "canary-step-started",
        "canary-promoted",
        "canary-finished",
        "\"verified\"",
    ] {
        assert!(log.contains(action), "{action} missing from the audit log");
    }
    assert!(
        !log.contains("canary-check-evaluated"),
        "samples are kept, not audited"
    );
    sandbox.fixlane(&["audit", "verify"]).expect_code(0);

    sandbox.fixlane(&["postmortem", ID]).expect_code(0);
    let draft =
        std::fs::read_to_string(sandbox.path().join(format!("postmortem-{ID}.md"))).unwrap();
    assert!(
        draft.starts_with(&format!("# Postmortem: {ID} — fix payment timeout")),
        "{draft}"
    );
    assert!(draft.contains("| compressed |"), "{draft}");
    assert!(draft.contains("| promoted |"), "{draft}");
    assert!(
        draft.contains("| verified | bob | error-rate held within bounds"),
        "{draft}"
    );
    assert!(draft.contains("- [ ] Was rollback fast enough?"), "{draft}");
    let again = sandbox.fixlane(&["postmortem", ID]);
    again.expect_code(2);
    assert!(again.stderr().contains("--force"), "{}", again.stderr());
}

#[test]
fn a_bad_signal_rolls_back_at_once_and_never_raises_the_weight_again() {
    let sandbox = fast_example();
    approved(&sandbox, "security", &["carol", "dave"]);
    let mut command = sandbox.command(&["canary", ID]);
    command.env("EXAMPLE_ERROR_RATE", "0.25");
    let canary = Run::of(&mut command);
    canary.expect_code(4);
    assert_eq!(
        deploy_log(&sandbox),
        [
            "rollback-check weight=0 step=0",
            "set-weight weight=1 step=1",
            "rollback weight=1 step=1"
        ]
    );
    assert!(canary.stderr().contains("ROLLBACK"), "{}", canary.stderr());
    assert_eq!(record(&sandbox)["state"], "rolled_back");

    let mut broken = sandbox.command(&[
        "verify",
        ID,
        "--check",
        "error-rate",
        "--for",
        "2s",
        "--timeout",
        "4s",
    ]);
    broken.env("EXAMPLE_ERROR_RATE", "0.25");
    Run::of(&mut broken).expect_code(1);
    assert_eq!(record(&sandbox)["state"], "rolled_back");
}

#[test]
fn a_rollback_path_that_is_not_ready_never_sets_a_weight() {
    let sandbox = fast_example();
    approved(&sandbox, "security", &["carol", "dave"]);
    let mut command = sandbox.command(&["canary", ID]);
    command.env("EXAMPLE_ROLLBACK_BROKEN", "1");
    let canary = Run::of(&mut command);
    canary.expect_code(1);
    assert_eq!(deploy_log(&sandbox), ["rollback-check weight=0 step=0"]);
    assert!(
        canary.stderr().contains("ROLLBACK PATH NOT READY"),
        "{}",
        canary.stderr()
    );
    assert_eq!(record(&sandbox)["state"], "approved");
}

#[test]
fn profiles_follow_the_emergency_rules() {
    let sandbox = fast_example();
    let normal = sandbox.fixlane(&["canary", "--profile", "compressed"]);
    normal.expect_code(1);
    snapshot(
        &sandbox,
        "refused_compressed_outside_an_emergency",
        &normal.stderr(),
    );

    approved(&sandbox, "incident", &["alice"]);
    let immediate = sandbox.fixlane(&["canary", ID, "--profile", "immediate"]);
    immediate.expect_code(1);
    snapshot(
        &sandbox,
        "refused_immediate_without_the_canary_bypass",
        &immediate.stderr(),
    );
    bypass(&sandbox, "canary");
    let no_platform_lead = sandbox.fixlane(&["canary", ID, "--profile", "immediate"]);
    no_platform_lead.expect_code(1);
    snapshot(
        &sandbox,
        "refused_immediate_without_its_approvers",
        &no_platform_lead.stderr(),
    );
    assert!(deploy_log(&sandbox).is_empty());
}

#[test]
fn immediate_ships_at_once_with_the_bypass_and_its_approvers() {
    let sandbox = fast_example();
    approved(&sandbox, "security", &["carol", "dave"]);
    bypass(&sandbox, "canary");
    sandbox
        .fixlane(&["canary", ID, "--profile", "immediate"])
        .expect_code(0);
    assert_eq!(
        deploy_log(&sandbox),
        [
            "rollback-check weight=0 step=0",
            "set-weight weight=100 step=1",
            "promote weight=100 step=1"
        ]
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_canary_rolls_back() {
    use std::time::{Duration, Instant};
    let sandbox = fast_example();
    approved(&sandbox, "security", &["carol", "dave"]);
    let mut child = sandbox.command(&["canary", ID]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !deploy_log(&sandbox)
        .iter()
        .any(|line| line.starts_with("set-weight"))
    {
        assert!(Instant::now() < deadline, "the canary never set a weight");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let log = deploy_log(&sandbox);
    assert!(log.last().unwrap().starts_with("rollback"), "{log:?}");
    assert_eq!(record(&sandbox)["state"], "rolled_back");
}
