//! `fixlane audit`: an intact log verifies; a row altered with the sqlite3 CLI is named.

use crate::support::Sandbox;

fn sqlite(sandbox: &Sandbox, sql: &str) {
    let status = std::process::Command::new("sqlite3")
        .arg(sandbox.db())
        .arg(sql)
        .status()
        .expect("the sqlite3 CLI (apt-get install sqlite3)");
    assert!(status.success());
}

#[test]
fn an_intact_log_verifies_and_an_altered_row_is_named() {
    let sandbox = Sandbox::example();
    sandbox.fixlane(&["run"]).expect_code(0);
    let intact = sandbox.fixlane(&["audit", "verify"]);
    intact.expect_code(0);
    assert!(
        intact.stdout().contains("audit log intact"),
        "{}",
        intact.stdout()
    );

    sqlite(
        &sandbox,
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2;",
    );
    let broken = sandbox.fixlane(&["audit", "verify"]);
    broken.expect_code(1);
    assert!(
        broken.stderr().contains("entry 2 was altered"),
        "{}",
        broken.stderr()
    );
}

#[test]
fn a_removed_row_is_detected() {
    let sandbox = Sandbox::example();
    sandbox.fixlane(&["run"]).expect_code(0);
    sqlite(&sandbox, "DELETE FROM audit_log WHERE seq = 2;");
    let broken = sandbox.fixlane(&["audit", "verify"]);
    broken.expect_code(1);
    assert!(broken.stderr().contains("entry 3"), "{}", broken.stderr());
}

#[test]
fn export_writes_one_json_object_per_entry_with_the_run_verdict() {
    let sandbox = Sandbox::example();
    sandbox.fixlane(&["run"]).expect_code(0);
    let export = sandbox.fixlane(&["audit", "export"]);
    export.expect_code(0);
    let entries: Vec<serde_json::Value> = export
        .stdout()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(entries.len() >= 3, "{entries:?}");
    assert_eq!(entries[0]["seq"], 1);
    assert_eq!(entries[0]["action"], "config-seen");
    assert_eq!(entries[1]["action"], "run-started");
    assert_eq!(
        entries[1]["actor"], "bob",
        "a known person is logged by name"
    );
    let verdict = entries
        .iter()
        .find(|entry| entry["action"] == "run-verdict")
        .unwrap();
    assert_eq!(verdict["details"]["verdict"], "green");
    for pair in entries.windows(2) {
        assert_eq!(pair[1]["previous_hash"], pair[0]["hash"]);
    }
}

fn actions(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .fixlane(&["audit", "export"])
        .stdout()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn a_config_change_is_logged_when_a_run_first_sees_it() {
    let sandbox = Sandbox::example();
    sandbox.fixlane(&["run"]).expect_code(0);
    sandbox.fixlane(&["run"]).expect_code(0);
    let seen = |sandbox: &Sandbox| {
        actions(sandbox)
            .iter()
            .filter(|action| *action == "config-seen")
            .count()
    };
    assert_eq!(seen(&sandbox), 1);
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    sandbox.write(
        "fixlane.toml",
        &config.replace("timeout = \"30m\"", "timeout = \"20m\""),
    );
    sandbox.fixlane(&["run"]).expect_code(0);
    assert_eq!(seen(&sandbox), 2);
}
