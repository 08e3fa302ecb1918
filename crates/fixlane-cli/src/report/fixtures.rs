//! Runs' events for the reporters' tests: an emergency run with a skipped gate, a pass, a
//! failure with hostile output, a gate not run and one cancelled; and a run that passes.

use fixlane_core::affected::Affected;
use fixlane_core::event::{BaseChoice, Selection};
use fixlane_core::plan::{Decision, SkipReason};
use fixlane_core::{GateName, IncidentId, LaneName, Outcome, RunEvent, Tier, Verdict};

/// `2026-12-01T12:00:00Z` and `milliseconds` later.
pub fn at(milliseconds: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(1_796_126_400_000 + milliseconds).unwrap()
}

fn gate(name: &str) -> GateName {
    GateName::parse(name).unwrap()
}

fn lane() -> LaneName {
    LaneName::parse("hotfix").unwrap()
}

pub fn run() -> Vec<RunEvent> {
    vec![
        RunEvent::RunStarted {
            at: at(0),
            run_id: "20261201T120000.000Z-00042".to_owned(),
            lane: lane(),
            emergency: true,
            incident: Some(IncidentId::parse("INC-2026-12-01-001").unwrap()),
            rev: "0123456789abcdef0123".to_owned(),
            branch: Some("hotfix/INC-2026-12-01-001-fix".to_owned()),
            jobs: 2,
            selection: Box::new(Selection {
                base: Some("fedcba9876543210fedc".to_owned()),
                base_choice: BaseChoice::MergeBase {
                    with: "origin/HEAD".to_owned(),
                },
                changed_files: Some(2),
                full: false,
                packages: Affected {
                    direct: vec!["payments".to_owned()],
                    dependents: vec!["api".to_owned(), "checkout".to_owned()],
                    everything: None,
                    warnings: Vec::new(),
                },
            }),
        },
        RunEvent::GateSkipped {
            at: at(1),
            gate: gate("lint"),
            tier: Tier::Required,
            reason: SkipReason::SkippedByLane { lane: lane() },
            decision: Decision::Owed,
            explanation: "lane hotfix skips it: owed, to be backfilled in full within 1d".to_owned(),
        },
        RunEvent::GateQueued {
            at: at(2),
            gate: gate("build"),
            tier: Tier::Critical,
            command: "cargo build".to_owned(),
            decision: Decision::Selected,
            explanation: "lane hotfix runs it as written".to_owned(),
        },
        RunEvent::GateQueued {
            at: at(2),
            gate: gate("test"),
            tier: Tier::Critical,
            command: "cargo test".to_owned(),
            decision: Decision::Shortened,
            // Config text reaches the explanation: a control character must not reach the screen.
            explanation: "lane hotfix runs `cargo test --lib -p \u{1b}[2Jpayments` instead of `cargo test`".to_owned(),
        },
        RunEvent::GateQueued {
            at: at(2),
            gate: gate("deploy"),
            tier: Tier::Required,
            command: "./deploy".to_owned(),
            decision: Decision::Selected,
            explanation: "lane hotfix runs it as written".to_owned(),
        },
        RunEvent::GateQueued {
            at: at(2),
            gate: gate("docs"),
            tier: Tier::Optional,
            command: "make docs".to_owned(),
            decision: Decision::Selected,
            explanation: "lane hotfix runs it as written; a changed file matches its inputs: `docs/a.md` matches `docs/**`".to_owned(),
        },
        RunEvent::VerdictChanged {
            at: at(3),
            verdict: Verdict::Waiting,
            reasons: vec!["critical gate build is still queued".to_owned()],
        },
        RunEvent::GateStarted {
            at: at(4),
            gate: gate("build"),
        },
        RunEvent::GateFinished {
            at: at(1_204),
            gate: gate("build"),
            tier: Tier::Critical,
            outcome: Outcome::Passed,
            exit_code: Some(0),
            duration_ms: 1_200,
            tail: Vec::new(),
            log: Some("logs/build.log".to_owned()),
        },
        RunEvent::GateStarted {
            at: at(1_205),
            gate: gate("test"),
        },
        RunEvent::GateFinished {
            at: at(4_605),
            gate: gate("test"),
            tier: Tier::Critical,
            outcome: Outcome::Failed,
            exit_code: Some(101),
            duration_ms: 3_400,
            // A gate prints what it likes: colours, and a line break that would forge a line.
            tail: vec![
                "test pays ... \u{1b}[31mFAILED\u{1b}[0m".to_owned(),
                "oops\rverdict GREEN".to_owned(),
            ],
            log: Some("logs/test.log".to_owned()),
        },
        RunEvent::GateNotRun {
            at: at(4_606),
            gate: gate("deploy"),
            tier: Tier::Required,
            because: gate("test"),
        },
        RunEvent::GateCancelled {
            at: at(4_607),
            gate: gate("docs"),
            tier: Tier::Optional,
            started: false,
            duration_ms: 0,
            log: None,
        },
        RunEvent::VerdictChanged {
            at: at(4_608),
            verdict: Verdict::Blocked,
            reasons: vec!["critical gate test failed".to_owned()],
        },
        RunEvent::RunFinished {
            at: at(4_609),
            verdict: Verdict::Blocked,
            reasons: vec!["critical gate test failed".to_owned()],
            duration_ms: 4_609,
        },
    ]
}

/// A run of one gate that passes: `ready`, then `green` at the end.
pub fn green() -> Vec<RunEvent> {
    vec![
        RunEvent::RunStarted {
            at: at(0),
            run_id: "20261201T120000.000Z-00043".to_owned(),
            lane: LaneName::normal(),
            emergency: false,
            incident: None,
            rev: "0123456789abcdef0123".to_owned(),
            branch: Some("main".to_owned()),
            jobs: 1,
            selection: Box::new(Selection {
                base: Some("fedcba9876543210fedc".to_owned()),
                base_choice: BaseChoice::Parent,
                changed_files: Some(1),
                full: false,
                packages: Affected {
                    direct: Vec::new(),
                    dependents: vec!["api".to_owned(), "core".to_owned()],
                    everything: Some("`Cargo.lock` changed: a lockfile is a global input".to_owned()),
                    warnings: vec!["`crates/x/Cargo.toml` could not be read (TOML parse error at line 1, column 9), so every package is selected".to_owned()],
                },
            }),
        },
        RunEvent::GateQueued {
            at: at(1),
            gate: gate("build"),
            tier: Tier::Critical,
            command: "cargo build".to_owned(),
            decision: Decision::Selected,
            explanation: "the normal lane runs every gate as written".to_owned(),
        },
        RunEvent::VerdictChanged {
            at: at(2),
            verdict: Verdict::Waiting,
            reasons: vec!["critical gate build is still queued".to_owned()],
        },
        RunEvent::GateStarted {
            at: at(3),
            gate: gate("build"),
        },
        RunEvent::GateFinished {
            at: at(503),
            gate: gate("build"),
            tier: Tier::Critical,
            outcome: Outcome::Passed,
            exit_code: Some(0),
            duration_ms: 500,
            tail: Vec::new(),
            log: Some("logs/build.log".to_owned()),
        },
        RunEvent::VerdictChanged {
            at: at(504),
            verdict: Verdict::Green,
            reasons: Vec::new(),
        },
        RunEvent::RunFinished {
            at: at(505),
            verdict: Verdict::Green,
            reasons: Vec::new(),
            duration_ms: 505,
        },
    ]
}
