//! Showing a canary or a verification as it happens: plain lines (CI, pipes), a live status
//! line in a terminal, or JSON Lines.

use std::io::Write;
use std::time::Duration;

use fixlane_canary::CanaryEvent;
use fixlane_core::canary::CheckOutcome;
use fixlane_core::text::{for_terminal, for_terminal_output};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn bound(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!("{min}..{max}"),
        (Some(min), None) => format!("≥ {min}"),
        (None, Some(max)) => format!("≤ {max}"),
        (None, None) => "unbounded".to_owned(),
    }
}

fn value(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |value| format!("{value:.4}"))
}

/// A program's output lines under an event, each escaped.
fn tail_lines(tail: &[String]) -> String {
    tail.iter()
        .map(|line| format!("    │ {}", for_terminal_output(line)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The line (or lines) a person reads for an event. Names, details and reasons come from the
/// config, metric sources and check programs, so the event's own line is escaped as a whole
/// and each output line under it on its own.
pub fn describe(event: &CanaryEvent) -> String {
    match event {
        CanaryEvent::RollbackCheckFailed { tail, .. } => format!(
            "ROLLBACK PATH NOT READY: rollback_check failed, so the canary does not start\n{}",
            tail_lines(tail)
        ),
        CanaryEvent::RolledBack {
            ok: false, tail, ..
        } => format!(
            "ROLLBACK ACTION FAILED — act by hand now\n{}",
            tail_lines(tail)
        ),
        other => for_terminal(&describe_line(other)).into_owned(),
    }
}

fn describe_line(event: &CanaryEvent) -> String {
    match event {
        CanaryEvent::CanaryStarted { profile, steps, .. } => format!(
            "canary: profile {profile}: {}",
            steps
                .iter()
                .map(|step| format!("{}% for {}s", step.weight, step.bake_seconds))
                .collect::<Vec<_>>()
                .join(" → ")
        ),
        CanaryEvent::RollbackCheckPassed { .. } => {
            "rollback path ready: rollback_check passed".to_owned()
        }
        CanaryEvent::RollbackCheckFailed { .. } => {
            "ROLLBACK PATH NOT READY: rollback_check failed, so the canary does not start"
                .to_owned()
        }
        CanaryEvent::StepStarted {
            step,
            weight,
            bake_seconds,
            ..
        } => format!("step {step}: weight {weight}%, baking {bake_seconds}s"),
        CanaryEvent::CheckEvaluated {
            step,
            check,
            value: sample,
            min,
            max,
            outcome,
            detail,
            ..
        } => format!(
            "  step {step} {check} = {} ({}) {}{}",
            value(*sample),
            bound(*min, *max),
            match outcome {
                CheckOutcome::Ok => "ok",
                CheckOutcome::OutOfBounds => "OUT OF BOUNDS",
                CheckOutcome::NoData => "no data",
                CheckOutcome::Error => "error",
            },
            detail
                .as_ref()
                .map(|detail| format!(": {detail}"))
                .unwrap_or_default()
        ),
        CanaryEvent::RollbackStarted { reason, .. } => format!("ROLLBACK: {reason}"),
        CanaryEvent::RolledBack { ok, .. } => {
            if *ok {
                "rolled back: the rollback action succeeded".to_owned()
            } else {
                "ROLLBACK ACTION FAILED — act by hand now".to_owned()
            }
        }
        CanaryEvent::Promoted { .. } => "promoted: the fix is at 100%".to_owned(),
        CanaryEvent::CanaryFinished { outcome, .. } => {
            format!("canary finished: {}", outcome.as_str())
        }
        CanaryEvent::VerifyStarted {
            check,
            hold_seconds,
            timeout_seconds,
            ..
        } => format!(
            "verify: {check} must stay within bounds for {hold_seconds}s (giving up after {timeout_seconds}s)"
        ),
        CanaryEvent::VerifySample {
            check,
            value: sample,
            outcome,
            healthy_since,
            ..
        } => format!(
            "  {check} = {} {}{}",
            value(*sample),
            match outcome {
                CheckOutcome::Ok => "ok",
                CheckOutcome::OutOfBounds => "out of bounds",
                CheckOutcome::NoData => "no data",
                CheckOutcome::Error => "error",
            },
            healthy_since
                .map(|since| format!(
                    ", healthy since {}",
                    since.strftime("%Y-%m-%d %H:%M:%S UTC")
                ))
                .unwrap_or_default()
        ),
        CanaryEvent::VerifyFinished {
            check,
            recovered,
            recovery_seconds,
            ..
        } => {
            if *recovered {
                format!(
                    "verified: {check} recovered{}",
                    recovery_seconds
                        .map(|seconds| format!(" after {seconds:.0}s"))
                        .unwrap_or_default()
                )
            } else {
                format!("NOT RECOVERED: {check} did not hold within bounds before the timeout")
            }
        }
    }
}

/// Where canary events are shown.
pub enum CanaryView {
    Json,
    Plain,
    /// The live bar, and each check's latest value against its bound.
    Terminal(ProgressBar, std::collections::BTreeMap<String, String>),
}

impl CanaryView {
    pub fn choose(json: bool) -> Self {
        if json {
            CanaryView::Json
        } else if super::live_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner:.cyan} {prefix} [{bar:20}] {pos}/{len}s {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            CanaryView::Terminal(bar, std::collections::BTreeMap::new())
        } else {
            CanaryView::Plain
        }
    }

    pub fn event(&mut self, event: &CanaryEvent) {
        match self {
            CanaryView::Json => {
                if let Ok(line) = serde_json::to_string(event) {
                    let mut stdout = std::io::stdout().lock();
                    let _ = writeln!(stdout, "{line}");
                    let _ = stdout.flush();
                }
            }
            CanaryView::Plain => {
                eprintln!(
                    "[{}] {}",
                    super::lines::timestamp(event.at()),
                    describe(event)
                );
            }
            CanaryView::Terminal(bar, latest) => match event {
                CanaryEvent::StepStarted {
                    step,
                    weight,
                    bake_seconds,
                    ..
                } => {
                    bar.set_prefix(format!("step {step} · {weight}%"));
                    bar.set_length(*bake_seconds);
                    bar.set_position(0);
                    bar.reset_elapsed();
                    bar.println(describe(event));
                }
                CanaryEvent::CheckEvaluated {
                    check,
                    value: sample,
                    min,
                    max,
                    outcome,
                    ..
                } => {
                    let mark = if *outcome == CheckOutcome::Ok {
                        "✓"
                    } else {
                        "✗"
                    };
                    latest.insert(
                        check.clone(),
                        format!(
                            "{} {} {} {mark}",
                            for_terminal(check),
                            value(*sample),
                            bound(*min, *max)
                        ),
                    );
                    bar.set_position(bar.elapsed().as_secs().min(bar.length().unwrap_or(0)));
                    bar.set_message(latest.values().cloned().collect::<Vec<_>>().join(" · "));
                }
                CanaryEvent::VerifySample { .. } => {
                    bar.set_message(describe(event).trim().to_owned());
                }
                _ => bar.println(describe(event)),
            },
        }
    }

    pub fn finish(&mut self) {
        if let CanaryView::Terminal(bar, _) = self {
            bar.finish_and_clear();
        }
    }
}
