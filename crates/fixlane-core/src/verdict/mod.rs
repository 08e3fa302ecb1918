//! The merge verdict on a commit: `green`, `ready`, `waiting` or `blocked`.
//!
//! Computed from the plan's tiers and each gate's state; `VerdictTracker` recomputes it on every
//! change so `ready` can be announced the instant it holds.

mod recorded;

pub use recorded::{RunProgress, recompute};

use serde::{Deserialize, Serialize};

use crate::config::model::Tier;
use crate::event::Outcome;
use crate::names::{GateName, IncidentId};
use crate::plan::{GateAction, Plan, SkipReason};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every selected gate finished and passed.
    Green,
    /// Critical gates passed, required ones passed or were legitimately skipped.
    Ready,
    /// Something the verdict depends on is still queued or running.
    Waiting,
    /// A critical or required gate failed, or an emergency lane lacks its approval.
    Blocked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Green => "green",
            Verdict::Ready => "ready",
            Verdict::Waiting => "waiting",
            Verdict::Blocked => "blocked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "green" => Some(Verdict::Green),
            "ready" => Some(Verdict::Ready),
            "waiting" => Some(Verdict::Waiting),
            "blocked" => Some(Verdict::Blocked),
            _ => None,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Where one gate stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GateState {
    Queued,
    Running,
    Finished {
        outcome: Outcome,
    },
    Skipped {
        reason: SkipReason,
    },
    NotRun {
        because: GateName,
    },
    /// The run's runner stopped (killed, crashed, its machine lost) before the gate finished:
    /// never counted as passed, never as still running.
    Abandoned,
}

/// What the emergency record says about the run of an emergency lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyStanding {
    pub incident: IncidentId,
    pub approved: bool,
    pub eval_bypassed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictReport {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
}

/// What the verdict needs from the plan besides its gates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunTerms {
    pub emergency_lane: bool,
    /// Reasons the whole run is blocked (see [`Plan::refusals`]).
    pub refusals: Vec<String>,
    /// What to say when an emergency lane has no record (see [`Plan::missing_emergency`]).
    pub missing_emergency: Option<String>,
    /// How soon the skipped gates must be backfilled (see [`Plan::backfill_within`]).
    pub backfill_within: Option<crate::duration::Duration>,
}

impl RunTerms {
    pub fn of(plan: &Plan) -> Self {
        Self {
            emergency_lane: plan.emergency,
            refusals: plan.refusals.clone(),
            missing_emergency: plan.missing_emergency.clone(),
            backfill_within: plan.backfill_within,
        }
    }
}

/// Computes the verdict. `emergency` matters only when `emergency_lane` is set: `None` there
/// means no emergency change was found for the run.
pub fn compute<'a>(
    gates: impl IntoIterator<Item = (&'a GateName, Tier, &'a GateState)>,
    emergency_lane: bool,
    emergency: Option<&EmergencyStanding>,
) -> VerdictReport {
    compute_for(
        gates,
        &RunTerms {
            emergency_lane,
            ..RunTerms::default()
        },
        emergency,
    )
}

/// Computes the verdict of a run under `terms`: its refusals block it before any gate counts.
pub fn compute_for<'a>(
    gates: impl IntoIterator<Item = (&'a GateName, Tier, &'a GateState)>,
    terms: &RunTerms,
    emergency: Option<&EmergencyStanding>,
) -> VerdictReport {
    let emergency_lane = terms.emergency_lane;
    let mut blocked = terms.refusals.clone();
    let mut waiting = Vec::new();
    let mut unfinished_optional = false;
    let mut optional_failed = false;

    if emergency_lane {
        match emergency {
            None => blocked.push(terms.missing_emergency.clone().unwrap_or_else(|| {
                "this emergency-lane run needs an approved emergency change: declare one with \
                 `fixlane declare`, or name it with `--incident ID` or a `hotfix/<ID>-…` branch"
                    .to_owned()
            })),
            Some(standing) if !standing.approved => blocked.push(format!(
                "emergency {} is not approved yet: it needs an approved emergency change (`fixlane show {}` lists the missing approvals)",
                standing.incident, standing.incident
            )),
            Some(standing) if !standing.eval_bypassed => blocked.push(format!(
                "emergency {} has no `eval` bypass recorded: `fixlane bypass {} eval --reason … --compensation …`",
                standing.incident, standing.incident
            )),
            Some(_) => {}
        }
    }

    let mut owed: Vec<String> = Vec::new();
    for (name, tier, state) in gates {
        if emergency_lane
            && matches!(
                state,
                GateState::Skipped {
                    reason: SkipReason::SkippedByLane { .. }
                }
            )
        {
            owed.push(name.to_string());
        }
        match (tier, state) {
            (Tier::Optional, GateState::Queued | GateState::Running) => unfinished_optional = true,
            (Tier::Optional, GateState::Finished { outcome }) if *outcome != Outcome::Passed => {
                optional_failed = true;
            }
            (Tier::Optional, GateState::NotRun { .. } | GateState::Abandoned) => {
                optional_failed = true;
            }
            (Tier::Optional, GateState::Skipped { reason }) if reason.blocks() => {
                optional_failed = true;
            }
            (Tier::Optional, _) => {}
            (_, GateState::Queued | GateState::Running) => {
                let word = if matches!(state, GateState::Running) {
                    "running"
                } else {
                    "queued"
                };
                waiting.push(format!("{} gate {name} is still {word}", tier.as_str()));
            }
            (_, GateState::Finished { outcome }) if *outcome != Outcome::Passed => {
                blocked.push(format!(
                    "{} gate {name} {}",
                    tier.as_str(),
                    outcome.as_str()
                ));
            }
            (_, GateState::Abandoned) => blocked.push(format!(
                "{} gate {name} was abandoned: the run stopped before it finished",
                tier.as_str()
            )),
            (_, GateState::NotRun { because }) => blocked.push(format!(
                "{} gate {name} did not run because {because} did not pass",
                tier.as_str()
            )),
            (_, GateState::Skipped { reason }) if reason.blocks() => {
                blocked.push(format!("{} gate {name} was {reason}", tier.as_str()));
            }
            (Tier::Critical, GateState::Skipped { reason }) => {
                // Unreachable through plan(), and refused here too: critical gates never skip.
                blocked.push(format!(
                    "critical gate {name} was skipped ({reason}), which is never allowed"
                ));
            }
            (_, GateState::Skipped { .. } | GateState::Finished { .. }) => {}
        }
    }

    if !blocked.is_empty() {
        return VerdictReport {
            verdict: Verdict::Blocked,
            reasons: blocked,
        };
    }
    if !waiting.is_empty() {
        return VerdictReport {
            verdict: Verdict::Waiting,
            reasons: waiting,
        };
    }
    if unfinished_optional || optional_failed || !owed.is_empty() {
        let mut reasons = Vec::new();
        if !owed.is_empty() {
            // An emergency lane that skipped gates is never green: what it skipped is debt.
            let within = terms
                .backfill_within
                .map(|within| format!(", backfill within {within}"))
                .unwrap_or_default();
            reasons.push(format!(
                "{} owed{within}: the emergency lane skipped {}",
                crate::plural::count(owed.len(), "gate", "gates"),
                owed.join(", ")
            ));
        }
        if unfinished_optional {
            reasons.push("optional gates are still running".to_owned());
        }
        if optional_failed {
            reasons.push("an optional gate did not pass".to_owned());
        }
        return VerdictReport {
            verdict: Verdict::Ready,
            reasons,
        };
    }
    VerdictReport {
        verdict: Verdict::Green,
        reasons: Vec::new(),
    }
}

/// Keeps every gate's state for one run and recomputes the verdict on each change.
#[derive(Debug, Clone)]
pub struct VerdictTracker {
    gates: Vec<(GateName, Tier, GateState)>,
    terms: RunTerms,
    emergency: Option<EmergencyStanding>,
    current: Option<VerdictReport>,
}

impl VerdictTracker {
    /// Starts with every run gate queued and every skipped gate skipped.
    pub fn new(plan: &Plan, emergency: Option<EmergencyStanding>) -> Self {
        let gates = plan
            .gates
            .iter()
            .map(|gate| {
                let state = match &gate.action {
                    GateAction::Run { .. } => GateState::Queued,
                    GateAction::Skip(reason) => GateState::Skipped {
                        reason: reason.clone(),
                    },
                };
                (gate.name.clone(), gate.tier, state)
            })
            .collect();
        Self {
            gates,
            terms: RunTerms::of(plan),
            emergency,
            current: None,
        }
    }

    /// Records a state; returns the new verdict when it differs from the last one returned.
    pub fn update(&mut self, gate: &GateName, state: GateState) -> Option<VerdictReport> {
        if let Some(entry) = self.gates.iter_mut().find(|entry| &entry.0 == gate) {
            entry.2 = state;
        }
        self.recompute()
    }

    /// Like `update`, by the gate's position in the plan: what the runner knows without a search.
    pub fn update_at(&mut self, index: usize, state: GateState) -> Option<VerdictReport> {
        if let Some(entry) = self.gates.get_mut(index) {
            entry.2 = state;
        }
        self.recompute()
    }

    /// Computes the verdict; returns it when its value changed since the last call.
    pub fn recompute(&mut self) -> Option<VerdictReport> {
        // The cheap pass decides whether anything changed; reasons are worded only then, so a
        // 1 000-gate run does not format a million strings.
        let verdict = self.quick_verdict();
        if self
            .current
            .as_ref()
            .is_some_and(|current| current.verdict == verdict)
        {
            return None;
        }
        let report = self.report();
        self.current = Some(report.clone());
        Some(report)
    }

    fn quick_verdict(&self) -> Verdict {
        let emergency_ok = !self.terms.emergency_lane
            || self
                .emergency
                .as_ref()
                .is_some_and(|standing| standing.approved && standing.eval_bypassed);
        let mut blocked = !emergency_ok || !self.terms.refusals.is_empty();
        let mut waiting = false;
        let mut optional_pending = false;
        for (_, tier, state) in &self.gates {
            optional_pending |= self.terms.emergency_lane
                && matches!(
                    state,
                    GateState::Skipped {
                        reason: SkipReason::SkippedByLane { .. }
                    }
                );
            let unfinished = matches!(state, GateState::Queued | GateState::Running);
            let bad = match state {
                GateState::Finished { outcome } => *outcome != Outcome::Passed,
                GateState::NotRun { .. } | GateState::Abandoned => true,
                GateState::Skipped { reason } => *tier == Tier::Critical || reason.blocks(),
                GateState::Queued | GateState::Running => false,
            };
            if *tier == Tier::Optional {
                optional_pending |= unfinished || bad;
            } else {
                blocked |= bad;
                waiting |= unfinished;
            }
        }
        if blocked {
            Verdict::Blocked
        } else if waiting {
            Verdict::Waiting
        } else if optional_pending {
            Verdict::Ready
        } else {
            Verdict::Green
        }
    }

    pub fn report(&self) -> VerdictReport {
        compute_for(
            self.gates
                .iter()
                .map(|(name, tier, state)| (name, *tier, state)),
            &self.terms,
            self.emergency.as_ref(),
        )
    }

    pub fn states(&self) -> &[(GateName, Tier, GateState)] {
        &self.gates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::LaneName;

    fn name(text: &str) -> GateName {
        GateName::parse(text).unwrap()
    }

    fn passed() -> GateState {
        GateState::Finished {
            outcome: Outcome::Passed,
        }
    }

    fn failed() -> GateState {
        GateState::Finished {
            outcome: Outcome::Failed,
        }
    }

    fn skipped() -> GateState {
        GateState::Skipped {
            reason: SkipReason::SkippedByLane {
                lane: LaneName::parse("hotfix").unwrap(),
            },
        }
    }

    fn verdict_of(
        gates: &[(&str, Tier, GateState)],
        emergency_lane: bool,
        standing: Option<&EmergencyStanding>,
    ) -> Verdict {
        let owned: Vec<(GateName, Tier, GateState)> = gates
            .iter()
            .map(|(gate, tier, state)| (name(gate), *tier, state.clone()))
            .collect();
        compute(
            owned.iter().map(|(gate, tier, state)| (gate, *tier, state)),
            emergency_lane,
            standing,
        )
        .verdict
    }

    #[test]
    fn all_passed_is_green() {
        let gates = [
            ("build", Tier::Critical, passed()),
            ("lint", Tier::Required, passed()),
            ("perf", Tier::Optional, passed()),
        ];
        assert_eq!(verdict_of(&gates, false, None), Verdict::Green);
    }

    #[test]
    fn optional_still_running_is_ready_not_green() {
        let gates = [
            ("build", Tier::Critical, passed()),
            ("perf", Tier::Optional, GateState::Running),
        ];
        assert_eq!(verdict_of(&gates, false, None), Verdict::Ready);
    }

    #[test]
    fn optional_failure_is_ready() {
        let gates = [
            ("build", Tier::Critical, passed()),
            ("perf", Tier::Optional, failed()),
        ];
        assert_eq!(verdict_of(&gates, false, None), Verdict::Ready);
    }

    #[test]
    fn critical_running_is_waiting() {
        let gates = [
            ("build", Tier::Critical, GateState::Running),
            ("lint", Tier::Required, passed()),
        ];
        assert_eq!(verdict_of(&gates, false, None), Verdict::Waiting);
    }

    #[test]
    fn required_failure_blocks_even_while_critical_runs() {
        let gates = [
            ("build", Tier::Critical, GateState::Running),
            ("lint", Tier::Required, failed()),
        ];
        assert_eq!(verdict_of(&gates, false, None), Verdict::Blocked);
    }

    #[test]
    fn a_dependent_not_run_blocks_and_names_the_need() {
        let gates = [
            ("build", Tier::Critical, failed()),
            (
                "unit",
                Tier::Required,
                GateState::NotRun {
                    because: name("build"),
                },
            ),
        ];
        let owned: Vec<_> = gates
            .iter()
            .map(|(gate, tier, state)| (name(gate), *tier, state.clone()))
            .collect();
        let report = compute(
            owned.iter().map(|(gate, tier, state)| (gate, *tier, state)),
            false,
            None,
        );
        assert_eq!(report.verdict, Verdict::Blocked);
        assert!(
            report
                .reasons
                .iter()
                .any(|reason| reason.contains("unit did not run because build"))
        );
    }

    #[test]
    fn a_skipped_critical_gate_always_blocks() {
        let gates = [("scan", Tier::Critical, skipped())];
        let standing = EmergencyStanding {
            incident: IncidentId::parse("INC-1").unwrap(),
            approved: true,
            eval_bypassed: true,
        };
        assert_eq!(verdict_of(&gates, true, Some(&standing)), Verdict::Blocked);
    }

    #[test]
    fn an_emergency_lane_needs_an_approved_change_with_an_eval_bypass() {
        let gates = [
            ("build", Tier::Critical, passed()),
            ("lint", Tier::Required, skipped()),
        ];
        assert_eq!(verdict_of(&gates, true, None), Verdict::Blocked);
        let mut standing = EmergencyStanding {
            incident: IncidentId::parse("INC-1").unwrap(),
            approved: false,
            eval_bypassed: true,
        };
        assert_eq!(verdict_of(&gates, true, Some(&standing)), Verdict::Blocked);
        standing.approved = true;
        standing.eval_bypassed = false;
        assert_eq!(verdict_of(&gates, true, Some(&standing)), Verdict::Blocked);
        standing.eval_bypassed = true;
        // Ready, never green: the skipped gate is owed.
        assert_eq!(verdict_of(&gates, true, Some(&standing)), Verdict::Ready);
    }

    #[test]
    fn a_refused_deploy_blocks_whatever_its_tier() {
        let refused = GateState::Skipped {
            reason: SkipReason::Refused {
                why: "outside the change window".into(),
            },
        };
        for tier in [Tier::Critical, Tier::Required] {
            let gates = [
                ("build", Tier::Critical, passed()),
                ("deploy", tier, refused.clone()),
            ];
            assert_eq!(verdict_of(&gates, false, None), Verdict::Blocked);
        }
        let gates = [
            ("build", Tier::Critical, passed()),
            ("deploy", Tier::Optional, refused),
        ];
        assert_eq!(verdict_of(&gates, false, None), Verdict::Ready);
    }

    #[test]
    fn the_tracker_announces_ready_before_optional_gates_finish() {
        use crate::config::model::GateKind;
        use crate::plan::{Plan, PlannedGate};
        let gate = |gate: &str, tier| PlannedGate {
            name: name(gate),
            tier,
            kind: GateKind::Check,
            needs: vec![],
            timeout: None,
            env: vec![],
            action: GateAction::Run {
                command: "true".into(),
            },
            explanation: crate::plan::Explanation::default(),
        };
        let plan = Plan {
            lane: LaneName::normal(),
            emergency: false,
            gates: vec![gate("build", Tier::Critical), gate("perf", Tier::Optional)],
            refusals: vec![],
            missing_emergency: None,
            backfill_within: None,
        };
        let mut tracker = VerdictTracker::new(&plan, None);
        assert_eq!(
            tracker.recompute().map(|report| report.verdict),
            Some(Verdict::Waiting)
        );
        assert_eq!(tracker.update(&name("perf"), GateState::Running), None);
        assert_eq!(
            tracker
                .update(&name("build"), passed())
                .map(|report| report.verdict),
            Some(Verdict::Ready)
        );
        assert_eq!(
            tracker
                .update(&name("perf"), passed())
                .map(|report| report.verdict),
            Some(Verdict::Green)
        );
    }

    #[test]
    fn an_emergency_lane_that_skipped_gates_is_never_green() {
        let standing = EmergencyStanding {
            incident: IncidentId::parse("INC-1").unwrap(),
            approved: true,
            eval_bypassed: true,
        };
        let gates = [
            ("build", Tier::Critical, passed()),
            ("lint", Tier::Required, skipped()),
        ];
        assert_eq!(verdict_of(&gates, true, Some(&standing)), Verdict::Ready);
        let plan = Plan {
            lane: LaneName::parse("hotfix").unwrap(),
            emergency: true,
            gates: vec![],
            refusals: vec![],
            missing_emergency: None,
            backfill_within: None,
        };
        let mut tracker = VerdictTracker::new(&plan, Some(standing));
        let mut tracker_with_skip = tracker.clone();
        tracker_with_skip
            .gates
            .push((name("lint"), Tier::Required, skipped()));
        assert_eq!(tracker.recompute().map(|r| r.verdict), Some(Verdict::Green));
        assert_eq!(
            tracker_with_skip.recompute().map(|r| r.verdict),
            Some(Verdict::Ready)
        );
        let reasons = tracker_with_skip.report().reasons;
        assert_eq!(
            reasons[0], "1 gate owed: the emergency lane skipped lint",
            "{reasons:?}"
        );
    }

    #[test]
    fn a_refused_run_is_blocked_whatever_its_gates_did() {
        let gates = [("build", Tier::Critical, passed())];
        let owned: Vec<_> = gates
            .iter()
            .map(|(gate, tier, state)| (name(gate), *tier, state.clone()))
            .collect();
        let terms = RunTerms {
            emergency_lane: false,
            refusals: vec!["the fix changes fixlane.toml".into()],
            missing_emergency: None,
            backfill_within: None,
        };
        let report = compute_for(
            owned.iter().map(|(gate, tier, state)| (gate, *tier, state)),
            &terms,
            None,
        );
        assert_eq!(report.verdict, Verdict::Blocked);
        assert_eq!(
            report.reasons,
            vec!["the fix changes fixlane.toml".to_owned()]
        );
    }

    #[test]
    fn an_abandoned_gate_blocks_and_never_waits() {
        let gates = [
            ("build", Tier::Critical, passed()),
            ("unit", Tier::Required, GateState::Abandoned),
        ];
        assert_eq!(verdict_of(&gates, false, None), Verdict::Blocked);
        let optional = [
            ("build", Tier::Critical, passed()),
            ("perf", Tier::Optional, GateState::Abandoned),
        ];
        assert_eq!(verdict_of(&optional, false, None), Verdict::Ready);
    }

    #[test]
    fn a_missing_emergency_is_explained_in_the_plans_words() {
        let terms = RunTerms {
            emergency_lane: true,
            refusals: vec![],
            missing_emergency: Some("INC-9 is not declared".into()),
            backfill_within: None,
        };
        let report = compute_for(std::iter::empty(), &terms, None);
        assert_eq!(report.verdict, Verdict::Blocked);
        assert_eq!(report.reasons, vec!["INC-9 is not declared".to_owned()]);
    }
}
