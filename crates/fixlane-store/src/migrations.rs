//! The embedded schema migrations, one folder per database (`migrations/sqlite/`,
//! `migrations/postgres/`), compiled into the binary with `include_str!`.
//!
//! They are listed here by hand instead of through `sqlx::migrate!`, which would pull the whole
//! `sqlx-macros` proc-macro stack into every build; a unit test checks the lists against the
//! folders so a new file cannot be forgotten. The files follow sqlx's naming, so the `sqlx`
//! command-line tool sees the same migrations.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::SqlSafeStr as _;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

use crate::error::StoreError;
use crate::location::StoreLocation;

/// `(version, description, SQL)` of each `SQLite` migration, oldest first.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "runs and audit",
        include_str!("../migrations/sqlite/0001_runs_and_audit.sql"),
    ),
    (
        2,
        "emergencies",
        include_str!("../migrations/sqlite/0002_emergencies.sql"),
    ),
    (
        3,
        "canaries",
        include_str!("../migrations/sqlite/0003_canaries.sql"),
    ),
    (
        4,
        "run runners",
        include_str!("../migrations/sqlite/0004_run_runners.sql"),
    ),
    (
        5,
        "followups",
        include_str!("../migrations/sqlite/0005_followups.sql"),
    ),
    (
        6,
        "drills",
        include_str!("../migrations/sqlite/0006_drills.sql"),
    ),
    (
        7,
        "tokens",
        include_str!("../migrations/sqlite/0007_tokens.sql"),
    ),
    (
        9,
        "outbox",
        include_str!("../migrations/sqlite/0009_outbox.sql"),
    ),
    (
        10,
        "notify",
        include_str!("../migrations/sqlite/0010_notify.sql"),
    ),
    (
        11,
        "sessions",
        include_str!("../migrations/sqlite/0011_sessions.sql"),
    ),
    (
        12,
        "runs by lane",
        include_str!("../migrations/sqlite/0012_runs_by_lane.sql"),
    ),
    (
        13,
        "unfinished runs",
        include_str!("../migrations/sqlite/0013_unfinished_runs.sql"),
    ),
];

/// `(version, description, SQL)` of each `PostgreSQL` migration, oldest first.
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "runs and audit",
        include_str!("../migrations/postgres/0001_runs_and_audit.sql"),
    ),
    (
        2,
        "emergencies",
        include_str!("../migrations/postgres/0002_emergencies.sql"),
    ),
    (
        3,
        "canaries",
        include_str!("../migrations/postgres/0003_canaries.sql"),
    ),
    (
        4,
        "run runners",
        include_str!("../migrations/postgres/0004_run_runners.sql"),
    ),
    (
        5,
        "followups",
        include_str!("../migrations/postgres/0005_followups.sql"),
    ),
    (
        6,
        "drills",
        include_str!("../migrations/postgres/0006_drills.sql"),
    ),
    (
        7,
        "tokens",
        include_str!("../migrations/postgres/0007_tokens.sql"),
    ),
    (
        9,
        "outbox",
        include_str!("../migrations/postgres/0009_outbox.sql"),
    ),
    (
        10,
        "notify",
        include_str!("../migrations/postgres/0010_notify.sql"),
    ),
    (
        11,
        "sessions",
        include_str!("../migrations/postgres/0011_sessions.sql"),
    ),
    (
        12,
        "runs by lane",
        include_str!("../migrations/postgres/0012_runs_by_lane.sql"),
    ),
    (
        13,
        "unfinished runs",
        include_str!("../migrations/postgres/0013_unfinished_runs.sql"),
    ),
];

fn migrator(list: &[(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        list.iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The embedded `SQLite` migrations.
pub(crate) fn sqlite_migrator() -> Migrator {
    migrator(SQLITE)
}

/// The embedded `PostgreSQL` migrations.
pub(crate) fn postgres_migrator() -> Migrator {
    migrator(POSTGRES)
}

/// Brings a `SQLite` store up to date. sqlx's `SQLite` migrator takes no lock, so two processes
/// opening a fresh file at once can collide; the loser retries after the winner committed (the
/// migrations are idempotent).
pub(crate) async fn run_sqlite(
    pool: &SqlitePool,
    location: &StoreLocation,
) -> Result<(), StoreError> {
    let migrator = sqlite_migrator();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match migrator.run(pool).await {
            Ok(()) => return Ok(()),
            // Only a collision with another opener is worth another try; a modified or newer
            // schema will not fix itself, and an incident cannot wait on it.
            Err(
                sqlx::migrate::MigrateError::Execute(_)
                | sqlx::migrate::MigrateError::ExecuteMigration(..),
            ) if attempt < 5 => {
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(source) => {
                return Err(StoreError::Migrate {
                    location: location.clone(),
                    cause: source,
                });
            }
        }
    }
}

/// Brings a `PostgreSQL` store up to date (sqlx holds an advisory lock, so replicas may race).
pub(crate) async fn run_postgres(
    pool: &PgPool,
    location: &StoreLocation,
) -> Result<(), StoreError> {
    postgres_migrator()
        .run(pool)
        .await
        .map_err(|source| StoreError::Migrate {
            location: location.clone(),
            cause: source,
        })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn check(folder: &str, list: &[(i64, &str, &str)]) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder);
        let mut files: Vec<(i64, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| {
                Path::new(name)
                    .extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("sql"))
            })
            .map(|name| {
                let (version, rest) = name.split_once('_').unwrap();
                (version.parse().unwrap(), rest.to_lowercase())
            })
            .collect();
        files.sort();
        let versions: Vec<i64> = files.iter().map(|(version, _)| *version).collect();
        let listed: Vec<i64> = list.iter().map(|(version, _, _)| *version).collect();
        assert_eq!(
            versions, listed,
            "migrations/{folder} and the embedded list differ"
        );
        for ((_, file), (_, description, _)) in files.iter().zip(list) {
            assert_eq!(
                file.trim_end_matches(".sql").replace('_', " "),
                *description
            );
        }
    }

    #[test]
    fn every_migration_file_is_embedded() {
        check("sqlite", SQLITE);
        check("postgres", POSTGRES);
    }
}
