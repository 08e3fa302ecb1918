//! The table at the end of a run: every gate, its tier, what happened, how long it took; and the
//! verdict under it.

use std::io::Write;

use fixlane_core::{GateName, RunEvent, Tier, Verdict};

use super::{Reporter, lines};

struct Row {
    gate: GateName,
    tier: Tier,
    result: String,
    duration_ms: Option<u64>,
}

pub struct Summary<W> {
    out: W,
    rows: Vec<Row>,
    finished: Option<(Verdict, Vec<String>, u64)>,
}

impl<W: Write> Summary<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            rows: Vec::new(),
            finished: None,
        }
    }

    fn set(&mut self, gate: &GateName, result: String, duration_ms: Option<u64>) {
        if let Some(row) = self.rows.iter_mut().find(|row| &row.gate == gate) {
            row.result = result;
            row.duration_ms = duration_ms;
        }
    }

    fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|row| row.gate.as_str().len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut out = format!(
            "\n{:<width$}  {:<9} {:>8}  result\n",
            "gate", "tier", "time"
        );
        for row in &self.rows {
            out.push_str(&format!(
                "{:<width$}  {:<9} {:>8}  {}\n",
                row.gate.as_str(),
                row.tier.as_str(),
                row.duration_ms.map(lines::seconds).unwrap_or_default(),
                fixlane_core::text::for_terminal(&row.result)
            ));
        }
        if let Some((verdict, reasons, duration_ms)) = &self.finished {
            out.push_str(&format!(
                "\n{} (run took {})\n",
                lines::verdict_line("verdict:", *verdict, reasons),
                lines::seconds(*duration_ms)
            ));
        }
        out
    }
}

impl<W: Write> Reporter for Summary<W> {
    fn event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::GateQueued { gate, tier, .. } => self.rows.push(Row {
                gate: gate.clone(),
                tier: *tier,
                result: "queued".to_owned(),
                duration_ms: None,
            }),
            RunEvent::GateSkipped {
                gate, tier, reason, ..
            } => self.rows.push(Row {
                gate: gate.clone(),
                tier: *tier,
                result: reason.to_string(),
                duration_ms: None,
            }),
            RunEvent::GateFinished {
                gate,
                outcome,
                duration_ms,
                ..
            } => self.set(gate, outcome.as_str().to_owned(), Some(*duration_ms)),
            RunEvent::GateCancelled {
                gate, duration_ms, ..
            } => self.set(gate, "cancelled".to_owned(), Some(*duration_ms)),
            RunEvent::GateNotRun { gate, because, .. } => {
                self.set(gate, format!("not run ({because} did not pass)"), None);
            }
            RunEvent::RunFinished {
                verdict,
                reasons,
                duration_ms,
                ..
            } => self.finished = Some((*verdict, reasons.clone(), *duration_ms)),
            _ => {}
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        // Shown on the way out, like the lines above it: a closed log is not the run's error.
        let _ = self.out.write_all(self.render().as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn every_gate_is_a_row_and_the_verdict_comes_last() {
        let mut summary = Summary::new(Vec::new());
        for event in &fixtures::run() {
            summary.event(event);
        }
        summary.finish().unwrap();
        insta::assert_snapshot!(String::from_utf8(summary.out).unwrap());
    }

    #[test]
    fn a_run_whose_end_was_not_recorded_has_a_table_and_no_verdict() {
        let mut summary = Summary::new(Vec::new());
        let events = fixtures::run();
        for event in &events[..events.len() - 1] {
            summary.event(event);
        }
        summary.finish().unwrap();
        let text = String::from_utf8(summary.out).unwrap();
        assert!(
            text.contains("test    critical      3.4s  failed\n"),
            "{text}"
        );
        assert!(!text.contains("verdict"), "{text}");
    }
}
