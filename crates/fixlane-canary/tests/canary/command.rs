//! Command checks, and Ctrl-C during a canary.

use std::path::Path;

use fixlane_canary::{CanaryEvent, CanaryOutcome, drive};
use fixlane_core::canary::CheckOutcome;
use fixlane_core::config::model::{CanaryCheck, MetricSource};
use tokio::sync::{mpsc, watch};

use crate::support::{DeployLog, drain, settings};

/// A check that prints the number in `value` (a file the test rewrites).
fn file_check(value: &Path) -> CanaryCheck {
    CanaryCheck {
        name: "error-rate".to_owned(),
        source: MetricSource::Command {
            run: format!("cat '{}'", value.display()),
        },
        min: Some(0.0),
        max: Some(0.01),
    }
}

#[tokio::test]
async fn a_command_check_promotes_a_good_value() {
    let directory = tempfile::tempdir().unwrap();
    let value = directory.path().join("value");
    std::fs::write(&value, "0.001\n").unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    let outcome = drive(
        settings(log.deploy(true), vec![file_check(&value)], None, 1),
        sender,
        cancel,
    )
    .await
    .unwrap();
    let events = drain(&mut events);
    assert_eq!(outcome, CanaryOutcome::Promoted, "{events:#?}");
    assert_eq!(log.lines().last().unwrap(), "promote 100");
}

#[tokio::test]
async fn a_command_check_rolls_back_a_bad_value_and_counts_bad_output_as_errors() {
    let directory = tempfile::tempdir().unwrap();
    let value = directory.path().join("value");
    std::fs::write(&value, "0.001\n").unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    let (forward, mut watched) = mpsc::unbounded_channel::<CanaryEvent>();
    let canary = tokio::spawn(drive(
        settings(log.deploy(true), vec![file_check(&value)], None, 3),
        forward,
        cancel,
    ));
    while let Some(event) = watched.recv().await {
        match &event {
            // Garbage in step 2 is an error, not a reason to roll back yet...
            CanaryEvent::StepStarted { step: 2, .. } => std::fs::write(&value, "oops\n").unwrap(),
            // ...and a bad value after it rolls back at once.
            CanaryEvent::CheckEvaluated {
                outcome: CheckOutcome::Error,
                ..
            } => std::fs::write(&value, "0.5\n").unwrap(),
            _ => {}
        }
        sender.send(event).unwrap();
    }
    let outcome = canary.await.unwrap().unwrap();
    drop(sender);
    let events = drain(&mut events);
    assert_eq!(outcome, CanaryOutcome::RolledBack, "{events:#?}");
    assert_eq!(
        log.lines(),
        [
            "rollback_check 0",
            "set_weight 1",
            "set_weight 10",
            "rollback 10"
        ]
    );
    let step_two: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            CanaryEvent::CheckEvaluated {
                step: 2,
                outcome,
                detail,
                ..
            } => Some((*outcome, detail.clone().unwrap_or_default())),
            _ => None,
        })
        .collect();
    assert_eq!(step_two[0].0, CheckOutcome::Error);
    assert!(step_two[0].1.contains("not a number"), "{step_two:?}");
    assert_eq!(step_two[1].0, CheckOutcome::OutOfBounds);
    assert_eq!(step_two.len(), 2);
}

#[tokio::test]
async fn cancel_rolls_back() {
    let directory = tempfile::tempdir().unwrap();
    let value = directory.path().join("value");
    std::fs::write(&value, "0\n").unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (cancel_sender, cancel) = watch::channel(false);
    let (forward, mut watched) = mpsc::unbounded_channel::<CanaryEvent>();
    let canary = tokio::spawn(drive(
        settings(log.deploy(true), vec![file_check(&value)], None, 30),
        forward,
        cancel,
    ));
    while let Some(event) = watched.recv().await {
        if matches!(event, CanaryEvent::CheckEvaluated { .. }) {
            cancel_sender.send(true).unwrap();
        }
        sender.send(event).unwrap();
    }
    let outcome = canary.await.unwrap().unwrap();
    drop(sender);
    let events = drain(&mut events);
    assert_eq!(outcome, CanaryOutcome::RolledBack);
    assert_eq!(
        log.lines(),
        ["rollback_check 0", "set_weight 1", "rollback 1"]
    );
    assert!(events.iter().any(|event| matches!(
        event,
        CanaryEvent::RollbackStarted { reason, .. } if reason.contains("cancelled")
    )));
}
