//! `/api/v1/stats`: the figures `fixlane stats --json` prints, from the team's record, through
//! the same [`fixlane_app::App::stats`] the CLI calls against its own store.

use axum::Router;
use axum::extract::Query;
use axum::extract::State;
use axum::extract::rejection::QueryRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fixlane_core::Duration;
use jiff::Timestamp;
use serde::Deserialize;

use crate::context::Context;
use crate::error::ApiError;

pub fn router() -> Router<Context> {
    Router::new().route("/stats", get(stats))
}

#[derive(Debug, Default, Deserialize)]
struct StatsQuery {
    /// How far back to look (`90d`, `12h`); 90 days when left out, as `--since`.
    since: Option<String>,
    /// The moment the figures are computed at, RFC 3339; now when left out.
    at: Option<String>,
    /// The cores a lane's `--jobs` time is judged for (the asking machine's); this host's when
    /// left out.
    cores: Option<usize>,
}

const EXPECTED: &str = "since=90d&at=2026-11-25T10:00:00Z&cores=4";

fn bad(message: String, instead: &str) -> ApiError {
    ApiError::plain(StatusCode::BAD_REQUEST, "request.query", message, instead)
}

/// The figures as `fixlane stats --json` prints them, byte for byte.
async fn stats(
    State(context): State<Context>,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::query(&error, EXPECTED))?;
    let since = query.since.as_deref().unwrap_or("90d");
    let window = Duration::parse(since).map_err(|error| {
        bad(
            format!("since={since}: {error}"),
            "send a duration such as since=90d or since=12h",
        )
    })?;
    let now = match query.at.as_deref() {
        None => Timestamp::now(),
        Some(text) => text.parse::<Timestamp>().map_err(|error| {
            bad(
                format!("at={text}: {error}"),
                "send an RFC 3339 time with its offset, like at=2026-11-25T22:00:00%2B05:30",
            )
        })?,
    };
    let cores = query
        .cores
        .filter(|cores| *cores > 0)
        .unwrap_or_else(fixlane_app::stats::cores);
    let figures = context
        .app()
        .stats(window, now, cores)
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    let text = serde_json::to_string_pretty(&figures)
        .map_err(|error| ApiError::internal(StatusCode::INTERNAL_SERVER_ERROR, &error))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], text).into_response())
}
