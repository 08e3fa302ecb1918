//! The runner's own runtime: a plain (not async) caller runs a plan to its end, streams a run's
//! events while doing async work of its own on the same runtime, and cancels a run.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside `#[test]` functions are test code too, and fail loudly"
)]

use std::path::Path;
use std::time::Duration;

use fixlane_core::config::model::{GateKind, Tier};
use fixlane_core::event::{Outcome, RunEvent};
use fixlane_core::names::{GateName, LaneName};
use fixlane_core::plan::{GateAction, Plan, PlannedGate};
use fixlane_core::verdict::Verdict;
use fixlane_process::Cancel;
use fixlane_runner::run::RunSettings;
use fixlane_runner::runner::Runner;
use tokio::sync::watch;

fn gate(name: &str, needs: &[&str], command: &str) -> PlannedGate {
    PlannedGate {
        name: GateName::parse(name).unwrap(),
        tier: Tier::Critical,
        kind: GateKind::Check,
        needs: needs
            .iter()
            .map(|need| GateName::parse(need).unwrap())
            .collect(),
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

fn settings(workdir: &Path) -> RunSettings {
    RunSettings {
        run_id: "run-1".to_owned(),
        jobs: 2,
        workdir: workdir.to_path_buf(),
        log_dir: workdir.join("logs"),
        env: Vec::new(),
        kill_grace: Duration::from_millis(500),
        tail_lines: 5,
        rev: "abc123".to_owned(),
        branch: None,
        incident: None,
        selection: fixlane_core::event::Selection::default(),
    }
}

fn kind(event: &RunEvent) -> &'static str {
    match event {
        RunEvent::RunStarted { .. } => "run started",
        RunEvent::GateQueued { .. } => "queued",
        RunEvent::GateStarted { .. } => "started",
        RunEvent::GateFinished { .. } => "finished",
        RunEvent::GateSkipped { .. } => "skipped",
        RunEvent::GateCancelled { .. } => "cancelled",
        RunEvent::GateNotRun { .. } => "not run",
        RunEvent::VerdictChanged { .. } => "verdict",
        RunEvent::RunFinished { .. } => "run finished",
    }
}

#[test]
fn a_plain_caller_runs_a_plan_to_its_end() {
    let directory = tempfile::tempdir().unwrap();
    let runner = Runner::new().unwrap();
    let mut events = Vec::new();
    let summary = runner
        .run_blocking(
            plan(vec![
                gate("build", &[], "true"),
                gate("test", &["build"], "true"),
            ]),
            settings(directory.path()),
            None,
            Cancel::never(),
            |event| events.push(event),
        )
        .unwrap();
    assert_eq!(summary.verdict.verdict, Verdict::Green);
    let kinds: Vec<&str> = events.iter().map(kind).collect();
    assert_eq!(kinds.first(), Some(&"run started"));
    assert_eq!(kinds.last(), Some(&"run finished"));
    assert_eq!(kinds.iter().filter(|kind| **kind == "finished").count(), 2);
}

/// The first run goes to the gates' thread the runner started when it was made; a second run
/// of the same runner gets a thread of its own, and both run to their end on their own
/// threads.
#[test]
fn one_runner_runs_two_plans_one_after_the_other() {
    let directory = tempfile::tempdir().unwrap();
    let runner = Runner::new().unwrap();
    let caller = std::thread::current().id();
    for (index, command) in ["true", "false"].into_iter().enumerate() {
        let threads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&threads);
        let summary = runner
            .run_blocking(
                plan(vec![gate("only", &[], command)]),
                settings(directory.path()),
                None,
                Cancel::never(),
                move |_| seen.lock().unwrap().push(std::thread::current().id()),
            )
            .unwrap();
        let expected = if index == 0 {
            Verdict::Green
        } else {
            Verdict::Blocked
        };
        assert_eq!(summary.verdict.verdict, expected, "run {index}");
        // The events reach the caller on its own thread, whichever thread ran the gates.
        assert!(threads.lock().unwrap().iter().all(|id| *id == caller));
    }
}

#[test]
fn the_callers_own_work_shares_the_runtime_with_the_gates() {
    let directory = tempfile::tempdir().unwrap();
    let runner = Runner::new().unwrap();
    let (_cancel_sender, cancel) = watch::channel(false);
    let mut run = runner.start(
        plan(vec![gate("build", &[], "true")]),
        settings(directory.path()),
        None,
        cancel,
    );
    let (outcome, summary) = runner.block_on(async {
        // The caller's own timer runs on the same runtime as the gate it waits beside.
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mut outcome = None;
        while let Some(event) = run.next_event().await {
            if let RunEvent::GateFinished { outcome: done, .. } = event {
                outcome = Some(done);
            }
        }
        (outcome, run.finish().await.unwrap())
    });
    assert_eq!(outcome, Some(Outcome::Passed));
    assert_eq!(summary.verdict.verdict, Verdict::Green);
}

#[test]
fn cancel_stops_a_started_run() {
    let directory = tempfile::tempdir().unwrap();
    let runner = Runner::new().unwrap();
    let (cancel_sender, cancel) = watch::channel(false);
    let mut events = Vec::new();
    let summary = runner
        .run_blocking(
            plan(vec![
                gate("slow", &[], "sleep 30"),
                gate("after", &["slow"], "true"),
            ]),
            settings(directory.path()),
            None,
            cancel,
            |event| {
                // Cancelled as soon as the gate is running: the run ends long before 30 s.
                if matches!(event, RunEvent::GateStarted { .. }) {
                    cancel_sender.send(true).unwrap();
                }
                events.push(event);
            },
        )
        .unwrap();
    assert_eq!(summary.verdict.verdict, Verdict::Blocked);
    assert!(summary.duration < Duration::from_secs(20), "{summary:?}");
    let cancelled: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            RunEvent::GateCancelled { gate, .. } => Some(gate.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, ["after", "slow"]);
}

#[test]
fn a_plan_that_cannot_run_fails_when_the_run_is_finished() {
    let directory = tempfile::tempdir().unwrap();
    let runner = Runner::new().unwrap();
    let mut events = 0;
    let error = runner
        .run_blocking(
            plan(vec![gate("test", &["build"], "true")]),
            settings(directory.path()),
            None,
            Cancel::never(),
            |_| events += 1,
        )
        .unwrap_err();
    assert_eq!(events, 0);
    assert_eq!(
        error.to_string(),
        "gate `test` needs `build`, which is not in the plan"
    );
}

/// The processes whose parent is this one, by their command names.
fn children_named(wanted: &str) -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            // `pid (comm) state ppid …`; the name may hold spaces, so split after its `)`.
            let Some((head, rest)) = stat.rsplit_once(") ") else {
                return false;
            };
            let comm = head.split_once(" (").map(|(_, comm)| comm);
            let ppid = rest.split(' ').nth(1);
            comm == Some(wanted) && ppid == Some(me.as_str())
        })
        .count()
}

#[test]
fn the_first_gate_runs_before_the_first_event_of_a_large_plan_is_even_sent() {
    let directory = tempfile::tempdir().unwrap();
    // A thousand gates queued behind the first: their events are the run's first thousand.
    let mut gates = vec![gate("first", &[], "sleep 30")];
    for index in 1..1000 {
        gates.push(gate(&format!("g{index}"), &["first"], "true"));
    }
    let plan = plan(gates);
    let runner = Runner::new().unwrap();
    let (cancel_sender, cancel) = watch::channel(false);
    let mut run = runner.start(plan, settings(directory.path()), None, Cancel::from(cancel));
    let events = runner.block_on(async {
        let first = run.next_event().await.unwrap();
        // The first event is the run's start, and by the time anyone hears it the first
        // gate's process is already there.
        assert_eq!(kind(&first), "run started");
        assert_eq!(children_named("sleep"), 1, "the first gate is running");
        cancel_sender.send(true).unwrap();
        let mut events = vec![first];
        while let Some(event) = run.next_event().await {
            events.push(event);
        }
        run.finish().await.unwrap();
        events
    });
    // Every event still comes in the order the gates went through: each gate queued before
    // it started, the first verdict before the first start.
    let kinds: Vec<_> = events.iter().map(kind).collect();
    assert_eq!(kinds[1..1001], ["queued"; 1000]);
    assert_eq!(kinds[1001..1003], ["verdict", "started"]);
    assert_eq!(
        events
            .iter()
            .filter(|event| kind(event) == "started")
            .count(),
        1
    );
    assert_eq!(kinds.last(), Some(&"run finished"));
    // Their times read in order too, though the queued events were made after the start.
    let times: Vec<_> = events.iter().map(RunEvent::at).collect();
    assert!(times.is_sorted(), "event times out of order: {times:?}");
}
