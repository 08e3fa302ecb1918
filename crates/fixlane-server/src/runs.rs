//! `/api/v1/runs…`: what `fixlane run`, `ci` and `backfill` report when a team server is
//! configured. The gates run where the CLI runs (a CI runner); the record is the server's: the
//! emergency a run belongs to is looked up here, the run's start, gates and verdict are written
//! here, and a ready emergency-lane run makes the fix ready here — each through the same
//! application-layer function the CLI calls against its own store, as the token's owner, each
//! audit entry naming the token.
//!
//! A run says which policy it read (the SHA-256 of its people, roles, categories and emergency
//! settings, [`fixlane_core::config::policy_sha256`]); one that is not this server's is
//! flagged on the run and in the audit log (`policy-mismatch`), and the answer says so. The
//! server's policy, not the run's, decides every record it writes.

use std::collections::HashSet;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fixlane_app::App;
use fixlane_app::runs::{self, ConfigRead, PolicyCheck};
use fixlane_core::audit::DeployWindowBypassed;
use fixlane_core::policy_change::Weakening;
use fixlane_core::{IncidentId, Verdict};
use fixlane_store::{GateRecord, NewRun};
use jiff::Timestamp;
use serde::Deserialize;

use crate::auth::Actor;
use crate::context::Context;
use crate::emergencies::body;
use crate::error::ApiError;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/runs", post(start))
        .route("/runs/emergency", get(emergency_for_run))
        .route("/runs/{id}/gates", post(gates))
        .route("/runs/{id}/verdict", post(verdict))
        .route("/runs/{id}/fix-ready", post(fix_ready))
        .route("/runs/{id}/merged", post(merged))
        .route("/deploy-window-bypasses", post(deploy_window_bypassed))
}

#[derive(Debug, Default, Deserialize)]
struct ForRunQuery {
    incident: Option<String>,
    branch: Option<String>,
}

/// The emergency a run belongs to (`incident` when named, else its branch), judged on this
/// server's record: `{"emergency": …}`, or `{"missing": …}` saying why there is none.
async fn emergency_for_run(
    State(context): State<Context>,
    query: Result<Query<ForRunQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::query(&error, "incident=ID&branch=NAME"))?;
    let incident = query
        .incident
        .as_deref()
        .map(IncidentId::parse)
        .transpose()
        .map_err(|error| {
            ApiError::plain(
                StatusCode::BAD_REQUEST,
                "request.query",
                format!("incident: {error}"),
                "name an incident id, or leave it out to look the branch up",
            )
        })?;
    let found = context
        .app()
        .emergency_for_run(incident.as_ref(), query.branch.as_deref())
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    let answer = match found {
        Ok(emergency) => serde_json::json!({ "emergency": emergency }),
        Err(missing) => serde_json::json!({ "missing": missing }),
    };
    Ok(axum::Json(answer).into_response())
}

/// The config file a run read.
#[derive(Debug, Deserialize)]
struct ConfigFile {
    file: String,
    sha256: String,
}

/// A run's start as the CLI records it against its own store.
#[derive(Debug, Deserialize)]
struct StartBody {
    run: NewRun,
    config: ConfigFile,
    /// The SHA-256 of the policy the run read.
    policy_sha256: String,
    #[serde(default)]
    weakenings: Vec<Weakening>,
}

async fn start(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: StartBody = body(
        &bytes,
        false,
        "with the run, the config it read and the SHA-256 of its policy",
    )?;
    let policy = PolicyCheck {
        run_sha256: request.policy_sha256,
        server_sha256: fixlane_core::config::policy_sha256(context.config()),
    };
    let config = ConfigRead {
        file: request.config.file,
        sha256: request.config.sha256,
    };
    runs::start_reported_run(
        &actor.store(&context),
        actor.person.as_str(),
        &config,
        &request.run,
        &request.weakenings,
        &policy,
    )
    .await
    .map_err(|error| ApiError::from_app(&context, error))?;
    if policy.matches() {
        tracing::info!(run = %request.run.run_id, by = %actor.person, token = %actor.token, "run started");
    } else {
        tracing::warn!(
            run = %request.run.run_id,
            by = %actor.person,
            token = %actor.token,
            run_policy = %policy.run_sha256,
            server_policy = %policy.server_sha256,
            "run started with a policy other than this server's: flagged"
        );
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(serde_json::json!({
            "run_id": request.run.run_id,
            "policy": {
                "matches": policy.matches(),
                "run_sha256": policy.run_sha256,
                "server_sha256": policy.server_sha256,
            },
        })),
    )
        .into_response())
}

async fn gates(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(run_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let gates: Vec<GateRecord> = body(&bytes, false, "listing the gate results")?;
    runs::record_gates(
        &actor.store(&context),
        actor.person.as_str(),
        &run_id,
        &gates,
    )
    .await
    .map_err(|error| ApiError::from_app(&context, error))?;
    Ok(axum::Json(serde_json::json!({ "recorded": gates.len() })).into_response())
}

/// A run's end, as its last event says it.
#[derive(Debug, Deserialize)]
struct VerdictBody {
    verdict: Verdict,
    #[serde(default)]
    reasons: Vec<String>,
    finished_at: Timestamp,
}

async fn verdict(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(run_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: VerdictBody = body(&bytes, false, "with the verdict, reasons and finished_at")?;
    runs::finish_run(
        &actor.store(&context),
        actor.person.as_str(),
        &run_id,
        request.verdict,
        &request.reasons,
        request.finished_at,
    )
    .await
    .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(run = %run_id, verdict = request.verdict.as_str(), by = %actor.person, "run finished");
    Ok(axum::Json(serde_json::json!({ "verdict": request.verdict })).into_response())
}

/// When the run first was safe to merge.
#[derive(Debug, Deserialize)]
struct ReadyBody {
    ready_at: Timestamp,
}

/// The fix of a recorded ready emergency-lane run is ready: judged on the run as recorded here.
async fn fix_ready(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(run_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: ReadyBody = body(&bytes, false, "with ready_at")?;
    let incident = runs::mark_recorded_run_ready(
        &actor.store(&context),
        actor.person.as_str(),
        &run_id,
        request.ready_at,
    )
    .await
    .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(%incident, run = %run_id, by = %actor.person, "fix ready");
    Ok(axum::Json(serde_json::json!({ "incident": incident })).into_response())
}

/// The emergencies whose fix the run's commit contains (the CLI reads its own git history).
#[derive(Debug, Deserialize)]
struct MergedBody {
    merged: Vec<IncidentId>,
}

/// After a run on the default branch: the shipped emergencies among `merged` get their
/// follow-ups opened, as the CLI's run does against its own store.
async fn merged(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    Path(run_id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: MergedBody = body(&bytes, false, "listing the incidents merged")?;
    let merged: HashSet<IncidentId> = request.merged.into_iter().collect();
    let store = actor.store(&context);
    let opened = App::new(&store, context.config())
        .with_token(&actor.token)
        .open_merged(
            actor.person.as_str(),
            |id| merged.contains(id),
            Timestamp::now(),
        )
        .await
        .map_err(|error| ApiError::from_app(&context, error))?;
    tracing::info!(run = %run_id, opened = opened.len(), by = %actor.person, "merged checked");
    Ok(axum::Json(serde_json::json!({ "opened": opened })).into_response())
}

async fn deploy_window_bypassed(
    State(context): State<Context>,
    Extension(actor): Extension<Actor>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let request: DeployWindowBypassed = body(
        &bytes,
        false,
        "with incident, rev, lane, at, bypassed and why",
    )?;
    let entry =
        runs::deploy_window_bypassed(&actor.store(&context), actor.person.as_str(), request)
            .await
            .map_err(|error| ApiError::from_app(&context, error))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(serde_json::json!({ "seq": entry.seq })),
    )
        .into_response())
}
