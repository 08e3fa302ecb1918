//! Races on the emergency rate limit: several people declaring at once, each through their own
//! store handle (another process on the `SQLite` file, another server replica on `PostgreSQL`),
//! with the real policy deciding. Whatever the interleaving, exactly `max` are admitted, and
//! after a team review exactly `max` again. Runs on a temporary `SQLite` file and, when
//! `FIXLANE_TEST_POSTGRES_URL` is set, on a fresh `PostgreSQL` database created for it.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly, and a test that cannot set up must stop"
)]

mod common;

use std::future::Future;
use std::sync::Arc;

use fixlane_core::Config;
use fixlane_core::audit::{AuditAction, Declared};
use fixlane_core::emergency::Refusals;
use fixlane_core::emergency::policy::{self, DeclarationHistory, DeclareRequest, PastDeclaration};
use fixlane_store::{AnyStore, EmergencyRow, Store, StoreError};
use jiff::{SignedDuration, Timestamp};

async fn open(location: &str) -> Result<AnyStore, StoreError> {
    fixlane_store::open(&location.parse()?).await
}

/// Parallel declarers per round: twice the limit, so a round that lets the clock decide admits
/// more than the limit on almost every interleaving.
const DECLARERS: usize = 6;
/// The rate limit of [`CONFIG`].
const MAX: usize = 3;
/// Rounds, each after a team review but the first.
const ROUNDS: usize = 10;

const CONFIG: &str = r#"[project]
name = "races"

[people.bob]
roles = ["engineer"]
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
rate_limit = { max = 3, within = "7d" }
rate_review_roles = ["platform-lead"]

[emergency.categories.security]
approvers = [["platform-lead"]]
may_bypass = ["canary"]
"#;

/// Runs `body` with the location of a fresh `SQLite` file.
async fn with_sqlite<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let location = dir.path().join("fixlane.db").display().to_string();
    // Created (and migrated) once, as the first command in a repository would.
    open(&location).await.unwrap().close().await;
    body(location).await;
}

/// Runs `body` with the URL of a fresh `PostgreSQL` database, dropped afterwards, or says plainly
/// why it did not.
async fn with_postgres<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(scratch) = common::scratch("races", "fixlane_race").await else {
        return;
    };
    open(&scratch.url).await.unwrap().close().await;
    let url = scratch.url.clone();
    scratch.run(body(url), &[]).await;
}

/// An incident id dated today, so the id's date is never far from the declaration.
fn incident(number: usize) -> String {
    let today = Timestamp::now().strftime("%Y-%m-%d");
    format!("INC-{today}-{number:03}")
}

/// One `fixlane declare` as the CLI does it: its own store handle, the policy deciding inside the
/// store's write lock. `true` when admitted; any refusal but the rate limit fails the test.
async fn declare(location: String, config: Arc<Config>, id: String) -> bool {
    let since = Timestamp::now() - SignedDuration::from_hours(8 * 24);
    let store = open(&location).await.unwrap();
    let outcome = store
        .declare_emergency("bob", since, move |now, past, review| {
            let history = DeclarationHistory {
                declarations: past
                    .iter()
                    .map(|declaration| PastDeclaration {
                        id: declaration.id.to_string(),
                        author: declaration.author.clone(),
                        declared_at: declaration.declared_at,
                        drill: declaration.drill,
                    })
                    .collect(),
                last_rate_review: review.map(|review| review.at),
                overdue: Vec::new(),
            };
            let request = DeclareRequest {
                id: id.clone(),
                severity: "P0".to_owned(),
                category: "security".to_owned(),
                title: format!("race {id}"),
                author: fixlane_core::PersonName::parse("bob").unwrap(),
                cleanup_owner: "bob".to_owned(),
                eta: None,
                flag_flip: Some("no flag covers it".to_owned()),
                rollback: Some("a rollback does not fix it".to_owned()),
                drill: false,
                any_date: false,
                now,
            };
            let declared = policy::declare(&config, &request, &history)?;
            let emergency = declared.emergency;
            let row = EmergencyRow {
                id: emergency.id.clone(),
                declared_at: emergency.declared_at,
                author: emergency.author.to_string(),
                drill: emergency.drill,
                state: emergency.state.as_str().to_owned(),
                updated_at: emergency.declared_at,
                document: serde_json::to_value(&emergency).unwrap(),
            };
            let action = AuditAction::Declare(Declared::of(&emergency, &declared.warnings));
            Ok::<_, Refusals>((row, action))
        })
        .await
        .unwrap();
    store.close().await;
    match outcome {
        Ok(_) => true,
        Err(refusals) => {
            assert_eq!(refusals.rules(), ["emergency.rate_limit"], "{refusals}");
            false
        }
    }
}

/// [`DECLARERS`] declarations started together; how many were admitted.
async fn round(location: &str, config: &Arc<Config>, round: usize) -> usize {
    let handles: Vec<_> = (0..DECLARERS)
        .map(|declarer| {
            tokio::spawn(declare(
                location.to_owned(),
                Arc::clone(config),
                incident(round * DECLARERS + declarer + 1),
            ))
        })
        .collect();
    let mut admitted = 0;
    for handle in handles {
        if handle.await.unwrap() {
            admitted += 1;
        }
    }
    admitted
}

async fn parallel_declarations_admit_exactly_the_limit(location: String) {
    let config = Arc::new(
        fixlane_core::config::parse(CONFIG, "fixlane.toml")
            .unwrap_or_else(|errors| panic!("{}", errors.render_plain())),
    );
    let store = open(&location).await.unwrap();
    let mut admitted = Vec::with_capacity(ROUNDS);
    for number in 0..ROUNDS {
        if number > 0 {
            store
                .record_rate_review("dave", "reviewed the rate")
                .await
                .unwrap();
        }
        admitted.push(round(&location, &config, number).await);
    }
    assert_eq!(
        admitted, [MAX; ROUNDS],
        "admitted per round (the first before any review, each next after one)"
    );
    let emergencies = store.emergencies().await.unwrap();
    assert_eq!(emergencies.len(), MAX * ROUNDS);
    let audited = store.verify_audit().await.unwrap();
    assert_eq!(audited, Ok(MAX * ROUNDS + ROUNDS - 1));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_declarations_admit_exactly_the_limit_on_sqlite() {
    with_sqlite(parallel_declarations_admit_exactly_the_limit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_declarations_admit_exactly_the_limit_on_postgres() {
    with_postgres(parallel_declarations_admit_exactly_the_limit).await;
}
