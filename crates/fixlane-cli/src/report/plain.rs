//! Plain timestamped lines for CI logs and pipes, where a live view would only make noise.

use std::io::Write;

use fixlane_core::RunEvent;

use super::Reporter;
use super::lines;

pub struct PlainReporter<W> {
    out: W,
    /// `--explain`: a line per gate saying why it runs or not.
    explain: bool,
}

impl<W: Write> PlainReporter<W> {
    pub fn new(out: W, explain: bool) -> Self {
        Self { out, explain }
    }
}

impl<W: Write> Reporter for PlainReporter<W> {
    fn event(&mut self, event: &RunEvent) {
        // One write per event: stderr is unbuffered, and a line written in pieces costs a
        // system call per piece, several per gate on the scheduler's thread.
        let at = lines::timestamp(event.at());
        let mut text = String::new();
        for line in lines::shown(event, self.explain) {
            text.push_str(&format!("[{at}] {line}\n"));
        }
        if let Some(tail) = lines::failure_tail(event) {
            text.push_str(&tail);
        }
        // A log that cannot be written must not stop the gates: the store still records them.
        if !text.is_empty() {
            let _ = self.out.write_all(text.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn each_event_worth_reading_is_a_timestamped_line_with_the_failure_under_it() {
        let mut reporter = PlainReporter::new(Vec::new(), false);
        for event in &fixtures::run() {
            reporter.event(event);
        }
        reporter.finish().unwrap();
        insta::assert_snapshot!(String::from_utf8(reporter.out).unwrap());
    }

    #[test]
    fn explain_says_why_each_gate_runs_or_not() {
        let mut reporter = PlainReporter::new(Vec::new(), true);
        for event in &fixtures::run() {
            reporter.event(event);
        }
        reporter.finish().unwrap();
        insta::assert_snapshot!(String::from_utf8(reporter.out).unwrap());
    }
}
