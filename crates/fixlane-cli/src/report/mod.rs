//! Consumers of `RunEvent`s that show a run: the terminal view, plain CI lines, JSON Lines, `JUnit`.

pub mod canary;
pub mod json;
pub mod junit;
pub mod lines;
pub mod markdown;
pub mod plain;
pub mod summary;
pub mod terminal;

use std::io::IsTerminal;

use fixlane_core::RunEvent;

/// Something that shows events as they happen.
pub trait Reporter {
    fn event(&mut self, event: &RunEvent);
    /// Called once after the last event.
    fn finish(&mut self) {}
}

/// JSON when asked; the live view in a terminal; plain timestamped lines in CI or a pipe.
pub fn choose(json: bool) -> Box<dyn Reporter> {
    let ci = std::env::var("CI")
        .is_ok_and(|value| !value.is_empty() && value != "false" && value != "0");
    if json {
        Box::new(json::JsonReporter)
    } else if std::io::stderr().is_terminal() && !ci {
        Box::new(terminal::TerminalReporter::new())
    } else {
        Box::new(plain::PlainReporter::default())
    }
}
