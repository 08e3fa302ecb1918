//! Dashboard sessions: a person logs in to the team server's pages with their token and gets a
//! session instead, which the browser keeps in a cookie; every page then acts as the token's
//! owner, exactly as a request with the token would. The session's rules are in
//! [`fixlane_core::session`]; this module draws its random bytes and writes through the store's
//! audited path.

use fixlane_core::session::{self, HeldSession, SessionSecret};
use fixlane_store::{NewSession, Store};
use jiff::Timestamp;

use crate::tokens::{Authenticated, random};
use crate::{App, AppError};

/// A session just opened: who it acts as, its secret (for the cookie only) and its end.
#[derive(Debug, Clone)]
pub struct Opened {
    pub authenticated: Authenticated,
    pub secret: SessionSecret,
    pub expires_at: Timestamp,
}

impl<S: Store + Sync> App<'_, S> {
    /// Opens a session with the token `presented`, if it is good at `at` and its owner is a
    /// person of this policy (the same check as every request with a token), audited as
    /// `session-started` by its owner.
    pub async fn log_in(&self, presented: &str, at: Timestamp) -> Result<Opened, AppError> {
        let authenticated = self.authenticate(Some(presented), at).await?;
        // Logins are rare and tokens few: the expiry is read from the list `token list` reads.
        let token_expires_at = self
            .store
            .tokens()
            .await?
            .into_iter()
            .find(|token| token.id == authenticated.token)
            .and_then(|token| token.expires_at);
        let secret = SessionSecret::from_bytes(random::<{ session::SECRET_BYTES }>()?);
        let expires_at = session::expires_at(at, token_expires_at);
        self.store
            .start_session(
                authenticated.person.as_str(),
                &NewSession {
                    sha256: secret.sha256(),
                    token: authenticated.token.clone(),
                    person: authenticated.person.clone(),
                    started_at: at,
                    expires_at,
                },
            )
            .await?;
        Ok(Opened {
            authenticated,
            secret,
            expires_at,
        })
    }

    /// Who the session with `secret` acts as at `at`: `None` when there is no such session, or
    /// it was logged out, has expired, its token was revoked or has expired, or its owner is no
    /// longer a person of this policy. Writes nothing.
    pub async fn session(
        &self,
        secret: &SessionSecret,
        at: Timestamp,
    ) -> Result<Option<Authenticated>, AppError> {
        let Some(record) = self.store.session(&secret.sha256()).await? else {
            return Ok(None);
        };
        let held = HeldSession {
            expires_at: record.expires_at,
            ended_at: record.ended_at,
            token_expires_at: record.token_expires_at,
            token_revoked_at: record.token_revoked_at,
        };
        if !session::is_live(held, at) || !self.config.people.contains_key(&record.person) {
            return Ok(None);
        }
        Ok(Some(Authenticated {
            person: record.person,
            token: record.token,
        }))
    }

    /// Ends the session with `secret`, audited as `session-ended` by `actor`. Whether there was
    /// an open session to end.
    pub async fn log_out(
        &self,
        actor: &str,
        secret: &SessionSecret,
        at: Timestamp,
    ) -> Result<bool, AppError> {
        Ok(self
            .store
            .end_session(actor, &secret.sha256(), at)
            .await?
            .is_some())
    }
}
