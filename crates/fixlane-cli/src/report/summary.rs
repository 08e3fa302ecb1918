//! The table at the end of a run: every gate, its tier, what happened, how long it took.

use fixlane_core::{GateName, RunEvent, Tier, Verdict};

use super::lines;

struct Row {
    gate: GateName,
    tier: Tier,
    result: String,
    duration_ms: Option<u64>,
}

#[derive(Default)]
pub struct Summary {
    rows: Vec<Row>,
    finished: Option<(Verdict, Vec<String>, u64)>,
}

impl Summary {
    pub fn event(&mut self, event: &RunEvent) {
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

    fn set(&mut self, gate: &GateName, result: String, duration_ms: Option<u64>) {
        if let Some(row) = self.rows.iter_mut().find(|row| &row.gate == gate) {
            row.result = result;
            row.duration_ms = duration_ms;
        }
    }

    pub fn render(&self) -> String {
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
