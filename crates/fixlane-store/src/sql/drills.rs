//! Game days: the mark that makes a store a drill's sandbox (every emergency declared in it is a
//! drill), and each drill's result kept in the repository's own store, so `stats` knows when the
//! emergency lane was last exercised. Both are written with their audit entry in one
//! transaction.

use fixlane_core::audit::{AuditAction, AuditEntry, DrillRecorded, DrillSandbox};
use jiff::Timestamp;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::write::{Audit, Change};
use super::{SqlStore, column, validate_actor};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{DrillRecord, format_time, parse_json, parse_time};

/// `ON CONFLICT DO NOTHING`: marking a sandbox twice leaves the first mark (and no second entry).
const INSERT_SANDBOX: &str = "INSERT INTO drill_sandbox (id, created_at, created_by) \
     VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING";

const SELECT_SANDBOX: &str = "SELECT created_at FROM drill_sandbox WHERE id = 1";

const INSERT_DRILL: &str = "INSERT INTO drills \
     (id, started_at, finished_at, actor, regression, passed, summary) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

const SELECT_LATEST_DRILL: &str = "SELECT id, started_at, finished_at, actor, regression, \
     passed, summary FROM drills ORDER BY finished_at DESC, id DESC LIMIT 1";

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
    /// Makes this store a drill's sandbox; `None` when it already was one.
    pub(crate) async fn mark_drill_sandbox(
        &self,
        actor: &str,
    ) -> Result<Option<AuditEntry>, StoreError> {
        validate_actor(actor, "a drill sandbox")?;
        let change = self
            .write(actor, "mark the drill sandbox", async |conn| {
                let now = Timestamp::now();
                let inserted = sqlx::query(INSERT_SANDBOX)
                    .bind(format_time(now))
                    .bind(actor)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("mark the drill sandbox"))?;
                if B::rows_affected(&inserted) == 0 {
                    return Ok(Change::Unchanged(()));
                }
                let action = AuditAction::DrillSandbox(DrillSandbox { at: now });
                Ok(Change::Made((), Audit::of(&action)?))
            })
            .await?;
        Ok(change.ok().map(|((), entry)| entry))
    }

    /// Whether this store is a drill's sandbox.
    pub(crate) async fn is_drill_sandbox(&self) -> Result<bool, StoreError> {
        let row = sqlx::query(SELECT_SANDBOX)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("read the drill sandbox mark"))?;
        Ok(row.is_some())
    }

    /// Keeps one drill's result, audited as `drill-recorded`.
    pub(crate) async fn record_drill(
        &self,
        drill: &DrillRecord,
        failed_step: Option<&str>,
        steps: usize,
    ) -> Result<AuditEntry, StoreError> {
        validate_actor(&drill.actor, "a drill")?;
        let summary = fixlane_core::audit::canonical_json(&drill.summary);
        let Ok(((), entry)) = self
            .write(&drill.actor, "record the drill", async |conn| {
                sqlx::query(INSERT_DRILL)
                    .bind(drill.id.as_str())
                    .bind(format_time(drill.started_at))
                    .bind(format_time(drill.finished_at))
                    .bind(drill.actor.as_str())
                    .bind(drill.regression)
                    .bind(drill.passed)
                    .bind(summary.as_str())
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the drill"))?;
                let action = AuditAction::DrillRecorded(DrillRecorded {
                    drill_id: drill.id.clone(),
                    regression: drill.regression,
                    passed: drill.passed,
                    steps,
                    failed_step: failed_step.map(str::to_owned),
                });
                Ok(Change::made((), Audit::of(&action)?))
            })
            .await?;
        Ok(entry)
    }

    /// The drill that finished last, if any ran.
    pub(crate) async fn latest_drill(&self) -> Result<Option<DrillRecord>, StoreError> {
        let what = "read the latest drill";
        let Some(row) = sqlx::query(SELECT_LATEST_DRILL)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error(what))?
        else {
            return Ok(None);
        };
        let id: String = column::<B, _>(&row, "id", what)?;
        let started_at: String = column::<B, _>(&row, "started_at", what)?;
        let finished_at: String = column::<B, _>(&row, "finished_at", what)?;
        let summary: String = column::<B, _>(&row, "summary", what)?;
        Ok(Some(DrillRecord {
            started_at: parse_time(&started_at, format!("drill {id}: started_at"))?,
            finished_at: parse_time(&finished_at, format!("drill {id}: finished_at"))?,
            actor: column::<B, _>(&row, "actor", what)?,
            regression: column::<B, _>(&row, "regression", what)?,
            passed: column::<B, _>(&row, "passed", what)?,
            summary: parse_json(&summary, format!("drill {id}: summary"))?,
            id,
        }))
    }
}
