//! The figures `fixlane stats` shows, gathered from the store: every emergency, the follow-ups
//! and canaries of the window, each lane's latest finished run against its critical path, and
//! the last drill. The CLI prints them from its own store; the team server answers
//! `GET /api/v1/stats` with them from the team's — both through [`App::stats`].

use fixlane_core::Duration;
use fixlane_core::critical_path::TimedGate;
use fixlane_core::stats::{self, CanaryRun, LaneRun, LastDrill, Stats, StatsInput};
use fixlane_store::{RunRecord, Store};
use jiff::{SignedDuration, Timestamp};

use crate::{App, AppError};

/// The start of the window `window` long that ends at `now` (the earliest time there is when
/// that reaches before it).
pub fn window_start(now: Timestamp, window: Duration) -> Timestamp {
    now.checked_sub(SignedDuration::from_secs(
        i64::try_from(window.as_seconds()).unwrap_or(i64::MAX),
    ))
    .unwrap_or(Timestamp::MIN)
}

/// This machine's cores: what a lane would take with `--jobs` at that.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// A recorded run as its lane's figures need it: its gates that ran, in plan order, with their
/// needs and durations. `None` when its plan cannot be read.
fn lane_run(run: &RunRecord) -> Option<LaneRun> {
    let plan = crate::runs::stored_plan(run).ok()?;
    let gates = plan
        .gates
        .iter()
        .filter_map(|gate| {
            let recorded = run.gates.iter().find(|record| record.gate == gate.name)?;
            Some(TimedGate {
                name: gate.name.clone(),
                needs: gate.needs.clone(),
                duration_ms: u64::try_from(recorded.duration_ms?).ok()?,
            })
        })
        .collect();
    let wall_ms = run
        .finished_at?
        .duration_since(run.started_at)
        .as_millis()
        .try_into()
        .ok()?;
    Some(LaneRun {
        lane: run.lane.clone(),
        wall_ms,
        gates,
    })
}

impl<S: Store + Sync> App<'_, S> {
    /// The figures over the `window` that ends at `now`, a lane's time with `--jobs` judged for
    /// `cores`. Reads only.
    pub async fn stats(
        &self,
        window: Duration,
        now: Timestamp,
        cores: usize,
    ) -> Result<Stats, AppError> {
        let since = window_start(now, window);
        let emergencies = crate::records::for_stats(self.store).await?;
        let followups = self.store.followup_clocks().await?;
        let canaries: Vec<CanaryRun> = self
            .store
            .canaries_since(since)
            .await?
            .into_iter()
            .map(|canary| CanaryRun {
                incident: canary.incident,
                profile: canary.profile,
                outcome: canary.outcome,
                started_at: canary.started_at,
            })
            .collect();
        let mut lanes = Vec::new();
        for lane in self.config.lane_names() {
            if let Some(run) = self.store.latest_finished_run(lane.as_str()).await? {
                lanes.extend(lane_run(&run));
            }
        }
        let last_drill = self.store.latest_drill().await?.map(|drill| LastDrill {
            at: drill.finished_at,
            passed: drill.passed,
            regression: drill.regression,
        });
        Ok(stats::compute(StatsInput {
            config: self.config,
            emergencies: &emergencies,
            followups: &followups,
            canaries: &canaries,
            lanes: &lanes,
            last_drill,
            cores,
            since,
            now,
        }))
    }
}
