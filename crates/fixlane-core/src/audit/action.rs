//! Every action fixlane writes to the audit log, with its typed details.
//!
//! The store appends an [`AuditAction`]; its [`name`](AuditAction::name) becomes the entry's
//! `action` and its [`details`](AuditAction::details) the entry's `details`. Nothing else spells an
//! action name, so a new kind of write is a new variant here, listed by the test that pins every
//! variant's JSON. The JSON is exactly what earlier versions wrote (logs written before this type
//! existed still verify and read the same): times the store stamps keep its nine-digit form, and
//! times the caller chose keep jiff's own.

use std::borrow::Cow;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::config::model::BypassElement;
use crate::emergency::{Approval, Bypass, Emergency, EmergencyState};
use crate::followup::{Evidence, FollowUpKind};
use crate::names::{IncidentId, LaneName, PersonName};
use crate::policy_change::Weakening;
use crate::token::TokenId;

/// The action name of the entry that records which config a run read.
pub const CONFIG_SEEN: &str = "config-seen";

/// A time as the store writes it: RFC 3339 in UTC with nine fractional digits, so stamps of one
/// second sort as text.
pub fn stored_time(time: Timestamp) -> String {
    format!("{time:.9}")
}

fn nanos<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&stored_time(*time))
}

/// One audited write.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditAction {
    ConfigSeen(ConfigSeen),
    Declare(Declared),
    Approve(Approved),
    Bypass(Bypassed),
    ReviewRate(RateReviewed),
    RunStarted(RunStarted),
    GatesRecorded(GatesRecorded),
    RunVerdict(RunVerdict),
    RunAbandoned(RunAbandoned),
    PolicyWeakened(PolicyWeakened),
    /// A run reported to the team server read a policy (people, roles, categories, emergency
    /// settings) other than the one the server enforces.
    PolicyMismatch(PolicyMismatch),
    DeployWindowBypassed(DeployWindowBypassed),
    ConfirmWhileRunning(ConfirmWhileRunning),
    FixReady(FixReady),
    CanaryStarted(CanaryStarted),
    /// A canary or verification step that changes what is deployed or decided.
    CanaryStep(CanaryStep),
    CanaryFinished(CanaryFinished),
    /// A canary or verification moved the emergency to another state.
    EmergencyMoved(EmergencyMoved),
    /// A canary reached a state the emergency was already in (written so the step is still
    /// on record).
    EmergencyUnchanged(EmergencyUnchanged),
    /// A follow-up opened, with its owner and deadline.
    FollowUpOpened(FollowUpOpened),
    /// A follow-up closed, by whom, with what evidence.
    FollowUpClosed(FollowUpClosed),
    /// The last follow-up closed: the emergency is closed.
    EmergencyClosed(EmergencyClosed),
    /// A follow-up passed its deadline while open (noted once, so the team hears once).
    FollowUpOverdue(FollowUpOverdue),
    /// This store was made as a drill's sandbox: every emergency declared in it is a drill.
    DrillSandbox(DrillSandbox),
    /// A drill ran in a sandbox of its own; its result, kept in the repository's store.
    DrillRecorded(DrillRecorded),
    /// A token issued to a person (never its secret or hash).
    TokenIssued(TokenIssued),
    /// A token revoked.
    TokenRevoked(TokenRevoked),
    /// A person logged in to the dashboard with a token.
    SessionStarted(SessionStarted),
    /// A person logged out of the dashboard.
    SessionEnded(SessionEnded),
    /// Another action, taken through the team server with a token: the entry is the action's
    /// own, under its own name, with the token's id added to its details.
    WithToken(WithToken),
}

impl AuditAction {
    /// The entry's `action`, as stored.
    pub fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            AuditAction::ConfigSeen(_) => CONFIG_SEEN,
            AuditAction::Declare(_) => "declare",
            AuditAction::Approve(_) => "approve",
            AuditAction::Bypass(_) => "bypass",
            AuditAction::ReviewRate(_) => "review-rate",
            AuditAction::RunStarted(_) => "run-started",
            AuditAction::GatesRecorded(_) => "gates-recorded",
            AuditAction::RunVerdict(_) => "run-verdict",
            AuditAction::RunAbandoned(_) => "run-abandoned",
            AuditAction::PolicyWeakened(_) => "policy-weakened",
            AuditAction::PolicyMismatch(_) => "policy-mismatch",
            AuditAction::DeployWindowBypassed(_) => "deploy-window-bypassed",
            AuditAction::ConfirmWhileRunning(_) => "confirm-while-running",
            AuditAction::FixReady(_) => "fix-ready",
            AuditAction::CanaryStarted(_) => "canary-started",
            AuditAction::CanaryStep(step) => {
                return Cow::Owned(format!("canary-{}", step.kind.replace('_', "-")));
            }
            AuditAction::CanaryFinished(_) => "canary-finished",
            AuditAction::FollowUpOpened(_) => "followup-opened",
            AuditAction::FollowUpClosed(_) => "followup-closed",
            AuditAction::FollowUpOverdue(_) => "followup-overdue",
            AuditAction::EmergencyClosed(_) => "closed",
            AuditAction::DrillSandbox(_) => "drill-sandbox",
            AuditAction::DrillRecorded(_) => "drill-recorded",
            AuditAction::TokenIssued(_) => "token-issued",
            AuditAction::TokenRevoked(_) => "token-revoked",
            AuditAction::SessionStarted(_) => "session-started",
            AuditAction::SessionEnded(_) => "session-ended",
            AuditAction::WithToken(with) => return with.action.name(),
            AuditAction::EmergencyMoved(EmergencyMoved { state, .. })
            | AuditAction::EmergencyUnchanged(EmergencyUnchanged { state, .. }) => {
                moved_name(*state)
            }
        })
    }

    /// The entry's `details`, as stored.
    pub fn details(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            AuditAction::ConfigSeen(details) => serde_json::to_value(details),
            AuditAction::Declare(details) => serde_json::to_value(details),
            AuditAction::Approve(details) => serde_json::to_value(details),
            AuditAction::Bypass(details) => serde_json::to_value(details),
            AuditAction::ReviewRate(details) => serde_json::to_value(details),
            AuditAction::RunStarted(details) => serde_json::to_value(details),
            AuditAction::GatesRecorded(details) => serde_json::to_value(details),
            AuditAction::RunVerdict(details) => serde_json::to_value(details),
            AuditAction::RunAbandoned(details) => serde_json::to_value(details),
            AuditAction::PolicyWeakened(details) => serde_json::to_value(details),
            AuditAction::PolicyMismatch(details) => serde_json::to_value(details),
            AuditAction::DeployWindowBypassed(details) => serde_json::to_value(details),
            AuditAction::ConfirmWhileRunning(details) => serde_json::to_value(details),
            AuditAction::FixReady(details) => serde_json::to_value(details),
            AuditAction::CanaryStarted(details) => serde_json::to_value(details),
            AuditAction::CanaryStep(details) => serde_json::to_value(details),
            AuditAction::CanaryFinished(details) => serde_json::to_value(details),
            AuditAction::EmergencyMoved(details) => serde_json::to_value(details),
            AuditAction::EmergencyUnchanged(details) => serde_json::to_value(details),
            AuditAction::FollowUpOpened(details) => serde_json::to_value(details),
            AuditAction::FollowUpClosed(details) => serde_json::to_value(details),
            AuditAction::EmergencyClosed(details) => serde_json::to_value(details),
            AuditAction::FollowUpOverdue(details) => serde_json::to_value(details),
            AuditAction::DrillSandbox(details) => serde_json::to_value(details),
            AuditAction::DrillRecorded(details) => serde_json::to_value(details),
            AuditAction::TokenIssued(details) => serde_json::to_value(details),
            AuditAction::TokenRevoked(details) => serde_json::to_value(details),
            AuditAction::SessionStarted(details) => serde_json::to_value(details),
            AuditAction::SessionEnded(details) => serde_json::to_value(details),
            AuditAction::WithToken(with) => with.details(),
        }
    }
}

fn moved_name(state: EmergencyState) -> &'static str {
    match state {
        EmergencyState::Deploying => "deploying",
        EmergencyState::Promoted => "promoted",
        EmergencyState::RolledBack => "rolled-back",
        EmergencyState::Verified => "verified",
        _ => "canary",
    }
}

/// The config a run read, when it differs from the last one seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigSeen {
    pub file: String,
    pub sha256: String,
    pub previous_sha256: Option<String>,
}

/// A declared emergency: what it is, who cleans up, and the branch it lives on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Declared {
    pub id: IncidentId,
    pub severity: String,
    pub category: String,
    pub title: String,
    pub cleanup_owner: PersonName,
    pub eta: Option<String>,
    pub flag_flip: String,
    pub rollback: String,
    pub branch: String,
    pub warnings: Vec<String>,
}

impl Declared {
    pub fn of(emergency: &Emergency, warnings: &[String]) -> Self {
        Self {
            id: emergency.id.clone(),
            severity: emergency.severity.clone(),
            category: emergency.category.clone(),
            title: emergency.title.clone(),
            cleanup_owner: emergency.cleanup_owner.clone(),
            eta: emergency.eta.clone(),
            flag_flip: emergency.flag_flip.clone(),
            rollback: emergency.rollback.clone(),
            branch: emergency.branch.clone(),
            warnings: warnings.to_vec(),
        }
    }
}

/// One approval and the state it left the emergency in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approved {
    pub approval: ApprovalGiven,
    pub state: EmergencyState,
}

/// Who approved, in which role, for which approver group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalGiven {
    pub id: IncidentId,
    pub person: PersonName,
    pub role: String,
    pub group: usize,
}

impl Approved {
    pub fn of(id: &IncidentId, approval: &Approval, state: EmergencyState) -> Self {
        Self {
            approval: ApprovalGiven {
                id: id.clone(),
                person: approval.person.clone(),
                role: approval.role.clone(),
                group: approval.group,
            },
            state,
        }
    }
}

/// One discipline element bypassed, why, and what compensates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bypassed {
    pub id: IncidentId,
    pub element: BypassElement,
    pub reason: String,
    pub compensation: String,
    pub by: PersonName,
}

impl Bypassed {
    pub fn of(id: &IncidentId, bypass: &Bypass) -> Self {
        Self {
            id: id.clone(),
            element: bypass.element,
            reason: bypass.reason.clone(),
            compensation: bypass.compensation.clone(),
            by: bypass.by.clone(),
        }
    }
}

/// The team's review of the emergency rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateReviewed {
    #[serde(serialize_with = "nanos")]
    pub at: Timestamp,
    pub notes: String,
}

/// A run that started: what it checks and, when known, which process runs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStarted {
    pub run_id: String,
    pub rev: String,
    pub branch: Option<String>,
    pub lane: String,
    pub emergency: bool,
    pub incident: Option<String>,
    #[serde(serialize_with = "nanos")]
    pub started_at: Timestamp,
    /// Only runs that know their runner say so: older entries keep their shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner: Option<serde_json::Value>,
}

/// Gate results written together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatesRecorded {
    pub run_id: String,
    pub gates: Vec<GateListed>,
}

/// One gate of [`GatesRecorded`]: its stored state and exit code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateListed {
    pub gate: String,
    pub state: String,
    pub exit_code: Option<i32>,
}

/// A run's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunVerdict {
    pub run_id: String,
    pub rev: String,
    pub lane: String,
    pub verdict: String,
    pub reasons: Vec<String>,
    #[serde(serialize_with = "nanos")]
    pub finished_at: Timestamp,
}

/// A run whose runner is gone, recorded as blocked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunAbandoned {
    pub run_id: String,
    pub rev: String,
    pub lane: String,
    /// Always `blocked`: an abandoned run proves nothing.
    pub verdict: String,
    pub why: String,
    #[serde(serialize_with = "nanos")]
    pub abandoned_at: Timestamp,
}

/// A normal-lane run whose policy is weaker than the base's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyWeakened {
    pub run_id: String,
    pub rev: String,
    pub lane: String,
    /// The plan's base, as the plan records it.
    pub base: Option<serde_json::Value>,
    pub file: String,
    pub changes: Vec<Weakening>,
}

/// A run whose policy differs from the server's: the SHA-256 of each, as
/// [`crate::config::policy_sha256`] computes them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyMismatch {
    pub run_id: String,
    pub rev: String,
    pub lane: String,
    /// The config file the run read, as it names it.
    pub file: String,
    /// The policy the run reported.
    pub run_sha256: String,
    /// The policy the server enforces.
    pub server_sha256: String,
}

/// Deploy gates run outside the normal windows under recorded bypasses.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DeployWindowBypassed {
    pub incident: Option<IncidentId>,
    pub rev: String,
    pub lane: LaneName,
    pub at: Timestamp,
    pub bypassed: Vec<BypassElement>,
    pub why: String,
}

/// A person confirmed merging while the lane's verdict was still `waiting`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfirmWhileRunning {
    pub rev: String,
    pub run_id: String,
    pub lane: String,
    pub reasons: Vec<String>,
}

/// An emergency-lane run reached `ready`; the gates it skipped are owed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixReady {
    pub id: IncidentId,
    pub rev: String,
    pub run_id: String,
    pub state: EmergencyState,
    pub owed: Vec<String>,
}

/// A canary or verification that started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanaryStarted {
    pub id: String,
    pub incident: Option<String>,
    pub rev: String,
    pub profile: String,
    #[serde(serialize_with = "nanos")]
    pub started_at: Timestamp,
}

/// An audited canary event with its place in the canary's sequence; its action is
/// `canary-<event>`, the event's tag with `_` turned into `-`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanaryStep {
    /// The event's tag (`step_started`, `rolled_back`, …), which names the action.
    #[serde(skip)]
    pub kind: String,
    pub canary: String,
    pub incident: Option<String>,
    pub seq: i64,
    /// The event as the canary reported it.
    pub data: serde_json::Value,
}

/// How a canary or verification ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanaryFinished {
    pub canary: String,
    pub incident: Option<String>,
    pub outcome: String,
    #[serde(serialize_with = "nanos")]
    pub finished_at: Timestamp,
}

/// The emergency's new state and the canary that moved it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergencyMoved {
    pub id: IncidentId,
    pub state: EmergencyState,
    pub canary: String,
    pub note: Option<String>,
}

/// The state the emergency already had.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergencyUnchanged {
    pub state: EmergencyState,
    /// Always `true`.
    pub unchanged: bool,
}

/// A follow-up that opened: which, whose, due when, and why now (`promoted`, `merged`, a failed
/// backfill).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUpOpened {
    pub id: IncidentId,
    pub kind: FollowUpKind,
    pub owner: PersonName,
    #[serde(serialize_with = "nanos")]
    pub due_at: Timestamp,
    pub because: String,
}

/// A follow-up that closed, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUpClosed {
    pub id: IncidentId,
    pub kind: FollowUpKind,
    pub by: PersonName,
    pub evidence: Evidence,
    /// Whether it closed after its deadline.
    pub late: bool,
}

/// A follow-up still open after its deadline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUpOverdue {
    pub id: IncidentId,
    /// Its number within the emergency, in opening order.
    pub seq: i64,
    pub kind: FollowUpKind,
    pub owner: PersonName,
    #[serde(serialize_with = "nanos")]
    pub due_at: Timestamp,
}

/// The emergency closed with its last follow-up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmergencyClosed {
    pub id: IncidentId,
    pub state: EmergencyState,
}

/// A token issued: whose, and until when (`None`: until revoked).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenIssued {
    pub token: TokenId,
    pub person: PersonName,
    pub expires_at: Option<Timestamp>,
}

/// A token revoked, and whose it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRevoked {
    pub token: TokenId,
    pub person: PersonName,
}

/// A dashboard session opened with a token: its public id (never its secret), whose, until when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionStarted {
    pub session: String,
    pub token: TokenId,
    pub person: PersonName,
    pub expires_at: Timestamp,
}

/// A dashboard session ended by logging out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionEnded {
    pub session: String,
    pub person: PersonName,
}

/// An action taken with a token. It keeps the action's name, so every reader of `approve` or
/// `declare` entries reads it as before, and adds `"token": id` to its details.
#[derive(Debug, Clone, PartialEq)]
pub struct WithToken {
    pub token: TokenId,
    pub action: Box<AuditAction>,
}

impl WithToken {
    /// `action`, as taken with `token`.
    pub fn of(token: &TokenId, action: AuditAction) -> AuditAction {
        AuditAction::WithToken(Self {
            token: token.clone(),
            action: Box::new(action),
        })
    }

    /// The action's details with the token's id; details that are not an object (none are) are
    /// kept whole under `details`.
    fn details(&self) -> Result<serde_json::Value, serde_json::Error> {
        let token = serde_json::Value::String(self.token.to_string());
        Ok(match self.action.details()? {
            serde_json::Value::Object(mut object) => {
                object.insert("token".to_owned(), token);
                serde_json::Value::Object(object)
            }
            other => serde_json::json!({ "details": other, "token": token }),
        })
    }
}

#[cfg(test)]
#[path = "action_tests.rs"]
mod tests;

/// A store made as a drill's sandbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrillSandbox {
    #[serde(serialize_with = "nanos")]
    pub at: Timestamp,
}

/// A drill's result: whether every step behaved as the lifecycle promises.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrillRecorded {
    pub drill_id: String,
    /// Whether the drill rehearsed a regression caught by the canary.
    pub regression: bool,
    pub passed: bool,
    /// How many steps ran, and the first that did not behave as scripted.
    pub steps: usize,
    pub failed_step: Option<String>,
}
