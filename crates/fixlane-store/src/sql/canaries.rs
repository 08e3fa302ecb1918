//! Canary runs and verifications: their start, their events (contiguous sequence numbers per
//! canary, state changes audited and plain samples not), and how they ended.

use fixlane_core::IncidentId;
use fixlane_core::audit::{
    AuditAction, AuditEntry, CanaryFinished, CanaryStarted, CanaryStep, canonical_json,
};
use jiff::Timestamp;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::write::{Audit, Change};
use super::{SqlStore, column, validate_actor, validate_present};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{
    CanaryEventRecord, CanaryRecord, NewCanary, format_time, parse_json, parse_text, parse_time,
};

/// `(incident, outcome)` of a canary, when it exists.
const CANARY_KEY: &str = "SELECT incident, outcome FROM canaries WHERE id = $1";

const INSERT_CANARY: &str = "INSERT INTO canaries \
     (id, incident, rev, profile, started_at, plan) VALUES ($1, $2, $3, $4, $5, $6)";

/// The canary's last event seq, 0 before its first. Read under the write lock, so the next
/// batch's numbers cannot be taken by a concurrent writer.
const LAST_CANARY_SEQ: &str =
    "SELECT COALESCE(MAX(seq), 0) AS last FROM canary_events WHERE canary_id = $1";

const INSERT_CANARY_EVENT: &str = "INSERT INTO canary_events \
     (canary_id, seq, at, kind, data, audited) VALUES ($1, $2, $3, $4, $5, $6)";

const FINISH_CANARY: &str = "UPDATE canaries SET finished_at = $2, outcome = $3 WHERE id = $1";

const SELECT_CANARY: &str = "SELECT id, incident, rev, profile, started_at, \
     finished_at, outcome, plan FROM canaries WHERE id = $1";

const SELECT_CANARY_EVENTS: &str = "SELECT seq, at, kind, data, audited \
     FROM canary_events WHERE canary_id = $1 ORDER BY seq";

const SELECT_CANARIES_OF: &str = "SELECT id, incident, rev, profile, started_at, \
     finished_at, outcome, plan FROM canaries WHERE incident = $1 \
     ORDER BY started_at DESC, id DESC";

const SELECT_CANARIES_SINCE: &str = "SELECT id, incident, rev, profile, started_at, \
     finished_at, outcome, plan FROM canaries WHERE started_at >= $1 \
     ORDER BY started_at, id";

/// Checks a new canary and encodes its columns as stored: `(started_at, plan)`.
fn encode_canary(canary: &NewCanary) -> Result<(String, String), StoreError> {
    validate_present(&canary.id, || "a canary with an empty id".to_owned())?;
    validate_present(&canary.rev, || {
        format!("canary {} without a rev", canary.id)
    })?;
    validate_present(&canary.profile, || {
        format!("canary {} without a profile", canary.id)
    })?;
    Ok((format_time(canary.started_at), canonical_json(&canary.plan)))
}

/// Checks a batch of canary events and encodes each as stored: `(at, data)`.
fn encode_canary_events(
    canary_id: &str,
    events: &[CanaryEventRecord],
) -> Result<Vec<(String, String)>, StoreError> {
    events
        .iter()
        .map(|event| {
            validate_present(&event.kind, || {
                format!("an event of canary {canary_id} with an empty kind")
            })?;
            Ok((format_time(event.at), canonical_json(&event.data)))
        })
        .collect()
}

/// A `canaries` row as stored (incident, times and plan still text).
struct CanaryText {
    id: String,
    incident: Option<String>,
    rev: String,
    profile: String,
    started_at: String,
    finished_at: Option<String>,
    outcome: Option<String>,
    plan: String,
}

impl CanaryText {
    fn into_record(
        self,
        events: Vec<(i64, CanaryEventRecord)>,
    ) -> Result<CanaryRecord, StoreError> {
        let context = format!("canary {}", self.id);
        Ok(CanaryRecord {
            incident: self
                .incident
                .as_deref()
                .map(|text| parse_text(text, format!("{context}: incident"), IncidentId::parse))
                .transpose()?,
            started_at: parse_time(&self.started_at, format!("{context}: started_at"))?,
            finished_at: self
                .finished_at
                .as_deref()
                .map(|text| parse_time(text, format!("{context}: finished_at")))
                .transpose()?,
            plan: parse_json(&self.plan, format!("{context}: plan"))?,
            id: self.id,
            rev: self.rev,
            profile: self.profile,
            outcome: self.outcome,
            events,
        })
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
    pub(crate) async fn start_canary(
        &self,
        actor: &str,
        canary: &NewCanary,
    ) -> Result<AuditEntry, StoreError> {
        validate_actor(actor, "starting a canary")?;
        let (started_at, plan) = encode_canary(canary)?;
        let incident = canary.incident.as_ref().map(IncidentId::to_string);
        // Locked (by `write`) before the lookup, so two starts of one id cannot both pass it.
        let Ok(((), entry)) = self
            .write(actor, "commit the new canary", async |conn| {
                if Self::canary_key(conn, &canary.id).await?.is_some() {
                    return Err(StoreError::CanaryExists {
                        id: canary.id.clone(),
                    });
                }
                sqlx::query(INSERT_CANARY)
                    .bind(&canary.id)
                    .bind(&incident)
                    .bind(&canary.rev)
                    .bind(&canary.profile)
                    .bind(&started_at)
                    .bind(plan)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the new canary"))?;
                let action = AuditAction::CanaryStarted(CanaryStarted {
                    id: canary.id.clone(),
                    incident: incident.clone(),
                    rev: canary.rev.clone(),
                    profile: canary.profile.clone(),
                    started_at: canary.started_at,
                });
                Ok(Change::made((), Audit::of(&action)?))
            })
            .await?;
        Ok(entry)
    }

    pub(crate) async fn record_canary_events(
        &self,
        actor: &str,
        canary_id: &str,
        events: &[CanaryEventRecord],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        validate_actor(actor, "recording canary events")?;
        validate_present(canary_id, || {
            "canary events for an empty canary id".to_owned()
        })?;
        let encoded = encode_canary_events(canary_id, events)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        // Locked (by `write`) before the last seq is read, so concurrent batches never share
        // numbers.
        let Ok(((), entries)) = self
            .write(actor, "commit the canary events", async |conn| {
                let Some((incident, _)) = Self::canary_key(conn, canary_id).await? else {
                    return Err(StoreError::UnknownCanary {
                        id: canary_id.to_owned(),
                    });
                };
                let what = "read the canary's last event";
                let last = sqlx::query(LAST_CANARY_SEQ)
                    .bind(canary_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(query_error(what))?;
                let mut seq: i64 = column::<B, _>(&last, "last", what)?;
                // Audited after the events, in their order, in the same transaction.
                let mut audits = Vec::new();
                for (event, (at, data)) in events.iter().zip(encoded) {
                    seq = seq.checked_add(1).ok_or_else(|| StoreError::Corrupt {
                        what: format!("canary {canary_id}: event seq {seq} cannot be incremented"),
                    })?;
                    sqlx::query(INSERT_CANARY_EVENT)
                        .bind(canary_id)
                        .bind(seq)
                        .bind(at)
                        .bind(&event.kind)
                        .bind(data)
                        .bind(event.audited)
                        .execute(&mut *conn)
                        .await
                        .map_err(query_error("record a canary event"))?;
                    if event.audited {
                        let action = AuditAction::CanaryStep(CanaryStep {
                            kind: event.kind.clone(),
                            canary: canary_id.to_owned(),
                            incident: incident.clone(),
                            seq,
                            data: event.data.clone(),
                        });
                        audits.push(Audit::of(&action)?);
                    }
                }
                Ok(Change::made((), audits))
            })
            .await?;
        Ok(entries)
    }

    pub(crate) async fn finish_canary(
        &self,
        actor: &str,
        canary_id: &str,
        outcome: &str,
        finished_at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        validate_actor(actor, "finishing a canary")?;
        validate_present(canary_id, || {
            "the end of a canary with an empty id".to_owned()
        })?;
        validate_present(outcome, || {
            format!("the end of canary {canary_id} without an outcome")
        })?;
        let finished_text = format_time(finished_at);
        let Ok(((), entry)) = self
            .write(actor, "commit the canary's end", async |conn| {
                let Some((incident, previous)) = Self::canary_key(conn, canary_id).await? else {
                    return Err(StoreError::UnknownCanary {
                        id: canary_id.to_owned(),
                    });
                };
                if let Some(previous) = previous {
                    return Err(StoreError::Invalid {
                        what: format!(
                            "a second end (`{outcome}`) of canary {canary_id}: it already finished \
                             with outcome `{previous}`"
                        ),
                    });
                }
                sqlx::query(FINISH_CANARY)
                    .bind(canary_id)
                    .bind(&finished_text)
                    .bind(outcome)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the canary's end"))?;
                let action = AuditAction::CanaryFinished(CanaryFinished {
                    canary: canary_id.to_owned(),
                    incident,
                    outcome: outcome.to_owned(),
                    finished_at,
                });
                Ok(Change::made((), Audit::of(&action)?))
            })
            .await?;
        Ok(entry)
    }

    pub(crate) async fn canary(&self, id: &str) -> Result<Option<CanaryRecord>, StoreError> {
        // One snapshot: the row and its events as of one instant.
        let mut tx = B::begin_read(&self.pool).await?;
        let Some(row) = sqlx::query(SELECT_CANARY)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_error("look up the canary"))?
        else {
            tx.commit()
                .await
                .map_err(query_error("look up the canary"))?;
            return Ok(None);
        };
        let canary = Self::canary_from_row(&row)?;
        let what = "read the canary's events";
        let rows = sqlx::query(SELECT_CANARY_EVENTS)
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(query_error(what))?;
        tx.commit().await.map_err(query_error(what))?;
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: i64 = column::<B, _>(row, "seq", what)?;
            let at: String = column::<B, _>(row, "at", what)?;
            let data: String = column::<B, _>(row, "data", what)?;
            let context = format!("canary {}, event {seq}", canary.id);
            events.push((
                seq,
                CanaryEventRecord {
                    at: parse_time(&at, format!("{context}: at"))?,
                    data: parse_json(&data, format!("{context}: data"))?,
                    kind: column::<B, _>(row, "kind", what)?,
                    audited: column::<B, _>(row, "audited", what)?,
                },
            ));
        }
        canary.into_record(events).map(Some)
    }

    pub(crate) async fn canaries_since(
        &self,
        since: Timestamp,
    ) -> Result<Vec<CanaryRecord>, StoreError> {
        let rows = sqlx::query(SELECT_CANARIES_SINCE)
            .bind(format_time(since))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list the canaries"))?;
        rows.iter()
            .map(|row| Self::canary_from_row(row)?.into_record(Vec::new()))
            .collect()
    }

    pub(crate) async fn canaries_of(
        &self,
        incident: &IncidentId,
    ) -> Result<Vec<CanaryRecord>, StoreError> {
        let rows = sqlx::query(SELECT_CANARIES_OF)
            .bind(incident.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list the incident's canaries"))?;
        rows.iter()
            .map(|row| Self::canary_from_row(row)?.into_record(Vec::new()))
            .collect()
    }

    /// Looks a canary up inside a transaction: `(incident, outcome)` as stored, when it exists.
    async fn canary_key(
        conn: &mut B::Connection,
        id: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>, StoreError> {
        let what = "look the canary up";
        let Some(row) = sqlx::query(CANARY_KEY)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(query_error(what))?
        else {
            return Ok(None);
        };
        Ok(Some((
            column::<B, _>(&row, "incident", what)?,
            column::<B, _>(&row, "outcome", what)?,
        )))
    }

    /// Decodes a `canaries` row (its events are read apart).
    fn canary_from_row(row: &B::Row) -> Result<CanaryText, StoreError> {
        let what = "read a canary";
        Ok(CanaryText {
            id: column::<B, _>(row, "id", what)?,
            incident: column::<B, _>(row, "incident", what)?,
            rev: column::<B, _>(row, "rev", what)?,
            profile: column::<B, _>(row, "profile", what)?,
            started_at: column::<B, _>(row, "started_at", what)?,
            finished_at: column::<B, _>(row, "finished_at", what)?,
            outcome: column::<B, _>(row, "outcome", what)?,
            plan: column::<B, _>(row, "plan", what)?,
        })
    }
}
