//! The store's SQL, written once for both databases: [`SqlStore`], generic over a [`Backend`],
//! has one method for each of [`crate::Store`]'s, which [`crate::AnyStore`] dispatches to.
//!
//! One file per concept, each an `impl` block of `SqlStore` holding that concept's statements,
//! row decoding and methods:
//!
//! | module | what it holds |
//! |---|---|
//! | `write` | [`SqlStore::write`], the one way state changes, and the audit append it ends with |
//! | `runs` | runs, their gate results, abandoned runs |
//! | `emergencies` | emergency records and rate reviews |
//! | `canaries` | canary runs and their events |
//! | `followups` | each emergency's follow-ups, opened and closed with their audit entries |
//! | `drills` | the drill-sandbox mark and each drill's result |
//! | `outbox` | the webhook outbox: deliveries planned, claimed, finished; overdue notices |
//! | `tokens` | per-person tokens, issued, revoked and checked against their stored hash |
//! | `sessions` | dashboard sessions, started and ended, looked up with their token's state |
//! | `audit` | standalone audit entries, `config-seen`, reading and verifying the chain |
//!
//! `SqlStore` does not implement [`crate::Store`] itself: `AnyStore` is its one implementation,
//! so a new method is its signature in the trait, its SQL here, and one dispatching line there.
//! Each `impl` here repeats the driver bounds explained in [`crate::backend`].

mod audit;
mod canaries;
mod drills;
mod emergencies;
mod followups;
mod outbox;
mod runs;
mod sessions;
mod tokens;
mod write;

use std::fmt;

use sqlx::{ColumnIndex, Database, Decode, Pool, Row as _, Type};

use crate::backend::Backend;
use crate::error::{StoreError, query_error};

/// A store on database `B`: [`crate::SqliteStore`] or [`crate::PostgresStore`].
pub struct SqlStore<B: Database> {
    pool: Pool<B>,
    /// The token every write through this handle was made with (see
    /// [`SqlStore::with_token`]).
    token: Option<fixlane_core::token::TokenId>,
}

impl<B: Database> SqlStore<B> {
    /// A store on `pool`, whose tables are already checked or brought up to date.
    pub(crate) fn new(pool: Pool<B>) -> Self {
        Self { pool, token: None }
    }

    /// The same store, on the same connections, for writes made with `token`: every audit entry
    /// written through it names the token in its details, as
    /// [`fixlane_core::audit::WithToken`] does, including the entries the store builds itself
    /// (a run's start, gates and verdict).
    #[must_use]
    pub fn with_token(&self, token: &fixlane_core::token::TokenId) -> Self {
        Self {
            pool: self.pool.clone(),
            token: Some(token.clone()),
        }
    }

    /// The connection pool, for maintenance and tests.
    pub fn pool(&self) -> &Pool<B> {
        &self.pool
    }
}

impl<B: Backend> SqlStore<B> {
    /// `"sqlite"` or `"postgres"`, for messages.
    pub fn kind(&self) -> &'static str {
        B::KIND
    }
}

// By hand: a derive would ask `B` itself to be `Clone` and `Debug`, which only its pool is.
impl<B: Database> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            token: self.token.clone(),
        }
    }
}

impl<B: Database> fmt::Debug for SqlStore<B> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SqlStore")
            .field("pool", &self.pool)
            .field("token", &self.token)
            .finish()
    }
}

/// A read of many rows as one: every row a JSON array of `columns`, all of them one JSON array
/// built by the database and handed over as one text value named `bulk`. `rest` is the
/// statement's `FROM … WHERE …`. The driver's hand-over of each row (a thread switch and a copy
/// per value with `SQLite`) is what cost most when `due` read 26 000 follow-ups; one value costs
/// one hand-over, and `serde_json` reads the array in one pass. The array is in no particular
/// order: an `ORDER BY` inside the aggregate makes `SQLite` sort the built values in a temporary
/// B-tree, which cost more than the read, so the caller sorts what it parsed.
fn bulk_query<B: Backend>(columns: &str, rest: &str) -> String {
    format!(
        "SELECT CAST(COALESCE({aggregate}({array}({columns})), '[]') AS TEXT) AS bulk {rest}",
        aggregate = B::JSON_ARRAY_AGG,
        array = B::JSON_ARRAY,
    )
}

/// The rows of a [`bulk_query`]'s result, each read as a `T` (a tuple of the columns), which may
/// borrow its text from `text`.
fn parse_bulk<'a, T: serde::Deserialize<'a>>(
    text: &'a str,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
        what: format!("{what}: the rows do not read as expected ({error})"),
    })
}

/// Reads column `name` of a row; `what` says what was being read, for the error.
fn column<'r, B, T>(row: &'r B::Row, name: &str, what: &'static str) -> Result<T, StoreError>
where
    B: Database,
    T: Decode<'r, B> + Type<B>,
    for<'a> &'a str: ColumnIndex<B::Row>,
{
    row.try_get(name).map_err(query_error(what))
}

/// Refuses an empty actor before anything is written.
fn validate_actor(actor: &str, doing: &str) -> Result<(), StoreError> {
    if actor.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: format!("{doing} without an actor: name who is acting"),
        });
    }
    Ok(())
}

/// Refuses an empty (or blank) value before anything is written.
fn validate_present(value: &str, what: impl FnOnce() -> String) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::Invalid { what: what() });
    }
    Ok(())
}
