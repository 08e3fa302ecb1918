//! Who a request acts as. Every route under `/api` passes through [`require_token`]: the
//! `Authorization: Bearer` token is checked by the application layer, and its owner — never a
//! name the request carries — becomes the request's [`Actor`].

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fixlane_app::App;
use fixlane_app::tokens::Authenticated;
use fixlane_core::PersonName;
use fixlane_core::token::{TokenId, TokenRefused};
use fixlane_store::AnyStore;
use jiff::Timestamp;

use crate::context::Context;
use crate::error::ApiError;

/// The response header naming the person an authenticated request acted as: the token's owner.
pub const ACTOR_HEADER: HeaderName = HeaderName::from_static("fixlane-actor");

/// The person a request acts as, and the token that says so.
#[derive(Debug, Clone)]
pub struct Actor {
    pub person: PersonName,
    pub token: TokenId,
}

impl Actor {
    /// The application layer acting with this actor's token: each write names it.
    pub fn app<'a>(&'a self, context: &'a Context) -> App<'a, AnyStore> {
        context.app().with_token(&self.token)
    }

    /// The store for the writes the application layer takes the store for directly (a run's
    /// start, gates and verdict): every audit entry written through it names this token.
    pub fn store(&self, context: &Context) -> AnyStore {
        context.store().with_token(&self.token)
    }
}

/// The token a request presents: `None` without an `Authorization` header; a header that is
/// not `Bearer <token>` is malformed.
fn presented(request: &Request) -> Result<Option<&str>, TokenRefused> {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| TokenRefused::Malformed)?;
    let (scheme, token) = text.split_once(' ').ok_or(TokenRefused::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenRefused::Malformed);
    }
    Ok(Some(token.trim()))
}

/// Authenticates the request and hands it on with its [`Actor`], or answers 401 (no good
/// token) or 403 (its owner is no longer a person of this server's policy).
pub async fn require_token(
    State(context): State<Context>,
    mut request: Request,
    next: Next,
) -> Response {
    let authenticated = match presented(&request) {
        Err(refused) => Err(ApiError::unauthenticated(&refused)),
        Ok(token) => context
            .app()
            .authenticate(token, Timestamp::now())
            .await
            .map_err(|error| ApiError::from_app(&context, error)),
    };
    match authenticated {
        Ok(Authenticated { person, token }) => {
            // Who acted, for a client to say so in its own words (`approved by carol`).
            let acting = HeaderValue::from_str(person.as_str()).ok();
            request.extensions_mut().insert(Actor { person, token });
            let mut response = next.run(request).await;
            if let Some(acting) = acting {
                response.headers_mut().insert(ACTOR_HEADER, acting);
            }
            response
        }
        Err(error) => error.into_response(),
    }
}
