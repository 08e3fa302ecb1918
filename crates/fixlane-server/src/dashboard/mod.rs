//! The web dashboard: server-rendered HTML pages for people, over the same application-layer
//! reads as `fixlane list`, `show` and `due`, updated live as the record changes.
//!
//! | route | what it serves |
//! |---|---|
//! | `GET /login`, `POST /login` | the log-in form: a token in, a session cookie out (`login`) |
//! | `POST /logout` | ends the session (`login`) |
//! | `GET /` | the overview page (`overview`, `chart`) |
//! | `GET /dashboard/overview` | the overview's body alone, which the page fetches again on each change |
//! | `GET /dashboard/events` | server-sent events: one per change to the record (`live`) |
//! | `POST /dashboard/emergencies/{id}/approve` | an approval from the page (`approve`) |
//!
//! Reading needs a token too: a person logs in with theirs once, and the browser then holds only
//! a session cookie (`HttpOnly; SameSite=Strict; Path=/`) whose value is a random secret; the
//! store keeps its hash ([`fixlane_app::sessions`]). The token never reaches the cookie, so a
//! stolen cookie opens only the dashboard, only until the session ends, and never the API. Every
//! form that changes something carries the session's CSRF token, and a request from another
//! origin is refused before it is read. Every user string reaches the page through an askama
//! template, which escapes it.

mod approve;
mod chart;
mod live;
mod login;
mod overview;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use fixlane_app::AppError;
use fixlane_app::tokens::Authenticated;
use fixlane_core::session::SessionSecret;
use jiff::Timestamp;

use crate::context::Context;
use crate::error::ApiError;

pub use live::Live;

/// The session cookie's name.
pub const COOKIE: &str = "fixlane_session";

/// The dashboard's routes. `live` tells its pages about changes; see [`Live`].
pub fn router(live: Live) -> Router<Context> {
    Router::new()
        .merge(login::router())
        .merge(overview::router())
        .merge(approve::router())
        .merge(live::router())
        .layer(axum::Extension(live))
}

/// The person a page is shown to: who their session acts as, and the session (for its CSRF
/// token).
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub authenticated: Authenticated,
    pub secret: SessionSecret,
}

/// The session secret the request's cookie carries, if it carries one spelled as a secret.
fn cookie_secret(headers: &HeaderMap) -> Option<SessionSecret> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| SessionSecret::parse(value.trim()))
}

/// Who the request's session acts as, `None` without a live one.
pub(crate) async fn viewer(
    context: &Context,
    headers: &HeaderMap,
) -> Result<Option<Viewer>, Response> {
    let Some(secret) = cookie_secret(headers) else {
        return Ok(None);
    };
    let authenticated = context
        .app()
        .session(&secret, Timestamp::now())
        .await
        .map_err(|error| failure(context, error))?;
    Ok(authenticated.map(|authenticated| Viewer {
        authenticated,
        secret,
    }))
}

/// The answer to a page requested without a live session: the log-in page.
pub(crate) fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

/// The answer to a fragment or event stream requested without a live session: the page's
/// script sends its reader to the log-in page.
pub(crate) fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CACHE_CONTROL, "no-store")],
        "log in at /login first",
    )
        .into_response()
}

/// Whether a request that changes something came from a page of this server: a browser names
/// the page's origin (`Origin`, and `Sec-Fetch-Site`), which must be this host. A request with
/// neither header is not from a modern browser's cross-site form, and still needs its CSRF token.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    if text(header::HeaderName::from_static("sec-fetch-site"))
        .is_some_and(|site| site != "same-origin" && site != "none")
    {
        return false;
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|rest| rest == host),
        (Some(_), None) => false,
    }
}

/// A refused cross-origin request.
pub(crate) fn cross_origin() -> Response {
    page_failure(
        StatusCode::FORBIDDEN,
        "This request came from another site, so it was refused: the dashboard's forms work only \
         from its own pages.",
    )
}

/// What a dashboard page may load: nothing from elsewhere, no frame around it, forms posting
/// only here. Its one script and its style are inline (no build step, no second request); the
/// templates escape every user string, so no markup of anyone else's reaches the page.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// A page rendered, or a logged failure.
pub(crate) fn html<T: askama::Template>(template: &T) -> Response {
    match template.render() {
        Ok(text) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "same-origin"),
            ],
            Html(text),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "a dashboard template did not render");
            page_failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not render this page; its log says why.",
            )
        }
    }
}

#[derive(askama::Template)]
#[template(path = "dashboard/failure.html")]
struct FailurePage<'a> {
    message: &'a str,
}

/// A plain page saying what failed.
pub(crate) fn page_failure(status: StatusCode, message: &str) -> Response {
    let text = askama::Template::render(&FailurePage { message })
        .unwrap_or_else(|_| "The server failed to answer.".to_owned());
    (status, [(header::CACHE_CONTROL, "no-store")], Html(text)).into_response()
}

/// An application error as a page: logged (and numbered) as the API logs it, with its status,
/// and the API's own words where they are for people.
pub(crate) fn failure(context: &Context, error: AppError) -> Response {
    let status = ApiError::from_app(context, error).status();
    let message = if status.is_server_error() {
        "The server could not read the record right now; its log has the details. Try again \
         in a moment."
    } else {
        "The server refused this request."
    };
    page_failure(status, message)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_must_be_a_secret() {
        let secret = "ab".repeat(32);
        let found = cookie_secret(&headers(&[(
            "cookie",
            &format!("theme=dark; {COOKIE}={secret}; other=1"),
        )]));
        assert_eq!(found.map(|found| found.expose().to_owned()), Some(secret));
        assert!(cookie_secret(&headers(&[("cookie", "fixlane_session=fixlane_tok_x")])).is_none());
        assert!(cookie_secret(&HeaderMap::new()).is_none());
    }

    #[test]
    fn only_requests_from_this_host_may_change_anything() {
        let host = ("host", "127.0.0.1:8080");
        assert!(same_origin(&headers(&[host])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
    }
}
