//! Writing a run to the store as its events arrive, in batches, off the runner's path.

use fixlane_core::policy_change::Weakening;
use fixlane_core::verdict::GateState;
use fixlane_core::{GateName, RunEvent};
use fixlane_runner::liveness::{Liveness, RunnerIdentity};
use fixlane_store::{
    AnyStore, GateRecord, NewRun, RunRecord, Store, StoreLocation, StoredGateState,
};
use tokio::sync::{mpsc, watch};

/// How long gate results may wait to share a transaction with the next ones.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(25);

/// The state a stored gate result stands for, for recomputing a verdict from the store. `None`
/// for a skip, which the plan already says.
pub fn gate_state(state: StoredGateState, detail: Option<&str>) -> Option<GateState> {
    Some(match state {
        StoredGateState::NotRun => GateState::NotRun {
            because: GateName::parse(detail.unwrap_or("unknown")).ok()?,
        },
        StoredGateState::Skipped => return None,
        finished => GateState::Finished {
            outcome: finished.outcome()?,
        },
    })
}

/// The store's row for a gate event, or `None` for events that are not a gate's result.
pub fn gate_record(event: &RunEvent) -> Option<GateRecord> {
    match event {
        RunEvent::GateFinished {
            at,
            gate,
            tier,
            outcome,
            exit_code,
            duration_ms,
            tail,
            log,
        } => Some(GateRecord {
            gate: gate.clone(),
            tier: *tier,
            state: StoredGateState::from(*outcome),
            detail: None,
            exit_code: *exit_code,
            duration_ms: i64::try_from(*duration_ms).ok(),
            log_path: log.clone(),
            tail: tail.clone(),
            finished_at: *at,
        }),
        RunEvent::GateCancelled {
            at,
            gate,
            tier,
            started,
            duration_ms,
            log,
        } => Some(GateRecord {
            gate: gate.clone(),
            tier: *tier,
            state: StoredGateState::Cancelled,
            detail: Some(
                if *started {
                    "stopped while running"
                } else {
                    "never started"
                }
                .to_owned(),
            ),
            exit_code: None,
            duration_ms: i64::try_from(*duration_ms).ok(),
            log_path: log.clone(),
            tail: Vec::new(),
            finished_at: *at,
        }),
        RunEvent::GateSkipped {
            at,
            gate,
            tier,
            reason,
        } => Some(GateRecord {
            gate: gate.clone(),
            tier: *tier,
            state: StoredGateState::Skipped,
            detail: Some(reason.to_string()),
            exit_code: None,
            duration_ms: None,
            log_path: None,
            tail: Vec::new(),
            finished_at: *at,
        }),
        RunEvent::GateNotRun {
            at,
            gate,
            tier,
            because,
        } => Some(GateRecord {
            gate: gate.clone(),
            tier: *tier,
            state: StoredGateState::NotRun,
            detail: Some(because.to_string()),
            exit_code: None,
            duration_ms: None,
            log_path: None,
            tail: Vec::new(),
            finished_at: *at,
        }),
        _ => None,
    }
}

/// What the recorder needs to record a run's start (unless the caller already did).
pub struct Start {
    /// The store, when the caller already opened it.
    pub store: Option<AnyStore>,
    pub db: StoreLocation,
    pub actor: String,
    /// The config file as shown and the SHA-256 of its text.
    pub config_seen: (String, String),
    pub run: NewRun,
    /// Whether [`start`] already recorded it, before the first gate.
    pub already_started: bool,
    /// How the run's policy is weaker than the base's (the normal lane's audited notice).
    pub weakenings: Vec<Weakening>,
}

/// Records the start of a run: the config seen, the run, and any weakening of the policy
/// against the base, each audited.
pub async fn start(
    store: &AnyStore,
    actor: &str,
    (config_file, config_hash): &(String, String),
    run: &NewRun,
    weakenings: &[Weakening],
) -> anyhow::Result<()> {
    store
        .record_config_seen(actor, config_file, config_hash)
        .await?;
    store.start_run(actor, run).await?;
    if !weakenings.is_empty() {
        store
            .append_audit(
                actor,
                "policy-weakened",
                serde_json::json!({
                    "run_id": run.run_id,
                    "rev": run.rev,
                    "lane": run.lane,
                    "base": run.plan.get("base"),
                    "file": config_file,
                    "changes": weakenings,
                }),
            )
            .await?;
    }
    Ok(())
}

/// Marks every unfinished run whose runner is gone (on this machine) as abandoned, and says
/// which: the next run is where a killed one comes to light.
async fn abandon_dead_runs(
    store: &AnyStore,
    actor: &str,
    own: &str,
) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    for run in store.unfinished_runs().await? {
        if run.run_id == own {
            continue;
        }
        let Some(why) = abandoned_because(&run) else {
            continue;
        };
        if store
            .abandon_run(actor, &run.run_id, &why, jiff::Timestamp::now())
            .await?
            .is_some()
        {
            notes.push(format!(
                "the earlier run {} of {} (lane {}) never finished and is now recorded as blocked: {why}",
                run.run_id,
                run.rev.short(),
                run.lane
            ));
        }
    }
    Ok(notes)
}

/// Why an unfinished run will never finish, when its runner is known to be gone.
pub fn abandoned_because(run: &RunRecord) -> Option<String> {
    if run.finished_at.is_some() {
        return None;
    }
    let runner: RunnerIdentity = serde_json::from_value(run.runner.clone()?).ok()?;
    (runner.liveness() == Liveness::Gone).then(|| {
        format!(
            "abandoned: its runner ({}) stopped without finishing it",
            runner.describe()
        )
    })
}

/// Records the run's start (unless already recorded), then its gates and verdict as events
/// arrive, opening the store first unless the caller already had it open; `started` says
/// whether the start is recorded. Any store failure cancels the run (fail closed) and is
/// returned. Returns notes for the person: earlier runs found abandoned.
pub async fn record(
    start_of_run: Start,
    mut events: mpsc::UnboundedReceiver<RunEvent>,
    cancel: watch::Sender<bool>,
    started: watch::Sender<Option<bool>>,
) -> anyhow::Result<Vec<String>> {
    let Start {
        store,
        db,
        actor,
        config_seen,
        run,
        already_started,
        weakenings,
    } = start_of_run;
    let result = async {
        let store = match store {
            Some(store) => store,
            None => fixlane_store::open(&db).await?,
        };
        if !already_started {
            start(&store, &actor, &config_seen, &run, &weakenings).await?;
        }
        let _ = started.send(Some(true));
        let notes = abandon_dead_runs(&store, &actor, &run.run_id).await?;
        while let Some(first) = events.recv().await {
            // Gates finishing close together share one transaction: a chain of quick gates
            // would otherwise pay a commit each, on the cores the gates need. The run's end is
            // written at once.
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + BATCH_WINDOW;
            while !batch
                .last()
                .is_some_and(|event| matches!(event, RunEvent::RunFinished { .. }))
            {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Some(more)) => batch.push(more),
                    Ok(None) | Err(_) => break,
                }
            }
            let gates: Vec<GateRecord> = batch.iter().filter_map(gate_record).collect();
            if !gates.is_empty() {
                store.record_gates(&actor, &run.run_id, &gates).await?;
            }
            for event in &batch {
                if let RunEvent::RunFinished {
                    at,
                    verdict,
                    reasons,
                    ..
                } = event
                {
                    store
                        .finish_run(&actor, &run.run_id, *verdict, reasons, *at)
                        .await?;
                }
            }
        }
        anyhow::Ok(notes)
    }
    .await;
    if result.is_err() {
        if started.borrow().is_none() {
            let _ = started.send(Some(false));
        }
        let _ = cancel.send(true);
    }
    result
}
