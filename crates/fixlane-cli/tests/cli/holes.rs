//! The holes of a bad day, closed: a fix that rewrites the policy judging it, an emergency used
//! from another branch, an undeclared id in a branch name, a deploy that would run unaudited, and
//! a killed run left "running" forever.

use std::process::Stdio;

use crate::support::{IN_WINDOW, Sandbox};

const ID: &str = "INC-2026-05-20-001";

/// The example on an approved emergency's branch with its `eval` bypass, and a small fix
/// committed: the hotfix lane would be `ready`.
fn approved_hotfix() -> Sandbox {
    let sandbox = Sandbox::example();
    sandbox
        .fixlane(&[
            "declare",
            "--any-date",
            ID,
            "--severity",
            "P0",
            "--category",
            "security",
            "--title",
            "fix payment timeout",
            "--cleanup-owner",
            "bob",
            "--flag-flip",
            "no flag covers the payment path",
            "--rollback",
            "the bug is in a brand-new feature",
            "--as",
            "bob",
            "--branch",
        ])
        .expect_code(0);
    for approver in ["carol", "dave"] {
        sandbox
            .fixlane(&["approve", ID, "--as", approver])
            .expect_code(0);
    }
    sandbox
        .fixlane(&[
            "bypass",
            ID,
            "eval",
            "--reason",
            "the integration suite takes 30 minutes",
            "--compensation",
            "backfill within 24h",
            "--as",
            "bob",
        ])
        .expect_code(0);
    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit(&format!(
        "hotfix(payments): the fix\n\n{ID}\napprover: @carol"
    ));
    sandbox
}

fn weaken_scan(sandbox: &Sandbox) {
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    let weakened = config.replace(
        "[gates.scan-critical]\nrun = \"./scripts/gate scan --severity CRITICAL\"\ntier = \"critical\"",
        "[gates.scan-critical]\nrun = \"./scripts/gate scan --severity CRITICAL\"\ntier = \"optional\"\nlanes.hotfix = \"skip\"",
    );
    assert_ne!(config, weakened, "the example's scan-critical gate moved");
    sandbox.write("fixlane.toml", &weakened);
}

#[test]
fn a_fix_that_rewrites_its_own_policy_is_blocked_on_the_emergency_lane() {
    let sandbox = approved_hotfix();
    sandbox.fixlane(&["run"]).expect_code(0);

    weaken_scan(&sandbox);
    sandbox.commit(&format!("hotfix: skip the scan\n\n{ID}\napprover: @carol"));
    let run = sandbox.fixlane(&["run"]);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains("the fix changes fixlane.toml, the policy that judges it"),
        "{stderr}"
    );
    assert!(stderr.contains("normal lane"), "{stderr}");
    // The base's policy ran: the critical scan was not skipped.
    assert!(
        stderr.contains("scan-critical") && !stderr.contains("skipped  scan-critical"),
        "{stderr}"
    );
    let check = sandbox.fixlane(&["check-commit"]);
    check.expect_code(1);
    assert!(
        check.stderr().contains("the fix changes fixlane.toml"),
        "{}",
        check.stderr()
    );
    // The verdict recomputed from the store says the same.
    let verdict = sandbox.fixlane(&["verdict"]);
    verdict.expect_code(1);
    assert!(
        verdict.stdout().contains("changes fixlane.toml"),
        "{}",
        verdict.stdout()
    );
}

#[test]
fn a_fix_that_edits_a_critical_gates_script_is_blocked_even_uncommitted() {
    let sandbox = approved_hotfix();
    let script = std::fs::read_to_string(sandbox.path().join("scripts/gate")).unwrap();
    sandbox.write("scripts/gate", &format!("{script}\nexit 0\n"));
    let run = sandbox.fixlane(&["run"]);
    run.expect_code(1);
    assert!(
        run.stderr()
            .contains("the fix changes scripts/gate, which the critical gate"),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_critical_command_replaced_by_true_on_the_branch_does_not_run() {
    let sandbox = approved_hotfix();
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    sandbox.write(
        "fixlane.toml",
        &config.replace(
            "run = \"./scripts/gate build\"",
            "run = \"touch build-was-faked\"",
        ),
    );
    sandbox.commit(&format!("hotfix: faster build\n\n{ID}\napprover: @carol"));
    sandbox.fixlane(&["run"]).expect_code(1);
    assert!(
        !sandbox.path().join("build-was-faked").exists(),
        "the branch's own command for a critical gate ran"
    );
}

#[test]
fn a_normal_lane_change_that_weakens_the_policy_is_shown_and_audited() {
    let sandbox = Sandbox::example();
    sandbox.git(&["switch", "--quiet", "-c", "policy/relax-scan"]);
    weaken_scan(&sandbox);
    sandbox.commit("relax the scan");
    let run = sandbox.fixlane(&["run", "--at", IN_WINDOW]);
    let stderr = run.stderr();
    assert!(
        stderr.contains("policy: this change weakens the policy of the base commit"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gates.scan-critical: its tier was lowered from critical to optional"),
        "{stderr}"
    );
    let log = sandbox.fixlane(&["audit", "export"]).stdout();
    let entry = log
        .lines()
        .find(|line| line.contains("\"policy-weakened\""))
        .unwrap_or_else(|| panic!("no policy-weakened entry in\n{log}"));
    assert!(entry.contains("from critical to optional"), "{entry}");
}

#[test]
fn a_shallow_clone_fails_closed_on_the_emergency_lane() {
    let sandbox = approved_hotfix();
    let branch = sandbox.git(&["branch", "--show-current"]);
    let clone = tempfile::tempdir().unwrap();
    let source = format!("file://{}", sandbox.path().display());
    let status = std::process::Command::new("git")
        .args([
            "clone", "--quiet", "--depth", "1", "--branch", &branch, &source,
        ])
        .arg(clone.path().join("repo"))
        .status()
        .unwrap();
    assert!(status.success());
    let db = sandbox.db();
    let mut command = sandbox.command(&["run", "--db", &db.to_string_lossy()]);
    command.current_dir(clone.path().join("repo"));
    let run = crate::support::Run::of(&mut command);
    run.expect_code(1);
    assert!(
        run.stderr()
            .contains("there is no base commit to read the policy from"),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_emergency_covers_only_the_branch_it_was_declared_for() {
    let sandbox = approved_hotfix();
    sandbox.git(&["switch", "--quiet", "-c", "feature/unrelated", "main"]);
    sandbox.write("crates/catalog/src/lib.rs", "//! Catalog.\n");
    sandbox.commit("an unrelated change");
    let run = sandbox.fixlane(&["run", "--lane", "hotfix", "--incident", ID]);
    run.expect_code(1);
    assert!(
        run.stderr().contains(&format!(
            "emergency {ID} belongs to the branch hotfix/{ID}-fix-payment-timeout, not feature/unrelated"
        )),
        "{}",
        run.stderr()
    );
}

#[test]
fn an_undeclared_id_in_a_hotfix_branch_is_named() {
    let sandbox = Sandbox::example();
    sandbox.git(&["switch", "--quiet", "-c", "hotfix/INC-2026-12-01-005-oops"]);
    sandbox.write("crates/payments/src/lib.rs", "//! Payments, fixed.\n");
    sandbox.commit("oops");
    let run = sandbox.fixlane(&["run"]);
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains(
            "INC-2026-12-01-005 (named by the branch hotfix/INC-2026-12-01-005-oops) is not declared"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("no emergency is active"), "{stderr}");
    assert!(!stderr.contains("hotfix/<ID>"), "{stderr}");
}

/// A repository whose one gate deploys by leaving a marker.
fn deploying() -> Sandbox {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n\n[gates.check]\nrun = \"true\"\ntier = \"critical\"\n\n\
         [gates.ship]\nrun = \"touch .git/deploy-ran\"\ntier = \"required\"\nkind = \"deploy\"\n",
    );
    sandbox.commit("config");
    sandbox
}

fn block_audit(sandbox: &Sandbox) {
    let status = std::process::Command::new("sqlite3")
        .arg(sandbox.db())
        .arg(
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'read-only'); END;",
        )
        .status()
        .expect("the sqlite3 command");
    assert!(status.success());
}

#[test]
fn a_deploy_never_runs_and_nothing_passes_while_nothing_can_be_audited() {
    let sandbox = deploying();
    sandbox.fixlane(&["run"]).expect_code(0);
    let marker = sandbox.path().join(".git/deploy-ran");
    std::fs::remove_file(&marker).unwrap();
    block_audit(&sandbox);
    let run = sandbox.fixlane(&["run"]);
    run.expect_code(6);
    assert!(!marker.exists(), "the deploy ran without its audit entry");
    let all = format!("{}{}", run.stdout(), run.stderr());
    assert!(!all.contains("GREEN") && !all.contains("READY"), "{all}");
    assert!(all.contains("no gate was started"), "{all}");
}

#[test]
fn no_passing_verdict_is_shown_for_a_run_that_could_not_be_recorded() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n\n[gates.check]\nrun = \"true\"\ntier = \"critical\"\n",
    );
    sandbox.commit("config");
    sandbox.fixlane(&["run"]).expect_code(0);
    block_audit(&sandbox);
    for _ in 0..5 {
        let run = sandbox.fixlane(&["run"]);
        assert_ne!(run.code(), 0, "{}", run.stderr());
        let all = format!("{}{}", run.stdout(), run.stderr());
        assert!(!all.contains("GREEN") && !all.contains("READY"), "{all}");
    }
}

#[test]
fn a_killed_run_is_found_abandoned_never_running_forever() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n\n[gates.slow]\nrun = \"./slow\"\ntier = \"required\"\n",
    );
    sandbox.write("slow", "#!/bin/sh\n[ -f fast ] && exit 0\nexec sleep 20\n");
    let chmod = std::process::Command::new("chmod")
        .args(["+x", "slow"])
        .current_dir(sandbox.path())
        .status()
        .unwrap();
    assert!(chmod.success());
    sandbox.commit("config");
    let mut child = sandbox
        .command(&["run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the store shows the gate running, then kill the runner outright.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let verdict = sandbox.fixlane(&["verdict"]);
        if verdict.code() == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never showed as running: {}",
            verdict.stderr()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let verdict = sandbox.fixlane(&["verdict"]);
    verdict.expect_code(1);
    assert!(
        verdict.stdout().contains("abandoned"),
        "{}",
        verdict.stdout()
    );
    assert!(
        !verdict.stdout().contains("still running"),
        "{}",
        verdict.stdout()
    );

    sandbox.write("fast", "");
    let next = sandbox.fixlane(&["run"]);
    next.expect_code(0);
    assert!(
        next.stderr()
            .contains("never finished and is now recorded as blocked"),
        "{}",
        next.stderr()
    );
    let log = sandbox.fixlane(&["audit", "export"]).stdout();
    assert_eq!(log.matches("\"run-abandoned\"").count(), 1, "{log}");
    sandbox.fixlane(&["audit", "verify"]).expect_code(0);
}

#[test]
fn a_gate_never_sees_the_stores_location() {
    let mut sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n\n[gates.dump]\nrun = \"./dump\"\ntier = \"required\"\n",
    );
    sandbox.write("dump", "#!/bin/sh\nenv > seen-env.txt\n");
    let chmod = std::process::Command::new("chmod")
        .args(["+x", "dump"])
        .current_dir(sandbox.path())
        .status()
        .unwrap();
    assert!(chmod.success());
    sandbox.commit("config");
    let db = sandbox.path().join("elsewhere/secret-store.db");
    sandbox.db = Some(db.to_string_lossy().into_owned());
    sandbox.fixlane(&["run"]).expect_code(0);
    let seen = std::fs::read_to_string(sandbox.path().join("seen-env.txt")).unwrap();
    assert!(seen.contains("FIXLANE_LANE=normal"), "{seen}");
    assert!(!seen.contains("FIXLANE_DB"), "{seen}");
    assert!(db.exists(), "the run did not use the store it was given");
}

#[test]
fn a_reader_that_stops_reading_is_not_a_panic() {
    let sandbox = deploying();
    for _ in 0..3 {
        sandbox.fixlane(&["run"]).expect_code(0);
    }
    for _ in 0..5 {
        let mut child = sandbox
            .command(&["audit", "log"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end at once, as `| head -0` would.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            matches!(output.status.code(), Some(0 | 141)),
            "{:?}: {stderr}",
            output.status
        );
    }
}
