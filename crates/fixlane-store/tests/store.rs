//! One suite, run against both databases: each test below runs on a temporary `SQLite` file and,
//! when `FIXLANE_TEST_POSTGRES_URL` is set, on a fresh `PostgreSQL` database created for it and
//! dropped afterwards.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers (not `#[test]` functions themselves) may fail loudly"
)]

mod common;

use fixlane_core::audit::{ApprovalGiven, Approved, AuditAction, CanaryStep, Declared};

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Instant;

use fixlane_core::{GateName, IncidentId, Rev, Tier, Verdict};
use fixlane_store::{
    AnyStore, CanaryEventRecord, ChainBreak, EmergencyRow, GENESIS_HASH, GateRecord, NewCanary,
    NewRun, PastDeclaration, RateReview, Store, StoreError, StoredGateState,
};
use jiff::Timestamp;
use serde_json::json;

/// Opens the store at a location given as text, as `--db` gives it.
async fn open(location: &str) -> Result<AnyStore, StoreError> {
    fixlane_store::open(&location.parse()?).await
}

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
    let Some(scratch) = common::scratch("store", "fixlane_t").await else {
        return;
    };
    let store = open(&scratch.url).await.unwrap();
    assert_eq!(store.kind(), "postgres");
    let db = TestDb {
        store,
        location: scratch.url.clone(),
        _dir: None,
    };
    scratch.run(body(db), &[]).await;
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

#[path = "store/drills.rs"]
mod drills;
#[path = "store/followups.rs"]
mod followups;
#[path = "store/outbox.rs"]
mod outbox;

use drills::{drills_are_kept_with_their_entries, the_sandbox_mark_is_written_once};
use outbox::{
    deliveries_retry_give_up_and_finish_once, only_announced_actions_reach_the_outbox,
    overdue_followups_are_noted_once, racing_drainers_never_share_a_delivery,
};

use followups::{
    a_change_without_actions_writes_nothing, followups_open_and_read_back_in_order,
    racing_closes_record_one,
};

#[path = "store/tokens.rs"]
mod tokens;

use tokens::{
    a_taken_token_id_writes_nothing, presented_tokens_are_refused_unless_good,
    racing_revocations_record_one, tokens_issue_list_and_revoke_with_their_entries,
};

on_both_databases!(
    only_announced_actions_reach_the_outbox,
    deliveries_retry_give_up_and_finish_once,
    racing_drainers_never_share_a_delivery,
    overdue_followups_are_noted_once,
    the_sandbox_mark_is_written_once,
    drills_are_kept_with_their_entries,
    followups_open_and_read_back_in_order,
    a_change_without_actions_writes_nothing,
    racing_closes_record_one,
    tokens_issue_list_and_revoke_with_their_entries,
    presented_tokens_are_refused_unless_good,
    a_taken_token_id_writes_nothing,
    racing_revocations_record_one,
    run_round_trip,
    invalid_input_writes_nothing,
    chain_verifies_after_many_actions,
    altered_rows_are_named,
    deleted_middle_row_is_detected,
    truncated_tail_is_detected_by_the_head,
    missing_head_fails_closed,
    concurrent_appends_form_one_chain,
    failed_audit_write_leaves_no_record,
    foreign_column_text_is_named_on_read,
    many_gate_batches_stay_fast,
    config_changes_are_logged_once_each,
    emergency_declare_round_trip,
    duplicate_emergency_is_refused,
    refused_declaration_writes_nothing,
    decide_sees_declarations_since_and_last_review,
    emergency_update_round_trip,
    update_of_missing_emergency_is_none,
    refused_change_writes_nothing,
    concurrent_updates_lose_nothing,
    concurrent_declarations_respect_the_rate,
    rate_reviews_round_trip,
    canary_round_trip,
    canary_invalid_input_writes_nothing,
    canary_events_of_unknown_canary_are_refused,
    failed_canary_audit_write_leaves_no_events,
    concurrent_canary_batches_keep_seq_contiguous,
    canaries_of_lists_newest_first,
);

/// A free-form standalone entry: a canary step, whose payload is the caller's JSON as it is.
/// What tests append when only the chain, the lock or the encoding matters.
fn step(data: serde_json::Value) -> AuditAction {
    AuditAction::CanaryStep(CanaryStep {
        kind: "step".into(),
        canary: "can-0".into(),
        incident: None,
        seq: 0,
        data,
    })
}

/// A declaration's entry for `id`, with placeholder fields.
fn declared_action(id: &IncidentId) -> AuditAction {
    AuditAction::Declare(Declared {
        id: id.clone(),
        severity: "P0".into(),
        category: "security".into(),
        title: "a test emergency".into(),
        cleanup_owner: fixlane_core::PersonName::parse("alice").unwrap(),
        eta: None,
        flag_flip: "no flag".into(),
        rollback: "no rollback".into(),
        branch: format!("hotfix/{id}"),
        warnings: vec![],
    })
}

/// An approval's entry for `id` by `person`.
fn approved_action(id: &str, person: &str) -> AuditAction {
    AuditAction::Approve(Approved {
        approval: ApprovalGiven {
            id: inc(id),
            person: fixlane_core::PersonName::parse(person).unwrap(),
            role: "incident-commander".into(),
            group: 0,
        },
        state: fixlane_core::emergency::EmergencyState::Approved,
    })
}

fn time(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn rev(text: &str) -> Rev {
    Rev::parse(text).unwrap()
}

fn inc(text: &str) -> IncidentId {
    IncidentId::parse(text).unwrap()
}

fn new_run(run_id: &str, rev: &str, lane: &str, started_at: &str) -> NewRun {
    NewRun {
        run_id: run_id.into(),
        rev: self::rev(rev),
        branch: Some("hotfix/INC-2026-05-20-001-fix-payment-timeout".into()),
        lane: lane.into(),
        emergency: lane == "hotfix",
        incident: (lane == "hotfix").then(|| inc("INC-2026-05-20-001")),
        started_at: time(started_at),
        plan: json!({"gates": ["build", "unit"], "lane": lane, "weights": [0.5, 1e-7]}),
        runner: None,
    }
}

fn gate(name: &str, tier: &str, state: &str, exit_code: Option<i32>) -> GateRecord {
    GateRecord {
        gate: GateName::parse(name).unwrap(),
        tier: Tier::parse(tier).unwrap(),
        state: StoredGateState::parse(state).unwrap(),
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
    unit.state = StoredGateState::Passed;
    unit.exit_code = Some(0);
    unit.finished_at = Timestamp::new(1_800_000_001, 0).unwrap();
    store
        .record_gates("alice", "run-1", std::slice::from_ref(&unit))
        .await
        .unwrap();

    let reasons = vec!["every critical gate passed".to_owned()];
    let finished_at = time("2026-11-25T10:05:00.000000001Z");
    let verdict = store
        .finish_run("alice", "run-1", Verdict::Ready, &reasons, finished_at)
        .await
        .unwrap();
    assert_eq!(verdict.action, "run-verdict");
    assert_eq!(verdict.details["verdict"], "ready");
    assert_eq!(verdict.details["rev"], "abc123");
    assert_eq!(verdict.details["lane"], "hotfix");
    assert_eq!(verdict.details["reasons"], json!(reasons));

    let latest = store
        .latest_run(&rev("abc123"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.run_id, "run-1");
    assert_eq!(latest.rev, run.rev);
    assert_eq!(latest.branch, run.branch);
    assert_eq!(latest.lane, "hotfix");
    assert!(latest.emergency);
    assert_eq!(
        latest.incident.as_ref().map(IncidentId::as_str),
        Some("INC-2026-05-20-001")
    );
    assert_eq!(latest.started_at, run.started_at);
    assert_eq!(latest.finished_at, Some(finished_at));
    assert_eq!(latest.verdict, Some(Verdict::Ready));
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
    let newest = store
        .latest_run(&rev("abc123"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest.run_id, "run-2");
    assert!(!newest.emergency);
    let hotfix = store
        .latest_run(&rev("abc123"), Some("hotfix"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hotfix.run_id, "run-1");
    assert!(
        store
            .latest_run(&rev("abc123"), Some("other"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .latest_run(&rev("def456"), None)
            .await
            .unwrap()
            .is_none()
    );
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
    // A wrong tier, gate state or verdict cannot be written: they are typed (see
    // `foreign_column_text_is_named_on_read` for one written behind the store's back).
    let unknown_finish = store
        .finish_run("alice", "run-9", Verdict::Green, &[], Timestamp::now())
        .await;
    assert!(matches!(unknown_finish, Err(StoreError::UnknownRun { .. })));
    let no_actor = store.append_audit(" ", &step(json!({}))).await;
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
        store.append_audit("alice", &step(details)).await.unwrap();
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
        store.append_audit("alice", &step(json!({}))).await,
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
                        &step(json!({"task": task, "index": index})),
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
                entry.details["data"]["task"].as_i64().unwrap(),
                entry.details["data"]["index"].as_i64().unwrap(),
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
    assert!(store.latest_run(&rev("abc"), None).await.unwrap().is_none());
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
            Verdict::Blocked,
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

/// Revs, ids and gate names are typed, so no caller can write a malformed one; text written into
/// their columns behind the store's back is named when read, not handed on. (Tiers, gate states
/// and verdicts are typed too, and their columns' CHECK constraints refuse other text.)
async fn foreign_column_text_is_named_on_read(db: TestDb) {
    let store = &db.store;
    store
        .start_run(
            "alice",
            &new_run("run-1", "abc", "normal", "2026-11-25T10:00:00Z"),
        )
        .await
        .unwrap();
    store
        .record_gates(
            "alice",
            "run-1",
            &[gate("build", "critical", "passed", Some(0))],
        )
        .await
        .unwrap();
    for (tamper, named) in [
        ("UPDATE runs SET rev = 'main'", "`main`"),
        ("UPDATE runs SET rev = 'abc', incident = 'INC 1'", "`INC 1`"),
        (
            "UPDATE runs SET incident = NULL; UPDATE gate_results SET gate = 'a gate'",
            "`a gate`",
        ),
    ] {
        db.exec_both(tamper).await;
        let read = store.run("run-1").await;
        let Err(error @ StoreError::Corrupt { .. }) = read else {
            panic!("{tamper}: expected Corrupt, got {read:?}");
        };
        assert!(error.to_string().contains(named), "{tamper}: {error}");
    }
    db.exec_both("UPDATE gate_results SET gate = 'build'").await;
    let run = store.run("run-1").await.unwrap().unwrap();
    assert_eq!(run.rev, rev("abc"));
    assert_eq!(run.incident, None);
    assert_eq!(run.gates[0].gate.as_str(), "build");
    assert_eq!(run.gates[0].tier, Tier::Critical);
    assert_eq!(run.gates[0].state, StoredGateState::Passed);
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
        // How to name another store is the caller's to say (a flag, a variable, a setting).
        assert!(!error.to_string().contains("FIXLANE_DB"), "{error}");
        assert!(!error.to_string().contains("--db"), "{error}");
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
    assert!(!error.to_string().contains("FIXLANE_DB"), "{error}");
    assert!(!error.to_string().contains("--db"), "{error}");
}

#[tokio::test]
async fn two_processes_opening_a_fresh_file_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("race.db").display().to_string();
    let (one, two) = tokio::join!(open(&location), open(&location));
    let (one, two) = (one.unwrap(), two.unwrap());
    one.append_audit("a", &step(json!({}))).await.unwrap();
    two.append_audit("b", &step(json!({}))).await.unwrap();
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
    store.append_audit("bob", &step(json!({}))).await.unwrap();
    let second = store
        .record_config_seen("alice", "fixlane.toml", "bbb")
        .await
        .unwrap()
        .expect("a new hash is a change");
    assert_eq!(second.details["previous_sha256"], "aaa");
    assert_eq!(store.verify_audit().await.unwrap(), Ok(3));
}

fn emergency(id: &str, declared_at: &str, author: &str, drill: bool) -> EmergencyRow {
    EmergencyRow {
        id: inc(id),
        declared_at: time(declared_at),
        author: author.into(),
        drill,
        state: "declared".into(),
        updated_at: time(declared_at),
        document: json!({
            "id": id,
            "severity": "P1",
            "category": "incident",
            "summary": "payments time out; ünïcode \"quoted\" $(rm -rf /)",
            "approvals": [],
            "weights": [0.5, 1e-7, 12_345_678_901_234_567_i64],
            "nested": {"z": 1, "a": [null, true, {"k": "v"}]},
        }),
    }
}

/// Declares `row` unconditionally, with `details` naming it.
async fn declare(store: &AnyStore, row: EmergencyRow) -> (EmergencyRow, fixlane_store::AuditEntry) {
    let since = time("2000-01-01T00:00:00Z");
    store
        .declare_emergency(&row.author.clone(), since, move |_, _, _| {
            let action = declared_action(&row.id);
            Ok::<_, String>((row, action))
        })
        .await
        .unwrap()
        .unwrap()
}

async fn emergency_declare_round_trip(db: TestDb) {
    let store = &db.store;
    assert!(store.emergency(&inc("INC-1")).await.unwrap().is_none());
    assert!(store.emergencies().await.unwrap().is_empty());
    let none = store.emergency_documents().await.unwrap();
    assert_eq!((none.count, none.json.as_str()), (0, "[]"));
    let row = emergency("INC-1", "2026-05-20T10:00:00.123456789Z", "alice", false);
    let since = time("2026-05-19T10:00:00Z");
    let expected = row.clone();
    let called = Timestamp::now();
    let (declared, entry) = store
        .declare_emergency("alice", since, move |now, past, review| {
            assert!(past.is_empty());
            assert!(review.is_none());
            // The moment is read during the call, under the lock, not handed in.
            assert!(
                now >= called && now <= Timestamp::now(),
                "{now} vs {called}"
            );
            Ok::<_, String>((row, declared_action(&inc("INC-1"))))
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(declared, expected);
    assert_eq!(entry.seq, 1);
    assert_eq!(entry.action, "declare");
    assert_eq!(entry.actor, "alice");
    assert_eq!(
        entry.details,
        declared_action(&inc("INC-1")).details().unwrap()
    );

    let read = store.emergency(&inc("INC-1")).await.unwrap().unwrap();
    assert_eq!(read, expected);
    assert_eq!(
        read.document["weights"],
        json!([0.5, 1e-7, 12_345_678_901_234_567_i64])
    );

    let (second, _) = declare(
        store,
        emergency("INC-2", "2026-05-21T10:00:00Z", "bob", true),
    )
    .await;
    let listed = store.emergencies().await.unwrap();
    assert_eq!(listed, vec![second, expected]);
    // The bulk read: the same documents (in no particular order), counted.
    let documents = store.emergency_documents().await.unwrap();
    assert_eq!(documents.count, 2);
    let mut bulk: Vec<serde_json::Value> = serde_json::from_str(&documents.json).unwrap();
    let mut rows: Vec<serde_json::Value> = listed.iter().map(|row| row.document.clone()).collect();
    let by_text = |a: &serde_json::Value, b: &serde_json::Value| a.to_string().cmp(&b.to_string());
    bulk.sort_by(by_text);
    rows.sort_by(by_text);
    assert_eq!(bulk, rows);

    let entries = store.audit_entries().await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0], entry);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
    // Another process or replica reads the same record.
    let other = db.reopen().await;
    assert_eq!(other.emergency(&inc("INC-1")).await.unwrap().unwrap(), read);
}

async fn duplicate_emergency_is_refused(db: TestDb) {
    let store = &db.store;
    let (original, _) = declare(
        store,
        emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false),
    )
    .await;
    let mut again = emergency("INC-1", "2026-05-20T11:00:00Z", "bob", false);
    again.document = json!({"other": true});
    let since = time("2026-05-01T00:00:00Z");
    let refused = store
        .declare_emergency("bob", since, move |_, _, _| {
            Ok::<_, String>((again, declared_action(&inc("INC-1"))))
        })
        .await;
    let Err(error @ StoreError::EmergencyExists { .. }) = refused else {
        panic!("expected EmergencyExists, got {refused:?}");
    };
    let message = error.to_string();
    assert!(message.contains("INC-1"), "{message}");
    assert!(message.contains("fixlane show INC-1"), "{message}");
    assert!(message.contains("another id"), "{message}");
    assert_eq!(
        store.emergency(&inc("INC-1")).await.unwrap().unwrap(),
        original
    );
    assert_eq!(store.emergencies().await.unwrap().len(), 1);
    assert_eq!(store.audit_entries().await.unwrap().len(), 1);

    // Empty authors and actors are refused before anything is written (an id is an
    // `IncidentId`, never empty, and an action is typed, never blank).
    let blank = emergency("INC-3", "2026-05-20T12:00:00Z", " ", false);
    let refused = store
        .declare_emergency("carol", since, move |_, _, _| {
            Ok::<_, String>((blank, declared_action(&inc("INC-3"))))
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid { .. })),
        "{refused:?}"
    );
    let fine = emergency("INC-3", "2026-05-20T12:00:00Z", "carol", false);
    let refused = store
        .declare_emergency("", since, move |_, _, _| {
            Ok::<_, String>((fine, declared_action(&inc("INC-3"))))
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid { .. })),
        "{refused:?}"
    );
    let refused = store
        .update_emergency("", &inc("INC-1"), |row| {
            Ok::<_, String>((row, step(json!({}))))
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid { .. })),
        "{refused:?}"
    );
    assert_eq!(store.emergencies().await.unwrap().len(), 1);
    assert_eq!(store.audit_entries().await.unwrap().len(), 1);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(1));
}

async fn refused_declaration_writes_nothing(db: TestDb) {
    let store = &db.store;
    let row = emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false);
    let outcome = store
        .declare_emergency("alice", time("2026-05-01T00:00:00Z"), move |_, _, _| {
            drop(row);
            Err::<(EmergencyRow, AuditAction), _>("P2: the normal pipeline".to_owned())
        })
        .await
        .unwrap();
    assert_eq!(outcome, Err("P2: the normal pipeline".to_owned()));
    assert!(store.emergency(&inc("INC-1")).await.unwrap().is_none());
    assert!(store.emergencies().await.unwrap().is_empty());
    assert!(store.audit_entries().await.unwrap().is_empty());
    assert_eq!(store.audit_head().await.unwrap(), None);
    // The lock was released: the next declaration goes through at once.
    let started = Instant::now();
    declare(
        store,
        emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false),
    )
    .await;
    assert!(started.elapsed().as_secs() < 3);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(1));
}

async fn decide_sees_declarations_since_and_last_review(db: TestDb) {
    let store = &db.store;
    declare(
        store,
        emergency("INC-1", "2026-05-01T10:00:00Z", "alice", false),
    )
    .await;
    declare(
        store,
        emergency("INC-2", "2026-05-10T10:00:00Z", "bob", true),
    )
    .await;
    declare(
        store,
        emergency("INC-3", "2026-05-20T10:00:00Z", "carol", false),
    )
    .await;
    store
        .record_rate_review("dave", "older review")
        .await
        .unwrap();
    let (newest, _) = store
        .record_rate_review("erin", "newest review")
        .await
        .unwrap();
    let before = store.audit_entries().await.unwrap().len();

    // Returning what it saw as the refusal writes nothing and hands it back.
    let seen = |since: &str| {
        let since = time(since);
        async move {
            store
                .declare_emergency("zoe", since, |_, past, review| {
                    Err::<(EmergencyRow, AuditAction), _>((past.to_vec(), review.cloned()))
                })
                .await
                .unwrap()
                .unwrap_err()
        }
    };
    let (past, review) = seen("2026-05-10T10:00:00Z").await;
    assert_eq!(
        past,
        vec![
            PastDeclaration {
                id: inc("INC-2"),
                author: "bob".into(),
                declared_at: time("2026-05-10T10:00:00Z"),
                drill: true,
            },
            PastDeclaration {
                id: inc("INC-3"),
                author: "carol".into(),
                declared_at: time("2026-05-20T10:00:00Z"),
                drill: false,
            },
        ]
    );
    assert_eq!(
        review.as_ref().map(|review| review.by.as_str()),
        Some("erin")
    );
    assert_eq!(review, Some(newest));
    let (past, _) = seen("2026-05-10T10:00:00.000000001Z").await;
    assert_eq!(past.len(), 1);
    let (past, _) = seen("2000-01-01T00:00:00Z").await;
    let ids: Vec<&str> = past.iter().map(|past| past.id.as_str()).collect();
    assert_eq!(ids, ["INC-1", "INC-2", "INC-3"]);
    let (past, _) = seen("2026-06-01T00:00:00Z").await;
    assert!(past.is_empty());
    assert_eq!(store.audit_entries().await.unwrap().len(), before);
    assert_eq!(store.emergencies().await.unwrap().len(), 3);
}

async fn emergency_update_round_trip(db: TestDb) {
    let store = &db.store;
    let (declared, _) = declare(
        store,
        emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false),
    )
    .await;
    let approved_at = time("2026-05-20T10:05:00.5Z");
    let (changed, entry) = store
        .update_emergency("carol", &inc("INC-1"), move |mut row| {
            assert_eq!(row.state, "declared");
            row.state = "approved".into();
            row.updated_at = approved_at;
            row.document["approvals"]
                .as_array_mut()
                .unwrap()
                .push(json!({"by": "carol", "role": "incident-commander"}));
            Ok::<_, String>((row, approved_action("INC-1", "carol")))
        })
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(changed.state, "approved");
    assert_eq!(changed.updated_at, approved_at);
    assert_eq!(changed.declared_at, declared.declared_at);
    assert_eq!(entry.action, "approve");
    assert_eq!(entry.actor, "carol");
    assert_eq!(entry.details["approval"]["person"], "carol");
    assert_eq!(entry.details["approval"]["id"], "INC-1");
    let read = store.emergency(&inc("INC-1")).await.unwrap().unwrap();
    assert_eq!(read, changed);
    assert_eq!(
        read.document["approvals"],
        json!([{"by": "carol", "role": "incident-commander"}])
    );
    let entries = store.audit_entries().await.unwrap();
    assert_eq!(entries.last(), Some(&entry));

    // The id never changes.
    let renamed = store
        .update_emergency("carol", &inc("INC-1"), |mut row| {
            row.id = inc("INC-9");
            Ok::<_, String>((row, step(json!({}))))
        })
        .await;
    assert!(
        matches!(renamed, Err(StoreError::Invalid { .. })),
        "{renamed:?}"
    );
    assert!(store.emergency(&inc("INC-9")).await.unwrap().is_none());
    assert_eq!(
        store.emergency(&inc("INC-1")).await.unwrap().unwrap(),
        changed
    );
    assert_eq!(store.audit_entries().await.unwrap().len(), 2);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
}

async fn update_of_missing_emergency_is_none(db: TestDb) {
    let store = &db.store;
    let outcome = store
        .update_emergency("carol", &inc("INC-404"), |row| {
            Ok::<_, String>((row, step(json!({}))))
        })
        .await
        .unwrap();
    assert!(outcome.is_none());
    assert!(store.emergencies().await.unwrap().is_empty());
    assert!(store.audit_entries().await.unwrap().is_empty());
}

async fn refused_change_writes_nothing(db: TestDb) {
    let store = &db.store;
    let (declared, _) = declare(
        store,
        emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false),
    )
    .await;
    let outcome = store
        .update_emergency("alice", &inc("INC-1"), |mut row| {
            row.state = "approved".into();
            drop(row);
            Err::<(EmergencyRow, AuditAction), _>("alice cannot approve her own".to_owned())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome, Err("alice cannot approve her own".to_owned()));
    assert_eq!(
        store.emergency(&inc("INC-1")).await.unwrap().unwrap(),
        declared
    );
    assert_eq!(store.audit_entries().await.unwrap().len(), 1);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(1));
}

async fn concurrent_updates_lose_nothing(db: TestDb) {
    const TASKS: i64 = 12;
    let second = db.reopen().await;
    let mut row = emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false);
    row.document["log"] = json!([]);
    declare(&db.store, row).await;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        // Half through another process (SQLite) or replica (PostgreSQL).
        let store = if task % 2 == 0 {
            db.store.clone()
        } else {
            second.clone()
        };
        handles.push(tokio::spawn(async move {
            store
                .update_emergency(&format!("writer-{task}"), &inc("INC-1"), move |mut row| {
                    row.document["log"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!(task));
                    Ok::<_, String>((row, step(json!({"task": task}))))
                })
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let row = db.store.emergency(&inc("INC-1")).await.unwrap().unwrap();
    let mut log: Vec<i64> = row.document["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task.as_i64().unwrap())
        .collect();
    log.sort_unstable();
    assert_eq!(log, (0..TASKS).collect::<Vec<_>>(), "an update was lost");
    let expected = usize::try_from(TASKS + 1).unwrap();
    assert_eq!(db.store.audit_entries().await.unwrap().len(), expected);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(expected));
    assert_eq!(second.verify_audit().await.unwrap(), Ok(expected));
}

async fn concurrent_declarations_respect_the_rate(db: TestDb) {
    const ATTEMPTS: usize = 6;
    const LIMIT: usize = 3;
    let second = db.reopen().await;
    let since = Timestamp::now() - jiff::SignedDuration::from_hours(24);
    let mut handles = Vec::new();
    for attempt in 0..ATTEMPTS {
        let store = if attempt % 2 == 0 {
            db.store.clone()
        } else {
            second.clone()
        };
        handles.push(tokio::spawn(async move {
            let id = format!("INC-{attempt}");
            store
                .declare_emergency(&format!("oncall-{attempt}"), since, move |now, past, _| {
                    // Under the lock, every declaration committed before reads as earlier.
                    assert!(past.iter().all(|earlier| earlier.declared_at <= now));
                    if past.len() >= LIMIT {
                        return Err(format!("{} declarations in 24 h", past.len()));
                    }
                    let mut row = emergency(&id, "2026-05-20T10:00:00Z", "oncall", false);
                    row.declared_at = now;
                    row.updated_at = now;
                    Ok((row, step(json!({"id": id, "seen": past.len()}))))
                })
                .await
                .unwrap()
        }));
    }
    let mut admitted = 0;
    let mut refused = 0;
    for handle in handles {
        match handle.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(reason) => {
                assert_eq!(reason, "3 declarations in 24 h");
                refused += 1;
            }
        }
    }
    assert_eq!((admitted, refused), (LIMIT, ATTEMPTS - LIMIT));
    assert_eq!(db.store.emergencies().await.unwrap().len(), LIMIT);
    let entries = db.store.audit_entries().await.unwrap();
    let seen: Vec<u64> = entries
        .iter()
        .map(|entry| entry.details["data"]["seen"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seen,
        [0, 1, 2],
        "each decision saw the ones committed before it"
    );
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(LIMIT));
}

async fn rate_reviews_round_trip(db: TestDb) {
    let store = &db.store;
    assert_eq!(store.last_rate_review().await.unwrap(), None);
    let before = Timestamp::now();
    let (first, entry) = store
        .record_rate_review("dave", "three in a month: fine")
        .await
        .unwrap();
    // The review's moment is read by the store during the call.
    assert!(first.at >= before && first.at <= Timestamp::now());
    assert_eq!(
        (first.by.as_str(), first.notes.as_str()),
        ("dave", "three in a month: fine")
    );
    assert_eq!(entry.action, "review-rate");
    assert_eq!(entry.actor, "dave");
    assert_eq!(
        entry.details,
        json!({"at": fixlane_store::format_time(first.at), "notes": "three in a month: fine"})
    );
    assert_eq!(store.last_rate_review().await.unwrap(), Some(first.clone()));
    let (second, _) = store
        .record_rate_review("erin", "too many; fix the pipeline")
        .await
        .unwrap();
    assert!(second.at >= first.at);
    // Another process or replica sees the newest review.
    assert_eq!(
        db.reopen().await.last_rate_review().await.unwrap(),
        Some(RateReview {
            at: second.at,
            by: "erin".into(),
            notes: "too many; fix the pipeline".into(),
        })
    );
    let refused = store.record_rate_review(" ", "anonymous").await;
    assert!(
        matches!(refused, Err(StoreError::Invalid { .. })),
        "{refused:?}"
    );
    assert_eq!(store.audit_entries().await.unwrap().len(), 2);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
}

fn new_canary(id: &str, incident: Option<&str>, started_at: &str) -> NewCanary {
    NewCanary {
        id: id.into(),
        incident: incident.map(inc),
        rev: "abc123".into(),
        profile: "web-standard".into(),
        started_at: time(started_at),
        plan: json!({"steps": [5, 25, 100], "checks": {"error_rate": {"max": 0.01}}, "z": 1e-7}),
    }
}

fn event(kind: &str, at: &str, data: serde_json::Value, audited: bool) -> CanaryEventRecord {
    CanaryEventRecord {
        kind: kind.into(),
        at: time(at),
        data,
        audited,
    }
}

async fn canary_round_trip(db: TestDb) {
    let store = &db.store;
    let incident = "INC-2026-05-20-001";
    let started = store
        .start_canary(
            "alice",
            &new_canary("can-1", Some(incident), "2026-05-20T10:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(started.action, "canary-started");
    assert_eq!(started.actor, "alice");
    assert_eq!(started.details["id"], "can-1");
    assert_eq!(started.details["incident"], incident);
    assert_eq!(started.details["rev"], "abc123");
    assert_eq!(started.details["profile"], "web-standard");
    let duplicate = store
        .start_canary("alice", &new_canary("can-1", None, "2026-05-20T10:00:00Z"))
        .await;
    let Err(error @ StoreError::CanaryExists { .. }) = duplicate else {
        panic!("expected CanaryExists, got {duplicate:?}");
    };
    assert!(error.to_string().contains("can-1"), "{error}");

    let first = vec![
        event(
            "step_started",
            "2026-05-20T10:00:01Z",
            json!({"step": 1, "percent": 5}),
            true,
        ),
        event(
            "check_evaluated",
            "2026-05-20T10:00:31Z",
            json!({"check": "error_rate", "value": 0.002, "ok": true}),
            false,
        ),
        event(
            "check_evaluated",
            "2026-05-20T10:01:01.5Z",
            json!({"check": "error_rate", "value": 0.004, "ok": true}),
            false,
        ),
    ];
    let audited = store
        .record_canary_events("canary-driver", "can-1", &first)
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].action, "canary-step-started");
    assert_eq!(audited[0].actor, "canary-driver");
    assert_eq!(
        audited[0].details,
        json!({"canary": "can-1", "incident": incident, "seq": 1,
               "data": {"step": 1, "percent": 5}})
    );
    // Samples only: events written, nothing audited.
    let samples: Vec<CanaryEventRecord> = (0..4)
        .map(|index| {
            event(
                "check_evaluated",
                "2026-05-20T10:02:00Z",
                json!({"check": "latency_p99", "value": 100 + index}),
                false,
            )
        })
        .collect();
    assert!(
        store
            .record_canary_events("canary-driver", "can-1", &samples)
            .await
            .unwrap()
            .is_empty()
    );
    let last = vec![
        event(
            "rollback_started",
            "2026-05-20T10:03:00Z",
            json!({"reason": "latency_p99 600 > 500"}),
            true,
        ),
        event(
            "rolled_back",
            "2026-05-20T10:03:30Z",
            json!({"to": "prev"}),
            true,
        ),
        event(
            "verify_sample",
            "2026-05-20T10:04:00Z",
            json!({"value": 120}),
            false,
        ),
    ];
    let audited = store
        .record_canary_events("canary-driver", "can-1", &last)
        .await
        .unwrap();
    let actions: Vec<&str> = audited.iter().map(|entry| entry.action.as_str()).collect();
    assert_eq!(actions, ["canary-rollback-started", "canary-rolled-back"]);
    assert_eq!(audited[0].details["seq"], 8);
    assert_eq!(audited[1].details["seq"], 9);
    assert!(
        store
            .record_canary_events("canary-driver", "can-1", &[])
            .await
            .unwrap()
            .is_empty()
    );

    let finished = store
        .finish_canary(
            "canary-driver",
            "can-1",
            "rolled_back",
            time("2026-05-20T10:05:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(finished.action, "canary-finished");
    assert_eq!(
        finished.details,
        json!({"canary": "can-1", "incident": incident, "outcome": "rolled_back",
               "finished_at": "2026-05-20T10:05:00.000000000Z"})
    );
    let again = store
        .finish_canary("canary-driver", "can-1", "promoted", Timestamp::now())
        .await;
    assert!(
        matches!(again, Err(StoreError::Invalid { .. })),
        "{again:?}"
    );

    let record = db.reopen().await.canary("can-1").await.unwrap().unwrap();
    let expected_canary = new_canary("can-1", Some(incident), "2026-05-20T10:00:00Z");
    assert_eq!(record.id, "can-1");
    assert_eq!(
        record.incident.as_ref().map(IncidentId::as_str),
        Some(incident)
    );
    assert_eq!(record.rev, "abc123");
    assert_eq!(record.profile, "web-standard");
    assert_eq!(record.started_at, expected_canary.started_at);
    assert_eq!(record.plan, expected_canary.plan);
    assert_eq!(record.finished_at, Some(time("2026-05-20T10:05:00Z")));
    assert_eq!(record.outcome.as_deref(), Some("rolled_back"));
    let all: Vec<CanaryEventRecord> = first.into_iter().chain(samples).chain(last).collect();
    let seqs: Vec<i64> = record.events.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    let events: Vec<CanaryEventRecord> = record.events.into_iter().map(|(_, e)| e).collect();
    assert_eq!(events, all);
    assert_eq!(store.canary("no-such").await.unwrap(), None);

    // Audit: start, 3 audited events, finish; no entry for any sample.
    let entries = store.audit_entries().await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|entry| entry.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "canary-started",
            "canary-step-started",
            "canary-rollback-started",
            "canary-rolled-back",
            "canary-finished",
        ]
    );
    assert_eq!(store.verify_audit().await.unwrap(), Ok(5));
}

async fn canary_invalid_input_writes_nothing(db: TestDb) {
    let store = &db.store;
    for (actor, canary) in [
        (" ", new_canary("can-1", None, "2026-05-20T10:00:00Z")),
        ("alice", new_canary("", None, "2026-05-20T10:00:00Z")),
        ("alice", {
            let mut canary = new_canary("can-1", None, "2026-05-20T10:00:00Z");
            canary.rev = String::new();
            canary
        }),
    ] {
        let refused = store.start_canary(actor, &canary).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(store.canary("can-1").await.unwrap(), None);
    store
        .start_canary("alice", &new_canary("can-1", None, "2026-05-20T10:00:00Z"))
        .await
        .unwrap();
    let good = event("step_started", "2026-05-20T10:00:01Z", json!({}), true);
    let empty_kind = event(" ", "2026-05-20T10:00:02Z", json!({}), true);
    for (actor, id, events) in [
        ("", "can-1", vec![good.clone()]),
        ("bob", "", vec![good.clone()]),
        ("bob", "can-1", vec![good.clone(), empty_kind]),
    ] {
        let refused = store.record_canary_events(actor, id, &events).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid { .. })),
            "{refused:?}"
        );
    }
    for (actor, id, outcome) in [
        ("", "can-1", "promoted"),
        ("bob", "", "promoted"),
        ("bob", "can-1", " "),
    ] {
        let refused = store
            .finish_canary(actor, id, outcome, Timestamp::now())
            .await;
        assert!(
            matches!(refused, Err(StoreError::Invalid { .. })),
            "{refused:?}"
        );
    }
    let record = store.canary("can-1").await.unwrap().unwrap();
    assert!(record.events.is_empty());
    assert_eq!(record.outcome, None);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(1));
}

async fn canary_events_of_unknown_canary_are_refused(db: TestDb) {
    let store = &db.store;
    store
        .start_canary("alice", &new_canary("can-1", None, "2026-05-20T10:00:00Z"))
        .await
        .unwrap();
    let refused = store
        .record_canary_events(
            "bob",
            "can-2",
            &[event(
                "step_started",
                "2026-05-20T10:00:01Z",
                json!({"step": 1}),
                true,
            )],
        )
        .await;
    let Err(error @ StoreError::UnknownCanary { .. }) = refused else {
        panic!("expected UnknownCanary, got {refused:?}");
    };
    let message = error.to_string();
    assert!(
        message.contains("can-2") && message.contains("start_canary"),
        "{message}"
    );
    let refused = store
        .finish_canary("bob", "can-2", "promoted", Timestamp::now())
        .await;
    assert!(
        matches!(refused, Err(StoreError::UnknownCanary { .. })),
        "{refused:?}"
    );
    assert_eq!(store.canary("can-2").await.unwrap(), None);
    assert!(
        store
            .canary("can-1")
            .await
            .unwrap()
            .unwrap()
            .events
            .is_empty()
    );
    let count = match &db.store {
        AnyStore::Sqlite(store) => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM canary_events")
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
        AnyStore::Postgres(store) => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM canary_events")
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    assert_eq!(count, 0);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(1));
}

async fn failed_canary_audit_write_leaves_no_events(db: TestDb) {
    let store = &db.store;
    store
        .start_canary("alice", &new_canary("can-1", None, "2026-05-20T10:00:00Z"))
        .await
        .unwrap();
    // A trigger stands in for any failure of the audit insert (disk full, constraint, …).
    db.exec(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
         WHEN NEW.details LIKE '%refuse-me%' \
         BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN \
           IF NEW.details LIKE '%refuse-me%' THEN RAISE EXCEPTION 'audit refused'; END IF; \
           RETURN NEW; \
         END $$; \
         CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
         FOR EACH ROW EXECUTE FUNCTION refuse_audit();",
    )
    .await;
    // The refused entry is the last event's: the audited one and the samples before it go too.
    let refused = store
        .record_canary_events(
            "bob",
            "can-1",
            &[
                event(
                    "step_started",
                    "2026-05-20T10:00:01Z",
                    json!({"step": 1}),
                    true,
                ),
                event(
                    "check_evaluated",
                    "2026-05-20T10:00:02Z",
                    json!({"v": 1}),
                    false,
                ),
                event(
                    "rollback_started",
                    "2026-05-20T10:00:03Z",
                    json!({"reason": "refuse-me"}),
                    true,
                ),
            ],
        )
        .await;
    let Err(error @ StoreError::Query { .. }) = refused else {
        panic!("expected the audit write to fail, got {refused:?}");
    };
    assert!(
        error.to_string().contains("nothing was recorded"),
        "{error}"
    );
    let refused = store
        .finish_canary("bob", "can-1", "refuse-me", Timestamp::now())
        .await;
    assert!(
        matches!(refused, Err(StoreError::Query { .. })),
        "{refused:?}"
    );
    let record = store.canary("can-1").await.unwrap().unwrap();
    assert!(record.events.is_empty(), "{:?}", record.events);
    assert_eq!(record.outcome, None);
    assert_eq!(record.finished_at, None);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(1));

    // The next batch starts at seq 1: nothing of the refused one was kept.
    store
        .record_canary_events(
            "bob",
            "can-1",
            &[event(
                "step_started",
                "2026-05-20T10:00:04Z",
                json!({"step": 1}),
                true,
            )],
        )
        .await
        .unwrap();
    let record = store.canary("can-1").await.unwrap().unwrap();
    assert_eq!(record.events.len(), 1);
    assert_eq!(record.events[0].0, 1);
    assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
}

async fn concurrent_canary_batches_keep_seq_contiguous(db: TestDb) {
    const TASKS: i64 = 4;
    const BATCHES: i64 = 10;
    const EACH: i64 = 5;
    db.store
        .start_canary("alice", &new_canary("can-1", None, "2026-05-20T10:00:00Z"))
        .await
        .unwrap();
    let second = db.reopen().await;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        // Half through another process (SQLite) or replica (PostgreSQL).
        let store = if task % 2 == 0 {
            db.store.clone()
        } else {
            second.clone()
        };
        handles.push(tokio::spawn(async move {
            for batch in 0..BATCHES {
                let events: Vec<CanaryEventRecord> = (0..EACH)
                    .map(|index| {
                        event(
                            if index == 0 {
                                "step_started"
                            } else {
                                "check_evaluated"
                            },
                            "2026-05-20T10:00:01Z",
                            json!({"task": task, "n": batch * EACH + index}),
                            index == 0,
                        )
                    })
                    .collect();
                store
                    .record_canary_events(&format!("writer-{task}"), "can-1", &events)
                    .await
                    .unwrap();
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let record = second.canary("can-1").await.unwrap().unwrap();
    let total = TASKS * BATCHES * EACH;
    let seqs: Vec<i64> = record.events.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    // Every event once; each writer's events in its order; each batch contiguous.
    let mut per_task: Vec<Vec<(i64, i64)>> = vec![Vec::new(); usize::try_from(TASKS).unwrap()];
    for (seq, event) in &record.events {
        let task = usize::try_from(event.data["task"].as_i64().unwrap()).unwrap();
        per_task[task].push((*seq, event.data["n"].as_i64().unwrap()));
    }
    for written in &per_task {
        let numbers: Vec<i64> = written.iter().map(|(_, n)| *n).collect();
        assert_eq!(numbers, (0..BATCHES * EACH).collect::<Vec<_>>());
        for batch in written.chunks(usize::try_from(EACH).unwrap()) {
            assert_eq!(batch[batch.len() - 1].0 - batch[0].0, EACH - 1, "{batch:?}");
        }
    }
    let audited = usize::try_from(1 + TASKS * BATCHES).unwrap();
    let entries = db.store.audit_entries().await.unwrap();
    assert_eq!(entries.len(), audited);
    let audited_seqs: BTreeSet<i64> = entries[1..]
        .iter()
        .map(|entry| entry.details["seq"].as_i64().unwrap())
        .collect();
    let step_seqs: BTreeSet<i64> = record
        .events
        .iter()
        .filter(|(_, event)| event.audited)
        .map(|(seq, _)| *seq)
        .collect();
    assert_eq!(audited_seqs, step_seqs);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(audited));
    assert_eq!(second.verify_audit().await.unwrap(), Ok(audited));
}

async fn canaries_of_lists_newest_first(db: TestDb) {
    let store = &db.store;
    let incident = "INC-2026-05-20-001";
    for (id, incident, at) in [
        ("can-b", Some(incident), "2026-05-20T11:00:00Z"),
        ("can-a", Some(incident), "2026-05-20T10:00:00Z"),
        (
            "can-other",
            Some("INC-2026-05-21-001"),
            "2026-05-21T10:00:00Z",
        ),
        ("can-none", None, "2026-05-22T10:00:00Z"),
        ("can-c", Some(incident), "2026-05-20T12:00:00.5Z"),
    ] {
        store
            .start_canary("alice", &new_canary(id, incident, at))
            .await
            .unwrap();
    }
    store
        .record_canary_events(
            "bob",
            "can-c",
            &[event(
                "step_started",
                "2026-05-20T12:00:01Z",
                json!({}),
                true,
            )],
        )
        .await
        .unwrap();
    store
        .finish_canary("bob", "can-b", "promoted", time("2026-05-20T11:30:00Z"))
        .await
        .unwrap();
    let listed = store.canaries_of(&inc(incident)).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|canary| canary.id.as_str()).collect();
    assert_eq!(ids, ["can-c", "can-b", "can-a"]);
    assert!(listed.iter().all(|canary| canary.events.is_empty()));
    assert_eq!(listed[1].outcome.as_deref(), Some("promoted"));
    assert_eq!(listed[1].finished_at, Some(time("2026-05-20T11:30:00Z")));
    assert_eq!(listed[0].started_at, time("2026-05-20T12:00:00.5Z"));
    assert!(
        store
            .canaries_of(&inc("INC-none"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.verify_audit().await.unwrap(), Ok(7));
}

on_both_databases!(a_killed_run_is_marked_abandoned_once);

/// A run whose runner died keeps no verdict until a later reader marks it abandoned: then it is
/// blocked, audited once even when two readers race, and no longer listed as unfinished.
async fn a_killed_run_is_marked_abandoned_once(db: TestDb) {
    let mut run = new_run("run-killed", "abc", "normal", "2026-12-01T16:00:00Z");
    run.runner = Some(json!({"host": "h", "boot": "b", "pid": 4242, "started": "99"}));
    db.store.start_run("bob", &run).await.unwrap();
    db.store
        .start_run(
            "bob",
            &new_run("run-done", "abc", "normal", "2026-12-01T16:01:00Z"),
        )
        .await
        .unwrap();
    db.store
        .finish_run(
            "bob",
            "run-done",
            Verdict::Green,
            &[],
            time("2026-12-01T16:02:00Z"),
        )
        .await
        .unwrap();
    let unfinished = db.store.unfinished_runs().await.unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].run_id, "run-killed");
    assert_eq!(unfinished[0].runner, run.runner);
    assert_eq!(unfinished[0].abandoned_at, None);

    let other = db.reopen().await;
    let at = time("2026-12-01T16:30:00Z");
    let why = "the run was abandoned: its runner (pid 4242 on h) is gone";
    let (first, second) = tokio::join!(
        db.store.abandon_run("alice", "run-killed", why, at),
        other.abandon_run("carol", "run-killed", why, at)
    );
    let written: Vec<_> = [first.unwrap(), second.unwrap()]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        written.len(),
        1,
        "exactly one reader records the abandonment"
    );
    assert_eq!(written[0].action, "run-abandoned");
    let stored = db.store.run("run-killed").await.unwrap().unwrap();
    assert_eq!(stored.verdict, Some(Verdict::Blocked));
    assert_eq!(stored.abandoned_at, Some(at));
    assert_eq!(stored.reasons, vec![why.to_owned()]);
    assert!(db.store.unfinished_runs().await.unwrap().is_empty());
    // A finished run is never marked.
    assert!(
        db.store
            .abandon_run("alice", "run-done", why, at)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        db.store.abandon_run("alice", "no-such-run", why, at).await,
        Err(StoreError::UnknownRun { .. })
    ));
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(4));
}
