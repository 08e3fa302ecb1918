//! How the server says no: a policy refusal carries the CLI's rule, where and instead (in the
//! words the server was started with) and the next step as data; bad input is 400 or 422, a
//! missing record 404; an internal failure is logged, never told.

use fixlane_store::AnyStore;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{CONFIG, ID, TestServer, declaration};

#[tokio::test]
async fn a_refusal_reads_as_the_cli_reads_it() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let (status, body) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The author approving their own emergency.
    let (status, refused) = server
        .post(
            &format!("/api/v1/emergencies/{ID}/approvals"),
            Some(&bob),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let rule = refused["rule"].as_str().unwrap();
    assert!(rule.starts_with("emergency.approval"), "{refused}");
    // `where` points at the rule's line in the server's config (the category's), as the CLI
    // prints it.
    let place = refused["where"].as_str().unwrap();
    let (file, position) = place.split_once(':').unwrap();
    assert_eq!(file, "fixlane.toml");
    let line: usize = position.split_once(':').unwrap().0.parse().unwrap();
    assert!(
        CONFIG
            .lines()
            .nth(line - 1)
            .unwrap()
            .contains("[emergency.categories.security]"),
        "{place}"
    );
    // `instead` in the words the server was given, and the step as data.
    assert!(
        refused["instead"].as_str().unwrap().starts_with("SAY: "),
        "{refused}"
    );
    assert_eq!(refused["next"]["action"], "approve");
    let message = refused["message"].as_str().unwrap();
    assert!(message.starts_with("refused: "), "{message}");
    assert!(message.contains(&format!("rule: {rule}")), "{message}");
    assert!(message.contains(&format!("where: {place}")), "{message}");
    assert!(message.contains("instead: SAY: "), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn several_refusals_of_one_declaration_come_together() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let mut body = declaration(ID);
    body["severity"] = json!("P3");
    body["flag_flip"] = json!(null);
    body["rollback"] = json!(null);
    let (status, refused) = server.post("/api/v1/emergencies", Some(&bob), &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let each = refused["refusals"].as_array().unwrap();
    assert!(each.len() >= 2, "{refused}");
    assert_eq!(each[0]["rule"], refused["rule"]);
    assert!(
        each.iter()
            .all(|one| one["instead"].as_str().unwrap().starts_with("SAY: "))
    );
    assert!(
        refused["message"].as_str().unwrap().contains("reasons"),
        "{refused}"
    );
    let (_, listed) = server.get("/api/v1/emergencies", Some(&bob)).await;
    assert_eq!(listed, json!([]));
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_missing_records_and_taken_ids() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let (carol, _) = server.token("carol").await;
    let (status, refused) = server
        .post("/api/v1/emergencies", Some(&bob), &json!({ "id": ID }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["rule"], "request.body");
    assert!(
        refused["message"].as_str().unwrap().contains("severity"),
        "{refused}"
    );

    let (status, refused) = server
        .get("/api/v1/emergencies/INC-2026-05-20-999", Some(&bob))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert_eq!(refused["rule"], "emergency.unknown");
    let (status, _) = server
        .post(
            "/api/v1/emergencies/INC-2026-05-20-999/approvals",
            Some(&carol),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // A taken id is the policy's refusal (the store's own 409 is for a declaration racing
    // another past the policy).
    let (status, refused) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["rule"], "emergency.unique_id");

    let (status, refused) = server
        .post(
            &format!("/api/v1/emergencies/{ID}/bypasses"),
            Some(&carol),
            &json!({ "element": "tests", "reason": "r", "compensation": "c" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, refused) = server
        .get("/api/v1/emergencies?all=perhaps", Some(&bob))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["rule"], "request.query");
    // A body that is not JSON at all.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/emergencies/{ID}/approvals", server.base))
        .bearer_auth(&carol)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn an_internal_failure_is_logged_and_answered_without_its_details() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let (status, _) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // Someone with database access garbles the stored record.
    let AnyStore::Sqlite(store) = &server.store else {
        panic!("the test server runs on SQLite");
    };
    sqlx::raw_sql("UPDATE emergencies SET document = '{\"tampered_secret_column\": 1}'")
        .execute(store.pool())
        .await
        .unwrap();
    let (status, failed) = server
        .get(&format!("/api/v1/emergencies/{ID}"), Some(&bob))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{failed}");
    assert_eq!(failed["rule"], "server.internal");
    let text = failed.to_string();
    assert!(text.contains("reference"), "{text}");
    for detail in [
        "tampered_secret_column",
        "missing field",
        "document",
        "sqlite",
    ] {
        assert!(!text.contains(detail), "{detail} leaked: {text}");
    }
    server.stop().await;
}
