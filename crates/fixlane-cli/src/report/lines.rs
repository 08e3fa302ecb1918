//! The words shared by the terminal and plain views, so both say the same thing.
//!
//! Each line is escaped here, once for both views: a line names the branch, the reasons of
//! the verdict and a failing gate's output, which anyone who can push or print can choose.

use fixlane_core::rev::short;
use fixlane_core::text::{for_terminal, for_terminal_output};
use fixlane_core::{Outcome, RunEvent, Verdict};

use fixlane_core::plural;

pub fn seconds(milliseconds: u64) -> String {
    #[expect(
        clippy::cast_precision_loss,
        reason = "a duration shown to a tenth of a second; exact below 2^52 ms (142 000 years)"
    )]
    let seconds = milliseconds as f64 / 1000.0;
    format!("{seconds:.1}s")
}

/// The time at the start of a plain line: UTC to the millisecond.
pub fn timestamp(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub fn verdict_word(verdict: Verdict) -> String {
    verdict.as_str().to_uppercase()
}

/// One line per event worth showing a person; `None` for the rest.
pub fn describe(event: &RunEvent) -> Option<String> {
    describe_raw(event).map(|line| for_terminal(&line).into_owned())
}

fn describe_raw(event: &RunEvent) -> Option<String> {
    match event {
        RunEvent::RunStarted {
            run_id,
            lane,
            emergency,
            incident,
            rev,
            branch,
            jobs,
            ..
        } => Some(format!(
            "run {run_id}: lane {lane}{}{} on {}{} with {}",
            if *emergency { " (emergency)" } else { "" },
            incident
                .as_ref()
                .map(|incident| format!(" for {incident}"))
                .unwrap_or_default(),
            short(rev),
            branch
                .as_ref()
                .map(|branch| format!(" ({branch})"))
                .unwrap_or_default(),
            plural::count(*jobs, "job", "jobs"),
        )),
        RunEvent::GateStarted { gate, .. } => Some(format!("started  {gate}")),
        RunEvent::GateFinished {
            gate,
            tier,
            outcome,
            exit_code,
            duration_ms,
            ..
        } => Some(match outcome {
            Outcome::Passed => format!(
                "passed   {gate} ({}) in {}",
                tier.as_str(),
                seconds(*duration_ms)
            ),
            Outcome::Failed => format!(
                "FAILED   {gate} ({}) with exit code {} after {}",
                tier.as_str(),
                exit_code.map_or_else(
                    || "none (killed by a signal)".to_owned(),
                    |code| code.to_string()
                ),
                seconds(*duration_ms)
            ),
            Outcome::TimedOut => format!(
                "TIMEOUT  {gate} ({}) after {}; its process group was stopped",
                tier.as_str(),
                seconds(*duration_ms)
            ),
            Outcome::Cancelled => format!("cancelled {gate} ({})", tier.as_str()),
        }),
        RunEvent::GateCancelled {
            gate,
            tier,
            started,
            ..
        } => Some(format!(
            "cancelled {gate} ({}){}",
            tier.as_str(),
            if *started {
                ": its process group was stopped"
            } else {
                " before it started"
            }
        )),
        RunEvent::GateSkipped {
            gate, tier, reason, ..
        } => Some(format!("skipped  {gate} ({}): {reason}", tier.as_str())),
        RunEvent::GateNotRun {
            gate,
            tier,
            because,
            ..
        } => Some(format!(
            "not run  {gate} ({}): it needs {because}, which did not pass",
            tier.as_str()
        )),
        RunEvent::VerdictChanged {
            verdict, reasons, ..
        } => Some(verdict_line_raw("verdict ", *verdict, reasons)),
        RunEvent::GateQueued { .. } | RunEvent::RunFinished { .. } => None,
    }
}

/// The verdict and its first reasons, on one line.
pub fn verdict_line(prefix: &str, verdict: Verdict, reasons: &[String]) -> String {
    for_terminal(&verdict_line_raw(prefix, verdict, reasons)).into_owned()
}

fn verdict_line_raw(prefix: &str, verdict: Verdict, reasons: &[String]) -> String {
    // A 1 000-gate run waits on many gates at once; the first few say enough.
    const SHOWN: usize = 3;
    let mut line = format!("{prefix} {}", verdict_word(verdict));
    match verdict {
        Verdict::Green => line.push_str(" — every selected gate passed"),
        Verdict::Ready => line.push_str(" — safe to merge: critical and required gates are done"),
        Verdict::Waiting | Verdict::Blocked => {}
    }
    if !reasons.is_empty() {
        line.push_str(" — ");
        line.push_str(&reasons[..reasons.len().min(SHOWN)].join("; "));
        if reasons.len() > SHOWN {
            line.push_str(&format!("; and {} more", reasons.len() - SHOWN));
        }
    }
    line
}

/// The failure report under a failed gate: its log's last lines and where the rest is.
pub fn failure_tail(event: &RunEvent) -> Option<String> {
    let RunEvent::GateFinished {
        outcome, tail, log, ..
    } = event
    else {
        return None;
    };
    if matches!(outcome, Outcome::Passed | Outcome::Cancelled) {
        return None;
    }
    let mut text = String::new();
    for line in tail {
        text.push_str("    │ ");
        text.push_str(&for_terminal_output(line));
        text.push('\n');
    }
    if let Some(log) = log {
        text.push_str(&format!("    └ full log: {}\n", for_terminal(log)));
    }
    Some(text)
}
