//! `/metrics` (no token: it reveals counts, never a record) and the middleware that counts and
//! times every request.
//!
//! The record gauges — active emergencies by state, open and overdue follow-ups — are read from
//! the database at each scrape, so every replica reports the one shared record, not what it
//! happened to see. The request counters and latencies are this replica's own.
//!
//! `prometheus-client` writes `OpenMetrics` text. A scraper that asks for it (`Accept:
//! application/openmetrics-text`) gets it as it is; anyone else gets the classic Prometheus text
//! format, which differs only in its framing: no `# EOF` and no `# UNIT` lines, and a counter's
//! family named by its `_total` sample, as Prometheus's own parser and `promtool check metrics`
//! expect.

use std::collections::HashSet;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fixlane_core::emergency::EmergencyState;
use fixlane_core::followup::FollowUpKind;
use fixlane_store::Store;
use jiff::Timestamp;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::context::Context;

pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    hook: String,
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CanaryLabels {
    canary: String,
    incident: String,
    profile: String,
}

type CanaryGauges = (Family<CanaryLabels, Gauge>, Family<CanaryLabels, Gauge>);

/// Each running canary's weight (its latest `step_started`) and a 1 for running: canaries
/// started in the last day that have not finished.
async fn canary_gauges(context: &Context, now: Timestamp) -> Option<CanaryGauges> {
    let weights = Family::<CanaryLabels, Gauge>::default();
    let running = Family::<CanaryLabels, Gauge>::default();
    let since = now.checked_sub(jiff::SignedDuration::from_hours(24)).ok()?;
    let canaries = match context.store().canaries_since(since).await {
        Ok(canaries) => canaries,
        Err(error) => {
            tracing::warn!(%error, "metrics: could not read the canaries");
            return None;
        }
    };
    for canary in canaries
        .iter()
        .filter(|canary| canary.finished_at.is_none())
    {
        let labels = CanaryLabels {
            canary: canary.id.clone(),
            incident: canary
                .incident
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            profile: canary.profile.clone(),
        };
        running.get_or_create(&labels).set(1);
        let weight = match context.store().canary(&canary.id).await {
            Ok(Some(record)) => record
                .events
                .iter()
                .rev()
                .find(|(_, event)| event.kind == "step_started")
                .and_then(|(_, event)| event.data.get("weight").and_then(serde_json::Value::as_i64))
                .unwrap_or(0),
            Ok(None) => 0,
            Err(error) => {
                tracing::warn!(%error, "metrics: could not read a canary's events");
                return None;
            }
        };
        weights.get_or_create(&labels).set(weight);
    }
    Some((weights, running))
}

/// From a millisecond to ten seconds: an approval is a few milliseconds, a stalled database
/// several seconds.
fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// This replica's request metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
}

impl Metrics {
    pub fn new() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        let mut registry = Registry::default();
        registry.register(
            "fixlane_http_requests",
            "HTTP requests this replica answered, by method, route and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "fixlane_http_request_duration",
            "Time this replica took to answer HTTP requests, by method and route",
            Unit::Seconds,
            latency.clone(),
        );
        Self {
            registry,
            requests,
            latency,
        }
    }

    fn observe(&self, method: &'static str, route: String, status: StatusCode, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route: route.clone(),
                status: status.as_u16().to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(seconds);
    }
}

/// A method as a label: the standard ones by name, anything else as `other`, so a client
/// cannot grow the label set.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ]
    .iter()
    .zip(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
    .find(|(known, _)| *known == method)
    .map_or("other", |(_, label)| label)
}

/// Counts and times every request under the route it matched (a path no route matched is
/// `unmatched`, so probes of random paths cannot grow the label set).
pub async fn track(State(context): State<Context>, request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    tracing::debug!(method, route, "request started");
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    tracing::debug!(
        method,
        route,
        status = response.status().as_u16(),
        seconds,
        "request answered"
    );
    context
        .metrics()
        .observe(method, route, response.status(), seconds);
    response
}

pub fn router() -> Router<Context> {
    Router::new().route("/metrics", get(scrape))
}

/// Whether the scraper takes `OpenMetrics`: it lists `application/openmetrics-text` with a
/// weight above zero.
fn wants_openmetrics(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default();
            let refused = parts.any(|parameter| {
                parameter
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            media.eq_ignore_ascii_case("application/openmetrics-text") && !refused
        })
}

/// The record gauges, read now from the database; `None` when it cannot be read.
async fn record_registry(context: &Context) -> Option<Registry> {
    let now = Timestamp::now();
    let listed = context.app().list(now, false).await;
    let open = context.store().open_followups().await;
    let (listed, open) = match (listed, open) {
        (Ok(listed), Ok(open)) => (listed, open),
        (Err(error), _) => {
            tracing::warn!(%error, "metrics: could not read the emergencies");
            return None;
        }
        (_, Err(error)) => {
            tracing::warn!(%error, "metrics: could not read the follow-ups");
            return None;
        }
    };
    let active = Family::<StateLabels, Gauge>::default();
    // Every state but closed, zero included, so a state that empties reads 0, not absent.
    for state in EmergencyState::ALL {
        if state != EmergencyState::Closed {
            let count = listed
                .iter()
                .filter(|listed| listed.emergency.state == state)
                .count();
            active
                .get_or_create(&StateLabels {
                    state: state.as_str(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
    let open_by_kind = Family::<KindLabels, Gauge>::default();
    let overdue_by_kind = Family::<KindLabels, Gauge>::default();
    for kind in FollowUpKind::ALL {
        let labels = KindLabels {
            kind: kind.as_str(),
        };
        let of_kind = open.iter().filter(|(_, followup)| followup.kind == kind);
        let overdue = of_kind
            .clone()
            .filter(|(_, followup)| followup.is_overdue(now))
            .count();
        open_by_kind
            .get_or_create(&labels)
            .set(i64::try_from(of_kind.count()).unwrap_or(i64::MAX));
        overdue_by_kind
            .get_or_create(&labels)
            .set(i64::try_from(overdue).unwrap_or(i64::MAX));
    }
    let deliveries = Family::<DeliveryLabels, Gauge>::default();
    match context.store().delivery_status().await {
        Ok(hooks) => {
            for hook in hooks {
                for (state, count) in [
                    ("delivered", hook.delivered),
                    ("pending", hook.pending),
                    ("retrying", hook.retrying),
                    ("failed", hook.failed),
                ] {
                    deliveries
                        .get_or_create(&DeliveryLabels {
                            hook: hook.hook.clone(),
                            state,
                        })
                        .set(i64::try_from(count).unwrap_or(i64::MAX));
                }
            }
        }
        Err(error) => {
            tracing::warn!(%error, "metrics: could not read the webhook deliveries");
            return None;
        }
    }
    let (weights, running) = canary_gauges(context, now).await?;
    let mut registry = Registry::default();
    registry.register(
        "fixlane_webhook_deliveries",
        "Webhook deliveries by hook (its key, never its URL) and state: delivered, pending, retrying after a failure, failed (given up)",
        deliveries,
    );
    registry.register(
        "fixlane_canary_weight",
        "The weight in percent each running canary last set",
        weights,
    );
    registry.register(
        "fixlane_canary_running",
        "Canaries started in the last day and not finished (1 while running), by canary and profile",
        running,
    );
    registry.register(
        "fixlane_emergencies_active",
        "Emergencies not yet closed, by state",
        active,
    );
    registry.register(
        "fixlane_followups_open",
        "Post-emergency follow-ups still open, by kind",
        open_by_kind,
    );
    registry.register(
        "fixlane_followups_overdue",
        "Open post-emergency follow-ups past their deadline, by kind",
        overdue_by_kind,
    );
    Some(registry)
}

async fn scrape(State(context): State<Context>, headers: HeaderMap) -> Response {
    let records = record_registry(&context).await;
    let up = Gauge::<i64>::default();
    up.set(i64::from(records.is_some()));
    let mut health = Registry::default();
    health.register(
        "fixlane_store_up",
        "Whether this replica could read the record for this scrape (1) or not (0)",
        up,
    );
    let mut text = String::new();
    let encoded = encode_registry(&mut text, &health)
        .and_then(|()| match &records {
            Some(records) => encode_registry(&mut text, records),
            None => Ok(()),
        })
        .and_then(|()| encode_registry(&mut text, &context.metrics().registry))
        .and_then(|()| encode_eof(&mut text));
    if let Err(error) = encoded {
        return crate::error::ApiError::internal(StatusCode::INTERNAL_SERVER_ERROR, &error)
            .into_response();
    }
    let (body, content_type) = if wants_openmetrics(&headers) {
        (text, OPENMETRICS)
    } else {
        (classic(&text), PROMETHEUS_TEXT)
    };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// `OpenMetrics` text as the classic Prometheus text format: without `# EOF` and `# UNIT`, and
/// each counter's `# HELP` and `# TYPE` naming its `_total` sample.
pub fn classic(open_metrics: &str) -> String {
    let counters: HashSet<&str> = open_metrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open_metrics.len());
    for line in open_metrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|marker| {
            let rest = line.strip_prefix(marker)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{marker}{name}_total {tail}"))
        });
        match renamed {
            Some(line) => out.push_str(&line),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_text_drops_the_openmetrics_framing_and_names_counters_by_their_samples() {
        let open = "# HELP a_requests Requests.\n# TYPE a_requests counter\n\
                    a_requests_total{route=\"/x\"} 3\n# HELP a_seconds Time.\n\
                    # TYPE a_seconds histogram\n# UNIT a_seconds seconds\n\
                    a_seconds_sum 0.5\na_seconds_count 1\n# HELP a_up Up.\n# TYPE a_up gauge\n\
                    a_up 1\n# EOF\n";
        assert_eq!(
            classic(open),
            "# HELP a_requests_total Requests.\n# TYPE a_requests_total counter\n\
             a_requests_total{route=\"/x\"} 3\n# HELP a_seconds Time.\n\
             # TYPE a_seconds histogram\na_seconds_sum 0.5\na_seconds_count 1\n\
             # HELP a_up Up.\n# TYPE a_up gauge\na_up 1\n"
        );
    }

    #[test]
    fn openmetrics_is_served_only_to_a_scraper_that_asks_for_it() {
        let ask = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            wants_openmetrics(&headers)
        };
        // Prometheus's own negotiation header.
        assert!(ask(
            "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
        ));
        assert!(ask("application/openmetrics-text"));
        assert!(!ask("text/plain"));
        assert!(!ask("*/*"));
        assert!(!ask("application/openmetrics-text;q=0"));
        assert!(!wants_openmetrics(&HeaderMap::new()));
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let odd = axum::http::Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "other");
        assert_eq!(method_label(&axum::http::Method::POST), "POST");
    }
}
