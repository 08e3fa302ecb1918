//! Test support: a small service exposing `/metrics` whose error rate and latency can be
//! switched while it runs, a real Prometheus scraping it every second, deploy scripts that log
//! what they were asked to do, and helpers to build settings and collect events.
//!
//! Shared with the rollback benchmark through `#[path]`.

#![allow(
    dead_code,
    reason = "shared with the rollback benchmark, which uses only part of it, so whether a helper is dead depends on the target"
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fixlane_canary::deploy::DeployContext;
use fixlane_canary::{CanaryEvent, CanarySettings};
use fixlane_core::config::model::{CanaryCheck, CanaryProfile, CanaryStep, Deploy, MetricSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Debian's package puts it here; CI installs it (`apt-get install -y prometheus`).
pub const PROMETHEUS: &str = "/usr/bin/prometheus";

/// Requests the service counts per second.
const REQUESTS_PER_SECOND: f64 = 200.0;
const TICK: Duration = Duration::from_millis(50);
const BUCKETS: [f64; 7] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

pub const ERROR_RATE_QUERY: &str = r#"sum(rate(http_requests_total{service="checkout",code=~"5.."}[5s])) / sum(rate(http_requests_total{service="checkout"}[5s]))"#;
pub const P99_QUERY: &str = r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="checkout"}[5s])))"#;

#[derive(Debug, Default)]
struct Counters {
    ok: f64,
    errors: f64,
    /// Cumulative per bucket of `BUCKETS`, then `+Inf`.
    buckets: [f64; 8],
    duration_sum: f64,
}

#[derive(Debug)]
struct State {
    error_rate: f64,
    latency: f64,
    counters: Counters,
}

/// The simulated checkout service.
pub struct Service {
    pub port: u16,
    state: Arc<Mutex<State>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Service {
    /// Starts serving `/metrics` on a free 127.0.0.1 port, healthy (0 errors, 20 ms).
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            error_rate: 0.0,
            latency: 0.02,
            counters: Counters::default(),
        }));
        let traffic = {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let mut ticker = tokio::time::interval(TICK);
                loop {
                    ticker.tick().await;
                    let mut state = state.lock().unwrap();
                    let requests = REQUESTS_PER_SECOND * TICK.as_secs_f64();
                    let errors = requests * state.error_rate;
                    let latency = state.latency;
                    state.counters.errors += errors;
                    state.counters.ok += requests - errors;
                    state.counters.duration_sum += requests * latency;
                    for (index, bound) in BUCKETS.iter().enumerate() {
                        if latency <= *bound {
                            state.counters.buckets[index] += requests;
                        }
                    }
                    state.counters.buckets[BUCKETS.len()] += requests;
                }
            })
        };
        let server = {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        let mut request = Vec::new();
                        let mut buffer = [0_u8; 1024];
                        while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                            match stream.read(&mut buffer).await {
                                Ok(0) | Err(_) => return,
                                Ok(count) => request.extend_from_slice(&buffer[..count]),
                            }
                        }
                        let body = exposition(&state.lock().unwrap());
                        let response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.write_all(response.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    });
                }
            })
        };
        Self {
            port,
            state,
            tasks: vec![traffic, server],
        }
    }

    pub fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.port)
    }

    /// The share of requests that fail from now on.
    pub fn set_error_rate(&self, rate: f64) {
        self.state.lock().unwrap().error_rate = rate;
    }

    /// Every request's latency from now on, in seconds.
    pub fn set_latency(&self, seconds: f64) {
        self.state.lock().unwrap().latency = seconds;
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn exposition(state: &State) -> String {
    let counters = &state.counters;
    let mut text = String::new();
    text.push_str("# HELP http_requests_total Requests served.\n");
    text.push_str("# TYPE http_requests_total counter\n");
    let _ = writeln!(
        text,
        "http_requests_total{{service=\"checkout\",code=\"200\"}} {}",
        counters.ok
    );
    let _ = writeln!(
        text,
        "http_requests_total{{service=\"checkout\",code=\"500\"}} {}",
        counters.errors
    );
    text.push_str("# TYPE http_request_duration_seconds histogram\n");
    for (index, bound) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            text,
            "http_request_duration_seconds_bucket{{service=\"checkout\",le=\"{bound}\"}} {}",
            counters.buckets[index]
        );
    }
    let total = counters.buckets[BUCKETS.len()];
    let _ = writeln!(
        text,
        "http_request_duration_seconds_bucket{{service=\"checkout\",le=\"+Inf\"}} {total}"
    );
    let _ = writeln!(
        text,
        "http_request_duration_seconds_sum{{service=\"checkout\"}} {}",
        counters.duration_sum
    );
    let _ = writeln!(
        text,
        "http_request_duration_seconds_count{{service=\"checkout\"}} {total}"
    );
    text
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real Prometheus scraping one service every second, killed when dropped.
pub struct Prometheus {
    pub port: u16,
    child: Option<std::process::Child>,
    _directory: tempfile::TempDir,
    client: reqwest::Client,
}

impl Prometheus {
    /// Starts `/usr/bin/prometheus` and waits until it is ready and has data for the checks.
    pub async fn start(service: &Service) -> Self {
        assert!(
            Path::new(PROMETHEUS).exists(),
            "{PROMETHEUS} is missing: these tests run a real Prometheus; install it with `apt-get install -y prometheus`"
        );
        let directory = tempfile::tempdir().unwrap();
        let config = directory.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: checkout\n    scrape_interval: 1s\n    scrape_timeout: 1s\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
                service.port
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(directory.path().join("prometheus.log")).unwrap();
        let child = std::process::Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                directory.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let prometheus = Self {
            port,
            child: Some(child),
            _directory: directory,
            client: reqwest::Client::new(),
        };
        prometheus.wait_ready().await;
        prometheus
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&self) {
        let ready = format!("{}/-/ready", self.url());
        let mut ticker = tokio::time::interval(Duration::from_millis(100));
        for _ in 0..300 {
            ticker.tick().await;
            if let Ok(response) = self.client.get(&ready).send().await
                && response.status().is_success()
            {
                break;
            }
        }
        // Ready is not enough: the checks need a few scrapes for `rate(…[5s])`.
        for _ in 0..300 {
            ticker.tick().await;
            if self.query(ERROR_RATE_QUERY).await.is_some() && self.query(P99_QUERY).await.is_some()
            {
                return;
            }
        }
        panic!(
            "Prometheus on port {} never had data for the checks",
            self.port
        );
    }

    /// The instant value of `query`, or `None` when it has none.
    pub async fn query(&self, query: &str) -> Option<f64> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/v1/query", self.url()),
            [("query", query)],
        )
        .unwrap();
        let body = self.client.get(url).send().await.ok()?.text().await.ok()?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        let text = json["data"]["result"][0]["value"][1].as_str()?;
        text.parse::<f64>().ok().filter(|value| !value.is_nan())
    }

    /// Waits (up to 30 s) until `query` has a value that satisfies `accept`.
    pub async fn wait_until(&self, query: &str, accept: impl Fn(f64) -> bool) {
        let mut ticker = tokio::time::interval(Duration::from_millis(100));
        for _ in 0..300 {
            ticker.tick().await;
            if self.query(query).await.is_some_and(&accept) {
                return;
            }
        }
        panic!("`{query}` never reached the value the test waits for");
    }

    /// Kills the server (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A deploy whose every action appends a line to `deploy.log` in `directory`.
pub struct DeployLog {
    pub path: PathBuf,
}

impl DeployLog {
    pub fn new(directory: &Path) -> Self {
        Self {
            path: directory.join("deploy.log"),
        }
    }

    /// Actions that log `action weight`; `rollback_check` fails when `ready` is false.
    pub fn deploy(&self, ready: bool) -> Deploy {
        let log = self.path.display();
        let line = |action: &str| format!("printf '{action} %s\\n' \"$FIXLANE_WEIGHT\" >> '{log}'");
        Deploy {
            set_weight: line("set_weight"),
            promote: line("promote"),
            rollback: format!(
                "{}; date +%s%N > '{log}.rollback-started'",
                line("rollback")
            ),
            rollback_check: if ready {
                line("rollback_check")
            } else {
                format!(
                    "{}; echo 'the previous revision is gone' >&2; exit 1",
                    line("rollback_check")
                )
            },
        }
    }

    /// The lines logged so far.
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

pub fn query_check(name: &str, query: &str, max: f64) -> CanaryCheck {
    CanaryCheck {
        name: name.to_owned(),
        source: MetricSource::Query {
            query: query.to_owned(),
        },
        min: None,
        max: Some(max),
    }
}

/// The two checks of the spec's example, over a 5 s window to suit a 1 s scrape.
pub fn service_checks() -> Vec<CanaryCheck> {
    vec![
        query_check("error-rate", ERROR_RATE_QUERY, 0.01),
        query_check("p99-latency", P99_QUERY, 0.5),
    ]
}

pub fn profile(weights: &[u8], bake_seconds: u64) -> CanaryProfile {
    CanaryProfile {
        steps: weights
            .iter()
            .map(|weight| CanaryStep {
                weight: *weight,
                bake: fixlane_core::Duration::from_seconds(bake_seconds),
            })
            .collect(),
        requires: Vec::new(),
    }
}

/// A compressed canary at a 1 s interval with `failure_limit = 3`.
pub fn settings(
    deploy: Deploy,
    checks: Vec<CanaryCheck>,
    prometheus: Option<String>,
    bake_seconds: u64,
) -> CanarySettings {
    CanarySettings {
        deploy: DeployContext {
            deploy,
            incident: Some("INC-2026-05-20-001".to_owned()),
            rev: "abc123".to_owned(),
            profile: "compressed".to_owned(),
            workdir: None,
            timeout: Duration::from_secs(30),
            kill_grace: Duration::from_secs(1),
        },
        profile: profile(&[1, 10, 50, 100], bake_seconds),
        checks,
        prometheus,
        interval: Duration::from_secs(1),
        failure_limit: 3,
    }
}

/// Every event still queued.
pub fn drain(events: &mut mpsc::UnboundedReceiver<CanaryEvent>) -> Vec<CanaryEvent> {
    let mut all = Vec::new();
    while let Ok(event) = events.try_recv() {
        all.push(event);
    }
    all
}

/// Each event's `event` tag, for readable order assertions.
pub fn tags(events: &[CanaryEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            serde_json::to_value(event).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}
