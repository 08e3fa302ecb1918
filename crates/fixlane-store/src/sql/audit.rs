//! The audit log as a reader sees it: standalone entries and `config-seen` (the changes that
//! are nothing but their entry), the entries in order, the recorded head, and verification of
//! the whole chain against it. Appending lives in [`super::write`].

use fixlane_core::audit::{
    AuditAction, AuditEntry, CONFIG_SEEN, ChainBreak, ConfigSeen, verify_chain,
};
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::write::{Audit, Change};
use super::{SqlStore, column};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::parse_json;

const READ_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";

/// The details of the newest `config-seen` entry.
const LAST_CONFIG_SEEN: &str =
    "SELECT details FROM audit_log WHERE action = $1 ORDER BY seq DESC LIMIT 1";

const SELECT_AUDIT: &str = "SELECT seq, recorded_at, actor, action, details, \
     previous_hash, hash FROM audit_log ORDER BY seq";

/// An `audit_log` row as stored (details still text).
struct AuditRow {
    seq: i64,
    time: String,
    actor: String,
    action: String,
    details: String,
    previous_hash: String,
    hash: String,
}

impl AuditRow {
    fn into_entry(self) -> Result<AuditEntry, StoreError> {
        let details = parse_json(&self.details, format!("audit entry {}: details", self.seq))?;
        Ok(AuditEntry {
            seq: self.seq,
            time: self.time,
            actor: self.actor,
            action: self.action,
            details,
            previous_hash: self.previous_hash,
            hash: self.hash,
        })
    }
}

/// Verifies rows against the head. Details that are no longer JSON count as an alteration of
/// that entry, reported after everything before it checked out.
fn verify_rows(rows: Vec<AuditRow>, head: (i64, &str)) -> Result<usize, ChainBreak> {
    let mut checked = Vec::with_capacity(rows.len());
    for row in rows {
        let seq = row.seq;
        let Ok(entry) = row.into_entry() else {
            verify_chain(&checked, None)?;
            return Err(ChainBreak::Altered { seq });
        };
        checked.push(entry);
    }
    verify_chain(&checked, Some(head))?;
    Ok(checked.len())
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
    pub(crate) async fn append_audit(
        &self,
        actor: &str,
        action: &AuditAction,
    ) -> Result<AuditEntry, StoreError> {
        let audit = Audit::of(action)?;
        let Ok(((), entry)) = self
            .write(actor, "commit the audit entry", async |_| {
                Ok(Change::made((), audit))
            })
            .await?;
        Ok(entry)
    }

    pub(crate) async fn record_config_seen(
        &self,
        actor: &str,
        file: &str,
        sha256: &str,
    ) -> Result<Option<AuditEntry>, StoreError> {
        // Under the write lock, so two runs starting together log one change, not two.
        let written = self
            .write(actor, "commit the config-seen entry", async |conn| {
                let what = "read the last config seen";
                let last: Option<String> = sqlx::query(LAST_CONFIG_SEEN)
                    .bind(CONFIG_SEEN)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error(what))?
                    .map(|row| column::<B, String>(&row, "details", what))
                    .transpose()?;
                let previous = last
                    .and_then(|details| serde_json::from_str::<serde_json::Value>(&details).ok())
                    .and_then(|details| {
                        details
                            .get("sha256")
                            .and_then(|sha| sha.as_str().map(str::to_owned))
                    });
                if previous.as_deref() == Some(sha256) {
                    return Ok(Change::Unchanged(()));
                }
                let action = AuditAction::ConfigSeen(ConfigSeen {
                    file: file.to_owned(),
                    sha256: sha256.to_owned(),
                    previous_sha256: previous,
                });
                Ok(Change::Made((), Audit::of(&action)?))
            })
            .await?;
        Ok(written.ok().map(|((), entry)| entry))
    }

    pub(crate) async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let (_, rows) = self.read_audit().await?;
        rows.into_iter().map(AuditRow::into_entry).collect()
    }

    pub(crate) async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        let what = "read the audit chain head";
        let row = sqlx::query(READ_HEAD)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error(what))?;
        match row
            .as_ref()
            .map(|row| Self::head_of(row, what))
            .transpose()?
        {
            None => Err(StoreError::HeadMissing),
            Some((0, _)) => Ok(None),
            Some(head) => Ok(Some(head)),
        }
    }

    pub(crate) async fn verify_audit(&self) -> Result<Result<usize, ChainBreak>, StoreError> {
        let (head, rows) = self.read_audit().await?;
        let (seq, hash) = head.ok_or(StoreError::HeadMissing)?;
        Ok(verify_rows(rows, (seq, &hash)))
    }

    /// `(seq, hash)` of an `audit_head` row.
    fn head_of(row: &B::Row, what: &'static str) -> Result<(i64, String), StoreError> {
        Ok((
            column::<B, _>(row, "seq", what)?,
            column::<B, _>(row, "hash", what)?,
        ))
    }

    /// Reads the head and every audit row from one consistent snapshot.
    async fn read_audit(&self) -> Result<(Option<(i64, String)>, Vec<AuditRow>), StoreError> {
        let what = "read the audit log";
        let mut tx = B::begin_read(&self.pool).await?;
        let head = sqlx::query(READ_HEAD)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_error(what))?
            .as_ref()
            .map(|row| Self::head_of(row, what))
            .transpose()?;
        let rows = sqlx::query(SELECT_AUDIT)
            .fetch_all(&mut *tx)
            .await
            .map_err(query_error(what))?;
        tx.commit().await.map_err(query_error(what))?;
        let mut audit = Vec::with_capacity(rows.len());
        for row in &rows {
            audit.push(AuditRow {
                seq: column::<B, _>(row, "seq", what)?,
                time: column::<B, _>(row, "recorded_at", what)?,
                actor: column::<B, _>(row, "actor", what)?,
                action: column::<B, _>(row, "action", what)?,
                details: column::<B, _>(row, "details", what)?,
                previous_hash: column::<B, _>(row, "previous_hash", what)?,
                hash: column::<B, _>(row, "hash", what)?,
            });
        }
        Ok((head, audit))
    }
}
