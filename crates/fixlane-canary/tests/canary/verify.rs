//! `verify`: a recovered service passes, a broken one times out.

use std::time::Duration;

use fixlane_canary::{CanaryEvent, VerifySettings, verify};
use tokio::sync::{mpsc, watch};

use crate::support::{ERROR_RATE_QUERY, Prometheus, Service, drain, query_check};

fn verify_settings(prometheus: &Prometheus, hold: u64, timeout: u64) -> VerifySettings {
    VerifySettings {
        check: query_check("error-rate", ERROR_RATE_QUERY, 0.01),
        prometheus: Some(prometheus.url()),
        interval: Duration::from_secs(1),
        hold: Duration::from_secs(hold),
        timeout: Duration::from_secs(timeout),
        workdir: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_once_the_service_recovered_and_held() {
    let service = Service::start().await;
    let prometheus = Prometheus::start(&service).await;
    // Broken at first, fixed a moment later.
    service.set_error_rate(0.3);
    prometheus
        .wait_until(ERROR_RATE_QUERY, |value| value > 0.01)
        .await;
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    let fixing = {
        let service_state = &service;
        async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            service_state.set_error_rate(0.0);
        }
    };
    let (outcome, ()) = tokio::join!(
        verify(verify_settings(&prometheus, 3, 30), sender, cancel),
        fixing
    );
    let outcome = outcome.unwrap();
    let events = drain(&mut events);
    assert!(outcome.recovered, "{events:#?}");
    let recovery = outcome.recovery_seconds.unwrap();
    // It was broken for at least the first two seconds, and the 5 s window clears soon after.
    assert!((2.0..20.0).contains(&recovery), "{recovery}");
    let samples: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            CanaryEvent::VerifySample { value, .. } => *value,
            _ => None,
        })
        .collect();
    assert!(samples[0] > 0.01, "{samples:?}");
    assert!(samples.last().unwrap() <= &0.01);
    assert!(matches!(
        events.last().unwrap(),
        CanaryEvent::VerifyFinished {
            recovered: true,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_times_out_on_a_broken_service() {
    let service = Service::start().await;
    let prometheus = Prometheus::start(&service).await;
    service.set_error_rate(0.3);
    prometheus
        .wait_until(ERROR_RATE_QUERY, |value| value > 0.01)
        .await;
    let (sender, mut events) = mpsc::unbounded_channel();
    let (_cancel, cancel) = watch::channel(false);
    let outcome = verify(verify_settings(&prometheus, 2, 5), sender, cancel)
        .await
        .unwrap();
    let events = drain(&mut events);
    assert!(!outcome.recovered, "{events:#?}");
    assert_eq!(outcome.recovery_seconds, None);
    let samples = events
        .iter()
        .filter(|event| matches!(event, CanaryEvent::VerifySample { .. }))
        .count();
    assert!(samples >= 4, "{events:#?}");
    assert!(matches!(
        events.last().unwrap(),
        CanaryEvent::VerifyFinished {
            recovered: false,
            ..
        }
    ));
}
