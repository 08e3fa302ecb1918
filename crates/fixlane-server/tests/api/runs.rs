//! A run reported by a CLI in client mode: the emergency it belongs to looked up on the
//! server's record, its start with the policy it read, its gates and verdict, and the fix made
//! ready — judged on the run as recorded, each entry naming the token — plus the rate review,
//! the audit log verified and exported, as the CLI's commands ask for them.

use fixlane_store::Store as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{CONFIG, ID, TestServer, config, declaration};

const REV: &str = "0123456789abcdef0123456789abcdef01234567";

/// A run's start on `branch` as the CLI sends it, reading the policy whose hash is `policy`.
fn start(run_id: &str, branch: &str, policy: &str) -> Value {
    json!({
        "run": {
            "run_id": run_id,
            "rev": REV,
            "branch": branch,
            "lane": "hotfix",
            "emergency": true,
            "incident": ID,
            "started_at": "2026-05-20T10:00:00Z",
            "plan": { "plan": { "lane": "hotfix", "emergency": true, "gates": [] } },
            "runner": null,
        },
        "config": { "file": "fixlane.toml", "sha256": "ab12" },
        "policy_sha256": policy,
        "weakenings": [],
    })
}

/// Declares and approves the emergency; returns its branch.
pub(crate) async fn approved(server: &TestServer) -> String {
    let (bob, _) = server.token("bob").await;
    let (status, declared) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for person in ["carol", "dave"] {
        let (token, _) = server.token(person).await;
        let (status, answer) = server
            .post(
                &format!("/api/v1/emergencies/{ID}/approvals"),
                Some(&token),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    declared["branch"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_reported_ready_run_makes_the_fix_ready_on_the_servers_record() {
    let server = TestServer::start().await;
    let branch = approved(&server).await;
    let (ci, ci_id) = server.token("alice").await;
    let policy = fixlane_core::config::policy_sha256(&config(CONFIG));

    let (status, found) = server
        .get(
            &format!(
                "/api/v1/runs/emergency?branch={}",
                branch.replace('/', "%2F")
            ),
            Some(&ci),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["emergency"]["state"], "approved");
    let (_, elsewhere) = server
        .get("/api/v1/runs/emergency?branch=hotfix%2Fother", Some(&ci))
        .await;
    assert_eq!(elsewhere["missing"]["why"], "no_record", "{elsewhere}");

    let (status, started) = server
        .post("/api/v1/runs", Some(&ci), &start("r1", &branch, &policy))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(started["policy"]["matches"], true);

    // Not ready yet: the fix is not made ready on the client's say-so.
    let (status, refused) = server
        .post(
            "/api/v1/runs/r1/fix-ready",
            Some(&ci),
            &json!({ "ready_at": "2026-05-20T10:05:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["rule"], "runs.fix_ready");

    let gates = json!([{
        "gate": "build", "tier": "critical", "state": "passed", "detail": null,
        "exit_code": 0, "duration_ms": 12, "log_path": null, "tail": [],
        "finished_at": "2026-05-20T10:04:00Z",
    }]);
    let (status, _) = server
        .post("/api/v1/runs/r1/gates", Some(&ci), &gates)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .post(
            "/api/v1/runs/r1/verdict",
            Some(&ci),
            &json!({ "verdict": "ready", "reasons": [], "finished_at": "2026-05-20T10:05:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, ready) = server
        .post(
            "/api/v1/runs/r1/fix-ready",
            Some(&ci),
            &json!({ "ready_at": "2026-05-20T10:05:00Z" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["incident"], ID);
    let (_, shown) = server
        .get(&format!("/api/v1/emergencies/{ID}"), Some(&ci))
        .await;
    assert_eq!(shown["state"], "fix_ready");

    // Each write of the run is the token owner's and names the token.
    let written: Vec<(String, String, Value)> = server
        .audit()
        .await
        .into_iter()
        .filter(|(_, action, _)| {
            matches!(
                action.as_str(),
                "run-started" | "gates-recorded" | "run-verdict" | "fix-ready"
            )
        })
        .map(|(actor, action, details)| (actor, action, details["token"].clone()))
        .collect();
    let token = json!(ci_id);
    assert_eq!(
        written,
        [
            ("alice".to_owned(), "run-started".to_owned(), token.clone()),
            (
                "alice".to_owned(),
                "gates-recorded".to_owned(),
                token.clone()
            ),
            ("alice".to_owned(), "run-verdict".to_owned(), token.clone()),
            ("alice".to_owned(), "fix-ready".to_owned(), token),
        ]
    );

    let (status, unknown) = server
        .post("/api/v1/runs/nope/gates", Some(&ci), &gates)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    assert_eq!(unknown["rule"], "run.unknown");
    server.stop().await;
}

#[tokio::test]
async fn a_run_with_another_policy_is_flagged_and_told() {
    let server = TestServer::start().await;
    let (ci, _) = server.token("alice").await;
    let ours = fixlane_core::config::policy_sha256(&config(CONFIG));
    let theirs = fixlane_core::config::policy_sha256(&config(&CONFIG.replace(
        "roles = [\"engineer\"]",
        "roles = [\"engineer\", \"security-lead\"]",
    )));
    assert_ne!(ours, theirs);
    let (status, started) = server
        .post("/api/v1/runs", Some(&ci), &start("r2", "hotfix/x", &theirs))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(started["policy"]["matches"], false);
    assert_eq!(started["policy"]["server_sha256"], ours.as_str());
    let mismatch = server
        .audit()
        .await
        .into_iter()
        .find(|(_, action, _)| action == "policy-mismatch")
        .unwrap();
    assert_eq!(mismatch.0, "alice");
    assert_eq!(mismatch.2["run_sha256"], theirs.as_str());
    assert_eq!(mismatch.2["run_id"], "r2");
    let run = server.store.run("r2").await.unwrap().unwrap();
    assert_eq!(run.plan["policy_mismatch"]["server_sha256"], ours.as_str());
    server.stop().await;
}

#[tokio::test]
async fn rate_reviews_and_the_audit_log_answer_as_the_cli_asks() {
    let server = TestServer::start().await;
    let (dave, dave_id) = server.token("dave").await;
    let (bob, _) = server.token("bob").await;
    let (status, empty) = server
        .post(
            "/api/v1/rate-reviews",
            Some(&dave),
            &json!({ "notes": "  " }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{empty}");
    assert_eq!(empty["rule"], "rate_review.notes");
    // Only a rate reviewer's role may review, as the server's policy says.
    let (status, refused) = server
        .post(
            "/api/v1/rate-reviews",
            Some(&bob),
            &json!({ "notes": "fine" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, review) = server
        .post(
            "/api/v1/rate-reviews",
            Some(&dave),
            &json!({ "notes": "three in a week: all real outages", "by": "bob" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    assert_eq!(review["by"], "dave");
    let reviewed = server
        .audit()
        .await
        .into_iter()
        .find(|(_, action, _)| action == "review-rate")
        .unwrap();
    assert_eq!(reviewed.2["token"], dave_id.as_str());

    let (status, verified) = server.get("/api/v1/audit/verify", Some(&dave)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verified["intact"], true);
    let entries = server.audit().await.len();
    assert_eq!(verified["entries"], entries);
    assert_eq!(verified["head"]["seq"], entries);

    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/audit/export", server.base))
        .bearer_auth(&dave)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()[reqwest::header::CONTENT_TYPE],
        fixlane_server::JSON_LINES
    );
    let text = response.text().await.unwrap();
    let seqs: Vec<i64> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(entries).unwrap()).collect::<Vec<_>>()
    );
    server.stop().await;
}
