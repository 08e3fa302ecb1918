//! Logging in and out of the dashboard. `POST /login` takes a token from the form, checks it as
//! every API request's token is checked, and answers with a session cookie; the token itself is
//! never stored in the browser. `POST /logout` ends the session on the record and clears the
//! cookie.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fixlane_app::AppError;
use jiff::Timestamp;

use super::{COOKIE, cross_origin, html, same_origin, viewer};
use crate::context::Context;

pub fn router() -> Router<Context> {
    Router::new()
        .route("/login", get(form).post(log_in))
        .route("/logout", post(log_out))
}

#[derive(askama::Template)]
#[template(path = "dashboard/login.html")]
struct LoginPage<'a> {
    project: &'a str,
    /// Why the last attempt was refused, as a sentence.
    refused: Option<String>,
}

fn project(context: &Context) -> &str {
    &context.config().project.name
}

async fn form(State(context): State<Context>, headers: HeaderMap) -> Response {
    // Someone already logged in goes straight to the overview.
    if let Ok(Some(_)) = viewer(&context, &headers).await {
        return Redirect::to("/").into_response();
    }
    html(&LoginPage {
        project: project(&context),
        refused: None,
    })
}

/// The value of `name` in a form body (`application/x-www-form-urlencoded`).
pub(crate) fn field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The cookie that holds a session: unreadable by scripts, sent only to this site's own pages.
fn session_cookie(value: &str, max_age: Option<i64>) -> Option<HeaderValue> {
    let age = max_age
        .map(|seconds| format!("; Max-Age={seconds}"))
        .unwrap_or_default();
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/{age}"
    ))
    .ok()
}

async fn log_in(State(context): State<Context>, headers: HeaderMap, body: Bytes) -> Response {
    if !same_origin(&headers) {
        return cross_origin();
    }
    let token = field(&body, "token").unwrap_or_default();
    let now = Timestamp::now();
    let refused = match context.app().log_in(token.trim(), now).await {
        Ok(opened) => {
            tracing::info!(
                by = %opened.authenticated.person,
                token = %opened.authenticated.token,
                session = %opened.secret.id(),
                "logged in to the dashboard"
            );
            let max_age = opened.expires_at.as_second() - now.as_second();
            let Some(cookie) = session_cookie(opened.secret.expose(), Some(max_age)) else {
                return super::page_failure(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The server could not set the session cookie.",
                );
            };
            // See Other (303): the browser fetches the overview with GET.
            let mut response = Redirect::to("/").into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            return response;
        }
        Err(AppError::Unauthenticated(refused)) => {
            format!("{}.", capitalized(&refused.to_string()))
        }
        Err(AppError::Refused(refusal)) => format!("{}.", capitalized(&refusal.why)),
        Err(error) => return super::failure(&context, error),
    };
    let mut response = html(&LoginPage {
        project: project(&context),
        refused: Some(refused),
    });
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

async fn log_out(State(context): State<Context>, headers: HeaderMap, body: Bytes) -> Response {
    if !same_origin(&headers) {
        return cross_origin();
    }
    let viewer = match viewer(&context, &headers).await {
        Ok(Some(viewer)) => viewer,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(response) => return response,
    };
    let csrf = field(&body, "csrf").unwrap_or_default();
    if !viewer.secret.csrf_matches(&csrf) {
        return super::page_failure(
            StatusCode::FORBIDDEN,
            "This form was not one the dashboard gave this session, so nothing was done. Reload \
             the page and try again.",
        );
    }
    let person = viewer.authenticated.person.to_string();
    if let Err(error) = context
        .app()
        .log_out(&person, &viewer.secret, Timestamp::now())
        .await
    {
        return super::failure(&context, error);
    }
    tracing::info!(by = %person, session = %viewer.secret.id(), "logged out of the dashboard");
    let mut response = Redirect::to("/login").into_response();
    if let Some(cookie) = session_cookie("", Some(0)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}
