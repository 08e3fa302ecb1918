//! The live terminal view: one spinner line per running gate with its elapsed time, finished
//! gates printed above them. The summary table under it is [`super::summary`]'s.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use fixlane_core::{GateName, RunEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Reporter;
use super::lines;

pub struct TerminalReporter<W> {
    multi: MultiProgress,
    bars: HashMap<GateName, ProgressBar>,
    style: ProgressStyle,
    /// Where a line goes when the bars cannot take it.
    out: W,
    /// `--explain`: a line per gate saying why it runs or not.
    explain: bool,
}

impl<W: Write> TerminalReporter<W> {
    /// Bars and the lines above them are drawn on `target` (standard error's terminal).
    pub fn new(target: ProgressDrawTarget, out: W, explain: bool) -> Self {
        let style = ProgressStyle::with_template("{spinner:.cyan} {prefix:<24} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        Self {
            multi: MultiProgress::with_draw_target(target),
            bars: HashMap::new(),
            style,
            out,
            explain,
        }
    }

    fn print(&mut self, text: &str) {
        // println above the bars keeps finished lines in the scrollback while bars stay live.
        if self.multi.println(text).is_err() {
            let _ = writeln!(self.out, "{text}");
        }
    }
}

impl<W: Write> Reporter for TerminalReporter<W> {
    fn event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::GateStarted { gate, .. } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(self.style.clone());
                bar.set_prefix(gate.to_string());
                bar.set_message("running");
                bar.enable_steady_tick(Duration::from_millis(120));
                self.bars.insert(gate.clone(), bar);
            }
            RunEvent::GateFinished { gate, .. } | RunEvent::GateCancelled { gate, .. } => {
                if let Some(bar) = self.bars.remove(gate) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                if let Some(line) = lines::describe(event) {
                    self.print(&line);
                }
                if let Some(tail) = lines::failure_tail(event) {
                    self.print(tail.trim_end());
                }
            }
            _ => {
                for line in lines::shown(event, self.explain) {
                    self.print(&line);
                }
            }
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        for (_, bar) in self.bars.drain() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use indicatif::TermLike;

    use super::*;
    use crate::report::fixtures;

    /// A terminal that keeps the text written to it, one entry per write; cursor moves and
    /// clears are not text.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl Screen {
        fn texts(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, text: &str) -> std::io::Result<()> {
            self.write_str(text)
        }
        fn write_str(&self, text: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push(text.to_owned());
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn finished_gates_are_printed_above_the_bars_of_running_ones() {
        let screen = Screen::default();
        let mut reporter = TerminalReporter::new(
            ProgressDrawTarget::term_like(Box::new(screen.clone())),
            Vec::new(),
            true,
        );
        let events = fixtures::run();
        // Up to the build's start: its bar is drawn, naming the gate.
        for event in &events[..8] {
            reporter.event(event);
        }
        assert!(
            screen
                .texts()
                .iter()
                .any(|text| text.contains(" build ") && text.ends_with("running")),
            "{:?}",
            screen.texts()
        );
        for event in &events[8..] {
            reporter.event(event);
        }
        reporter.finish().unwrap();
        assert!(reporter.bars.is_empty());
        // The lines printed above the bars, in order; bars (a spinner first) and the padding
        // after each line are drawn between them.
        let spinner = |text: &str| text.starts_with(|c| ('\u{2800}'..='\u{28ff}').contains(&c));
        let printed: Vec<String> = screen
            .texts()
            .into_iter()
            .filter(|text| !text.trim().is_empty() && !spinner(text))
            .collect();
        insta::assert_snapshot!(printed.join("\n"));
        assert!(reporter.out.is_empty(), "nothing fell back to the writer");
    }
}
