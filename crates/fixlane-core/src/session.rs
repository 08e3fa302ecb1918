//! Dashboard sessions: what a person gets for logging in to the team server's web pages with
//! their token, so the browser never holds the token itself.
//!
//! A session's secret is 32 random bytes as 64 hex digits, kept only in an `HttpOnly` cookie;
//! the store keeps its SHA-256 (a copy of the database opens no session) and a short public id
//! (the first 12 digits of that hash) that the audit log names. Each form a session may post
//! carries a CSRF token derived from the secret, so only a page the server rendered for this
//! session can post it. A session lives [`LIFETIME_SECONDS`] at most, never past its token's
//! expiry, and ends with the token: a revoked token closes every session opened with it.
//!
//! Randomness is I/O, so the caller draws the bytes; everything here is pure.

use std::fmt;

use jiff::Timestamp;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How many random bytes make a session's secret.
pub const SECRET_BYTES: usize = 32;

/// The longest a session lives: a working day and a half, so a page left open through an
/// incident's night still works, and a forgotten browser does not stay logged in for a week.
pub const LIFETIME_SECONDS: i64 = 12 * 3600;

/// A session's secret, as the cookie carries it. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionSecret(String);

impl fmt::Debug for SessionSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SessionSecret(…)")
    }
}

impl SessionSecret {
    /// The secret made of the random bytes the caller drew.
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(hex::encode(bytes))
    }

    /// A cookie's value, if it is spelled as a session secret (64 lowercase hex digits).
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = text.len() == SECRET_BYTES * 2
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        well_formed.then(|| Self(text.to_owned()))
    }

    /// The text, for the cookie only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps and looks the session up by: the SHA-256 of the secret, as hex.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The session's public id, as the audit log names it.
    pub fn id(&self) -> String {
        public_id(&self.sha256())
    }

    /// The CSRF token of this session's forms: derived from the secret, so it needs no storage
    /// and cannot be computed without the cookie.
    pub fn csrf(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"fixlane-dashboard-csrf:");
        hasher.update(self.0.as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Whether a form's CSRF field is this session's, compared in constant time.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        let expected = self.csrf();
        expected.len() == presented.len()
            && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// The public id of the session whose stored hash is `sha256`: its first 12 hex digits.
pub fn public_id(sha256: &str) -> String {
    sha256.chars().take(12).collect()
}

/// When a session opened at `at` with a token expiring at `token_expires_at` ends at the latest.
pub fn expires_at(at: Timestamp, token_expires_at: Option<Timestamp>) -> Timestamp {
    let longest = at
        .checked_add(jiff::SignedDuration::from_secs(LIFETIME_SECONDS))
        .unwrap_or(Timestamp::MAX);
    token_expires_at.map_or(longest, |token| token.min(longest))
}

/// What the store holds of one session and of the token it was opened with, for [`is_live`].
#[derive(Debug, Clone, Copy)]
pub struct HeldSession {
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub token_expires_at: Option<Timestamp>,
    pub token_revoked_at: Option<Timestamp>,
}

/// Whether a session still opens the dashboard at `now`: not logged out, not expired, and its
/// token neither revoked nor expired since.
pub fn is_live(held: HeldSession, now: Timestamp) -> bool {
    held.ended_at.is_none()
        && held.expires_at > now
        && held.token_revoked_at.is_none()
        && held.token_expires_at.is_none_or(|at| at > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_secret_is_hex_and_its_hash_id_and_csrf_are_derived_from_it() {
        let secret = SessionSecret::from_bytes([7; SECRET_BYTES]);
        assert_eq!(secret.expose().len(), 64);
        assert_eq!(SessionSecret::parse(secret.expose()), Some(secret.clone()));
        assert_eq!(SessionSecret::parse("0A"), None);
        assert_eq!(SessionSecret::parse(&"G".repeat(64)), None);
        assert_ne!(secret.sha256(), secret.expose());
        assert_eq!(secret.id(), secret.sha256()[..12]);
        assert!(secret.csrf_matches(&secret.csrf()));
        assert!(!secret.csrf_matches(&SessionSecret::from_bytes([8; 32]).csrf()));
        assert!(!secret.csrf_matches(""));
        assert!(!format!("{secret:?}").contains(secret.expose()));
    }

    #[test]
    fn a_session_ends_at_its_lifetime_or_its_tokens_expiry_whichever_is_first() {
        let now = at("2026-05-20T10:00:00Z");
        assert_eq!(expires_at(now, None), at("2026-05-20T22:00:00Z"));
        assert_eq!(
            expires_at(now, Some(at("2026-05-20T11:00:00Z"))),
            at("2026-05-20T11:00:00Z")
        );
        let live = HeldSession {
            expires_at: at("2026-05-20T22:00:00Z"),
            ended_at: None,
            token_expires_at: None,
            token_revoked_at: None,
        };
        assert!(is_live(live, now));
        assert!(!is_live(live, at("2026-05-20T22:00:00Z")));
        assert!(!is_live(
            HeldSession {
                ended_at: Some(now),
                ..live
            },
            now
        ));
        assert!(!is_live(
            HeldSession {
                token_revoked_at: Some(now),
                ..live
            },
            now
        ));
        assert!(!is_live(
            HeldSession {
                token_expires_at: Some(now),
                ..live
            },
            now
        ));
    }
}
