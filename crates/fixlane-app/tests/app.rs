//! The application layer against a real `SQLite` store in a temp dir: each operation writes its
//! change with its audit entry, a refusal writes nothing, and the typed errors say what went
//! wrong.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers (not `#[test]` functions themselves) may fail loudly"
)]

use fixlane_app::{App, AppError, BypassInput, DeclareInput};
use fixlane_core::config::model::BypassElement;
use fixlane_core::emergency::EmergencyState;
use fixlane_core::{Config, IncidentId, PersonName};
use fixlane_store::{AnyStore, Store, StoreLocation};
use jiff::Timestamp;

const CONFIG: &str = r#"[project]
name = "checkout-service"

[people.alice]
roles = ["sre-lead"]
[people.bob]
roles = ["engineer"]
[people.carol]
roles = ["security-lead"]
[people.dave]
roles = ["platform-lead"]

[gates.build]
run = "true"
tier = "critical"

[lanes.hotfix]
branches = ["hotfix/**"]
emergency = true

[emergency]
severities = ["P0"]

[emergency.categories.security]
approvers = [["security-lead"], ["platform-lead"]]
may_bypass = ["eval", "canary"]
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    store: AnyStore,
    config: Config,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = fixlane_store::open(&StoreLocation::sqlite(dir.path().join("fixlane.db")))
        .await
        .unwrap();
    let config = fixlane_core::config::parse(CONFIG, "fixlane.toml").unwrap();
    Fixture {
        _dir: dir,
        store,
        config,
    }
}

fn person(name: &str) -> PersonName {
    PersonName::parse(name).unwrap()
}

fn id() -> IncidentId {
    IncidentId::parse("INC-2026-05-20-001").unwrap()
}

fn declaration() -> DeclareInput {
    DeclareInput {
        id: id().to_string(),
        severity: "P0".into(),
        category: "security".into(),
        title: "tokens leak into logs".into(),
        cleanup_owner: "bob".into(),
        eta: None,
        flag_flip: Some("no flag covers the logger".into()),
        rollback: Some("./deploy.sh --previous".into()),
        any_date: true,
    }
}

async fn actions(store: &AnyStore) -> Vec<String> {
    store
        .audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

#[tokio::test]
async fn declare_then_two_approvals_make_the_change_approved_with_an_entry_each() {
    let fixture = fixture().await;
    let app = App::new(&fixture.store, &fixture.config);
    let declared = app
        .declare(&person("alice"), declaration(), None)
        .await
        .unwrap();
    assert_eq!(declared.state, EmergencyState::Declared);

    let first = app
        .approve(&person("carol"), &id(), None, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(first.emergency.state, EmergencyState::Declared);
    assert_eq!(first.missing, vec![vec!["platform-lead".to_owned()]]);
    let second = app
        .approve(&person("dave"), &id(), None, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(second.emergency.state, EmergencyState::Approved);
    assert!(second.missing.is_empty());

    let entries = fixture.store.audit_entries().await.unwrap();
    let names: Vec<&str> = entries.iter().map(|entry| entry.action.as_str()).collect();
    assert_eq!(names, ["declare", "approve", "approve"]);
    assert_eq!(entries[2].details["approval"]["person"], "dave");
    assert_eq!(entries[2].details["state"], "approved");
    assert_eq!(fixture.store.verify_audit().await.unwrap(), Ok(3));
}

#[tokio::test]
async fn a_refused_approval_writes_nothing() {
    let fixture = fixture().await;
    let app = App::new(&fixture.store, &fixture.config);
    app.declare(&person("alice"), declaration(), None)
        .await
        .unwrap();
    let refused = app
        .approve(&person("bob"), &id(), None, Timestamp::now())
        .await
        .unwrap_err();
    let AppError::Refused(refusal) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert!(refusal.rule.starts_with("emergency."), "{}", refusal.rule);
    assert_eq!(actions(&fixture.store).await, ["declare"]);
    let stored = app.emergency(&id()).await.unwrap();
    assert!(stored.approvals.is_empty());
}

#[tokio::test]
async fn a_bypass_is_recorded_once() {
    let fixture = fixture().await;
    let app = App::new(&fixture.store, &fixture.config);
    app.declare(&person("alice"), declaration(), None)
        .await
        .unwrap();
    let bypass = || BypassInput {
        element: BypassElement::Eval,
        reason: "the eval suite takes 40 minutes; the fix is one guard clause".into(),
        compensation: "the full suite runs on the cleanup change within 24h".into(),
    };
    let emergency = app
        .bypass(&person("carol"), &id(), bypass(), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(emergency.bypasses.len(), 1);
    let again = app
        .bypass(&person("dave"), &id(), bypass(), Timestamp::now())
        .await
        .unwrap_err();
    assert!(
        matches!(&again, AppError::Refused(refusal) if refusal.rule == "emergency.bypass.once"),
        "{again:?}"
    );
    assert_eq!(actions(&fixture.store).await, ["declare", "bypass"]);
}

#[tokio::test]
async fn an_unknown_emergency_is_named() {
    let fixture = fixture().await;
    let app = App::new(&fixture.store, &fixture.config);
    let missing = app
        .approve(&person("carol"), &id(), None, Timestamp::now())
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, AppError::NoSuchEmergency(named) if *named == id()),
        "{missing:?}"
    );
    assert!(actions(&fixture.store).await.is_empty());
}

#[tokio::test]
async fn a_rate_review_needs_a_reviewer_role_and_notes() {
    let fixture = fixture().await;
    let mut config = fixture.config.clone();
    config.emergency.rate_review_roles = vec!["platform-lead".into()];
    let app = App::new(&fixture.store, &config);
    assert!(matches!(
        app.review_rate(&person("bob"), "fine").await,
        Err(AppError::Refused(_))
    ));
    assert!(matches!(
        app.review_rate(&person("dave"), "  ").await,
        Err(AppError::EmptyNotes)
    ));
    let review = app
        .review_rate(&person("dave"), "two in a week, both real")
        .await
        .unwrap();
    assert_eq!(review.by, "dave");
    assert_eq!(actions(&fixture.store).await, ["review-rate"]);
}

#[tokio::test]
async fn parallel_approvals_of_one_group_count_one_person() {
    let fixture = fixture().await;
    let mut config = fixture.config.clone();
    for name in ["erin", "frank"] {
        let mut details = config.people[&person("carol")].clone();
        details.roles = vec!["security-lead".into()];
        config.people.insert(person(name), details);
    }
    let app = App::new(&fixture.store, &config);
    app.declare(&person("alice"), declaration(), None)
        .await
        .unwrap();
    let approve = |name: &'static str| {
        let app = &app;
        async move {
            app.approve(&person(name), &id(), None, Timestamp::now())
                .await
                .map(|_| ())
        }
    };
    // Polled together: each waits for the store's write lock in turn, as separate requests
    // of one server replica would, and each decides on the record as the previous one left it.
    let (carol, erin, frank) = tokio::join!(approve("carol"), approve("erin"), approve("frank"));
    let results = [carol, erin, frank];
    let admitted = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(admitted, 1, "{results:?}");
    let stored = app.emergency(&id()).await.unwrap();
    assert_eq!(stored.approvals.len(), 1);
}
