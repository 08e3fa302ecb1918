//! Approving from the page: `POST /dashboard/emergencies/{id}/approve`, the same application-layer
//! approval the API and `fixlane approve` make, by the session's owner with the session's token
//! named on the audit entry. A refusal is shown above the overview in the words the CLI prints.
//!
//! The form carries the session's CSRF token, and a request from another origin is refused
//! before anything is read: with the `SameSite=Strict` cookie, no other site can make a
//! logged-in browser approve anything.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use fixlane_app::AppError;
use fixlane_core::IncidentId;
use fixlane_core::emergency::Refusals;
use jiff::Timestamp;

use super::login::field;
use super::overview::{Notice, page_for};
use super::{cross_origin, failure, page_failure, same_origin, to_login, viewer};
use crate::context::Context;

pub fn router() -> Router<Context> {
    Router::new().route("/dashboard/emergencies/{id}/approve", post(approve))
}

async fn approve(
    State(context): State<Context>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !same_origin(&headers) {
        return cross_origin();
    }
    let viewer = match viewer(&context, &headers).await {
        Ok(Some(viewer)) => viewer,
        Ok(None) => return to_login(),
        Err(response) => return response,
    };
    if !viewer
        .secret
        .csrf_matches(&field(&body, "csrf").unwrap_or_default())
    {
        return page_failure(
            StatusCode::FORBIDDEN,
            "This form was not one the dashboard gave this session, so nothing was approved. \
             Reload the page and try again.",
        );
    }
    let Ok(id) = IncidentId::parse(&id) else {
        return page_failure(StatusCode::NOT_FOUND, "There is no such emergency.");
    };
    let role = field(&body, "role").filter(|role| !role.trim().is_empty());
    let person = &viewer.authenticated.person;
    let outcome = context
        .app()
        .with_token(&viewer.authenticated.token)
        .approve(person, &id, role.as_deref(), Timestamp::now())
        .await;
    let refusals = match outcome {
        Ok(_) => {
            tracing::info!(%id, by = %person, token = %viewer.authenticated.token, "approved from the dashboard");
            return Redirect::to("/").into_response();
        }
        Err(AppError::Refused(refusal)) => Refusals::from(refusal),
        Err(AppError::RefusedAll(refusals)) => refusals,
        Err(error) => return failure(&context, error),
    };
    let say = context.say();
    let text = refusals.render_with(Some(context.config_name()), &say);
    let mut response = page_for(
        &context,
        &viewer,
        Some(Notice {
            refused: true,
            text,
        }),
    )
    .await;
    if response.status().is_success() {
        *response.status_mut() = StatusCode::FORBIDDEN;
    }
    response
}
