//! The words shared by the terminal and plain views, so both say the same thing.
//!
//! Each line is escaped here, once for both views: a line names the branch, the reasons of
//! the verdict and a failing gate's output, which anyone who can push or print can choose.

use fixlane_core::event::Selection;
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

/// Up to this many package names are shown on a line; `--json` has them all.
const NAMES_SHOWN: usize = 8;

/// `a, b, c and 5 more`.
fn names(list: &[String]) -> String {
    let mut text = list[..list.len().min(NAMES_SHOWN)].join(", ");
    if list.len() > NAMES_SHOWN {
        text.push_str(&format!(" and {} more", list.len() - NAMES_SHOWN));
    }
    text
}

/// What a run selected, in words, unescaped: the base line, the packages line, and a line per
/// warning. Each view escapes them for where they go.
pub fn selection_raw(selection: &Selection) -> Vec<String> {
    let mut lines = Vec::new();
    let mut base = match &selection.base {
        Some(base) => format!(
            "base {} ({}), {}",
            short(base),
            selection.base_choice,
            selection.changed_files.map_or_else(
                || "changed files unknown".to_owned(),
                |count| plural::count(count, "changed file", "changed files"),
            )
        ),
        None => format!(
            "base {}: what changed is unknown, so every gate runs",
            selection.base_choice
        ),
    };
    if selection.full {
        base.push_str("; a full run, so every gate of the lane runs");
    }
    lines.push(base);
    let packages = &selection.packages;
    let all = packages.all();
    lines.push(match (&packages.everything, all.is_empty()) {
        (Some(_), true) => "packages: none found".to_owned(),
        (Some(why), false) => {
            let mut line = format!("packages: all {}, because {why}", all.len());
            if !packages.direct.is_empty() {
                line.push_str(&format!(" (changed: {})", names(&packages.direct)));
            }
            line
        }
        (None, true) => "packages: none changed".to_owned(),
        (None, false) => {
            let them = if packages.direct.len() == 1 {
                "it"
            } else {
                "them"
            };
            if packages.dependents.is_empty() {
                format!(
                    "packages: {} changed; nothing depends on {them}",
                    names(&packages.direct)
                )
            } else {
                format!(
                    "packages: {} changed; {} {} on {them}: {}",
                    names(&packages.direct),
                    packages.dependents.len(),
                    if packages.dependents.len() == 1 {
                        "depends"
                    } else {
                        "depend"
                    },
                    names(&packages.dependents)
                )
            }
        }
    });
    lines.extend(
        packages
            .warnings
            .iter()
            .map(|warning| format!("warning: {warning}")),
    );
    lines
}

/// The lines under a run's first, for terminals: what it selected.
pub fn selection(event: &RunEvent) -> Vec<String> {
    match event {
        RunEvent::RunStarted { selection, .. } => selection_raw(selection)
            .iter()
            .map(|line| for_terminal(line).into_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// `--explain`: why a gate was selected, shortened, skipped or owed; `None` for other events
/// and for a plan stored before it said why.
pub fn explain(event: &RunEvent) -> Option<String> {
    let (RunEvent::GateQueued {
        gate,
        tier,
        decision,
        explanation,
        ..
    }
    | RunEvent::GateSkipped {
        gate,
        tier,
        decision,
        explanation,
        ..
    }) = event
    else {
        return None;
    };
    if explanation.is_empty() {
        return None;
    }
    Some(
        for_terminal(&format!(
            "{:<8} {gate} ({}): {explanation}",
            decision.as_str(),
            tier.as_str()
        ))
        .into_owned(),
    )
}

/// Every line an event shows a person, escaped: its own, what a run selected under its first,
/// and with `explain` why a gate runs or not — in place of a skipped gate's own line, which
/// says less.
pub fn shown(event: &RunEvent, explain: bool) -> Vec<String> {
    let explained = if explain { self::explain(event) } else { None };
    let replaced = explained.is_some() && matches!(event, RunEvent::GateSkipped { .. });
    let mut shown: Vec<String> = if replaced {
        Vec::new()
    } else {
        describe(event).into_iter().collect()
    };
    shown.extend(selection(event));
    shown.extend(explained);
    shown
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

#[cfg(test)]
mod tests {
    use fixlane_core::affected::Affected;
    use fixlane_core::event::BaseChoice;

    use super::*;
    use crate::report::fixtures;

    fn selection(event: &RunEvent) -> &Selection {
        match event {
            RunEvent::RunStarted { selection, .. } => selection,
            _ => unreachable!("a run_started event"),
        }
    }

    #[test]
    fn every_package_says_why_and_each_warning_is_a_line() {
        let events = fixtures::green();
        assert_eq!(
            selection_raw(selection(&events[0])),
            [
                "base fedcba987654 (its parent, as the commit is on the default branch or there is none), 1 changed file",
                "packages: all 2, because `Cargo.lock` changed: a lockfile is a global input",
                "warning: `crates/x/Cargo.toml` could not be read (TOML parse error at line 1, column 9), so every package is selected",
            ]
        );
    }

    #[test]
    fn no_base_a_full_run_and_long_lists_read_as_sentences() {
        let unknown = Selection::default();
        assert_eq!(
            selection_raw(&unknown),
            [
                "base none (a root commit or a shallow clone): what changed is unknown, so every gate runs",
                "packages: none changed",
            ]
        );
        let many: Vec<String> = (0..10).map(|index| format!("p{index}")).collect();
        let full = Selection {
            base: Some("0123456789abcdef".to_owned()),
            base_choice: BaseChoice::Given {
                spec: "v1.2".to_owned(),
            },
            changed_files: Some(0),
            full: true,
            packages: Affected {
                direct: vec!["a".to_owned(), "b".to_owned()],
                dependents: many,
                everything: None,
                warnings: Vec::new(),
            },
        };
        assert_eq!(
            selection_raw(&full),
            [
                "base 0123456789ab (given with --base v1.2), 0 changed files; a full run, so every gate of the lane runs",
                "packages: a, b changed; 10 depend on them: p0, p1, p2, p3, p4, p5, p6, p7 and 2 more",
            ]
        );
        let alone = Selection {
            packages: Affected {
                direct: vec!["a".to_owned()],
                ..Affected::default()
            },
            ..full
        };
        assert_eq!(
            selection_raw(&alone)[1],
            "packages: a changed; nothing depends on it"
        );
    }
}
