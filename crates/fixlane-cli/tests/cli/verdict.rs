//! `fixlane verdict`: recomputed from the store, and the doubly confirmed `waiting` override.

use std::time::{Duration, Instant};

use crate::support::{Run, Sandbox};

#[test]
fn the_verdict_is_recomputed_from_the_store() {
    let sandbox = Sandbox::example();
    let none = sandbox.fixlane(&["verdict"]);
    none.expect_code(6);
    assert!(
        none.stderr().contains("run `fixlane run` first"),
        "{}",
        none.stderr()
    );
    sandbox.fixlane(&["run"]).expect_code(0);
    let verdict = sandbox.fixlane(&["verdict"]);
    verdict.expect_code(0);
    assert!(verdict.stdout().contains("GREEN"), "{}", verdict.stdout());
}

#[test]
fn a_failed_run_stays_blocked_in_the_store() {
    let sandbox = Sandbox::example();
    let mut command = sandbox.command(&["run"]);
    command.env("EXAMPLE_FAIL", "scan");
    Run::of(&mut command).expect_code(1);
    let verdict = sandbox.fixlane(&["verdict", "--json"]);
    verdict.expect_code(1);
    let json: serde_json::Value = serde_json::from_str(verdict.stdout().trim()).unwrap();
    assert_eq!(json["verdict"], "blocked");
}

#[test]
fn waiting_needs_the_confirmation_twice_and_it_is_logged() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n[gates.build]\nrun = 'while [ ! -f release ]; do sleep 0.05; done'\ntier = \"critical\"\n",
    );
    sandbox.commit("config");
    let mut running = sandbox.command(&["run"]).spawn().unwrap();

    // Wait until the store has the run (it is recorded as soon as it starts).
    let deadline = Instant::now() + Duration::from_secs(30);
    let waiting = loop {
        let verdict = sandbox.fixlane(&["verdict"]);
        if verdict.code() == 3 {
            break verdict;
        }
        assert!(
            Instant::now() < deadline,
            "never saw waiting: {}",
            verdict.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        waiting.stdout().contains("critical gate build is still"),
        "{}",
        waiting.stdout()
    );

    let once = sandbox.fixlane(&["verdict", "--confirm-while-running"]);
    once.expect_code(3);
    assert!(once.stderr().contains("given twice"), "{}", once.stderr());

    let twice = sandbox.fixlane(&[
        "verdict",
        "--confirm-while-running",
        "--confirm-while-running",
        "--as",
        "alice",
    ]);
    twice.expect_code(0);
    let log = sandbox.fixlane(&["audit", "export"]);
    let confirmation = log
        .stdout()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|entry| entry["action"] == "confirm-while-running")
        .expect("the confirmation is in the audit log");
    assert_eq!(confirmation["actor"], "alice");

    std::fs::write(sandbox.path().join("release"), "").unwrap();
    assert_eq!(running.wait().unwrap().code(), Some(0));
}
