//! fixlane's records and its tamper-evident audit log, on an embedded `SQLite` file or a shared
//! `PostgreSQL` database.
//!
//! [`open`] picks the backend from a location; [`Store`] is the interface both implement. Every
//! state change is written in one transaction with its audit entry (fail closed), and audit
//! appends are serialized across processes and server replicas so the hash chain
//! ([`fixlane_core::audit`]) never forks.

mod backend;
pub mod error;
mod migrations;
pub mod model;
pub mod postgres;
pub mod sqlite;
pub mod store;

use std::path::Path;

pub use error::StoreError;
pub use fixlane_core::audit::{AuditEntry, ChainBreak, GENESIS_HASH};
pub use model::{
    CanaryEventRecord, CanaryRecord, EmergencyRow, GateRecord, NewCanary, NewRun, PastDeclaration,
    RateReview, RunRecord, format_time,
};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use store::{AnyStore, EmergencyWrite, Store};

/// Opens the store at `location` and brings its tables up to date.
///
/// `postgres://…` or `postgresql://…` opens `PostgreSQL`; `sqlite://PATH`, `sqlite:PATH` or a plain
/// filesystem path opens (creating it and its parent directories when missing) a `SQLite` file.
pub async fn open(location: &str) -> Result<AnyStore, StoreError> {
    let trimmed = location.trim();
    if trimmed.is_empty() {
        return Err(StoreError::BadLocation {
            location: location.to_owned(),
            reason: "the location is empty".to_owned(),
        });
    }
    if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
        return PostgresStore::open(trimmed).await.map(AnyStore::Postgres);
    }
    let path = trimmed
        .strip_prefix("sqlite://")
        .or_else(|| trimmed.strip_prefix("sqlite:"))
        .unwrap_or(trimmed);
    if path.is_empty() || path.starts_with(":memory:") {
        return Err(StoreError::BadLocation {
            location: location.to_owned(),
            reason: "a SQLite store needs a file path".to_owned(),
        });
    }
    if let Some((scheme, _)) = path.split_once("://") {
        return Err(StoreError::BadLocation {
            location: error::redact(location),
            reason: format!("`{scheme}://` is not a supported database"),
        });
    }
    SqliteStore::open(Path::new(path))
        .await
        .map(AnyStore::Sqlite)
}
