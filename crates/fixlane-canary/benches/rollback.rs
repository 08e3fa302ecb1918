//! How fast a bad value becomes a rollback: over 20 trials at a 1 s scrape and a 1 s
//! evaluation interval, the time from the bad value first being queryable in Prometheus (found
//! by polling its query API every 10 ms) to the `rollback` command starting (it writes a
//! nanosecond timestamp). Prints the median and the maximum. Aim: median ≤ 1 s, max ≤ 2 s.
//!
//! Run with `cargo bench -p fixlane-canary --bench rollback`; needs `/usr/bin/prometheus`.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a benchmark that cannot set up its fixture has nothing to measure: it fails loudly"
)]

#[path = "../tests/canary/support.rs"]
mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fixlane_canary::{CanaryEvent, CanaryOutcome, drive};
use tokio::sync::{mpsc, watch};

use support::{DeployLog, ERROR_RATE_QUERY, Prometheus, Service, query_check, settings};

const TRIALS: usize = 20;

fn now_nanoseconds() -> i128 {
    i128::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let service = Service::start().await;
    let prometheus = Prometheus::start(&service).await;
    let directory = tempfile::tempdir().unwrap();
    let mut latencies = Vec::with_capacity(TRIALS);
    for trial in 0..TRIALS {
        service.set_error_rate(0.0);
        prometheus
            .wait_until(ERROR_RATE_QUERY, |value| value <= 0.01)
            .await;
        let log = DeployLog::new(&directory.path().join(format!("{trial}")));
        std::fs::create_dir_all(log.path.parent().unwrap()).unwrap();
        let mut canary_settings = settings(
            log.deploy(true),
            vec![query_check("error-rate", ERROR_RATE_QUERY, 0.01)],
            Some(prometheus.url()),
            600,
        );
        canary_settings.profile = support::profile(&[100], 600);
        // Vary the phase of the evaluation ticks against the scrapes: the wait above ends right
        // after a scrape, and a canary started then would always evaluate just after one.
        tokio::time::sleep(Duration::from_millis(
            u64::try_from(trial * 370 % 1000).unwrap(),
        ))
        .await;
        let (sender, mut events) = mpsc::unbounded_channel();
        let (_cancel, cancel) = watch::channel(false);
        let canary = tokio::spawn(drive(canary_settings, sender, cancel));
        // Let the canary settle into its bake before the regression.
        while let Some(event) = events.recv().await {
            if matches!(event, CanaryEvent::CheckEvaluated { .. }) {
                break;
            }
        }
        service.set_error_rate(0.2);
        let mut poll = tokio::time::interval(Duration::from_millis(10));
        let queryable = loop {
            poll.tick().await;
            if prometheus
                .query(ERROR_RATE_QUERY)
                .await
                .is_some_and(|value| value > 0.01)
            {
                break now_nanoseconds();
            }
        };
        let outcome = canary.await.unwrap().unwrap();
        assert_eq!(outcome, CanaryOutcome::RolledBack);
        let started: i128 =
            std::fs::read_to_string(format!("{}.rollback-started", log.path.display()))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
        #[expect(
            clippy::cast_precision_loss,
            reason = "nanoseconds of one trial, seconds long: far below 2^52"
        )]
        let latency = (started - queryable) as f64 / 1e9;
        println!("trial {:>2}: {latency:.3} s", trial + 1);
        latencies.push(latency);
    }
    latencies.sort_by(f64::total_cmp);
    let median = f64::midpoint(latencies[TRIALS / 2 - 1], latencies[TRIALS / 2]);
    let max = latencies[TRIALS - 1];
    println!(
        "rollback latency over {TRIALS} trials (1 s scrape, 1 s interval): median {median:.3} s, max {max:.3} s, min {:.3} s",
        latencies[0]
    );
}
