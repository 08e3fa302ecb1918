//! Drills on both databases: the sandbox mark written once with its audit entry, and each
//! drill's result kept and read back newest first, with its entry in the same transaction.

use fixlane_store::{DrillRecord, Store};
use serde_json::json;

use super::{TestDb, time};

fn drill(id: &str, finished: &str, passed: bool) -> DrillRecord {
    DrillRecord {
        id: id.to_owned(),
        started_at: time("2026-12-01T10:00:00Z"),
        finished_at: time(finished),
        actor: "bob@example.com".to_owned(),
        regression: !passed,
        passed,
        summary: json!({ "steps": [{ "says": "declare", "as_promised": passed }] }),
    }
}

pub(super) async fn the_sandbox_mark_is_written_once(db: TestDb) {
    let store = &db.store;
    assert!(!store.is_drill_sandbox().await.unwrap());
    let entry = store.mark_drill_sandbox("bob").await.unwrap().unwrap();
    assert_eq!(entry.action, "drill-sandbox");
    assert!(store.is_drill_sandbox().await.unwrap());
    // A second mark changes nothing and writes no second entry.
    assert!(store.mark_drill_sandbox("bob").await.unwrap().is_none());
    assert_eq!(store.audit_entries().await.unwrap().len(), 1);
    // Without an actor nothing is written.
    assert!(store.mark_drill_sandbox(" ").await.is_err());
}

pub(super) async fn drills_are_kept_with_their_entries(db: TestDb) {
    let store = &db.store;
    assert!(store.latest_drill().await.unwrap().is_none());
    let first = drill("drill-1", "2026-12-01T10:01:00Z", true);
    let entry = store.record_drill(&first, None, 17).await.unwrap();
    assert_eq!(entry.action, "drill-recorded");
    assert_eq!(entry.details["steps"], 17);
    assert_eq!(entry.details["passed"], true);
    let second = drill("drill-2", "2026-12-02T10:01:00Z", false);
    store
        .record_drill(&second, Some("step 9: the canary rolls back"), 9)
        .await
        .unwrap();
    assert_eq!(store.latest_drill().await.unwrap(), Some(second.clone()));
    // The same id twice is refused, and the refusal leaves no entry behind.
    assert!(store.record_drill(&second, None, 9).await.is_err());
    let entries = store.audit_entries().await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[1].details["failed_step"],
        "step 9: the canary rolls back"
    );
    // A drill never reads as an emergency: the store still has none, and is no sandbox.
    assert!(store.emergencies().await.unwrap().is_empty());
    assert!(!store.is_drill_sandbox().await.unwrap());
}
