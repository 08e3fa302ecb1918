//! Follow-ups on both databases: opened and closed with their audit entries in one
//! transaction, read back in opening order, listed across emergencies while open, and a close
//! racing another close recorded once.

use fixlane_core::PersonName;
use fixlane_core::audit::{AuditAction, FollowUpClosed, FollowUpOpened};
use fixlane_core::followup::{Evidence, FollowUp, FollowUpKind};
use fixlane_store::{FollowUpChange, Store};

use super::{TestDb, declare, emergency, inc, time};

fn person(name: &str) -> PersonName {
    PersonName::parse(name).unwrap()
}

fn open(kind: FollowUpKind, owner: &str, due: &str) -> FollowUp {
    FollowUp {
        kind,
        owner: person(owner),
        opened_at: time("2026-05-20T12:00:00Z"),
        due_at: time(due),
        closed_at: None,
        closed_by: None,
        evidence: Evidence::default(),
    }
}

/// Opens a cleanup and an audit review on `id`, one entry each.
pub(super) async fn open_two(db: &TestDb, id: &str) {
    let opened = vec![
        open(FollowUpKind::Cleanup, "bob", "2026-05-21T12:00:00Z"),
        open(FollowUpKind::AuditReview, "alice", "2026-05-27T12:00:00Z"),
    ];
    let actions: Vec<AuditAction> = opened
        .iter()
        .map(|followup| {
            AuditAction::FollowUpOpened(FollowUpOpened {
                id: inc(id),
                kind: followup.kind,
                owner: followup.owner.clone(),
                due_at: followup.due_at,
                because: "merged".into(),
            })
        })
        .collect();
    let (change, entries) = db
        .store
        .change_followups("bob", &inc(id), move |_, before| {
            assert!(before.is_empty());
            Ok::<_, String>(FollowUpChange {
                row: None,
                followups: opened,
                actions,
            })
        })
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(change.followups.len(), 2);
    let names: Vec<&str> = entries.iter().map(|entry| entry.action.as_str()).collect();
    assert_eq!(names, ["followup-opened", "followup-opened"]);
}

pub(super) async fn followups_open_and_read_back_in_order(db: TestDb) {
    declare(
        &db.store,
        emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false),
    )
    .await;
    declare(
        &db.store,
        emergency("INC-2", "2026-05-20T11:00:00Z", "alice", false),
    )
    .await;
    assert!(db.store.followups(&inc("INC-1")).await.unwrap().is_empty());
    assert!(db.store.open_followups().await.unwrap().is_empty());
    open_two(&db, "INC-1").await;
    open_two(&db, "INC-2").await;
    let read = db.store.followups(&inc("INC-1")).await.unwrap();
    let kinds: Vec<FollowUpKind> = read.iter().map(|followup| followup.kind).collect();
    assert_eq!(kinds, [FollowUpKind::Cleanup, FollowUpKind::AuditReview]);
    assert_eq!(read[0].due_at, time("2026-05-21T12:00:00Z"));
    let open = db.store.open_followups().await.unwrap();
    assert_eq!(open.len(), 4);
    // The bulk read hands back the very records the per-emergency read does.
    for (id, followup) in &open {
        let of_its_emergency = db.store.followups(id).await.unwrap();
        assert!(of_its_emergency.contains(followup), "{followup:?}");
    }
    // Soonest deadline first, across emergencies.
    assert!(
        open.windows(2)
            .all(|pair| pair[0].1.due_at <= pair[1].1.due_at)
    );
    let mut all = db.store.followup_clocks().await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all.iter()
            .filter(|clock| clock.incident == inc("INC-2"))
            .count(),
        2
    );
    // Each clock is its follow-up's.
    all.sort_by(|a, b| (a.incident.as_str(), a.due_at).cmp(&(b.incident.as_str(), b.due_at)));
    assert_eq!(all[0].kind, read[0].kind);
    assert_eq!(all[0].due_at, read[0].due_at);
    assert_eq!(all[0].closed_at, None);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(6));
}

pub(super) async fn a_change_without_actions_writes_nothing(db: TestDb) {
    declare(
        &db.store,
        emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false),
    )
    .await;
    let nothing = db
        .store
        .change_followups("bob", &inc("INC-1"), |_, before| {
            Ok::<_, String>(FollowUpChange {
                row: None,
                followups: vec![open(FollowUpKind::Cleanup, "bob", "2026-05-21T12:00:00Z")]
                    .into_iter()
                    .chain(before)
                    .collect(),
                actions: vec![],
            })
        })
        .await
        .unwrap();
    assert!(nothing.is_none());
    assert!(db.store.followups(&inc("INC-1")).await.unwrap().is_empty());
    assert_eq!(db.store.audit_entries().await.unwrap().len(), 1);
    let refused = db
        .store
        .change_followups("bob", &inc("INC-1"), |_, _| {
            Err::<FollowUpChange, _>("not yours".to_owned())
        })
        .await
        .unwrap();
    assert_eq!(refused, Some(Err("not yours".to_owned())));
    assert!(
        db.store
            .change_followups("bob", &inc("INC-404"), |_, before| {
                Ok::<_, String>(FollowUpChange {
                    row: None,
                    followups: before,
                    actions: vec![],
                })
            })
            .await
            .unwrap()
            .is_none()
    );
}

pub(super) async fn racing_closes_record_one(db: TestDb) {
    declare(
        &db.store,
        emergency("INC-1", "2026-05-20T10:00:00Z", "alice", false),
    )
    .await;
    open_two(&db, "INC-1").await;
    let mut handles = Vec::new();
    for closer in ["carol", "dave", "erin", "frank"] {
        let store = db.reopen().await;
        handles.push(tokio::spawn(async move {
            store
                .change_followups(closer, &inc("INC-1"), move |_, mut followups| {
                    let cleanup = followups
                        .iter_mut()
                        .find(|followup| followup.kind == FollowUpKind::Cleanup)
                        .unwrap();
                    if cleanup.closed_at.is_some() {
                        return Err(format!(
                            "already closed by {}",
                            cleanup.closed_by.as_ref().unwrap()
                        ));
                    }
                    cleanup.closed_at = Some(time("2026-05-20T13:00:00Z"));
                    cleanup.closed_by = Some(person(closer));
                    cleanup.evidence.link = Some(format!("https://git.example.com/pr/{closer}"));
                    let action = AuditAction::FollowUpClosed(FollowUpClosed {
                        id: inc("INC-1"),
                        kind: FollowUpKind::Cleanup,
                        by: person(closer),
                        evidence: cleanup.evidence.clone(),
                        late: false,
                    });
                    Ok(FollowUpChange {
                        row: None,
                        followups,
                        actions: vec![action],
                    })
                })
                .await
                .unwrap()
                .unwrap()
        }));
    }
    let mut closed = 0;
    for handle in handles {
        if handle.await.unwrap().is_ok() {
            closed += 1;
        }
    }
    assert_eq!(closed, 1, "exactly one close is recorded");
    let read = db.store.followups(&inc("INC-1")).await.unwrap();
    let cleanup = read
        .iter()
        .find(|followup| followup.kind == FollowUpKind::Cleanup)
        .unwrap();
    let by = cleanup.closed_by.as_ref().unwrap().to_string();
    assert_eq!(
        cleanup.evidence.link,
        Some(format!("https://git.example.com/pr/{by}"))
    );
    let close_entries = db
        .store
        .audit_entries()
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.action == "followup-closed")
        .count();
    assert_eq!(close_entries, 1);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(4));
}
