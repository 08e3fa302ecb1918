//! The one way the store changes state, [`SqlStore::write`], and the audit append it ends with.
//!
//! Every state-changing method hands its change to `write`, which opens the write transaction,
//! takes the append lock, runs the change, appends the change's audit entries
//! ([`SqlStore::append_in`], the only writer of `audit_log`) and commits. So no state change
//! commits without its audit entry in the same transaction, and no entry is written apart from
//! its change: this file is the one place that rule lives.

use std::convert::Infallible;

use fixlane_core::audit::{AuditAction, AuditEntry, canonical_json};
use jiff::Timestamp;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::{SqlStore, column};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{format_time, parse_json};

const INSERT_AUDIT: &str = "INSERT INTO audit_log \
     (seq, recorded_at, actor, action, details, previous_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// The outbox row of an entry a webhook may announce (see `sql::outbox`).
const INSERT_OUTBOX: &str = "INSERT INTO outbox (seq, action, created_at) VALUES ($1, $2, $3)";

/// Moves the head; the `seq = $3` guard makes a lost race fail instead of forking the chain.
const UPDATE_HEAD: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3";

/// One audit entry a change asks for: a typed action, as its name and details (the actor is the
/// change's).
pub(super) struct Audit {
    pub action: String,
    pub details: serde_json::Value,
}

impl Audit {
    /// The entry `action` becomes; its details must encode (they are plain data, so they do).
    pub fn of(action: &AuditAction) -> Result<Self, StoreError> {
        let details = action.details().map_err(|error| StoreError::Invalid {
            what: format!(
                "the details of a `{}` entry cannot be encoded: {error}",
                action.name()
            ),
        })?;
        Ok(Self {
            action: action.name().into_owned(),
            details,
        })
    }
}

/// What a change did, as it tells [`SqlStore::write`].
pub(super) enum Change<W, U, A = Audit> {
    /// It wrote: `A` is audited (one entry, or one per item in order), then all is committed
    /// and `W` handed back with the entries.
    Made(W, A),
    /// It wrote nothing (already done, not found, refused): the transaction is rolled back and
    /// `U` handed back.
    Unchanged(U),
}

impl<W, A> Change<W, Infallible, A> {
    /// A change that always writes when it succeeds: the caller's `let Ok(..)` needs no
    /// unchanged case.
    pub fn made(value: W, audit: A) -> Self {
        Self::Made(value, audit)
    }
}

/// The audit entries of a change: one [`Audit`], or a batch of them in order (possibly none,
/// for canary samples, which are not audited).
pub(super) trait AuditPlan: Send {
    /// What the caller gets back: the entry, or the entries in order.
    type Entries: Send;

    /// The entries to append, and how the appended ones become [`AuditPlan::Entries`].
    fn split(self) -> Split<Self::Entries>;
}

/// An [`AuditPlan`] taken apart for [`SqlStore::write`].
pub(super) enum Split<E> {
    One(Audit, fn(AuditEntry) -> E),
    Each(Vec<Audit>, fn(Vec<AuditEntry>) -> E),
}

impl AuditPlan for Audit {
    type Entries = AuditEntry;

    fn split(self) -> Split<AuditEntry> {
        Split::One(self, |entry| entry)
    }
}

impl AuditPlan for Vec<Audit> {
    type Entries = Vec<AuditEntry>;

    fn split(self) -> Split<Vec<AuditEntry>> {
        Split::Each(self, |entries| entries)
    }
}

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
    /// Runs `change` in a write transaction that holds the append lock from its start, so what
    /// the change reads cannot change until the commit and concurrent writers never interleave.
    /// A change that made something is audited as `actor` and committed (`committing` names
    /// the commit in its error); one that made nothing is rolled back. An error anywhere rolls
    /// everything back: nothing is half-written.
    pub(super) async fn write<W, U, A: AuditPlan>(
        &self,
        actor: &str,
        committing: &'static str,
        change: impl AsyncFnOnce(&mut B::Connection) -> Result<Change<W, U, A>, StoreError>,
    ) -> Result<Result<(W, A::Entries), U>, StoreError> {
        let mut tx = B::begin_write(&self.pool).await?;
        Self::hold_write_lock(&mut tx).await?;
        match change(&mut tx).await? {
            Change::Unchanged(kept) => {
                tx.rollback()
                    .await
                    .map_err(query_error("release the store's write lock"))?;
                Ok(Err(kept))
            }
            Change::Made(value, audits) => {
                let entries = match audits.split() {
                    Split::One(audit, entries) => {
                        let details = self.naming_token(audit.details);
                        entries(Self::append_in(&mut tx, actor, &audit.action, &details).await?)
                    }
                    Split::Each(audits, entries) => {
                        let mut appended = Vec::with_capacity(audits.len());
                        for audit in audits {
                            let details = self.naming_token(audit.details);
                            appended.push(
                                Self::append_in(&mut tx, actor, &audit.action, &details).await?,
                            );
                        }
                        entries(appended)
                    }
                };
                tx.commit().await.map_err(query_error(committing))?;
                B::make_durable(&self.pool).await?;
                Ok(Ok((value, entries)))
            }
        }
    }

    /// `details` with this handle's token added, when it has one (see
    /// [`SqlStore::with_token`]); an entry that already names a token keeps its own.
    fn naming_token(&self, details: serde_json::Value) -> serde_json::Value {
        let Some(token) = &self.token else {
            return details;
        };
        match details {
            serde_json::Value::Object(mut object) => {
                object
                    .entry("token")
                    .or_insert_with(|| serde_json::Value::String(token.to_string()));
                serde_json::Value::Object(object)
            }
            other => serde_json::json!({ "details": other, "token": token.to_string() }),
        }
    }

    /// Takes the append lock at the start of a write transaction, before anything is read.
    /// (`SQLite` already holds it from `BEGIN IMMEDIATE`; `PostgreSQL` locks the head row.)
    async fn hold_write_lock(conn: &mut B::Connection) -> Result<(), StoreError> {
        sqlx::query(B::READ_HEAD_FOR_APPEND)
            .fetch_optional(&mut *conn)
            .await
            .map_err(query_error("take the store's write lock"))?
            .ok_or(StoreError::HeadMissing)?;
        Ok(())
    }

    /// Appends one audit entry inside the caller's write transaction and moves the head: the
    /// store's one audit funnel, called only by [`SqlStore::write`].
    async fn append_in(
        conn: &mut B::Connection,
        actor: &str,
        action: &str,
        details: &serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        let what = "read the audit chain head";
        let head = sqlx::query(B::READ_HEAD_FOR_APPEND)
            .fetch_optional(&mut *conn)
            .await
            .map_err(query_error(what))?
            .ok_or(StoreError::HeadMissing)?;
        let head_seq: i64 = column::<B, _>(&head, "seq", what)?;
        let head_hash: String = column::<B, _>(&head, "hash", what)?;
        let (entry, details_text) = next_entry(head_seq, head_hash, actor, action, details)?;
        sqlx::query(INSERT_AUDIT)
            .bind(entry.seq)
            .bind(&entry.time)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(details_text)
            .bind(&entry.previous_hash)
            .bind(&entry.hash)
            .execute(&mut *conn)
            .await
            .map_err(query_error("append to the audit log"))?;
        let moved = sqlx::query(UPDATE_HEAD)
            .bind(entry.seq)
            .bind(&entry.hash)
            .bind(head_seq)
            .execute(&mut *conn)
            .await
            .map_err(query_error("move the audit chain head"))?;
        if B::rows_affected(&moved) != 1 {
            return Err(StoreError::HeadMissing);
        }
        // What a team may hear about goes to the outbox with the entry, or neither is written.
        if fixlane_core::notify::WebhookEvent::may_notify(&entry.action) {
            sqlx::query(INSERT_OUTBOX)
                .bind(entry.seq)
                .bind(&entry.action)
                .bind(&entry.time)
                .execute(&mut *conn)
                .await
                .map_err(query_error("write the webhook outbox"))?;
        }
        Ok(entry)
    }
}

/// The entry that follows the head, and the exact details text to store.
///
/// The hash covers the details as a reader will parse them back from that text, so the chain
/// verifies whatever the JSON library does to numbers on the way through.
fn next_entry(
    head_seq: i64,
    head_hash: String,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
) -> Result<(AuditEntry, String), StoreError> {
    if actor.trim().is_empty() || action.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: format!(
                "an audit entry without an actor or action (actor `{actor}`, action `{action}`)"
            ),
        });
    }
    let details_text = canonical_json(details);
    let details = parse_json(&details_text, "the new audit entry's details")?;
    let seq = head_seq.checked_add(1).ok_or_else(|| StoreError::Corrupt {
        what: format!("the audit chain head seq {head_seq} cannot be incremented"),
    })?;
    let entry = AuditEntry::new(
        seq,
        format_time(Timestamp::now()),
        actor.to_owned(),
        action.to_owned(),
        details,
        head_hash,
    );
    Ok((entry, details_text))
}
