//! `RunEvent`: the one seam between doing a run and reporting it.
//!
//! The runner emits these; the terminal view, `--json`, `JUnit`, the store and the dashboard
//! consume them. Serialized, each is one JSON line with an `event` tag and an RFC 3339 time.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::affected::Affected;
use crate::config::model::Tier;
use crate::names::{GateName, IncidentId, LaneName};
use crate::plan::{Decision, SkipReason};
use crate::verdict::Verdict;

/// How the commit a run compares with was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum BaseChoice {
    /// Named with `--base`.
    Given { spec: String },
    /// The merge-base with the default branch, found as `with` (`origin/HEAD`, `main`, …).
    MergeBase { with: String },
    /// The commit's parent: it is on the default branch, or there is no default branch.
    Parent,
    /// None exists (a root commit, a shallow clone): what changed is unknown.
    #[default]
    None,
}

impl std::fmt::Display for BaseChoice {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaseChoice::Given { spec } => write!(formatter, "given with --base {spec}"),
            BaseChoice::MergeBase { with } => write!(formatter, "the merge-base with {with}"),
            BaseChoice::Parent => formatter
                .write_str("its parent, as the commit is on the default branch or there is none"),
            BaseChoice::None => formatter.write_str("none (a root commit or a shallow clone)"),
        }
    }
}

/// What a run selected before its first gate: the base, how many files changed, and the
/// packages those changes affect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Selection {
    /// The full commit id compared with, when there is one.
    pub base: Option<String>,
    pub base_choice: BaseChoice,
    /// How many files differ from the base; `None` when that is unknown.
    pub changed_files: Option<usize>,
    /// A full run: every gate of the lane runs whatever changed.
    #[serde(default)]
    pub full: bool,
    /// `FIXLANE_DIRECTLY_CHANGED_PACKAGES` is `packages.direct`; `FIXLANE_CHANGED_PACKAGES`
    /// adds `packages.dependents`.
    pub packages: Affected,
}

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
        /// Absent from runs recorded before it was reported. Boxed: it is much larger than
        /// the other events, which are many.
        #[serde(default)]
        selection: Box<Selection>,
    },
    GateQueued {
        at: Timestamp,
        gate: GateName,
        tier: Tier,
        command: String,
        /// `selected` or `shortened`, and why (see `fixlane run --explain`).
        #[serde(default)]
        decision: Decision,
        #[serde(default)]
        explanation: String,
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
        /// `skipped`, `owed` or `refused`, and why (the reason's own `why` is a refusal's rule).
        #[serde(default)]
        decision: Decision,
        #[serde(default)]
        explanation: String,
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
