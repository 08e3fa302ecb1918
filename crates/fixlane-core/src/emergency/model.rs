//! The emergency change record as the store keeps it (one JSON document per incident): what was
//! declared, who approved, what was bypassed and why, which gates are owed, and the timeline.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::model::{BypassElement, Tier};
use crate::emergency::instead::Instead;
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
    /// promoted). `rolled_back` is reached only from `deploying`, `promoted` or `verified` (the
    /// only backward move): seed 001 rolls a hotfix back when the symptom does not recover, even
    /// after promotion. A rolled-back change is not redeployed (a new incident is declared instead), so
    /// from `rolled_back` only `verified` and `closed` follow. Nothing follows `closed`.
    pub fn may_move_to(self, next: EmergencyState) -> bool {
        match (self, next) {
            (
                EmergencyState::Deploying | EmergencyState::Promoted | EmergencyState::Verified,
                EmergencyState::RolledBack,
            ) => true,
            // Before deploying there is nothing to roll back; after closing nothing moves.
            (_, EmergencyState::RolledBack) | (EmergencyState::Closed, _) => false,
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
                Instead::CheckState {
                    id: self.id.clone(),
                },
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

impl Emergency {
    /// After a run of its lane reached `ready` on `rev`: moves to fix ready the first time, and
    /// lists every gate the lane skipped as owed — once per gate for the whole emergency, held
    /// against the latest fix commit (a second hotfix commit moves the debt, it does not double
    /// it). Returns the gates newly owed.
    pub fn record_ready_run(
        &mut self,
        plan: &crate::plan::Plan,
        rev: &str,
        run_id: &str,
        at: Timestamp,
        by: &str,
    ) -> Result<Vec<OwedGate>, Refusal> {
        use crate::plan::{GateAction, SkipReason};
        let mut owed = Vec::new();
        for gate in &plan.gates {
            let GateAction::Skip(SkipReason::SkippedByLane { lane }) = &gate.action else {
                continue;
            };
            if let Some(known) = self
                .owed_gates
                .iter_mut()
                .find(|known| known.gate == gate.name)
            {
                if known.rev != rev {
                    rev.clone_into(&mut known.rev);
                    run_id.clone_into(&mut known.run_id);
                    known.recorded_at = at;
                }
            } else {
                owed.push(OwedGate {
                    gate: gate.name.clone(),
                    tier: gate.tier,
                    lane: lane.clone(),
                    rev: rev.to_owned(),
                    run_id: run_id.to_owned(),
                    recorded_at: at,
                });
            }
        }
        if self.state == EmergencyState::Approved {
            self.transition(
                EmergencyState::FixReady,
                at,
                by,
                Some(format!(
                    "lane {} ready on {}",
                    plan.lane,
                    crate::rev::short(rev)
                )),
            )?;
        }
        self.owed_gates.extend(owed.iter().cloned());
        Ok(owed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emergency::test_support::{at, person, sample};

    #[test]
    fn a_ready_run_moves_to_fix_ready_once_and_owes_each_skipped_gate_once() {
        use crate::config::model::GateKind;
        use crate::plan::{GateAction, Plan, PlannedGate, SkipReason};
        let hotfix = LaneName::parse("hotfix").unwrap();
        let gate = |name: &str, tier, action| PlannedGate {
            name: GateName::parse(name).unwrap(),
            tier,
            kind: GateKind::Check,
            needs: vec![],
            timeout: None,
            env: vec![],
            action,
            explanation: crate::plan::Explanation::default(),
        };
        let plan = Plan {
            lane: hotfix.clone(),
            emergency: true,
            gates: vec![
                gate(
                    "build",
                    Tier::Critical,
                    GateAction::Run {
                        command: "make".into(),
                    },
                ),
                gate(
                    "lint",
                    Tier::Required,
                    GateAction::Skip(SkipReason::SkippedByLane {
                        lane: hotfix.clone(),
                    }),
                ),
                gate(
                    "unit",
                    Tier::Required,
                    GateAction::Skip(SkipReason::NoChangedInputs { lane: hotfix }),
                ),
            ],
            refusals: vec![],
            missing_emergency: None,
            backfill_within: None,
        };
        let mut emergency = sample();
        emergency.state = EmergencyState::Approved;
        let owed = emergency
            .record_ready_run(&plan, "abc", "run-1", at("2026-05-20T10:20:00Z"), "bob")
            .unwrap();
        assert_eq!(
            owed.len(),
            1,
            "only gates the lane skipped are owed, not unchanged inputs"
        );
        assert_eq!(owed[0].gate.as_str(), "lint");
        assert_eq!(emergency.state, EmergencyState::FixReady);
        let again = emergency
            .record_ready_run(&plan, "abc", "run-2", at("2026-05-20T10:30:00Z"), "bob")
            .unwrap();
        assert!(again.is_empty());
        assert_eq!(emergency.owed_gates.len(), 1);
        // A second fix commit moves the debt to it; it is still owed once.
        let later = emergency
            .record_ready_run(&plan, "def", "run-3", at("2026-05-20T10:40:00Z"), "bob")
            .unwrap();
        assert!(later.is_empty());
        assert_eq!(emergency.owed_gates.len(), 1);
        assert_eq!(emergency.owed_gates[0].rev, "def");
        assert_eq!(emergency.owed_gates[0].run_id, "run-3");
        assert_eq!(
            emergency
                .timeline
                .iter()
                .filter(|step| step.state == EmergencyState::FixReady)
                .count(),
            1
        );
    }

    #[test]
    fn states_have_snake_case_names_both_ways() {
        for state in EmergencyState::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(EmergencyState::parse(state.as_str()), Some(state));
        }
        assert_eq!(EmergencyState::FixReady.as_str(), "fix_ready");
        assert_eq!(EmergencyState::RolledBack.as_str(), "rolled_back");
    }

    #[test]
    fn the_record_round_trips_through_json_verbatim() {
        let mut emergency = sample();
        emergency.bypasses.push(Bypass {
            element: BypassElement::Eval,
            reason: "; DROP TABLE emergencies; -- $(id)".to_owned(),
            compensation: "`make test` on the cleanup".to_owned(),
            by: person("dave"),
            at: at("2026-05-20T10:05:00Z"),
        });
        emergency.owed_gates.push(OwedGate {
            gate: GateName::parse("integration").unwrap(),
            tier: Tier::Required,
            lane: LaneName::parse("hotfix").unwrap(),
            rev: "abc123".to_owned(),
            run_id: "run-1".to_owned(),
            recorded_at: at("2026-05-20T10:20:00Z"),
        });
        let json = serde_json::to_string(&emergency).unwrap();
        assert!(json.contains("\"state\":\"declared\""));
        assert!(json.contains("\"element\":\"eval\""));
        let back: Emergency = serde_json::from_str(&json).unwrap();
        assert_eq!(back, emergency);
        assert_eq!(back.title, sample().title);
    }

    #[test]
    fn standing_follows_the_state_and_the_eval_bypass() {
        let mut emergency = sample();
        let standing = emergency.standing();
        assert!(!standing.approved && !standing.eval_bypassed);
        assert_eq!(standing.incident.as_str(), "INC-2026-05-20-001");
        for state in [EmergencyState::Approved, EmergencyState::RolledBack] {
            emergency.state = state;
            assert!(emergency.standing().approved, "{state}");
        }
        emergency.bypasses.push(Bypass {
            element: BypassElement::Canary,
            reason: "r".to_owned(),
            compensation: "c".to_owned(),
            by: person("dave"),
            at: at("2026-05-20T10:05:00Z"),
        });
        assert!(!emergency.standing().eval_bypassed);
        emergency.bypasses[0].element = BypassElement::Eval;
        assert!(emergency.standing().eval_bypassed);
    }

    #[test]
    fn transitions_move_forward_and_are_timestamped() {
        let mut emergency = sample();
        let then = at("2026-05-20T10:10:00Z");
        emergency
            .transition(EmergencyState::Approved, then, "dave", None)
            .unwrap();
        emergency
            .transition(
                EmergencyState::Deploying,
                then,
                "fixlane",
                Some("canary".into()),
            )
            .unwrap();
        assert_eq!(emergency.state, EmergencyState::Deploying);
        let states: Vec<_> = emergency.timeline.iter().map(|entry| entry.state).collect();
        assert_eq!(
            states,
            [
                EmergencyState::Declared,
                EmergencyState::Approved,
                EmergencyState::Deploying
            ]
        );
        let refusal = emergency
            .transition(EmergencyState::Approved, then, "dave", None)
            .unwrap_err();
        assert_eq!(refusal.rule, "emergency.states");
        assert_eq!(emergency.timeline.len(), 3);
        assert!(
            emergency
                .transition(EmergencyState::Deploying, then, "dave", None)
                .is_err()
        );
    }

    #[test]
    fn the_only_way_back_is_a_rollback() {
        use EmergencyState::{
            Approved, Closed, Declared, Deploying, FixReady, Promoted, RolledBack, Verified,
        };
        for from in [Deploying, Promoted, Verified] {
            assert!(from.may_move_to(RolledBack), "{from}");
        }
        for from in [Declared, Approved, FixReady, Closed, RolledBack] {
            assert!(!from.may_move_to(RolledBack), "{from}");
        }
        assert!(!RolledBack.may_move_to(Deploying));
        assert!(!RolledBack.may_move_to(Promoted));
        assert!(RolledBack.may_move_to(Verified));
        assert!(RolledBack.may_move_to(Closed));
        assert!(!Promoted.may_move_to(Deploying));
        assert!(FixReady.may_move_to(Promoted));
        for to in EmergencyState::ALL {
            assert!(!Closed.may_move_to(to), "{to}");
        }
    }
}
