//! The live terminal view: one spinner line per running gate with its elapsed time, finished
//! gates printed above them, and the summary table at the end.

use std::collections::HashMap;
use std::time::Duration;

use fixlane_core::{GateName, RunEvent};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Reporter;
use super::lines;
use super::summary::Summary;

pub struct TerminalReporter {
    multi: MultiProgress,
    bars: HashMap<GateName, ProgressBar>,
    style: ProgressStyle,
    summary: Summary,
}

impl TerminalReporter {
    pub fn new() -> Self {
        let style = ProgressStyle::with_template("{spinner:.cyan} {prefix:<24} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        Self {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: HashMap::new(),
            style,
            summary: Summary::default(),
        }
    }

    fn print(&self, text: &str) {
        // println above the bars keeps finished lines in the scrollback while bars stay live.
        if self.multi.println(text).is_err() {
            eprintln!("{text}");
        }
    }
}

impl Reporter for TerminalReporter {
    fn event(&mut self, event: &RunEvent) {
        self.summary.event(event);
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
                if let Some(line) = lines::describe(event) {
                    self.print(&line);
                }
            }
        }
    }

    fn finish(&mut self) {
        for (_, bar) in self.bars.drain() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
        eprint!("{}", self.summary.render());
    }
}
