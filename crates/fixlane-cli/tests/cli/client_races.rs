//! The team server under pressure, through the CLI in client mode: fifty requests racing a
//! rate limit across three replicas on one `PostgreSQL` database, and a replica killed with
//! SIGKILL while its write is half done.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::{Tokens, client, command, declaration};
use crate::server::Replica;
use crate::support::{PostgresDatabase, Sandbox};

const ID: &str = "INC-2026-05-20-001";

/// How long the tests wait for a condition before giving up (a failure bound only).
const PATIENCE: Duration = Duration::from_secs(30);

/// Fifty requests at once, spread over three replicas: 24 declarations racing a rate limit that
/// leaves room for two, and 26 approvals of one emergency by its two approvers.
#[test]
fn fifty_racing_requests_across_three_replicas_leave_exact_counts_and_one_chain() {
    let Some(database) = PostgresDatabase::create("client_race") else {
        return;
    };
    let sandbox = Sandbox::example();
    let db = database.url.clone();
    let tokens = Tokens::issue(&sandbox, &db);
    let replicas = [
        Replica::start(&sandbox, &db, false),
        Replica::start(&sandbox, &db, false),
        Replica::start(&sandbox, &db, false),
    ];
    client(&sandbox, &replicas[0].base, &tokens.bob, &declaration(ID)).expect_code(0);

    let authors = [&tokens.alice, &tokens.bob, &tokens.carol, &tokens.dave];
    let ids: Vec<String> = (2..=25).map(|n| format!("INC-2026-05-20-{n:03}")).collect();
    let racing_since = Instant::now();
    let mut racing: Vec<(&str, Child)> = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let replica = &replicas[index % 3];
        let child = command(
            &sandbox,
            &replica.base,
            authors[index % 4],
            &declaration(id),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        racing.push(("declare", child));
    }
    for index in 0..26 {
        let replica = &replicas[(index + 1) % 3];
        let token = if index % 2 == 0 {
            &tokens.carol
        } else {
            &tokens.dave
        };
        let child = command(&sandbox, &replica.base, token, &["approve", ID])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        racing.push(("approve", child));
    }
    let mut succeeded = std::collections::BTreeMap::new();
    for (kind, child) in racing {
        let output = child.wait_with_output().unwrap();
        let code = output.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        // Each is admitted or refused by a rule: none fails in the server.
        assert!(matches!(code, 0 | 1), "{kind} exited {code}: {stderr}");
        if code == 1 {
            let rule = if kind == "declare" {
                "emergency.rate_limit"
            } else {
                "rule: "
            };
            assert!(stderr.contains(rule), "{kind}: {stderr}");
        }
        *succeeded.entry(kind).or_insert(0) += usize::from(code == 0);
    }
    // For the record, not asserted: the time fifty CLI processes took, start to last exit.
    eprintln!(
        "fifty racing requests over three replicas: {} ms",
        racing_since.elapsed().as_millis()
    );
    assert_eq!(
        succeeded["declare"], 2,
        "the rate limit leaves room for two"
    );
    assert_eq!(succeeded["approve"], 2, "one approval per approver");

    let shown = client(
        &sandbox,
        &replicas[2].base,
        &tokens.alice,
        &["show", ID, "--json"],
    );
    let record: Value = serde_json::from_str(&shown.stdout()).unwrap();
    assert_eq!(record["state"], "approved");
    assert_eq!(record["approvals"].as_array().unwrap().len(), 2);
    let listed = client(
        &sandbox,
        &replicas[1].base,
        &tokens.alice,
        &["list", "--json"],
    );
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&listed.stdout())
            .unwrap()
            .len(),
        3
    );

    client(
        &sandbox,
        &replicas[1].base,
        &tokens.alice,
        &["audit", "verify"],
    )
    .expect_code(0);
    let entries = client(
        &sandbox,
        &replicas[0].base,
        &tokens.alice,
        &["audit", "export"],
    )
    .events();
    let count = |action: &str| {
        entries
            .iter()
            .filter(|entry| entry["action"] == action)
            .count()
    };
    assert_eq!(count("declare"), 3);
    assert_eq!(count("approve"), 2);
    let seqs: Vec<i64> = entries
        .iter()
        .map(|entry| entry["seq"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = (1..=i64::try_from(entries.len()).unwrap()).collect();
    assert_eq!(seqs, expected, "one chain, no gaps, no repeats");
}

/// A `psql` session holding a lock until it is told to commit.
struct Lock {
    session: Child,
}

impl Lock {
    /// Takes `statement` (a `LOCK TABLE …`) in an open transaction on `url`.
    fn take(url: &str, statement: &str) -> Self {
        let mut session = Command::new("psql")
            .args([url, "-q", "-X", "-v", "ON_ERROR_STOP=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = session.stdin.as_mut().unwrap();
        writeln!(stdin, "BEGIN;\n{statement};\n\\echo locked").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        BufReader::new(session.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
        Self { session }
    }

    fn release(mut self) {
        let mut stdin = self.session.stdin.take().unwrap();
        writeln!(stdin, "COMMIT;").unwrap();
        drop(stdin);
        assert!(self.session.wait().unwrap().success());
    }
}

/// Waits until a backend of `url` waits on a lock while running a statement starting with
/// `statement`.
fn wait_for_blocked(url: &str, statement: &str) {
    let deadline = Instant::now() + PATIENCE;
    let query = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE \
         '{statement}%'"
    );
    loop {
        let output = Command::new("psql")
            .args([url, "-tAX", "-c", &query])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&output.stdout).trim() == "1" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no write ever blocked on `{statement}`"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_replica_killed_in_the_middle_of_a_write_leaves_nothing_half_written() {
    let Some(database) = PostgresDatabase::create("client_killed_replica") else {
        return;
    };
    let sandbox = Sandbox::example();
    let db = database.url.clone();
    let tokens = Tokens::issue(&sandbox, &db);
    let mut doomed = Replica::start(&sandbox, &db, false);
    let survivor = Replica::start(&sandbox, &db, false);
    let before = client(
        &sandbox,
        &survivor.base,
        &tokens.alice,
        &["audit", "export"],
    )
    .events()
    .len();

    // The declaration's row and audit entry are written, uncommitted; its webhook outbox row
    // waits for a lock this test holds. Then its replica dies.
    let lock = Lock::take(&db, "LOCK TABLE outbox IN EXCLUSIVE MODE");
    let declaring = command(&sandbox, &doomed.base, &tokens.bob, &declaration(ID))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_blocked(&db, "INSERT INTO outbox");
    doomed.signal("KILL");
    let status = doomed.exit();
    assert!(!status.success());
    let answer = declaring.wait_with_output().unwrap();
    assert_eq!(answer.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&answer.stderr);
    assert!(
        stderr.contains(&format!("the fixlane server at {}", doomed.base)),
        "{stderr}"
    );
    lock.release();

    // Nothing of it was kept: no record, no entry, an intact chain.
    let missing = client(&sandbox, &survivor.base, &tokens.bob, &["show", ID]);
    missing.expect_code(2);
    assert!(
        missing
            .stderr()
            .contains(&format!("there is no emergency {ID}")),
        "{}",
        missing.stderr()
    );
    client(
        &sandbox,
        &survivor.base,
        &tokens.alice,
        &["audit", "verify"],
    )
    .expect_code(0);
    let after = client(
        &sandbox,
        &survivor.base,
        &tokens.alice,
        &["audit", "export"],
    )
    .events();
    assert_eq!(after.len(), before);

    // Sent again to the replica still up, it is recorded whole.
    client(&sandbox, &survivor.base, &tokens.bob, &declaration(ID)).expect_code(0);
    let shown = client(
        &sandbox,
        &survivor.base,
        &tokens.bob,
        &["show", ID, "--json"],
    );
    let record: Value = serde_json::from_str(&shown.stdout()).unwrap();
    assert_eq!(record["author"], "bob");
    let entries = client(
        &sandbox,
        &survivor.base,
        &tokens.alice,
        &["audit", "export"],
    )
    .events();
    assert_eq!(
        entries
            .iter()
            .filter(|entry| entry["action"] == "declare")
            .count(),
        1
    );
    client(
        &sandbox,
        &survivor.base,
        &tokens.alice,
        &["audit", "verify"],
    )
    .expect_code(0);
}
