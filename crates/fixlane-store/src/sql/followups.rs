//! Each emergency's follow-ups: read in opening order, listed across emergencies while open, and
//! changed — opened, closed, the emergency closed with the last one — in one transaction with
//! an audit entry per change, under the write lock, so two closes racing record one.

use std::borrow::Cow;

use fixlane_core::IncidentId;
use fixlane_core::followup::{Evidence, FollowUp, FollowUpKind};
use fixlane_core::stats::FollowUpClock;
use serde::Deserialize;
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

/// One follow-up as a [`super::bulk_query`] hands it over: its text borrowed from the array
/// where it needs no unescaping, so reading 26 000 of them allocates little.
#[derive(Deserialize)]
struct BulkFollowUp<'a>(
    #[serde(borrow)] Cow<'a, str>,
    i64,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Option<Cow<'a, str>>,
    #[serde(borrow)] Cow<'a, str>,
);

impl BulkFollowUp<'_> {
    fn fields(&self) -> FollowUpFields<'_> {
        FollowUpFields {
            incident: &self.0,
            kind: &self.2,
            owner: &self.3,
            opened_at: &self.4,
            due_at: &self.5,
            closed_at: self.6.as_deref(),
            closed_by: self.7.as_deref(),
            evidence: &self.8,
        }
    }
}

/// One follow-up's clock as [`SqlStore::followup_clocks`] reads it.
#[derive(Deserialize)]
struct BulkClock<'a>(
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Option<Cow<'a, str>>,
);

const UPSERT_FOLLOWUP: &str = "INSERT INTO followups \
     (incident, seq, kind, owner, opened_at, due_at, closed_at, closed_by, evidence) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (incident, seq) DO UPDATE SET kind = $3, owner = $4, opened_at = $5, \
     due_at = $6, closed_at = $7, closed_by = $8, evidence = $9";

/// A follow-up's columns as text, decoded in one place.
struct FollowUpFields<'a> {
    incident: &'a str,
    kind: &'a str,
    owner: &'a str,
    opened_at: &'a str,
    due_at: &'a str,
    closed_at: Option<&'a str>,
    closed_by: Option<&'a str>,
    evidence: &'a str,
}

impl FollowUpFields<'_> {
    fn decode(&self) -> Result<(IncidentId, FollowUp), StoreError> {
        // Each error says which follow-up and which column; `format_args!` builds the words
        // only for an error.
        let id = self.incident;
        let person = |text: &str| {
            parse_text(
                text,
                format_args!("a follow-up of {id}"),
                fixlane_core::PersonName::parse,
            )
        };
        let incident = parse_text(id, format_args!("a follow-up of {id}"), IncidentId::parse)?;
        let kind = FollowUpKind::parse(self.kind).ok_or_else(|| StoreError::Corrupt {
            what: format!(
                "a follow-up of {id}: `{}` is not a follow-up kind",
                self.kind
            ),
        })?;
        let followup = FollowUp {
            kind,
            owner: person(self.owner)?,
            opened_at: parse_time(
                self.opened_at,
                format_args!("a follow-up of {id}: opened_at"),
            )?,
            due_at: parse_time(self.due_at, format_args!("a follow-up of {id}: due_at"))?,
            closed_at: self
                .closed_at
                .map(|text| parse_time(text, format_args!("a follow-up of {id}: closed_at")))
                .transpose()?,
            closed_by: self.closed_by.map(person).transpose()?,
            evidence: parse_json::<Evidence>(
                self.evidence,
                format_args!("a follow-up of {id}: evidence"),
            )?,
        };
        Ok((incident, followup))
    }
}

/// The follow-ups of a [`super::bulk_query`]'s array, each decoded as it is read, so no vector
/// of the raw rows is built beside the records (26 000 of them for `due` on a busy store).
fn decode_each(
    text: &str,
    what: &'static str,
) -> Result<Vec<(IncidentId, i64, FollowUp)>, StoreError> {
    /// Decodes each element; the first record that does not decode is kept, typed, in
    /// `failed`, and stops the read.
    struct Each<'f> {
        failed: &'f mut Option<StoreError>,
    }
    impl<'de> serde::de::Visitor<'de> for Each<'_> {
        type Value = Vec<(IncidentId, i64, FollowUp)>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("an array of follow-ups")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut rows: A,
        ) -> Result<Self::Value, A::Error> {
            let mut read = Vec::with_capacity(rows.size_hint().unwrap_or(0));
            while let Some(row) = rows.next_element::<BulkFollowUp<'de>>()? {
                match row.fields().decode() {
                    Ok((id, followup)) => read.push((id, row.1, followup)),
                    Err(error) => {
                        *self.failed = Some(error);
                        return Err(serde::de::Error::custom("a follow-up does not decode"));
                    }
                }
            }
            Ok(read)
        }
    }
    let mut failed = None;
    let mut reader = serde_json::Deserializer::from_str(text);
    let read = serde::Deserializer::deserialize_seq(
        &mut reader,
        Each {
            failed: &mut failed,
        },
    )
    .and_then(|read| reader.end().map(|()| read));
    match (read, failed) {
        (_, Some(error)) => Err(error),
        (Ok(read), None) => Ok(read),
        (Err(error), None) => Err(StoreError::Corrupt {
            what: format!("{what}: the rows do not read as expected ({error})"),
        }),
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
        let text = |name: &str| column::<B, String>(row, name, what);
        let optional = |name: &str| column::<B, Option<String>>(row, name, what);
        let (closed_at, closed_by) = (optional("closed_at")?, optional("closed_by")?);
        FollowUpFields {
            incident: &text("incident")?,
            kind: &text("kind")?,
            owner: &text("owner")?,
            opened_at: &text("opened_at")?,
            due_at: &text("due_at")?,
            closed_at: closed_at.as_deref(),
            closed_by: closed_by.as_deref(),
            evidence: &text("evidence")?,
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
        let mut read = decode_each(&text, what)?;
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
        let bulk: Vec<BulkClock<'_>> = super::parse_bulk(&text, what)?;
        bulk.iter()
            .map(|BulkClock(incident, kind, due_at, closed_at)| {
                Ok(FollowUpClock {
                    kind: FollowUpKind::parse(kind).ok_or_else(|| StoreError::Corrupt {
                        what: format!(
                            "a follow-up of {incident}: `{kind}` is not a follow-up kind"
                        ),
                    })?,
                    due_at: parse_time(due_at, format_args!("a follow-up of {incident}: due_at"))?,
                    closed_at: closed_at
                        .as_deref()
                        .map(|text| {
                            parse_time(text, format_args!("a follow-up of {incident}: closed_at"))
                        })
                        .transpose()?,
                    incident: parse_text(
                        incident,
                        format_args!("a follow-up of {incident}"),
                        IncidentId::parse,
                    )?,
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
