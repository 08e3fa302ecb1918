//! `--summary FILE`: a Markdown summary of the run appended to FILE — what a CI job summary
//! (`$GITHUB_STEP_SUMMARY`) shows: the verdict, its reasons, and every gate.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use fixlane_core::text::for_markdown as cell;
use fixlane_core::{Outcome, RunEvent, Verdict};

use super::lines;

#[derive(Default)]
pub struct MarkdownSummary {
    heading: String,
    rows: Vec<(String, String, String, String)>,
    verdict: Option<(Verdict, Vec<String>)>,
}

impl MarkdownSummary {
    pub fn event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted {
                lane,
                emergency,
                incident,
                rev,
                branch,
                ..
            } => {
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

    pub fn render(&self) -> String {
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

    /// Appends to FILE, as CI summaries collect several steps' output.
    pub fn append(&self, path: &Path) -> anyhow::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|error| {
                anyhow::anyhow!("could not open the summary {}: {error}", path.display())
            })?;
        file.write_all(self.render().as_bytes()).map_err(|error| {
            anyhow::anyhow!("could not write the summary {}: {error}", path.display())
        })
    }
}
