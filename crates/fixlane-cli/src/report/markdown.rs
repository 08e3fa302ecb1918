//! `--summary FILE`: a Markdown summary of the run appended to FILE — what a CI job summary
//! (`$GITHUB_STEP_SUMMARY`) shows: the verdict, its reasons, and every gate.

use std::fmt::Write as _;
use std::io::Write;

use fixlane_core::text::for_markdown as cell;
use fixlane_core::{Outcome, RunEvent, Verdict};

use super::{Reporter, lines};

pub struct MarkdownSummary<W> {
    out: W,
    heading: String,
    /// What the run selected (base, changed files, packages), in the run's first lines.
    selection: Vec<String>,
    rows: Vec<(String, String, String, String)>,
    verdict: Option<(Verdict, Vec<String>)>,
}

impl<W: Write> MarkdownSummary<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            heading: String::new(),
            selection: Vec::new(),
            rows: Vec::new(),
            verdict: None,
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let (verdict, reasons) = self
            .verdict
            .clone()
            .unwrap_or((Verdict::Blocked, vec!["the run did not finish".to_owned()]));
        let _ = writeln!(
            out,
            "### fixlane: **{}** — {}\n",
            lines::verdict_word(verdict),
            self.heading
        );
        if !self.selection.is_empty() {
            // A backslash at a line's end is Markdown's line break: one paragraph, a line each.
            let lines: Vec<String> = self
                .selection
                .iter()
                .map(|line| cell(line).into_owned())
                .collect();
            let _ = writeln!(out, "{}\n", lines.join("\\\n"));
        }
        for reason in &reasons {
            let _ = writeln!(out, "- {}", cell(reason));
        }
        if !reasons.is_empty() {
            out.push('\n');
        }
        out.push_str("| gate | tier | result | time |\n|---|---|---|---|\n");
        for (gate, tier, result, time) in &self.rows {
            let _ = writeln!(out, "| {} | {tier} | {result} | {time} |", cell(gate));
        }
        out.push('\n');
        out
    }
}

impl<W: Write> Reporter for MarkdownSummary<W> {
    fn event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted {
                lane,
                emergency,
                incident,
                rev,
                branch,
                selection,
                ..
            } => {
                self.selection = lines::selection_raw(selection);
                self.heading = format!(
                    "lane `{lane}`{}{} on `{}`{}",
                    if *emergency { " (emergency)" } else { "" },
                    incident
                        .as_ref()
                        .map(|incident| format!(" for {incident}"))
                        .unwrap_or_default(),
                    fixlane_core::rev::short(rev),
                    branch
                        .as_ref()
                        .map(|branch| format!(" ({})", cell(branch)))
                        .unwrap_or_default()
                );
            }
            RunEvent::GateFinished {
                gate,
                tier,
                outcome,
                duration_ms,
                ..
            } => self.rows.push((
                gate.to_string(),
                tier.as_str().to_owned(),
                match outcome {
                    Outcome::Passed => "✅ passed".to_owned(),
                    other => format!("❌ {}", other.as_str()),
                },
                lines::seconds(*duration_ms),
            )),
            RunEvent::GateSkipped {
                gate, tier, reason, ..
            } => self.rows.push((
                gate.to_string(),
                tier.as_str().to_owned(),
                format!("⏭️ {}", cell(&reason.to_string())),
                String::new(),
            )),
            RunEvent::GateCancelled { gate, tier, .. } => self.rows.push((
                gate.to_string(),
                tier.as_str().to_owned(),
                "⛔ cancelled".to_owned(),
                String::new(),
            )),
            RunEvent::GateNotRun {
                gate,
                tier,
                because,
                ..
            } => self.rows.push((
                gate.to_string(),
                tier.as_str().to_owned(),
                format!("⛔ not run: needs {because}"),
                String::new(),
            )),
            RunEvent::RunFinished {
                verdict, reasons, ..
            } => self.verdict = Some((*verdict, reasons.clone())),
            _ => {}
        }
    }

    /// Appended to FILE (see `for_run`), as CI summaries collect several steps' output.
    fn finish(&mut self) -> anyhow::Result<()> {
        self.out.write_all(self.render().as_bytes())?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn the_verdict_its_reasons_and_every_gate_in_a_table() {
        let mut summary = MarkdownSummary::new(Vec::new());
        for event in &fixtures::run() {
            summary.event(event);
        }
        summary.finish().unwrap();
        insta::assert_snapshot!(String::from_utf8(summary.out).unwrap());
    }

    #[test]
    fn a_run_whose_end_was_not_recorded_is_blocked() {
        let mut summary = MarkdownSummary::new(Vec::new());
        let events = fixtures::run();
        for event in &events[..events.len() - 1] {
            summary.event(event);
        }
        summary.finish().unwrap();
        let text = String::from_utf8(summary.out).unwrap();
        assert!(
            text.starts_with("### fixlane: **BLOCKED** — lane `hotfix` (emergency)"),
            "{text}"
        );
        assert!(text.contains("- the run did not finish\n"), "{text}");
    }
}
