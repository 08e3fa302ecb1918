//! `--json`: one JSON object per event per line on standard output, flushed as it happens.

use std::io::Write;

use fixlane_core::RunEvent;

use super::Reporter;

pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn event(&mut self, event: &RunEvent) {
        if let Ok(line) = serde_json::to_string(event) {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (e.g. `| head`) must not abort the run: the store still records it.
            let _ = writeln!(stdout, "{line}");
            let _ = stdout.flush();
        }
    }
}
