//! Tokens on both databases: issued and revoked with their audit entries in one transaction,
//! listed without hashes, a presented token checked against its stored hash (unknown, wrong,
//! revoked, expired and malformed ones refused), and racing revocations recorded once.

use fixlane_core::PersonName;
use fixlane_core::token::{self, ID_BYTES, Minted, SECRET_BYTES, TokenId, TokenRefused};
use fixlane_store::{NewToken, Store, StoreError, TokenSelector};

use super::{TestDb, time};

fn person(name: &str) -> PersonName {
    PersonName::parse(name).unwrap()
}

/// A token made of `seed`, so each test's tokens are distinct and known.
fn minted(seed: u8) -> Minted {
    token::mint([seed; ID_BYTES], [seed.wrapping_mul(7); SECRET_BYTES])
}

fn new_token(minted: &Minted, owner: &str, issued_at: &str, expires: Option<&str>) -> NewToken {
    NewToken {
        id: minted.id.clone(),
        person: person(owner),
        sha256: minted.sha256.clone(),
        issued_at: time(issued_at),
        expires_at: expires.map(time),
    }
}

/// The action names of the audit log, in order.
async fn actions(db: &TestDb) -> Vec<String> {
    db.store
        .audit_entries()
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

pub async fn tokens_issue_list_and_revoke_with_their_entries(db: TestDb) {
    let (a1, a2, b1) = (minted(1), minted(2), minted(3));
    let (record, entry) = db
        .store
        .issue_token(
            "operator",
            &new_token(&a1, "alice", "2026-12-01T10:00:00Z", None),
        )
        .await
        .unwrap();
    assert_eq!(record.issued_by, "operator");
    assert_eq!(entry.action, "token-issued");
    assert_eq!(entry.actor, "operator");
    assert_eq!(
        entry.details,
        serde_json::json!({ "token": a1.id, "person": "alice", "expires_at": null })
    );
    // Neither the secret nor its hash reaches the audit log.
    let logged = entry.details.to_string();
    assert!(!logged.contains(&a1.sha256) && !logged.contains(a1.secret.expose()));
    db.store
        .issue_token(
            "operator",
            &new_token(
                &a2,
                "alice",
                "2026-12-01T11:00:00Z",
                Some("2027-03-01T11:00:00Z"),
            ),
        )
        .await
        .unwrap();
    db.store
        .issue_token(
            "operator",
            &new_token(&b1, "bob", "2026-12-01T12:00:00Z", None),
        )
        .await
        .unwrap();

    let listed = db.store.tokens().await.unwrap();
    let ids: Vec<&TokenId> = listed.iter().map(|token| &token.id).collect();
    assert_eq!(ids, [&a1.id, &a2.id, &b1.id]);
    assert_eq!(listed[1].expires_at, Some(time("2027-03-01T11:00:00Z")));
    assert!(listed.iter().all(|token| token.revoked_at.is_none()));

    let now = time("2026-12-02T00:00:00Z");
    for good in [&a1, &a2, &b1] {
        let record = db
            .store
            .authenticate(good.secret.expose(), now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.id, good.id);
    }

    // One by id.
    let (revoked, entries) = db
        .store
        .revoke_tokens(
            "operator",
            &TokenSelector::Id(a1.id.clone()),
            time("2026-12-02T01:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].revoked_at, Some(time("2026-12-02T01:00:00Z")));
    assert_eq!(entries[0].action, "token-revoked");
    assert_eq!(
        db.store
            .authenticate(a1.secret.expose(), now)
            .await
            .unwrap(),
        Err(TokenRefused::Revoked {
            id: a1.id.clone(),
            at: time("2026-12-02T01:00:00Z")
        })
    );
    // Every one of a person's that is still live; bob's stays good.
    let (revoked, entries) = db
        .store
        .revoke_tokens(
            "operator",
            &TokenSelector::Person(person("alice")),
            time("2026-12-02T02:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        revoked.iter().map(|token| &token.id).collect::<Vec<_>>(),
        [&a2.id]
    );
    assert_eq!(entries.len(), 1);
    assert!(
        db.store
            .authenticate(b1.secret.expose(), now)
            .await
            .unwrap()
            .is_ok()
    );
    // Nothing left to revoke: nothing written.
    let head = db.store.audit_head().await.unwrap();
    let (revoked, entries) = db
        .store
        .revoke_tokens(
            "operator",
            &TokenSelector::Person(person("alice")),
            time("2026-12-02T03:00:00Z"),
        )
        .await
        .unwrap();
    assert!(revoked.is_empty() && entries.is_empty());
    assert_eq!(db.store.audit_head().await.unwrap(), head);
    // The first revocation's time stands.
    let listed = db.store.tokens().await.unwrap();
    assert_eq!(listed[0].revoked_at, Some(time("2026-12-02T01:00:00Z")));
    assert_eq!(listed[0].revoked_by.as_deref(), Some("operator"));

    assert_eq!(
        actions(&db).await,
        [
            "token-issued",
            "token-issued",
            "token-issued",
            "token-revoked",
            "token-revoked"
        ]
    );
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(5));
}

pub async fn presented_tokens_are_refused_unless_good(db: TestDb) {
    let (good, expiring) = (minted(10), minted(11));
    for (token, expires) in [(&good, None), (&expiring, Some("2026-12-01T12:00:00Z"))] {
        db.store
            .issue_token(
                "operator",
                &new_token(token, "alice", "2026-12-01T10:00:00Z", expires),
            )
            .await
            .unwrap();
    }
    let before = time("2026-12-01T11:59:59Z");
    let after = time("2026-12-01T12:00:00Z");
    let check = async |text: &str, now| db.store.authenticate(text, now).await.unwrap();

    assert!(check(expiring.secret.expose(), before).await.is_ok());
    assert_eq!(
        check(expiring.secret.expose(), after).await,
        Err(TokenRefused::Expired {
            id: expiring.id.clone(),
            at: after
        })
    );
    // Never issued.
    assert_eq!(
        check(minted(12).secret.expose(), after).await,
        Err(TokenRefused::Unknown)
    );
    // An issued id with another secret.
    let forged = token::mint([10; ID_BYTES], [0; SECRET_BYTES]);
    assert_eq!(forged.id, good.id);
    assert_eq!(
        check(forged.secret.expose(), after).await,
        Err(TokenRefused::Unknown)
    );
    assert_eq!(
        check("Bearer nonsense", after).await,
        Err(TokenRefused::Malformed)
    );
    // Checking writes nothing.
    assert_eq!(actions(&db).await, ["token-issued", "token-issued"]);
}

pub async fn a_taken_token_id_writes_nothing(db: TestDb) {
    let first = minted(20);
    db.store
        .issue_token(
            "operator",
            &new_token(&first, "alice", "2026-12-01T10:00:00Z", None),
        )
        .await
        .unwrap();
    let head = db.store.audit_head().await.unwrap();
    let same_id = token::mint([20; ID_BYTES], [1; SECRET_BYTES]);
    let error = db
        .store
        .issue_token(
            "operator",
            &new_token(&same_id, "bob", "2026-12-01T11:00:00Z", None),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::TokenExists { .. }), "{error}");
    let error = db
        .store
        .issue_token(
            " ",
            &new_token(&minted(21), "bob", "2026-12-01T11:00:00Z", None),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Invalid { .. }), "{error}");
    assert_eq!(db.store.audit_head().await.unwrap(), head);
    assert_eq!(db.store.tokens().await.unwrap().len(), 1);
    // The first token still belongs to alice and still works.
    let record = db
        .store
        .authenticate(first.secret.expose(), time("2026-12-02T00:00:00Z"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.person, person("alice"));
}

pub async fn racing_revocations_record_one(db: TestDb) {
    let token = minted(30);
    db.store
        .issue_token(
            "operator",
            &new_token(&token, "carol", "2026-12-01T10:00:00Z", None),
        )
        .await
        .unwrap();
    let mut racers = Vec::new();
    for racer in 0..4 {
        // Separate stores: separate processes or replicas on one database.
        let store = db.reopen().await;
        racers.push(tokio::spawn(async move {
            store
                .revoke_tokens(
                    &format!("operator-{racer}"),
                    &TokenSelector::Person(person("carol")),
                    time("2026-12-02T00:00:00Z"),
                )
                .await
                .unwrap()
                .0
                .len()
        }));
    }
    let mut revoked = 0;
    for racer in racers {
        revoked += racer.await.unwrap();
    }
    assert_eq!(revoked, 1);
    assert_eq!(actions(&db).await, ["token-issued", "token-revoked"]);
    assert_eq!(db.store.verify_audit().await.unwrap(), Ok(2));
}
