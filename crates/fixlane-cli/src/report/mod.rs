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

/// Whether a person watches: stderr is a terminal and `CI` is not set. Off a TTY indicatif
/// draws nothing, so CI gets plain lines instead.
pub fn live_terminal() -> bool {
    let ci = std::env::var("CI")
        .is_ok_and(|value| !value.is_empty() && value != "false" && value != "0");
    std::io::stderr().is_terminal() && !ci
}

/// JSON when asked; the live view in a terminal; plain timestamped lines in CI or a pipe.
pub fn choose(json: bool) -> Box<dyn Reporter> {
    if json {
        Box::new(json::JsonReporter)
    } else if live_terminal() {
        Box::new(terminal::TerminalReporter::new())
    } else {
        Box::new(plain::PlainReporter::default())
    }
}
