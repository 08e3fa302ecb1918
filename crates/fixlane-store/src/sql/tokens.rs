//! Per-person tokens: issued and revoked with their audit entries in one transaction, listed
//! without their hashes, and a presented token checked against its stored hash.

use fixlane_core::PersonName;
use fixlane_core::audit::{AuditAction, AuditEntry, TokenIssued, TokenRevoked};
use fixlane_core::token::{self, Held, TokenId, TokenRefused};
use jiff::Timestamp;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::write::{Audit, Change};
use super::{SqlStore, column, validate_actor};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{NewToken, TokenRecord, TokenSelector, format_time, parse_text, parse_time};

const TOKEN_EXISTS: &str = "SELECT id FROM tokens WHERE id = $1";

const INSERT_TOKEN: &str = "INSERT INTO tokens \
     (id, person, sha256, issued_at, issued_by, expires_at, revoked_at, revoked_by) \
     VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)";

const SELECT_TOKENS: &str = "SELECT id, person, issued_at, issued_by, expires_at, revoked_at, \
     revoked_by FROM tokens ORDER BY issued_at, id";

const SELECT_TOKEN: &str = "SELECT id, person, sha256, issued_at, issued_by, expires_at, \
     revoked_at, revoked_by FROM tokens WHERE id = $1";

const SELECT_LIVE_BY_ID: &str = "SELECT id, person, issued_at, issued_by, expires_at, \
     revoked_at, revoked_by FROM tokens WHERE id = $1 AND revoked_at IS NULL";

const SELECT_LIVE_OF_PERSON: &str = "SELECT id, person, issued_at, issued_by, expires_at, \
     revoked_at, revoked_by FROM tokens WHERE person = $1 AND revoked_at IS NULL \
     ORDER BY issued_at, id";

/// The `IS NULL` guard keeps the first revocation's time and actor when two race.
const REVOKE: &str = "UPDATE tokens SET revoked_at = $2, revoked_by = $3 \
     WHERE id = $1 AND revoked_at IS NULL";

impl<B> SqlStore<B>
where
    B: Backend,
    for<'c> &'c mut B::Connection: Executor<'c, Database = B>,
    for<'a> &'a str: ColumnIndex<B::Row> + Encode<'a, B> + Type<B>,
    String: ColumnType<B>,
    Option<String>: ColumnType<B>,
    i64: ColumnType<B>,
    Option<i64>: ColumnType<B>,
    Option<i32>: ColumnType<B>,
    bool: ColumnType<B>,
{
    pub(crate) async fn issue_token(
        &self,
        actor: &str,
        new: &NewToken,
    ) -> Result<(TokenRecord, AuditEntry), StoreError> {
        validate_actor(actor, "issuing a token")?;
        if token::TokenId::parse(new.id.as_str()).is_err() || new.sha256.len() != 64 {
            return Err(StoreError::Invalid {
                what: format!("token {} without a well-formed id and SHA-256", new.id),
            });
        }
        let action = AuditAction::TokenIssued(TokenIssued {
            token: new.id.clone(),
            person: new.person.clone(),
            expires_at: new.expires_at,
        });
        let audit = Audit::of(&action)?;
        let record = TokenRecord {
            id: new.id.clone(),
            person: new.person.clone(),
            issued_at: new.issued_at,
            issued_by: actor.to_owned(),
            expires_at: new.expires_at,
            revoked_at: None,
            revoked_by: None,
        };
        let Ok(written) = self
            .write(actor, "commit the issued token", async |conn| {
                let taken = sqlx::query(TOKEN_EXISTS)
                    .bind(new.id.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error("look up the token id"))?;
                if taken.is_some() {
                    return Err(StoreError::TokenExists {
                        id: new.id.to_string(),
                    });
                }
                sqlx::query(INSERT_TOKEN)
                    .bind(new.id.as_str())
                    .bind(new.person.as_str())
                    .bind(new.sha256.as_str())
                    .bind(format_time(new.issued_at))
                    .bind(actor)
                    .bind(new.expires_at.map(format_time))
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the token"))?;
                Ok(Change::made(record, audit))
            })
            .await?;
        Ok(written)
    }

    pub(crate) async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let what = "read the tokens";
        let rows = sqlx::query(SELECT_TOKENS)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error(what))?;
        rows.iter().map(|row| Self::token_of(row, what)).collect()
    }

    pub(crate) async fn revoke_tokens(
        &self,
        actor: &str,
        which: &TokenSelector,
        at: Timestamp,
    ) -> Result<(Vec<TokenRecord>, Vec<AuditEntry>), StoreError> {
        validate_actor(actor, "revoking tokens")?;
        let written = self
            .write(actor, "commit the revoked tokens", async |conn| {
                let what = "read the tokens to revoke";
                let rows = match which {
                    TokenSelector::Id(id) => sqlx::query(SELECT_LIVE_BY_ID).bind(id.as_str()),
                    TokenSelector::Person(person) => {
                        sqlx::query(SELECT_LIVE_OF_PERSON).bind(person.as_str())
                    }
                }
                .fetch_all(&mut *conn)
                .await
                .map_err(query_error(what))?;
                let mut revoked = Vec::with_capacity(rows.len());
                let mut audits = Vec::with_capacity(rows.len());
                for row in &rows {
                    let mut record = Self::token_of(row, what)?;
                    sqlx::query(REVOKE)
                        .bind(record.id.as_str())
                        .bind(format_time(at))
                        .bind(actor)
                        .execute(&mut *conn)
                        .await
                        .map_err(query_error("revoke the token"))?;
                    audits.push(Audit::of(&AuditAction::TokenRevoked(TokenRevoked {
                        token: record.id.clone(),
                        person: record.person.clone(),
                    }))?);
                    record.revoked_at = Some(at);
                    record.revoked_by = Some(actor.to_owned());
                    revoked.push(record);
                }
                if revoked.is_empty() {
                    return Ok(Change::Unchanged(()));
                }
                Ok(Change::Made(revoked, audits))
            })
            .await?;
        Ok(written.unwrap_or_default())
    }

    pub(crate) async fn authenticate(
        &self,
        presented: &str,
        now: Timestamp,
    ) -> Result<Result<TokenRecord, TokenRefused>, StoreError> {
        let presented = match token::parse(presented) {
            Ok(presented) => presented,
            Err(refused) => return Ok(Err(refused)),
        };
        let what = "look up the token";
        let Some(row) = sqlx::query(SELECT_TOKEN)
            .bind(presented.id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error(what))?
        else {
            return Ok(Err(TokenRefused::Unknown));
        };
        let sha256: String = column::<B, _>(&row, "sha256", what)?;
        let record = Self::token_of(&row, what)?;
        let held = Held {
            sha256: &sha256,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
        };
        Ok(token::check(held, &presented, now).map(|()| record))
    }

    /// A `tokens` row as a record.
    fn token_of(row: &B::Row, what: &'static str) -> Result<TokenRecord, StoreError> {
        let id: String = column::<B, _>(row, "id", what)?;
        let time = |name: &'static str| -> Result<Option<Timestamp>, StoreError> {
            column::<B, Option<String>>(row, name, what)?
                .map(|text| parse_time(&text, format!("token {id}: {name}")))
                .transpose()
        };
        let issued_at: String = column::<B, _>(row, "issued_at", what)?;
        let person: String = column::<B, _>(row, "person", what)?;
        Ok(TokenRecord {
            issued_at: parse_time(&issued_at, format!("token {id}: issued_at"))?,
            person: parse_text(&person, "a token's person", PersonName::parse)?,
            issued_by: column::<B, _>(row, "issued_by", what)?,
            expires_at: time("expires_at")?,
            revoked_at: time("revoked_at")?,
            revoked_by: column::<B, _>(row, "revoked_by", what)?,
            id: parse_text(&id, "a token's id", TokenId::parse)?,
        })
    }
}
