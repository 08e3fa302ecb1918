//! The canary's pure half: its events, its step plan and how a check's samples become a verdict.
//!
//! The driver (in `fixlane-canary`) samples metrics and runs deploy actions; everything it
//! decides from those samples is decided here, on plain values, so the rules are unit-tested
//! without a Prometheus server or a clock.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::model::CanaryProfile;

/// One step of a profile as it is reported: the weight to set and how long to bake at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepPlan {
    /// Percent, 1–100.
    pub weight: u8,
    pub bake_seconds: u64,
}

impl StepPlan {
    /// The steps of a configured profile, in order.
    pub fn of_profile(profile: &CanaryProfile) -> Vec<StepPlan> {
        profile
            .steps
            .iter()
            .map(|step| StepPlan {
                weight: step.weight,
                bake_seconds: step.bake.as_seconds(),
            })
            .collect()
    }
}

/// How one evaluation of one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// A value within the bounds.
    Ok,
    /// A value outside the bounds: the canary rolls back at once.
    OutOfBounds,
    /// The source answered, but with nothing (an empty vector, `NaN`, no traffic between two
    /// scrapes, a counter reset).
    NoData,
    /// The source did not answer usefully (unreachable, bad response, command failed).
    Error,
}

impl CheckOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckOutcome::Ok => "ok",
            CheckOutcome::OutOfBounds => "out of bounds",
            CheckOutcome::NoData => "no data",
            CheckOutcome::Error => "error",
        }
    }
}

/// How a whole canary ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CanaryOutcome {
    Promoted,
    RolledBack,
    /// The rollback path was not ready, so no weight was ever set.
    NotStarted,
}

impl CanaryOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CanaryOutcome::Promoted => "promoted",
            CanaryOutcome::RolledBack => "rolled back",
            CanaryOutcome::NotStarted => "not started",
        }
    }
}

/// Everything a canary or a verification does, in order; serialized as one JSON line each with
/// an `event` tag and an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CanaryEvent {
    CanaryStarted {
        at: Timestamp,
        profile: String,
        steps: Vec<StepPlan>,
    },
    RollbackCheckPassed {
        at: Timestamp,
    },
    RollbackCheckFailed {
        at: Timestamp,
        /// The last lines the check printed, and why it failed.
        tail: Vec<String>,
    },
    StepStarted {
        at: Timestamp,
        /// 1-based.
        step: usize,
        weight: u8,
        bake_seconds: u64,
    },
    CheckEvaluated {
        at: Timestamp,
        step: usize,
        check: String,
        value: Option<f64>,
        min: Option<f64>,
        max: Option<f64>,
        outcome: CheckOutcome,
        /// Why there was no value, or which bound was crossed.
        detail: Option<String>,
    },
    RollbackStarted {
        at: Timestamp,
        reason: String,
    },
    RolledBack {
        at: Timestamp,
        reason: String,
        /// Whether the `rollback` action itself succeeded.
        ok: bool,
        /// The last lines of the rollback action's output when it failed.
        tail: Vec<String>,
    },
    Promoted {
        at: Timestamp,
    },
    CanaryFinished {
        at: Timestamp,
        outcome: CanaryOutcome,
    },
    VerifyStarted {
        at: Timestamp,
        check: String,
        hold_seconds: u64,
        timeout_seconds: u64,
    },
    VerifySample {
        at: Timestamp,
        check: String,
        value: Option<f64>,
        outcome: CheckOutcome,
        detail: Option<String>,
        /// Since when the check has been within bounds without a break, if it is now.
        healthy_since: Option<Timestamp>,
    },
    VerifyFinished {
        at: Timestamp,
        check: String,
        recovered: bool,
        /// From the start of verification to the start of the period the check held.
        recovery_seconds: Option<f64>,
        healthy_since: Option<Timestamp>,
    },
}

impl CanaryEvent {
    /// When the event happened.
    pub fn at(&self) -> Timestamp {
        match self {
            CanaryEvent::CanaryStarted { at, .. }
            | CanaryEvent::RollbackCheckPassed { at }
            | CanaryEvent::RollbackCheckFailed { at, .. }
            | CanaryEvent::StepStarted { at, .. }
            | CanaryEvent::CheckEvaluated { at, .. }
            | CanaryEvent::RollbackStarted { at, .. }
            | CanaryEvent::RolledBack { at, .. }
            | CanaryEvent::Promoted { at }
            | CanaryEvent::CanaryFinished { at, .. }
            | CanaryEvent::VerifyStarted { at, .. }
            | CanaryEvent::VerifySample { at, .. }
            | CanaryEvent::VerifyFinished { at, .. } => *at,
        }
    }

    /// Whether the event changes what is deployed or decided, and so belongs in the audit log;
    /// samples are kept but would flood it. The start and the end are audited with the canary
    /// record itself.
    pub fn is_state_change(&self) -> bool {
        !matches!(
            self,
            CanaryEvent::CheckEvaluated { .. }
                | CanaryEvent::VerifySample { .. }
                | CanaryEvent::CanaryStarted { .. }
                | CanaryEvent::CanaryFinished { .. }
        )
    }

    /// The state this event moves an emergency to: deploying at the first step, then promoted
    /// or rolled back.
    pub fn emergency_state(&self) -> Option<crate::emergency::EmergencyState> {
        use crate::emergency::EmergencyState;
        match self {
            CanaryEvent::StepStarted { step: 1, .. } => Some(EmergencyState::Deploying),
            CanaryEvent::Promoted { .. } => Some(EmergencyState::Promoted),
            CanaryEvent::RolledBack { .. } => Some(EmergencyState::RolledBack),
            _ => None,
        }
    }
}

/// What a metric source handed back for one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    Value(f64),
    NoData(String),
    Error(String),
}

/// The bounds of a check; a missing bound is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Bounds {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Bounds {
    /// Why `value` is outside the bounds, or `None` when it is within them. `NaN` is never
    /// within bounds (sources turn it into no data before it gets here).
    pub fn violation(self, value: f64) -> Option<String> {
        if value.is_nan() {
            return Some("the value is NaN".to_owned());
        }
        if let Some(min) = self.min
            && value < min
        {
            return Some(format!("{value} is below the minimum {min}"));
        }
        if let Some(max) = self.max
            && value > max
        {
            return Some(format!("{value} is above the maximum {max}"));
        }
        None
    }

    /// How one sample is classified against these bounds, with its detail.
    pub fn classify(self, sample: &Sample) -> (CheckOutcome, Option<f64>, Option<String>) {
        match sample {
            Sample::Value(value) => match self.violation(*value) {
                None => (CheckOutcome::Ok, Some(*value), None),
                Some(why) => (CheckOutcome::OutOfBounds, Some(*value), Some(why)),
            },
            Sample::NoData(why) => (CheckOutcome::NoData, None, Some(why.clone())),
            Sample::Error(why) => (CheckOutcome::Error, None, Some(why.clone())),
        }
    }
}

/// What the canary does after one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Continue,
    /// Roll back now, for this reason.
    Rollback(String),
}

/// One check's state during a canary: its bounds and how many evaluations in a row gave no
/// usable answer.
#[derive(Debug, Clone)]
pub struct CheckTracker {
    name: String,
    bounds: Bounds,
    failure_limit: u32,
    consecutive_failures: u32,
    /// Whether the latest evaluation was within bounds: a bake only ends on a good answer, so
    /// a canary never advances or promotes on no data.
    last_ok: bool,
}

/// One evaluation as the tracker saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub outcome: CheckOutcome,
    pub value: Option<f64>,
    pub detail: Option<String>,
    pub decision: Decision,
}

impl CheckTracker {
    /// `failure_limit` below 1 is taken as 1: a source that never answers must roll back.
    pub fn new(name: impl Into<String>, bounds: Bounds, failure_limit: u32) -> Self {
        Self {
            name: name.into(),
            bounds,
            failure_limit: failure_limit.max(1),
            consecutive_failures: 0,
            last_ok: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// Feeds one sample: out of bounds rolls back at once; `failure_limit` errors or no-data
    /// answers in a row roll back; a good answer resets the count.
    pub fn observe(&mut self, sample: &Sample) -> Evaluation {
        let (outcome, value, detail) = self.bounds.classify(sample);
        let decision = match outcome {
            CheckOutcome::Ok => {
                self.consecutive_failures = 0;
                self.last_ok = true;
                Decision::Continue
            }
            CheckOutcome::OutOfBounds => {
                self.last_ok = false;
                Decision::Rollback(format!(
                    "check `{}` out of bounds: {}",
                    self.name,
                    detail.as_deref().unwrap_or("outside its bounds")
                ))
            }
            CheckOutcome::NoData | CheckOutcome::Error => {
                self.last_ok = false;
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                if self.consecutive_failures >= self.failure_limit {
                    Decision::Rollback(format!(
                        "check `{}` had no usable answer {} times in a row (failure_limit = {}): {}",
                        self.name,
                        self.consecutive_failures,
                        self.failure_limit,
                        detail.as_deref().unwrap_or(outcome.as_str())
                    ))
                } else {
                    Decision::Continue
                }
            }
        };
        Evaluation {
            outcome,
            value,
            detail,
            decision,
        }
    }

    /// Whether the latest answer was within bounds, so a bake may end here.
    pub fn settled(&self) -> bool {
        self.last_ok
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
}

/// Whether a step's bake may end: its time has passed and every check's latest answer was good.
/// A check still without data keeps the step baking until it answers or hits its failure limit.
pub fn bake_complete(bake_elapsed: bool, trackers: &[CheckTracker]) -> bool {
    bake_elapsed && trackers.iter().all(CheckTracker::settled)
}

/// Where a verification stands after one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VerifyState {
    /// Not within bounds now.
    Unhealthy,
    /// Within bounds since `since`, not yet for the whole period.
    Holding { since: Timestamp },
    /// Within bounds for the whole period, since `since`.
    Recovered {
        since: Timestamp,
        /// From the start of verification to `since`.
        recovery_seconds: f64,
    },
}

/// `fixlane verify`: the check must stay within bounds for `hold_seconds` without a break; any
/// excursion (a value out of bounds, no data or an error) restarts the period.
#[derive(Debug, Clone)]
pub struct VerifyTracker {
    bounds: Bounds,
    hold_seconds: f64,
    started: Timestamp,
    healthy_since: Option<Timestamp>,
}

impl VerifyTracker {
    pub fn new(bounds: Bounds, hold_seconds: f64, started: Timestamp) -> Self {
        Self {
            bounds,
            hold_seconds,
            started,
            healthy_since: None,
        }
    }

    pub fn healthy_since(&self) -> Option<Timestamp> {
        self.healthy_since
    }

    pub fn observe(&mut self, at: Timestamp, sample: &Sample) -> VerifyState {
        let (outcome, _, _) = self.bounds.classify(sample);
        if outcome != CheckOutcome::Ok {
            self.healthy_since = None;
            return VerifyState::Unhealthy;
        }
        let since = *self.healthy_since.get_or_insert(at);
        if seconds_between(since, at) >= self.hold_seconds {
            VerifyState::Recovered {
                since,
                recovery_seconds: seconds_between(self.started, since).max(0.0),
            }
        } else {
            VerifyState::Holding { since }
        }
    }
}

/// Seconds from `from` to `to`, with sub-second precision (negative when `to` is earlier).
pub fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    let nanoseconds = to.as_nanosecond() - from.as_nanosecond();
    #[expect(
        clippy::cast_precision_loss,
        reason = "sub-nanosecond precision is irrelevant for durations shown in seconds"
    )]
    let seconds = nanoseconds as f64 / 1e9;
    seconds
}

#[cfg(test)]
mod tests {

    #[test]
    fn samples_are_kept_and_state_changes_audited_and_moved() {
        use crate::emergency::EmergencyState;
        let at = Timestamp::UNIX_EPOCH;
        let sample = CanaryEvent::CheckEvaluated {
            at,
            step: 1,
            check: "errors".into(),
            value: Some(0.0),
            min: None,
            max: Some(0.01),
            outcome: CheckOutcome::Ok,
            detail: None,
        };
        assert!(!sample.is_state_change());
        assert_eq!(sample.emergency_state(), None);
        let first = CanaryEvent::StepStarted {
            at,
            step: 1,
            weight: 1,
            bake_seconds: 5,
        };
        let second = CanaryEvent::StepStarted {
            at,
            step: 2,
            weight: 10,
            bake_seconds: 5,
        };
        assert!(first.is_state_change() && second.is_state_change());
        assert_eq!(first.emergency_state(), Some(EmergencyState::Deploying));
        assert_eq!(second.emergency_state(), None);
        let rolled_back = CanaryEvent::RolledBack {
            at,
            reason: "r".into(),
            ok: true,
            tail: vec![],
        };
        assert_eq!(
            rolled_back.emergency_state(),
            Some(EmergencyState::RolledBack)
        );
        assert_eq!(
            CanaryEvent::Promoted { at }.emergency_state(),
            Some(EmergencyState::Promoted)
        );
        assert_eq!(rolled_back.at(), at);
    }

    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).unwrap()
    }

    fn max(limit: f64) -> Bounds {
        Bounds {
            min: None,
            max: Some(limit),
        }
    }

    #[test]
    fn bounds_are_inclusive_and_a_missing_bound_is_no_limit() {
        let bounds = Bounds {
            min: Some(1.0),
            max: Some(2.0),
        };
        assert_eq!(bounds.violation(1.0), None);
        assert_eq!(bounds.violation(2.0), None);
        assert!(
            bounds
                .violation(0.5)
                .unwrap()
                .contains("below the minimum 1")
        );
        assert!(
            bounds
                .violation(2.5)
                .unwrap()
                .contains("above the maximum 2")
        );
        assert!(bounds.violation(f64::NAN).is_some());
        assert_eq!(Bounds::default().violation(1e300), None);
        assert!(max(0.01).violation(f64::INFINITY).is_some());
    }

    #[test]
    fn out_of_bounds_rolls_back_at_once() {
        let mut tracker = CheckTracker::new("error-rate", max(0.01), 3);
        assert_eq!(
            tracker.observe(&Sample::Value(0.0)).decision,
            Decision::Continue
        );
        let evaluation = tracker.observe(&Sample::Value(0.2));
        assert_eq!(evaluation.outcome, CheckOutcome::OutOfBounds);
        assert_eq!(evaluation.value, Some(0.2));
        match evaluation.decision {
            Decision::Rollback(reason) => {
                assert!(reason.contains("error-rate"), "{reason}");
                assert!(reason.contains("above the maximum 0.01"), "{reason}");
            }
            Decision::Continue => panic!("an out-of-bounds value must roll back"),
        }
        assert!(!tracker.settled());
    }

    #[test]
    fn failure_limit_counts_errors_and_no_data_in_a_row() {
        let mut tracker = CheckTracker::new("error-rate", max(0.01), 3);
        let no_data = Sample::NoData("empty result".to_owned());
        let error = Sample::Error("connection refused".to_owned());
        assert_eq!(tracker.observe(&no_data).decision, Decision::Continue);
        assert_eq!(tracker.observe(&error).decision, Decision::Continue);
        assert_eq!(tracker.consecutive_failures(), 2);
        let third = tracker.observe(&error);
        assert_eq!(third.outcome, CheckOutcome::Error);
        match third.decision {
            Decision::Rollback(reason) => {
                assert!(reason.contains("3 times in a row"), "{reason}");
                assert!(reason.contains("connection refused"), "{reason}");
            }
            Decision::Continue => panic!("the third failure in a row must roll back"),
        }
    }

    #[test]
    fn a_good_answer_resets_the_failure_count() {
        let mut tracker = CheckTracker::new("error-rate", max(0.01), 2);
        let no_data = Sample::NoData("empty result".to_owned());
        assert_eq!(tracker.observe(&no_data).decision, Decision::Continue);
        assert_eq!(
            tracker.observe(&Sample::Value(0.001)).decision,
            Decision::Continue
        );
        assert_eq!(tracker.consecutive_failures(), 0);
        assert_eq!(tracker.observe(&no_data).decision, Decision::Continue);
        assert!(matches!(
            tracker.observe(&no_data).decision,
            Decision::Rollback(_)
        ));
    }

    #[test]
    fn a_zero_failure_limit_still_rolls_back() {
        let mut tracker = CheckTracker::new("x", Bounds::default(), 0);
        assert!(matches!(
            tracker.observe(&Sample::Error("down".to_owned())).decision,
            Decision::Rollback(_)
        ));
    }

    #[test]
    fn a_bake_never_ends_on_no_data() {
        let mut trackers = vec![
            CheckTracker::new("a", max(1.0), 3),
            CheckTracker::new("b", max(1.0), 3),
        ];
        // Nothing observed yet: no promotion even when the time is up.
        assert!(!bake_complete(true, &trackers));
        trackers[0].observe(&Sample::Value(0.5));
        trackers[1].observe(&Sample::NoData("empty".to_owned()));
        assert!(!bake_complete(true, &trackers));
        trackers[1].observe(&Sample::Value(0.5));
        assert!(bake_complete(true, &trackers));
        assert!(!bake_complete(false, &trackers));
        trackers[0].observe(&Sample::Error("down".to_owned()));
        assert!(!bake_complete(true, &trackers));
    }

    #[test]
    fn verify_needs_an_unbroken_period_and_reports_when_it_began() {
        let mut tracker = VerifyTracker::new(max(0.01), 10.0, at(0));
        assert_eq!(
            tracker.observe(at(0), &Sample::Value(0.5)),
            VerifyState::Unhealthy
        );
        assert_eq!(
            tracker.observe(at(3), &Sample::Value(0.001)),
            VerifyState::Holding { since: at(3) }
        );
        assert_eq!(
            tracker.observe(at(8), &Sample::Value(0.001)),
            VerifyState::Holding { since: at(3) }
        );
        // An excursion restarts the period.
        assert_eq!(
            tracker.observe(at(9), &Sample::Value(0.02)),
            VerifyState::Unhealthy
        );
        assert_eq!(tracker.healthy_since(), None);
        assert_eq!(
            tracker.observe(at(10), &Sample::Value(0.0)),
            VerifyState::Holding { since: at(10) }
        );
        // No data is not proof of health either.
        assert_eq!(
            tracker.observe(at(11), &Sample::NoData("empty".to_owned())),
            VerifyState::Unhealthy
        );
        assert_eq!(
            tracker.observe(at(12), &Sample::Value(0.0)),
            VerifyState::Holding { since: at(12) }
        );
        assert_eq!(
            tracker.observe(at(22), &Sample::Value(0.0)),
            VerifyState::Recovered {
                since: at(12),
                recovery_seconds: 12.0
            }
        );
    }

    #[test]
    fn events_serialize_with_a_snake_case_tag() {
        let event = CanaryEvent::CheckEvaluated {
            at: at(0),
            step: 2,
            check: "error-rate".to_owned(),
            value: Some(0.5),
            min: None,
            max: Some(0.01),
            outcome: CheckOutcome::OutOfBounds,
            detail: Some("0.5 is above the maximum 0.01".to_owned()),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["event"], "check_evaluated");
        assert_eq!(json["outcome"], "out_of_bounds");
        let back: CanaryEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
        let finished = CanaryEvent::CanaryFinished {
            at: at(1),
            outcome: CanaryOutcome::NotStarted,
        };
        let json = serde_json::to_value(&finished).unwrap();
        assert_eq!(json["event"], "canary_finished");
        assert_eq!(json["outcome"], "not_started");
    }
}
