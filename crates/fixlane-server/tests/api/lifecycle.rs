//! An emergency's record through the API: declared, approved by both groups, a bypass
//! recorded, listed and shown as the CLI shows it — each write by the token's owner, whatever
//! the body says, and each audit entry naming the token it was made with.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ID, TestServer, declaration};

#[tokio::test]
async fn an_emergency_is_declared_approved_and_bypassed_by_the_tokens_owners() {
    let server = TestServer::start().await;
    let (bob, bob_id) = server.token("bob").await;
    let (carol, carol_id) = server.token("carol").await;
    let (dave, dave_id) = server.token("dave").await;

    // The body names another author and another approver: both are ignored.
    let mut body = declaration(ID);
    body["author"] = json!("alice");
    body["as"] = json!("alice");
    let (status, declared) = server.post("/api/v1/emergencies", Some(&bob), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{declared}");
    assert_eq!(declared["author"], "bob");
    assert_eq!(declared["state"], "declared");
    assert_eq!(
        declared["missing_approvals"],
        json!([["security-lead"], ["platform-lead"]])
    );

    let (status, approved) = server
        .post(
            &format!("/api/v1/emergencies/{ID}/approvals"),
            Some(&carol),
            &json!({ "person": "dave", "approver": "dave" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["approvals"][0]["person"], "carol");
    assert_eq!(approved["missing_approvals"], json!([["platform-lead"]]));

    let (status, approved) = server
        .post(
            &format!("/api/v1/emergencies/{ID}/approvals"),
            Some(&dave),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["missing_approvals"], json!([]));

    let (status, bypassed) = server
        .post(
            &format!("/api/v1/emergencies/{ID}/bypasses"),
            Some(&dave),
            &json!({
                "element": "eval",
                "reason": "the eval suite takes 40 minutes; the fix is one guard clause",
                "compensation": "the full suite runs on the cleanup change within 24h",
                "by": "carol",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bypassed}");
    assert_eq!(bypassed["bypasses"][0]["by"], "dave");

    // Read back through another token: the same record, as `show --json` prints it.
    let (status, shown) = server
        .get(&format!("/api/v1/emergencies/{ID}"), Some(&bob))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown, bypassed);
    assert_eq!(shown["followups"], json!([]));
    let (status, listed) = server.get("/api/v1/emergencies", Some(&carol)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], ID);
    assert_eq!(listed[0]["state"], "approved");
    assert_eq!(listed[0]["author"], "bob");

    // Each write is its own action's entry, by the owner, naming the token.
    let writes: Vec<_> = server
        .audit()
        .await
        .into_iter()
        .filter(|(_, action, _)| !action.starts_with("token-") && action != "config-seen")
        .collect();
    let summary: Vec<(&str, &str, &str)> = writes
        .iter()
        .map(|(actor, action, details)| {
            (
                actor.as_str(),
                action.as_str(),
                details["token"].as_str().unwrap_or("no token"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("bob", "declare", bob_id.as_str()),
            ("carol", "approve", carol_id.as_str()),
            ("dave", "approve", dave_id.as_str()),
            ("dave", "bypass", dave_id.as_str()),
        ]
    );
    assert_eq!(writes[1].2["approval"]["person"], "carol");
    assert!(
        fixlane_store::Store::verify_audit(&server.store)
            .await
            .unwrap()
            .is_ok()
    );
    server.stop().await;
}

#[tokio::test]
async fn open_follow_ups_are_listed_overdue_first() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    for id in [ID, "INC-2026-05-21-001"] {
        let (status, body) = server
            .post("/api/v1/emergencies", Some(&bob), &declaration(id))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // One emergency's follow-ups opened ten days ago (all overdue), the other's now.
    let app = fixlane_app::App::new(&server.store, &server.config);
    let long_ago = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(240))
        .unwrap();
    let inc = |id: &str| fixlane_core::IncidentId::parse(id).unwrap();
    app.open_followups("test", &inc(ID), "merged", long_ago)
        .await
        .unwrap();
    app.open_followups(
        "test",
        &inc("INC-2026-05-21-001"),
        "merged",
        jiff::Timestamp::now(),
    )
    .await
    .unwrap();

    let (status, due) = server.get("/api/v1/followups/due", Some(&bob)).await;
    assert_eq!(status, StatusCode::OK, "{due}");
    let due = due.as_array().unwrap();
    assert!(due.len() >= 4, "{due:?}");
    let overdue: Vec<bool> = due
        .iter()
        .map(|item| item["overdue"].as_bool().unwrap())
        .collect();
    // Overdue first, every one of them the old emergency's.
    let first_open = overdue.iter().position(|overdue| !overdue).unwrap();
    assert!(first_open > 0 && overdue[first_open..].iter().all(|o| !o));
    assert!(due[..first_open].iter().all(|item| item["id"] == ID));
    assert!(
        due[..first_open]
            .iter()
            .all(|item| item["seconds_left"].as_i64().unwrap() < 0)
    );
    // Only one owner's, when asked.
    let (_, mine) = server
        .get("/api/v1/followups/due?owner=nobody-here", Some(&bob))
        .await;
    assert_eq!(mine, json!([]));
    let (status, refused) = server
        .get("/api/v1/followups/due?owner=bad%20name", Some(&bob))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    server.stop().await;
}
