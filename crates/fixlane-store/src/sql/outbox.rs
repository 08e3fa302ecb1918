//! The webhook outbox: rows written by the audit append (see `write`), each configured webhook's
//! delivery of them planned, claimed by one drainer at a time with a lease (on `PostgreSQL`
//! with `FOR UPDATE SKIP LOCKED`, so replicas never wait on each other), and finished as
//! delivered, skipped, retried later or given up; and the once-only notice of an overdue
//! follow-up, an audited action of its own.

use fixlane_core::audit::{AuditAction, AuditEntry, FollowUpOverdue};
use fixlane_core::followup::FollowUpKind;
use fixlane_core::{IncidentId, PersonName};
use jiff::Timestamp;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::write::{Audit, Change};
use super::{SqlStore, column, validate_actor};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{
    DeliveryClaim, DeliveryOutcome, HookStatus, format_time, parse_json, parse_text, parse_time,
};

/// Every outbox row since `$2` that hook `$1` has no delivery of yet becomes one, due at once.
const PLAN: &str = "INSERT INTO webhook_deliveries (seq, hook, attempts, next_attempt_at) \
     SELECT o.seq, $1, 0, o.created_at FROM outbox o WHERE o.created_at >= $2 \
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.seq = o.seq AND d.hook = $1) \
     ON CONFLICT (seq, hook) DO NOTHING";

/// The claim, as `PostgreSQL` takes it: rows another replica holds are skipped, not waited on.
const CLAIM_POSTGRES: &str = "UPDATE webhook_deliveries SET claimed_until = $1 \
     WHERE (seq, hook) IN (SELECT seq, hook FROM webhook_deliveries \
     WHERE hook = $2 AND delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $3 \
     AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY seq LIMIT $4 \
     FOR UPDATE SKIP LOCKED) RETURNING seq, attempts";

/// The claim on `SQLite`, whose one writer at a time makes the same statement atomic.
const CLAIM_SQLITE: &str = "UPDATE webhook_deliveries SET claimed_until = $1 \
     WHERE (seq, hook) IN (SELECT seq, hook FROM webhook_deliveries \
     WHERE hook = $2 AND delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $3 \
     AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY seq LIMIT $4) \
     RETURNING seq, attempts";

const SELECT_ENTRY: &str = "SELECT seq, recorded_at, actor, action, details, previous_hash, hash \
     FROM audit_log WHERE seq = $1";

const DELIVERED: &str = "UPDATE webhook_deliveries SET delivered_at = $1, claimed_until = NULL, \
     attempts = attempts + $2, last_error = NULL WHERE seq = $3 AND hook = $4 \
     AND delivered_at IS NULL";

const RETRY: &str = "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1, \
     claimed_until = NULL, last_error = $2 WHERE seq = $3 AND hook = $4 AND delivered_at IS NULL";

const GIVE_UP: &str = "UPDATE webhook_deliveries SET attempts = attempts + 1, gave_up_at = $1, \
     claimed_until = NULL, last_error = $2 WHERE seq = $3 AND hook = $4 AND delivered_at IS NULL";

const STATUS: &str = "SELECT hook, \
     SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered, \
     SUM(CASE WHEN delivered_at IS NULL AND gave_up_at IS NULL THEN 1 ELSE 0 END) AS pending, \
     SUM(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END) AS failed, \
     SUM(CASE WHEN delivered_at IS NULL AND gave_up_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END) AS retrying, \
     MAX(last_error) AS last_error FROM webhook_deliveries GROUP BY hook ORDER BY hook";

const SELECT_NEWLY_OVERDUE: &str = "SELECT f.incident, f.seq, f.kind, f.owner, f.due_at \
     FROM followups f WHERE f.closed_at IS NULL AND f.due_at < $1 AND NOT EXISTS \
     (SELECT 1 FROM followup_overdue_notices n WHERE n.incident = f.incident AND n.seq = f.seq) \
     ORDER BY f.due_at, f.incident, f.seq";

const NOTE_OVERDUE: &str = "INSERT INTO followup_overdue_notices (incident, seq, noted_at) \
     VALUES ($2, $3, $1) ON CONFLICT (incident, seq) DO NOTHING";

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
    /// Plans hook `hook`'s deliveries of every outbox row since `since` it has none of yet;
    /// returns how many were planned. A hook added today is not sent last year's history.
    pub(crate) async fn plan_deliveries(
        &self,
        hook: &str,
        since: Timestamp,
    ) -> Result<u64, StoreError> {
        let planned = sqlx::query(PLAN)
            .bind(hook)
            .bind(format_time(since))
            .execute(&self.pool)
            .await
            .map_err(query_error("plan the webhook deliveries"))?;
        Ok(B::rows_affected(&planned))
    }

    /// Claims up to `limit` of hook `hook`'s due deliveries until `lease_until`: no other
    /// drainer takes them before the lease ends. Oldest first.
    pub(crate) async fn claim_deliveries(
        &self,
        hook: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<DeliveryClaim>, StoreError> {
        let what = "claim the webhook deliveries";
        let statement = if B::KIND == "postgres" {
            CLAIM_POSTGRES
        } else {
            CLAIM_SQLITE
        };
        let rows = sqlx::query(statement)
            .bind(format_time(lease_until))
            .bind(hook)
            .bind(format_time(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error(what))?;
        let mut claims = Vec::with_capacity(rows.len());
        for row in &rows {
            let attempts: i32 = column::<B, Option<i32>>(row, "attempts", what)?.unwrap_or(0);
            let seq: i64 = column::<B, _>(row, "seq", what)?;
            claims.push(DeliveryClaim {
                seq,
                attempts: u32::try_from(attempts).unwrap_or(0),
            });
        }
        claims.sort_by_key(|claim| claim.seq);
        Ok(claims)
    }

    /// The audit entry `seq`, as stored.
    pub(crate) async fn audit_entry(&self, seq: i64) -> Result<Option<AuditEntry>, StoreError> {
        let what = "read an audit entry";
        let Some(row) = sqlx::query(SELECT_ENTRY)
            .bind(seq)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error(what))?
        else {
            return Ok(None);
        };
        let details: String = column::<B, _>(&row, "details", what)?;
        Ok(Some(AuditEntry {
            seq: column::<B, _>(&row, "seq", what)?,
            time: column::<B, _>(&row, "recorded_at", what)?,
            actor: column::<B, _>(&row, "actor", what)?,
            action: column::<B, _>(&row, "action", what)?,
            details: parse_json(&details, format!("audit entry {seq}: details"))?,
            previous_hash: column::<B, _>(&row, "previous_hash", what)?,
            hash: column::<B, _>(&row, "hash", what)?,
        }))
    }

    /// Records how a claimed delivery ended.
    pub(crate) async fn finish_delivery(
        &self,
        hook: &str,
        seq: i64,
        outcome: &DeliveryOutcome,
    ) -> Result<(), StoreError> {
        let what = "record a webhook delivery";
        let query = match outcome {
            DeliveryOutcome::Delivered { at } => {
                sqlx::query(DELIVERED).bind(format_time(*at)).bind(1_i64)
            }
            DeliveryOutcome::Skipped { at } => {
                sqlx::query(DELIVERED).bind(format_time(*at)).bind(0_i64)
            }
            DeliveryOutcome::Retry { at, error } => sqlx::query(RETRY)
                .bind(format_time(*at))
                .bind(error.as_str()),
            DeliveryOutcome::GaveUp { at, error } => sqlx::query(GIVE_UP)
                .bind(format_time(*at))
                .bind(error.as_str()),
        };
        query
            .bind(seq)
            .bind(hook)
            .execute(&self.pool)
            .await
            .map_err(query_error(what))?;
        Ok(())
    }

    /// Each hook's deliveries: delivered, pending, given up, and the last error.
    pub(crate) async fn delivery_status(&self) -> Result<Vec<HookStatus>, StoreError> {
        let what = "read the webhook deliveries";
        let rows = sqlx::query(STATUS)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error(what))?;
        let count = |row: &B::Row, name: &str| -> Result<u64, StoreError> {
            let value: Option<i64> = column::<B, _>(row, name, what)?;
            Ok(value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
        };
        let mut status = Vec::with_capacity(rows.len());
        for row in &rows {
            status.push(HookStatus {
                hook: column::<B, _>(row, "hook", what)?,
                delivered: count(row, "delivered")?,
                pending: count(row, "pending")?,
                failed: count(row, "failed")?,
                retrying: count(row, "retrying")?,
                last_error: column::<B, _>(row, "last_error", what)?,
            });
        }
        Ok(status)
    }

    /// Notes every open follow-up past its deadline at `now` that was not noted yet, each with
    /// a `followup-overdue` entry (which the outbox announces), in one transaction; racing
    /// drainers note each once.
    pub(crate) async fn note_overdue(
        &self,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        validate_actor(actor, "an overdue notice")?;
        let what = "read the overdue follow-ups";
        let change = self
            .write(actor, "note the overdue follow-ups", async |conn| {
                let rows = sqlx::query(SELECT_NEWLY_OVERDUE)
                    .bind(format_time(now))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(query_error(what))?;
                if rows.is_empty() {
                    return Ok(Change::Unchanged(()));
                }
                let mut audits = Vec::with_capacity(rows.len());
                for row in &rows {
                    let incident: String = column::<B, _>(row, "incident", what)?;
                    // `followups.seq` is a 32-bit INTEGER on PostgreSQL.
                    let seq = i64::from(column::<B, Option<i32>>(row, "seq", what)?.unwrap_or(0));
                    let kind: String = column::<B, _>(row, "kind", what)?;
                    let owner: String = column::<B, _>(row, "owner", what)?;
                    let due_at: String = column::<B, _>(row, "due_at", what)?;
                    let context = format!("a follow-up of {incident}");
                    sqlx::query(NOTE_OVERDUE)
                        .bind(format_time(now))
                        .bind(incident.as_str())
                        .bind(seq)
                        .execute(&mut *conn)
                        .await
                        .map_err(query_error("note an overdue follow-up"))?;
                    let action = AuditAction::FollowUpOverdue(FollowUpOverdue {
                        id: parse_text(&incident, &context, IncidentId::parse)?,
                        seq,
                        kind: FollowUpKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                            what: format!("{context}: `{kind}` is not a follow-up kind"),
                        })?,
                        owner: parse_text(&owner, &context, PersonName::parse)?,
                        due_at: parse_time(&due_at, format!("{context}: due_at"))?,
                    });
                    audits.push(Audit::of(&action)?);
                }
                Ok(Change::Made((), audits))
            })
            .await?;
        Ok(change.map(|((), entries)| entries).unwrap_or_default())
    }
}
