//! `/api/v1/emergencies`: list, show, declare, approve, bypass, and `/api/v1/rate-reviews` — each
//! the same application-layer call the CLI makes, with the token's owner as the person acting.
//!
//! A request body may name anyone (an `author`, an `approver`, `--as` spelled as JSON): no field
//! of it is read as the actor, and unknown fields are ignored, so such a request acts as the
//! token's owner and nobody else.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fixlane_app::{App, BypassInput, DeclareInput, views};
use fixlane_core::IncidentId;
use fixlane_core::config::model::BypassElement;
use fixlane_store::Store;
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::Actor;
use crate::context::Context;
use crate::error::ApiError;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/emergencies", get(list).post(declare))
        .route("/emergencies/{id}", get(show))
        .route("/emergencies/{id}/approvals", post(approve))
        .route("/emergencies/{id}/bypasses", post(bypass))
        .route("/rate-reviews", post(review_rate))
}

/// A JSON body; an empty one reads as `{}` where the route allows it (`allow_empty`).
pub(crate) fn body<T: DeserializeOwned>(
    bytes: &Bytes,
    allow_empty: bool,
    expected: &str,
) -> Result<T, ApiError> {
    let empty = bytes.iter().all(u8::is_ascii_whitespace);
    let text: &[u8] = if empty && allow_empty { b"{}" } else { bytes };
    serde_json::from_slice(text).map_err(|error| ApiError::body(error, expected))
}

pub(crate) fn incident(text: &str) -> Result<IncidentId, ApiError> {
    IncidentId::parse(text).map_err(|error| {
        ApiError::plain(
            StatusCode::NOT_FOUND,
            "emergency.unknown",
            format!("there is no emergency `{text}`: {error}"),
            "GET /api/v1/emergencies lists the active ones",
        )
    })
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    /// Closed emergencies too.
    #[serde(default)]
    all: bool,
}

async fn list(
    State(context): State<Context>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::query(&error, "all=true"))?;
    let now = Timestamp::now();
    let listed = context
        .app()
        .list(now, query.all)
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    let summaries: Vec<views::Summary> = listed
        .iter()
        .map(|listed| listed.summary(context.config(), now))
        .collect();
    Ok(axum::Json(summaries).into_response())
}

/// The record of `id` as `show --json` prints it.
pub(crate) async fn detail_of(
    context: &Context,
    id: &IncidentId,
) -> Result<serde_json::Value, ApiError> {
    let (emergency, followups) = context
        .app()
        .record(id)
        .await
        .map_err(|error| ApiError::from_app(context, error))?;
    views::detail(context.config(), &emergency, &followups)
        .map_err(|error| ApiError::from_app(context, error))
}

async fn show(
    State(context): State<Context>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = incident(&id)?;
    Ok(axum::Json(detail_of(&context, &id).await?).into_response())
}

/// A declaration as `fixlane declare` takes it; the author is the token's owner.
#[derive(Debug, Deserialize)]
struct DeclareBody {
    id: String,
    severity: String,
    category: String,
    title: String,
    cleanup_owner: String,
    eta: Option<String>,
    flag_flip: Option<String>,
    rollback: Option<String>,
    #[serde(default)]
    any_date: bool,
}

const DECLARE_FIELDS: &str = "with id, severity, category, title and cleanup_owner, and \
                              flag_flip, rollback and eta as `fixlane declare` takes them";

async fn declare(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: DeclareBody = body(&bytes, false, DECLARE_FIELDS)?;
    let input = DeclareInput {
        id: request.id,
        severity: request.severity,
        category: request.category,
        title: request.title,
        cleanup_owner: request.cleanup_owner,
        eta: request.eta,
        flag_flip: request.flag_flip,
        rollback: request.rollback,
        any_date: request.any_date,
    };
    let declared = actor
        .app(&context)
        .declare(&actor.person, input, None)
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(id = %declared.id, by = %actor.person, token = %actor.token, "declared");
    let detail = views::detail(context.config(), &declared, &[])
        .map_err(|error| ApiError::from_app(&context, error))?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/emergencies/{}", declared.id),
        )],
        axum::Json(detail),
    )
        .into_response())
}

/// An approval: only the role, for a person holding several.
#[derive(Debug, Default, Deserialize)]
struct ApproveBody {
    role: Option<String>,
}

async fn approve(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id = incident(&id)?;
    let request: ApproveBody = body(&bytes, true, "such as {} or {\"role\": \"sre-lead\"}")?;
    let outcome = actor
        .app(&context)
        .approve(
            &actor.person,
            &id,
            request.role.as_deref(),
            Timestamp::now(),
        )
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(%id, by = %actor.person, token = %actor.token, "approved");
    let followups = context
        .store()
        .followups(&id)
        .await
        .map_err(|error| ApiError::from_app(&context, error.into()))?;
    let detail = views::detail(context.config(), &outcome.emergency, &followups)
        .map_err(|error| ApiError::from_app(&context, error))?;
    Ok(axum::Json(detail).into_response())
}

/// A bypass as `fixlane bypass` takes it.
#[derive(Debug, Deserialize)]
struct BypassBody {
    element: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    compensation: String,
}

async fn bypass(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id = incident(&id)?;
    let request: BypassBody = body(
        &bytes,
        false,
        "with element (eval, canary, window or freeze), reason and compensation",
    )?;
    let element = BypassElement::ALL
        .into_iter()
        .find(|element| element.as_str() == request.element)
        .ok_or_else(|| {
            ApiError::plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.body",
                format!("`{}` is not a bypassable element", request.element),
                "name one of eval, canary, window and freeze",
            )
        })?;
    let input = BypassInput {
        element,
        reason: request.reason,
        compensation: request.compensation,
    };
    let emergency = actor
        .app(&context)
        .bypass(&actor.person, &id, input, Timestamp::now())
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(%id, element = element.as_str(), by = %actor.person, token = %actor.token, "bypassed");
    let followups = context
        .store()
        .followups(&id)
        .await
        .map_err(|error| ApiError::from_app(&context, error.into()))?;
    let detail = views::detail(context.config(), &emergency, &followups)
        .map_err(|error| ApiError::from_app(&context, error))?;
    Ok(axum::Json(detail).into_response())
}

/// A rate review as `fixlane review-rate` takes it: the notes; the reviewer is the token's owner.
#[derive(Debug, Deserialize)]
struct RateReviewBody {
    notes: String,
}

async fn review_rate(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: RateReviewBody = body(&bytes, false, "with the notes of the review")?;
    // The store writes the review's entry itself: the token is named through the store.
    let store = actor.store(&context);
    let review = App::new(&store, context.config())
        .with_token(&actor.token)
        .review_rate(&actor.person, &request.notes)
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(by = %actor.person, token = %actor.token, "rate reviewed");
    Ok((StatusCode::CREATED, axum::Json(review)).into_response())
}
