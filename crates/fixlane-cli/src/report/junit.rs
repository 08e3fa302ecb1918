//! `--junit FILE`: one test case per gate, skipped gates as skipped, for CI test-result views;
//! written at the end of the run.

use std::io::Write;
use std::time::Duration;

use fixlane_core::{Outcome, RunEvent};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::Reporter;

pub struct JunitReport<W> {
    out: W,
    lane: String,
    cases: Vec<TestCase>,
    duration_ms: u64,
}

impl<W: Write> JunitReport<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            lane: String::new(),
            cases: Vec::new(),
            duration_ms: 0,
        }
    }
}

impl<W: Write> Reporter for JunitReport<W> {
    fn event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { lane, .. } => self.lane = lane.to_string(),
            RunEvent::GateFinished {
                gate,
                tier,
                outcome,
                exit_code,
                duration_ms,
                tail,
                log,
                ..
            } => {
                let status = match outcome {
                    Outcome::Passed => TestCaseStatus::success(),
                    Outcome::Failed | Outcome::TimedOut => {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        status.set_message(format!(
                            "{} (exit code {}){}",
                            outcome.as_str(),
                            exit_code.map_or_else(|| "none".to_owned(), |code| code.to_string()),
                            log.as_ref()
                                .map(|log| format!("; log: {log}"))
                                .unwrap_or_default()
                        ));
                        // XML 1.0 cannot carry most control characters: a tail holding them
                        // would make the whole report unreadable to CI.
                        status.set_description(
                            tail.iter()
                                .map(|line| fixlane_core::text::for_terminal_output(line))
                                .collect::<Vec<_>>()
                                .join("\n"),
                        );
                        status
                    }
                    Outcome::Cancelled => {
                        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                        status.set_message("cancelled");
                        status
                    }
                };
                let mut case = TestCase::new(gate.to_string(), status);
                case.set_classname(format!("{}.{}", self.lane, tier.as_str()));
                case.set_time(Duration::from_millis(*duration_ms));
                self.cases.push(case);
            }
            RunEvent::GateCancelled {
                gate,
                tier,
                duration_ms,
                ..
            } => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message("cancelled");
                let mut case = TestCase::new(gate.to_string(), status);
                case.set_classname(format!("{}.{}", self.lane, tier.as_str()));
                case.set_time(Duration::from_millis(*duration_ms));
                self.cases.push(case);
            }
            RunEvent::GateSkipped {
                gate, tier, reason, ..
            } => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(reason.to_string());
                let mut case = TestCase::new(gate.to_string(), status);
                case.set_classname(format!("{}.{}", self.lane, tier.as_str()));
                self.cases.push(case);
            }
            RunEvent::GateNotRun {
                gate,
                tier,
                because,
                ..
            } => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(format!("not run: needs {because}, which did not pass"));
                let mut case = TestCase::new(gate.to_string(), status);
                case.set_classname(format!("{}.{}", self.lane, tier.as_str()));
                self.cases.push(case);
            }
            RunEvent::RunFinished { duration_ms, .. } => self.duration_ms = *duration_ms,
            _ => {}
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        let mut suite = TestSuite::new(format!("fixlane lane {}", self.lane));
        suite.add_test_cases(std::mem::take(&mut self.cases));
        suite.set_time(Duration::from_millis(self.duration_ms));
        let mut report = Report::new("fixlane");
        report.add_test_suite(suite);
        report.set_time(Duration::from_millis(self.duration_ms));
        let text = report.to_string()?;
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn each_gate_is_a_test_case_and_skipped_gates_are_skipped() {
        let mut report = JunitReport::new(Vec::new());
        for event in &fixtures::run() {
            report.event(event);
        }
        report.finish().unwrap();
        let text = String::from_utf8(report.out).unwrap();
        assert_eq!(text.matches("<testcase").count(), 5, "{text}");
        insta::assert_snapshot!(text);
    }
}
