//! `RunEvent`: the one seam between doing a run and reporting it.
//!
//! The runner emits these; the terminal view, `--json`, `JUnit`, the store and the dashboard
//! consume them. Serialized, each is one JSON line with an `event` tag and an RFC 3339 time.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::model::Tier;
use crate::names::{GateName, IncidentId, LaneName};
use crate::plan::SkipReason;
use crate::verdict::Verdict;

/// How a gate that ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    TimedOut,
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
            Outcome::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    RunStarted {
        at: Timestamp,
        run_id: String,
        lane: LaneName,
        emergency: bool,
        incident: Option<IncidentId>,
        rev: String,
        branch: Option<String>,
        jobs: usize,
    },
    GateQueued {
        at: Timestamp,
        gate: GateName,
        tier: Tier,
        command: String,
    },
    GateStarted {
        at: Timestamp,
        gate: GateName,
    },
    GateFinished {
        at: Timestamp,
        gate: GateName,
        tier: Tier,
        outcome: Outcome,
        exit_code: Option<i32>,
        duration_ms: u64,
        /// The last lines of output, for the failure report; the full log is in `log`.
        tail: Vec<String>,
        log: Option<String>,
    },
    GateSkipped {
        at: Timestamp,
        gate: GateName,
        tier: Tier,
        #[serde(flatten)]
        reason: SkipReason,
    },
    /// Stopped by Ctrl-C or a store failure: killed while running, or never started.
    GateCancelled {
        at: Timestamp,
        gate: GateName,
        tier: Tier,
        /// Whether its process had started (and was killed).
        started: bool,
        duration_ms: u64,
        log: Option<String>,
    },
    GateNotRun {
        at: Timestamp,
        gate: GateName,
        tier: Tier,
        /// The need that did not pass.
        because: GateName,
    },
    VerdictChanged {
        at: Timestamp,
        verdict: Verdict,
        reasons: Vec<String>,
    },
    RunFinished {
        at: Timestamp,
        verdict: Verdict,
        reasons: Vec<String>,
        duration_ms: u64,
    },
}

impl RunEvent {
    pub fn at(&self) -> Timestamp {
        match self {
            RunEvent::RunStarted { at, .. }
            | RunEvent::GateQueued { at, .. }
            | RunEvent::GateStarted { at, .. }
            | RunEvent::GateFinished { at, .. }
            | RunEvent::GateSkipped { at, .. }
            | RunEvent::GateCancelled { at, .. }
            | RunEvent::GateNotRun { at, .. }
            | RunEvent::VerdictChanged { at, .. }
            | RunEvent::RunFinished { at, .. } => *at,
        }
    }
}
