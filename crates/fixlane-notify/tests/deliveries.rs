//! Deliveries to a real HTTP receiver on a free 127.0.0.1 port, from a real `SQLite` store: each
//! event once with a Slack-compatible body and a signature that verifies; a failing receiver
//! retried with backoff, then given up; racing drainers delivering each event exactly once; a
//! hook that does not hear an event, or whose URL or secret is missing, sent nothing.

#![expect(
    clippy::unwrap_used,
    reason = "a test that cannot set up its receiver or store fails loudly"
)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use fixlane_core::IncidentId;
use fixlane_core::audit::{AuditAction, Declared};
use fixlane_notify::{DrainOptions, drain};
use fixlane_store::{AnyStore, Store, StoreLocation};
use jiff::Timestamp;

/// One request the receiver took.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: String,
}

/// A webhook receiver: records every request, and answers 500 to the first `failing` ones.
struct Receiver {
    url: String,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(failing: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/hooks/T000/B000/SECRETPATH",
            listener.local_addr().unwrap()
        );
        let log = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut answered = 0;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut headers = BTreeMap::new();
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.trim_end().split_once(':') {
                        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
                    }
                }
                let length: usize = headers
                    .get("content-length")
                    .and_then(|length| length.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                answered += 1;
                let status = if answered <= failing {
                    "500 Internal Server Error"
                } else {
                    recorded.lock().unwrap().push(Received {
                        headers,
                        body: String::from_utf8(body).unwrap(),
                    });
                    "200 OK"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                );
            }
        });
        Self { url, log }
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
}

fn config(hook: &str) -> fixlane_core::Config {
    let text = format!("[project]\nname = \"svc\"\n\n[[notify.webhooks]]\n{hook}\n");
    fixlane_core::config::parse(&text, "fixlane.toml").unwrap()
}

async fn store() -> (tempfile::TempDir, AnyStore, StoreLocation) {
    let dir = tempfile::tempdir().unwrap();
    let location = StoreLocation::sqlite(dir.path().join("fixlane.db"));
    let store = fixlane_store::open(&location).await.unwrap();
    (dir, store, location)
}

async fn declare(store: &AnyStore, n: usize, title: &str) {
    let action = AuditAction::Declare(Declared {
        id: IncidentId::parse(&format!("INC-2026-12-01-{n:03}")).unwrap(),
        severity: "P0".into(),
        category: "security".into(),
        title: title.into(),
        cleanup_owner: fixlane_core::PersonName::parse("bob").unwrap(),
        eta: None,
        flag_flip: "no flag".into(),
        rollback: "no rollback".into(),
        branch: "hotfix/x".into(),
        warnings: Vec::new(),
    });
    store.append_audit("bob", &action).await.unwrap();
}

/// Options with an environment that holds nothing.
fn options() -> DrainOptions {
    let mut options = DrainOptions::new(jiff::tz::TimeZone::UTC);
    options.env = Arc::new(|_| None);
    options
}

fn at(seconds_from_now: i64) -> Timestamp {
    Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(seconds_from_now))
        .unwrap()
}

#[tokio::test]
async fn each_event_is_delivered_once_signed_and_slack_compatible() {
    let receiver = Receiver::start(0);
    let (_dir, store, _) = store().await;
    declare(&store, 1, "<!channel> payments & more").await;
    declare(&store, 2, "second").await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let config = config(&format!(
        "url = \"{}\"\nsecret_env = \"FIXLANE_TEST_SECRET_ONE\"",
        receiver.url
    ));
    // The variable as the process where fixlane runs would have it.
    let mut signed = options();
    signed.env =
        Arc::new(move |name| (name == "FIXLANE_TEST_SECRET_ONE").then(|| secret.to_owned()));
    let drained = drain(&store, &config, &signed).await.unwrap();
    assert_eq!(drained.delivered, 2, "{drained:?}");
    assert!(drained.problems.is_empty(), "{drained:?}");
    // A second drain sends nothing again.
    let again = drain(&store, &config, &options()).await.unwrap();
    assert_eq!(again.delivered, 0);
    let requests = receiver.received();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    let body: serde_json::Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(body["event"], "declared");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("&lt;!channel&gt; payments &amp; more"),
        "{text}"
    );
    assert!(first.headers["webhook-id"].starts_with("fixlane-"));
    let expected = fixlane_core::notify::signature(
        secret,
        &first.headers["webhook-id"],
        first.headers["webhook-timestamp"].parse().unwrap(),
        &first.body,
    );
    assert_eq!(first.headers["webhook-signature"], expected);
    let status = store.delivery_status().await.unwrap();
    assert_eq!(status[0].delivered, 2);
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_then_given_up() {
    let receiver = Receiver::start(1);
    let (_dir, store, _) = store().await;
    declare(&store, 1, "one").await;
    let config = config(&format!("url = \"{}\"", receiver.url));
    let first = drain(&store, &config, &options()).await.unwrap();
    assert_eq!((first.delivered, first.retrying), (0, 1), "{first:?}");
    assert!(first.problems[0].contains("HTTP 500"), "{first:?}");
    // The problem names the host, never the URL's secret path.
    assert!(!first.problems[0].contains("SECRETPATH"), "{first:?}");
    // Not due again at once: the backoff holds it.
    assert_eq!(
        drain(&store, &config, &options()).await.unwrap().delivered,
        0
    );
    let mut later = options();
    later.now = at(10);
    assert_eq!(drain(&store, &config, &later).await.unwrap().delivered, 1);
    assert_eq!(receiver.received().len(), 1);

    // A receiver that never answers well is given up after the last attempt.
    let dead = Receiver::start(usize::MAX);
    let (_dead_dir, dead_store, _) = self::store().await;
    declare(&dead_store, 1, "one").await;
    let dead_config = self::config(&format!("url = \"{}\"", dead.url));
    let mut gave_up = 0;
    for hour in 0..fixlane_notify::MAX_ATTEMPTS {
        let mut options = options();
        options.now = at(i64::from(hour) * 3_600);
        gave_up += drain(&dead_store, &dead_config, &options)
            .await
            .unwrap()
            .gave_up;
    }
    assert_eq!(gave_up, 1);
    let status = dead_store.delivery_status().await.unwrap();
    assert_eq!((status[0].failed, status[0].pending), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_drainers_deliver_each_event_exactly_once() {
    let receiver = Receiver::start(0);
    let (_dir, store, location) = store().await;
    for n in 1..=30 {
        declare(&store, n, "race").await;
    }
    let config = Arc::new(config(&format!("url = \"{}\"", receiver.url)));
    let mut drainers = Vec::new();
    for _ in 0..3 {
        let store = fixlane_store::open(&location).await.unwrap();
        let config = Arc::clone(&config);
        drainers.push(tokio::spawn(async move {
            drain(&store, &config, &options()).await.unwrap().delivered
        }));
    }
    let mut delivered = 0;
    for drainer in drainers {
        delivered += drainer.await.unwrap();
    }
    assert_eq!(delivered, 30);
    let ids: std::collections::BTreeSet<String> = receiver
        .received()
        .iter()
        .map(|request| request.headers["webhook-id"].clone())
        .collect();
    assert_eq!(
        receiver.received().len(),
        30,
        "a repeat reached the receiver"
    );
    assert_eq!(ids.len(), 30);
}

#[tokio::test]
async fn unheard_events_and_unresolved_hooks_send_nothing() {
    let receiver = Receiver::start(0);
    let (_dir, store, _) = store().await;
    declare(&store, 1, "one").await;
    let only_rollbacks = config(&format!(
        "url = \"{}\"\nevents = [\"rollback\"]",
        receiver.url
    ));
    let drained = drain(&store, &only_rollbacks, &options()).await.unwrap();
    assert_eq!((drained.delivered, drained.skipped), (0, 1));
    let unset = config("url_env = \"FIXLANE_TEST_UNSET_URL\"");
    let drained = drain(&store, &unset, &options()).await.unwrap();
    assert!(
        drained.problems[0].contains("FIXLANE_TEST_UNSET_URL is not set"),
        "{drained:?}"
    );
    let unsigned = config(&format!(
        "url = \"{}\"\nsecret_env = \"FIXLANE_TEST_UNSET_SECRET\"",
        receiver.url
    ));
    let drained = drain(&store, &unsigned, &options()).await.unwrap();
    assert_eq!(drained.delivered, 0);
    assert!(
        drained.problems[0].contains("never sent unsigned"),
        "{drained:?}"
    );
    assert!(receiver.received().is_empty());
    // Without hooks a drain does nothing at all.
    let none = fixlane_core::config::parse("[project]\nname = \"svc\"\n", "fixlane.toml").unwrap();
    assert_eq!(
        drain(&store, &none, &options()).await.unwrap(),
        fixlane_notify::Drained::default()
    );
}
