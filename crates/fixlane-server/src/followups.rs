//! `/api/v1/followups/due`: every open follow-up across emergencies, overdue first, as `fixlane
//! due --json` prints them.

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fixlane_core::PersonName;
use jiff::Timestamp;
use serde::Deserialize;

use crate::context::Context;
use crate::error::ApiError;

pub fn router() -> Router<Context> {
    Router::new().route("/followups/due", get(due))
}

#[derive(Debug, Default, Deserialize)]
struct DueQuery {
    /// Only this person's.
    owner: Option<String>,
}

async fn due(
    State(context): State<Context>,
    query: Result<Query<DueQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::query(&error, "owner=NAME"))?;
    let owner = query
        .owner
        .as_deref()
        .map(|name| {
            PersonName::parse(name).map_err(|error| {
                ApiError::plain(
                    StatusCode::BAD_REQUEST,
                    "request.query",
                    format!("owner: {error}"),
                    "name a person under [people], or leave owner out",
                )
            })
        })
        .transpose()?;
    let now = Timestamp::now();
    let due = context
        .app()
        .due(now, owner.as_ref())
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    let items: Vec<_> = due.iter().map(|item| item.item(now)).collect();
    Ok(axum::Json(items).into_response())
}
