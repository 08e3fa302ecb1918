//! The scheduler against real processes: DAG failure handling, `--jobs`, timeouts, cancel,
//! environment values, the early `ready` verdict and gate logs.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers outside `#[test]` functions are test code too, and fail loudly"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use fixlane_core::config::model::{GateKind, Tier};
use fixlane_core::event::{Outcome, RunEvent};
use fixlane_core::names::{GateName, LaneName};
use fixlane_core::plan::{GateAction, Plan, PlannedGate, SkipReason};
use fixlane_core::verdict::Verdict;
use fixlane_runner::run::{RunSettings, RunSummary, run};
use tokio::sync::{mpsc, watch};

fn name(text: &str) -> GateName {
    GateName::parse(text).unwrap()
}

fn gate(gate_name: &str, tier: Tier, needs: &[&str], command: &str) -> PlannedGate {
    PlannedGate {
        name: name(gate_name),
        tier,
        kind: GateKind::Check,
        needs: needs.iter().map(|need| name(need)).collect(),
        timeout: None,
        env: Vec::new(),
        action: GateAction::Run {
            command: command.to_owned(),
        },
        explanation: fixlane_core::plan::Explanation::default(),
    }
}

fn plan(gates: Vec<PlannedGate>) -> Plan {
    Plan {
        lane: LaneName::normal(),
        emergency: false,
        gates,
        refusals: vec![],
        missing_emergency: None,
        backfill_within: None,
    }
}

fn settings(workdir: &Path, jobs: usize) -> RunSettings {
    RunSettings {
        run_id: "run-1".to_owned(),
        jobs,
        workdir: workdir.to_path_buf(),
        log_dir: workdir.join("logs/nested"),
        env: vec![("FIXLANE_LANE".to_owned(), "normal".to_owned())],
        kill_grace: Duration::from_millis(500),
        tail_lines: 5,
        rev: "abc123".to_owned(),
        branch: Some("main".to_owned()),
        incident: None,
        selection: fixlane_core::event::Selection::default(),
    }
}

async fn run_to_end(plan: &Plan, settings: RunSettings) -> (RunSummary, Vec<RunEvent>) {
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let (_cancel_sender, cancel) = watch::channel(false);
    let summary = run(plan, settings, None, sender, cancel).await.unwrap();
    let mut events = Vec::new();
    while let Ok(event) = receiver.try_recv() {
        events.push(event);
    }
    (summary, events)
}

fn finished<'a>(events: &'a [RunEvent], gate_name: &str) -> (Outcome, Option<i32>, &'a RunEvent) {
    events
        .iter()
        .find_map(|event| match event {
            RunEvent::GateFinished {
                gate,
                outcome,
                exit_code,
                ..
            } if gate.as_str() == gate_name => Some((*outcome, *exit_code, event)),
            RunEvent::GateCancelled { gate, .. } if gate.as_str() == gate_name => {
                Some((Outcome::Cancelled, None, event))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no GateFinished for {gate_name}: {events:#?}"))
}

fn position(events: &[RunEvent], wanted: impl Fn(&RunEvent) -> bool) -> usize {
    events
        .iter()
        .position(wanted)
        .unwrap_or_else(|| panic!("event not found in {events:#?}"))
}

/// Processes of `group` that still run (zombies waiting for a reaper do not count).
fn live_members(group: i32) -> Vec<i32> {
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the `(comm)`: state, ppid, pgrp, …
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|pgrp| pgrp.parse::<i32>().ok()) == Some(group)
            && fields.first() != Some(&"Z")
        {
            live.push(pid);
        }
    }
    live
}

/// Whether every process of `group` is gone. A process sent SIGKILL still shows as running
/// until the scheduler gives it a moment to die, which on a loaded machine takes a while: wait
/// for that, boundedly.
fn group_gone(group: i32) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if live_members(group).is_empty() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().to_owned())
        })
        .is_some_and(|rest| !rest.starts_with('Z'))
}

fn read_pid(path: &PathBuf) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn dependents_of_a_failed_gate_are_not_run_and_independent_gates_pass() {
    let directory = tempfile::tempdir().unwrap();
    let mut skipped = gate("lint", Tier::Required, &[], "exit 9");
    skipped.action = GateAction::Skip(SkipReason::SkippedByLane {
        lane: LaneName::parse("hotfix").unwrap(),
    });
    let plan = plan(vec![
        skipped,
        gate("build", Tier::Critical, &[], "echo building; exit 3"),
        gate("unit", Tier::Required, &["build"], "touch unit-ran"),
        gate("e2e", Tier::Required, &["unit", "lint"], "touch e2e-ran"),
        gate("docs", Tier::Required, &["lint"], "true"),
        gate("scan", Tier::Critical, &[], "true"),
    ]);
    let (summary, events) = run_to_end(&plan, settings(directory.path(), 4)).await;

    assert!(matches!(events.first(), Some(RunEvent::RunStarted { .. })));
    assert!(matches!(
        events.last(),
        Some(RunEvent::RunFinished {
            verdict: Verdict::Blocked,
            ..
        })
    ));
    assert!(
        matches!(events.get(1), Some(RunEvent::GateSkipped { gate, .. }) if gate.as_str() == "lint")
    );
    let queued: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            RunEvent::GateQueued { gate, .. } => Some(gate.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(queued, ["build", "unit", "e2e", "docs", "scan"]);

    assert_eq!(finished(&events, "build").0, Outcome::Failed);
    assert_eq!(finished(&events, "build").1, Some(3));
    // A need on a skipped gate counts as satisfied.
    assert_eq!(finished(&events, "docs").0, Outcome::Passed);
    assert_eq!(finished(&events, "scan").0, Outcome::Passed);
    let not_run: Vec<(&str, &str)> = events
        .iter()
        .filter_map(|event| match event {
            RunEvent::GateNotRun { gate, because, .. } => Some((gate.as_str(), because.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(not_run, [("unit", "build"), ("e2e", "unit")]);
    assert!(!events.iter().any(|event| matches!(
        event,
        RunEvent::GateStarted { gate, .. } | RunEvent::GateFinished { gate, .. }
            if gate.as_str() == "unit" || gate.as_str() == "e2e"
    )));
    assert!(!directory.path().join("unit-ran").exists());
    assert!(!directory.path().join("e2e-ran").exists());
    assert_eq!(summary.verdict.verdict, Verdict::Blocked);
    assert!(
        summary
            .verdict
            .reasons
            .iter()
            .any(|reason| reason.contains("unit did not run because build did not pass")),
        "{:?}",
        summary.verdict.reasons
    );
}

#[tokio::test]
async fn one_job_never_overlaps_and_follows_plan_order() {
    let directory = tempfile::tempdir().unwrap();
    let marks = directory.path().join("marks");
    let command = r#"echo "start $FIXLANE_GATE" >> "$MARKS"; sleep 0.05; echo "end $FIXLANE_GATE" >> "$MARKS""#;
    let plan = plan(vec![
        gate("a", Tier::Critical, &[], command),
        gate("b", Tier::Required, &[], command),
        gate("c", Tier::Required, &["a"], command),
        gate("d", Tier::Optional, &[], command),
    ]);
    let mut settings = settings(directory.path(), 1);
    settings
        .env
        .push(("MARKS".to_owned(), marks.display().to_string()));
    let (summary, _) = run_to_end(&plan, settings).await;
    assert_eq!(summary.verdict.verdict, Verdict::Green);
    let text = std::fs::read_to_string(&marks).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "start a", "end a", "start b", "end b", "start c", "end c", "start d", "end d"
        ]
    );
}

#[tokio::test]
async fn gates_start_as_soon_as_their_needs_pass() {
    let directory = tempfile::tempdir().unwrap();
    // `fast-child` needs only `fast`; it must finish while `slow` (same wave) still waits for it.
    let plan = plan(vec![
        gate("fast", Tier::Required, &[], "true"),
        gate(
            "slow",
            Tier::Required,
            &[],
            "while [ ! -f fast-child-done ]; do sleep 0.02; done",
        ),
        gate(
            "fast-child",
            Tier::Required,
            &["fast"],
            "touch fast-child-done",
        ),
    ]);
    let mut plan = plan;
    plan.gates[1].timeout = Some(fixlane_core::Duration::from_seconds(10));
    let (summary, _) = run_to_end(&plan, settings(directory.path(), 2)).await;
    assert_eq!(summary.verdict.verdict, Verdict::Green);
}

#[tokio::test]
async fn a_timed_out_gate_loses_its_whole_process_group() {
    let directory = tempfile::tempdir().unwrap();
    let mut slow = gate(
        "slow",
        Tier::Critical,
        &[],
        "echo $$ > shell.pid; sleep 30 & echo $! > background.pid; sleep 30; wait",
    );
    slow.timeout = Some(fixlane_core::Duration::from_seconds(1));
    let plan = plan(vec![slow, gate("after", Tier::Required, &["slow"], "true")]);
    let started = std::time::Instant::now();
    let (summary, events) = run_to_end(&plan, settings(directory.path(), 2)).await;
    assert!(started.elapsed() < Duration::from_secs(10));

    let (outcome, exit_code, event) = finished(&events, "slow");
    assert_eq!(outcome, Outcome::TimedOut);
    assert_eq!(exit_code, None);
    let RunEvent::GateFinished { tail, .. } = event else {
        unreachable!()
    };
    assert!(tail.last().unwrap().contains("timed out"), "{tail:?}");
    assert!(events.iter().any(|event| matches!(
        event,
        RunEvent::GateNotRun { gate, because, .. } if gate.as_str() == "after" && because.as_str() == "slow"
    )));
    assert_eq!(summary.verdict.verdict, Verdict::Blocked);

    let group = read_pid(&directory.path().join("shell.pid"));
    let background = read_pid(&directory.path().join("background.pid"));
    assert!(!alive(background), "the background sleep survived");
    assert!(group_gone(group), "group {group} survived");
}

#[tokio::test]
async fn a_grandchild_ignoring_sigterm_is_killed_after_the_grace() {
    let directory = tempfile::tempdir().unwrap();
    let mut stubborn = gate(
        "stubborn",
        Tier::Critical,
        &[],
        "echo $$ > shell.pid; sh -c 'trap \"\" TERM; sleep 30' & sleep 30",
    );
    stubborn.timeout = Some(fixlane_core::Duration::from_seconds(1));
    let plan = plan(vec![stubborn]);
    let (_, events) = run_to_end(&plan, settings(directory.path(), 1)).await;
    assert_eq!(finished(&events, "stubborn").0, Outcome::TimedOut);
    let group = read_pid(&directory.path().join("shell.pid"));
    assert!(group_gone(group), "group {group} survived");
}

#[tokio::test]
async fn cancel_kills_running_gates_and_cancels_queued_ones() {
    let directory = tempfile::tempdir().unwrap();
    let plan = plan(vec![
        gate(
            "a",
            Tier::Critical,
            &[],
            "echo $$ > a.pid; sleep 30 & echo $! > a-background.pid; wait",
        ),
        gate("b", Tier::Required, &[], "echo $$ > b.pid; sleep 30"),
        gate("c", Tier::Required, &["a"], "touch c-ran"),
        gate("d", Tier::Optional, &[], "touch d-ran"),
    ]);
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let (cancel_sender, cancel) = watch::channel(false);
    let workdir = directory.path().to_path_buf();
    let controller = async move {
        let mut events = Vec::new();
        let mut started = 0;
        while let Some(event) = receiver.recv().await {
            if matches!(event, RunEvent::GateStarted { .. }) {
                started += 1;
            }
            let last = matches!(event, RunEvent::RunFinished { .. });
            events.push(event);
            if started == 2 && !*cancel_sender.borrow() {
                // Wait until both shells wrote their pids, so the kill has something to find.
                while !(workdir.join("a-background.pid").exists() && workdir.join("b.pid").exists())
                {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                cancel_sender.send(true).unwrap();
            }
            if last {
                break;
            }
        }
        events
    };
    let started = std::time::Instant::now();
    let (summary, events) = tokio::join!(
        run(&plan, settings(directory.path(), 2), None, sender, cancel),
        controller
    );
    let summary = summary.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    for gate_name in ["a", "b", "c", "d"] {
        assert_eq!(
            finished(&events, gate_name).0,
            Outcome::Cancelled,
            "{gate_name}"
        );
    }
    let RunEvent::GateCancelled {
        duration_ms,
        log,
        started: false,
        ..
    } = finished(&events, "d").2
    else {
        unreachable!()
    };
    assert_eq!((*duration_ms, log.clone()), (0, None));
    assert!(!events.iter().any(|event| matches!(
        event,
        RunEvent::GateStarted { gate, .. } if gate.as_str() == "c" || gate.as_str() == "d"
    )));
    assert!(matches!(events.last(), Some(RunEvent::RunFinished { .. })));
    assert_eq!(summary.verdict.verdict, Verdict::Blocked);
    for file in ["a.pid", "b.pid"] {
        let group = read_pid(&directory.path().join(file));
        assert!(group_gone(group), "group of {file} survived");
    }
    assert!(!alive(read_pid(&directory.path().join("a-background.pid"))));
    assert!(!directory.path().join("c-ran").exists());
    assert!(!directory.path().join("d-ran").exists());
}

#[tokio::test]
async fn a_cancel_before_the_start_runs_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let plan = plan(vec![gate("a", Tier::Critical, &[], "touch a-ran")]);
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let (_cancel_sender, cancel) = watch::channel(true);
    let summary = run(&plan, settings(directory.path(), 1), None, sender, cancel)
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Ok(event) = receiver.try_recv() {
        events.push(event);
    }
    assert_eq!(finished(&events, "a").0, Outcome::Cancelled);
    assert_eq!(summary.verdict.verdict, Verdict::Blocked);
    assert!(!directory.path().join("a-ran").exists());
}

#[tokio::test]
async fn values_reach_the_command_only_as_environment_variables() {
    let directory = tempfile::tempdir().unwrap();
    let hostile = "hotfix/INC-1$(touch pwned)`touch pwned2`;touch pwned3 && touch pwned4 | \"'";
    let mut echo = gate(
        "echo",
        Tier::Critical,
        &[],
        r#"printf '%s' "$FIXLANE_BRANCH" > branch.txt; printf '%s' "$OWN" > own.txt; printf '%s' "$FIXLANE_GATE" > gate.txt"#,
    );
    echo.env = vec![("OWN".to_owned(), "$(touch pwned5)".to_owned())];
    let plan = plan(vec![echo]);
    let mut settings = settings(directory.path(), 1);
    settings
        .env
        .push(("FIXLANE_BRANCH".to_owned(), hostile.to_owned()));
    settings.branch = Some(hostile.to_owned());
    let (summary, _) = run_to_end(&plan, settings).await;
    assert_eq!(summary.verdict.verdict, Verdict::Green);
    let read = |file: &str| std::fs::read_to_string(directory.path().join(file)).unwrap();
    assert_eq!(read("branch.txt"), hostile);
    assert_eq!(read("own.txt"), "$(touch pwned5)");
    assert_eq!(read("gate.txt"), "echo");
    for entry in std::fs::read_dir(directory.path()).unwrap().flatten() {
        assert!(
            !entry.file_name().to_string_lossy().starts_with("pwned"),
            "a value ran as shell text"
        );
    }
}

#[tokio::test]
async fn ready_is_announced_while_an_optional_gate_still_runs() {
    let directory = tempfile::tempdir().unwrap();
    // The optional gate ends only once the test saw `ready`; were `ready` held back until it
    // finished, it would time out instead of passing.
    let mut perf = gate(
        "perf",
        Tier::Optional,
        &[],
        "while [ ! -f release ]; do sleep 0.02; done",
    );
    perf.timeout = Some(fixlane_core::Duration::from_seconds(10));
    let plan = plan(vec![
        perf,
        gate("build", Tier::Critical, &[], "true"),
        gate("unit", Tier::Required, &["build"], "true"),
    ]);
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let (_cancel_sender, cancel) = watch::channel(false);
    let release = directory.path().join("release");
    let controller = async move {
        let mut events = Vec::new();
        while let Some(event) = receiver.recv().await {
            if matches!(
                event,
                RunEvent::VerdictChanged {
                    verdict: Verdict::Ready,
                    ..
                }
            ) {
                std::fs::write(&release, "").unwrap();
            }
            let last = matches!(event, RunEvent::RunFinished { .. });
            events.push(event);
            if last {
                break;
            }
        }
        events
    };
    let (summary, events) = tokio::join!(
        run(&plan, settings(directory.path(), 3), None, sender, cancel),
        controller
    );
    assert_eq!(summary.unwrap().verdict.verdict, Verdict::Green);
    assert_eq!(finished(&events, "perf").0, Outcome::Passed);
    let ready = position(&events, |event| {
        matches!(
            event,
            RunEvent::VerdictChanged {
                verdict: Verdict::Ready,
                ..
            }
        )
    });
    let perf_finished = position(
        &events,
        |event| matches!(event, RunEvent::GateFinished { gate, .. } if gate.as_str() == "perf"),
    );
    let unit_finished = position(
        &events,
        |event| matches!(event, RunEvent::GateFinished { gate, .. } if gate.as_str() == "unit"),
    );
    assert!(unit_finished < ready && ready < perf_finished);
    let green = position(&events, |event| {
        matches!(
            event,
            RunEvent::VerdictChanged {
                verdict: Verdict::Green,
                ..
            }
        )
    });
    assert!(perf_finished < green);
}

#[tokio::test]
async fn the_log_holds_everything_and_the_tail_the_last_lines() {
    let directory = tempfile::tempdir().unwrap();
    let plan = plan(vec![gate(
        "noisy",
        Tier::Required,
        &[],
        "i=1; while [ $i -le 500 ]; do echo \"line $i\"; i=$((i+1)); done; echo oops >&2; exit 1",
    )]);
    let (_, events) = run_to_end(&plan, settings(directory.path(), 1)).await;
    let (outcome, exit_code, event) = finished(&events, "noisy");
    assert_eq!((outcome, exit_code), (Outcome::Failed, Some(1)));
    let RunEvent::GateFinished { tail, log, .. } = event else {
        unreachable!()
    };
    assert_eq!(
        tail,
        &["line 497", "line 498", "line 499", "line 500", "oops"]
    );
    let log = PathBuf::from(log.clone().unwrap());
    assert_eq!(log, directory.path().join("logs/nested/noisy.log"));
    let text = std::fs::read_to_string(log).unwrap();
    assert_eq!(text.lines().count(), 501);
    assert!(text.starts_with("line 1\nline 2\n"));
    assert!(text.ends_with("line 500\noops\n"));
}

#[tokio::test]
async fn a_gate_whose_output_cannot_be_kept_fails_and_a_silent_one_needs_no_log() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("file"), "").unwrap();
    let mut settings = settings(directory.path(), 1);
    settings.log_dir = directory.path().join("file/logs");
    let plan = plan(vec![
        gate("silent", Tier::Critical, &[], "true"),
        gate("talks", Tier::Critical, &[], "echo hello"),
    ]);
    let (summary, events) = run_to_end(&plan, settings).await;
    // A gate that prints nothing has no log to keep, and passes without one.
    let (outcome, _, silent) = finished(&events, "silent");
    assert_eq!(outcome, Outcome::Passed);
    assert!(matches!(silent, RunEvent::GateFinished { log: None, .. }));
    // A gate whose output cannot be kept fails, saying why, with its output in the tail.
    let (outcome, exit_code, talks) = finished(&events, "talks");
    assert_eq!((outcome, exit_code), (Outcome::Failed, Some(0)));
    let RunEvent::GateFinished { tail, log, .. } = talks else {
        unreachable!()
    };
    assert_eq!(log, &None);
    assert_eq!(tail[0], "hello");
    assert!(
        tail[1].contains("could not create the log directory"),
        "{tail:?}"
    );
    assert_eq!(summary.verdict.verdict, Verdict::Blocked);
}

#[tokio::test]
async fn a_failing_gate_that_printed_nothing_says_so() {
    let directory = tempfile::tempdir().unwrap();
    let plan = plan(vec![gate("quiet", Tier::Required, &[], "exit 3")]);
    let (_, events) = run_to_end(&plan, settings(directory.path(), 1)).await;
    let (outcome, exit_code, event) = finished(&events, "quiet");
    assert_eq!((outcome, exit_code), (Outcome::Failed, Some(3)));
    let RunEvent::GateFinished { tail, log, .. } = event else {
        unreachable!()
    };
    assert_eq!(tail, &["fixlane: the gate printed nothing"]);
    assert_eq!(log, &None);
    assert!(!directory.path().join("logs/nested/quiet.log").exists());
}

#[tokio::test]
async fn output_a_background_process_prints_after_its_gate_ended_still_reaches_the_log() {
    let directory = tempfile::tempdir().unwrap();
    // The gate ends at once; what it left behind prints while a later gate still runs.
    let plan = plan(vec![
        gate(
            "leaves",
            Tier::Required,
            &[],
            "echo first; (sleep 0.3; echo later) &",
        ),
        gate("after", Tier::Required, &["leaves"], "sleep 1"),
    ]);
    let (summary, events) = run_to_end(&plan, settings(directory.path(), 1)).await;
    assert_eq!(summary.verdict.verdict, Verdict::Green);
    let (_, _, event) = finished(&events, "leaves");
    let RunEvent::GateFinished { log, .. } = event else {
        unreachable!()
    };
    let text = std::fs::read_to_string(log.clone().unwrap()).unwrap();
    assert_eq!(text, "first\nlater\n");
}

#[tokio::test]
async fn many_no_op_gates_run_with_bounded_concurrency() {
    let directory = tempfile::tempdir().unwrap();
    let gates = (0..200)
        .map(|index| {
            let needs: Vec<String> = if index >= 10 {
                vec![format!("g{}", index - 10)]
            } else {
                Vec::new()
            };
            let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
            gate(&format!("g{index}"), Tier::Required, &needs, "true")
        })
        .collect();
    let plan = plan(gates);
    let (summary, events) = run_to_end(&plan, settings(directory.path(), 4)).await;
    assert_eq!(summary.verdict.verdict, Verdict::Green);
    let mut running = 0_i32;
    let mut most = 0;
    for event in &events {
        match event {
            RunEvent::GateStarted { .. } => running += 1,
            RunEvent::GateFinished { .. } => running -= 1,
            _ => {}
        }
        most = most.max(running);
    }
    assert!((1..=4).contains(&most), "{most}");
    assert_eq!(
        events
            .iter()
            .filter(|event| matches!(
                event,
                RunEvent::GateFinished {
                    outcome: Outcome::Passed,
                    ..
                }
            ))
            .count(),
        200
    );
}

#[tokio::test]
async fn plain_commands_run_directly_and_scripts_without_a_shebang_still_run() {
    use std::os::unix::fs::PermissionsExt as _;
    let directory = tempfile::tempdir().unwrap();
    let script = directory.path().join("no-shebang");
    std::fs::write(&script, "echo \"ran as $0\" > ran.txt\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plan = plan(vec![
        gate("script", Tier::Required, &[], "./no-shebang"),
        gate("program", Tier::Required, &[], "ls -d ."),
        gate(
            "missing",
            Tier::Optional,
            &[],
            "no-such-program-anywhere --flag",
        ),
    ]);
    let (_, events) = run_to_end(&plan, settings(directory.path(), 2)).await;
    assert_eq!(finished(&events, "script").0, Outcome::Passed);
    assert!(directory.path().join("ran.txt").exists());
    assert_eq!(finished(&events, "program").0, Outcome::Passed);
    let (outcome, _, event) = finished(&events, "missing");
    assert_eq!(outcome, Outcome::Failed);
    let RunEvent::GateFinished { tail, .. } = event else {
        unreachable!()
    };
    assert!(
        tail.iter()
            .any(|line| line.contains("no-such-program-anywhere")),
        "{tail:?}"
    );
}

fn started_order(events: &[RunEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            RunEvent::GateStarted { gate, .. } => Some(gate.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn with_one_slot_critical_then_required_then_optional_start_whatever_the_written_order() {
    let dir = tempfile::tempdir().unwrap();
    // The worst order: the optional gates first, the critical one last; `ready` needs `scan`,
    // `lint` and `unit`, and `unit` needs `build` (optional itself, but what a required gate
    // waits for is as urgent as that gate).
    let plan = plan(vec![
        gate("docs", Tier::Optional, &[], "true"),
        gate("bench", Tier::Optional, &[], "true"),
        gate("build", Tier::Optional, &[], "true"),
        gate("lint", Tier::Required, &[], "true"),
        gate("unit", Tier::Required, &["build"], "true"),
        gate("scan", Tier::Critical, &[], "true"),
    ]);
    let (summary, events) = run_to_end(&plan, settings(dir.path(), 1)).await;
    assert_eq!(summary.verdict.verdict, Verdict::Green);
    // Within the required tier the longer chain (build → unit) goes first.
    assert_eq!(
        started_order(&events),
        ["scan", "build", "lint", "unit", "docs", "bench"]
    );
    let ready = position(&events, |event| {
        matches!(
            event,
            RunEvent::VerdictChanged {
                verdict: Verdict::Ready,
                ..
            }
        )
    });
    let docs = position(
        &events,
        |event| matches!(event, RunEvent::GateStarted { gate, .. } if gate.as_str() == "docs"),
    );
    assert!(
        ready < docs,
        "ready waited for an optional gate: {events:#?}"
    );
}

#[tokio::test]
async fn an_optional_gate_takes_no_slot_an_urgent_gate_could_still_need() {
    let dir = tempfile::tempdir().unwrap();
    // Two slots: `slow` and `fast` (critical) start; when `fast` ends, `unit` and `more`
    // (required, needing `fast`) become ready, and `docs` must not have taken a slot.
    let plan = plan(vec![
        gate("docs", Tier::Optional, &[], "true"),
        gate("slow", Tier::Critical, &[], "sleep 0.3"),
        gate("fast", Tier::Critical, &[], "true"),
        gate("unit", Tier::Required, &["fast"], "true"),
        gate("more", Tier::Required, &["fast"], "true"),
    ]);
    let (summary, events) = run_to_end(&plan, settings(dir.path(), 2)).await;
    assert_eq!(summary.verdict.verdict, Verdict::Green);
    // `fast` first (two gates wait behind it); `docs` takes the free slot only once every
    // urgent gate has started: while `slow` runs, the one other slot goes to `unit`, then
    // `more`, and only then to `docs`. The order is the same however long each gate takes.
    assert_eq!(
        started_order(&events),
        ["fast", "slow", "unit", "more", "docs"]
    );
}
