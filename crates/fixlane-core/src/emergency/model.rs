//! The emergency change record as the store keeps it (one JSON document per incident): what was
//! declared, who approved, what was bypassed and why, which gates are owed, and the timeline.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::model::{BypassElement, Tier};
use crate::emergency::refusal::Refusal;
use crate::names::{GateName, IncidentId, LaneName, PersonName};
use crate::verdict::EmergencyStanding;

/// Where an emergency stands. The order of the variants is the order of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmergencyState {
    Declared,
    Approved,
    /// The emergency lane's verdict is `ready` on the fix commit.
    FixReady,
    /// The canary is running.
    Deploying,
    Promoted,
    RolledBack,
    /// The symptom metric recovered.
    Verified,
    /// Every follow-up is closed.
    Closed,
}

impl EmergencyState {
    pub const ALL: [EmergencyState; 8] = [
        EmergencyState::Declared,
        EmergencyState::Approved,
        EmergencyState::FixReady,
        EmergencyState::Deploying,
        EmergencyState::Promoted,
        EmergencyState::RolledBack,
        EmergencyState::Verified,
        EmergencyState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EmergencyState::Declared => "declared",
            EmergencyState::Approved => "approved",
            EmergencyState::FixReady => "fix_ready",
            EmergencyState::Deploying => "deploying",
            EmergencyState::Promoted => "promoted",
            EmergencyState::RolledBack => "rolled_back",
            EmergencyState::Verified => "verified",
            EmergencyState::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    /// Position in the lifecycle; promoted and rolled back are the two outcomes of one step.
    fn rank(self) -> u8 {
        match self {
            EmergencyState::Declared => 0,
            EmergencyState::Approved => 1,
            EmergencyState::FixReady => 2,
            EmergencyState::Deploying => 3,
            EmergencyState::Promoted | EmergencyState::RolledBack => 4,
            EmergencyState::Verified => 5,
            EmergencyState::Closed => 6,
        }
    }

    /// Whether the approvals were complete at some point: every state from `approved` on.
    pub fn is_approved(self) -> bool {
        self.rank() >= EmergencyState::Approved.rank()
    }

    /// Whether the record may move from `self` to `next`.
    ///
    /// Forward moves may skip states (a fix deployed without a canary goes from fix ready to
    /// promoted). The only backward move is to `rolled_back`, from `deploying`, `promoted` or
    /// `verified`: seed 001 rolls a hotfix back when the symptom does not recover, even after
    /// promotion. A rolled-back change is not redeployed (a new incident is declared instead), so
    /// from `rolled_back` only `verified` and `closed` follow. Nothing follows `closed`.
    pub fn may_move_to(self, next: EmergencyState) -> bool {
        match (self, next) {
            (EmergencyState::Closed, _) => false,
            (
                EmergencyState::Deploying | EmergencyState::Promoted | EmergencyState::Verified,
                EmergencyState::RolledBack,
            ) => true,
            (EmergencyState::RolledBack, next) => {
                matches!(next, EmergencyState::Verified | EmergencyState::Closed)
            }
            (current, next) => next.rank() > current.rank(),
        }
    }
}

impl std::fmt::Display for EmergencyState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One emergency change, as declared and as it evolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Emergency {
    pub id: IncidentId,
    pub severity: String,
    pub category: String,
    /// Verbatim, whatever it contains: it reaches commands only through the environment.
    pub title: String,
    pub author: PersonName,
    pub cleanup_owner: PersonName,
    /// The expected merge time, as typed (`HH:MM`).
    pub eta: Option<String>,
    /// Why a feature-flag flip does not mitigate (seed 001's first pre-flight question).
    pub flag_flip: String,
    /// Why a rollback does not mitigate (seed 001's second pre-flight question).
    pub rollback: String,
    /// `hotfix/<ID>-<slug>`.
    pub branch: String,
    /// A game-day exercise: never counted by the rate limits.
    pub drill: bool,
    pub declared_at: Timestamp,
    pub state: EmergencyState,
    pub approvals: Vec<Approval>,
    pub bypasses: Vec<Bypass>,
    /// Warnings given at declaration (the author limit), kept for the postmortem.
    pub warnings: Vec<String>,
    /// Gates the emergency lane skipped, to be backfilled.
    pub owed_gates: Vec<OwedGate>,
    pub timeline: Vec<Transition>,
}

/// One approval by one person, counted for one approver group of the category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub person: PersonName,
    /// The role the person approved as.
    pub role: String,
    /// Index into the category's `approvers`.
    pub group: usize,
    pub at: Timestamp,
}

/// One bypassed discipline element, with its justification and what compensates for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bypass {
    pub element: BypassElement,
    pub reason: String,
    pub compensation: String,
    pub by: PersonName,
    pub at: Timestamp,
}

/// A gate the emergency lane skipped on a run, owed as a backfill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwedGate {
    pub gate: GateName,
    pub tier: Tier,
    pub lane: LaneName,
    pub rev: String,
    pub run_id: String,
    pub recorded_at: Timestamp,
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub state: EmergencyState,
    pub at: Timestamp,
    /// Who moved it: a person's name, or `fixlane` for automatic moves.
    pub by: String,
    pub note: Option<String>,
}

impl Emergency {
    /// What a run of the emergency lane needs to know about this record.
    pub fn standing(&self) -> EmergencyStanding {
        EmergencyStanding {
            incident: self.id.clone(),
            approved: self.state.is_approved(),
            eval_bypassed: self.is_bypassed(BypassElement::Eval),
        }
    }

    pub fn is_bypassed(&self, element: BypassElement) -> bool {
        self.bypasses.iter().any(|bypass| bypass.element == element)
    }

    /// The elements bypassed so far, in the order they were recorded.
    pub fn bypassed_elements(&self) -> Vec<BypassElement> {
        self.bypasses.iter().map(|bypass| bypass.element).collect()
    }

    /// Moves to `state` and appends the move to the timeline; see
    /// [`EmergencyState::may_move_to`] for which moves are allowed.
    pub fn transition(
        &mut self,
        state: EmergencyState,
        at: Timestamp,
        by: &str,
        note: Option<String>,
    ) -> Result<(), Refusal> {
        if !self.state.may_move_to(state) {
            return Err(Refusal::new(
                "emergency.states",
                format!("moving {} from {} to {state}", self.id, self.state),
                "an emergency moves forward through declared → approved → fix_ready → deploying → \
                 promoted or rolled_back → verified → closed; the only way back is to rolled_back, \
                 and nothing follows closed",
                format!(
                    "check where it stands with `fixlane show {}`; a fix that needs another \
                     attempt after a rollback is a new incident: declare one",
                    self.id
                ),
            ));
        }
        self.state = state;
        self.timeline.push(Transition {
            state,
            at,
            by: by.to_owned(),
            note,
        });
        Ok(())
    }
}
