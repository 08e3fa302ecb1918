//! One suite, run against both databases: each test below runs on a temporary `SQLite` file and,
//! when `FIXLANE_TEST_POSTGRES_URL` is set, on a fresh `PostgreSQL` database created for it and
//! dropped afterwards.

// Test helpers (not `#[test]` functions themselves) may fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use fixlane_store::{
    AnyStore, ChainBreak, GENESIS_HASH, GateRecord, NewRun, Store, StoreError, open,
};
use jiff::Timestamp;
use serde_json::json;
use sqlx::AssertSqlSafe;

/// One database under test.
struct TestDb {
    store: AnyStore,
    /// Where a second, independent store on the same database can be opened.
    location: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let location = dir
            .path()
            .join("nested/dir/fixlane.db")
            .display()
            .to_string();
        let store = open(&location).await.unwrap();
        assert_eq!(store.kind(), "sqlite");
        Self {
            store,
            location,
            _dir: Some(dir),
        }
    }

    /// A second store on the same database: another process on the `SQLite` file, another server
    /// replica on `PostgreSQL`.
    async fn reopen(&self) -> AnyStore {
        open(&self.location).await.unwrap()
    }

    /// Runs raw SQL, tampering the way someone with database access could.
    async fn exec(&self, sqlite: &'static str, postgres: &'static str) {
        match &self.store {
            AnyStore::Sqlite(store) => {
                sqlx::raw_sql(sqlite).execute(store.pool()).await.unwrap();
            }
            AnyStore::Postgres(store) => {
                sqlx::raw_sql(postgres).execute(store.pool()).await.unwrap();
            }
        }
    }

    async fn exec_both(&self, sql: &'static str) {
        self.exec(sql, sql).await;
    }
}

/// Runs `body` on a fresh `PostgreSQL` database, or says plainly why it did not.
async fn with_postgres<F, Fut>(body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Ok(base) = std::env::var("FIXLANE_TEST_POSTGRES_URL") else {
        // Straight to the stderr handle, not eprintln!: the test harness captures the macro's
        // output of passing tests, and this skip must be seen.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"PostgreSQL half skipped: FIXLANE_TEST_POSTGRES_URL is not set (set it to e.g. \
              postgres://postgres@127.0.0.1:5432/test to run this test on PostgreSQL too)\n",
        );
        return;
    };
    let name = format!(
        "fixlane_t_{}_{}_{}",
        std::process::id(),
        Timestamp::now().as_nanosecond() % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&base)
        .await
        .unwrap_or_else(|error| panic!("cannot reach FIXLANE_TEST_POSTGRES_URL {base}: {error}"));
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let (before_query, query) = base.split_once('?').unwrap_or((base.as_str(), ""));
    let prefix = before_query
        .rsplit_once('/')
        .map_or(before_query, |(prefix, _)| prefix);
    let location = if query.is_empty() {
        format!("{prefix}/{name}")
    } else {
        format!("{prefix}/{name}?{query}")
    };
    let store = open(&location).await.unwrap();
    assert_eq!(store.kind(), "postgres");
    let db = TestDb {
        store,
        location,
        _dir: None,
    };
    let outcome = tokio::spawn(body(db)).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    admin.close().await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Declares each named `async fn(TestDb)` as two tests, `NAME::sqlite` and `NAME::postgres`.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(super::TestDb::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::with_postgres(super::$name).await;
            }
        }
    )*};
}

on_both_databases!(
    run_round_trip,
    invalid_input_writes_nothing,
    chain_verifies_after_many_actions,
    altered_rows_are_named,
    deleted_middle_row_is_detected,
    truncated_tail_is_detected_by_the_head,
    missing_head_fails_closed,
    concurrent_appends_form_one_chain,
    failed_audit_write_leaves_no_record,
    many_gate_batches_stay_fast,
    config_changes_are_logged_once_each,
);

fn time(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn new_run(run_id: &str, rev: &str, lane: &str, started_at: &str) -> NewRun {
    NewRun {
        run_id: run_id.into(),
        rev: rev.into(),
        branch: Some("hotfix/INC-2026-05-20-001-fix-payment-timeout".into()),
        lane: lane.into(),
        emergency: lane == "hotfix",
        incident: (lane == "hotfix").then(|| "INC-2026-05-20-001".into()),
        started_at: time(started_at),
        plan: json!({"gates": ["build", "unit"], "lane": lane, "weights": [0.5, 1e-7]}),
    }
}

fn gate(name: &str, tier: &str, state: &str, exit_code: Option<i32>) -> GateRecord {
    GateRecord {
        gate: name.into(),
        tier: tier.into(),
        state: state.into(),
        detail: (state == "skipped").then(|| "lane hotfix skips it".into()),
        exit_code,
        duration_ms: exit_code.map(|_| 1234),
        log_path: Some(format!(".git/fixlane/logs/{name}.log")),
        tail: vec!["line one".into(), "ünïcode $(rm -rf /); line".into()],
        finished_at: Timestamp::new(1_800_000_000, 123_456_789).unwrap(),
    }
}

async fn run_round_trip(db: TestDb) {
    let store = &db.store;
    let run = new_run("run-1", "abc123", "hotfix", "2026-11-25T10:00:00.5Z");
    let started = store.start_run("alice", &run).await.unwrap();
    assert_eq!(started.seq, 1);
    assert_eq!(started.action, "run-started");
    assert_eq!(started.previous_hash, GENESIS_HASH);

    let fresh = store.run("run-1").await.unwrap().unwrap();
    assert_eq!(fresh.verdict, None);
    assert_eq!(fresh.finished_at, None);
    assert!(fresh.gates.is_empty());
    assert_eq!(fresh.plan, run.plan);

    let first = vec![
        gate("build", "critical", "passed", Some(0)),
        gate("lint", "required", "skipped", None),
    ];
    let recorded = store
        .record_gates("alice", "run-1", &first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.action, "gates-recorded");
    assert_eq!(
        recorded.details,
        json!({"run_id": "run-1", "gates": [
            {"gate": "build", "state": "passed", "exit_code": 0},
            {"gate": "lint", "state": "skipped", "exit_code": null},
        ]})
    );
    // An empty batch changes nothing and writes no entry.
    assert_eq!(
        store.record_gates("alice", "run-1", &[]).await.unwrap(),
        None
    );
    // Recording a gate again updates it.
    let mut unit = gate("unit", "required", "failed", Some(101));
    store
        .record_gates("alice", "run-1", std::slice::from_ref(&unit))
        .await
        .unwrap();
    unit.state = "passed".into();
    unit.exit_code = Some(0);
    unit.finished_at = Timestamp::new(1_800_000_001, 0).unwrap();
    store
        .record_gates("alice", "run-1", std::slice::from_ref(&unit))
        .await
        .unwrap();

    let reasons = vec!["every critical gate passed".to_owned()];
    let finished_at = time("2026-11-25T10:05:00.000000001Z");
    let verdict = store
        .finish_run("alice", "run-1", "ready", &reasons, finished_at)
        .await
        .unwrap();
    assert_eq!(verdict.action, "run-verdict");
    assert_eq!(verdict.details["verdict"], "ready");
    assert_eq!(verdict.details["rev"], "abc123");
    assert_eq!(verdict.details["lane"], "hotfix");
    assert_eq!(verdict.details["reasons"], json!(reasons));

    let latest = store.latest_run("abc123", None).await.unwrap().unwrap();
    assert_eq!(latest.run_id, "run-1");
    assert_eq!(latest.rev, run.rev);
    assert_eq!(latest.branch, run.branch);
    assert_eq!(latest.lane, "hotfix");
    assert!(latest.emergency);
    assert_eq!(latest.incident.as_deref(), Some("INC-2026-05-20-001"));
    assert_eq!(latest.started_at, run.started_at);
    assert_eq!(latest.finished_at, Some(finished_at));
    assert_eq!(latest.verdict.as_deref(), Some("ready"));
    assert_eq!(latest.reasons, reasons);
    assert_eq!(latest.plan, run.plan);
    let mut expected = first.clone();
    expected.push(unit);
    assert_eq!(latest.gates, expected);
    assert_eq!(store.run("run-1").await.unwrap().unwrap(), latest);

    // A later run of the same rev becomes the latest; the lane filter still finds each.
    store
        .start_run(
            "bob",
            &new_run("run-2", "abc123", "normal", "2026-11-25T11:00:00Z"),
        )
        .await
        .unwrap();
    let newest = store.latest_run("abc123", None).await.unwrap().unwrap();
    assert_eq!(newest.run_id, "run-2");
    assert!(!newest.emergency);
    let hotfix = store
        .latest_run("abc123", Some("hotfix"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hotfix.run_id, "run-1");
    assert!(
        store
            .latest_run("abc123", Some("other"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.latest_run("def456", None).await.unwrap().is_none());
    assert!(store.run("nope").await.unwrap().is_none());

    let actions: Vec<String> = store
        .audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    assert_eq!(
        actions,
        [
            "run-started",
            "gates-recorded",
            "gates-recorded",
            "gates-recorded",
            "run-verdict",
            "run-started"
        ]
    );
    assert_eq!(store.verify_audit().await.unwrap(), Ok(6));
}

async fn invalid_input_writes_nothing(db: TestDb) {
    let store = &db.store;
    store
        .start_run(
            "alice",
            &new_run("run-1", "abc", "normal", "2026-11-25T10:00:00Z"),
        )
        .await
        .unwrap();
    let duplicate = store
        .start_run(
            "alice",
            &new_run("run-1", "abc", "normal", "2026-11-25T10:00:00Z"),
        )
        .await;
    assert!(matches!(duplicate, Err(StoreError::RunExists { .. })));
    let unknown = store
        .record_gates(
            "alice",
            "run-9",
            &[gate("build", "critical", "passed", Some(0))],
        )
        .await;
    assert!(matches!(unknown, Err(StoreError::UnknownRun { .. })));
    let bad_state = store
        .record_gates(
            "alice",
            "run-1",
            &[
                gate("build", "critical", "passed", Some(0)),
                gate("unit", "required", "exploded", None),
            ],
        )
        .await;
    let Err(error @ StoreError::Invalid { .. }) = bad_state else {
        panic!("expected Invalid, got {bad_state:?}");
    };
    assert!(error.to_string().contains("exploded"), "{error}");
    let bad_tier = store
        .record_gates("alice", "run-1", &[gate("b", "vital", "passed", Some(0))])
        .await;
    assert!(matches!(bad_tier, Err(StoreError::Invalid { .. })));
    let bad_verdict = store
        .finish_run("alice", "run-1", "purple", &[], Timestamp::now())
        .await;
    assert!(matches!(bad_verdict, Err(StoreError::Invalid { .. })));
    let unknown_finish = store
        .finish_run("alice", "run-9", "green", &[], Timestamp::now())
        .await;
    assert!(matches!(unknown_finish, Err(StoreError::UnknownRun { .. })));
    let no_actor = store.append_audit(" ", "x", json!({})).await;
    assert!(matches!(no_actor, Err(StoreError::Invalid { .. })));

    let run = store.run("run-1").await.unwrap().unwrap();
    assert!(run.gates.is_empty());
    assert_eq!(run.verdict, None);
    assert_eq!(store.audit_entries().await.unwrap().len(), 1);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(1));
}

/// Appends `count` varied standalone entries.
async fn append_many(store: &AnyStore, count: i32) {
    for index in 1..=count {
        let details = json!({
            "index": index,
            "ratio": 1.0 / (f64::from(index) + 0.3),
            "tiny": 1e-300 * f64::from(index),
            "nested": {"z": [index, null, true, "x"], "a": {"b": "ünïcode \"quoted\""}},
        });
        let action = if index % 2 == 0 {
            "confirm-while-running"
        } else {
            "canary-step"
        };
        store.append_audit("alice", action, details).await.unwrap();
    }
}

async fn chain_verifies_after_many_actions(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.audit_head().await.unwrap(), None);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(0));
    append_many(store, 60).await;
    let entries = store.audit_entries().await.unwrap();
    assert_eq!(entries.len(), 60);
    assert_eq!(entries[0].previous_hash, GENESIS_HASH);
    for (index, entry) in entries.iter().enumerate() {
        assert_eq!(entry.seq, i64::try_from(index).unwrap() + 1);
        assert_eq!(entry.recomputed_hash(), entry.hash);
        assert!(
            entry.time.ends_with('Z') && entry.time.len() == 30,
            "{}",
            entry.time
        );
    }
    for pair in entries.windows(2) {
        assert_eq!(pair[1].previous_hash, pair[0].hash);
    }
    let last = entries.last().unwrap();
    assert_eq!(
        store.audit_head().await.unwrap(),
        Some((60, last.hash.clone()))
    );
    assert_eq!(store.verify_audit().await.unwrap(), Ok(60));
    // A second store opened on the same database sees and verifies the same chain.
    let again = db.reopen().await;
    assert_eq!(again.verify_audit().await.unwrap(), Ok(60));
    assert_eq!(again.audit_entries().await.unwrap(), entries);
}

async fn altered_rows_are_named(db: TestDb) {
    let store = &db.store;
    append_many(store, 8).await;
    db.exec_both("UPDATE audit_log SET actor = 'mallory' WHERE seq = 6")
        .await;
    assert_eq!(
        store.verify_audit().await.unwrap(),
        Err(ChainBreak::Altered { seq: 6 })
    );
    db.exec_both(r#"UPDATE audit_log SET details = '{"index":4}' WHERE seq = 4"#)
        .await;
    assert_eq!(
        store.verify_audit().await.unwrap(),
        Err(ChainBreak::Altered { seq: 4 })
    );
    db.exec_both("UPDATE audit_log SET details = 'not json' WHERE seq = 2")
        .await;
    assert_eq!(
        store.verify_audit().await.unwrap(),
        Err(ChainBreak::Altered { seq: 2 })
    );
    // Reading the entries reports the damage instead of inventing details.
    let read = store.audit_entries().await;
    assert!(matches!(read, Err(StoreError::Corrupt { .. })), "{read:?}");
}

async fn deleted_middle_row_is_detected(db: TestDb) {
    let store = &db.store;
    append_many(store, 6).await;
    db.exec_both("DELETE FROM audit_log WHERE seq = 4").await;
    assert_eq!(
        store.verify_audit().await.unwrap(),
        Err(ChainBreak::OutOfSequence {
            seq: 5,
            expected: 4
        })
    );
}

async fn truncated_tail_is_detected_by_the_head(db: TestDb) {
    let store = &db.store;
    append_many(store, 6).await;
    db.exec_both("DELETE FROM audit_log WHERE seq = 6").await;
    assert_eq!(
        store.verify_audit().await.unwrap(),
        Err(ChainBreak::Truncated {
            last_seq: 5,
            head_seq: 6
        })
    );
    db.exec_both("DELETE FROM audit_log").await;
    assert_eq!(
        store.verify_audit().await.unwrap(),
        Err(ChainBreak::Truncated {
            last_seq: 0,
            head_seq: 6
        })
    );
}

async fn missing_head_fails_closed(db: TestDb) {
    let store = &db.store;
    append_many(store, 3).await;
    db.exec_both("DELETE FROM audit_head").await;
    assert!(matches!(
        store.verify_audit().await,
        Err(StoreError::HeadMissing)
    ));
    assert!(matches!(
        store.append_audit("alice", "x", json!({})).await,
        Err(StoreError::HeadMissing)
    ));
    let started = store
        .start_run(
            "alice",
            &new_run("run-1", "abc", "normal", "2026-11-25T10:00:00Z"),
        )
        .await;
    assert!(matches!(started, Err(StoreError::HeadMissing)));
    assert!(store.run("run-1").await.unwrap().is_none());
    assert_eq!(store.audit_entries().await.unwrap().len(), 3);
}

async fn concurrent_appends_form_one_chain(db: TestDb) {
    const TASKS: i64 = 8;
    const EACH: i64 = 15;
    let second = db.reopen().await;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        // Half the writers go through an independently opened store (another process on the
        // SQLite file, another replica on PostgreSQL).
        let store = if task % 2 == 0 {
            db.store.clone()
        } else {
            second.clone()
        };
        handles.push(tokio::spawn(async move {
            for index in 0..EACH {
                store
                    .append_audit(
                        &format!("writer-{task}"),
                        "canary-step",
                        json!({"task": task, "index": index}),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let entries = db.store.audit_entries().await.unwrap();
    assert_eq!(i64::try_from(entries.len()).unwrap(), TASKS * EACH);
    let seqs: Vec<i64> = entries.iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, (1..=TASKS * EACH).collect::<Vec<_>>());
    let written: BTreeSet<(i64, i64)> = entries
        .iter()
        .map(|entry| {
            (
                entry.details["task"].as_i64().unwrap(),
                entry.details["index"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(i64::try_from(written.len()).unwrap(), TASKS * EACH);
    assert_eq!(
        db.store.verify_audit().await.unwrap(),
        Ok(usize::try_from(TASKS * EACH).unwrap())
    );
    assert_eq!(
        second.verify_audit().await.unwrap(),
        Ok(usize::try_from(TASKS * EACH).unwrap())
    );
}

async fn failed_audit_write_leaves_no_record(db: TestDb) {
    let store = &db.store;
    // A trigger stands in for any failure of the audit insert (disk full, constraint, …).
    db.exec(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
         WHEN NEW.action = 'run-started' OR NEW.details LIKE '%refuse-me%' \
         BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF NEW.action = 'run-started' OR NEW.details LIKE '%refuse-me%' THEN \
             RAISE EXCEPTION 'audit refused'; \
           END IF; \
           RETURN NEW; \
         END $$; \
         CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
         FOR EACH ROW EXECUTE FUNCTION refuse_audit();",
    )
    .await;
    let refused = store
        .start_run(
            "alice",
            &new_run("run-1", "abc", "normal", "2026-11-25T10:00:00Z"),
        )
        .await;
    let Err(error @ StoreError::Query { .. }) = refused else {
        panic!("expected the audit write to fail, got {refused:?}");
    };
    assert!(
        error.to_string().contains("nothing was recorded"),
        "{error}"
    );
    assert!(store.run("run-1").await.unwrap().is_none());
    assert!(store.latest_run("abc", None).await.unwrap().is_none());
    assert!(store.audit_entries().await.unwrap().is_empty());
    assert_eq!(store.audit_head().await.unwrap(), None);

    // Let runs start, then refuse the gate batch and the verdict through their details.
    db.exec(
        "DROP TRIGGER refuse_audit; \
         CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
         WHEN NEW.details LIKE '%refuse-me%' \
         BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
        "CREATE OR REPLACE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF NEW.details LIKE '%refuse-me%' THEN RAISE EXCEPTION 'audit refused'; END IF; \
           RETURN NEW; \
         END $$;",
    )
    .await;
    store
        .start_run(
            "alice",
            &new_run("run-1", "abc", "normal", "2026-11-25T10:00:00Z"),
        )
        .await
        .unwrap();
    let gates = store
        .record_gates(
            "alice",
            "run-1",
            &[
                gate("build", "critical", "passed", Some(0)),
                gate("refuse-me", "required", "failed", Some(1)),
            ],
        )
        .await;
    assert!(matches!(gates, Err(StoreError::Query { .. })), "{gates:?}");
    let verdict = store
        .finish_run(
            "alice",
            "run-1",
            "blocked",
            &["refuse-me".to_owned()],
            Timestamp::now(),
        )
        .await;
    assert!(
        matches!(verdict, Err(StoreError::Query { .. })),
        "{verdict:?}"
    );
    let run = store.run("run-1").await.unwrap().unwrap();
    assert!(run.gates.is_empty(), "{:?}", run.gates);
    assert_eq!(run.verdict, None);
    assert!(run.reasons.is_empty());
    assert_eq!(store.verify_audit().await.unwrap(), Ok(1));
}

async fn many_gate_batches_stay_fast(db: TestDb) {
    let store = &db.store;
    store
        .start_run(
            "runner",
            &new_run("run-1", "abc", "normal", "2026-11-25T10:00:00Z"),
        )
        .await
        .unwrap();
    let gates: Vec<GateRecord> = (0..200)
        .map(|index| gate(&format!("gate-{index:03}"), "required", "passed", Some(0)))
        .collect();
    let started = Instant::now();
    for one in &gates {
        store
            .record_gates("runner", "run-1", std::slice::from_ref(one))
            .await
            .unwrap();
    }
    let one_by_one = started.elapsed();
    let started = Instant::now();
    store.record_gates("runner", "run-1", &gates).await.unwrap();
    let batched = started.elapsed();
    eprintln!(
        "{}: 200 single-gate batches in {one_by_one:?}; one 200-gate batch in {batched:?}",
        store.kind()
    );
    assert!(one_by_one.as_secs() < 20, "{one_by_one:?}");
    let run = store.run("run-1").await.unwrap().unwrap();
    assert_eq!(run.gates.len(), 200);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(202));
}

#[tokio::test]
async fn open_understands_locations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/store.db");
    let store = open(&format!("sqlite://{}", path.display())).await.unwrap();
    assert!(path.exists());
    let AnyStore::Sqlite(sqlite) = &store else {
        panic!("expected SQLite");
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(sqlite.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(sqlite.pool())
        .await
        .unwrap();
    assert_eq!(sync, 1, "synchronous = NORMAL");
    let keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(sqlite.pool())
        .await
        .unwrap();
    assert_eq!(keys, 1);
    store.close().await;
    // Reopening an existing store runs no migration twice.
    let again = open(&path.display().to_string()).await.unwrap();
    assert_eq!(again.verify_audit().await.unwrap(), Ok(0));

    for bad in ["", "mysql://u:pw@h/db", "sqlite::memory:"] {
        let error = open(bad).await.unwrap_err();
        assert!(matches!(error, StoreError::BadLocation { .. }), "{error}");
        assert!(!error.to_string().contains("pw@"), "{error}");
        assert!(error.to_string().contains("FIXLANE_DB"), "{error}");
    }
    let unreachable = open("postgres://nobody:secret@127.0.0.1:1/none").await;
    let Err(error) = unreachable else {
        panic!("expected a connection failure");
    };
    assert!(
        matches!(error, StoreError::ConnectPostgres { .. }),
        "{error}"
    );
    assert!(!error.to_string().contains("secret"), "{error}");
}

#[tokio::test]
async fn two_processes_opening_a_fresh_file_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("race.db").display().to_string();
    let (one, two) = tokio::join!(open(&location), open(&location));
    let (one, two) = (one.unwrap(), two.unwrap());
    one.append_audit("a", "x", json!({})).await.unwrap();
    two.append_audit("b", "y", json!({})).await.unwrap();
    assert_eq!(one.verify_audit().await.unwrap(), Ok(2));
}

async fn config_changes_are_logged_once_each(db: TestDb) {
    let store = &db.store;
    let first = store
        .record_config_seen("bob", "fixlane.toml", "aaa")
        .await
        .unwrap()
        .expect("the first config is a change");
    assert_eq!(first.action, "config-seen");
    assert_eq!(first.details["previous_sha256"], serde_json::Value::Null);
    assert!(
        store
            .record_config_seen("bob", "fixlane.toml", "aaa")
            .await
            .unwrap()
            .is_none()
    );
    store.append_audit("bob", "other", json!({})).await.unwrap();
    let second = store
        .record_config_seen("alice", "fixlane.toml", "bbb")
        .await
        .unwrap()
        .expect("a new hash is a change");
    assert_eq!(second.details["previous_sha256"], "aaa");
    assert_eq!(store.verify_audit().await.unwrap(), Ok(3));
}
