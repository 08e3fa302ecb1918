//! Webhooks from the command line: a declaration and its approvals announced to a real receiver
//! on a free 127.0.0.1 port by the commands themselves; a receiver that fails never fails the
//! command, and `fixlane notify deliver` sends what waited; `notify status` counts them.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::followups::declare;
use crate::support::Sandbox;

const ID: &str = "INC-2026-05-20-001";

/// A receiver keeping each body it answered 200 to; the first `failing` requests get a 500.
fn receiver(failing: usize) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                line.clear();
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = if n < failing {
                "500 Internal Server Error"
            } else {
                kept.lock().unwrap().push(String::from_utf8(body).unwrap());
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

fn with_webhook(url: &str) -> Sandbox {
    let sandbox = Sandbox::example();
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    sandbox.write(
        "fixlane.toml",
        &format!("{config}\n[[notify.webhooks]]\nurl = \"{url}\"\nevents = [\"declared\", \"approved\"]\n"),
    );
    sandbox.commit("announce emergencies");
    sandbox
}

fn events(bodies: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    bodies
        .lock()
        .unwrap()
        .iter()
        .map(|body| {
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            body["event"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn recording_commands_announce_what_they_recorded() {
    let (url, bodies) = receiver(0);
    let sandbox = with_webhook(&url);
    declare(&sandbox, ID, "bob", &[]).expect_code(0);
    sandbox
        .fixlane(&["approve", ID, "--as", "carol"])
        .expect_code(0);
    // A bypass is not among this hook's events, and a refusal records nothing to announce.
    sandbox
        .fixlane(&["approve", ID, "--as", "bob"])
        .expect_code(1);
    assert_eq!(events(&bodies), ["declared", "approved"]);
    let text = bodies.lock().unwrap()[0].clone();
    assert!(text.contains("declared by bob"), "{text}");
    let status = sandbox.fixlane(&["notify", "status"]);
    assert!(
        status.stdout().contains("2 delivered, 0 pending"),
        "{}",
        status.stdout()
    );
}

#[test]
fn a_failing_receiver_never_fails_the_command_and_is_retried() {
    let (url, bodies) = receiver(1);
    let sandbox = with_webhook(&url);
    let declared = declare(&sandbox, ID, "bob", &[]);
    declared.expect_code(0);
    assert!(
        declared.stderr().contains("HTTP 500"),
        "{}",
        declared.stderr()
    );
    assert!(
        !declared.stderr().contains("/hook"),
        "the URL is never shown: {}",
        declared.stderr()
    );
    assert!(events(&bodies).is_empty());
    // The record is there whatever the receiver said.
    sandbox.fixlane(&["show", ID]).expect_code(0);
    // After its backoff, `notify deliver` sends it.
    let later = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(60))
        .unwrap()
        .to_string();
    let delivered = sandbox.fixlane(&["notify", "deliver", "--at", &later]);
    delivered.expect_code(0);
    assert!(
        delivered.stdout().contains("1 delivered"),
        "{}",
        delivered.stdout()
    );
    assert_eq!(events(&bodies), ["declared"]);
}
