//! Drives one canary: `rollback_check` first, then each step's `set_weight` and bake with every
//! check evaluated at a fixed interval, `rollback` at once on any concerning signal (or a failed
//! action, or cancel), `promote` after the last step. And `verify`: re-sample one check until
//! it has held within bounds for a period, or a timeout.
//!
//! Everything it does is reported as `CanaryEvent`s; it prints nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fixlane_core::canary::{
    Bounds, CanaryEvent, CanaryOutcome, CheckTracker, Decision, StepPlan, VerifyState,
    VerifyTracker, bake_complete,
};
use fixlane_core::config::model::{CanaryCheck, CanaryProfile, Config};
use fixlane_process::Cancel;
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::deploy::{Action, DeployContext, Position};
use crate::source::Sources;

/// The longest one sample may take, whatever the interval: a hung source is an error, not a
/// stall.
const MAX_SAMPLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a deploy action may run by default before its group is killed.
pub const DEFAULT_ACTION_TIMEOUT: Duration = Duration::from_mins(10);

/// Why a canary or a verification could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    #[error(
        "the config has no `[deploy]` section; a canary needs its set_weight, promote, rollback and rollback_check actions"
    )]
    NoDeploy,
    #[error("the config has no `[canary]` section")]
    NoCanary,
    #[error("there is no canary profile `{profile}`; the config has: {known}")]
    UnknownProfile { profile: String, known: String },
    #[error("the canary profile `{profile}` has no steps")]
    NoSteps { profile: String },
    #[error(
        "the canary has no checks under `[[canary.checks]]`; without one it would promote blind"
    )]
    NoChecks,
    #[error("there is no canary check `{check}`; the config has: {known}")]
    UnknownCheck { check: String, known: String },
    #[error("the evaluation interval must be longer than zero")]
    ZeroInterval,
    #[error("cancelled")]
    Cancelled,
}

/// Everything `drive` needs, resolved from the config by `CanarySettings::from_config` (or
/// built by hand).
#[derive(Debug, Clone)]
pub struct CanarySettings {
    /// The actions and the values they see.
    pub deploy: DeployContext,
    pub profile: CanaryProfile,
    pub checks: Vec<CanaryCheck>,
    pub prometheus: Option<String>,
    /// How often every check is evaluated during a bake.
    pub interval: Duration,
    /// Errors or no-data answers in a row, per check, before rolling back.
    pub failure_limit: u32,
}

impl CanarySettings {
    /// The settings for a canary of `rev` with the named profile. Which profile an emergency
    /// may use is the caller's rule, not checked here.
    pub fn from_config(
        config: &Config,
        profile: &str,
        rev: String,
        incident: Option<String>,
        workdir: Option<PathBuf>,
    ) -> Result<Self, CanaryError> {
        let deploy = config.deploy.clone().ok_or(CanaryError::NoDeploy)?;
        let canary = config.canary.as_ref().ok_or(CanaryError::NoCanary)?;
        let chosen = canary
            .profiles
            .get(profile)
            .ok_or_else(|| CanaryError::UnknownProfile {
                profile: profile.to_owned(),
                known: canary
                    .profiles
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        Ok(Self {
            deploy: DeployContext {
                deploy,
                incident,
                rev,
                profile: profile.to_owned(),
                workdir,
                timeout: DEFAULT_ACTION_TIMEOUT,
                kill_grace: Duration::from_secs(5),
            },
            profile: chosen.clone(),
            checks: canary.checks.clone(),
            prometheus: canary.prometheus.clone(),
            interval: canary.interval.to_std(),
            failure_limit: canary.failure_limit,
        })
    }

    fn validate(&self) -> Result<(), CanaryError> {
        if self.profile.steps.is_empty() {
            return Err(CanaryError::NoSteps {
                profile: self.deploy.profile.clone(),
            });
        }
        if self.checks.is_empty() {
            return Err(CanaryError::NoChecks);
        }
        if self.interval.is_zero() {
            return Err(CanaryError::ZeroInterval);
        }
        Ok(())
    }
}

/// How long one sample may take: no longer than the interval, so evaluations never pile up.
fn sample_timeout(interval: Duration) -> Duration {
    interval.clamp(Duration::from_millis(100), MAX_SAMPLE_TIMEOUT)
}

fn bounds(check: &CanaryCheck) -> Bounds {
    Bounds {
        min: check.min,
        max: check.max,
    }
}

/// Sends an event; a consumer that went away does not stop the canary (it must still finish
/// or roll back).
fn emit(events: &mpsc::UnboundedSender<CanaryEvent>, event: CanaryEvent) {
    let _ = events.send(event);
}

/// One canary run's working state.
struct Run {
    settings: CanarySettings,
    sources: Arc<Sources>,
    trackers: Vec<CheckTracker>,
    events: mpsc::UnboundedSender<CanaryEvent>,
    cancel: Cancel,
    position: Position,
}

/// Runs the canary to its end: promoted, rolled back, or not started.
pub async fn drive(
    settings: CanarySettings,
    events: mpsc::UnboundedSender<CanaryEvent>,
    cancel: impl Into<Cancel>,
) -> Result<CanaryOutcome, CanaryError> {
    let cancel = cancel.into();
    settings.validate()?;
    let sources = Arc::new(Sources::new(
        settings.prometheus.clone(),
        sample_timeout(settings.interval),
        settings.deploy.workdir.clone(),
    ));
    let trackers = settings
        .checks
        .iter()
        .map(|check| CheckTracker::new(&check.name, bounds(check), settings.failure_limit))
        .collect();
    let mut run = Run {
        settings,
        sources,
        trackers,
        events,
        cancel,
        position: Position::default(),
    };
    Ok(run.drive().await)
}

impl Run {
    async fn drive(&mut self) -> CanaryOutcome {
        emit(
            &self.events,
            CanaryEvent::CanaryStarted {
                at: Timestamp::now(),
                profile: self.settings.deploy.profile.clone(),
                steps: StepPlan::of_profile(&self.settings.profile),
            },
        );
        // The rollback path must be ready before any traffic moves.
        let check = self
            .settings
            .deploy
            .run(Action::RollbackCheck, self.position, self.cancel.clone())
            .await;
        if !check.success() {
            emit(
                &self.events,
                CanaryEvent::RollbackCheckFailed {
                    at: Timestamp::now(),
                    tail: check.tail(),
                },
            );
            return self.finish(CanaryOutcome::NotStarted);
        }
        emit(
            &self.events,
            CanaryEvent::RollbackCheckPassed {
                at: Timestamp::now(),
            },
        );

        let steps = self.settings.profile.steps.clone();
        for (index, step) in steps.iter().enumerate() {
            if self.cancel.is_cancelled() {
                return self.roll_back("cancelled (Ctrl-C)".to_owned()).await;
            }
            self.position = Position {
                step: index + 1,
                weight: step.weight,
            };
            emit(
                &self.events,
                CanaryEvent::StepStarted {
                    at: Timestamp::now(),
                    step: index + 1,
                    weight: step.weight,
                    bake_seconds: step.bake.as_seconds(),
                },
            );
            let set = self
                .settings
                .deploy
                .run(Action::SetWeight, self.position, self.cancel.clone())
                .await;
            if !set.success() {
                let reason = if self.cancel.is_cancelled() {
                    "cancelled (Ctrl-C) while setting the weight".to_owned()
                } else {
                    format!(
                        "set_weight to {}% failed: {}",
                        step.weight,
                        set.tail().join(" | ")
                    )
                };
                return self.roll_back(reason).await;
            }
            if let Err(reason) = self.bake(step.bake.to_std()).await {
                return self.roll_back(reason).await;
            }
        }

        let promote = self
            .settings
            .deploy
            .run(Action::Promote, self.position, Cancel::never())
            .await;
        if !promote.success() {
            return self
                .roll_back(format!("promote failed: {}", promote.tail().join(" | ")))
                .await;
        }
        emit(
            &self.events,
            CanaryEvent::Promoted {
                at: Timestamp::now(),
            },
        );
        self.finish(CanaryOutcome::Promoted)
    }

    /// Evaluates every check at once and then every interval until the bake time has passed
    /// and every check's latest answer was good; `Err` carries why to roll back.
    async fn bake(&mut self, bake: Duration) -> Result<(), String> {
        let bake_end = Instant::now() + bake;
        let mut ticker = tokio::time::interval(self.settings.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err("cancelled (Ctrl-C)".to_owned()),
                _ = ticker.tick() => {}
            }
            self.evaluate().await?;
            if bake_complete(Instant::now() >= bake_end, &self.trackers) {
                return Ok(());
            }
        }
    }

    /// Samples every check concurrently and judges each answer as it arrives, so one bad value
    /// rolls back without waiting for a slower source.
    async fn evaluate(&mut self) -> Result<(), String> {
        let mut pending = JoinSet::new();
        for (index, check) in self.settings.checks.iter().enumerate() {
            let sources = Arc::clone(&self.sources);
            let check = check.clone();
            pending.spawn(async move { (index, sources.sample_for_tracker(&check).await) });
        }
        loop {
            let joined = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err("cancelled (Ctrl-C)".to_owned()),
                joined = pending.join_next() => joined,
            };
            let Some(joined) = joined else {
                return Ok(());
            };
            let (index, sample) = match joined {
                Ok(answer) => answer,
                Err(error) => {
                    // A sampling task that panicked is a broken source, and has no index; it
                    // cannot be counted per check, so it is treated as concerning at once.
                    return Err(format!("a metric sample failed unexpectedly: {error}"));
                }
            };
            let Some(tracker) = self.trackers.get_mut(index) else {
                continue;
            };
            let evaluation = tracker.observe(&sample);
            let bounds = tracker.bounds();
            emit(
                &self.events,
                CanaryEvent::CheckEvaluated {
                    at: Timestamp::now(),
                    step: self.position.step,
                    check: tracker.name().to_owned(),
                    value: evaluation.value,
                    min: bounds.min,
                    max: bounds.max,
                    outcome: evaluation.outcome,
                    detail: evaluation.detail,
                },
            );
            if let Decision::Rollback(reason) = evaluation.decision {
                // Dropping the set aborts the other samples still in flight.
                return Err(reason);
            }
        }
    }

    /// Runs `rollback` at once (never cancelled: it is the way back) and ends the canary.
    async fn roll_back(&mut self, reason: String) -> CanaryOutcome {
        emit(
            &self.events,
            CanaryEvent::RollbackStarted {
                at: Timestamp::now(),
                reason: reason.clone(),
            },
        );
        let finished = self
            .settings
            .deploy
            .run(Action::Rollback, self.position, Cancel::never())
            .await;
        emit(
            &self.events,
            CanaryEvent::RolledBack {
                at: Timestamp::now(),
                reason,
                ok: finished.success(),
                tail: if finished.success() {
                    Vec::new()
                } else {
                    finished.tail()
                },
            },
        );
        self.finish(CanaryOutcome::RolledBack)
    }

    fn finish(&self, outcome: CanaryOutcome) -> CanaryOutcome {
        emit(
            &self.events,
            CanaryEvent::CanaryFinished {
                at: Timestamp::now(),
                outcome,
            },
        );
        outcome
    }
}

/// Everything `verify` needs.
#[derive(Debug, Clone)]
pub struct VerifySettings {
    pub check: CanaryCheck,
    pub prometheus: Option<String>,
    pub interval: Duration,
    /// How long the check must hold within bounds without a break (`--for`).
    pub hold: Duration,
    /// When to give up (`--timeout`).
    pub timeout: Duration,
    /// Where a command check runs.
    pub workdir: Option<PathBuf>,
}

impl VerifySettings {
    /// The settings to verify the named check of the config's canary.
    pub fn from_config(
        config: &Config,
        check: &str,
        hold: Duration,
        timeout: Duration,
        workdir: Option<PathBuf>,
    ) -> Result<Self, CanaryError> {
        let canary = config.canary.as_ref().ok_or(CanaryError::NoCanary)?;
        let found = canary
            .checks
            .iter()
            .find(|candidate| candidate.name == check)
            .ok_or_else(|| CanaryError::UnknownCheck {
                check: check.to_owned(),
                known: canary
                    .checks
                    .iter()
                    .map(|candidate| candidate.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        Ok(Self {
            check: found.clone(),
            prometheus: canary.prometheus.clone(),
            interval: canary.interval.to_std(),
            hold,
            timeout,
            workdir,
        })
    }
}

/// How a verification ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerifyOutcome {
    pub recovered: bool,
    /// From the start of verification to the start of the period the check held.
    pub recovery_seconds: Option<f64>,
    /// When the held period began.
    pub healthy_since: Option<Timestamp>,
}

/// Samples the check every interval until it has held within bounds for `hold` (recovered) or
/// `timeout` passes (not recovered). Cancel ends it with `CanaryError::Cancelled`.
pub async fn verify(
    settings: VerifySettings,
    events: mpsc::UnboundedSender<CanaryEvent>,
    cancel: impl Into<Cancel>,
) -> Result<VerifyOutcome, CanaryError> {
    let mut cancel = cancel.into();
    if settings.interval.is_zero() {
        return Err(CanaryError::ZeroInterval);
    }
    let sources = Sources::new(
        settings.prometheus.clone(),
        sample_timeout(settings.interval),
        settings.workdir.clone(),
    );
    let started = Timestamp::now();
    let deadline = Instant::now() + settings.timeout;
    let mut tracker = VerifyTracker::new(
        bounds(&settings.check),
        settings.hold.as_secs_f64(),
        started,
    );
    emit(
        &events,
        CanaryEvent::VerifyStarted {
            at: started,
            check: settings.check.name.clone(),
            hold_seconds: settings.hold.as_secs(),
            timeout_seconds: settings.timeout.as_secs(),
        },
    );
    let mut ticker = tokio::time::interval(settings.interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let outcome = loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(CanaryError::Cancelled),
            () = tokio::time::sleep_until(deadline) => break VerifyOutcome {
                recovered: false,
                recovery_seconds: None,
                healthy_since: tracker.healthy_since(),
            },
            _ = ticker.tick() => {}
        }
        let sample = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(CanaryError::Cancelled),
            sample = sources.sample_for_tracker(&settings.check) => sample,
        };
        let at = Timestamp::now();
        let state = tracker.observe(at, &sample);
        let (outcome, value, detail) = bounds(&settings.check).classify(&sample);
        emit(
            &events,
            CanaryEvent::VerifySample {
                at,
                check: settings.check.name.clone(),
                value,
                outcome,
                detail,
                healthy_since: tracker.healthy_since(),
            },
        );
        if let VerifyState::Recovered {
            since,
            recovery_seconds,
        } = state
        {
            break VerifyOutcome {
                recovered: true,
                recovery_seconds: Some(recovery_seconds),
                healthy_since: Some(since),
            };
        }
    };
    emit(
        &events,
        CanaryEvent::VerifyFinished {
            at: Timestamp::now(),
            check: settings.check.name.clone(),
            recovered: outcome.recovered,
            recovery_seconds: outcome.recovery_seconds,
            healthy_since: outcome.healthy_since,
        },
    );
    Ok(outcome)
}
