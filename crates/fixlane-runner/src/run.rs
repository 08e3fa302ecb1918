//! The scheduler: runs a plan's gates as a concurrent DAG, at most `jobs` at once, the most
//! urgent ready gate first (`fixlane_core::schedule`), and reports everything that happens as
//! `RunEvent`s.
//!
//! One loop owns all state. Each gate runs in its own task (see `gate`) and sends one completion
//! message back; the loop waits on those messages and on the cancel watch, so nothing is shared
//! behind a lock and nothing polls.

mod gate;
mod logs;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fixlane_core::event::{Outcome, RunEvent, Selection};
use fixlane_core::names::{GateName, IncidentId};
use fixlane_core::plan::{GateAction, Plan};
use fixlane_core::schedule::{self, Priority};
use fixlane_core::verdict::{EmergencyStanding, GateState, VerdictReport, VerdictTracker};
use fixlane_process::Cancel;
use jiff::Timestamp;
use tokio::sync::mpsc;

use gate::{GateDone, GateJob, Launched, Programs};
use logs::Logs;

/// How to run the gates of one plan.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub run_id: String,
    /// The most gates running at once; 0 is treated as 1.
    pub jobs: usize,
    /// The repository root: every gate's working directory.
    pub workdir: PathBuf,
    /// One file per gate that prints anything, `<log_dir>/<gate>.log`; the directory is
    /// created at the run's first output.
    pub log_dir: PathBuf,
    /// `FIXLANE_LANE`, `FIXLANE_REV`, … as the caller computed them; added to every gate.
    pub env: Vec<(String, String)>,
    /// After a timeout or cancel: SIGTERM to the gate's process group, then SIGKILL this later.
    pub kill_grace: Duration,
    /// Lines of output kept in `GateFinished.tail`.
    pub tail_lines: usize,
    pub rev: String,
    pub branch: Option<String>,
    pub incident: Option<IncidentId>,
    /// What the run selected (base, changed files, packages), reported in `RunStarted`.
    pub selection: Selection,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub verdict: VerdictReport,
    pub duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("gate `{gate}` needs `{need}`, which is not in the plan")]
    UnknownNeed { gate: GateName, need: GateName },
    #[error(
        "gate `{gate}` needs `{need}`, which comes after it in the plan; a plan lists dependencies before dependents"
    )]
    NeedOutOfOrder { gate: GateName, need: GateName },
    #[error("gate `{gate}` appears twice in the plan")]
    DuplicateGate { gate: GateName },
    #[error("could not start the async runtime: {source}")]
    Runtime { source: std::io::Error },
    #[error("could not start the gates' thread: {source}")]
    Thread { source: std::io::Error },
    #[error("the runner stopped unexpectedly")]
    Stopped,
}

/// Where one gate stands in the scheduler; `Waiting` covers both "needs pending" and "ready".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Skipped,
    Waiting,
    Running,
    Done,
}

/// The DAG with indices instead of names, so each event costs only its own edges.
struct Graph {
    /// For each gate, the gates that need it (only gates that run).
    dependents: Vec<Vec<usize>>,
    /// For each gate, how many of its needs that run have not passed yet.
    pending_needs: Vec<usize>,
}

fn build_graph(plan: &Plan) -> Result<Graph, RunError> {
    let mut index_of: HashMap<&GateName, usize> = HashMap::with_capacity(plan.gates.len());
    for (index, gate) in plan.gates.iter().enumerate() {
        if index_of.insert(&gate.name, index).is_some() {
            return Err(RunError::DuplicateGate {
                gate: gate.name.clone(),
            });
        }
    }
    let mut dependents = vec![Vec::new(); plan.gates.len()];
    let mut pending_needs = vec![0; plan.gates.len()];
    for (index, gate) in plan.gates.iter().enumerate() {
        for need in &gate.needs {
            let Some(&need_index) = index_of.get(need) else {
                // Failing closed: a need we cannot see must not count as satisfied.
                return Err(RunError::UnknownNeed {
                    gate: gate.name.clone(),
                    need: need.clone(),
                });
            };
            // Requiring plan order also rules out cycles, which would otherwise wait forever.
            if need_index >= index {
                return Err(RunError::NeedOutOfOrder {
                    gate: gate.name.clone(),
                    need: need.clone(),
                });
            }
            // A need on a skipped gate counts as satisfied.
            if matches!(plan.gates[need_index].action, GateAction::Run { .. })
                // Gates are visited in order, so a repeated need can only be the last entry.
                && dependents[need_index].last() != Some(&index)
            {
                dependents[need_index].push(index);
                pending_needs[index] += 1;
            }
        }
    }
    Ok(Graph {
        dependents,
        pending_needs,
    })
}

/// A gate whose process was just started (or failed to), not yet announced.
struct Started {
    index: usize,
    at: Timestamp,
    job: GateJob,
    launched: Result<Launched, GateDone>,
}

/// Everything the loop owns while a run is going.
struct Scheduler<'a> {
    plan: &'a Plan,
    settings: &'a RunSettings,
    events: mpsc::UnboundedSender<RunEvent>,
    tracker: VerdictTracker,
    graph: Graph,
    status: Vec<Status>,
    /// Each gate's start priority (see `fixlane_core::schedule`).
    priorities: Vec<Priority>,
    /// Gates whose needs all passed, the most urgent first.
    ready: BinaryHeap<Reverse<Priority>>,
    running: usize,
    /// Urgent gates (critical or required, or needed by one) that have not started or ended.
    urgent_waiting: usize,
    completions: mpsc::UnboundedSender<GateDone>,
    cancel: Cancel,
    /// This process's environment with the run's variables over it.
    base_env: Arc<Vec<(OsString, OsString)>>,
    /// Whether the gates' working directory is not this process's own.
    change_dir: bool,
    programs: Arc<Programs>,
    logs: Arc<Logs>,
}

/// fixlane's own secrets: a gate has no business with the store's URL (it may carry a
/// password) or a server token, and a gate that prints its environment would log them.
const WITHHELD: [&str; 2] = ["FIXLANE_DB", "FIXLANE_TOKEN"];

/// The inherited environment without fixlane's secrets, with `overrides` replacing or adding
/// variables.
fn base_environment(overrides: &[(String, String)]) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(key, _)| !WITHHELD.iter().any(|secret| key == secret))
        .filter(|(key, _)| !overrides.iter().any(|(name, _)| key == name.as_str()))
        .collect();
    env.extend(
        overrides
            .iter()
            .map(|(key, value)| (key.into(), value.into())),
    );
    env
}

impl Scheduler<'_> {
    fn emit(&self, event: RunEvent) {
        // A consumer that went away must not stop the gates; the summary still comes back.
        let _ = self.events.send(event);
    }

    fn track(&mut self, index: usize, state: GateState) {
        if let Some(report) = self.tracker.update_at(index, state) {
            self.emit(RunEvent::VerdictChanged {
                at: Timestamp::now(),
                verdict: report.verdict,
                reasons: report.reasons,
            });
        }
    }

    /// Marks a gate that was waiting as started or ended, keeping the urgent count.
    fn leave_waiting(&mut self, index: usize, status: Status) {
        if self.status[index] == Status::Waiting && self.priorities[index].is_urgent() {
            self.urgent_waiting = self.urgent_waiting.saturating_sub(1);
        }
        self.status[index] = status;
    }

    /// Starts ready gates while slots are free, the most urgent first. With `held`, their
    /// starts are kept there to be announced later (see [`run`]); the processes start now.
    fn start_ready_gates(&mut self, mut held: Option<&mut Vec<Started>>) {
        let jobs = self.settings.jobs.max(1);
        while self.running < jobs {
            let Some(&Reverse(priority)) = self.ready.peek() else {
                return;
            };
            let index = priority.index;
            if self.status[index] != Status::Waiting {
                self.ready.pop();
                continue;
            }
            // The heap puts urgent gates first: an optional one on top means only optional
            // ones are ready, and they wait while an urgent gate could still need the slot.
            if !priority.is_urgent()
                && !schedule::optional_may_start(self.running, self.urgent_waiting, jobs)
            {
                return;
            }
            self.ready.pop();
            let gate = &self.plan.gates[index];
            let GateAction::Run { command } = &gate.action else {
                continue;
            };
            // The run's environment is shared, not copied per gate; only what differs per gate
            // is the gate's own.
            let mut extra_env = Vec::with_capacity(gate.env.len() + 1);
            extra_env.push(("FIXLANE_GATE".into(), gate.name.as_str().into()));
            extra_env.extend(
                gate.env
                    .iter()
                    .map(|(key, value)| (key.into(), value.into())),
            );
            let job = GateJob {
                index,
                command: command.clone(),
                base_env: Arc::clone(&self.base_env),
                extra_env,
                workdir: self.settings.workdir.clone(),
                change_dir: self.change_dir,
                programs: Arc::clone(&self.programs),
                log_path: self.logs.path(gate.name.as_str()),
                logs: Arc::clone(&self.logs),
                timeout: gate.timeout.map(fixlane_core::Duration::to_std),
                kill_grace: self.settings.kill_grace,
                tail_lines: self.settings.tail_lines,
            };
            self.leave_waiting(index, Status::Running);
            self.running += 1;
            let at = Timestamp::now();
            let launched = gate::launch(&job);
            let started = Started {
                index,
                at,
                job,
                launched,
            };
            match held.as_deref_mut() {
                Some(held) => held.push(started),
                None => self.announce(started),
            }
        }
    }

    /// Reports a gate's start and hands its process to a task of its own, which sends its
    /// end back.
    fn announce(&mut self, started: Started) {
        let Started {
            index,
            at,
            job,
            launched,
        } = started;
        self.emit(RunEvent::GateStarted {
            at,
            gate: self.plan.gates[index].name.clone(),
        });
        self.track(index, GateState::Running);
        let completions = self.completions.clone();
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let done = match launched {
                Ok(launched) => gate::watch(job, launched, cancel).await,
                Err(done) => done,
            };
            let _ = completions.send(done);
        });
    }

    fn finish(&mut self, done: GateDone) {
        let index = done.index;
        self.running = self.running.saturating_sub(1);
        self.status[index] = Status::Done;
        let gate = &self.plan.gates[index];
        let log = done.log.map(|path| path.display().to_string());
        if done.outcome == Outcome::Cancelled {
            self.emit(RunEvent::GateCancelled {
                at: Timestamp::now(),
                gate: gate.name.clone(),
                tier: gate.tier,
                started: true,
                duration_ms: millis(done.duration),
                log,
            });
        } else {
            self.emit(RunEvent::GateFinished {
                at: Timestamp::now(),
                gate: gate.name.clone(),
                tier: gate.tier,
                outcome: done.outcome,
                exit_code: done.exit_code,
                duration_ms: millis(done.duration),
                tail: done.tail,
                log,
            });
        }
        self.track(
            index,
            GateState::Finished {
                outcome: done.outcome,
            },
        );
        if done.outcome == Outcome::Passed {
            for position in 0..self.graph.dependents[index].len() {
                let dependent = self.graph.dependents[index][position];
                let pending = &mut self.graph.pending_needs[dependent];
                *pending = pending.saturating_sub(1);
                if *pending == 0 && self.status[dependent] == Status::Waiting {
                    self.ready.push(Reverse(self.priorities[dependent]));
                }
            }
        } else {
            self.mark_not_run(index);
        }
    }

    /// Every gate downstream of `failed` that has not run is `GateNotRun`, naming the need
    /// right above it that did not pass.
    fn mark_not_run(&mut self, failed: usize) {
        let mut stack = vec![failed];
        while let Some(because) = stack.pop() {
            for position in 0..self.graph.dependents[because].len() {
                let dependent = self.graph.dependents[because][position];
                if self.status[dependent] != Status::Waiting {
                    continue;
                }
                self.leave_waiting(dependent, Status::Done);
                let gate = &self.plan.gates[dependent];
                let because_name = self.plan.gates[because].name.clone();
                self.emit(RunEvent::GateNotRun {
                    at: Timestamp::now(),
                    gate: gate.name.clone(),
                    tier: gate.tier,
                    because: because_name.clone(),
                });
                self.track(
                    dependent,
                    GateState::NotRun {
                        because: because_name,
                    },
                );
                stack.push(dependent);
            }
        }
    }

    /// Reports every gate that never started as cancelled; running gates see the same watch and
    /// kill themselves.
    fn cancel_waiting(&mut self) {
        self.ready.clear();
        for index in 0..self.status.len() {
            if self.status[index] != Status::Waiting {
                continue;
            }
            self.leave_waiting(index, Status::Done);
            let gate = &self.plan.gates[index];
            self.emit(RunEvent::GateCancelled {
                at: Timestamp::now(),
                gate: gate.name.clone(),
                tier: gate.tier,
                started: false,
                duration_ms: 0,
                log: None,
            });
            self.track(
                index,
                GateState::Finished {
                    outcome: Outcome::Cancelled,
                },
            );
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Runs the plan's gates and reports every step on `events`, ending with `RunFinished`.
///
/// Setting `cancel` to `true` kills every running gate's process group and reports the gates
/// that never started as cancelled.
pub async fn run(
    plan: &Plan,
    settings: RunSettings,
    emergency: Option<EmergencyStanding>,
    events: mpsc::UnboundedSender<RunEvent>,
    cancel: impl Into<Cancel>,
) -> Result<RunSummary, RunError> {
    let cancel = cancel.into();
    let started = Instant::now();
    let graph = build_graph(plan)?;

    let (completions, mut completed) = mpsc::unbounded_channel();
    let mut watch_cancel = cancel.clone();
    let status = plan
        .gates
        .iter()
        .map(|gate| match gate.action {
            GateAction::Run { .. } => Status::Waiting,
            GateAction::Skip(_) => Status::Skipped,
        })
        .collect::<Vec<_>>();
    let tiers: Vec<_> = plan.gates.iter().map(|gate| gate.tier).collect();
    let runs: Vec<bool> = status
        .iter()
        .map(|status| *status == Status::Waiting)
        .collect();
    let priorities = schedule::priorities(&tiers, &runs, &graph.dependents);
    let urgent_waiting = priorities
        .iter()
        .zip(&runs)
        .filter(|(priority, runs)| **runs && priority.is_urgent())
        .count();
    let mut scheduler = Scheduler {
        plan,
        settings: &settings,
        events,
        tracker: VerdictTracker::new(plan, emergency),
        graph,
        status,
        priorities,
        ready: BinaryHeap::new(),
        running: 0,
        urgent_waiting,
        completions,
        cancel,
        base_env: Arc::new(base_environment(&settings.env)),
        change_dir: std::env::current_dir().ok().as_ref() != Some(&settings.workdir),
        programs: Arc::default(),
        logs: Arc::new(Logs::new(settings.log_dir.clone())),
    };

    // The run's first events (its start, and a thousand gates queued in a large config) are
    // put together while the first gates already run: they are held here, and their processes
    // start before any of it is sent, so the consumers' work on them never delays those gates.
    let (hold, mut held_events) = mpsc::unbounded_channel();
    let events = std::mem::replace(&mut scheduler.events, hold);
    // The run's opening events carry the moment it opened, before the first gates' starts, so
    // their times read in order although some are put together after those starts.
    let opened = Timestamp::now();
    scheduler.emit(RunEvent::RunStarted {
        at: opened,
        run_id: settings.run_id.clone(),
        lane: plan.lane.clone(),
        emergency: plan.emergency,
        incident: settings.incident.clone(),
        rev: settings.rev.clone(),
        branch: settings.branch.clone(),
        jobs: settings.jobs.max(1),
        selection: Box::new(settings.selection.clone()),
    });
    for gate in &plan.gates {
        if let GateAction::Skip(reason) = &gate.action {
            scheduler.emit(RunEvent::GateSkipped {
                at: opened,
                gate: gate.name.clone(),
                tier: gate.tier,
                reason: reason.clone(),
                decision: gate.explanation.decision,
                explanation: gate.explanation.why.clone(),
            });
        }
    }
    // A refused gate (a deploy outside its window) is not a pass: what needs it does not run.
    for (index, gate) in plan.gates.iter().enumerate() {
        if matches!(&gate.action, GateAction::Skip(reason) if reason.blocks()) {
            scheduler.mark_not_run(index);
        }
    }
    for (index, gate) in plan.gates.iter().enumerate() {
        if scheduler.status[index] == Status::Waiting
            && matches!(gate.action, GateAction::Run { .. })
            && scheduler.graph.pending_needs[index] == 0
        {
            scheduler.ready.push(Reverse(scheduler.priorities[index]));
        }
    }
    let mut is_cancelled = watch_cancel.is_cancelled();
    let mut first = Vec::new();
    if !is_cancelled {
        scheduler.start_ready_gates(Some(&mut first));
    }
    for (index, gate) in plan.gates.iter().enumerate() {
        // Waiting, or started just now.
        if !matches!(scheduler.status[index], Status::Waiting | Status::Running) {
            continue;
        }
        if let GateAction::Run { command } = &gate.action {
            scheduler.emit(RunEvent::GateQueued {
                at: opened,
                gate: gate.name.clone(),
                tier: gate.tier,
                command: command.clone(),
                decision: gate.explanation.decision,
                explanation: gate.explanation.why.clone(),
            });
        }
    }
    if let Some(report) = scheduler.tracker.recompute() {
        scheduler.emit(RunEvent::VerdictChanged {
            at: opened,
            verdict: report.verdict,
            reasons: report.reasons,
        });
    }
    for started in first {
        scheduler.announce(started);
    }
    // Everything held goes out in the order it was made; from here on events go straight out.
    scheduler.events = events;
    while let Ok(event) = held_events.try_recv() {
        scheduler.emit(event);
    }

    if is_cancelled {
        scheduler.cancel_waiting();
    }
    loop {
        if !is_cancelled {
            scheduler.start_ready_gates(None);
        }
        if scheduler.running == 0 {
            break;
        }
        tokio::select! {
            Some(done) = completed.recv() => scheduler.finish(done),
            () = watch_cancel.cancelled(), if !is_cancelled => {
                is_cancelled = true;
                scheduler.cancel_waiting();
            }
        }
    }
    // Gates waiting on needs that never resolved cannot remain: every need is earlier in the
    // plan and ends passed (releasing them) or not (marking them not run). Cancel covers the rest.

    // Every gate's log is complete (each was closed before its end was reported); this only
    // stops the writer.
    scheduler.logs.finish();
    let verdict = scheduler.tracker.report();
    let duration = started.elapsed();
    scheduler.emit(RunEvent::RunFinished {
        at: Timestamp::now(),
        verdict: verdict.verdict,
        reasons: verdict.reasons.clone(),
        duration_ms: millis(duration),
    });
    Ok(RunSummary { verdict, duration })
}
