//! The embedded `SQLite` backend: one file, WAL journal, appends serialized by `BEGIN IMMEDIATE`
//! so several processes on one file never fork the audit chain.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::error::{StoreError, query_error};
use crate::location::StoreLocation;

/// On `SQLite` the write lock is taken by `BEGIN IMMEDIATE`, so a plain read of the head suffices.
const READ_HEAD_FOR_APPEND: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";

/// How long a writer waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A store in a `SQLite` file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating when missing, with its parent directories) the store file at `path` and
    /// brings its tables up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_owned(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // Switching a brand-new file to WAL needs a lock that SQLite refuses at once (no busy
        // handler) when another process is doing the same, so two runs starting together on a
        // fresh repository retry briefly instead of failing.
        let mut attempt = 0;
        let pool = loop {
            match SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options.clone())
                .await
            {
                Ok(pool) => break pool,
                Err(source) if attempt < 50 && is_busy(&source) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(source) => {
                    return Err(StoreError::OpenSqlite {
                        path: path.to_owned(),
                        source,
                    });
                }
            }
        };
        let location = StoreLocation::sqlite(path);
        crate::migrations::run_sqlite(&pool, &location).await?;
        Ok(Self {
            pool,
            path: path.to_owned(),
        })
    }

    /// The connection pool, for maintenance and tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A write transaction holding `SQLite`'s write lock from its first statement, so the head
    /// read and the append cannot interleave with another writer.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error("take the store's write lock (BEGIN IMMEDIATE)"))
    }

    /// A read transaction: one WAL snapshot for all its reads.
    async fn begin_read(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin()
            .await
            .map_err(query_error("begin a read transaction"))
    }
}

/// `SQLITE_BUSY` (5) or `SQLITE_LOCKED` (6): another connection holds the lock right now.
fn is_busy(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .is_some_and(|code| code == "5" || code == "6")
}

crate::backend::impl_store!(SqliteStore, Sqlite);
