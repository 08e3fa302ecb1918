//! The verdict of a run recomputed from what the store recorded: a gate with a result keeps it;
//! a gate without one is skipped (when the plan says so), still running, cancelled by the run's
//! end, or abandoned with its runner.

use crate::Outcome;
use crate::names::GateName;
use crate::plan::{GateAction, Plan};
use crate::verdict::{EmergencyStanding, GateState, RunTerms, VerdictReport, compute_for};

/// How far a recorded run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunProgress {
    /// No verdict yet, and its runner may still be at work.
    Going,
    /// Its verdict is recorded.
    Finished,
    /// Its runner is gone (found now, or marked earlier): it will never finish.
    Abandoned,
}

/// Recomputes the verdict of a recorded run of `plan`. `recorded` is a gate's stored result;
/// `missing_emergency`, when set, is what to say now that an emergency lane has no record, and
/// `standing` is the emergency's standing as of now (an approval after the run counts).
pub fn recompute(
    plan: &Plan,
    recorded: impl Fn(&GateName) -> Option<GateState>,
    progress: RunProgress,
    missing_emergency: Option<String>,
    standing: Option<&EmergencyStanding>,
) -> VerdictReport {
    let mut terms = RunTerms::of(plan);
    if missing_emergency.is_some() {
        terms.missing_emergency = missing_emergency;
    }
    let states: Vec<(GateName, _, GateState)> = plan
        .gates
        .iter()
        .map(|gate| {
            let state = match (&gate.action, recorded(&gate.name)) {
                (_, Some(state)) => state,
                (GateAction::Skip(reason), None) => GateState::Skipped {
                    reason: reason.clone(),
                },
                (GateAction::Run { .. }, None) => match progress {
                    RunProgress::Abandoned => GateState::Abandoned,
                    RunProgress::Finished => GateState::Finished {
                        outcome: Outcome::Cancelled,
                    },
                    RunProgress::Going => GateState::Running,
                },
            };
            (gate.name.clone(), gate.tier, state)
        })
        .collect();
    compute_for(
        states
            .iter()
            .map(|(name, tier, state)| (name, *tier, state)),
        &terms,
        standing,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{GateKind, Tier};
    use crate::names::LaneName;
    use crate::plan::{PlannedGate, SkipReason};
    use crate::verdict::Verdict;

    fn name(text: &str) -> GateName {
        GateName::parse(text).unwrap()
    }

    fn plan() -> Plan {
        let gate = |gate: &str, tier, action| PlannedGate {
            name: name(gate),
            tier,
            kind: GateKind::Check,
            needs: vec![],
            timeout: None,
            env: vec![],
            action,
            explanation: crate::plan::Explanation::default(),
        };
        let run = || GateAction::Run {
            command: "true".into(),
        };
        Plan {
            lane: LaneName::normal(),
            emergency: false,
            gates: vec![
                gate("build", Tier::Critical, run()),
                gate("test", Tier::Required, run()),
                gate(
                    "docs",
                    Tier::Optional,
                    GateAction::Skip(SkipReason::NoChangedInputs {
                        lane: LaneName::normal(),
                    }),
                ),
            ],
            refusals: vec![],
            missing_emergency: None,
            backfill_within: None,
        }
    }

    fn passed() -> GateState {
        GateState::Finished {
            outcome: Outcome::Passed,
        }
    }

    #[test]
    fn a_gate_without_a_result_counts_by_how_far_the_run_got() {
        let plan = plan();
        let only_build = |gate: &GateName| (gate.as_str() == "build").then(passed);
        let verdict = |progress| recompute(&plan, only_build, progress, None, None).verdict;
        assert_eq!(verdict(RunProgress::Going), Verdict::Waiting);
        assert_eq!(verdict(RunProgress::Finished), Verdict::Blocked);
        assert_eq!(verdict(RunProgress::Abandoned), Verdict::Blocked);
        let abandoned = recompute(&plan, only_build, RunProgress::Abandoned, None, None);
        assert!(
            abandoned
                .reasons
                .iter()
                .any(|reason| reason.contains("test")),
            "{:?}",
            abandoned.reasons
        );
    }

    #[test]
    fn recorded_results_and_planned_skips_decide_a_finished_run() {
        let plan = plan();
        let all = |gate: &GateName| (gate.as_str() != "docs").then(passed);
        let report = recompute(&plan, all, RunProgress::Finished, None, None);
        assert_eq!(report.verdict, Verdict::Green);
    }

    #[test]
    fn an_emergency_lane_without_its_record_says_what_is_missing_now() {
        let mut plan = plan();
        plan.emergency = true;
        let all = |gate: &GateName| (gate.as_str() != "docs").then(passed);
        let report = recompute(
            &plan,
            all,
            RunProgress::Finished,
            Some("INC-9 is not declared".into()),
            None,
        );
        assert_eq!(report.verdict, Verdict::Blocked);
        assert!(
            report.reasons.iter().any(|reason| reason.contains("INC-9")),
            "{:?}",
            report.reasons
        );
    }
}
