//! The records the store keeps (runs and their gate results, emergencies, rate reviews,
//! canaries), in fixlane-core's types, and the text encodings shared by both databases
//! (timestamps, JSON columns, a gate's final state).
//!
//! Typed fields are checked where they are built, so the store no longer re-checks strings
//! against copied lists; a column read back that is none of them is
//! [`StoreError::Corrupt`]. Every column keeps exactly the text it always held.

use fixlane_core::{GateName, IncidentId, Outcome, Rev, Tier, Verdict};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// How a gate ended, as the store keeps it in `gate_results.state`: one of the four outcomes of
/// a gate that ran, or `skipped` / `not_run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredGateState {
    /// It ran and passed.
    Passed,
    /// It ran and failed.
    Failed,
    /// It ran past its timeout and was stopped.
    TimedOut,
    /// It was stopped (or never started) because the run was cancelled.
    Cancelled,
    /// The plan skipped it (the reason is in `detail`).
    Skipped,
    /// A gate it needs did not pass (that gate is named in `detail`).
    NotRun,
}

impl StoredGateState {
    /// Every state, in the order the column documents them.
    pub const ALL: [Self; 6] = [
        Self::Passed,
        Self::Failed,
        Self::TimedOut,
        Self::Cancelled,
        Self::Skipped,
        Self::NotRun,
    ];

    /// The column text: `passed`, `failed`, `timed_out`, `cancelled`, `skipped` or `not_run`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
            Self::NotRun => "not_run",
        }
    }

    /// The state whose column text is `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// The outcome of a gate that ran; `None` for `skipped` and `not_run`.
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            Self::Passed => Some(Outcome::Passed),
            Self::Failed => Some(Outcome::Failed),
            Self::TimedOut => Some(Outcome::TimedOut),
            Self::Cancelled => Some(Outcome::Cancelled),
            Self::Skipped | Self::NotRun => None,
        }
    }
}

impl From<Outcome> for StoredGateState {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Passed => Self::Passed,
            Outcome::Failed => Self::Failed,
            Outcome::TimedOut => Self::TimedOut,
            Outcome::Cancelled => Self::Cancelled,
        }
    }
}

/// A run about to start, as handed to [`crate::Store::start_run`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// Unique id of the run.
    pub run_id: String,
    /// The commit the run checks.
    pub rev: Rev,
    /// The branch, when known.
    pub branch: Option<String>,
    /// The lane the run goes through.
    pub lane: String,
    /// Whether the lane is an emergency lane.
    pub emergency: bool,
    /// The emergency change the run belongs to, if any.
    pub incident: Option<IncidentId>,
    /// When the run started.
    pub started_at: Timestamp,
    /// The run's plan, as JSON.
    pub plan: serde_json::Value,
    /// Who runs it (host, boot, pid, process start), as JSON: how a later reader tells a run
    /// still going from one whose runner is gone.
    pub runner: Option<serde_json::Value>,
}

/// The final result of one gate in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    /// The gate's name.
    pub gate: GateName,
    /// How much the gate matters.
    pub tier: Tier,
    /// How it ended.
    pub state: StoredGateState,
    /// The skip reason, or the need that failed for `not_run`.
    pub detail: Option<String>,
    /// The process exit code, when the gate ran to an exit.
    pub exit_code: Option<i32>,
    /// How long the gate ran.
    pub duration_ms: Option<i64>,
    /// Where the gate's full output is kept.
    pub log_path: Option<String>,
    /// The last lines of output (stored as JSON text).
    pub tail: Vec<String>,
    /// When the gate reached this state.
    pub finished_at: Timestamp,
}

/// A recorded run with its gate results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Unique id of the run.
    pub run_id: String,
    /// The commit the run checks.
    pub rev: Rev,
    /// The branch, when known.
    pub branch: Option<String>,
    /// The lane the run goes through.
    pub lane: String,
    /// Whether the lane is an emergency lane.
    pub emergency: bool,
    /// The emergency change the run belongs to, if any.
    pub incident: Option<IncidentId>,
    /// When the run started.
    pub started_at: Timestamp,
    /// When the run's verdict was recorded, once it was.
    pub finished_at: Option<Timestamp>,
    /// The verdict, once recorded.
    pub verdict: Option<Verdict>,
    /// Why the verdict is what it is.
    pub reasons: Vec<String>,
    /// The run's plan, as JSON.
    pub plan: serde_json::Value,
    /// Who ran it, as recorded at its start (see [`NewRun::runner`]).
    pub runner: Option<serde_json::Value>,
    /// When a later run found its runner gone and marked it abandoned.
    pub abandoned_at: Option<Timestamp>,
    /// The gate results recorded so far, in the order they finished.
    pub gates: Vec<GateRecord>,
}

/// Every emergency's record at once, as the store keeps them: one JSON array of the documents,
/// in no particular order (sorting the documents inside the database cost more than reading
/// them), for a caller that reads them all (`list`, `stats`), parses the array in one pass
/// instead of each row twice, and sorts what it parsed. `count` is how many rows it was built from, so
/// a document that does not read as one value is noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyDocuments {
    /// How many emergencies the array holds.
    pub count: usize,
    /// `[document, document, …]`, each document its canonical JSON text.
    pub json: String,
}

/// An emergency change record as the store keeps it: the columns it filters and sorts on, and
/// the record itself as a JSON document whose shape belongs to the caller (fixlane-core).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmergencyRow {
    /// The emergency's id (e.g. `INC-2026-05-20-001`); unique, never changes.
    pub id: IncidentId,
    /// When the emergency was declared.
    pub declared_at: Timestamp,
    /// Who declared it.
    pub author: String,
    /// Whether it is a drill rather than a real emergency.
    pub drill: bool,
    /// The record's state as the caller names it (e.g. `declared`, `approved`, `closed`).
    pub state: String,
    /// When the record last changed.
    pub updated_at: Timestamp,
    /// The whole record, stored as canonical JSON text.
    pub document: serde_json::Value,
}

/// One earlier declaration, as shown to the rate decision of
/// [`crate::Store::declare_emergency`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastDeclaration {
    /// The emergency's id.
    pub id: IncidentId,
    /// Who declared it.
    pub author: String,
    /// When it was declared.
    pub declared_at: Timestamp,
    /// Whether it was a drill.
    pub drill: bool,
}

/// A team review of how often the emergency lane is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateReview {
    /// When the review took place.
    pub at: Timestamp,
    /// Who recorded it.
    pub by: String,
    /// What the team concluded.
    pub notes: String,
}

/// A canary about to start, as handed to [`crate::Store::start_canary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCanary {
    /// Unique id of the canary run.
    pub id: String,
    /// The emergency change the canary belongs to, if any.
    pub incident: Option<IncidentId>,
    /// The commit being rolled out; a verification records the branch it checked instead, so
    /// this stays text.
    pub rev: String,
    /// The canary profile it follows.
    pub profile: String,
    /// When the canary started.
    pub started_at: Timestamp,
    /// The canary's plan (steps, checks), as JSON.
    pub plan: serde_json::Value,
}

/// One event of a canary run: a step started, a check sample, a rollback, a promotion, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryEventRecord {
    /// The event's kind as the canary driver names it (e.g. `step_started`, `check`).
    pub kind: String,
    /// When the event happened.
    pub at: Timestamp,
    /// The event's payload, as JSON (stored as canonical text).
    pub data: serde_json::Value,
    /// Whether the event is a state change that also goes to the audit log (as
    /// `canary-<kind>`); plain samples are not audited, so they cannot flood the log.
    pub audited: bool,
}

/// A recorded canary run, with its events when read one at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanaryRecord {
    /// Unique id of the canary run.
    pub id: String,
    /// The emergency change the canary belongs to, if any.
    pub incident: Option<IncidentId>,
    /// The commit being rolled out; a verification records the branch it checked instead, so
    /// this stays text.
    pub rev: String,
    /// The canary profile it follows.
    pub profile: String,
    /// When the canary started.
    pub started_at: Timestamp,
    /// When the canary finished, once it did.
    pub finished_at: Option<Timestamp>,
    /// How it ended (e.g. `promoted`, `rolled_back`), once it did.
    pub outcome: Option<String>,
    /// The canary's plan, as JSON.
    pub plan: serde_json::Value,
    /// The events in order, each with its sequence number (1, 2, … per canary).
    pub events: Vec<(i64, CanaryEventRecord)>,
}

/// Formats a timestamp the one way the store writes them: RFC 3339, UTC, nine fractional digits.
/// Fixed width keeps text order equal to time order, and audit hashes cover this exact string.
pub fn format_time(time: Timestamp) -> String {
    format!("{time:.9}")
}

/// Parses a stored timestamp; `what` names the column for the error (a `format_args!` costs
/// nothing unless there is one).
pub(crate) fn parse_time(
    text: &str,
    what: impl std::fmt::Display,
) -> Result<Timestamp, StoreError> {
    text.parse().map_err(|error| StoreError::Corrupt {
        what: format!("{what} `{text}` is not an RFC 3339 timestamp ({error})"),
    })
}

/// Parses a stored JSON column; `what` names the column for the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: &str,
    what: impl std::fmt::Display,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        what: format!("{what} is not the JSON the store wrote ({error})"),
    })
}

/// Parses a stored column holding a typed value (a tier, a verdict, an id); `what` names the
/// column for the error, and `parse` says why the text is not one.
pub(crate) fn parse_text<T, E: std::fmt::Display>(
    text: &str,
    what: impl std::fmt::Display,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(text).map_err(|error| StoreError::Corrupt {
        what: format!("{what} `{text}` is not what the store wrote ({error})"),
    })
}

/// Encodes a value for a JSON column.
pub(crate) fn to_json<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Invalid {
        what: format!("{what}: it cannot be encoded as JSON ({error})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_fixed_width_and_round_trip() {
        let whole: Timestamp = "2026-11-25T10:00:00Z".parse().unwrap();
        assert_eq!(format_time(whole), "2026-11-25T10:00:00.000000000Z");
        let fine = Timestamp::new(1_800_000_000, 123_456_789).unwrap();
        let text = format_time(fine);
        assert_eq!(text.len(), format_time(whole).len());
        assert_eq!(parse_time(&text, "t").unwrap(), fine);
    }

    #[test]
    fn gate_states_keep_their_column_text() {
        let texts: Vec<&str> = StoredGateState::ALL
            .iter()
            .map(|state| state.as_str())
            .collect();
        assert_eq!(
            texts,
            [
                "passed",
                "failed",
                "timed_out",
                "cancelled",
                "skipped",
                "not_run"
            ]
        );
        for state in StoredGateState::ALL {
            assert_eq!(StoredGateState::parse(state.as_str()), Some(state));
            // Serialized (a run's JSON output) as the column says it.
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
            if let Some(outcome) = state.outcome() {
                assert_eq!(StoredGateState::from(outcome), state);
            }
        }
        assert_eq!(StoredGateState::parse("timed out"), None);
        assert_eq!(StoredGateState::Skipped.outcome(), None);
        assert_eq!(StoredGateState::NotRun.outcome(), None);
    }
}

/// What a change to an emergency's follow-ups writes, as handed back to
/// [`crate::Store::change_followups`].
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUpChange {
    /// The emergency row to write back (its state moved to closed, say), or `None`.
    pub row: Option<EmergencyRow>,
    /// Every follow-up of the emergency after the change, in opening order: the existing ones
    /// (changed or not), then any opened now.
    pub followups: Vec<fixlane_core::followup::FollowUp>,
    /// One audit entry each, in order; none means nothing changed and nothing is written.
    pub actions: Vec<fixlane_core::audit::AuditAction>,
}

/// One drill's result, as the repository's store keeps it (`drills`).
#[derive(Debug, Clone, PartialEq)]
pub struct DrillRecord {
    pub id: String,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// Who ran it.
    pub actor: String,
    /// Whether it rehearsed a regression that the canary must roll back.
    pub regression: bool,
    /// Whether every step behaved as the lifecycle promises.
    pub passed: bool,
    /// The steps as they went (plain data, kept as canonical JSON).
    pub summary: serde_json::Value,
}

/// A webhook delivery one drainer holds until its lease ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryClaim {
    /// The audit entry it announces.
    pub seq: i64,
    /// Attempts before this one.
    pub attempts: u32,
}

/// How a claimed delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver took it (a 2xx answer).
    Delivered { at: Timestamp },
    /// The hook does not hear this event: nothing was sent, and nothing will be.
    Skipped { at: Timestamp },
    /// It failed; try again from `at`.
    Retry { at: Timestamp, error: String },
    /// It failed too often; nobody will try again.
    GaveUp { at: Timestamp, error: String },
}

/// One hook's deliveries, for `fixlane notify status`, the dashboard and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookStatus {
    /// The hook's key (`env:NAME` or `url:<hash>`), never its URL.
    pub hook: String,
    pub delivered: u64,
    pub pending: u64,
    /// Given up after the last attempt.
    pub failed: u64,
    /// Pending after at least one failed attempt.
    pub retrying: u64,
    pub last_error: Option<String>,
}

/// A token to record, as handed to [`crate::Store::issue_token`]: its id, whose it is, the
/// SHA-256 of its text (never the text) and when it was issued and expires.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToken {
    pub id: fixlane_core::token::TokenId,
    pub person: fixlane_core::PersonName,
    /// The SHA-256 of the token's whole text, as 64 hex digits.
    pub sha256: String,
    pub issued_at: Timestamp,
    /// `None`: the token lives until it is revoked.
    pub expires_at: Option<Timestamp>,
}

/// A recorded token as `token list` shows it: never its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRecord {
    pub id: fixlane_core::token::TokenId,
    pub person: fixlane_core::PersonName,
    pub issued_at: Timestamp,
    /// Who issued it (the operator's identity, as the audit entry names them).
    pub issued_by: String,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
}

/// Which tokens [`crate::Store::revoke_tokens`] revokes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSelector {
    /// The one token with this id.
    Id(fixlane_core::token::TokenId),
    /// Every token of this person.
    Person(fixlane_core::PersonName),
}

/// A dashboard session to record, as handed to [`crate::Store::start_session`]: the SHA-256 of
/// its secret (never the secret), the token it was opened with and whose it is.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    /// The SHA-256 of the session's secret, as 64 hex digits.
    pub sha256: String,
    pub token: fixlane_core::token::TokenId,
    pub person: fixlane_core::PersonName,
    pub started_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A recorded dashboard session, with the state of the token it was opened with.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Its public id (the first 12 digits of its hash).
    pub id: String,
    pub token: fixlane_core::token::TokenId,
    pub person: fixlane_core::PersonName,
    pub started_at: Timestamp,
    pub expires_at: Timestamp,
    /// When it was logged out, if it was.
    pub ended_at: Option<Timestamp>,
    pub token_expires_at: Option<Timestamp>,
    pub token_revoked_at: Option<Timestamp>,
}
