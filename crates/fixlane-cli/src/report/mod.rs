//! Consumers of `RunEvent`s: the terminal view, plain CI lines, JSON Lines, the summary table,
//! `JUnit`, the Markdown summary, and the feed to the store's recorder. Each is a [`Reporter`]
//! writing into an `io::Write` it is given, so each is tested on a `Vec<u8>`; [`Reporters`] feeds
//! several as one.

pub mod canary;
pub mod file;
pub mod json;
pub mod junit;
pub mod lines;
pub mod markdown;
pub mod plain;
pub mod recorder;
pub mod summary;
pub mod terminal;

#[cfg(test)]
pub mod fixtures;

use std::io::IsTerminal;
use std::path::Path;

use fixlane_core::RunEvent;
use indicatif::ProgressDrawTarget;

use self::file::ReportFile;

/// Something that hears a run's events as they happen.
pub trait Reporter {
    fn event(&mut self, event: &RunEvent);
    /// Called once after the last event: writes what was gathered (a table, a report file).
    fn finish(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Several reporters heard as one, in the order they were added. They finish in that order,
/// and the first that cannot write its report stops the rest: that failure is the run's error.
#[derive(Default)]
pub struct Reporters(Vec<Box<dyn Reporter>>);

impl Reporters {
    pub fn push(&mut self, reporter: impl Reporter + 'static) {
        self.0.push(Box::new(reporter));
    }
}

impl Reporter for Reporters {
    fn event(&mut self, event: &RunEvent) {
        for reporter in &mut self.0 {
            reporter.event(event);
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.0.iter_mut().try_for_each(|reporter| reporter.finish())
    }
}

/// Whether a person watches: stderr is a terminal and `CI` is not set. Off a TTY indicatif
/// draws nothing, so CI gets plain lines instead.
pub fn live_terminal() -> bool {
    let ci = std::env::var("CI")
        .is_ok_and(|value| !value.is_empty() && value != "false" && value != "0");
    std::io::stderr().is_terminal() && !ci
}

/// How a run is shown while it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// `--json`: JSON Lines on standard output.
    Json,
    /// The live view, for a person at a terminal.
    Terminal,
    /// Plain timestamped lines, for CI and pipes.
    Plain,
}

impl View {
    /// JSON when asked; the live view in a terminal; plain timestamped lines in CI or a pipe.
    pub fn choose(json: bool) -> Self {
        if json {
            View::Json
        } else if live_terminal() {
            View::Terminal
        } else {
            View::Plain
        }
    }
}

/// A run's reporters, in the order they are heard and finish: the view (with a line per gate
/// saying why, for `--explain`; JSON always carries it), the summary table under it (not under
/// JSON, which stays machine-readable), then the `JUnit` report and the Markdown summary when
/// asked for.
pub fn for_run(
    view: View,
    explain: bool,
    junit: Option<&Path>,
    summary: Option<&Path>,
) -> Reporters {
    let mut reporters = Reporters::default();
    match view {
        View::Json => reporters.push(json::JsonReporter::new(std::io::stdout())),
        View::Terminal => {
            reporters.push(terminal::TerminalReporter::new(
                ProgressDrawTarget::stderr(),
                std::io::stderr(),
                explain,
            ));
            reporters.push(summary::Summary::new(std::io::stderr()));
        }
        View::Plain => {
            reporters.push(plain::PlainReporter::new(std::io::stderr(), explain));
            reporters.push(summary::Summary::new(std::io::stderr()));
        }
    }
    if let Some(path) = junit {
        reporters.push(junit::JunitReport::new(ReportFile::replace(
            path,
            "JUnit report",
        )));
    }
    if let Some(path) = summary {
        reporters.push(markdown::MarkdownSummary::new(ReportFile::append(
            path, "summary",
        )));
    }
    reporters
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    /// Writes down what it hears, under its name, into a log shared with the others.
    struct Named(&'static str, Rc<RefCell<Vec<String>>>, bool);

    impl Reporter for Named {
        fn event(&mut self, event: &RunEvent) {
            self.1
                .borrow_mut()
                .push(format!("{} heard {}", self.0, lines::timestamp(event.at())));
        }

        fn finish(&mut self) -> anyhow::Result<()> {
            self.1.borrow_mut().push(format!("{} finished", self.0));
            if self.2 {
                anyhow::bail!("{} could not write", self.0)
            }
            Ok(())
        }
    }

    #[test]
    fn reporters_hear_each_event_in_turn_and_the_first_failure_stops_the_finish() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let mut reporters = Reporters::default();
        reporters.push(Named("view", log.clone(), false));
        reporters.push(Named("junit", log.clone(), true));
        reporters.push(Named("summary", log.clone(), false));
        let events = fixtures::run();
        reporters.event(&events[0]);
        reporters.event(&events[1]);
        let error = reporters.finish().unwrap_err();
        assert_eq!(error.to_string(), "junit could not write");
        assert_eq!(
            *log.borrow(),
            [
                "view heard 2026-12-01T12:00:00.000Z",
                "junit heard 2026-12-01T12:00:00.000Z",
                "summary heard 2026-12-01T12:00:00.000Z",
                "view heard 2026-12-01T12:00:00.001Z",
                "junit heard 2026-12-01T12:00:00.001Z",
                "summary heard 2026-12-01T12:00:00.001Z",
                "view finished",
                "junit finished",
            ]
        );
    }

    #[test]
    fn json_is_shown_when_asked_for_wherever_it_runs() {
        assert_eq!(View::choose(true), View::Json);
        assert_ne!(View::choose(false), View::Json);
    }
}
