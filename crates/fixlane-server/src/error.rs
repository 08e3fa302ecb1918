//! How the server says no: one error type, [`ApiError`], answered as JSON with the same `rule`,
//! `where` and `instead` a CLI refusal prints, plus the whole `message` as the CLI would print
//! it. Internal failures (a database error, a record that no longer reads) are logged with a
//! reference and answered without their details.
//!
//! [`ServerError`] is the other kind: why the server could not start or keep serving.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fixlane_app::AppError;
use fixlane_core::emergency::{Refusal, Refusals};
use fixlane_core::token::TokenRefused;
use fixlane_store::StoreError;
use serde::Serialize;

use crate::context::Context;

/// Why the server could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not listen on {address}: {cause}; pick another address with --listen")]
    Bind {
        address: std::net::SocketAddr,
        cause: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// One refusal as JSON.
#[derive(Debug, Clone, Serialize)]
struct RefusalBody {
    rule: String,
    /// `fixlane.toml:LINE:COLUMN`, as the CLI prints it, when the rule's line is known.
    #[serde(rename = "where")]
    location: Option<String>,
    /// What to do instead, in the words the CLI prints.
    instead: String,
    refused: String,
    why: String,
    /// What to do instead as data (`{ "action": "approve", … }`), for a client to phrase.
    next: serde_json::Value,
}

/// The JSON of every error answer.
#[derive(Debug, Clone, Serialize)]
struct ErrorBody {
    rule: String,
    #[serde(rename = "where")]
    location: Option<String>,
    instead: String,
    /// The whole answer as the CLI would print it.
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<serde_json::Value>,
    /// Every refusal, when a request was refused by several rules at once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    refusals: Vec<RefusalBody>,
}

/// An error answer: its status and JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    /// Boxed: every handler's `Result` carries it, and it is large.
    body: Box<ErrorBody>,
}

/// Numbers the failures logged, so a client's answer points at its log line.
static REFERENCES: AtomicU64 = AtomicU64::new(1);

impl ApiError {
    /// An answer that is not a policy refusal.
    pub(crate) fn plain(
        status: StatusCode,
        rule: &str,
        message: impl Into<String>,
        instead: impl Into<String>,
    ) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody {
                rule: rule.to_owned(),
                location: None,
                instead: instead.into(),
                message: message.into(),
                refused: None,
                why: None,
                next: None,
                refusals: Vec::new(),
            }),
        }
    }

    /// A request body that is not the JSON the route takes.
    pub(crate) fn body(why: impl std::fmt::Display, expected: &str) -> Self {
        Self::plain(
            StatusCode::BAD_REQUEST,
            "request.body",
            format!("the request body is not what this route takes: {why}"),
            format!("send a JSON object {expected}"),
        )
    }

    /// A query string that is not what the route takes.
    pub(crate) fn query(why: &dyn std::fmt::Display, expected: &str) -> Self {
        Self::plain(
            StatusCode::BAD_REQUEST,
            "request.query",
            format!("the query string is not what this route takes: {why}"),
            format!("send {expected}, or no query string"),
        )
    }

    /// A failure inside the server: logged in full with a reference, answered without details
    /// (a database error can name hosts, tables and values).
    pub(crate) fn internal(status: StatusCode, error: &dyn std::fmt::Display) -> Self {
        let reference = REFERENCES.fetch_add(1, Ordering::Relaxed);
        tracing::error!(reference, %error, "request failed");
        let message = if status == StatusCode::SERVICE_UNAVAILABLE {
            format!(
                "the server cannot reach its store right now (reference {reference} in its \
                 log); nothing was recorded"
            )
        } else {
            format!("the server failed to answer this request (reference {reference} in its log)")
        };
        Self::plain(
            status,
            "server.internal",
            message,
            "try again; if it keeps failing, give the reference to whoever runs the server",
        )
    }

    /// A token that is missing or not good.
    pub(crate) fn unauthenticated(refused: &TokenRefused) -> Self {
        let instead = match refused {
            TokenRefused::Missing | TokenRefused::Malformed => {
                "send `Authorization: Bearer fixlane_tok_…` with your own token; an operator \
                 issues one with `fixlane token issue NAME`"
            }
            TokenRefused::Unknown => {
                "check that the whole token was copied; an operator lists tokens with `fixlane \
                 token list` and issues a new one with `fixlane token issue NAME`"
            }
            TokenRefused::Revoked { .. } | TokenRefused::Expired { .. } => {
                "ask an operator for a new token: `fixlane token issue NAME`"
            }
        };
        Self::plain(
            StatusCode::UNAUTHORIZED,
            "auth.token",
            format!("{refused}; every route but /healthz, /readyz and /metrics needs a token"),
            instead,
        )
    }

    /// A policy refusal, worded as the CLI words it.
    fn refusal(context: &Context, refusal: &Refusal) -> RefusalBody {
        RefusalBody {
            rule: refusal.rule.to_owned(),
            location: refusal
                .config_line
                .map(|line| format!("{}:{}:{}", context.config_name(), line.line, line.column)),
            instead: (context.say())(&refusal.instead),
            refused: refusal.refused.clone(),
            why: refusal.why.clone(),
            next: serde_json::to_value(&*refusal.instead).unwrap_or(serde_json::Value::Null),
        }
    }

    fn refused(context: &Context, refusals: &Refusals) -> Self {
        let each: Vec<RefusalBody> = refusals
            .iter()
            .map(|refusal| Self::refusal(context, refusal))
            .collect();
        let Some(first) = each.first().cloned() else {
            return Self::internal(StatusCode::INTERNAL_SERVER_ERROR, &"an empty refusal");
        };
        Self {
            status: StatusCode::FORBIDDEN,
            body: Box::new(ErrorBody {
                rule: first.rule,
                location: first.location,
                instead: first.instead,
                message: refusals.render_with(Some(context.config_name()), &context.say()),
                refused: Some(first.refused),
                why: Some(first.why),
                next: Some(first.next),
                // The first is the answer's own fields; the list is for several at once.
                refusals: if each.len() > 1 { each } else { Vec::new() },
            }),
        }
    }

    /// An application error as its answer: a refusal by the policy is 403 with its rule; a
    /// token that is not good 401; a missing record 404; a taken id 409; input the rules
    /// cannot take 422; the store unreachable 503; anything else 500, logged.
    pub fn from_app(context: &Context, error: AppError) -> Self {
        match error {
            AppError::Refused(refusal) => Self::refused(context, &Refusals::from(refusal)),
            AppError::RefusedAll(refusals) => Self::refused(context, &refusals),
            AppError::Unauthenticated(refused) => Self::unauthenticated(&refused),
            AppError::NoSuchEmergency(id) => Self::plain(
                StatusCode::NOT_FOUND,
                "emergency.unknown",
                format!("there is no emergency {id}"),
                "GET /api/v1/emergencies lists the active ones; POST /api/v1/emergencies \
                 declares a new one",
            ),
            AppError::NothingToRevoke { target } => Self::plain(
                StatusCode::NOT_FOUND,
                "token.unknown",
                format!("no live token matches `{target}`"),
                "list the tokens with `fixlane token list`",
            ),
            AppError::EmptyNotes => Self::plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rate_review.notes",
                AppError::EmptyNotes.to_string(),
                "send the notes: what the team concluded about the emergency rate",
            ),
            error @ AppError::CanaryState { .. } => Self::plain(
                StatusCode::CONFLICT,
                "canary.state",
                error.to_string(),
                "start a new canary (POST /api/v1/canaries) or verification (POST \
                 /api/v1/emergencies/{id}/verifications) and report its steps under its own id",
            ),
            error @ AppError::Lifetime(_) => Self::plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.body",
                error.to_string(),
                "correct the request and send it again",
            ),
            AppError::Store(error) => Self::from_store(error),
            error @ (AppError::UnreadableRecord { .. }
            | AppError::Encode { .. }
            | AppError::Random(_)) => Self::internal(StatusCode::INTERNAL_SERVER_ERROR, &error),
        }
    }

    /// A store error as its answer. Only the store's refusals of what was asked are told; its
    /// failures are logged.
    fn from_store(error: StoreError) -> Self {
        match error {
            StoreError::EmergencyExists { id } => Self::plain(
                StatusCode::CONFLICT,
                "emergency.exists",
                format!("emergency {id} is already declared, so nothing was written"),
                format!(
                    "declare the new emergency under another id, or look at the existing one: \
                     GET /api/v1/emergencies/{id}"
                ),
            ),
            StoreError::UnknownRun { run_id } => Self::plain(
                StatusCode::NOT_FOUND,
                "run.unknown",
                format!("there is no run {run_id}"),
                "start the run first: POST /api/v1/runs",
            ),
            StoreError::UnknownCanary { id } => Self::plain(
                StatusCode::NOT_FOUND,
                "canary.unknown",
                format!("there is no canary or verification {id}"),
                "start it first: POST /api/v1/canaries, or POST \
                 /api/v1/emergencies/{id}/verifications for a verification",
            ),
            StoreError::CanaryExists { id } => Self::plain(
                StatusCode::CONFLICT,
                "canary.exists",
                format!("canary {id} is started already, so nothing was written"),
                "start the canary under a new id",
            ),
            StoreError::Invalid { .. } => Self::plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                "request.body",
                error.to_string(),
                "correct the request and send it again",
            ),
            error @ (StoreError::Query { .. }
            | StoreError::ConnectPostgres { .. }
            | StoreError::OpenSqlite { .. }) => {
                Self::internal(StatusCode::SERVICE_UNAVAILABLE, &error)
            }
            error => Self::internal(StatusCode::INTERNAL_SERVER_ERROR, &error),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"fixlane\""),
            );
        }
        response
    }
}
