//! Per-person tokens: issued for a person of the policy, listed, revoked, and a request's token
//! turned into the person acting — called alike by `fixlane token` (direct database access) and
//! by the team server.
//!
//! The token's rules are in [`fixlane_core::token`]; this module draws the random bytes (the
//! one thing the core cannot do) and writes through the store's audited path.

use fixlane_core::PersonName;
use fixlane_core::emergency::{Instead, Refusal};
use fixlane_core::token::{self, ID_BYTES, SECRET_BYTES, Secret, TokenId, TokenRefused};
use fixlane_store::{NewToken, Store, TokenRecord, TokenSelector};
use jiff::Timestamp;

use crate::{App, AppError};

/// A token just issued: its record and its text, to be shown once and never again.
#[derive(Debug, Clone)]
pub struct Issued {
    pub record: TokenRecord,
    pub secret: Secret,
}

/// Who a request acts as: the owner of the token it presented, and that token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub person: PersonName,
    pub token: TokenId,
}

/// `N` bytes from the operating system's generator.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0_u8; N];
    getrandom::fill(&mut bytes).map_err(|error| AppError::Random(error.to_string()))?;
    Ok(bytes)
}

impl<S: Store + Sync> App<'_, S> {
    /// Issues a token for `who` (a person under `[people]`, by name or email), living
    /// `lifetime` from `at` (`None`: until revoked). `actor` is who issues it, for the audit
    /// entry.
    pub async fn issue_token(
        &self,
        actor: &str,
        who: &str,
        lifetime: Option<fixlane_core::Duration>,
        at: Timestamp,
    ) -> Result<Issued, AppError> {
        let person = token::owner(self.config, who)?;
        let expires_at = token::expires_at(at, lifetime).map_err(AppError::Lifetime)?;
        let minted = token::mint(random::<ID_BYTES>()?, random::<SECRET_BYTES>()?);
        let (record, _) = self
            .store
            .issue_token(
                actor,
                &NewToken {
                    id: minted.id.clone(),
                    person,
                    sha256: minted.sha256.clone(),
                    issued_at: at,
                    expires_at,
                },
            )
            .await?;
        Ok(Issued {
            record,
            secret: minted.secret,
        })
    }

    /// Every token ever issued, oldest first, without hashes.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, AppError> {
        Ok(self.store.tokens().await?)
    }

    /// Revokes the token with id `target`, or, when `target` is not a token id, every live
    /// token of the person `target`. Nothing live matching is [`AppError::NothingToRevoke`].
    pub async fn revoke_tokens(
        &self,
        actor: &str,
        target: &str,
        at: Timestamp,
    ) -> Result<Vec<TokenRecord>, AppError> {
        let which = match TokenId::parse(target) {
            Ok(id) => TokenSelector::Id(id),
            Err(_) => match PersonName::parse(target) {
                Ok(person) => TokenSelector::Person(person),
                Err(_) => {
                    return Err(AppError::NothingToRevoke {
                        target: target.to_owned(),
                    });
                }
            },
        };
        let (revoked, _) = self.store.revoke_tokens(actor, &which, at).await?;
        if revoked.is_empty() {
            return Err(AppError::NothingToRevoke {
                target: target.to_owned(),
            });
        }
        Ok(revoked)
    }

    /// The person a request acts as: the owner of the token it `presented` (`None`: it
    /// presented none), if that token is good at `at` and its owner is still a person of the
    /// policy enforced here. The owner, never a name the request gives, is who acts.
    pub async fn authenticate(
        &self,
        presented: Option<&str>,
        at: Timestamp,
    ) -> Result<Authenticated, AppError> {
        let text = presented.ok_or(AppError::Unauthenticated(TokenRefused::Missing))?;
        let record = self
            .store
            .authenticate(text, at)
            .await?
            .map_err(AppError::Unauthenticated)?;
        if !self.config.people.contains_key(&record.person) {
            return Err(Refusal::new(
                "people",
                format!("acting with token {}", record.id),
                format!(
                    "the token belongs to `{}`, who is no longer a person under [people] in the \
                     config this server enforces",
                    record.person
                ),
                Instead::advice(
                    "ask an operator to add the person back under [people], or to issue a \
                     token for someone who is there",
                ),
            )
            .into());
        }
        Ok(Authenticated {
            person: record.person,
            token: record.id,
        })
    }
}
