//! Changes to the record as they commit, for live views: [`AnyStore::watch`] hands back a
//! [`Watch`] whose [`Watch::next`] resolves at the next committed audit entry or canary event,
//! whichever process or server replica wrote it.
//!
//! On `PostgreSQL` a trigger announces each one on the channel `fixlane_changes` (migration
//! `0010_notify.sql`) and the watch LISTENs on one connection of the store's pool; the database
//! delivers a notification only when its transaction commits. A `SQLite` file has no such
//! channel, and the CLI writes it from other processes, so the watch polls the audit head and
//! the newest canary event every [`POLL_EVERY`] instead.

use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::sqlite::SqlitePool;

use crate::any::AnyStore;
use crate::error::{StoreError, query_error};

/// The channel the `PostgreSQL` triggers announce changes on.
pub const CHANNEL: &str = "fixlane_changes";

/// How often a `SQLite` store is looked at for changes.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An audit entry committed; its sequence number (the newest, when a poll saw several).
    Audit(i64),
    /// A canary recorded events (check samples included, which have no audit entry).
    Canary(String),
    /// Anything may have changed: the watch lost its connection and cannot tell what it
    /// missed, so a reader should look again.
    Lost,
}

/// What a poll of a `SQLite` store compares: the audit head and the newest canary event.
type Mark = (i64, i64);

const SQLITE_MARK: &str = "SELECT (SELECT seq FROM audit_head WHERE id = 1), \
     (SELECT coalesce(max(rowid), 0) FROM canary_events)";

const SQLITE_NEWEST_CANARY: &str =
    "SELECT canary_id FROM canary_events ORDER BY rowid DESC LIMIT 1";

enum Source {
    Postgres(Box<PgListener>),
    Sqlite {
        pool: SqlitePool,
        seen: Mark,
        ticks: tokio::time::Interval,
    },
}

/// A subscription to the store's changes; see the module doc.
pub struct Watch {
    source: Source,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source {
            Source::Postgres(_) => "postgres",
            Source::Sqlite { .. } => "sqlite",
        };
        formatter
            .debug_struct("Watch")
            .field("store", &kind)
            .finish()
    }
}

async fn sqlite_mark(pool: &SqlitePool) -> Result<Mark, StoreError> {
    let (seq, canary): (Option<i64>, i64) = sqlx::query_as(SQLITE_MARK)
        .fetch_one(pool)
        .await
        .map_err(query_error(
            "read the audit head and the newest canary event",
        ))?;
    Ok((seq.unwrap_or(0), canary))
}

impl AnyStore {
    /// Starts watching this store's changes; see [`Watch`].
    pub async fn watch(&self) -> Result<Watch, StoreError> {
        let source = match self {
            AnyStore::Postgres(store) => {
                let mut listener = PgListener::connect_with(store.pool())
                    .await
                    .map_err(query_error("connect to listen for changes"))?;
                listener
                    .listen(CHANNEL)
                    .await
                    .map_err(query_error("listen for changes"))?;
                Source::Postgres(Box::new(listener))
            }
            AnyStore::Sqlite(store) => {
                let pool = store.pool().clone();
                let seen = sqlite_mark(&pool).await?;
                let mut ticks = tokio::time::interval(POLL_EVERY);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                Source::Sqlite { pool, seen, ticks }
            }
        };
        Ok(Watch { source })
    }
}

impl Watch {
    /// The next change. A closed store's pool ends the watch with an error; a lost
    /// `PostgreSQL` connection is re-established and reported as [`Change::Lost`].
    pub async fn next(&mut self) -> Result<Change, StoreError> {
        match &mut self.source {
            Source::Postgres(listener) => {
                let notification = listener
                    .try_recv()
                    .await
                    .map_err(query_error("wait for a change"))?;
                Ok(notification.map_or(Change::Lost, |notification| parse(notification.payload())))
            }
            Source::Sqlite { pool, seen, ticks } => loop {
                ticks.tick().await;
                let now = sqlite_mark(pool).await?;
                if now == *seen {
                    continue;
                }
                let before = std::mem::replace(seen, now);
                if now.0 != before.0 {
                    return Ok(Change::Audit(now.0));
                }
                let canary: Option<(String,)> = sqlx::query_as(SQLITE_NEWEST_CANARY)
                    .fetch_optional(&*pool)
                    .await
                    .map_err(query_error("read the newest canary event"))?;
                return Ok(canary.map_or(Change::Lost, |(id,)| Change::Canary(id)));
            },
        }
    }
}

/// A notification's payload: `audit <seq>` or `canary <id>`; anything else is a change that
/// cannot be named.
fn parse(payload: &str) -> Change {
    match payload.split_once(' ') {
        Some(("audit", seq)) => seq.parse().map_or(Change::Lost, Change::Audit),
        Some(("canary", id)) => Change::Canary(id.to_owned()),
        _ => Change::Lost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_the_change() {
        assert_eq!(parse("audit 42"), Change::Audit(42));
        assert_eq!(parse("canary c-1 2"), Change::Canary("c-1 2".to_owned()));
        assert_eq!(parse("audit x"), Change::Lost);
        assert_eq!(parse(""), Change::Lost);
    }
}
