//! Prometheus query checks: promotion, a regression, Prometheus dying, the rollback check.

use fixlane_canary::{CanaryEvent, CanaryOutcome, drive};
use fixlane_core::canary::CheckOutcome;
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::support::{
    DeployLog, ERROR_RATE_QUERY, Prometheus, Service, drain, service_checks, settings, tags,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_canary_walks_every_step_and_promotes() {
    let service = Service::start().await;
    let prometheus = Prometheus::start(&service).await;
    let directory = tempfile::tempdir().unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);

    let outcome = drive(
        settings(
            log.deploy(true),
            service_checks(),
            Some(prometheus.url()),
            2,
        ),
        sender,
        cancel,
    )
    .await
    .unwrap();

    let events = drain(&mut events);
    assert_eq!(outcome, CanaryOutcome::Promoted, "{events:#?}");
    assert_eq!(
        log.lines(),
        [
            "rollback_check 0",
            "set_weight 1",
            "set_weight 10",
            "set_weight 50",
            "set_weight 100",
            "promote 100"
        ]
    );
    let tags = tags(&events);
    assert_eq!(tags.first().unwrap(), "canary_started");
    assert_eq!(tags[1], "rollback_check_passed");
    assert_eq!(&tags[tags.len() - 2..], ["promoted", "canary_finished"]);
    assert!(!tags.iter().any(|tag| tag.starts_with("rollback_started")));
    // Every evaluation was a real value within bounds.
    for event in &events {
        if let CanaryEvent::CheckEvaluated { outcome, value, .. } = event {
            assert_eq!(*outcome, CheckOutcome::Ok, "{event:?}");
            assert!(value.is_some());
        }
    }
    let steps: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            CanaryEvent::StepStarted { weight, .. } => Some(*weight),
            _ => None,
        })
        .collect();
    assert_eq!(steps, [1, 10, 50, 100]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regression_in_step_two_rolls_back_within_two_evaluations() {
    let service = Service::start().await;
    let prometheus = Prometheus::start(&service).await;
    let directory = tempfile::tempdir().unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    let (forward, mut watched) = mpsc::unbounded_channel::<CanaryEvent>();

    let canary = tokio::spawn(drive(
        settings(
            log.deploy(true),
            service_checks(),
            Some(prometheus.url()),
            5,
        ),
        forward,
        cancel,
    ));
    // Switch the regression on once step 2 started, and note when Prometheus first answers
    // the check's query with a bad value.
    let mut seen = Vec::new();
    let mut queryable: Option<Timestamp> = None;
    let mut poll = tokio::time::interval(std::time::Duration::from_millis(50));
    let mut switched = false;
    loop {
        tokio::select! {
            event = watched.recv() => {
                let Some(event) = event else { break };
                if matches!(event, CanaryEvent::StepStarted { step: 2, .. }) {
                    service.set_error_rate(0.2);
                    switched = true;
                }
                sender.send(event.clone()).unwrap();
                seen.push(event);
            }
            _ = poll.tick(), if switched && queryable.is_none() => {
                if prometheus.query(ERROR_RATE_QUERY).await.is_some_and(|value| value > 0.01) {
                    queryable = Some(Timestamp::now());
                }
            }
        }
    }
    let outcome = canary.await.unwrap().unwrap();
    drop(sender);
    let events = drain(&mut events);
    assert_eq!(outcome, CanaryOutcome::RolledBack, "{events:#?}");
    // The weight was never raised past step 2.
    assert_eq!(
        log.lines(),
        [
            "rollback_check 0",
            "set_weight 1",
            "set_weight 10",
            "rollback 10"
        ]
    );
    let queryable = queryable.expect("the bad value never became queryable");
    // Evaluations of the error-rate check after the bad value was queryable: the rollback
    // follows the first or the second of them, directly.
    let rollback_index = events
        .iter()
        .position(|event| matches!(event, CanaryEvent::RollbackStarted { .. }))
        .unwrap();
    let after: Vec<_> = events[..rollback_index]
        .iter()
        .filter(|event| {
            matches!(event, CanaryEvent::CheckEvaluated { check, at, .. }
                if check == "error-rate" && *at >= queryable)
        })
        .collect();
    assert!(
        (1..=2).contains(&after.len()),
        "rollback after {} evaluations since the bad value was queryable: {events:#?}",
        after.len()
    );
    match &events[rollback_index - 1] {
        CanaryEvent::CheckEvaluated {
            check,
            outcome,
            value,
            step,
            ..
        } => {
            assert_eq!(check, "error-rate");
            assert_eq!(*outcome, CheckOutcome::OutOfBounds);
            assert!(value.unwrap() > 0.01);
            assert_eq!(*step, 2);
        }
        other => panic!("the rollback did not follow the bad evaluation: {other:?}"),
    }
    match &events[rollback_index] {
        CanaryEvent::RollbackStarted { reason, .. } => {
            assert!(reason.contains("error-rate"), "{reason}");
        }
        _ => unreachable!(),
    }
    assert!(matches!(
        events[rollback_index + 1],
        CanaryEvent::RolledBack { ok: true, .. }
    ));
    assert!(matches!(
        events.last().unwrap(),
        CanaryEvent::CanaryFinished {
            outcome: CanaryOutcome::RolledBack,
            ..
        }
    ));
    assert_eq!(seen.len(), events.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_dying_mid_canary_rolls_back_after_the_failure_limit() {
    let service = Service::start().await;
    let mut prometheus = Prometheus::start(&service).await;
    let directory = tempfile::tempdir().unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    let (forward, mut watched) = mpsc::unbounded_channel::<CanaryEvent>();

    let canary = tokio::spawn(drive(
        settings(
            log.deploy(true),
            service_checks(),
            Some(prometheus.url()),
            4,
        ),
        forward,
        cancel,
    ));
    while let Some(event) = watched.recv().await {
        if matches!(event, CanaryEvent::StepStarted { step: 2, .. }) {
            prometheus.kill();
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
    let rollback_index = events
        .iter()
        .position(|event| matches!(event, CanaryEvent::RollbackStarted { .. }))
        .unwrap();
    let CanaryEvent::RollbackStarted { reason, .. } = &events[rollback_index] else {
        unreachable!()
    };
    assert!(reason.contains("3 times in a row"), "{reason}");
    // The check that tripped answered with errors three times in a row, in step 2.
    let CanaryEvent::CheckEvaluated { check: tripped, .. } = &events[rollback_index - 1] else {
        panic!("the rollback did not follow an evaluation");
    };
    let outcomes: Vec<_> = events[..rollback_index]
        .iter()
        .filter_map(|event| match event {
            CanaryEvent::CheckEvaluated {
                check,
                outcome,
                step,
                ..
            } if check == tripped => Some((*step, *outcome)),
            _ => None,
        })
        .collect();
    assert_eq!(
        outcomes[outcomes.len() - 3..],
        [(2, CheckOutcome::Error); 3],
        "{events:#?}"
    );
}

#[tokio::test]
async fn a_failing_rollback_check_never_sets_a_weight() {
    let directory = tempfile::tempdir().unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    // No Prometheus at all: nothing may be sampled either.
    let outcome = drive(
        settings(
            log.deploy(false),
            service_checks(),
            Some("http://127.0.0.1:9".to_owned()),
            1,
        ),
        sender,
        cancel,
    )
    .await
    .unwrap();
    let events = drain(&mut events);
    assert_eq!(outcome, CanaryOutcome::NotStarted);
    assert_eq!(log.lines(), ["rollback_check 0"]);
    assert_eq!(
        tags(&events),
        ["canary_started", "rollback_check_failed", "canary_finished"]
    );
    let CanaryEvent::RollbackCheckFailed { tail, .. } = &events[1] else {
        unreachable!()
    };
    assert!(
        tail.iter()
            .any(|line| line.contains("the previous revision is gone")),
        "{tail:?}"
    );
    assert!(tail.last().unwrap().contains("exited with status 1"));
}
