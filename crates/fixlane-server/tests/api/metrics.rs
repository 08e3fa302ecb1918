//! `/metrics` read by real parsers: the classic text checked by Prometheus's `promtool check
//! metrics`, `OpenMetrics` served to a scraper that asks for it, HELP on every family, and the
//! record's gauges counting what the database holds.

use std::io::Write as _;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ID, TestServer, declaration};

const PROMTOOL: &str = "/usr/bin/promtool";

/// `promtool check metrics` on `text`: its exit status and what it said.
pub(crate) fn promtool(text: &str) -> (bool, String) {
    assert!(
        std::path::Path::new(PROMTOOL).exists(),
        "{PROMTOOL} is missing: install Debian's prometheus package (`apt-get install \
         prometheus`), which carries promtool, to check the metrics format"
    );
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

/// Every family a `# TYPE` line declares has a `# HELP` line.
fn assert_help_on_every_family(text: &str) {
    let families: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .map(|rest| rest.split(' ').next().unwrap())
        .collect();
    assert!(families.len() >= 6, "{text}");
    for family in families {
        assert!(
            text.lines()
                .any(|line| line.starts_with(&format!("# HELP {family} "))),
            "{family} has no HELP:\n{text}"
        );
    }
}

#[tokio::test]
async fn metrics_pass_promtool_and_count_the_record_and_the_requests() {
    let server = TestServer::start().await;
    let (bob, _) = server.token("bob").await;
    let (carol, _) = server.token("carol").await;
    let (status, _) = server
        .post("/api/v1/emergencies", Some(&bob), &declaration(ID))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = server
        .post(
            &format!("/api/v1/emergencies/{ID}/approvals"),
            Some(&bob),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server
        .post(
            &format!("/api/v1/emergencies/{ID}/approvals"),
            Some(&carol),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // A follow-up ten days overdue.
    let long_ago = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(240))
        .unwrap();
    fixlane_app::App::new(&server.store, &server.config)
        .open_followups(
            "test",
            &fixlane_core::IncidentId::parse(ID).unwrap(),
            "merged",
            long_ago,
        )
        .await
        .unwrap();
    let (status, _) = server.get("/no/such/route", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (content_type, classic) = server.metrics(None).await;
    assert_eq!(content_type, fixlane_server::PROMETHEUS_TEXT);
    let (passed, said) = promtool(&classic);
    assert!(
        passed,
        "promtool check metrics refused it: {said}\n{classic}"
    );
    assert_help_on_every_family(&classic);
    assert!(!classic.contains("# EOF") && !classic.contains("# UNIT"));
    for expected in [
        "fixlane_store_up 1",
        "fixlane_emergencies_active{state=\"declared\"} 1",
        "fixlane_emergencies_active{state=\"approved\"} 0",
        "fixlane_followups_overdue{kind=\"cleanup\"} 1",
        "# TYPE fixlane_http_requests_total counter",
        "# TYPE fixlane_http_request_duration_seconds histogram",
    ] {
        assert!(classic.contains(expected), "{expected}:\n{classic}");
    }
    let requests = |text: &str, route: &str, status: &str| -> u64 {
        text.lines()
            .filter(|line| {
                line.starts_with("fixlane_http_requests_total{")
                    && line.contains(&format!("route=\"{route}\""))
                    && line.contains(&format!("status=\"{status}\""))
            })
            .map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(requests(&classic, "/api/v1/emergencies", "201"), 1);
    assert_eq!(
        requests(&classic, "/api/v1/emergencies/{id}/approvals", "403"),
        1
    );
    assert_eq!(
        requests(&classic, "/api/v1/emergencies/{id}/approvals", "200"),
        1
    );
    // A path no route matches is counted under one label, not its own.
    assert_eq!(requests(&classic, "unmatched", "404"), 1);
    assert!(!classic.contains("/no/such/route"));

    let (content_type, open) = server
        .metrics(Some(
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2",
        ))
        .await;
    assert_eq!(content_type, fixlane_server::OPENMETRICS);
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(
        open.contains("# TYPE fixlane_http_requests counter"),
        "{open}"
    );
    assert!(open.contains("# UNIT fixlane_http_request_duration_seconds seconds"));
    assert_help_on_every_family(&open);
    // The two differ only in framing: the OpenMetrics text, reframed, passes promtool too.
    let (passed, said) = promtool(&fixlane_server::classic(&open));
    assert!(passed, "{said}");
    server.stop().await;
}
