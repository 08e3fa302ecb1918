//! [`Backend`]: the little that differs between `SQLite` and `PostgreSQL`, so the store's SQL
//! ([`crate::sql`]) is written once, generic over the database.
//!
//! What differs is only how a transaction begins and how the audit append lock is taken:
//! `SQLite` holds its write lock from `BEGIN IMMEDIATE`, `PostgreSQL` locks the one-row
//! `audit_head` with `SELECT … FOR UPDATE`, and a `PostgreSQL` read is a repeatable-read snapshot.
//! (And how a statement's count of changed rows is read, which sqlx leaves to each driver, and
//! the names of the three aggregate functions the bulk reads use.)
//! The SQL itself needs no dialect switch: both accept `$N` placeholders and
//! `ON CONFLICT … DO UPDATE`, and both keep timestamps and JSON as text, so rows decode the same.
//!
//! # The driver bounds
//!
//! The SQL runs on `&mut B::Connection` and binds and reads text, `i64`, `bool` and nullable
//! text, `i64` and `i32` (sqlx implements `Encode` for `Option` per driver, not once). Rust
//! carries a trait's bounds on *other* types (`String: Encode<B>`, `&mut B::Connection:
//! Executor`) to no one who names the trait, so each generic `impl` over a backend repeats them:
//!
//! ```text
//! where
//!     B: Backend,
//!     for<'c> &'c mut B::Connection: Executor<'c, Database = B>,
//!     for<'a> &'a str: ColumnIndex<B::Row> + Encode<'a, B> + Type<B>,
//!     String: ColumnType<B>,
//!     Option<String>: ColumnType<B>,
//!     i64: ColumnType<B>,
//!     Option<i64>: ColumnType<B>,
//!     Option<i32>: ColumnType<B>,
//!     bool: ColumnType<B>,
//! ```
//!
//! A column of a new Rust type adds one line to each. (sqlx's own `Any` driver would avoid the
//! bounds, and its value types would fit ours, but it does not read `SQLite`'s `BOOLEAN` columns,
//! it connects only from a URL, so the `SQLite` options set in code — WAL, the busy timeout, the
//! immutable read-only fallback — would be lost, and it hides the typed pools the migrations,
//! the schema check and the tests use.)

use std::future::Future;

use sqlx::{Database, Decode, Encode, IntoArguments, Pool, Transaction, Type};

use crate::error::StoreError;

/// A database the store runs on: implemented for [`sqlx::Sqlite`] and [`sqlx::Postgres`].
pub trait Backend: Database<Arguments: IntoArguments<Self>> {
    /// `"sqlite"` or `"postgres"`, for messages.
    const KIND: &'static str;

    /// Reads the audit chain head (`seq`, `hash`) and, where the transaction does not hold the
    /// write lock already, takes it: other writers wait here until this one commits.
    const READ_HEAD_FOR_APPEND: &'static str;

    /// A write transaction. With [`Backend::READ_HEAD_FOR_APPEND`] run first, no other writer
    /// can change anything it reads until it commits.
    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, StoreError>> + Send;

    /// Returns once every write committed through `pool` so far is on disk. A `PostgreSQL`
    /// write transaction commits without waiting for its WAL to be flushed
    /// (`synchronous_commit = off`, set for that transaction only), so the append lock, which
    /// every writer of every replica waits for, is held for the statements alone and not for a
    /// disk flush as well; the writer then waits here, outside the lock, where many writers
    /// share one flush. Either way a write is acknowledged only once it is as durable as the
    /// database makes it. (`SQLite`'s commit is that when it returns — WAL with `synchronous =
    /// NORMAL`, which a crash of the process cannot undo — so there is nothing to wait for.)
    fn make_durable(pool: &Pool<Self>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A read transaction: one consistent snapshot for all its reads.
    fn begin_read(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, StoreError>> + Send;

    /// The aggregate that builds one JSON array of its argument's values, in the order its
    /// `ORDER BY` names (`json_group_array` / `json_agg`): a read of thousands of rows is then
    /// one row for the driver to hand over, which is what keeps `due` and `stats` fast.
    const JSON_ARRAY_AGG: &'static str;

    /// The function that builds one JSON array of its arguments (`json_array` /
    /// `json_build_array`), each row of such a read.
    const JSON_ARRAY: &'static str;

    /// The aggregate that joins text with a separator, in the order its `ORDER BY` names
    /// (`group_concat` / `string_agg`).
    const TEXT_AGG: &'static str;

    /// How many rows a statement changed (each driver has its own result type, and sqlx has no
    /// trait for the count).
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// A Rust type the store binds to and reads from a column of database `DB`: shorthand for the
/// three sqlx traits that takes, so each bound list above names it once.
pub trait ColumnType<DB: Database>:
    for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB> + Send
{
}

impl<DB, T> ColumnType<DB> for T
where
    DB: Database,
    T: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB> + Send,
{
}
