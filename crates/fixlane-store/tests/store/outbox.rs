//! The webhook outbox on both databases: a row with every entry a team may hear about and none
//! with the others, in the entry's transaction; claims that never hand one delivery to two
//! drainers; deliveries finished, retried later or given up; overdue follow-ups noted once.

use std::collections::BTreeSet;

use fixlane_store::{DeliveryOutcome, Store};
use jiff::Timestamp;

use super::{TestDb, declare, declared_action, emergency, inc, step, time};

const HOOK: &str = "env:SLACK_WEBHOOK_URL";

fn later(seconds: i64) -> Timestamp {
    Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .unwrap()
}

pub(super) async fn only_announced_actions_reach_the_outbox(db: TestDb) {
    let store = &db.store;
    let declared = store
        .append_audit("bob", &declared_action(&inc("INC-1")))
        .await
        .unwrap();
    store
        .append_audit("bob", &step(serde_json::json!({ "n": 1 })))
        .await
        .unwrap();
    let planned = store
        .plan_deliveries(HOOK, time("2000-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(planned, 1, "only the declaration is announced");
    // Planning again plans nothing new; a second hook gets its own delivery.
    assert_eq!(
        store
            .plan_deliveries(HOOK, time("2000-01-01T00:00:00Z"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .plan_deliveries("env:OTHER", time("2000-01-01T00:00:00Z"))
            .await
            .unwrap(),
        1
    );
    // A hook does not receive what happened before `since`.
    assert_eq!(
        store.plan_deliveries("env:NEW", later(60)).await.unwrap(),
        0
    );
    let claims = store
        .claim_deliveries(HOOK, Timestamp::now(), later(30), 10)
        .await
        .unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].seq, declared.seq);
    assert_eq!(claims[0].attempts, 0);
    let entry = store.audit_entry(declared.seq).await.unwrap().unwrap();
    assert_eq!(entry, declared);
    // Held by its lease: nobody else gets it now.
    assert!(
        store
            .claim_deliveries(HOOK, Timestamp::now(), later(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(super) async fn deliveries_retry_give_up_and_finish_once(db: TestDb) {
    let store = &db.store;
    for n in 0..3 {
        store
            .append_audit("bob", &declared_action(&inc(&format!("INC-{n}"))))
            .await
            .unwrap();
    }
    store
        .plan_deliveries(HOOK, time("2000-01-01T00:00:00Z"))
        .await
        .unwrap();
    let claims = store
        .claim_deliveries(HOOK, Timestamp::now(), later(30), 10)
        .await
        .unwrap();
    assert_eq!(claims.len(), 3);
    let now = Timestamp::now();
    store
        .finish_delivery(HOOK, claims[0].seq, &DeliveryOutcome::Delivered { at: now })
        .await
        .unwrap();
    store
        .finish_delivery(
            HOOK,
            claims[1].seq,
            &DeliveryOutcome::Retry {
                at: later(3_600),
                error: "HTTP 500".into(),
            },
        )
        .await
        .unwrap();
    store
        .finish_delivery(
            HOOK,
            claims[2].seq,
            &DeliveryOutcome::GaveUp {
                at: now,
                error: "HTTP 404".into(),
            },
        )
        .await
        .unwrap();
    // Nothing is due now: one delivered, one waiting for its retry, one given up.
    assert!(
        store
            .claim_deliveries(HOOK, Timestamp::now(), later(30), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // At the retry's time, only the retried one comes back, one attempt on.
    let again = store
        .claim_deliveries(HOOK, later(3_601), later(3_700), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].seq, claims[1].seq);
    assert_eq!(again[0].attempts, 1);
    let status = store.delivery_status().await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].hook, HOOK);
    assert_eq!(
        (
            status[0].delivered,
            status[0].pending,
            status[0].failed,
            status[0].retrying
        ),
        (1, 1, 1, 1)
    );
    // A delivered one stays delivered: finishing it again as a retry changes nothing.
    store
        .finish_delivery(
            HOOK,
            claims[0].seq,
            &DeliveryOutcome::Retry {
                at: now,
                error: "late".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(store.delivery_status().await.unwrap()[0].delivered, 1);
}

pub(super) async fn racing_drainers_never_share_a_delivery(db: TestDb) {
    for n in 0..40 {
        db.store
            .append_audit("bob", &declared_action(&inc(&format!("INC-{n}"))))
            .await
            .unwrap();
    }
    db.store
        .plan_deliveries(HOOK, time("2000-01-01T00:00:00Z"))
        .await
        .unwrap();
    let mut drainers = Vec::new();
    for _ in 0..4 {
        let store = super::open(&db.location).await.unwrap();
        drainers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claims = store
                    .claim_deliveries(HOOK, Timestamp::now(), later(60), 3)
                    .await
                    .unwrap();
                if claims.is_empty() {
                    break mine;
                }
                mine.extend(claims.iter().map(|claim| claim.seq));
            }
        }));
    }
    let mut all = Vec::new();
    for drainer in drainers {
        all.extend(drainer.await.unwrap());
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 40, "each delivery claimed exactly once: {all:?}");
    assert_eq!(distinct.len(), 40);
}

pub(super) async fn overdue_followups_are_noted_once(db: TestDb) {
    let store = &db.store;
    declare(
        store,
        emergency("INC-2026-05-20-001", "2026-05-20T10:00:00Z", "bob", false),
    )
    .await;
    super::followups::open_two(&db, "INC-2026-05-20-001").await;
    // Before any deadline: nothing.
    assert!(
        store
            .note_overdue("fixlane", time("2026-05-21T11:00:00Z"))
            .await
            .unwrap()
            .is_empty()
    );
    // The cleanup (due 2026-05-21 12:00) is overdue; the audit review is not yet.
    let noted = store
        .note_overdue("fixlane", time("2026-05-22T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(noted.len(), 1);
    assert_eq!(noted[0].action, "followup-overdue");
    assert_eq!(noted[0].details["kind"], "cleanup");
    assert!(
        store
            .note_overdue("fixlane", time("2026-05-22T00:00:00Z"))
            .await
            .unwrap()
            .is_empty()
    );
    let both = store
        .note_overdue("fixlane", time("2026-06-30T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(both.len(), 1, "only the audit review is new");
    // Each notice is in the outbox.
    assert_eq!(
        store
            .plan_deliveries(HOOK, time("2000-01-01T00:00:00Z"))
            .await
            .unwrap(),
        3
    );
}
