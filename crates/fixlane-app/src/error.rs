//! The one error type of the application layer. Each caller words it for its audience: the CLI
//! as an exit code and a few lines, the server as JSON with the same rule / where / instead.

use fixlane_core::IncidentId;
use fixlane_core::emergency::{Refusal, Refusals};
use fixlane_core::token::{LifetimeError, TokenRefused};
use fixlane_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A rule said no, and says what to do instead.
    #[error("{0}")]
    Refused(Refusal),
    /// Several rules said no to one request.
    #[error("{0}")]
    RefusedAll(Refusals),
    /// The request names an emergency the store does not have.
    #[error("there is no emergency {0}")]
    NoSuchEmergency(IncidentId),
    /// A rate review without notes says nothing.
    #[error("a rate review needs notes saying what the team concluded about the emergency rate")]
    EmptyNotes,
    /// A stored emergency record that no longer reads as one.
    #[error("the stored record of {id} cannot be read ({why})")]
    UnreadableRecord { id: String, why: String },
    /// A record or an audit detail that could not be encoded.
    #[error("could not encode {what}: {source}")]
    Encode {
        what: &'static str,
        source: serde_json::Error,
    },
    /// A request's token is missing, malformed, unknown, revoked or expired.
    #[error("{0}")]
    Unauthenticated(TokenRefused),
    /// A token lifetime past what a timestamp can hold.
    #[error(transparent)]
    Lifetime(LifetimeError),
    /// `token revoke` named no live token: not a token id or person with one, or revoked already.
    #[error(
        "no live token matches `{target}`: it is neither the id of a token still live nor a person holding one"
    )]
    NothingToRevoke { target: String },
    /// A reported canary step its canary cannot take: it finished already, or it is not the
    /// kind of run (canary or verification) the step is for.
    #[error("canary {id} {why}")]
    CanaryState { id: String, why: String },
    /// The operating system's random generator failed, so no token could be made.
    #[error("could not draw random bytes for a token: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        AppError::Refused(refusal)
    }
}

impl From<Refusals> for AppError {
    fn from(refusals: Refusals) -> Self {
        AppError::RefusedAll(refusals)
    }
}
