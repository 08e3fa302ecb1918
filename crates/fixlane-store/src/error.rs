//! `StoreError`: every way the store can fail, each message saying what failed and what to do.
//!
//! Each message quotes the error beneath it (the driver's, the file system's) in its own words,
//! once: the quote sits mid-sentence, before the advice. So that error is kept in a `cause` field
//! and not reported again as [`std::error::Error::source`] — a caller printing the whole chain
//! (anyhow's `{:#}`) would otherwise print it twice, and sqlx's errors, which also quote their
//! inner error and return it as their source, a third time. The messages say what to do in the
//! store's terms; how to name another store (a flag, a variable, a setting) is the caller's to
//! add.

use std::path::PathBuf;
use std::time::Duration;

use crate::location::StoreLocation;

/// A store operation that failed. Nothing is half-written when one of these is returned: every
/// state change and its audit entry share one transaction that is rolled back on error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store location could not be understood.
    #[error("cannot use `{location}` as a store: {reason}")]
    BadLocation {
        /// The location as given (passwords redacted).
        location: String,
        /// Why it was not understood.
        reason: String,
    },

    /// The directory for a `SQLite` store could not be created.
    #[error(
        "could not create the directory {} for the SQLite store: {cause}; check its \
         permissions, or use a store at a writable path",
        dir.display()
    )]
    CreateDir {
        /// The directory that could not be created.
        dir: PathBuf,
        /// The underlying I/O error.
        cause: std::io::Error,
    },

    /// A `SQLite` store file could not be opened.
    #[error(
        "could not open the SQLite store at {}: {cause}; check the file is a fixlane store that \
         you may read (and write, for a command that records)",
        path.display()
    )]
    OpenSqlite {
        /// The database file.
        path: PathBuf,
        /// The driver error.
        cause: sqlx::Error,
    },

    /// A read-only `SQLite` store has changes in its `-wal` file that cannot be read, because
    /// the `-shm` file reading them needs cannot be created.
    #[error(
        "could not read the SQLite store at {path} read-only: {cause}; it has changes in its \
         write-ahead log ({path}-wal), and reading those needs write access to the directory \
         (SQLite creates {path}-shm there); allow that, or read a one-file copy made with \
         `sqlite3 {path} \".backup COPY\"`",
        path = path.display()
    )]
    ReadOnlyWal {
        /// The database file.
        path: PathBuf,
        /// The driver error.
        cause: sqlx::Error,
    },

    /// A `PostgreSQL` store could not be reached.
    #[error("could not connect to the PostgreSQL store at {location}: {problem}")]
    ConnectPostgres {
        /// The store (shown with its password hidden).
        location: StoreLocation,
        /// What went wrong, and what to do about it.
        problem: ConnectProblem,
    },

    /// The store's tables could not be created or upgraded.
    #[error(
        "could not prepare the store's tables at {location} (migration failed): {cause}; if the \
         store was written by a newer fixlane, upgrade fixlane, otherwise use another store"
    )]
    Migrate {
        /// The store (shown with its password hidden).
        location: StoreLocation,
        /// The migration error.
        cause: sqlx::migrate::MigrateError,
    },

    /// A store opened read-only does not exist yet (reading never creates one).
    #[error(
        "there is no store at {location} yet; nothing has been recorded: run `fixlane run` first \
         (commands that record create the store)"
    )]
    NoStore {
        /// Where the store was looked for.
        location: StoreLocation,
    },

    /// A `SQLite` file opened read-only exists but holds no tables: often a copy of a store
    /// made without its `-wal` file, which held everything not yet checkpointed.
    #[error(
        "the SQLite file at {path} holds no fixlane tables; if it is a copy of a store, copy its \
         -wal file with it, or make a one-file copy with `sqlite3 STORE \".backup COPY\"`",
        path = path.display()
    )]
    EmptySqlite {
        /// The database file.
        path: PathBuf,
    },

    /// The location holds a database, but not a fixlane store.
    #[error(
        "{location} holds a database that is not a fixlane store (it has no schema version \
         table); name the store's own location instead"
    )]
    NotAStore {
        /// The database.
        location: StoreLocation,
    },

    /// A store opened read-only lacks migrations this fixlane needs; reading does not upgrade it.
    #[error(
        "the store at {location} was written by an older fixlane: it lacks schema version \
         {missing}; reading commands never change a store, so run a command that records (such \
         as `fixlane run`) with write access once to upgrade it, or ask whoever owns it to"
    )]
    SchemaOlder {
        /// The first schema version the store lacks.
        missing: i64,
        /// The store.
        location: StoreLocation,
    },

    /// The store has a schema version this fixlane does not know.
    #[error(
        "the store at {location} was upgraded by a newer fixlane (schema version {version}; this \
         fixlane knows up to {known}); use that fixlane release or a later one"
    )]
    SchemaNewer {
        /// The unknown schema version found in the store.
        version: i64,
        /// The newest schema version this fixlane knows.
        known: i64,
        /// The store.
        location: StoreLocation,
    },

    /// A schema version of the store differs from this fixlane's, or its upgrade did not finish.
    #[error(
        "the store at {location} has schema version {version} {how}; it cannot be read safely: \
         restore it from a backup, or use the fixlane build that wrote it"
    )]
    SchemaDamaged {
        /// The schema version at fault.
        version: i64,
        /// "half applied (an upgrade did not finish)" or "in a form this fixlane did not write".
        how: &'static str,
        /// The store.
        location: StoreLocation,
    },

    /// The schema version table could not be read (e.g. a role without `SELECT` on it).
    #[error(
        "could not read the schema version of the store at {location}: {cause}; a read-only \
         user needs SELECT on every table of the store, `_sqlx_migrations` included (e.g. GRANT \
         SELECT ON ALL TABLES IN SCHEMA public TO the_user)"
    )]
    SchemaUnreadable {
        /// The store.
        location: StoreLocation,
        /// The driver error.
        cause: sqlx::Error,
    },

    /// A query failed; the action it belonged to was not recorded.
    #[error(
        "could not {what}: {cause}; nothing was recorded, so the action can be retried once the \
         store is reachable and writable"
    )]
    Query {
        /// What the store was doing, e.g. "append to the audit log".
        what: &'static str,
        /// The driver error.
        cause: sqlx::Error,
    },

    /// `start_run` was given a run id that is already recorded.
    #[error("run {run_id} is already recorded; start a new run with a fresh run id")]
    RunExists {
        /// The duplicate run id.
        run_id: String,
    },

    /// `declare_emergency` was handed a record whose id is already declared.
    #[error(
        "emergency {id} is already declared, so nothing was written; declare the new emergency \
         under another id, or look at the existing one with `fixlane show {id}`"
    )]
    EmergencyExists {
        /// The duplicate emergency id.
        id: String,
    },

    /// A run id that the store does not hold.
    #[error("no run {run_id} is recorded; start it with `start_run` before recording results")]
    UnknownRun {
        /// The missing run id.
        run_id: String,
    },

    /// `start_canary` was given a canary id that is already recorded.
    #[error(
        "canary {id} is already recorded, so nothing was written; start the new canary under a \
         fresh id"
    )]
    CanaryExists {
        /// The duplicate canary id.
        id: String,
    },

    /// `issue_token` was given a token id that is already recorded (random ids collide only
    /// by a rare chance).
    #[error("token id {id} is already recorded, so nothing was written; issue the token again")]
    TokenExists {
        /// The duplicate token id.
        id: String,
    },

    /// A canary id that the store does not hold.
    #[error(
        "no canary {id} is recorded, so nothing was written; record it with `start_canary` \
         before recording its events or its end"
    )]
    UnknownCanary {
        /// The missing canary id.
        id: String,
    },

    /// A value handed to the store breaks its rules (e.g. an unknown gate state).
    #[error("refused to record {what}; nothing was written")]
    Invalid {
        /// What was wrong and what is accepted.
        what: String,
    },

    /// A stored value could not be read back (damaged or edited by hand).
    #[error(
        "the store holds a damaged value: {what}; run `fixlane audit verify` and restore the store \
         from a backup if it was tampered with"
    )]
    Corrupt {
        /// Which value and why.
        what: String,
    },

    /// The one-row chain head table lost its row: the log cannot be extended or trusted.
    #[error(
        "the audit chain head (table audit_head) is missing, so the audit log cannot be appended \
         to or verified against truncation; the store was tampered with or damaged: restore it \
         from a backup"
    )]
    HeadMissing,
}

/// Maps a driver error to [`StoreError::Query`] describing `what` was being done.
pub(crate) fn query_error(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |cause| StoreError::Query { what, cause }
}

/// Why the first connection to a `PostgreSQL` store failed, each saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConnectProblem {
    /// Nothing listens at the address: the server is down, or the host or port is wrong.
    #[error(
        "connection refused at {address}: no database server is listening there; start \
         PostgreSQL, or fix the host and port in the store's URL"
    )]
    Refused {
        /// `host:port`, or the socket directory.
        address: String,
    },

    /// The host took no call: a firewall dropping packets, a wrong address, a network down.
    #[error(
        "the host at {address} did not answer within {} s; check the host name, the network or \
         VPN, and any firewall between here and the server",
        within.as_secs()
    )]
    NoAnswer {
        /// `host:port`.
        address: String,
        /// How long it was given.
        within: Duration,
    },

    /// No route to the host or its network.
    #[error(
        "{address} cannot be reached from here ({detail}); check the network or VPN, and the host \
         in the store's URL"
    )]
    Unreachable {
        /// `host:port`.
        address: String,
        /// The system's words for it.
        detail: String,
    },

    /// The host name does not resolve.
    #[error(
        "the host name `{host}` is not known (its address could not be looked up); check the \
         host in the store's URL and the DNS"
    )]
    UnknownHost {
        /// The host name.
        host: String,
    },

    /// The server runs, but has no such database.
    #[error(
        "the server at {address} has no database `{database}`; create it (e.g. `createdb \
         {database}`), or fix the database name in the store's URL"
    )]
    NoDatabase {
        /// `host:port`.
        address: String,
        /// The database named in the URL.
        database: String,
    },

    /// The server refused the login.
    #[error(
        "the server refused to log in user `{user}`: {detail}; check the user and password (in \
         the URL, PGPASSWORD or ~/.pgpass) and the server's pg_hba.conf"
    )]
    LoginRefused {
        /// The user name.
        user: String,
        /// The server's words, passwords hidden.
        detail: String,
    },

    /// Anything else, in the driver's words with passwords hidden.
    #[error(
        "{detail}; check the server is running and the store's URL is right; TLS is not \
         supported, so use sslmode=disable or sslmode=prefer"
    )]
    Other {
        /// The driver's words, passwords hidden.
        detail: String,
    },
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// The message and every source after it, as anyhow's `{:#}` prints an error.
    fn chain(error: &dyn std::error::Error) -> String {
        let mut shown = error.to_string();
        let mut next = error.source();
        while let Some(cause) = next {
            shown.push_str(&format!(": {cause}"));
            next = cause.source();
        }
        shown
    }

    /// The driver's words are in the message once, and not again as its source.
    #[test]
    fn a_driver_error_is_quoted_once_and_not_chained_again() {
        let error = query_error("append to the audit log")(sqlx::Error::Protocol(
            "the server hung up".into(),
        ));
        assert!(error.source().is_none());
        let shown = chain(&error);
        assert_eq!(shown.matches("the server hung up").count(), 1, "{shown}");
        let error = StoreError::CreateDir {
            dir: PathBuf::from("/nowhere"),
            cause: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert!(error.source().is_none());
        assert!(error.to_string().contains("permission denied"), "{error}");
    }
}
