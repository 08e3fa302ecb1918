//! `/api/v1/audit`: the tamper-evident log checked (`fixlane audit verify`) and exported as JSON
//! Lines (`fixlane audit export`), read from the one chain every replica appends to.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fixlane_store::Store as _;
use serde::Serialize;

use crate::context::Context;
use crate::error::ApiError;

/// The media type of the export: one JSON object per line.
pub const JSON_LINES: &str = "application/jsonl";

pub fn router() -> Router<Context> {
    Router::new()
        .route("/audit/verify", get(verify))
        .route("/audit/export", get(export))
}

/// The chain head: the last entry's number and hash.
#[derive(Debug, Serialize)]
struct Head {
    seq: i64,
    hash: String,
}

/// What `audit verify` found: intact with its entries and head, or where it breaks.
#[derive(Debug, Serialize)]
struct Verified {
    intact: bool,
    entries: usize,
    head: Option<Head>,
    /// The first break, in the words `fixlane audit verify` prints.
    broken: Option<String>,
}

async fn verify(State(context): State<Context>) -> Result<Response, ApiError> {
    let store = context.store();
    let failed = |error: fixlane_store::StoreError| ApiError::from_app(&context, error.into());
    let verified = match store.verify_audit().await.map_err(failed)? {
        Ok(entries) => Verified {
            intact: true,
            entries,
            head: store
                .audit_head()
                .await
                .map_err(failed)?
                .map(|(seq, hash)| Head { seq, hash }),
            broken: None,
        },
        Err(broken) => Verified {
            intact: false,
            entries: 0,
            head: None,
            broken: Some(broken.to_string()),
        },
    };
    Ok(axum::Json(verified).into_response())
}

async fn export(State(context): State<Context>) -> Result<Response, ApiError> {
    let entries = context
        .store()
        .audit_entries()
        .await
        .map_err(|error| ApiError::from_app(&context, error.into()))?;
    let mut text = String::new();
    for entry in &entries {
        let line = serde_json::to_string(entry).map_err(|error| {
            ApiError::internal(axum::http::StatusCode::INTERNAL_SERVER_ERROR, &error)
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, JSON_LINES)], text).into_response())
}
