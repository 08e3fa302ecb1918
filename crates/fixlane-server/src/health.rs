//! `/healthz` and `/readyz`, for load balancers and orchestrators; neither needs a token, and
//! neither reveals a record.
//!
//! `/healthz` says the process answers (always 200); `/readyz` says this replica can serve:
//! its database answers and holds exactly the schema this fixlane knows, so a replica left on
//! an older binary after an upgrade drops out of rotation instead of failing requests.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::context::Context;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

async fn readyz(State(context): State<Context>) -> Response {
    match fixlane_store::check_ready(context.store(), context.location()).await {
        Ok(()) => axum::Json(json!({ "status": "ready", "store": context.store().kind() }))
            .into_response(),
        Err(error) => {
            // The reason goes to the log; the probe learns only that this replica is not ready.
            tracing::warn!(%error, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({
                    "status": "not ready",
                    "message": "the store is unreachable or its schema is not the one this \
                                server knows; the server's log says which",
                })),
            )
                .into_response()
        }
    }
}
