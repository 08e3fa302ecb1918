//! The one recorder: events arrive over a channel as the runner or the canary produces them,
//! and are written to the store in batches, off the producer's path. A store that cannot record
//! cancels the producer (fail closed: nothing ships unrecorded) and its error is returned.
//!
//! Runs and canaries differ only in what a batch becomes (gate results and a verdict; canary
//! events and emergency moves), so both drain their channel through [`next_batch`].

use fixlane_core::policy_change::Weakening;
use fixlane_core::{GateName, RunEvent, Tier};
use fixlane_store::{AnyStore, GateRecord, NewRun, StoreLocation, StoredGateState};
use tokio::sync::{mpsc, watch};

use crate::AppError;
use crate::runs::{self, AbandonedRun, ConfigRead};

/// How long run events may wait to share a transaction with the next ones.
pub const RUN_BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(25);

/// The next batch: the first event to arrive, and whatever follows within `window` (none for a
/// zero window: only what is already queued), up to an event `last` says ends the stream.
/// `None` when the channel is closed and empty.
pub async fn next_batch<E>(
    events: &mut mpsc::UnboundedReceiver<E>,
    window: std::time::Duration,
    last: impl Fn(&E) -> bool,
) -> Option<Vec<E>> {
    let first = events.recv().await?;
    let mut batch = vec![first];
    let deadline = tokio::time::Instant::now() + window;
    while !batch.last().is_some_and(&last) {
        if let Ok(more) = events.try_recv() {
            batch.push(more);
            continue;
        }
        if window.is_zero() {
            break;
        }
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(more)) => batch.push(more),
            Ok(None) | Err(_) => break,
        }
    }
    Some(batch)
}

/// The store's row for a gate event, or `None` for events that are not a gate's result.
pub fn gate_record(event: &RunEvent) -> Option<GateRecord> {
    let record = |gate: &GateName, tier: Tier, at, state: StoredGateState| GateRecord {
        gate: gate.clone(),
        tier,
        state,
        detail: None,
        exit_code: None,
        duration_ms: None,
        log_path: None,
        tail: Vec::new(),
        finished_at: at,
    };
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
            exit_code: *exit_code,
            duration_ms: i64::try_from(*duration_ms).ok(),
            log_path: log.clone(),
            tail: tail.clone(),
            ..record(gate, *tier, *at, StoredGateState::from(*outcome))
        }),
        RunEvent::GateCancelled {
            at,
            gate,
            tier,
            started,
            duration_ms,
            log,
        } => Some(GateRecord {
            detail: Some(
                if *started {
                    "stopped while running"
                } else {
                    "never started"
                }
                .to_owned(),
            ),
            duration_ms: i64::try_from(*duration_ms).ok(),
            log_path: log.clone(),
            ..record(gate, *tier, *at, StoredGateState::Cancelled)
        }),
        RunEvent::GateSkipped {
            at,
            gate,
            tier,
            reason,
            ..
        } => Some(GateRecord {
            detail: Some(reason.to_string()),
            ..record(gate, *tier, *at, StoredGateState::Skipped)
        }),
        RunEvent::GateNotRun {
            at,
            gate,
            tier,
            because,
        } => Some(GateRecord {
            detail: Some(because.to_string()),
            ..record(gate, *tier, *at, StoredGateState::NotRun)
        }),
        _ => None,
    }
}

/// Where a run's gate results and verdict are written as they arrive: the store (through
/// [`runs`], as the acting person), or — for a CLI reporting to the team server — the server.
pub trait RunWriter {
    type Error;

    /// Records gate results of the run (never called with none).
    fn record_gates(
        &self,
        run_id: &str,
        gates: &[GateRecord],
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send;

    /// Records the run's verdict.
    fn finish_run(
        &self,
        run_id: &str,
        verdict: fixlane_core::Verdict,
        reasons: &[String],
        at: jiff::Timestamp,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send;
}

/// The store as a [`RunWriter`], writing as `actor`.
pub struct StoreWriter<'a, S> {
    pub store: &'a S,
    pub actor: &'a str,
}

impl<S: fixlane_store::Store + Sync> RunWriter for StoreWriter<'_, S> {
    type Error = AppError;

    async fn record_gates(&self, run_id: &str, gates: &[GateRecord]) -> Result<(), AppError> {
        runs::record_gates(self.store, self.actor, run_id, gates).await
    }

    async fn finish_run(
        &self,
        run_id: &str,
        verdict: fixlane_core::Verdict,
        reasons: &[String],
        at: jiff::Timestamp,
    ) -> Result<(), AppError> {
        runs::finish_run(self.store, self.actor, run_id, verdict, reasons, at).await
    }
}

/// Writes the run's events to `writer` as they arrive, until the run's end: gates finishing
/// close together share one write (a chain of quick gates would otherwise pay a commit each,
/// on the cores the gates need); the run's end is written at once.
pub async fn write_events<W: RunWriter>(
    writer: &W,
    run_id: &str,
    events: &mut mpsc::UnboundedReceiver<RunEvent>,
) -> Result<(), W::Error> {
    let finished = |event: &RunEvent| matches!(event, RunEvent::RunFinished { .. });
    while let Some(batch) = next_batch(events, RUN_BATCH_WINDOW, finished).await {
        let gates: Vec<GateRecord> = batch.iter().filter_map(gate_record).collect();
        if !gates.is_empty() {
            writer.record_gates(run_id, &gates).await?;
        }
        for event in &batch {
            if let RunEvent::RunFinished {
                at,
                verdict,
                reasons,
                ..
            } = event
            {
                writer.finish_run(run_id, *verdict, reasons, *at).await?;
            }
        }
    }
    Ok(())
}

/// What the recorder needs to record a run's start (unless the caller already did).
pub struct RunStart {
    /// The store, when the caller already opened it.
    pub store: Option<AnyStore>,
    pub db: StoreLocation,
    pub actor: String,
    pub config: ConfigRead,
    pub run: NewRun,
    /// Whether the caller already recorded the start, before the first gate.
    pub already_started: bool,
    /// How the run's policy is weaker than the base's (the normal lane's audited notice).
    pub weakenings: Vec<Weakening>,
}

/// Records the run's start (unless already recorded), then its gates and verdict as events
/// arrive, opening the store first unless the caller already had it open; `started` says
/// whether the start is recorded. Any store failure cancels the run (fail closed) and is
/// returned. Returns the earlier runs found abandoned.
pub async fn record_run(
    start: RunStart,
    mut events: mpsc::UnboundedReceiver<RunEvent>,
    cancel: watch::Sender<bool>,
    started: watch::Sender<Option<bool>>,
) -> Result<Vec<AbandonedRun>, AppError> {
    let RunStart {
        store,
        db,
        actor,
        config,
        run,
        already_started,
        weakenings,
    } = start;
    let result = async {
        let store = match store {
            Some(store) => store,
            None => fixlane_store::open(&db).await?,
        };
        if !already_started {
            runs::start_run(&store, &actor, &config, &run, &weakenings).await?;
        }
        let _ = started.send(Some(true));
        let abandoned = runs::abandon_dead_runs(&store, &actor, &run.run_id).await?;
        let writer = StoreWriter {
            store: &store,
            actor: &actor,
        };
        write_events(&writer, &run.run_id, &mut events).await?;
        Ok::<_, AppError>(abandoned)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_batch_ends_at_the_last_event_and_takes_what_is_queued() {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        for value in [1, 2, 3, 4] {
            sender.send(value).unwrap();
        }
        let window = std::time::Duration::ZERO;
        assert_eq!(
            next_batch(&mut receiver, window, |value| *value == 2).await,
            Some(vec![1, 2])
        );
        assert_eq!(
            next_batch(&mut receiver, window, |_| false).await,
            Some(vec![3, 4])
        );
        drop(sender);
        assert_eq!(next_batch(&mut receiver, window, |_| false).await, None);
    }

    #[tokio::test]
    async fn a_window_gathers_events_that_arrive_within_it() {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        sender.send(1).unwrap();
        let late = tokio::spawn(async move {
            tokio::task::yield_now().await;
            sender.send(2).unwrap();
            sender
        });
        // A long window: the batch ends when the channel closes or the second value comes in;
        // the test never waits for the window itself.
        let batch = next_batch(&mut receiver, std::time::Duration::from_mins(1), |value| {
            *value == 2
        })
        .await;
        assert_eq!(batch, Some(vec![1, 2]));
        drop(late.await.unwrap());
    }
}
