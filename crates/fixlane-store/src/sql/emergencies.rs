//! Emergency records and rate reviews: a declaration decided under the write lock on the
//! history it read, changes that cannot be lost to concurrent ones, and the team's reviews of
//! how often the emergency lane is used.

use fixlane_core::IncidentId;
use fixlane_core::audit::{AuditAction, AuditEntry, RateReviewed, canonical_json};
use jiff::Timestamp;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::write::{Audit, Change};
use super::{SqlStore, column, validate_actor};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{
    EmergencyDocuments, EmergencyRow, PastDeclaration, RateReview, format_time, parse_json,
    parse_text, parse_time,
};
use crate::store::EmergencyWrite;

const EMERGENCY_EXISTS: &str = "SELECT id FROM emergencies WHERE id = $1";

const INSERT_EMERGENCY: &str = "INSERT INTO emergencies \
     (id, declared_at, author, drill, state, updated_at, document) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(super) const UPDATE_EMERGENCY: &str = "UPDATE emergencies SET declared_at = $2, author = $3, \
     drill = $4, state = $5, updated_at = $6, document = $7 WHERE id = $1";

const SELECT_EMERGENCY: &str = "SELECT id, declared_at, author, drill, state, \
     updated_at, document FROM emergencies WHERE id = $1";

const SELECT_EMERGENCIES: &str = "SELECT id, declared_at, author, drill, state, \
     updated_at, document FROM emergencies ORDER BY declared_at DESC, id DESC";

const INSERT_RATE_REVIEW: &str =
    "INSERT INTO rate_reviews (at, by_actor, notes) VALUES ($1, $2, $3)";

/// The newest review by its time; of reviews at the same instant, the one recorded last.
const SELECT_LAST_RATE_REVIEW: &str =
    "SELECT at, by_actor, notes FROM rate_reviews ORDER BY at DESC, seq DESC LIMIT 1";

/// An `emergencies` row as stored (id, times and document still text).
struct EmergencyText {
    id: String,
    declared_at: String,
    author: String,
    drill: bool,
    state: String,
    updated_at: String,
    document: String,
}

impl EmergencyText {
    fn into_row(self) -> Result<EmergencyRow, StoreError> {
        let context = format!("emergency {}", self.id);
        Ok(EmergencyRow {
            id: parse_text(&self.id, "an emergency's id", IncidentId::parse)?,
            declared_at: parse_time(&self.declared_at, format!("{context}: declared_at"))?,
            updated_at: parse_time(&self.updated_at, format!("{context}: updated_at"))?,
            document: parse_json(&self.document, format!("{context}: document"))?,
            author: self.author,
            drill: self.drill,
            state: self.state,
        })
    }
}

/// Checks an emergency row and encodes its columns as stored: `(declared_at, updated_at,
/// document)`. The row's document is replaced by what a reader will parse back from the stored
/// canonical text, so the row handed back to the caller equals the row read later.
pub(super) fn encode_emergency(
    row: &mut EmergencyRow,
) -> Result<(String, String, String), StoreError> {
    if row.author.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: format!("emergency {} without an author", row.id),
        });
    }
    if row.state.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: format!("emergency {} without a state", row.id),
        });
    }
    let document = canonical_json(&row.document);
    row.document = parse_json(&document, format!("emergency {}: document", row.id))?;
    Ok((
        format_time(row.declared_at),
        format_time(row.updated_at),
        document,
    ))
}

impl<B> SqlStore<B>
where
    B: Backend,
    for<'c> &'c mut B::Connection: Executor<'c, Database = B>,
    for<'a> &'a str: ColumnIndex<B::Row> + Encode<'a, B> + Type<B>,
    String: ColumnType<B>,
    Option<String>: ColumnType<B>,
    i64: ColumnType<B>,
    Option<i64>: ColumnType<B>,
    Option<i32>: ColumnType<B>,
    bool: ColumnType<B>,
{
    pub(crate) async fn declare_emergency<F, E>(
        &self,
        actor: &str,
        since: Timestamp,
        decide: F,
    ) -> Result<Result<EmergencyWrite, E>, StoreError>
    where
        F: FnOnce(
                Timestamp,
                &[PastDeclaration],
                Option<&RateReview>,
            ) -> Result<(EmergencyRow, AuditAction), E>
            + Send,
        E: Send,
    {
        validate_actor(actor, "declaring an emergency")?;
        let since = format_time(since);
        // `write` takes the lock before this change reads: the decision sees every declaration
        // committed before it, and no other declaration can commit until this one does.
        let written = self
            .write(actor, "commit the declared emergency", async |conn| {
                // Read under the lock: every declaration committed before this one read the
                // clock before this reading, so none of them is stamped later than `now` (on one
                // clock; the policy counts later stamps anyway, for clocks that disagree).
                let now = Timestamp::now();
                let past = Self::declarations_since(conn, &since).await?;
                let review = Self::last_rate_review_in(conn).await?;
                let (mut row, action) = match decide(now, &past, review.as_ref()) {
                    Ok(decided) => decided,
                    Err(refusal) => return Ok(Change::Unchanged(refusal)),
                };
                let (declared_at, updated_at, document) = encode_emergency(&mut row)?;
                let taken = sqlx::query(EMERGENCY_EXISTS)
                    .bind(row.id.as_str())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error("look up the emergency"))?;
                if taken.is_some() {
                    return Err(StoreError::EmergencyExists {
                        id: row.id.to_string(),
                    });
                }
                sqlx::query(INSERT_EMERGENCY)
                    .bind(row.id.as_str())
                    .bind(declared_at)
                    .bind(&row.author)
                    .bind(row.drill)
                    .bind(&row.state)
                    .bind(updated_at)
                    .bind(document)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the emergency"))?;
                Ok(Change::Made(row, Audit::of(&action)?))
            })
            .await?;
        Ok(written)
    }

    pub(crate) async fn update_emergency<F, E>(
        &self,
        actor: &str,
        id: &IncidentId,
        change: F,
    ) -> Result<Option<Result<EmergencyWrite, E>>, StoreError>
    where
        F: FnOnce(EmergencyRow) -> Result<(EmergencyRow, AuditAction), E> + Send,
        E: Send,
    {
        validate_actor(actor, "changing an emergency")?;
        // Locked (by `write`) before the read, so no other change lands between it and the
        // write.
        let written = self
            .write(actor, "commit the emergency's change", async |conn| {
                let Some(current) = Self::emergency_in(conn, id).await? else {
                    return Ok(Change::Unchanged(None));
                };
                let (mut row, action) = match change(current) {
                    Ok(changed) => changed,
                    Err(refusal) => return Ok(Change::Unchanged(Some(refusal))),
                };
                if row.id != *id {
                    return Err(StoreError::Invalid {
                        what: format!(
                            "a change to emergency {id} that renames it to `{}`: an emergency's \
                             id never changes",
                            row.id
                        ),
                    });
                }
                let (declared_at, updated_at, document) = encode_emergency(&mut row)?;
                let written = sqlx::query(UPDATE_EMERGENCY)
                    .bind(row.id.as_str())
                    .bind(declared_at)
                    .bind(&row.author)
                    .bind(row.drill)
                    .bind(&row.state)
                    .bind(updated_at)
                    .bind(document)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the emergency's change"))?;
                if B::rows_affected(&written) != 1 {
                    return Err(StoreError::Corrupt {
                        what: format!("emergency {id} vanished while the write lock was held"),
                    });
                }
                Ok(Change::Made(row, Audit::of(&action)?))
            })
            .await?;
        Ok(match written {
            Ok(changed) => Some(Ok(changed)),
            Err(refused) => refused.map(Err),
        })
    }

    pub(crate) async fn emergency(
        &self,
        id: &IncidentId,
    ) -> Result<Option<EmergencyRow>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(query_error("look up the emergency"))?;
        Self::emergency_in(&mut conn, id).await
    }

    pub(crate) async fn emergencies(&self) -> Result<Vec<EmergencyRow>, StoreError> {
        let rows = sqlx::query(SELECT_EMERGENCIES)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list the emergencies"))?;
        rows.iter().map(Self::emergency_from_row).collect()
    }

    pub(crate) async fn emergency_documents(&self) -> Result<EmergencyDocuments, StoreError> {
        let what = "list the emergencies";
        // Built from constants only. The documents are canonical JSON text as written, so
        // joining them with commas is the array; one that is not a single value is caught by
        // the reader's count.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS count, CAST(COALESCE('[' || {aggregate}(document, ',') || ']', \
             '[]') AS TEXT) AS bulk FROM emergencies",
            aggregate = B::TEXT_AGG
        ));
        let row = sqlx::query(sql)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error(what))?;
        let count: i64 = column::<B, _>(&row, "count", what)?;
        Ok(EmergencyDocuments {
            count: usize::try_from(count).unwrap_or(usize::MAX),
            json: column::<B, _>(&row, "bulk", what)?,
        })
    }

    pub(crate) async fn record_rate_review(
        &self,
        actor: &str,
        notes: &str,
    ) -> Result<(RateReview, AuditEntry), StoreError> {
        validate_actor(actor, "a rate review")?;
        let Ok((now, entry)) = self
            .write(actor, "commit the rate review", async |conn| {
                // The review's moment is read under the lock, as a declaration's is, so the
                // order of the stamps is the order of the commits.
                let now = Timestamp::now();
                let at = format_time(now);
                sqlx::query(INSERT_RATE_REVIEW)
                    .bind(&at)
                    .bind(actor)
                    .bind(notes)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the rate review"))?;
                let action = AuditAction::ReviewRate(RateReviewed {
                    at: now,
                    notes: notes.to_owned(),
                });
                Ok(Change::made(now, Audit::of(&action)?))
            })
            .await?;
        let review = RateReview {
            at: now,
            by: actor.to_owned(),
            notes: notes.to_owned(),
        };
        Ok((review, entry))
    }

    pub(crate) async fn last_rate_review(&self) -> Result<Option<RateReview>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(query_error("read the last rate review"))?;
        Self::last_rate_review_in(&mut conn).await
    }

    /// Decodes an `emergencies` row.
    fn emergency_from_row(row: &B::Row) -> Result<EmergencyRow, StoreError> {
        let what = "read an emergency";
        EmergencyText {
            id: column::<B, _>(row, "id", what)?,
            declared_at: column::<B, _>(row, "declared_at", what)?,
            author: column::<B, _>(row, "author", what)?,
            drill: column::<B, _>(row, "drill", what)?,
            state: column::<B, _>(row, "state", what)?,
            updated_at: column::<B, _>(row, "updated_at", what)?,
            document: column::<B, _>(row, "document", what)?,
        }
        .into_row()
    }

    /// One emergency, read on `conn` (inside a transaction when it is one).
    pub(super) async fn emergency_in(
        conn: &mut B::Connection,
        id: &IncidentId,
    ) -> Result<Option<EmergencyRow>, StoreError> {
        sqlx::query(SELECT_EMERGENCY)
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(query_error("look up the emergency"))?
            .map(|row| Self::emergency_from_row(&row))
            .transpose()
    }

    /// Every declaration with `declared_at >= since` (stored text), oldest first.
    async fn declarations_since(
        conn: &mut B::Connection,
        since: &str,
    ) -> Result<Vec<PastDeclaration>, StoreError> {
        let what = "read the recent declarations";
        // One bulk read: a declaration reads this under the append lock that every writer of
        // every replica waits for, so its cost is paid by all of them. (`drill` as 0 or 1:
        // the two databases spell a boolean differently in JSON.)
        let sql = sqlx::AssertSqlSafe(super::bulk_query::<B>(
            "id, author, declared_at, CASE WHEN drill THEN 1 ELSE 0 END",
            "FROM emergencies WHERE declared_at >= $1",
        ));
        let row = sqlx::query(sql)
            .bind(since)
            .fetch_one(&mut *conn)
            .await
            .map_err(query_error(what))?;
        let text: String = column::<B, _>(&row, "bulk", what)?;
        let rows: Vec<(String, String, String, i64)> = super::parse_bulk(&text, what)?;
        let mut past = rows
            .into_iter()
            .map(|(id, author, declared_at, drill)| {
                Ok(PastDeclaration {
                    declared_at: parse_time(&declared_at, format!("emergency {id}: declared_at"))?,
                    id: parse_text(&id, "an emergency's id", IncidentId::parse)?,
                    author,
                    drill: drill != 0,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        past.sort_unstable_by(|a, b| {
            (a.declared_at, a.id.as_str()).cmp(&(b.declared_at, b.id.as_str()))
        });
        Ok(past)
    }

    /// The newest rate review, read on `conn`.
    async fn last_rate_review_in(
        conn: &mut B::Connection,
    ) -> Result<Option<RateReview>, StoreError> {
        let what = "read the last rate review";
        let Some(row) = sqlx::query(SELECT_LAST_RATE_REVIEW)
            .fetch_optional(&mut *conn)
            .await
            .map_err(query_error(what))?
        else {
            return Ok(None);
        };
        let at: String = column::<B, _>(&row, "at", what)?;
        Ok(Some(RateReview {
            at: parse_time(&at, "a rate review's time")?,
            by: column::<B, _>(&row, "by_actor", what)?,
            notes: column::<B, _>(&row, "notes", what)?,
        }))
    }
}
