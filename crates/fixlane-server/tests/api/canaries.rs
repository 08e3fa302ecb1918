//! A canary and a verification reported by a CLI in client mode, over HTTP: the profile judged
//! on the server's record, the start refused as locally, each batch moving the emergency the
//! canary was started for (deploying, promoted with its follow-ups opened, verified), the end,
//! each entry naming the token's owner and the token; and `/api/v1/stats` answering what
//! `fixlane stats --json` prints. On `SQLite`, and on `PostgreSQL` when
//! `FIXLANE_TEST_POSTGRES_URL` is set.

use fixlane_app::App;
use fixlane_store::{Store as _, StoreLocation};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;

use crate::runs::approved;
use crate::support::{CONFIG, ID, TestServer};

const REV: &str = "0123456789abcdef0123456789abcdef01234567";

/// A canary's start as `fixlane canary` sends it.
fn start(id: &str, profile: &str) -> Value {
    json!({
        "id": id,
        "incident": ID,
        "rev": REV,
        "profile": profile,
        "started_at": "2026-05-20T10:00:00Z",
        "plan": { "steps": [{ "weight": 1, "bake_seconds": 2 }], "checks": ["error-rate"] },
    })
}

/// Runs `scenario` on a server over `SQLite`, then over a fresh `PostgreSQL` database when one
/// is configured (dropped afterwards, pass or fail).
async fn on_both<F, Fut>(test: &str, scenario: F)
where
    F: Fn(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    scenario(TestServer::start().await).await;
    let Ok(admin_url) = std::env::var("FIXLANE_TEST_POSTGRES_URL") else {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("{test}: PostgreSQL half skipped: FIXLANE_TEST_POSTGRES_URL is not set\n")
                .as_bytes(),
        );
        return;
    };
    let name = format!("fixlane_api_{test}_{}", std::process::id());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin_url)
        .await
        .unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let prefix = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(prefix, _)| prefix);
    let location = StoreLocation::parse(&format!("{prefix}/{name}")).unwrap();
    let server = TestServer::on(location, CONFIG).await;
    let outcome = tokio::spawn(scenario(server)).await;
    sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .unwrap();
    admin.close().await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

async fn state(server: &TestServer, token: &str) -> Value {
    let (status, record) = server
        .get(&format!("/api/v1/emergencies/{ID}"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    record
}

#[tokio::test]
async fn a_reported_canary_moves_its_own_emergency_and_a_verification_verifies_it() {
    on_both("canary_reported", |server| async move {
        approved(&server).await;
        let (bob, bob_token) = server.token("bob").await;
        let default = server.config.emergency.canary_profile.clone();

        // The profile, judged here: the default; another needs the `canary` bypass.
        let (status, chosen) = server
            .get(&format!("/api/v1/canaries/profile?incident={ID}"), Some(&bob))
            .await;
        assert_eq!(status, StatusCode::OK, "{chosen}");
        assert_eq!(chosen["profile"], default.as_str());
        let (status, refused) = server
            .get(
                &format!("/api/v1/canaries/profile?incident={ID}&profile=immediate"),
                Some(&bob),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        assert_eq!(refused["rule"], "emergency.canary_profile");
        // A start naming that profile is refused the same way, and records nothing.
        let (status, refused) = server
            .post("/api/v1/canaries", Some(&bob), &start("c0", "immediate"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
        assert_eq!(refused["rule"], "emergency.canary_profile");
        assert!(server.store.canary("c0").await.unwrap().is_none());

        let (status, started) = server
            .post("/api/v1/canaries", Some(&bob), &start("c1", &default))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{started}");
        assert_eq!(state(&server, &bob).await["state"], "approved");

        // The first step moves the emergency the canary started for to deploying.
        let (status, recorded) = server
            .post(
                "/api/v1/canaries/c1/events",
                Some(&bob),
                &json!([
                    { "event": "rollback_check_passed", "at": "2026-05-20T10:00:01Z" },
                    { "event": "step_started", "at": "2026-05-20T10:00:02Z",
                      "step": 1, "weight": 1, "bake_seconds": 2 },
                    { "event": "check_evaluated", "at": "2026-05-20T10:00:03Z", "step": 1,
                      "check": "error-rate", "value": 0.001, "min": null, "max": 0.01,
                      "outcome": "ok", "detail": null },
                ]),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{recorded}");
        assert_eq!(recorded["recorded"], 3);
        assert_eq!(state(&server, &bob).await["state"], "deploying");

        // Promoted: the follow-ups open, as the local path opens them.
        let (status, _) = server
            .post(
                "/api/v1/canaries/c1/events",
                Some(&bob),
                &json!([{ "event": "promoted", "at": "2026-05-20T10:00:05Z" }]),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let record = state(&server, &bob).await;
        assert_eq!(record["state"], "promoted");
        let kinds: Vec<&str> = record["followups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|followup| followup["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"postmortem"), "{kinds:?}");

        // A canary's end is not a verification's result.
        let (status, wrong) = server
            .post(
                "/api/v1/verifications/c1/result",
                Some(&bob),
                &json!({ "recovered": true, "note": "held", "finished_at": "2026-05-20T10:00:06Z" }),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{wrong}");
        assert_eq!(wrong["rule"], "canary.state");
        let (status, finished) = server
            .post(
                "/api/v1/canaries/c1/finish",
                Some(&bob),
                &json!({ "outcome": "promoted", "finished_at": "2026-05-20T10:00:06Z" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{finished}");
        // Finished: nothing more is taken on it; an unknown canary is not found.
        let (status, late) = server
            .post(
                "/api/v1/canaries/c1/events",
                Some(&bob),
                &json!([{ "event": "promoted", "at": "2026-05-20T10:00:07Z" }]),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{late}");
        assert_eq!(late["rule"], "canary.state");
        let (status, unknown) = server
            .post(
                "/api/v1/canaries/nope/finish",
                Some(&bob),
                &json!({ "outcome": "promoted", "finished_at": "2026-05-20T10:00:07Z" }),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
        assert_eq!(unknown["rule"], "canary.unknown");
        // Promoted already: no second canary.
        let (status, again) = server
            .post("/api/v1/canaries", Some(&bob), &start("c2", &default))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{again}");
        assert_eq!(again["rule"], "emergency.canary.state");

        // The verification, by carol: started, a sample, recovered.
        let (carol, _) = server.token("carol").await;
        let (status, started) = server
            .post(
                &format!("/api/v1/emergencies/{ID}/verifications"),
                Some(&carol),
                &json!({ "id": "v1", "check": "error-rate", "hold_seconds": 2,
                         "timeout_seconds": 30, "by": "mallory" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{started}");
        let (status, _) = server
            .post(
                "/api/v1/verifications/v1/events",
                Some(&carol),
                &json!([{ "event": "verify_sample", "at": "2026-05-20T10:01:00Z",
                          "check": "error-rate", "value": 0.001, "outcome": "ok",
                          "detail": null, "healthy_since": "2026-05-20T10:01:00Z" }]),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, wrong) = server
            .post(
                "/api/v1/canaries/v1/finish",
                Some(&carol),
                &json!({ "outcome": "promoted", "finished_at": "2026-05-20T10:01:03Z" }),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{wrong}");
        let (status, verified) = server
            .post(
                "/api/v1/verifications/v1/result",
                Some(&carol),
                &json!({ "recovered": true,
                         "note": "error-rate held within bounds for 2s; recovered after 0m00s",
                         "finished_at": "2026-05-20T10:01:03Z" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{verified}");
        let record = state(&server, &carol).await;
        assert_eq!(record["state"], "verified");
        let last = record["timeline"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["by"], "carol", "{last}");

        // Every entry of the canary is bob's and names his token; the verification's, carol's.
        let audit = server.audit().await;
        let of = |canary: &str| -> Vec<(String, Value)> {
            audit
                .iter()
                .filter(|(_, _, details)| details["canary"] == canary || details["id"] == canary)
                .map(|(actor, _, details)| (actor.clone(), details["token"].clone()))
                .collect()
        };
        let canary = of("c1");
        assert!(canary.len() >= 4, "{audit:?}");
        for (actor, token) in &canary {
            assert_eq!(actor, "bob");
            assert_eq!(token, bob_token.as_str());
        }
        assert!(of("v1").iter().all(|(actor, _)| actor == "carol"), "{audit:?}");
        let actions: Vec<&str> = audit.iter().map(|(_, action, _)| action.as_str()).collect();
        for action in ["canary-started", "deploying", "canary-promoted", "promoted", "verified"] {
            assert!(actions.contains(&action), "{action}: {actions:?}");
        }
        assert!(!actions.contains(&"canary-check-evaluated"), "{actions:?}");
        server.store.verify_audit().await.unwrap().unwrap();
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_canary_or_verification_of_an_unapproved_emergency_is_refused_as_locally() {
    on_both("canary_refused", |server| async move {
        let (bob, _) = server.token("bob").await;
        let (status, _) = server
            .post(
                "/api/v1/emergencies",
                Some(&bob),
                &crate::support::declaration(ID),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let default = server.config.emergency.canary_profile.clone();
        for (path, body) in [
            ("/api/v1/canaries".to_owned(), start("c1", &default)),
            (
                format!("/api/v1/emergencies/{ID}/verifications"),
                json!({ "id": "v1", "check": "error-rate", "hold_seconds": 2, "timeout_seconds": 30 }),
            ),
        ] {
            let (status, refused) = server.post(&path, Some(&bob), &body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
            assert!(
                refused["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("refused:"),
                "{refused}"
            );
            assert!(refused["instead"].as_str().unwrap().starts_with("SAY: "), "{refused}");
        }
        // A normal change's canary: the normal profile, never a faster one.
        let (status, normal) = server.get("/api/v1/canaries/profile", Some(&bob)).await;
        assert_eq!(status, StatusCode::OK, "{normal}");
        assert_eq!(normal["profile"], "standard");
        let (status, faster) = server
            .get("/api/v1/canaries/profile?profile=compressed", Some(&bob))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{faster}");
        assert_eq!(faster["rule"], "canary.profile");
        let (status, _) = server.get(&format!("/api/v1/canaries/profile?incident={ID}"), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let actions: Vec<String> = server.audit().await.into_iter().map(|(_, action, _)| action).collect();
        assert!(!actions.iter().any(|action| action.starts_with("canary-")), "{actions:?}");
        assert_eq!(state(&server, &bob).await["state"], "declared");
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn stats_answer_what_fixlane_stats_json_prints() {
    on_both("stats_route", |server| async move {
        approved(&server).await;
        let (alice, _) = server.token("alice").await;
        let at = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + 3_600).unwrap();
        let (status, text) = server
            .get_text(
                &format!(
                    "/api/v1/stats?since=30d&at={}&cores=3",
                    at.to_string().replace('+', "%2B")
                ),
                Some(&alice),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let figures = App::new(&server.store, &server.config)
            .stats(fixlane_core::Duration::parse("30d").unwrap(), at, 3)
            .await
            .unwrap();
        assert_eq!(text, serde_json::to_string_pretty(&figures).unwrap());
        assert_eq!(figures.emergencies, 1);
        let (status, bad) = server.get("/api/v1/stats?since=soon", Some(&alice)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(bad["rule"], "request.query");
        let (status, _) = server.get("/api/v1/stats", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        server.stop().await;
    })
    .await;
}
