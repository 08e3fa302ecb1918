//! fixlane's application layer: every operation that changes state — declare, approve, bypass,
//! review the rate, record a run and its gates, mark a fix ready, record a canary, verify,
//! confirm a merge while a gate runs — as a function taking typed input and the acting person,
//! and returning a typed outcome.
//!
//! The CLI parses its arguments, calls these functions and renders what they return; the team
//! server calls the same functions with a token's owner as the actor. Nothing here knows about
//! terminals, command-line flags or HTTP: rules come from `fixlane-core`, writes go through the
//! store's transaction-plus-audit path, and errors are typed ([`AppError`]) so each caller words
//! them for its own audience.

mod canaries;
pub mod drills;
mod emergencies;
mod error;
pub mod followups;
pub mod recorder;
pub mod records;
pub mod runs;
pub mod sessions;
pub mod stats;
pub mod tokens;
pub mod views;

use fixlane_core::Config;
use fixlane_core::audit::{AuditAction, WithToken};
use fixlane_core::token::TokenId;

pub use canaries::{
    CanaryRecorder, CanaryWriter, VERIFY_PROFILE, VerificationStart, consume, is_verification,
};
pub use emergencies::{ApproveOutcome, BypassInput, DeclareInput};
pub use error::AppError;
pub use records::{from_row, to_row};

/// What every policy-judged operation needs: the store it writes to and the policy it enforces,
/// and the token the request came with, if it came through the team server.
/// Cheap to build per request; holds nothing another process could change.
#[derive(Debug, Clone, Copy)]
pub struct App<'a, S> {
    pub store: &'a S,
    pub config: &'a Config,
    /// The token the acting person presented; every write then names it in its audit entry.
    pub token: Option<&'a TokenId>,
}

impl<'a, S> App<'a, S> {
    pub fn new(store: &'a S, config: &'a Config) -> Self {
        Self {
            store,
            config,
            token: None,
        }
    }

    /// The same operations, taken with `token`: each write's audit entry names it.
    #[must_use]
    pub fn with_token(self, token: &'a TokenId) -> Self {
        Self {
            token: Some(token),
            ..self
        }
    }

    /// `action` as the audit log records it: naming the token when one was presented.
    pub(crate) fn audited(&self, action: AuditAction) -> AuditAction {
        match self.token {
            Some(token) => WithToken::of(token, action),
            None => action,
        }
    }
}
