//! Who may act: every `/api` route needs a good token; revoked, expired, unknown and malformed
//! ones are 401; another person's token acts as that person, whom the policy judges (403 when
//! they may not), and a token whose owner the server's own config no longer lists is refused.

use fixlane_app::App;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{CONFIG, ID, TestServer, declaration};

/// Declares [`ID`] with bob's token.
async fn declared(server: &TestServer) {
    let (bob, _) = server.token("bob").await;
    let (status, body) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn approve(server: &TestServer, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    server
        .post(&format!("/api/v1/emergencies/{ID}/approvals"), token, body)
        .await
}

/// The approvals recorded so far.
async fn approvals(server: &TestServer) -> Value {
    let (token, _) = server.token("alice").await;
    let (_, shown) = server
        .get(&format!("/api/v1/emergencies/{ID}"), Some(&token))
        .await;
    shown["approvals"].clone()
}

#[tokio::test]
async fn probes_and_metrics_are_open_and_everything_else_needs_a_token() {
    let server = TestServer::start().await;
    let (status, health) = server.get("/healthz", None).await;
    assert_eq!(
        (status, health),
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    let (status, ready) = server.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ready["store"], "sqlite");
    let (_, metrics) = server.metrics(None).await;
    assert!(metrics.contains("fixlane_store_up 1"), "{metrics}");

    for path in [
        "/api/v1/emergencies",
        "/api/v1/followups/due",
        &format!("/api/v1/emergencies/{ID}"),
    ] {
        let (status, refused) = server.get(path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {refused}");
        assert_eq!(refused["rule"], "auth.token");
        assert!(refused["message"].as_str().unwrap().contains("no token"));
    }
    let (status, _) = server
        .post("/api/v1/emergencies", None, &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Nothing was declared without a token.
    let (alice, _) = server.token("alice").await;
    let (_, listed) = server.get("/api/v1/emergencies", Some(&alice)).await;
    assert_eq!(listed, json!([]));
    server.stop().await;
}

#[tokio::test]
async fn tokens_that_are_not_good_are_refused_and_record_nothing() {
    let server = TestServer::start().await;
    declared(&server).await;
    let app = App::new(&server.store, &server.config);

    let (revoked, revoked_id) = server.token("carol").await;
    app.revoke_tokens("operator", &revoked_id, Timestamp::now())
        .await
        .unwrap();
    // Issued two days ago to live one.
    let two_days_ago = Timestamp::now()
        .checked_sub(SignedDuration::from_hours(48))
        .unwrap();
    let (expired, _) = server.token_at("carol", Some("1d"), two_days_ago).await;
    // Well formed, never issued.
    let unknown = fixlane_core::token::mint([7; 6], [7; 32]).secret;
    // An issued id with another secret.
    let (good, good_id) = server.token("dave").await;
    let forged = format!("fixlane_tok_{good_id}_{}", "0".repeat(64));
    assert_ne!(forged, good);

    for (token, says) in [
        (revoked.as_str(), "revoked"),
        (expired.as_str(), "expired"),
        (unknown.expose(), "not one this server issued"),
        (forged.as_str(), "not one this server issued"),
        ("not-a-token", "not a fixlane token"),
    ] {
        let (status, refused) = approve(&server, Some(token), &json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{says}: {refused}");
        assert_eq!(refused["rule"], "auth.token");
        let message = refused["message"].as_str().unwrap();
        assert!(message.contains(says), "{says}: {message}");
        // The answer never echoes a token back.
        assert!(!refused.to_string().contains(token), "{refused}");
    }
    for header in ["Basic YWxpY2U6c2VjcmV0", "Bearer", &good] {
        let (status, refused) = server
            .get_with_authorization("/api/v1/emergencies", header)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}: {refused}");
    }
    assert_eq!(approvals(&server).await, json!([]));
    let approvals_logged = server
        .audit()
        .await
        .into_iter()
        .filter(|(_, action, _)| action == "approve")
        .count();
    assert_eq!(approvals_logged, 0);
    server.stop().await;
}

#[tokio::test]
async fn another_persons_token_acts_as_that_person_whatever_the_body_names() {
    let server = TestServer::start().await;
    declared(&server).await;
    // bob is an engineer and the author; the body names carol, who could approve.
    let (bob, _) = server.token("bob").await;
    let (status, refused) = approve(
        &server,
        Some(&bob),
        &json!({ "person": "carol", "as": "carol", "role": "security-lead" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(
        refused["refused"].as_str().unwrap().contains("by bob"),
        "{refused}"
    );
    assert!(
        refused["rule"]
            .as_str()
            .unwrap()
            .starts_with("emergency.approval")
    );
    // alice is an sre-lead: not an approver of security emergencies.
    let (alice, _) = server.token("alice").await;
    let (status, refused) = approve(&server, Some(&alice), &json!({ "person": "dave" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(
        refused["why"].as_str().unwrap().contains("alice"),
        "{refused}"
    );
    assert_eq!(approvals(&server).await, json!([]));

    // carol's own token, with a body naming dave: the approval is carol's.
    let (carol, _) = server.token("carol").await;
    let (status, approved) = approve(&server, Some(&carol), &json!({ "person": "dave" })).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let given = approvals(&server).await;
    assert_eq!(given.as_array().unwrap().len(), 1);
    assert_eq!(given[0]["person"], "carol");
    server.stop().await;
}

#[tokio::test]
async fn the_policy_is_the_servers_own_config() {
    // erin is a security-lead when her token is issued…
    let first = TestServer::start().await;
    declared(&first).await;
    let (erin, _) = first.token("erin").await;
    let location = first.location.clone();
    // …and the server restarted on the same store with a config that no longer lists her.
    let without_erin = CONFIG.replace("[people.erin]\nroles = [\"security-lead\"]\n", "");
    assert_ne!(without_erin, CONFIG);
    let dir_keeper = first;
    let second = TestServer::on(location, &without_erin).await;
    let (status, refused) = approve(&second, Some(&erin), &json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["rule"], "people");
    assert!(
        refused["why"]
            .as_str()
            .unwrap()
            .contains("no longer a person")
    );
    assert_eq!(approvals(&second).await, json!([]));
    // On the server that still lists her, the same token approves.
    let (status, approved) = approve(&dir_keeper, Some(&erin), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    // Each server logged the policy it started with.
    let seen = second
        .audit()
        .await
        .into_iter()
        .filter(|(actor, action, _)| action == "config-seen" && actor == "fixlane-serve")
        .count();
    assert_eq!(seen, 2);
    second.stop().await;
    dir_keeper.stop().await;
}
