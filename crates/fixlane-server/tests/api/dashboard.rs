//! The dashboard's pages through a real HTTP client: logging in with a token for a session
//! cookie (and being refused with a bad one), pages that need a session, every user string
//! escaped, the SVG chart, the live event stream on a `SQLite` store, and approving from the
//! page with its CSRF token.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::support::{ID, TestServer, declaration};

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in with `token`; the session cookie's `name=value` and its whole `Set-Cookie` line.
async fn log_in(server: &TestServer, token: &str) -> (String, String) {
    let response = browser()
        .post(format!("{}/login", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/");
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    (pair, set_cookie)
}

/// `GET path` with the session cookie: the status, `Location` and the body.
async fn get(
    server: &TestServer,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, String, String) {
    let mut request = browser().get(format!("{}{path}", server.base));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

/// A form `POST` with the session cookie and, when given, an `Origin`.
async fn post_form(
    server: &TestServer,
    path: &str,
    cookie: &str,
    body: &str,
    origin: Option<&str>,
) -> (StatusCode, String, String) {
    let mut request = browser()
        .post(format!("{}{path}", server.base))
        .header(COOKIE, cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, response.text().await.unwrap())
}

/// The CSRF token the page's forms carry.
fn csrf_of(page: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = page.find(marker).unwrap() + marker.len();
    page[start..start + 64].to_owned()
}

#[tokio::test]
async fn a_bad_token_is_refused_and_a_good_one_gets_a_strict_httponly_session_cookie() {
    let server = TestServer::start().await;
    let (carol, carol_id) = server.token("carol").await;

    for bad in [
        "",
        "fixlane_tok_nonsense",
        &carol.replace(&carol_id, "0123456789ab"),
    ] {
        let response = browser()
            .post(format!("{}/login", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
        assert!(response.headers().get(SET_COOKIE).is_none());
        let page = response.text().await.unwrap();
        assert!(page.contains(r#"id="refused""#), "{page}");
    }

    let (cookie, set_cookie) = log_in(&server, &carol).await;
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(attributes.contains(&"HttpOnly"), "{set_cookie}");
    assert!(attributes.contains(&"SameSite=Strict"), "{set_cookie}");
    assert!(attributes.contains(&"Path=/"), "{set_cookie}");
    assert!(cookie.starts_with("fixlane_session="));
    // The cookie is a session of its own, never the token.
    assert!(!set_cookie.contains(&carol) && !set_cookie.contains("fixlane_tok_"));

    let (status, _, page) = get(&server, "/", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<b id="viewer">carol</b>"#), "{page}");

    // The login is on the audit record, by the token's owner, naming the token.
    let audit = server.audit().await;
    let (actor, _, details) = audit
        .iter()
        .find(|(_, action, _)| action == "session-started")
        .unwrap();
    assert_eq!(actor, "carol");
    assert_eq!(details["token"], carol_id.as_str());
    server.stop().await;
}

#[tokio::test]
async fn every_page_needs_a_live_session() {
    let server = TestServer::start().await;
    let (carol, _) = server.token("carol").await;

    let (status, location, _) = get(&server, "/", None).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let forged = format!("fixlane_session={}", "ab".repeat(32));
    let (status, location, _) = get(&server, "/", Some(&forged)).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    // A token is not a session.
    let (status, _, _) = get(&server, "/", Some(&format!("fixlane_session={carol}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for path in ["/dashboard/overview", "/dashboard/events"] {
        let (status, _, _) = get(&server, path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }

    // Logging out ends the session on the record: the same cookie no longer opens a page.
    let (cookie, _) = log_in(&server, &carol).await;
    let (_, _, page) = get(&server, "/", Some(&cookie)).await;
    let csrf = csrf_of(&page);
    let (status, _, _) = post_form(&server, "/logout", &cookie, "csrf=wrong", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, location, _) =
        post_form(&server, "/logout", &cookie, &format!("csrf={csrf}"), None).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let (status, _, _) = get(&server, "/dashboard/overview", Some(&cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Revoking the token ends every session opened with it.
    let (cookie, _) = log_in(&server, &carol).await;
    let (status, _, _) = get(&server, "/dashboard/overview", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    fixlane_app::App::new(&server.store, &server.config)
        .revoke_tokens("operator", "carol", jiff::Timestamp::now())
        .await
        .unwrap();
    let (status, _, _) = get(&server, "/dashboard/overview", Some(&cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let actions: Vec<String> = server
        .audit()
        .await
        .into_iter()
        .map(|(_, action, _)| action)
        .filter(|action| action.starts_with("session-"))
        .collect();
    assert_eq!(
        actions,
        ["session-started", "session-ended", "session-started"]
    );
    server.stop().await;
}

#[tokio::test]
async fn the_overview_shows_the_record_escapes_every_user_string_and_draws_the_chart() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let (dave, _) = server.token("dave").await;
    let (carol, _) = server.token("carol").await;

    let hostile = r#"<script>alert("title")</script>"#;
    let mut body = declaration(ID);
    body["title"] = json!(hostile);
    body["flag_flip"] = json!("</p><b>no flag</b>");
    let (status, answer) = server.post("/api/v1/emergencies", Some(&bob), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = server
        .post(
            &format!("/api/v1/emergencies/{ID}/bypasses"),
            Some(&dave),
            &json!({
                "element": "eval",
                "reason": r#""><img src=x onerror=alert(1)>"#,
                "compensation": "the full suite runs on the cleanup change & more",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    let (cookie, _) = log_in(&server, &carol).await;
    let (status, _, page) = get(&server, "/", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains(hostile) && !page.contains("<img src=x"),
        "{page}"
    );
    assert!(!page.contains("<b>no flag</b>"));
    assert!(
        page.contains("&#60;/p&#62;&#60;b&#62;no flag&#60;/b&#62;"),
        "{page}"
    );
    assert!(
        page.contains("&#60;script&#62;alert(&#34;title&#34;)&#60;/script&#62;"),
        "{page}"
    );
    assert!(
        page.contains("&#34;&#62;&#60;img src=x onerror=alert(1)&#62;"),
        "{page}"
    );
    assert!(page.contains("cleanup change &#38; more"));

    // The record as `show` reads it: its clock, both missing groups and who could give them.
    assert!(page.contains(&format!(r#"id="emergency-{ID}" data-state="declared""#)));
    assert!(page.contains(r#"class="clock since""#));
    assert!(page.contains("missing: a security-lead"), "{page}");
    assert!(page.contains("could give it: carol, erin"), "{page}");
    assert!(page.contains("missing: a platform-lead"));
    assert!(page.contains("could give it: dave"));
    assert!(page.contains("No run of this branch yet."));
    // Carol holds a missing role: the page offers her the approval.
    assert!(page.contains(&format!("/dashboard/emergencies/{ID}/approve")));

    // The chart: twelve weeks, the declaration (made now, whatever its id's date) in the last.
    assert!(page.contains(r#"<svg class="chart""#));
    assert_eq!(page.matches(r#"<g class="week""#).count(), 12);
    assert_eq!(
        page.matches(r#"<g class="week" data-count="0""#).count(),
        11
    );
    let last = page.rfind(r#"<g class="week""#).unwrap();
    assert!(page[last..].starts_with(r#"<g class="week" data-count="1""#));
    assert!(page.contains("1 declared in the last 12 weeks"), "{page}");

    // The fragment is the same overview without the page around it.
    let (status, _, fragment) = get(&server, "/dashboard/overview", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(fragment.contains(&format!(r#"id="emergency-{ID}""#)));
    assert!(!fragment.contains("<html") && !fragment.contains("EventSource"));
    server.stop().await;
}

/// Reads the event stream until a chunk contains `needle`; everything read so far.
async fn read_until(response: &mut reqwest::Response, seen: &mut String, needle: &str) {
    let read = async {
        while !seen.contains(needle) {
            let chunk = response.chunk().await.unwrap().unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    // A failure bound only: on SQLite the watch looks twice a second.
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .unwrap_or_else(|_| panic!("the stream never said {needle:?}; it said:\n{seen}"));
}

#[tokio::test]
async fn the_event_stream_announces_each_committed_change() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let (carol, _) = server.token("carol").await;
    let (cookie, _) = log_in(&server, &carol).await;
    let mut events = browser()
        .get(format!("{}/dashboard/events", server.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    read_until(&mut events, &mut seen, "event: hello").await;

    let (status, _) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let head = server.audit().await.len();
    read_until(&mut events, &mut seen, &format!("data: audit {head}")).await;
    assert!(seen.contains("event: change"), "{seen}");
    // Only that something changed travels: never a record.
    assert!(!seen.contains("payments time out"));
    server.stop().await;
}

#[tokio::test]
async fn approving_from_the_page_takes_the_sessions_csrf_token_and_shows_refusals() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let (carol, carol_id) = server.token("carol").await;
    let (status, _) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let approve = format!("/dashboard/emergencies/{ID}/approve");

    let (cookie, _) = log_in(&server, &carol).await;
    let (_, _, page) = get(&server, "/", Some(&cookie)).await;
    let csrf = csrf_of(&page);
    let (status, _, _) = post_form(&server, &approve, &cookie, "csrf=forged", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(
        &server,
        &approve,
        &cookie,
        &format!("csrf={csrf}"),
        Some("http://evil.example"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, shown) = server
        .get(&format!("/api/v1/emergencies/{ID}"), Some(&carol))
        .await;
    assert_eq!(shown["approvals"], json!([]), "nothing was approved");

    let origin = server.base.clone();
    let (status, location, _) = post_form(
        &server,
        &approve,
        &cookie,
        &format!("csrf={csrf}"),
        Some(&origin),
    )
    .await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/"));
    let (_, shown) = server
        .get(&format!("/api/v1/emergencies/{ID}"), Some(&carol))
        .await;
    assert_eq!(shown["approvals"][0]["person"], "carol");
    assert_eq!(shown["missing_approvals"], json!([["platform-lead"]]));
    let audit = server.audit().await;
    let (actor, _, details) = audit
        .iter()
        .rfind(|(_, action, _)| action == "approve")
        .unwrap();
    assert_eq!(actor, "carol");
    assert_eq!(details["token"], carol_id.as_str());

    // Again: refused by the same rule the CLI and the API refuse it with, shown on the page.
    let (status, _, page) =
        post_form(&server, &approve, &cookie, &format!("csrf={csrf}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains(r#"id="notice""#), "{page}");
    assert!(page.contains("refused: approval of"), "{page}");
    assert!(page.contains("rule: emergency.approval"), "{page}");
    server.stop().await;
}

#[tokio::test]
async fn webhook_failures_are_on_the_overview_by_their_hook_keys() {
    use fixlane_store::{DeliveryOutcome, Store as _};
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let (carol, _) = server.token("carol").await;
    let (cookie, _) = log_in(&server, &carol).await;
    let (_, _, page) = get(&server, "/dashboard/overview", Some(&cookie)).await;
    assert!(!page.contains(r#"id="hooks""#), "no hook, no section");

    // A declaration is announced; the hook's delivery of it fails for good, as the drainer
    // records a receiver that kept refusing.
    let (status, _) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let hook = "env:SLACK_URL";
    let now = jiff::Timestamp::now();
    let since = now
        .checked_sub(jiff::SignedDuration::from_secs(3600))
        .unwrap();
    assert_eq!(server.store.plan_deliveries(hook, since).await.unwrap(), 1);
    let claims = server
        .store
        .claim_deliveries(hook, now, now, 10)
        .await
        .unwrap();
    server
        .store
        .finish_delivery(
            hook,
            claims[0].seq,
            &DeliveryOutcome::GaveUp {
                at: now,
                error: "the receiver answered 500 <Internal Server Error>".to_owned(),
            },
        )
        .await
        .unwrap();
    let (_, _, page) = get(&server, "/dashboard/overview", Some(&cookie)).await;
    assert!(page.contains(r#"id="hooks""#), "{page}");
    assert!(page.contains("<code>env:SLACK_URL</code>"), "{page}");
    assert!(
        page.contains("answered 500 &#60;Internal Server Error&#62;"),
        "{page}"
    );
    server.stop().await;
}
