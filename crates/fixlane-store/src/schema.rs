//! The schema check of a store opened read-only: the migrations it has applied, read without
//! writing anything, against the ones this fixlane embeds.
//!
//! Opening for writing runs the migrations; reading must not, yet a store one schema version
//! behind or ahead would fail later with an obscure missing-column error. So this compares the
//! `_sqlx_migrations` table with the embedded list the way sqlx's migrator would, and says which
//! way the store differs.

use sqlx::migrate::Migrator;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqlitePool;

use crate::error::StoreError;
use crate::location::StoreLocation;

/// One row of `_sqlx_migrations`.
type Applied = (i64, Vec<u8>, bool);

const APPLIED: &str = "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version";

/// Checks a `SQLite` store's schema without writing to it.
pub(crate) async fn check_sqlite(
    pool: &SqlitePool,
    location: &StoreLocation,
) -> Result<(), StoreError> {
    let unreadable = |source| StoreError::SchemaUnreadable {
        location: location.clone(),
        cause: source,
    };
    let (tables, versioned): (i64, i64) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(name = '_sqlx_migrations'), 0) FROM sqlite_schema \
         WHERE type = 'table'",
    )
    .fetch_one(pool)
    .await
    .map_err(unreadable)?;
    exists(tables, versioned, location)?;
    let applied: Vec<Applied> = sqlx::query_as(APPLIED)
        .fetch_all(pool)
        .await
        .map_err(unreadable)?;
    compare(&crate::migrations::sqlite_migrator(), &applied, location)
}

/// Checks a `PostgreSQL` store's schema without writing to it (a role with only `SELECT` can).
pub(crate) async fn check_postgres(
    connection: &mut PgConnection,
    location: &StoreLocation,
) -> Result<(), StoreError> {
    let unreadable = |source| StoreError::SchemaUnreadable {
        location: location.clone(),
        cause: source,
    };
    let (tables, versioned): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE tablename = '_sqlx_migrations') \
         FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
    )
    .fetch_one(&mut *connection)
    .await
    .map_err(unreadable)?;
    exists(tables, versioned, location)?;
    let applied: Vec<Applied> = sqlx::query_as(APPLIED)
        .fetch_all(&mut *connection)
        .await
        .map_err(unreadable)?;
    compare(&crate::migrations::postgres_migrator(), &applied, location)
}

/// An empty database is a store not created yet; tables without the version table are not a
/// fixlane store at all.
fn exists(tables: i64, versioned: i64, location: &StoreLocation) -> Result<(), StoreError> {
    match (tables, versioned) {
        (0, _) => Err(StoreError::NoStore {
            location: location.clone(),
        }),
        (_, 0) => Err(StoreError::NotAStore {
            location: location.clone(),
        }),
        _ => Ok(()),
    }
}

/// The store's applied migrations against the embedded ones, in the order sqlx checks them:
/// a half-applied one, one this fixlane does not know, one changed since, one missing.
fn compare(
    embedded: &Migrator,
    applied: &[Applied],
    location: &StoreLocation,
) -> Result<(), StoreError> {
    let location = || location.clone();
    if let Some((version, _, _)) = applied.iter().find(|(_, _, success)| !success) {
        return Err(StoreError::SchemaDamaged {
            version: *version,
            how: "half applied (an upgrade of the store did not finish)",
            location: location(),
        });
    }
    for (version, checksum, _) in applied {
        match embedded
            .iter()
            .find(|migration| migration.version == *version)
        {
            None => {
                return Err(StoreError::SchemaNewer {
                    version: *version,
                    known: embedded
                        .iter()
                        .map(|migration| migration.version)
                        .max()
                        .unwrap_or(0),
                    location: location(),
                });
            }
            Some(migration) if *migration.checksum != **checksum => {
                return Err(StoreError::SchemaDamaged {
                    version: *version,
                    how: "in a form this fixlane did not write",
                    location: location(),
                });
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = embedded.iter().find(|migration| {
        !applied
            .iter()
            .any(|(version, _, _)| *version == migration.version)
    }) {
        return Err(StoreError::SchemaOlder {
            missing: missing.version,
            location: location(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(migrator: &Migrator) -> Vec<Applied> {
        migrator
            .iter()
            .map(|migration| (migration.version, migration.checksum.to_vec(), true))
            .collect()
    }

    #[test]
    fn a_current_store_passes_and_every_difference_is_named() {
        let embedded = crate::migrations::sqlite_migrator();
        let location = StoreLocation::sqlite("/tmp/store.db");
        let current = applied(&embedded);
        assert!(compare(&embedded, &current, &location).is_ok());

        let mut older = current.clone();
        let last = older.pop().unwrap();
        let error = compare(&embedded, &older, &location).unwrap_err();
        assert!(
            matches!(error, StoreError::SchemaOlder { missing, .. } if missing == last.0),
            "{error}"
        );
        assert!(error.to_string().contains("older fixlane"), "{error}");

        let mut newer = current.clone();
        newer.push((last.0 + 1000, vec![1], true));
        let error = compare(&embedded, &newer, &location).unwrap_err();
        assert!(matches!(error, StoreError::SchemaNewer { .. }), "{error}");
        assert!(error.to_string().contains("newer fixlane"), "{error}");

        let mut changed = current.clone();
        changed[0].1 = vec![0];
        let error = compare(&embedded, &changed, &location).unwrap_err();
        assert!(matches!(error, StoreError::SchemaDamaged { .. }), "{error}");

        let mut half = current;
        half[0].2 = false;
        let error = compare(&embedded, &half, &location).unwrap_err();
        assert!(error.to_string().contains("did not finish"), "{error}");
    }
}
