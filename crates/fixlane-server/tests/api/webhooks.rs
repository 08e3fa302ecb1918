//! The server drains the webhook outbox on its own: a declaration made through the API reaches a
//! real receiver without any CLI, and `/metrics` (checked by `promtool`) counts the delivery and
//! shows a running canary's weight.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use fixlane_store::{CanaryEventRecord, NewCanary, Store};
use reqwest::StatusCode;

use crate::support::{CONFIG, ID, TestServer, declaration};

/// A receiver answering 200 and handing each body to the test.
fn receiver() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (sender, bodies) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut line, mut length) = (String::new(), 0);
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                line.clear();
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = sender.send(String::from_utf8(body).unwrap());
        }
    });
    (url, bodies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_delivers_webhooks_and_reports_them_and_running_canaries() {
    let (url, bodies) = receiver();
    let dir = tempfile::tempdir().unwrap();
    let location = fixlane_store::StoreLocation::sqlite(dir.path().join("fixlane.db"));
    let config =
        format!("{CONFIG}\n[[notify.webhooks]]\nurl = \"{url}\"\nevents = [\"declared\"]\n");
    let server = TestServer::on(location, &config).await;
    let (bob, _) = server.token("bob").await;
    let (status, _) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // The replica's drainer runs every two seconds; wait for the body, bounded.
    let body = tokio::task::spawn_blocking(move || bodies.recv_timeout(Duration::from_secs(20)))
        .await
        .unwrap()
        .expect("the declaration was never delivered");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["event"], "declared");
    assert!(body["text"].as_str().unwrap().contains(ID), "{body}");

    // A canary at its second step, as the canary recorder writes it.
    server
        .store
        .start_canary(
            "bob",
            &NewCanary {
                id: "canary-1".into(),
                incident: Some(fixlane_core::IncidentId::parse(ID).unwrap()),
                rev: "0123456789abcdef0123456789abcdef01234567".into(),
                profile: "compressed".into(),
                started_at: jiff::Timestamp::now(),
                plan: serde_json::json!({}),
            },
        )
        .await
        .unwrap();
    let step = |step: u8, weight: u8| CanaryEventRecord {
        kind: "step_started".into(),
        at: jiff::Timestamp::now(),
        data: serde_json::json!({ "event": "step_started", "step": step, "weight": weight }),
        audited: true,
    };
    server
        .store
        .record_canary_events("bob", "canary-1", &[step(1, 1), step(2, 10)])
        .await
        .unwrap();

    let (_, metrics) = server.metrics(None).await;
    let (passed, said) = crate::metrics::promtool(&metrics);
    assert!(passed, "promtool refused it: {said}\n{metrics}");
    let delivered = metrics
        .lines()
        .find(|line| {
            line.starts_with("fixlane_webhook_deliveries{") && line.contains("state=\"delivered\"")
        })
        .unwrap_or_else(|| panic!("no delivered count:\n{metrics}"));
    assert!(delivered.ends_with(" 1"), "{delivered}");
    assert!(
        !metrics.contains("/hook"),
        "a hook's URL never shows:\n{metrics}"
    );
    let weight = metrics
        .lines()
        .find(|line| {
            line.starts_with("fixlane_canary_weight{") && line.contains("canary=\"canary-1\"")
        })
        .unwrap_or_else(|| panic!("no canary weight:\n{metrics}"));
    assert!(weight.ends_with(" 10"), "{weight}");
}
