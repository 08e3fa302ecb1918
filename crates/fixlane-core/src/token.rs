//! Per-person tokens for the team server: the token's text, how it is parsed and hashed, when it
//! expires, and whether a presented one is good.
//!
//! A token reads `fixlane_tok_<id>_<secret>`: a fixed prefix so secret scanners (and people) can
//! recognise a leaked one, a short public id that `token list` shows and `token revoke` takes,
//! and 32 random bytes as 64 hex digits. Only the SHA-256 of the whole text is stored, so a copy
//! of the database holds no usable token.
//!
//! Randomness is I/O, so the caller draws the bytes and hands them to [`mint`]; everything here
//! is a pure function of its inputs. The hash comparison runs in constant time, and it runs
//! before anything else is said about the token: only a holder of the right secret learns that
//! it was revoked or has expired.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::model::Config;
use crate::duration::Duration;
use crate::emergency::refusal::Refusal;
use crate::names::PersonName;

/// What every token starts with; secret scanners match it (`fixlane_tok_[0-9a-f]{12}_[0-9a-f]{64}`).
pub const PREFIX: &str = "fixlane_tok_";

/// How many random bytes make a token's id (12 hex digits).
pub const ID_BYTES: usize = 6;

/// How many random bytes make a token's secret (64 hex digits).
pub const SECRET_BYTES: usize = 32;

/// A token's public id: 12 lowercase hex digits. Shown by `token list`, named by `token revoke`
/// and by every audit entry written with the token; it is not a secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenId(String);

/// Why a token id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a token id: a token id is 12 lowercase hex digits, as `fixlane token list` shows"
)]
pub struct TokenIdError(pub String);

impl TokenId {
    /// Builds the id, refusing anything but [`ID_BYTES`] bytes as lowercase hex.
    pub fn parse(text: &str) -> Result<Self, TokenIdError> {
        let well_formed = text.len() == ID_BYTES * 2
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(TokenIdError(text.to_owned()))
        }
    }

    /// The id made of `bytes`.
    pub fn from_bytes(bytes: [u8; ID_BYTES]) -> Self {
        Self(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl TryFrom<String> for TokenId {
    type Error = TokenIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TokenId> for String {
    fn from(value: TokenId) -> Self {
        value.0
    }
}

/// A token's whole text. Its `Debug` hides it, so a token never reaches a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The text, to print once to the person it was issued for.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(…)")
    }
}

/// A token just made: its text (given out once, never stored) and what the store keeps.
#[derive(Debug, Clone)]
pub struct Minted {
    pub id: TokenId,
    pub secret: Secret,
    /// The SHA-256 of the whole text, as 64 hex digits.
    pub sha256: String,
}

/// The token made of the random bytes the caller drew.
pub fn mint(id: [u8; ID_BYTES], secret: [u8; SECRET_BYTES]) -> Minted {
    let id = TokenId::from_bytes(id);
    let text = format!("{PREFIX}{id}_{}", hex::encode(secret));
    Minted {
        sha256: hex::encode(digest(&text)),
        secret: Secret(text),
        id,
    }
}

/// The SHA-256 of a token's text.
fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// A token as a request presented it, parsed: the id to look it up by and the hash to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub id: TokenId,
    sha256: [u8; 32],
}

/// Why a presented token is not accepted. Each reads as a whole sentence without the token's
/// text; which one a caller sees says nothing a holder of the right secret does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefused {
    /// No token was presented at all.
    #[error("the request carries no token")]
    Missing,
    /// Something was presented, but it is not spelled as a fixlane token.
    #[error("the token is not a fixlane token (they read `{PREFIX}<id>_<secret>`)")]
    Malformed,
    /// No token has this id, or its secret does not match: the two are not told apart.
    #[error("the token is not one this server issued, or it was mistyped")]
    Unknown,
    #[error("the token {id} was revoked at {at}")]
    Revoked { id: TokenId, at: Timestamp },
    #[error("the token {id} expired at {at}")]
    Expired { id: TokenId, at: Timestamp },
}

/// Parses a presented token. Anything but `fixlane_tok_<12 hex>_<64 hex>` is
/// [`TokenRefused::Malformed`].
pub fn parse(text: &str) -> Result<Presented, TokenRefused> {
    let rest = text.strip_prefix(PREFIX).ok_or(TokenRefused::Malformed)?;
    let (id, secret) = rest.split_once('_').ok_or(TokenRefused::Malformed)?;
    let id = TokenId::parse(id).map_err(|_| TokenRefused::Malformed)?;
    let secret_is_hex = secret.len() == SECRET_BYTES * 2
        && secret
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    if !secret_is_hex {
        return Err(TokenRefused::Malformed);
    }
    Ok(Presented {
        id,
        sha256: digest(text),
    })
}

/// What the store holds of one token, for [`check`].
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    /// The stored SHA-256, as 64 hex digits.
    pub sha256: &'a str,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// Whether the presented token is the held one and still good at `now`.
///
/// The hashes are compared in constant time and first: a wrong secret is
/// [`TokenRefused::Unknown`], whatever the held token's state, so revocation and expiry are told
/// only to someone holding the real token. A stored hash that does not decode matches nothing.
pub fn check(held: Held<'_>, presented: &Presented, now: Timestamp) -> Result<(), TokenRefused> {
    let mut stored = [0_u8; 32];
    let decoded = hex::decode_to_slice(held.sha256, &mut stored).is_ok();
    let same: bool = stored.ct_eq(&presented.sha256).into();
    if !(decoded && same) {
        return Err(TokenRefused::Unknown);
    }
    if let Some(at) = held.revoked_at {
        return Err(TokenRefused::Revoked {
            id: presented.id.clone(),
            at,
        });
    }
    match held.expires_at {
        Some(at) if at <= now => Err(TokenRefused::Expired {
            id: presented.id.clone(),
            at,
        }),
        _ => Ok(()),
    }
}

/// Why a lifetime cannot be given to a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a token issued at {issued_at} cannot live {lifetime}: that is past the last moment a timestamp can hold; give a shorter --expires"
)]
pub struct LifetimeError {
    pub issued_at: Timestamp,
    pub lifetime: Duration,
}

/// When a token issued at `issued_at` with `lifetime` expires; `None` lives until revoked.
pub fn expires_at(
    issued_at: Timestamp,
    lifetime: Option<Duration>,
) -> Result<Option<Timestamp>, LifetimeError> {
    let Some(lifetime) = lifetime else {
        return Ok(None);
    };
    let error = || LifetimeError {
        issued_at,
        lifetime,
    };
    let seconds = i64::try_from(lifetime.as_seconds()).map_err(|_| error())?;
    let span = jiff::SignedDuration::from_secs(seconds);
    issued_at.checked_add(span).map(Some).map_err(|_| error())
}

/// The person a token is issued for: a person under `[people]`, by name or email. Tokens are
/// for people the policy knows, so every request made with one has an actor the rules judge.
pub fn owner(config: &Config, who: &str) -> Result<PersonName, Refusal> {
    crate::emergency::identity::identify(config, who).ok_or_else(|| {
        crate::emergency::identity::unknown_person(
            config,
            "people",
            format!("issuing a token for `{who}`"),
            who,
            "the token's owner",
        )
    })
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
