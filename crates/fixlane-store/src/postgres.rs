//! The `PostgreSQL` backend for teams and server replicas: appends lock the one-row `audit_head`
//! (`SELECT … FOR UPDATE`), which serializes writers across every replica.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use crate::error::{StoreError, query_error, redact};

/// Locks the head row for the rest of the transaction; other writers wait here.
const READ_HEAD_FOR_APPEND: &str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";

/// A store in a `PostgreSQL` database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…` or `postgresql://…`) and brings the tables up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let shown = redact(url);
        let options =
            PgConnectOptions::from_str(url).map_err(|source| StoreError::BadLocation {
                location: shown.clone(),
                reason: source.to_string(),
            })?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::ConnectPostgres {
                url: shown.clone(),
                source,
            })?;
        crate::migrations::run_postgres(&pool, &shown).await?;
        Ok(Self { pool })
    }

    /// The connection pool, for maintenance and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A write transaction; the append lock is the head row's `FOR UPDATE`.
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin()
            .await
            .map_err(query_error("begin a write transaction"))
    }

    /// A read-only snapshot so the head and the log are read at one instant.
    async fn begin_read(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(query_error("begin a read transaction"))
    }
}

crate::backend::impl_store!(PostgresStore, Postgres);
