//! The team server under load: three real `fixlane serve` replicas on one fresh `PostgreSQL`
//! database, a load generator on 127.0.0.1 sending approvals at a fixed rate (open loop, so a
//! slow answer cannot slow the offered load down), round-robin across the replicas. Prints the
//! throughput achieved and the latency percentiles of declare and approve, against a baseline
//! measured in the same run: `GET /healthz` at the same rate, the least a request costs.
//! During the approvals a dashboard page's event stream (`GET /dashboard/events`, logged in on
//! the second replica) is read, and each `audit N` event's arrival is set against the moment
//! the entry was recorded (`audit_log.recorded_at`, stamped under the append lock by whichever
//! replica wrote it): the time from a write to the live update of a page, through `PostgreSQL`'s
//! LISTEN/NOTIFY.
//!
//! Needs `FIXLANE_TEST_POSTGRES_URL` (for example `postgres://postgres@127.0.0.1:5432/test`) and
//! the `psql` client; bounded in count (`REQUESTS`) and time. Run with
//! `cargo bench -p fixlane-cli --bench server`.

#![expect(
    clippy::expect_used,
    reason = "a benchmark that cannot set up its servers has nothing to measure: it fails loudly"
)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FIXLANE: &str = env!("CARGO_BIN_EXE_fixlane");
const REPLICAS: usize = 3;
const REQUESTS: usize = 1_000;
const RATE_PER_SECOND: u64 = 200;

const CONFIG: &str = r#"[project]
name = "bench"

[people.bob]
roles = ["engineer"]
[people.carol]
roles = ["security-lead"]

[gates.build]
run = "true"
tier = "critical"

[lanes.hotfix]
branches = ["hotfix/**"]
emergency = true

[emergency]
severities = ["P0"]
id_pattern = "INC-YYYY-MM-DD-NNNNN"

[emergency.categories.security]
approvers = [["security-lead"]]
may_bypass = ["eval"]
"#;

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-q", "-c", sql])
        .stdout(Stdio::null())
        .status()
        .expect("psql (Debian's postgresql-client) is needed");
    assert!(status.success(), "psql {sql}");
}

struct Replica {
    child: Child,
    base: String,
}

fn start_replica(dir: &std::path::Path, db: &str) -> Replica {
    let mut child = Command::new(FIXLANE)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            db,
            "--config",
            "fixlane.toml",
        ])
        .current_dir(dir)
        .env_remove("FIXLANE_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fixlane serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines.next().expect("the replica ended").expect("read");
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on ".len()..]
                .split_whitespace()
                .next()
                .expect("address")
                .to_owned();
        }
    };
    // Keep reading so the replica never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Replica { child, base }
}

fn token(dir: &std::path::Path, db: &str, person: &str) -> String {
    let output = Command::new(FIXLANE)
        .args([
            "token",
            "issue",
            person,
            "--db",
            db,
            "--config",
            "fixlane.toml",
            "--as",
            "operator",
        ])
        .current_dir(dir)
        .env_remove("FIXLANE_DB")
        .output()
        .expect("token issue");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// Sends `count` requests at `RATE_PER_SECOND`, round-robin over `bases`, each built by `make`;
/// returns each latency and the wall time.
async fn open_loop<F>(
    client: &reqwest::Client,
    bases: &[String],
    count: usize,
    make: F,
) -> (Vec<Duration>, Duration)
where
    F: Fn(&reqwest::Client, &str, usize) -> reqwest::RequestBuilder,
{
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / RATE_PER_SECOND));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut pending = Vec::with_capacity(count);
    for n in 0..count {
        ticks.tick().await;
        let request = make(client, &bases[n % bases.len()], n);
        pending.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = request.send().await.expect("request");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert!(status.is_success(), "{status}: {body}");
            sent.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    for task in pending {
        latencies.push(task.await.expect("request task"));
    }
    (latencies, started.elapsed())
}

/// Logs in to the dashboard of `base` with `token` and returns the session cookie.
async fn log_in(base: &str, token: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .expect("log in");
    response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// Reads the page's event stream until `stop` fires; returns when each `audit N` arrived.
async fn watch_events(
    base: String,
    cookie: String,
    connected: tokio::sync::oneshot::Sender<()>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Vec<(i64, jiff::Timestamp)> {
    let mut response = reqwest::Client::new()
        .get(format!("{base}/dashboard/events"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("event stream");
    assert!(response.status().is_success(), "{}", response.status());
    let mut connected = Some(connected);
    let mut arrived = Vec::new();
    let mut pending = String::new();
    loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk.expect("read the stream"),
            _ = &mut stop => break,
        };
        let Some(chunk) = chunk else { break };
        let now = jiff::Timestamp::now();
        pending.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            if line.starts_with("data: connected")
                && let Some(connected) = connected.take()
            {
                let _ = connected.send(());
            }
            if let Some(seq) = line.trim().strip_prefix("data: audit ") {
                arrived.push((seq.parse().expect("an audit seq"), now));
            }
        }
    }
    arrived
}

/// When each audit entry was recorded, by seq.
fn recorded(db: &str) -> std::collections::HashMap<i64, jiff::Timestamp> {
    let output = Command::new("psql")
        .args([
            db,
            "-At",
            "-F",
            " ",
            "-c",
            "SELECT seq, recorded_at FROM audit_log",
        ])
        .output()
        .expect("psql");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (seq, at) = line.split_once(' ')?;
            Some((seq.parse().ok()?, at.parse().ok()?))
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a list of at most a few thousand latencies"
    )]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(name: &str, mut latencies: Vec<Duration>, wall: Duration, baseline: Option<Duration>) {
    latencies.sort();
    let p50 = percentile(&latencies, 0.50);
    let p99 = percentile(&latencies, 0.99);
    #[expect(
        clippy::cast_precision_loss,
        reason = "a request count, far below 2^52"
    )]
    let throughput = latencies.len() as f64 / wall.as_secs_f64();
    let ratio = baseline.map_or_else(String::new, |base| {
        format!(", p99 ratio {:.2}x", p99.as_secs_f64() / base.as_secs_f64())
    });
    println!(
        "{name:<28} {:>5} requests, {throughput:>6.1}/s, p50 {:>7.2} ms, p99 {:>7.2} ms{ratio}",
        latencies.len(),
        p50.as_secs_f64() * 1_000.0,
        p99.as_secs_f64() * 1_000.0,
    );
}

fn main() {
    let Ok(admin) = std::env::var("FIXLANE_TEST_POSTGRES_URL") else {
        println!(
            "FIXLANE_TEST_POSTGRES_URL is not set: the server benchmark needs PostgreSQL (skipped)"
        );
        return;
    };
    let name = format!("fixlane_bench_{}", std::process::id());
    psql(&admin, &format!("CREATE DATABASE {name}"));
    let slash = admin
        .rfind('/')
        .expect("FIXLANE_TEST_POSTGRES_URL names a database");
    let db = format!("{}/{name}", &admin[..slash]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("fixlane.toml"), CONFIG).expect("config");
    // `audit verify` at the end runs in a repository, as the CLI's commands do.
    Command::new("git")
        .args(["init", "--quiet"])
        .current_dir(dir.path())
        .status()
        .expect("git init");
    let bob = token(dir.path(), &db, "bob");
    let carol = token(dir.path(), &db, "carol");
    let mut replicas: Vec<Replica> = (0..REPLICAS)
        .map(|_| start_replica(dir.path(), &db))
        .collect();
    let bases: Vec<String> = replicas
        .iter()
        .map(|replica| replica.base.clone())
        .collect();

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
        let (health, health_wall) = open_loop(&client, &bases, REQUESTS, |client, base, _| {
            client.get(format!("{base}/healthz"))
        })
        .await;
        let mut sorted = health.clone();
        sorted.sort();
        let baseline = percentile(&sorted, 0.99);
        println!("{REPLICAS} replicas on one PostgreSQL, {RATE_PER_SECOND} requests/s offered, round-robin");
        report("baseline GET /healthz", health, health_wall, None);
        let (declared, declare_wall) = open_loop(&client, &bases, REQUESTS, |client, base, n| {
            client
                .post(format!("{base}/api/v1/emergencies"))
                .bearer_auth(&bob)
                .json(&serde_json::json!({
                    "id": format!("INC-{today}-{:05}", n + 1),
                    "severity": "P0",
                    "category": "security",
                    "title": "bench",
                    "cleanup_owner": "bob",
                    "flag_flip": "no flag",
                    "rollback": "no rollback",
                }))
        })
        .await;
        report("POST declare", declared, declare_wall, Some(baseline));
        let cookie = log_in(&bases[1], &carol).await;
        let (connected, ready) = tokio::sync::oneshot::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let watcher = tokio::spawn(watch_events(bases[1].clone(), cookie, connected, stopped));
        ready.await.expect("the event stream connected");
        let (approved, approve_wall) = open_loop(&client, &bases, REQUESTS, |client, base, n| {
            client
                .post(format!("{base}/api/v1/emergencies/INC-{today}-{:05}/approvals", n + 1))
                .bearer_auth(&carol)
                .json(&serde_json::json!({}))
        })
        .await;
        report("POST approve", approved, approve_wall, Some(baseline));
        // Every approval has been answered; give the last events a moment to arrive.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = stop.send(());
        let arrived = watcher.await.expect("the event watcher");
        let recorded = recorded(&db);
        let mut delays: Vec<Duration> = arrived
            .iter()
            .filter_map(|(seq, at)| {
                let written = recorded.get(seq)?;
                Some(Duration::try_from(at.duration_since(*written)).unwrap_or_default())
            })
            .collect();
        delays.sort();
        println!(
            "write to SSE event on replica 2 {:>5} events (of {REQUESTS} approvals), p50 {:>7.2} ms, p99 {:>7.2} ms",
            delays.len(),
            percentile(&delays, 0.50).as_secs_f64() * 1_000.0,
            percentile(&delays, 0.99).as_secs_f64() * 1_000.0,
        );
    });
    for replica in &mut replicas {
        let _ = replica.child.kill();
        let _ = replica.child.wait();
    }
    let verify = Command::new(FIXLANE)
        .args(["audit", "verify", "--db", &db])
        .current_dir(dir.path())
        .output()
        .expect("audit verify");
    println!(
        "audit verify after the load: {}",
        String::from_utf8_lossy(&verify.stdout).trim()
    );
    psql(&admin, &format!("DROP DATABASE {name}"));
}
