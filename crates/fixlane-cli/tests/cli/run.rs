//! `fixlane run` on the example service: lanes, verdicts, failures, logs, `JUnit`, and the
//! guarantee that user-controlled strings never reach a shell as code.

use crate::support::{Run, Sandbox, is, position};

#[test]
fn the_normal_lane_runs_every_gate_and_is_green() {
    let sandbox = Sandbox::example();
    let run = sandbox.fixlane(&["run", "--json"]);
    run.expect_code(0);
    let events = run.events();
    let finished: Vec<&str> = events
        .iter()
        .filter(|event| event["event"] == "gate_finished")
        .map(|event| event["gate"].as_str().unwrap())
        .collect();
    assert_eq!(finished.len(), 9, "{finished:?}");
    assert!(events.iter().all(|event| event["event"] != "gate_skipped"));
    let last = events.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["verdict"], "green");
    assert_eq!(events[0]["event"], "run_started");
    assert_eq!(events[0]["lane"], "normal");
}

#[test]
fn a_hotfix_branch_runs_the_hotfix_lane_and_is_blocked_without_an_emergency() {
    let sandbox = Sandbox::example();
    sandbox.git(&["checkout", "--quiet", "-b", "hotfix/INC-1-x"]);
    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit("hotfix: payments\n\nINC-1");
    let run = sandbox.fixlane(&["run"]);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(stderr.contains("lane hotfix (emergency)"), "{stderr}");
    for gate in ["lint", "integration", "perf", "scan-high", "staging-deploy"] {
        assert!(
            stderr.contains(&format!("skipped  {gate} ("))
                && stderr.contains("skipped by lane hotfix"),
            "{gate} not shown skipped:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("needs an approved emergency change"),
        "{stderr}"
    );
    assert!(stderr.contains("BLOCKED"), "{stderr}");
    assert!(!stderr.contains("passed   lint"), "{stderr}");
    // The short mode ran, for the changed package only.
    assert!(stderr.contains("passed   unit"), "{stderr}");
}

#[test]
fn the_hotfix_short_mode_sees_only_the_changed_packages() {
    let sandbox = Sandbox::example();
    sandbox.git(&["checkout", "--quiet", "-b", "hotfix/INC-2-y"]);
    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit("hotfix: payments");
    let run = sandbox.fixlane(&["run", "--json"]);
    run.expect_code(1);
    let log_dir = run.events()[0]["run_id"].as_str().unwrap().to_owned();
    let log = std::fs::read_to_string(
        sandbox
            .path()
            .join(".git/fixlane/logs")
            .join(log_dir)
            .join("unit.log"),
    )
    .unwrap();
    assert!(log.contains("args=--short"), "{log}");
    assert!(log.contains("changed packages: payments"), "{log}");
    assert!(!log.contains("catalog"), "{log}");
}

#[test]
fn a_failing_critical_gate_blocks_shows_its_tail_and_its_dependents_do_not_run() {
    let sandbox = Sandbox::example();
    let mut command = sandbox.command(&["run"]);
    command.env("EXAMPLE_FAIL", "build");
    let run = Run::of(&mut command);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains("FAILED   build (critical) with exit code 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("│ [build] error: this gate was told to fail"),
        "{stderr}"
    );
    assert!(stderr.contains("full log: "), "{stderr}");
    assert!(
        stderr.contains("not run  unit (required): it needs build"),
        "{stderr}"
    );
    assert!(!stderr.contains("FAILED   unit"), "{stderr}");
    // Independent gates go on.
    assert!(stderr.contains("passed   lint"), "{stderr}");
    assert!(stderr.contains("BLOCKED"), "{stderr}");
}

#[test]
fn ready_is_announced_before_a_slow_optional_gate_finishes() {
    let sandbox = Sandbox::example();
    let mut command = sandbox.command(&["run", "--json"]);
    command.env("EXAMPLE_SLEEP_PERF", "3");
    let run = Run::of(&mut command);
    run.expect_code(0);
    let events = run.events();
    let ready = position(&events, |event| {
        event["event"] == "verdict_changed" && event["verdict"] == "ready"
    })
    .expect("a ready verdict");
    let perf_done =
        position(&events, |event| is(event, "gate_finished", "perf")).expect("perf finished");
    let deploy_done = position(&events, |event| {
        is(event, "gate_finished", "production-deploy")
    })
    .unwrap();
    assert!(
        deploy_done < ready && ready < perf_done,
        "ready at {ready}, deploy at {deploy_done}, perf at {perf_done}"
    );
    assert_eq!(events.last().unwrap()["verdict"], "green");
}

#[test]
fn a_branch_name_full_of_shell_syntax_is_only_ever_data() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n[gates.echo]\nrun = 'echo \"branch=$FIXLANE_BRANCH\"'\ntier = \"critical\"\n",
    );
    sandbox.commit("config");
    let branch = "hotfix/x$(touch${IFS}pwned)`touch${IFS}pwned2`;touch${IFS}pwned3";
    sandbox.git(&["checkout", "--quiet", "-b", branch]);
    let run = sandbox.fixlane(&["run", "--json"]);
    run.expect_code(0);
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(!sandbox.path().join(file).exists(), "{file} was created");
    }
    let run_id = run.events()[0]["run_id"].as_str().unwrap().to_owned();
    let log = std::fs::read_to_string(
        sandbox
            .path()
            .join(".git/fixlane/logs")
            .join(run_id)
            .join("echo.log"),
    )
    .unwrap();
    assert_eq!(log.trim(), format!("branch={branch}"));
}

#[test]
fn junit_lists_every_gate_with_skips_as_skipped() {
    let sandbox = Sandbox::example();
    sandbox.git(&["checkout", "--quiet", "-b", "hotfix/INC-3-z"]);
    let report = sandbox.path().join("junit.xml");
    let run = sandbox.fixlane(&["run", "--junit", report.to_str().unwrap()]);
    run.expect_code(1);
    let xml = std::fs::read_to_string(report).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 9, "{xml}");
    assert!(xml.contains("skipped by lane hotfix"), "{xml}");
    assert!(xml.contains("name=\"build\""), "{xml}");
}

#[test]
fn jobs_one_runs_gates_one_at_a_time() {
    let sandbox = Sandbox::empty();
    let mut config = String::from("[project]\nname = \"x\"\n");
    for gate in ["a", "b", "c", "d"] {
        config.push_str(&format!(
            "[gates.{gate}]\nrun = 'echo start-$FIXLANE_GATE >> order.txt; sleep 0.1; echo end-$FIXLANE_GATE >> order.txt'\ntier = \"required\"\n"
        ));
    }
    sandbox.write("fixlane.toml", &config);
    sandbox.commit("config");
    sandbox.fixlane(&["run", "--jobs", "1"]).expect_code(0);
    let order = std::fs::read_to_string(sandbox.path().join("order.txt")).unwrap();
    let lines: Vec<&str> = order.lines().collect();
    assert_eq!(lines.len(), 8);
    for pair in lines.chunks(2) {
        assert_eq!(
            pair[0].replace("start-", ""),
            pair[1].replace("end-", ""),
            "{order}"
        );
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_every_gate_and_exits_130() {
    use std::time::{Duration, Instant};
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n[gates.slow]\nrun = 'sleep 60 & echo $! > child.pid; wait'\ntier = \"critical\"\n",
    );
    sandbox.commit("config");
    let mut child = sandbox.command(&["run"]).spawn().unwrap();
    let pid_file = sandbox.path().join("child.pid");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pid_file.exists()
        || std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .is_empty()
    {
        assert!(Instant::now() < deadline, "the gate never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let grandchild: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        !crate::support::alive(grandchild),
        "the gate's background process {grandchild} survived Ctrl-C"
    );
}

#[test]
fn from_a_subdirectory_the_repositorys_config_runs_not_one_lying_there() {
    // A run parses `fixlane.toml` in the current directory while git finds the repository: it
    // must be the root's config that runs, never a file of that name elsewhere.
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n[gates.root]\nrun = 'echo root > ran.txt'\ntier = \"critical\"\n",
    );
    sandbox.write(
        "sub/fixlane.toml",
        "[project]\nname = \"x\"\n[gates.decoy]\nrun = 'echo decoy > ran.txt'\ntier = \"critical\"\n",
    );
    sandbox.commit("configs");
    let mut command = sandbox.command(&["run"]);
    command.current_dir(sandbox.path().join("sub"));
    Run::of(&mut command).expect_code(0);
    let ran = std::fs::read_to_string(sandbox.path().join("ran.txt")).unwrap();
    assert_eq!(ran.trim(), "root");
    assert!(!sandbox.path().join("sub/ran.txt").exists());
}

#[test]
fn a_run_of_another_revision_is_told_about_that_revision_not_head() {
    // git is asked about HEAD from the start of the process; a run of another revision must
    // not be given those answers.
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n[gates.rev]\nrun = 'echo \"$FIXLANE_REV\" > rev.txt'\ntier = \"critical\"\n",
    );
    sandbox.commit("first");
    let first = sandbox.git(&["rev-parse", "HEAD"]);
    sandbox.write("later.txt", "later\n");
    sandbox.commit("second");
    let head = sandbox.git(&["rev-parse", "HEAD"]);
    assert_ne!(first.trim(), head.trim());
    sandbox
        .fixlane(&["run", "--rev", first.trim()])
        .expect_code(0);
    let rev = std::fs::read_to_string(sandbox.path().join("rev.txt")).unwrap();
    assert_eq!(rev.trim(), first.trim());
    sandbox.fixlane(&["run"]).expect_code(0);
    let rev = std::fs::read_to_string(sandbox.path().join("rev.txt")).unwrap();
    assert_eq!(rev.trim(), head.trim());
}
