//! `/api/v1/followups/due` and an emergency's follow-ups: every open follow-up across
//! emergencies, overdue first, as `fixlane due --json` prints them; the fix merged (its
//! follow-ups open), one follow-up closed with its evidence, and a backfill run recorded — each
//! the application-layer call the CLI's `due`, `merged`, `close` and `backfill` make, by the
//! token's owner.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fixlane_app::{App, views};
use fixlane_core::followup::{Evidence, FollowUpKind};
use fixlane_core::{PersonName, Rev};
use fixlane_store::Store as _;
use jiff::Timestamp;
use serde::Deserialize;

use crate::auth::Actor;
use crate::context::Context;
use crate::emergencies::{body, detail_of, incident};
use crate::error::ApiError;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/followups/due", get(due))
        .route("/emergencies/{id}/merged", post(merged))
        .route("/emergencies/{id}/followups/{kind}/close", post(close))
        .route("/emergencies/{id}/backfills", post(backfill))
}

#[derive(Debug, Default, Deserialize)]
struct DueQuery {
    /// Only this person's.
    owner: Option<String>,
    /// The moment judged at (RFC 3339), as `due --at` asks; now when absent. Reading only.
    at: Option<Timestamp>,
}

async fn due(
    State(context): State<Context>,
    query: Result<Query<DueQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::query(&error, "owner=NAME or at=TIME"))?;
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
    let now = query.at.unwrap_or_else(Timestamp::now);
    let due = context
        .app()
        .due(now, owner.as_ref())
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    let items: Vec<_> = due.iter().map(|item| item.item(now)).collect();
    Ok(axum::Json(items).into_response())
}

/// The fix merged as `rev`, as `fixlane merged` says.
#[derive(Debug, Deserialize)]
struct MergedBody {
    rev: String,
}

async fn merged(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id = incident(&id)?;
    let request: MergedBody = body(&bytes, false, "with the rev the fix was merged as")?;
    let rev = Rev::parse(&request.rev).map_err(|error| {
        ApiError::plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.body",
            format!("rev: {error}"),
            "send the full commit id the fix was merged as",
        )
    })?;
    let store = actor.store(&context);
    App::new(&store, context.config())
        .with_token(&actor.token)
        .open_followups(
            actor.person.as_str(),
            &id,
            &format!("merged as {}", rev.short()),
            Timestamp::now(),
        )
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(%id, by = %actor.person, token = %actor.token, "merged");
    Ok(axum::Json(detail_of(&context, &id).await?).into_response())
}

/// A follow-up's evidence, as `fixlane close` takes it.
#[derive(Debug, Default, Deserialize)]
struct CloseBody {
    link: Option<String>,
    notes: Option<String>,
}

async fn close(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path((id, kind)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id = incident(&id)?;
    let kind = FollowUpKind::parse(&kind).ok_or_else(|| {
        ApiError::plain(
            StatusCode::NOT_FOUND,
            "followup.kind",
            format!("`{kind}` is not a follow-up"),
            "close one of cleanup, postmortem, audit-review and regression",
        )
    })?;
    let request: CloseBody = body(&bytes, true, "with the link and notes of the evidence")?;
    let evidence = Evidence {
        link: request.link,
        notes: request.notes,
        run_id: None,
    };
    let store = actor.store(&context);
    let closed = App::new(&store, context.config())
        .with_token(&actor.token)
        .close_followup(&actor.person, &id, kind, evidence, Timestamp::now())
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(%id, %kind, by = %actor.person, token = %actor.token, "closed");
    let detail = views::detail(context.config(), &closed.emergency, &closed.followups)
        .map_err(|error| ApiError::from_app(&context, error))?;
    Ok(axum::Json(detail).into_response())
}

/// The backfill run of `rev` in `lane`, as `fixlane backfill` just ran and recorded it.
#[derive(Debug, Deserialize)]
struct BackfillBody {
    rev: String,
    lane: String,
}

async fn backfill(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id = incident(&id)?;
    let request: BackfillBody = body(&bytes, false, "with the rev and lane of the backfill run")?;
    let rev = Rev::parse(&request.rev).map_err(|error| {
        ApiError::plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            "request.body",
            format!("rev: {error}"),
            "send the full commit id the backfill ran on",
        )
    })?;
    let store = actor.store(&context);
    let recorded = store
        .latest_run(&rev, Some(&request.lane))
        .await
        .map_err(|error| ApiError::from_app(&context, error.into()))?
        .ok_or_else(|| {
            ApiError::plain(
                StatusCode::NOT_FOUND,
                "run.unknown",
                format!(
                    "the backfill run of {} in lane {} was not recorded",
                    rev.short(),
                    request.lane
                ),
                "run it again: fixlane backfill",
            )
        })?;
    let (closed, failing) = App::new(&store, context.config())
        .with_token(&actor.token)
        .record_backfill(&actor.person, &id, &recorded, Timestamp::now())
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(%id, run = %recorded.run_id, by = %actor.person, token = %actor.token, "backfill recorded");
    let detail = views::detail(context.config(), &closed.emergency, &closed.followups)
        .map_err(|error| ApiError::from_app(&context, error))?;
    Ok(axum::Json(serde_json::json!({
        "emergency": detail,
        "emergency_closed": closed.emergency_closed,
        "failing": failing,
        "run_id": recorded.run_id,
    }))
    .into_response())
}
