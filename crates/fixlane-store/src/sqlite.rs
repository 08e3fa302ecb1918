//! The embedded `SQLite` backend: one file, WAL journal, appends serialized by `BEGIN IMMEDIATE`
//! so several processes on one file never fork the audit chain.
//!
//! This module opens the file (writable, or read-only for an auditor) and says how `SQLite`
//! begins transactions; the store's SQL is [`crate::SqlStore`], shared with `PostgreSQL`.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Pool, Sqlite, Transaction};

use crate::backend::Backend;
use crate::error::{StoreError, query_error};
use crate::location::StoreLocation;
use crate::sql::SqlStore;

/// How long a writer waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A store in a `SQLite` file.
pub type SqliteStore = SqlStore<Sqlite>;

impl Backend for Sqlite {
    const KIND: &'static str = "sqlite";

    /// The write lock is taken by `BEGIN IMMEDIATE`, so a plain read of the head suffices.
    const READ_HEAD_FOR_APPEND: &'static str = "SELECT seq, hash FROM audit_head WHERE id = 1";

    /// A write transaction holding `SQLite`'s write lock from its first statement, so the head
    /// read and the append cannot interleave with another writer.
    async fn begin_write(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, StoreError> {
        pool.begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error("take the store's write lock (BEGIN IMMEDIATE)"))
    }

    /// `SQLite`'s commit is as durable as this store makes it once it returns.
    async fn make_durable(_pool: &Pool<Self>) -> Result<(), StoreError> {
        Ok(())
    }

    /// A read transaction: one WAL snapshot for all its reads.
    async fn begin_read(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, StoreError> {
        pool.begin()
            .await
            .map_err(query_error("begin a read transaction"))
    }

    const JSON_ARRAY_AGG: &'static str = "json_group_array";
    const JSON_ARRAY: &'static str = "json_array";
    const TEXT_AGG: &'static str = "group_concat";

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

/// The connections of a store that serves many requests at once (the server's).
pub(crate) const SHARED_CONNECTIONS: u32 = 4;

impl SqlStore<Sqlite> {
    /// Opens (creating when missing, with its parent directories) the store file at `path` and
    /// brings its tables up to date, with a pool of [`SHARED_CONNECTIONS`].
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, SHARED_CONNECTIONS).await
    }

    /// [`Self::open`] with a pool of at most `connections` connections (at least one).
    pub async fn open_with(path: &Path, connections: u32) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                dir: dir.to_owned(),
                cause: source,
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
                .max_connections(connections.max(1))
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
                        cause: source,
                    });
                }
            }
        };
        let location = StoreLocation::sqlite(path);
        crate::migrations::run_sqlite(&pool, &location).await?;
        Ok(Self::new(pool))
    }

    /// Opens the store file at `path` for reading only: nothing is created, no migration runs,
    /// and every write fails. The schema must be the one this fixlane knows.
    ///
    /// Reading a WAL-mode file needs its `-shm` and `-wal` files, which `SQLite` creates when
    /// the directory allows. When it does not (a read-only copy of the file alone in a
    /// read-only directory) and there is no `-wal` file whose changes would be missed, the file
    /// is opened as immutable: `SQLite` then reads it without locks or shared memory.
    pub async fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let location = StoreLocation::sqlite(path);
        let open_error = |source| StoreError::OpenSqlite {
            path: path.to_owned(),
            cause: source,
        };
        match std::fs::metadata(path) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NoStore { location });
            }
            Err(error) => return Err(open_error(sqlx::Error::Io(error))),
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = read_only_pool(options.clone()).await.map_err(open_error)?;
        let pool = match probe(&pool).await {
            Ok(()) => pool,
            Err(error) if cannot_set_up_wal(&error) && !has_pending_wal(path) => {
                pool.close().await;
                let pool = read_only_pool(options.immutable(true))
                    .await
                    .map_err(open_error)?;
                probe(&pool).await.map_err(open_error)?;
                pool
            }
            Err(error) if cannot_set_up_wal(&error) => {
                return Err(StoreError::ReadOnlyWal {
                    path: path.to_owned(),
                    cause: error,
                });
            }
            Err(error) => return Err(open_error(error)),
        };
        crate::schema::check_sqlite(&pool, &location)
            .await
            .map_err(|error| match error {
                // The file exists, so it is not a store that was never created.
                StoreError::NoStore { .. } => StoreError::EmptySqlite {
                    path: path.to_owned(),
                },
                other => other,
            })?;
        Ok(Self::new(pool))
    }
}

/// A pool of read-only connections.
async fn read_only_pool(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
}

/// The first read of the file, where `SQLite` sets up what reading a WAL-mode file needs.
async fn probe(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT count(*) FROM sqlite_schema")
        .execute(pool)
        .await
        .map(|_| ())
}

/// `SQLITE_READONLY` (8, with any extended code) or `SQLITE_CANTOPEN` (14): a WAL-mode file
/// whose `-shm` and `-wal` files cannot be created.
fn cannot_set_up_wal(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 8 | 14))
}

/// A `-wal` file with content: changes not yet in the main file, which an immutable open would
/// not see.
fn has_pending_wal(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).is_ok_and(|wal| wal.len() > 0)
}

/// `SQLITE_BUSY` (5) or `SQLITE_LOCKED` (6): another connection holds the lock right now.
fn is_busy(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(sqlx::error::DatabaseError::code)
        .is_some_and(|code| code == "5" || code == "6")
}
