//! Scrape checks: the counter ratio read straight from the service, no Prometheus.

use fixlane_canary::{CanaryEvent, CanaryOutcome, drive};
use fixlane_core::canary::CheckOutcome;
use fixlane_core::config::model::{CanaryCheck, MetricSource};
use tokio::sync::{mpsc, watch};

use crate::support::{DeployLog, Service, drain, settings};

fn scrape_check(service: &Service) -> CanaryCheck {
    CanaryCheck {
        name: "error-ratio".to_owned(),
        source: MetricSource::Scrape {
            url: service.metrics_url(),
            numerator: r#"http_requests_total{service="checkout",code=~"5.."}"#.to_owned(),
            denominator: r#"http_requests_total{service="checkout"}"#.to_owned(),
        },
        min: None,
        max: Some(0.01),
    }
}

#[tokio::test]
async fn a_scrape_check_promotes_a_healthy_service() {
    let service = Service::start().await;
    let directory = tempfile::tempdir().unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    let outcome = drive(
        settings(log.deploy(true), vec![scrape_check(&service)], None, 2),
        sender,
        cancel,
    )
    .await
    .unwrap();
    let events = drain(&mut events);
    assert_eq!(outcome, CanaryOutcome::Promoted, "{events:#?}");
    assert_eq!(log.lines().last().unwrap(), "promote 100");
    let outcomes: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            CanaryEvent::CheckEvaluated { outcome, value, .. } => Some((*outcome, *value)),
            _ => None,
        })
        .collect();
    // The first scrape has nothing to compare with; later ones are real ratios, except when
    // two scrapes fall within one tick of the service's traffic (a step's first evaluation
    // follows the previous step's last one at once), which is no data, never a value.
    assert_eq!(outcomes[0].0, CheckOutcome::NoData);
    assert!(
        outcomes[1..].iter().all(|(outcome, value)| match outcome {
            CheckOutcome::Ok => *value == Some(0.0),
            CheckOutcome::NoData => value.is_none(),
            _ => false,
        }),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .filter(|(outcome, _)| *outcome == CheckOutcome::Ok)
            .count()
            >= 6,
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_scrape_check_rolls_back_a_regression() {
    let service = Service::start().await;
    let directory = tempfile::tempdir().unwrap();
    let log = DeployLog::new(directory.path());
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    let (forward, mut watched) = mpsc::unbounded_channel::<CanaryEvent>();
    let canary = tokio::spawn(drive(
        settings(log.deploy(true), vec![scrape_check(&service)], None, 3),
        forward,
        cancel,
    ));
    while let Some(event) = watched.recv().await {
        if matches!(event, CanaryEvent::StepStarted { step: 2, .. }) {
            service.set_error_rate(0.05);
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
    let bad = events
        .iter()
        .find_map(|event| match event {
            CanaryEvent::CheckEvaluated {
                outcome: CheckOutcome::OutOfBounds,
                value,
                ..
            } => *value,
            _ => None,
        })
        .unwrap();
    assert!(bad > 0.01 && bad <= 0.05 + 1e-9, "{bad}");
}
