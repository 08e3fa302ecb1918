//! The dashboard in a real browser: two `fixlane serve` replicas on one `PostgreSQL` database,
//! headless Chromium (Debian's `chromium`, driven over `WebDriver` by `chromedriver`) logged in on
//! replica B, and every change made through replica A — or written straight to the database, as
//! a canary run by the CLI writes it — appearing on B's page without a reload.
//!
//! The page is never reloaded: a mark set on it before each change must still be there after.
//! The time from each write on A to the page's update on B is printed; the bounds below are
//! failure bounds only, never what the test waits for.

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fantoccini::{Client, ClientBuilder, Locator};
use fixlane_core::canary::{CanaryEvent, CheckOutcome, StepPlan};
use fixlane_store::{NewCanary, StoreLocation};
use serde_json::{Value, json};

use crate::server::{Replica, issue};
use crate::support::{PostgresDatabase, Sandbox};

const ID: &str = "INC-2026-05-20-001";

/// The longest any one change may take to reach the page before the test fails.
const BOUND: Duration = Duration::from_secs(10);

const CHROMIUM: &str = "/usr/bin/chromium";

/// Where `chromedriver` is, or a failure saying how to install it.
fn browser_binaries() -> String {
    let found = |name: &str| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
    };
    let driver = found("chromedriver");
    assert!(
        driver.is_some() && std::path::Path::new(CHROMIUM).is_file(),
        "the dashboard's browser test needs Debian's Chromium and its WebDriver: \
         apt-get install -y chromium chromium-driver"
    );
    driver.unwrap().display().to_string()
}

/// A `chromedriver` on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let binary = browser_binaries();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its own process group, so a failed test takes the browser down with the driver.
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < BOUND, "chromedriver never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// Runs `script` in the page until it returns `true`; the page's last update time then, in
/// milliseconds since the epoch.
async fn until(browser: &Client, what: &str, script: &str) -> i64 {
    let started = Instant::now();
    loop {
        let done = browser.execute(script, vec![]).await.unwrap();
        if done == Value::Bool(true) {
            let updated = browser
                .execute(
                    "return Number(document.body.dataset.updatedAt || 0);",
                    vec![],
                )
                .await
                .unwrap();
            return updated.as_i64().unwrap();
        }
        assert!(
            started.elapsed() < BOUND,
            "the page never showed {what}:\n{}",
            browser.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Marks the page, so a reload (which would drop the mark) is seen.
async fn mark(browser: &Client) {
    browser
        .execute("window.fixlaneNotReloaded = true; return true;", vec![])
        .await
        .unwrap();
}

async fn still_marked(browser: &Client) {
    let marked = browser
        .execute("return window.fixlaneNotReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(marked, Value::Bool(true), "the page was reloaded");
}

async fn post(client: &reqwest::Client, url: String, token: &str, body: &Value) -> Value {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {answer}");
    answer
}

fn canary_events(at: jiff::Timestamp, step: usize, weight: u8, value: f64) -> Vec<CanaryEvent> {
    let mut events = Vec::new();
    if step == 1 {
        events.push(CanaryEvent::CanaryStarted {
            at,
            profile: "compressed".to_owned(),
            steps: [1, 10, 50, 100]
                .into_iter()
                .map(|weight| StepPlan {
                    weight,
                    bake_seconds: 300,
                })
                .collect(),
        });
    }
    events.push(CanaryEvent::StepStarted {
        at,
        step,
        weight,
        bake_seconds: 300,
    });
    events.push(CanaryEvent::CheckEvaluated {
        at,
        step,
        check: "error-rate".to_owned(),
        value: Some(value),
        min: None,
        max: Some(0.01),
        outcome: CheckOutcome::Ok,
        detail: None,
    });
    events
}

/// A finished run of the hotfix lane on `branch`: two critical gates passed, one skipped.
async fn record_run(store: &fixlane_store::AnyStore, branch: &str) {
    use fixlane_core::{GateName, Rev, Tier, Verdict};
    use fixlane_store::{GateRecord, NewRun, Store as _, StoredGateState};
    let now = jiff::Timestamp::now();
    let run_id = "run-dashboard-test";
    store
        .start_run(
            "ci",
            &NewRun {
                run_id: run_id.to_owned(),
                rev: Rev::parse("0123456789abcdef0123456789abcdef01234567").unwrap(),
                branch: Some(branch.to_owned()),
                lane: "hotfix".to_owned(),
                emergency: true,
                incident: Some(fixlane_core::IncidentId::parse(ID).unwrap()),
                started_at: now,
                plan: json!({}),
                runner: None,
            },
        )
        .await
        .unwrap();
    let gate = |name: &str, tier, state, duration_ms| GateRecord {
        gate: GateName::parse(name).unwrap(),
        tier,
        state,
        detail: None,
        exit_code: (state == StoredGateState::Passed).then_some(0),
        duration_ms,
        log_path: None,
        tail: Vec::new(),
        finished_at: now,
    };
    store
        .record_gates(
            "ci",
            run_id,
            &[
                gate(
                    "build",
                    Tier::Critical,
                    StoredGateState::Passed,
                    Some(41_200),
                ),
                gate(
                    "scan-critical",
                    Tier::Critical,
                    StoredGateState::Passed,
                    Some(12_900),
                ),
                gate(
                    "integration",
                    Tier::Required,
                    StoredGateState::Skipped,
                    None,
                ),
            ],
        )
        .await
        .unwrap();
    store
        .finish_run("ci", run_id, Verdict::Ready, &[], now)
        .await
        .unwrap();
}

#[test]
fn a_change_on_one_replica_appears_live_on_a_page_served_by_another() {
    let Some(database) = PostgresDatabase::create("dashboard_in_a_browser") else {
        return;
    };
    let driver = Driver::start();
    let sandbox = Sandbox::example();
    let db = database.url.clone();
    let (bob, _) = issue(&sandbox, &db, "bob");
    let (carol, _) = issue(&sandbox, &db, "carol");
    let (dave, _) = issue(&sandbox, &db, "dave");
    let a = Replica::start(&sandbox, &db, false);
    let mut b = Replica::start(&sandbox, &db, false);
    let config_text = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    let config = fixlane_core::config::parse(&config_text, "fixlane.toml").unwrap();
    let started = Instant::now();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let browser = runtime.block_on(async {
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1500"],
            },
        });
        let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&driver.url)
            .await
            .unwrap();

        // Log in on B with carol's token; a wrong one is refused on the page first.
        browser.goto(&format!("{}/login", b.base)).await.unwrap();
        let form = browser.form(Locator::Css("form")).await.unwrap();
        form.set_by_name("token", "fixlane_tok_wrong")
            .await
            .unwrap();
        form.submit().await.unwrap();
        browser
            .wait()
            .at_most(BOUND)
            .for_element(Locator::Id("refused"))
            .await
            .unwrap();
        let form = browser.form(Locator::Css("form")).await.unwrap();
        form.set_by_name("token", &carol).await.unwrap();
        form.submit().await.unwrap();
        // Read in one script each time: the page replaces the overview as it updates, so an
        // element found a moment ago may be gone.
        until(
            &browser,
            "carol logged in",
            "var viewer = document.getElementById('viewer'); \
             return viewer !== null && viewer.textContent === 'carol';",
        )
        .await;
        // The cookie is out of the page's reach.
        let cookies = browser
            .execute("return document.cookie;", vec![])
            .await
            .unwrap();
        assert_eq!(cookies, json!(""));
        until(
            &browser,
            "that it is live",
            "return document.getElementById('live-status').textContent === 'live';",
        )
        .await;
        until(
            &browser,
            "no emergency yet",
            "return document.getElementById('no-emergency') !== null;",
        )
        .await;

        // Declared on A: the emergency appears on B, with both approvals missing.
        let client = reqwest::Client::new();
        mark(&browser).await;
        let sent = now_ms();
        let declared = post(
            &client,
            format!("{}/api/v1/emergencies", a.base),
            &bob,
            &json!({
                "id": ID,
                "any_date": true,
                "severity": "P0",
                "category": "security",
                "title": "payments time out",
                "cleanup_owner": "bob",
                "eta": "23:30",
                "flag_flip": "no flag covers the payment path",
                "rollback": "the bug is in a brand-new feature",
            }),
        )
        .await;
        let branch = declared["branch"].as_str().unwrap().to_owned();
        let updated = until(
            &browser,
            "the declared emergency",
            &format!(
                "return document.querySelectorAll('#emergency-{ID} li.missing').length === 2;"
            ),
        )
        .await;
        still_marked(&browser).await;
        println!("declare on A → page on B: {} ms", updated - sent);

        // Approved on A by dave: his group's missing line vanishes on B.
        mark(&browser).await;
        let sent = now_ms();
        post(
            &client,
            format!("{}/api/v1/emergencies/{ID}/approvals", a.base),
            &dave,
            &json!({}),
        )
        .await;
        let updated = until(
            &browser,
            "the platform-lead approval",
            &format!(
                "var e = document.getElementById('emergency-{ID}'); \
                 return e.querySelectorAll('li.missing').length === 1 \
                   && e.querySelector('li.missing[data-roles=\"platform-lead\"]') === null \
                   && e.querySelectorAll('li.given').length === 1;"
            ),
        )
        .await;
        still_marked(&browser).await;
        println!("approve on A → page on B: {} ms", updated - sent);

        // Carol gives the last one from the page itself: the record is approved.
        browser
            .execute(
                &format!(
                    "document.querySelector('#emergency-{ID} button.approve').click(); return true;"
                ),
                vec![],
            )
            .await
            .unwrap();
        until(
            &browser,
            "the approved state",
            &format!(
                "var e = document.getElementById('emergency-{ID}'); \
                 return e !== null && e.dataset.state === 'approved' \
                   && e.querySelectorAll('li.missing').length === 0;"
            ),
        )
        .await;

        // A bypass recorded on A, with its reason, shows on B.
        post(
            &client,
            format!("{}/api/v1/emergencies/{ID}/bypasses", a.base),
            &dave,
            &json!({
                "element": "eval",
                "reason": "the eval suite takes 40 minutes; the fix is one guard clause",
                "compensation": "the full suite runs on the cleanup change within 24h",
            }),
        )
        .await;
        until(
            &browser,
            "the bypass",
            &format!("return document.querySelectorAll('#emergency-{ID} li.bypass').length === 1;"),
        )
        .await;

        // The hotfix lane's run of the fix's branch, written to the database as `fixlane ci`
        // records it: its gates show on B as they finish.
        let store = fixlane_store::open(&StoreLocation::parse(&db).unwrap())
            .await
            .unwrap();
        record_run(&store, &branch).await;
        until(
            &browser,
            "the fix's gates",
            &format!(
                "var e = document.getElementById('emergency-{ID}'); \
                 var verdict = e.querySelector('.verdict'); \
                 return e.querySelectorAll('tr.gate').length === 3 \
                   && verdict !== null && verdict.textContent === 'ready';"
            ),
        )
        .await;

        // A canary writes its steps and samples to the database as `fixlane canary` does:
        // the weight moves on the page.
        let incident = fixlane_core::IncidentId::parse(ID).unwrap();
        let recorder = fixlane_app::CanaryRecorder::start(
            &store,
            &config,
            "dave",
            NewCanary {
                id: "canary-dashboard-test".to_owned(),
                incident: Some(incident),
                rev: "0123456789abcdef0123456789abcdef01234567".to_owned(),
                profile: "compressed".to_owned(),
                started_at: jiff::Timestamp::now(),
                plan: json!({ "steps": [1, 10, 50, 100], "checks": ["error-rate"] }),
            },
        )
        .await
        .unwrap();
        mark(&browser).await;
        recorder
            .record(&canary_events(jiff::Timestamp::now(), 1, 1, 0.0041))
            .await
            .unwrap();
        until(
            &browser,
            "the canary at 1%",
            "var w = document.querySelector('.canary-weight'); \
             return w !== null && w.dataset.weight === '1';",
        )
        .await;
        let sent = now_ms();
        recorder
            .record(&canary_events(jiff::Timestamp::now(), 2, 10, 0.0063))
            .await
            .unwrap();
        let updated = until(
            &browser,
            "the canary at 10%",
            "var w = document.querySelector('.canary-weight'); \
             var row = document.querySelector('tr.check'); \
             return w !== null && w.dataset.weight === '10' \
               && row !== null && row.textContent.indexOf('0.0063') >= 0;",
        )
        .await;
        still_marked(&browser).await;
        println!(
            "canary step in the database → page on B: {} ms",
            updated - sent
        );
        let state = browser
            .execute(
                &format!("return document.getElementById('emergency-{ID}').dataset.state;"),
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(state, json!("deploying"));

        // `FIXLANE_DASHBOARD_SCREENSHOT=docs/dashboard.png` (relative to the workspace) keeps
        // the page as it is now: a live emergency with a running canary.
        let screenshot = browser.screenshot().await.unwrap();
        assert!(screenshot.starts_with(b"\x89PNG"));
        if let Some(path) = std::env::var_os("FIXLANE_DASHBOARD_SCREENSHOT") {
            let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            std::fs::write(workspace.join(path), screenshot).unwrap();
        }
        store.close().await;
        browser
    });

    // SIGTERM while the page's event stream is open: the stream ends, and the replica stops.
    b.signal("TERM");
    let status = b.exit();
    assert!(status.success(), "{status}");
    runtime.block_on(browser.close()).unwrap();
    println!(
        "the whole browser test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop((a, driver));
}
