//! `--json`: one JSON object per event per line (standard output), flushed as it happens.

use std::io::Write;

use fixlane_core::RunEvent;

use super::Reporter;

pub struct JsonReporter<W> {
    out: W,
}

impl<W: Write> JsonReporter<W> {
    pub fn new(out: W) -> Self {
        Self { out }
    }
}

impl<W: Write> Reporter for JsonReporter<W> {
    fn event(&mut self, event: &RunEvent) {
        if let Ok(line) = serde_json::to_string(event) {
            // A closed pipe (e.g. `| head`) must not abort the run: the store still records it.
            let _ = writeln!(self.out, "{line}");
            let _ = self.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn every_event_is_one_line_of_json() {
        let mut reporter = JsonReporter::new(Vec::new());
        let events = fixtures::run();
        for event in &events {
            reporter.event(event);
        }
        reporter.finish().unwrap();
        let text = String::from_utf8(reporter.out).unwrap();
        assert_eq!(text.lines().count(), events.len());
        for (line, event) in text.lines().zip(&events) {
            let parsed: RunEvent = serde_json::from_str(line).unwrap();
            assert_eq!(&parsed, event);
        }
        insta::assert_snapshot!(text);
    }
}
