//! fixlane's records and its tamper-evident audit log, on an embedded `SQLite` file or a shared
//! `PostgreSQL` database.
//!
//! [`open`] picks the backend from a location; [`Store`] is the interface, implemented by
//! [`AnyStore`] (`any.rs`) with the SQL written once for both databases in [`SqlStore`]
//! (`sql/`), generic over a [`Backend`] (what differs between them: `backend.rs`, `sqlite.rs`,
//! `postgres.rs`). Every state change is written in one
//! transaction with its audit entry (fail closed: `sql/write.rs` is the one way state changes),
//! and audit appends are serialized across processes and server replicas so the hash chain
//! ([`fixlane_core::audit`]) never forks. [`watch`] tells live views what committed since.

mod any;
mod backend;
mod connect;
pub mod error;
mod location;
mod migrations;
pub mod model;
pub mod postgres;
mod schema;
mod sql;
pub mod sqlite;
pub mod store;
pub mod watch;

pub use any::AnyStore;
pub use backend::{Backend, ColumnType};
pub use error::{ConnectProblem, StoreError};
pub use fixlane_core::audit::{AuditEntry, ChainBreak, GENESIS_HASH};
pub use location::{StoreLocation, redact};
pub use model::{
    CanaryEventRecord, CanaryRecord, DeliveryClaim, DeliveryOutcome, DrillRecord,
    EmergencyDocuments, EmergencyRow, FollowUpChange, GateRecord, HookStatus, NewCanary, NewRun,
    NewSession, NewToken, PastDeclaration, RateReview, RunRecord, SessionRecord, StoredGateState,
    TokenRecord, TokenSelector, format_time,
};
pub use postgres::PostgresStore;
pub use sql::SqlStore;
pub use sqlite::SqliteStore;
pub use store::{EmergencyWrite, FollowUpWrite, Store};

/// Opens the store at `location` for one command's own use and brings its tables up to date:
/// a `PostgreSQL` database, or a `SQLite` file (created, with its parent directories, when
/// missing) through a single connection. A command's queries follow one another, and a pool
/// of several would open a second connection (and read the schema again) whenever a query
/// comes before the last one's connection is back; [`open_shared`] is for the server.
pub async fn open(location: &StoreLocation) -> Result<AnyStore, StoreError> {
    open_with(location, 1).await
}

/// [`open`] for a server answering many requests at once: a pool of several connections.
pub async fn open_shared(location: &StoreLocation) -> Result<AnyStore, StoreError> {
    open_with(location, sqlite::SHARED_CONNECTIONS).await
}

/// Opens the store at `location`, a `SQLite` file through at most `sqlite_connections`.
async fn open_with(
    location: &StoreLocation,
    sqlite_connections: u32,
) -> Result<AnyStore, StoreError> {
    match location.sqlite_path() {
        Some(path) => SqliteStore::open_with(path, sqlite_connections)
            .await
            .map(AnyStore::Sqlite),
        None => PostgresStore::open(location).await.map(AnyStore::Postgres),
    }
}

/// Opens the store at `location` for reading only, for the commands that only read (and for an
/// auditor with read access only): nothing is created or migrated, every write fails, and the
/// store's schema must be the one this fixlane knows. A `SQLite` file may be read-only, alone in
/// a read-only directory; a `PostgreSQL` role needs only `SELECT` on the store's tables.
///
/// A store that does not exist yet is [`StoreError::NoStore`]; one written by an older or newer
/// fixlane is [`StoreError::SchemaOlder`] or [`StoreError::SchemaNewer`].
pub async fn open_read_only(location: &StoreLocation) -> Result<AnyStore, StoreError> {
    match location.sqlite_path() {
        Some(path) => SqliteStore::open_read_only(path)
            .await
            .map(AnyStore::Sqlite),
        None => PostgresStore::open_read_only(location)
            .await
            .map(AnyStore::Postgres),
    }
}

/// Whether `store` (opened at `location`) answers and has exactly the schema this fixlane
/// knows, for a server's readiness probe: a replica started by an older fixlane, or a database
/// upgraded by a newer one, is not ready. Reads only.
pub async fn check_ready(store: &AnyStore, location: &StoreLocation) -> Result<(), StoreError> {
    match store {
        AnyStore::Sqlite(store) => schema::check_sqlite(store.pool(), location).await,
        AnyStore::Postgres(store) => {
            let mut connection =
                store
                    .pool()
                    .acquire()
                    .await
                    .map_err(|cause| StoreError::SchemaUnreadable {
                        location: location.clone(),
                        cause,
                    })?;
            schema::check_postgres(&mut connection, location).await
        }
    }
}

/// Compiles only while opening a store can run on another task: the CLI spawns the recorder,
/// which opens the store, and a borrow held across an `.await` in the wrong place breaks that
/// with an error far from its cause.
#[cfg(test)]
fn _opening_is_send(location: &'static StoreLocation) {
    fn is_send<T: Send>(_: T) {}
    is_send(open(location));
    is_send(open_read_only(location));
}
