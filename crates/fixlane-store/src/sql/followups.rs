//! Each emergency's follow-ups: read in opening order, listed across emergencies while open, and
//! changed — opened, closed, the emergency closed with the last one — in one transaction with
//! an audit entry per change, under the write lock, so two closes racing record one.

use fixlane_core::IncidentId;
use fixlane_core::followup::{Evidence, FollowUp, FollowUpKind};
use fixlane_core::stats::FollowUpClock;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::emergencies::{UPDATE_EMERGENCY, encode_emergency};
use super::write::{Audit, Change};
use super::{SqlStore, column, validate_actor};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{FollowUpChange, format_time, parse_json, parse_text, parse_time, to_json};

const SELECT_FOLLOWUPS: &str = "SELECT incident, seq, kind, owner, opened_at, due_at, \
     closed_at, closed_by, evidence FROM followups WHERE incident = $1 ORDER BY seq";

/// The columns a follow-up is read from, in the order of [`BulkFollowUp`].
const FOLLOWUP_COLUMNS: &str = "f.incident, f.seq, f.kind, f.owner, f.opened_at, f.due_at, \
     f.closed_at, f.closed_by, f.evidence";

/// One follow-up as a [`super::bulk_query`] hands it over.
type BulkFollowUp = (
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);

const UPSERT_FOLLOWUP: &str = "INSERT INTO followups \
     (incident, seq, kind, owner, opened_at, due_at, closed_at, closed_by, evidence) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (incident, seq) DO UPDATE SET kind = $3, owner = $4, opened_at = $5, \
     due_at = $6, closed_at = $7, closed_by = $8, evidence = $9";

/// A follow-up's columns as text, decoded in one place.
struct FollowUpText {
    incident: String,
    kind: String,
    owner: String,
    opened_at: String,
    due_at: String,
    closed_at: Option<String>,
    closed_by: Option<String>,
    evidence: String,
}

impl From<BulkFollowUp> for FollowUpText {
    fn from(
        (incident, _, kind, owner, opened_at, due_at, closed_at, closed_by, evidence): BulkFollowUp,
    ) -> Self {
        Self {
            incident,
            kind,
            owner,
            opened_at,
            due_at,
            closed_at,
            closed_by,
            evidence,
        }
    }
}

impl FollowUpText {
    fn decode(self) -> Result<(IncidentId, FollowUp), StoreError> {
        let context = format!("a follow-up of {}", self.incident);
        let incident = parse_text(&self.incident, &context, IncidentId::parse)?;
        let kind = FollowUpKind::parse(&self.kind).ok_or_else(|| StoreError::Corrupt {
            what: format!("{context}: `{}` is not a follow-up kind", self.kind),
        })?;
        let person = |text: &str| parse_text(text, &context, fixlane_core::PersonName::parse);
        let followup = FollowUp {
            kind,
            owner: person(&self.owner)?,
            opened_at: parse_time(&self.opened_at, &format!("{context}: opened_at"))?,
            due_at: parse_time(&self.due_at, &format!("{context}: due_at"))?,
            closed_at: self
                .closed_at
                .map(|text| parse_time(&text, &format!("{context}: closed_at")))
                .transpose()?,
            closed_by: self.closed_by.as_deref().map(person).transpose()?,
            evidence: parse_json::<Evidence>(&self.evidence, &format!("{context}: evidence"))?,
        };
        Ok((incident, followup))
    }
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
    fn followup_from_row(row: &B::Row) -> Result<(IncidentId, FollowUp), StoreError> {
        let what = "read a follow-up";
        FollowUpText {
            incident: column::<B, _>(row, "incident", what)?,
            kind: column::<B, _>(row, "kind", what)?,
            owner: column::<B, _>(row, "owner", what)?,
            opened_at: column::<B, _>(row, "opened_at", what)?,
            due_at: column::<B, _>(row, "due_at", what)?,
            closed_at: column::<B, _>(row, "closed_at", what)?,
            closed_by: column::<B, _>(row, "closed_by", what)?,
            evidence: column::<B, _>(row, "evidence", what)?,
        }
        .decode()
    }

    async fn followups_in(
        conn: &mut B::Connection,
        id: &IncidentId,
    ) -> Result<Vec<FollowUp>, StoreError> {
        let rows = sqlx::query(SELECT_FOLLOWUPS)
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(query_error("read the follow-ups"))?;
        rows.iter()
            .map(|row| Self::followup_from_row(row).map(|(_, followup)| followup))
            .collect()
    }

    pub(crate) async fn followups(&self, id: &IncidentId) -> Result<Vec<FollowUp>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(query_error("read the follow-ups"))?;
        Self::followups_in(&mut conn, id).await
    }

    pub(crate) async fn open_followups(&self) -> Result<Vec<(IncidentId, FollowUp)>, StoreError> {
        let what = "list the open follow-ups";
        let sql = sqlx::AssertSqlSafe(super::bulk_query::<B>(
            FOLLOWUP_COLUMNS,
            "FROM followups f WHERE f.closed_at IS NULL",
        ));
        let row = sqlx::query(sql)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error(what))?;
        let text: String = column::<B, _>(&row, "bulk", what)?;
        let mut read = super::parse_bulk::<BulkFollowUp>(&text, what)?
            .into_iter()
            .map(|bulk| {
                let seq = bulk.1;
                FollowUpText::from(bulk)
                    .decode()
                    .map(|(id, followup)| (id, seq, followup))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Soonest deadline first; each emergency's in opening order.
        read.sort_unstable_by(|a, b| {
            (a.2.due_at, a.0.as_str(), a.1).cmp(&(b.2.due_at, b.0.as_str(), b.1))
        });
        Ok(read
            .into_iter()
            .map(|(id, _, followup)| (id, followup))
            .collect())
    }

    pub(crate) async fn followup_clocks(&self) -> Result<Vec<FollowUpClock>, StoreError> {
        let what = "list the follow-ups";
        // Four narrow columns of every follow-up, in one scan of the table: `stats` counts the
        // clocks of its window's emergencies, which it picks itself (a filter here, through
        // the emergencies' index, cost twice the scan on 40 000 follow-ups).
        let sql = sqlx::AssertSqlSafe(super::bulk_query::<B>(
            "f.incident, f.kind, f.due_at, f.closed_at",
            "FROM followups f",
        ));
        let row = sqlx::query(sql)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error(what))?;
        let text: String = column::<B, _>(&row, "bulk", what)?;
        super::parse_bulk::<(String, String, String, Option<String>)>(&text, what)?
            .into_iter()
            .map(|(incident, kind, due_at, closed_at)| {
                let context = format!("a follow-up of {incident}");
                Ok(FollowUpClock {
                    kind: FollowUpKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                        what: format!("{context}: `{kind}` is not a follow-up kind"),
                    })?,
                    due_at: parse_time(&due_at, &format!("{context}: due_at"))?,
                    closed_at: closed_at
                        .map(|text| parse_time(&text, &format!("{context}: closed_at")))
                        .transpose()?,
                    incident: parse_text(&incident, &context, IncidentId::parse)?,
                })
            })
            .collect()
    }

    pub(crate) async fn change_followups<F, E>(
        &self,
        actor: &str,
        id: &IncidentId,
        change: F,
    ) -> Result<Option<Result<crate::store::FollowUpWrite, E>>, StoreError>
    where
        F: FnOnce(crate::EmergencyRow, Vec<FollowUp>) -> Result<FollowUpChange, E> + Send,
        E: Send,
    {
        validate_actor(actor, "changing follow-ups")?;
        // Locked (by `write`) before the reads: a close racing another close sees the first
        // one's result and is refused, so one close is recorded.
        let written = self
            .write(actor, "commit the follow-ups", async |conn| {
                let Some(current) = Self::emergency_in(conn, id).await? else {
                    return Ok(Change::Unchanged(None));
                };
                let before = Self::followups_in(conn, id).await?;
                let mut changed = match change(current, before.clone()) {
                    Ok(changed) => changed,
                    Err(refusal) => return Ok(Change::Unchanged(Some(refusal))),
                };
                if changed.actions.is_empty() {
                    return Ok(Change::Unchanged(None));
                }
                if changed.followups.len() < before.len() {
                    return Err(StoreError::Invalid {
                        what: format!(
                            "a change to the follow-ups of {id} that removes some: a follow-up is \
                             closed, never deleted"
                        ),
                    });
                }
                for (index, followup) in changed.followups.iter().enumerate() {
                    if before.get(index) == Some(followup) {
                        continue;
                    }
                    let seq = i64::try_from(index + 1).map_err(|_| StoreError::Invalid {
                        what: format!("too many follow-ups for {id}"),
                    })?;
                    sqlx::query(UPSERT_FOLLOWUP)
                        .bind(id.as_str())
                        .bind(seq)
                        .bind(followup.kind.as_str())
                        .bind(followup.owner.as_str())
                        .bind(format_time(followup.opened_at))
                        .bind(format_time(followup.due_at))
                        .bind(followup.closed_at.map(format_time))
                        .bind(followup.closed_by.as_ref().map(ToString::to_string))
                        .bind(to_json(&followup.evidence, "a follow-up's evidence")?)
                        .execute(&mut *conn)
                        .await
                        .map_err(query_error("record a follow-up"))?;
                }
                if let Some(row) = &mut changed.row {
                    if row.id != *id {
                        return Err(StoreError::Invalid {
                            what: format!(
                                "a change to the follow-ups of {id} that writes emergency {}",
                                row.id
                            ),
                        });
                    }
                    let (declared_at, updated_at, document) = encode_emergency(row)?;
                    sqlx::query(UPDATE_EMERGENCY)
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
                }
                let audits = changed
                    .actions
                    .iter()
                    .map(Audit::of)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Change::Made(changed, audits))
            })
            .await?;
        Ok(match written {
            Ok(changed) => Some(Ok(changed)),
            Err(refused) => refused.map(Err),
        })
    }
}
