//! The team server as operators run it: `fixlane token` issuing, listing and revoking tokens
//! with direct database access, and `fixlane serve` as real processes — two replicas on one
//! `PostgreSQL` database sharing one record and one audit chain, stopped by SIGTERM with a
//! request in flight and by Ctrl-C.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{FIXLANE, PostgresDatabase, Sandbox};

const ID: &str = "INC-2026-05-20-001";

/// How long a replica may take to say something before the test gives up on it (a failure
/// bound only: nothing waits for it to pass).
const PATIENCE: Duration = Duration::from_secs(30);

/// Issues a token with `fixlane token issue`; returns its text and id.
pub(crate) fn issue(sandbox: &Sandbox, db: &str, person: &str) -> (String, String) {
    let run = sandbox.fixlane(&["token", "issue", person, "--db", db, "--as", "operator"]);
    run.expect_code(0);
    let token = run.stdout().trim().to_owned();
    let id = token
        .strip_prefix("fixlane_tok_")
        .and_then(|rest| rest.split('_').next())
        .unwrap_or_else(|| panic!("not a token: {token}"))
        .to_owned();
    (token, id)
}

/// One `fixlane serve` process and what it has written to standard error.
pub(crate) struct Replica {
    pub(crate) child: Child,
    pub(crate) base: String,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Replica {
    /// Starts a replica on a free port, on the store `db`, with the sandbox's config;
    /// `FIXLANE_LOG=debug` makes it log each request as it starts.
    pub(crate) fn start(sandbox: &Sandbox, db: &str, debug: bool) -> Self {
        Self::start_with(sandbox, db, "fixlane.toml", debug)
    }

    /// [`Replica::start`] enforcing the config at `config` (relative to the sandbox).
    pub(crate) fn start_with(sandbox: &Sandbox, db: &str, config: &str, debug: bool) -> Self {
        let mut command = sandbox.command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            db,
            "--config",
            config,
        ]);
        if debug {
            command.env("FIXLANE_LOG", "debug");
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut replica = Self {
            child,
            base: String::new(),
            lines,
            log: Vec::new(),
        };
        let listening = replica.wait_for("listening on http://");
        listening
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap()
            .clone_into(&mut replica.base);
        replica
    }

    /// Waits for a line of the log containing every one of `needles`.
    fn wait_for_all(&mut self, needles: &[&str]) -> String {
        loop {
            let line = self.lines.recv_timeout(PATIENCE).unwrap_or_else(|_| {
                panic!(
                    "the replica never logged {needles:?}; it logged:\n{}",
                    self.log.join("\n")
                )
            });
            self.log.push(line.clone());
            if needles.iter().all(|needle| line.contains(needle)) {
                return line;
            }
        }
    }

    /// Waits until the log holds `count` lines with all of `needles` (lines read before
    /// count too), so an earlier request's line is never taken for a later one's.
    fn wait_for_count(&mut self, needles: &[&str], count: usize) {
        let matching = |line: &String| needles.iter().all(|needle| line.contains(needle));
        while self.log.iter().filter(|line| matching(line)).count() < count {
            self.wait_for_all(needles);
        }
    }

    fn wait_for(&mut self, needle: &str) -> String {
        self.wait_for_all(&[needle])
    }

    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, and for the rest of its log.
    pub(crate) fn exit(&mut self) -> ExitStatus {
        let status = self.child.wait().unwrap();
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            self.log.push(line);
        }
        status
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

fn post(replica: &Replica, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let response = client()
        .post(replica.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

fn get(replica: &Replica, path: &str, token: &str) -> (u16, Value) {
    let response = client()
        .get(replica.url(path))
        .bearer_auth(token)
        .send()
        .unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

fn declaration() -> Value {
    json!({
        "id": ID,
        "any_date": true,
        "severity": "P0",
        "category": "security",
        "title": "payments time out",
        "cleanup_owner": "bob",
        "flag_flip": "no flag covers the payment path",
        "rollback": "the bug is in a brand-new feature",
        "author": "alice",
    })
}

#[test]
fn tokens_are_issued_once_listed_without_secrets_and_revoked() {
    let sandbox = Sandbox::example();
    let db = sandbox.db().display().to_string();
    let (carol, carol_id) = issue(&sandbox, &db, "carol");
    let issued = sandbox.fixlane(&[
        "token",
        "issue",
        "dave",
        "--expires",
        "90d",
        "--as",
        "operator",
    ]);
    issued.expect_code(0);
    assert!(issued.stderr().contains("expiring"), "{}", issued.stderr());
    assert!(issued.stderr().contains("shown only this once"));
    let dave = issued.stdout().trim().to_owned();
    assert_eq!(issued.stdout().lines().count(), 1);

    let refused = sandbox.fixlane(&["token", "issue", "mallory"]);
    refused.expect_code(1);
    assert!(
        refused
            .stderr()
            .contains("refused: issuing a token for `mallory`"),
        "{}",
        refused.stderr()
    );
    sandbox
        .fixlane(&["token", "issue", "carol", "--expires", "0d"])
        .expect_code(2);

    let listed = sandbox.fixlane(&["token", "list"]);
    listed.expect_code(0);
    let text = listed.stdout();
    assert!(text.contains(&carol_id) && text.contains("carol") && text.contains("live"));
    assert!(!text.contains(&carol) && !text.contains(&dave), "{text}");
    let json: Value =
        serde_json::from_str(&sandbox.fixlane(&["token", "list", "--json"]).stdout()).unwrap();
    let tokens = json.as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().all(|token| token["state"] == "live"));
    assert!(tokens.iter().all(|token| token.get("sha256").is_none()));
    assert!(tokens[1]["expires_at"].is_string());

    let revoked = sandbox.fixlane(&["token", "revoke", &carol_id, "--as", "operator"]);
    revoked.expect_code(0);
    assert_eq!(
        revoked.stdout().trim(),
        format!("revoked token {carol_id} of carol")
    );
    sandbox
        .fixlane(&["token", "revoke", "dave", "--as", "operator"])
        .expect_code(0);
    let again = sandbox.fixlane(&["token", "revoke", "dave"]);
    again.expect_code(2);
    assert!(
        again.stderr().contains("no live token matches `dave`"),
        "{}",
        again.stderr()
    );
    assert_eq!(
        sandbox
            .fixlane(&["token", "list"])
            .stdout()
            .matches("revoked")
            .count(),
        // The header's column, and one per token.
        3
    );

    // Issue and revoke are on the audit record, by the operator, without a secret.
    let export = sandbox.fixlane(&["audit", "export"]);
    let actions: Vec<(String, String)> = export
        .events()
        .iter()
        .map(|entry| {
            (
                entry["actor"].as_str().unwrap().to_owned(),
                entry["action"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(_, action)| action.starts_with("token-"))
        .collect();
    let operator = |action: &str| ("operator".to_owned(), action.to_owned());
    assert_eq!(
        actions,
        [
            operator("token-issued"),
            operator("token-issued"),
            operator("token-revoked"),
            operator("token-revoked")
        ]
    );
    assert!(!export.stdout().contains(&carol) && !export.stdout().contains(&dave));
    sandbox.fixlane(&["audit", "verify"]).expect_code(0);
}

#[test]
fn serve_and_token_outside_a_repository_need_config_and_db() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::support::example_dir().join("fixlane.toml"),
        dir.path().join("fixlane.toml"),
    )
    .unwrap();
    let run = |arguments: &[&str]| {
        let mut command = Command::new(FIXLANE);
        command.args(arguments).current_dir(dir.path());
        for (key, _) in std::env::vars() {
            if key.starts_with("FIXLANE_") {
                command.env_remove(key);
            }
        }
        crate::support::Run::of(&mut command)
    };
    let issued = run(&[
        "token",
        "issue",
        "carol",
        "--config",
        "fixlane.toml",
        "--db",
        "store.db",
    ]);
    issued.expect_code(0);
    assert!(issued.stdout().starts_with("fixlane_tok_"));
    assert!(dir.path().join("store.db").exists());
    let no_config = run(&["serve", "--db", "store.db"]);
    no_config.expect_code(5);
    assert!(
        no_config.stderr().contains("pass --config"),
        "{}",
        no_config.stderr()
    );
    let no_db = run(&["serve", "--config", "fixlane.toml"]);
    no_db.expect_code(6);
    assert!(no_db.stderr().contains("pass --db"), "{}", no_db.stderr());
}

#[test]
fn two_replicas_share_one_record_and_stop_gracefully() {
    let Some(database) = PostgresDatabase::create("two_replicas_share_one_record") else {
        return;
    };
    let sandbox = Sandbox::example();
    let db = database.url.clone();
    let (bob, bob_id) = issue(&sandbox, &db, "bob");
    let (carol, carol_id) = issue(&sandbox, &db, "carol");
    let (dave, dave_id) = issue(&sandbox, &db, "dave");
    let mut first = Replica::start(&sandbox, &db, false);
    let mut second = Replica::start(&sandbox, &db, true);

    // Declared on one replica (the body's `author` ignored), approved on the other.
    let (status, declared) = post(&first, "/api/v1/emergencies", &bob, &declaration());
    assert_eq!(status, 201, "{declared}");
    assert_eq!(declared["author"], "bob");
    let approvals = format!("/api/v1/emergencies/{ID}/approvals");
    let (status, approved) = post(&second, &approvals, &carol, &json!({ "person": "dave" }));
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["missing_approvals"], json!([["platform-lead"]]));
    // The first replica reads it at once: nothing is cached.
    let (_, shown) = get(&first, &format!("/api/v1/emergencies/{ID}"), &bob);
    assert_eq!(shown["approvals"][0]["person"], "carol");

    // A token revoked while both run is refused on the next request.
    sandbox
        .fixlane(&["token", "revoke", "carol", "--db", &db, "--as", "operator"])
        .expect_code(0);
    let (status, refused) = get(&first, "/api/v1/emergencies", &carol);
    assert_eq!(status, 401, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("revoked"));

    // SIGTERM with an approval in flight: its headers are in, its body is not.
    let body = br#"{"role": "platform-lead"}"#;
    let address = second.base.trim_start_matches("http://").to_owned();
    let mut connection = TcpStream::connect(&address).unwrap();
    write!(
        connection,
        "POST {approvals} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {dave}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    connection.write_all(&body[..1]).unwrap();
    connection.flush().unwrap();
    // The second approval this replica serves: the first one's log line must not count.
    second.wait_for_count(&["request started", "/approvals"], 2);
    second.signal("TERM");
    second.wait_for_all(&["shutting down", "SIGTERM"]);
    connection.write_all(&body[1..]).unwrap();
    let mut answer = String::new();
    connection.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""state":"approved""#), "{answer}");
    let status = second.exit();
    assert!(status.success(), "{status}: {}", second.log.join("\n"));
    assert!(
        second
            .log
            .iter()
            .any(|line| line.contains("fixlane serve: stopped"))
    );

    // The approval made during shutdown is on the record the first replica serves.
    let (_, shown) = get(&first, &format!("/api/v1/emergencies/{ID}"), &bob);
    assert_eq!(shown["state"], "approved");
    assert_eq!(shown["approvals"][1]["person"], "dave");

    // Ctrl-C stops the other one the same way.
    first.signal("INT");
    first.wait_for("Ctrl-C");
    assert!(first.exit().success());

    // One audit chain across both replicas, each write by its token's owner, naming the token.
    sandbox
        .fixlane(&["audit", "verify", "--db", &db])
        .expect_code(0);
    let export = sandbox.fixlane(&["audit", "export", "--db", &db]);
    let writes: Vec<(String, String, String)> = export
        .events()
        .iter()
        .filter(|entry| matches!(entry["action"].as_str(), Some("declare" | "approve")))
        .map(|entry| {
            (
                entry["actor"].as_str().unwrap().to_owned(),
                entry["action"].as_str().unwrap().to_owned(),
                entry["details"]["token"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let write = |actor: &str, action: &str, token: &str| {
        (actor.to_owned(), action.to_owned(), token.to_owned())
    };
    assert_eq!(
        writes,
        [
            write("bob", "declare", &bob_id),
            write("carol", "approve", &carol_id),
            write("dave", "approve", &dave_id),
        ]
    );
}
