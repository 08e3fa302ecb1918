//! Dashboard sessions: started and ended with their audit entries in one transaction, and looked
//! up by the hash of their secret together with the state of the token behind them.

use fixlane_core::PersonName;
use fixlane_core::audit::{AuditAction, AuditEntry, SessionEnded, SessionStarted};
use fixlane_core::session::public_id;
use fixlane_core::token::TokenId;
use jiff::Timestamp;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::write::{Audit, Change};
use super::{SqlStore, column, validate_actor};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{NewSession, SessionRecord, format_time, parse_text, parse_time};

const INSERT_SESSION: &str = "INSERT INTO sessions \
     (sha256, id, token_id, person, started_at, expires_at, ended_at) \
     VALUES ($1, $2, $3, $4, $5, $6, NULL)";

/// A session with its token's expiry and revocation: a session opened with a token lives only
/// while the token does.
const SELECT_SESSION: &str = "SELECT sessions.id, sessions.token_id, sessions.person, \
     sessions.started_at, sessions.expires_at, sessions.ended_at, \
     tokens.expires_at AS token_expires_at, tokens.revoked_at AS token_revoked_at \
     FROM sessions JOIN tokens ON tokens.id = sessions.token_id WHERE sessions.sha256 = $1";

const SELECT_OPEN_SESSION: &str =
    "SELECT person FROM sessions WHERE sha256 = $1 AND ended_at IS NULL";

/// The `IS NULL` guard keeps the first logout's time when two race.
const END_SESSION: &str =
    "UPDATE sessions SET ended_at = $2 WHERE sha256 = $1 AND ended_at IS NULL";

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
    pub(crate) async fn start_session(
        &self,
        actor: &str,
        new: &NewSession,
    ) -> Result<AuditEntry, StoreError> {
        validate_actor(actor, "starting a session")?;
        let well_formed = new.sha256.len() == 64
            && new
                .sha256
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if !well_formed {
            return Err(StoreError::Invalid {
                what: "a session without a well-formed SHA-256".to_owned(),
            });
        }
        let id = public_id(&new.sha256);
        let audit = Audit::of(&AuditAction::SessionStarted(SessionStarted {
            session: id.clone(),
            token: new.token.clone(),
            person: new.person.clone(),
            expires_at: new.expires_at,
        }))?;
        let Ok(((), entry)) = self
            .write(actor, "commit the session", async |conn| {
                sqlx::query(INSERT_SESSION)
                    .bind(new.sha256.as_str())
                    .bind(id.as_str())
                    .bind(new.token.as_str())
                    .bind(new.person.as_str())
                    .bind(format_time(new.started_at))
                    .bind(format_time(new.expires_at))
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the session"))?;
                Ok(Change::made((), audit))
            })
            .await?;
        Ok(entry)
    }

    pub(crate) async fn session(&self, sha256: &str) -> Result<Option<SessionRecord>, StoreError> {
        let what = "look up the session";
        let Some(row) = sqlx::query(SELECT_SESSION)
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error(what))?
        else {
            return Ok(None);
        };
        let id: String = column::<B, _>(&row, "id", what)?;
        let time = |name: &'static str| -> Result<Timestamp, StoreError> {
            let text: String = column::<B, _>(&row, name, what)?;
            parse_time(&text, format!("session {id}: {name}"))
        };
        let optional_time = |name: &'static str| -> Result<Option<Timestamp>, StoreError> {
            column::<B, Option<String>>(&row, name, what)?
                .map(|text| parse_time(&text, format!("session {id}: {name}")))
                .transpose()
        };
        let token: String = column::<B, _>(&row, "token_id", what)?;
        let person: String = column::<B, _>(&row, "person", what)?;
        Ok(Some(SessionRecord {
            token: parse_text(&token, "a session's token", TokenId::parse)?,
            person: parse_text(&person, "a session's person", PersonName::parse)?,
            started_at: time("started_at")?,
            expires_at: time("expires_at")?,
            ended_at: optional_time("ended_at")?,
            token_expires_at: optional_time("token_expires_at")?,
            token_revoked_at: optional_time("token_revoked_at")?,
            id,
        }))
    }

    pub(crate) async fn end_session(
        &self,
        actor: &str,
        sha256: &str,
        at: Timestamp,
    ) -> Result<Option<AuditEntry>, StoreError> {
        validate_actor(actor, "ending a session")?;
        let written = self
            .write(actor, "commit the logout", async |conn| {
                let what = "read the session to end";
                let Some(row) = sqlx::query(SELECT_OPEN_SESSION)
                    .bind(sha256)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error(what))?
                else {
                    return Ok(Change::Unchanged(()));
                };
                let person: String = column::<B, _>(&row, "person", what)?;
                sqlx::query(END_SESSION)
                    .bind(sha256)
                    .bind(format_time(at))
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("end the session"))?;
                let audit = Audit::of(&AuditAction::SessionEnded(SessionEnded {
                    session: public_id(sha256),
                    person: parse_text(&person, "a session's person", PersonName::parse)?,
                }))?;
                Ok(Change::Made((), audit))
            })
            .await?;
        Ok(written.ok().map(|((), entry)| entry))
    }
}
