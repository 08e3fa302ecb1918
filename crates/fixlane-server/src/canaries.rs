//! `/api/v1/canaries…` and `/api/v1/verifications…`: what `fixlane canary` and `fixlane verify`
//! report when a team server is configured. The deploy commands and metric queries run where
//! the CLI runs; the record is the server's: the profile is judged here on the emergency as it
//! stands, the start recorded here (which moves nothing yet), each batch of events recorded
//! here (the first step moves the emergency to deploying, a promotion opens its follow-ups, a
//! rollback moves it to rolled back), and the end — each through the same application-layer
//! function the CLI calls against its own store, as the token's owner, each audit entry naming
//! the token.
//!
//! A reported step names its canary by id only: the emergency it moves is the one the canary
//! was started for, read from the record, never one a request names.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fixlane_app::{App, AppError, CanaryRecorder, is_verification};
use fixlane_core::canary::{CanaryEvent, CanaryOutcome};
use fixlane_core::{IncidentId, PersonName};
use fixlane_store::{AnyStore, CanaryRecord, NewCanary};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Actor;
use crate::context::Context;
use crate::emergencies::{body, incident};
use crate::error::ApiError;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/canaries/profile", get(profile))
        .route("/canaries", post(start))
        .route("/canaries/{id}/events", post(events))
        .route("/canaries/{id}/finish", post(finish))
        .route("/emergencies/{id}/verifications", post(start_verification))
        .route("/verifications/{id}/events", post(events))
        .route("/verifications/{id}/result", post(verification_result))
}

#[derive(Debug, Default, Deserialize)]
struct ProfileQuery {
    incident: Option<String>,
    profile: Option<String>,
}

/// The profile a canary of `incident` (or of a normal change, without one) runs under, the
/// `profile` asked for or the default, judged by this server's policy on its record:
/// `{"profile": …}`, or the refusal.
async fn profile(
    State(context): State<Context>,
    query: Result<Query<ProfileQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) =
        query.map_err(|error| ApiError::query(&error, "incident=ID&profile=NAME"))?;
    let id = query.incident.as_deref().map(incident).transpose()?;
    let chosen = context
        .app()
        .canary_profile(id.as_ref(), query.profile.as_deref())
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    Ok(axum::Json(json!({ "profile": chosen })).into_response())
}

/// A canary's start as the CLI records it against its own store; its profile is judged again.
async fn start(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let canary: NewCanary = body(
        &bytes,
        false,
        "with id, incident, rev, profile, started_at and plan",
    )?;
    let store = actor.store(&context);
    let started = App::new(&store, context.config())
        .with_token(&actor.token)
        .start_canary(actor.person.as_str(), canary)
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(
        canary = %started.canary_id,
        incident = started.incident.as_ref().map(ToString::to_string),
        by = %actor.person,
        token = %actor.token,
        "canary started"
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "canary": started.canary_id, "incident": started.incident })),
    )
        .into_response())
}

/// The recorder of a started canary, as the token's owner reports its steps.
async fn resumed<'a>(
    context: &'a Context,
    store: &'a AnyStore,
    person: &PersonName,
    canary_id: &str,
) -> Result<(CanaryRecorder<'a, AnyStore>, CanaryRecord), ApiError> {
    CanaryRecorder::resume(store, context.config(), person.as_str(), canary_id)
        .await
        .map_err(|error| ApiError::from_app(context, error))
}

/// A batch of a canary's (or a verification's) events, in order.
async fn events(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(canary_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let batch: Vec<CanaryEvent> = body(&bytes, false, "listing the canary's events in order")?;
    if batch.is_empty() {
        return Ok(axum::Json(json!({ "recorded": 0 })).into_response());
    }
    let store = actor.store(&context);
    let (recorder, _) = resumed(&context, &store, &actor.person, &canary_id).await?;
    recorder
        .record(&batch)
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    for event in &batch {
        if let Some(state) = event.emergency_state() {
            tracing::info!(canary = %canary_id, state = state.as_str(), by = %actor.person, "canary moved its emergency");
        }
    }
    Ok(axum::Json(json!({ "recorded": batch.len() })).into_response())
}

/// Refuses a step meant for the other kind of run.
fn kind(record: &CanaryRecord, verification: bool) -> Result<(), AppError> {
    if is_verification(record) == verification {
        return Ok(());
    }
    let why = if verification {
        "is a canary, not a verification: its end is reported to /api/v1/canaries/{id}/finish"
    } else {
        "is a verification, not a canary: its result is reported to \
         /api/v1/verifications/{id}/result"
    };
    Err(AppError::CanaryState {
        id: record.id.clone(),
        why: why.to_owned(),
    })
}

/// How a canary ended, as its driver said.
#[derive(Debug, Deserialize)]
struct FinishBody {
    outcome: CanaryOutcome,
    finished_at: Timestamp,
}

async fn finish(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(canary_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: FinishBody = body(
        &bytes,
        false,
        "with outcome (promoted, rolled_back or not_started) and finished_at",
    )?;
    let store = actor.store(&context);
    let (recorder, record) = resumed(&context, &store, &actor.person, &canary_id).await?;
    kind(&record, false).map_err(|error| ApiError::from_app(&context, error))?;
    recorder
        .finish(request.outcome.as_str(), request.finished_at)
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(canary = %canary_id, outcome = request.outcome.as_str(), by = %actor.person, "canary finished");
    Ok(axum::Json(json!({ "outcome": request.outcome })).into_response())
}

/// A verification's start as `fixlane verify` takes it.
#[derive(Debug, Deserialize)]
struct VerificationBody {
    /// The verification's id, as the CLI made it.
    id: String,
    check: String,
    hold_seconds: u64,
    timeout_seconds: u64,
}

async fn start_verification(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id: IncidentId = incident(&id)?;
    let request: VerificationBody = body(
        &bytes,
        false,
        "with id, check, hold_seconds and timeout_seconds",
    )?;
    let store = actor.store(&context);
    let started = App::new(&store, context.config())
        .with_token(&actor.token)
        .start_verification(
            &actor.person,
            &id,
            request.id,
            &request.check,
            request.hold_seconds,
            request.timeout_seconds,
        )
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(%id, verification = %started.recorder.canary_id, by = %actor.person, token = %actor.token, "verification started");
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "verification": started.recorder.canary_id,
            "state": started.emergency.state,
        })),
    )
        .into_response())
}

/// How a verification ended: whether the check held, and the note for the timeline if it did.
#[derive(Debug, Deserialize)]
struct ResultBody {
    recovered: bool,
    note: Option<String>,
    finished_at: Timestamp,
}

async fn verification_result(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(verification_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: ResultBody = body(
        &bytes,
        false,
        "with recovered, finished_at and, when it recovered, the note for the timeline",
    )?;
    let recovered = match (request.recovered, request.note) {
        (true, Some(note)) if !note.trim().is_empty() => Some(note),
        (true, _) => {
            return Err(ApiError::body(
                "a recovered verification needs its note",
                "with recovered, finished_at and the note: what held, and when it recovered",
            ));
        }
        (false, _) => None,
    };
    let store = actor.store(&context);
    let (recorder, record) = resumed(&context, &store, &actor.person, &verification_id).await?;
    kind(&record, true).map_err(|error| ApiError::from_app(&context, error))?;
    let verified = recovered.is_some();
    recorder
        .finish_verification(recovered, request.finished_at)
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(verification = %verification_id, incident = record.incident.as_ref().map(ToString::to_string), verified, by = %actor.person, "verification finished");
    Ok(axum::Json(json!({ "verified": verified })).into_response())
}
