//! The `Store` trait every backend implements, and `AnyStore`, the backend chosen at run time.

use std::future::Future;

use fixlane_core::audit::{AuditEntry, ChainBreak};
use jiff::Timestamp;

use crate::error::StoreError;
use crate::model::{GateRecord, NewRun, RunRecord};
use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;

/// Records and the hash-chained audit log.
///
/// Every state-changing method writes its change and its audit entry in one transaction: if the
/// entry cannot be written, nothing is. Appends are serialized across processes and server
/// replicas, so the chain never forks and sequence numbers never repeat.
pub trait Store {
    /// Appends a standalone audited action (e.g. `confirm-while-running`) and returns its entry.
    fn append_audit(
        &self,
        actor: &str,
        action: &str,
        details: serde_json::Value,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// Records a new run, audited as `run-started`. Fails with [`StoreError::RunExists`] when the
    /// run id is taken.
    fn start_run(
        &self,
        actor: &str,
        run: &NewRun,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// Inserts or updates gate results of a run in one transaction with one `gates-recorded`
    /// entry listing each gate, its state and exit code. Returns `None` (and writes nothing) when
    /// `gates` is empty.
    fn record_gates(
        &self,
        actor: &str,
        run_id: &str,
        gates: &[GateRecord],
    ) -> impl Future<Output = Result<Option<AuditEntry>, StoreError>> + Send;

    /// Records a run's verdict and reasons, audited as `run-verdict` with the rev and lane.
    fn finish_run(
        &self,
        actor: &str,
        run_id: &str,
        verdict: &str,
        reasons: &[String],
        finished_at: Timestamp,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// The most recently started run of `rev` (in `lane`, when given), with its gates.
    fn latest_run(
        &self,
        rev: &str,
        lane: Option<&str>,
    ) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;

    /// One run by id, with its gates.
    fn run(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;

    /// Logs `config-seen` when the config's hash differs from the last one logged; returns the
    /// entry, or `None` when the config is unchanged.
    fn record_config_seen(
        &self,
        actor: &str,
        file: &str,
        sha256: &str,
    ) -> impl Future<Output = Result<Option<AuditEntry>, StoreError>> + Send;

    /// Every audit entry, in sequence order.
    fn audit_entries(&self) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// The chain head as recorded apart from the log: `(last seq, its hash)`, or `None` while the
    /// log is empty.
    fn audit_head(&self) -> impl Future<Output = Result<Option<(i64, String)>, StoreError>> + Send;

    /// Recomputes the whole chain against the recorded head. The inner result is the number of
    /// entries checked, or the first entry that was altered, removed or reordered, or the
    /// truncation of the tail.
    fn verify_audit(
        &self,
    ) -> impl Future<Output = Result<Result<usize, ChainBreak>, StoreError>> + Send;
}

/// A store on whichever database [`crate::open`] was pointed at.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// An embedded `SQLite` file.
    Sqlite(SqliteStore),
    /// A shared `PostgreSQL` database.
    Postgres(PostgresStore),
}

impl AnyStore {
    /// `"sqlite"` or `"postgres"`, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// Closes the connections, waiting for them to finish.
    pub async fn close(&self) {
        match self {
            AnyStore::Sqlite(store) => store.pool().close().await,
            AnyStore::Postgres(store) => store.pool().close().await,
        }
    }
}

impl Store for AnyStore {
    async fn append_audit(
        &self,
        actor: &str,
        action: &str,
        details: serde_json::Value,
    ) -> Result<AuditEntry, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.append_audit(actor, action, details).await,
            AnyStore::Postgres(store) => store.append_audit(actor, action, details).await,
        }
    }

    async fn start_run(&self, actor: &str, run: &NewRun) -> Result<AuditEntry, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.start_run(actor, run).await,
            AnyStore::Postgres(store) => store.start_run(actor, run).await,
        }
    }

    async fn record_gates(
        &self,
        actor: &str,
        run_id: &str,
        gates: &[GateRecord],
    ) -> Result<Option<AuditEntry>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.record_gates(actor, run_id, gates).await,
            AnyStore::Postgres(store) => store.record_gates(actor, run_id, gates).await,
        }
    }

    async fn finish_run(
        &self,
        actor: &str,
        run_id: &str,
        verdict: &str,
        reasons: &[String],
        finished_at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        match self {
            AnyStore::Sqlite(store) => {
                store
                    .finish_run(actor, run_id, verdict, reasons, finished_at)
                    .await
            }
            AnyStore::Postgres(store) => {
                store
                    .finish_run(actor, run_id, verdict, reasons, finished_at)
                    .await
            }
        }
    }

    async fn latest_run(
        &self,
        rev: &str,
        lane: Option<&str>,
    ) -> Result<Option<RunRecord>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.latest_run(rev, lane).await,
            AnyStore::Postgres(store) => store.latest_run(rev, lane).await,
        }
    }

    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.run(run_id).await,
            AnyStore::Postgres(store) => store.run(run_id).await,
        }
    }

    async fn record_config_seen(
        &self,
        actor: &str,
        file: &str,
        sha256: &str,
    ) -> Result<Option<AuditEntry>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.record_config_seen(actor, file, sha256).await,
            AnyStore::Postgres(store) => store.record_config_seen(actor, file, sha256).await,
        }
    }

    async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.audit_entries().await,
            AnyStore::Postgres(store) => store.audit_entries().await,
        }
    }

    async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.audit_head().await,
            AnyStore::Postgres(store) => store.audit_head().await,
        }
    }

    async fn verify_audit(&self) -> Result<Result<usize, ChainBreak>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.verify_audit().await,
            AnyStore::Postgres(store) => store.verify_audit().await,
        }
    }
}
