//! The `PostgreSQL` backend for teams and server replicas: appends lock the one-row `audit_head`
//! (`SELECT … FOR UPDATE`), which serializes writers across every replica.
//!
//! This module connects (writable, or read-only for an auditor) and says how `PostgreSQL`
//! begins transactions; the store's SQL is [`crate::SqlStore`], shared with `SQLite`.

use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Pool, Postgres, Transaction};

use crate::backend::Backend;
use crate::connect::{ANSWER_TIMEOUT, first_connection};
use crate::error::{StoreError, query_error};
use crate::location::StoreLocation;
use crate::sql::SqlStore;

/// A store in a `PostgreSQL` database.
pub type PostgresStore = SqlStore<Postgres>;

impl Backend for Postgres {
    const KIND: &'static str = "postgres";

    /// Locks the head row for the rest of the transaction; other writers wait here.
    const READ_HEAD_FOR_APPEND: &'static str =
        "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";

    /// A write transaction; the append lock is the head row's `FOR UPDATE`. Its commit does
    /// not wait for the disk: [`Backend::make_durable`] does, after the lock is released.
    async fn begin_write(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, StoreError> {
        let mut tx = pool
            .begin()
            .await
            .map_err(query_error("begin a write transaction"))?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await
            .map_err(query_error("begin a write transaction"))?;
        Ok(tx)
    }

    /// A transaction that is given an id commits with a commit record, and with the session's
    /// `synchronous_commit` (on, unless the database's operator chose otherwise) that commit
    /// flushes the WAL up to its record, which lies after every commit already made: when it
    /// returns, they are all on disk. Concurrent writers' flushes are one flush.
    async fn make_durable(pool: &Pool<Self>) -> Result<(), StoreError> {
        sqlx::query("SELECT txid_current()")
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(query_error(
                "confirm that the change reached the database's disk (it was committed; \
                 `fixlane audit log` shows it)",
            ))
    }

    /// A read-only snapshot so the head and the log are read at one instant.
    async fn begin_read(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, StoreError> {
        pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(query_error("begin a read transaction"))
    }

    const JSON_ARRAY_AGG: &'static str = "json_agg";
    const JSON_ARRAY: &'static str = "json_build_array";
    const TEXT_AGG: &'static str = "string_agg";

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

impl SqlStore<Postgres> {
    /// Connects to the database at `location` and brings the tables up to date.
    pub async fn open(location: &StoreLocation) -> Result<Self, StoreError> {
        let options = options_of(location)?;
        // One direct connection first: it names a refused connection, a missing database or a
        // refused login at once, where the pool would retry until its timeout.
        let connection = first_connection(location, options, ANSWER_TIMEOUT).await?;
        let _ = connection.close().await;
        let pool = pool(options.clone());
        crate::migrations::run_postgres(&pool, location).await?;
        Ok(Self::new(pool))
    }

    /// Connects to the database at `location` for reading only: every transaction is read-only
    /// (`default_transaction_read_only`), no migration runs, and a role granted only `SELECT`
    /// on the store's tables suffices. The schema must be the one this fixlane knows.
    pub async fn open_read_only(location: &StoreLocation) -> Result<Self, StoreError> {
        let options = options_of(location)?
            .clone()
            .options([("default_transaction_read_only", "on")]);
        let mut connection = first_connection(location, &options, ANSWER_TIMEOUT).await?;
        crate::schema::check_postgres(&mut connection, location).await?;
        let _ = connection.close().await;
        Ok(Self::new(pool(options)))
    }
}

/// The connection options of a `PostgreSQL` location.
fn options_of(location: &StoreLocation) -> Result<&PgConnectOptions, StoreError> {
    location
        .postgres_options()
        .ok_or_else(|| StoreError::BadLocation {
            location: location.to_string(),
            reason: "it is not a postgres:// URL".to_owned(),
        })
}

/// The pool the store's queries use, connecting on first use: the first connection already
/// proved the server reachable.
fn pool(options: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(options)
}
