//! Plain timestamped lines for CI logs and pipes, where a live view would only make noise.

use fixlane_core::RunEvent;

use super::Reporter;
use super::lines;
use super::summary::Summary;

#[derive(Default)]
pub struct PlainReporter {
    summary: Summary,
}

impl Reporter for PlainReporter {
    fn event(&mut self, event: &RunEvent) {
        self.summary.event(event);
        let at = lines::timestamp(event.at());
        if let Some(line) = lines::describe(event) {
            eprintln!("[{at}] {line}");
        }
        if let Some(tail) = lines::failure_tail(event) {
            eprint!("{tail}");
        }
    }

    fn finish(&mut self) {
        eprint!("{}", self.summary.render());
    }
}
