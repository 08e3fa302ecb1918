//! What both backends share: the SQL (identical on `SQLite` and `PostgreSQL`, which both accept `$N`
//! parameters and `ON CONFLICT … DO UPDATE`), raw row shapes, the next audit entry, and the
//! `impl_store!` macro that writes the [`crate::Store`] implementation once for each database.
//!
//! Each backend module supplies only what differs: `begin_write` (a transaction that holds the
//! audit append lock), `begin_read` (a consistent snapshot) and `READ_HEAD_FOR_APPEND`.

use fixlane_core::audit::{AuditEntry, ChainBreak, canonical_json, verify_chain};
use jiff::Timestamp;

use crate::error::StoreError;
use crate::model::{
    CanaryEventRecord, CanaryRecord, EmergencyRow, GateRecord, NewCanary, PastDeclaration,
    RateReview, RunRecord, format_time, parse_json, parse_time,
};

pub(crate) const RUN_EXISTS: &str = "SELECT run_id, rev, lane FROM runs WHERE run_id = $1";

pub(crate) const INSERT_RUN: &str = "INSERT INTO runs \
     (run_id, rev, branch, lane, emergency, incident, started_at, plan) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const INSERT_RUN_RUNNER: &str =
    "INSERT INTO run_runners (run_id, runner) VALUES ($1, $2)";

/// The columns of a run as read back, its runner beside it.
macro_rules! run_columns {
    () => {
        "SELECT runs.run_id, rev, branch, lane, emergency, incident, started_at, finished_at, \
         verdict, reasons, plan, run_runners.runner, run_runners.abandoned_at FROM runs \
         LEFT JOIN run_runners ON run_runners.run_id = runs.run_id "
    };
}

pub(crate) const UPSERT_GATE: &str = "INSERT INTO gate_results \
     (run_id, gate, tier, state, detail, exit_code, duration_ms, log_path, tail, finished_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (run_id, gate) DO UPDATE SET \
     tier = excluded.tier, state = excluded.state, detail = excluded.detail, \
     exit_code = excluded.exit_code, duration_ms = excluded.duration_ms, \
     log_path = excluded.log_path, tail = excluded.tail, finished_at = excluded.finished_at";

pub(crate) const FINISH_RUN: &str =
    "UPDATE runs SET verdict = $2, reasons = $3, finished_at = $4 WHERE run_id = $1";

pub(crate) const SELECT_RUN: &str = concat!(run_columns!(), "WHERE runs.run_id = $1");

pub(crate) const SELECT_LATEST_RUN: &str = concat!(
    run_columns!(),
    "WHERE rev = $1 AND ($2 IS NULL OR lane = $2) \
     ORDER BY started_at DESC, runs.run_id DESC LIMIT 1"
);

/// Runs without a verdict, oldest first: still going, or abandoned by a runner that died.
pub(crate) const SELECT_UNFINISHED_RUNS: &str = concat!(
    run_columns!(),
    "WHERE finished_at IS NULL ORDER BY started_at, runs.run_id"
);

/// Marks a run abandoned; the `finished_at IS NULL` guard makes two finders write it once.
pub(crate) const ABANDON_RUN: &str = "UPDATE runs SET verdict = 'blocked', reasons = $2, \
     finished_at = $3 WHERE run_id = $1 AND finished_at IS NULL";

pub(crate) const MARK_RUN_ABANDONED: &str = "INSERT INTO run_runners (run_id, abandoned_at) \
     VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET abandoned_at = excluded.abandoned_at";

pub(crate) const SELECT_GATES: &str = "SELECT gate, tier, state, detail, exit_code, duration_ms, \
     log_path, tail, finished_at FROM gate_results WHERE run_id = $1 ORDER BY finished_at, gate";

pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log \
     (seq, recorded_at, actor, action, details, previous_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Moves the head; the `seq = $3` guard makes a lost race fail instead of forking the chain.
pub(crate) const UPDATE_HEAD: &str =
    "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1 AND seq = $3";

pub(crate) const READ_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";

/// The details of the newest `config-seen` entry.
pub(crate) const LAST_CONFIG_SEEN: &str =
    "SELECT details FROM audit_log WHERE action = 'config-seen' ORDER BY seq DESC LIMIT 1";

pub(crate) const SELECT_AUDIT: &str = "SELECT seq, recorded_at, actor, action, details, \
     previous_hash, hash FROM audit_log ORDER BY seq";

pub(crate) const EMERGENCY_EXISTS: &str = "SELECT id FROM emergencies WHERE id = $1";

pub(crate) const INSERT_EMERGENCY: &str = "INSERT INTO emergencies \
     (id, declared_at, author, drill, state, updated_at, document) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const UPDATE_EMERGENCY: &str = "UPDATE emergencies SET declared_at = $2, author = $3, \
     drill = $4, state = $5, updated_at = $6, document = $7 WHERE id = $1";

pub(crate) const SELECT_EMERGENCY: &str = "SELECT id, declared_at, author, drill, state, \
     updated_at, document FROM emergencies WHERE id = $1";

pub(crate) const SELECT_EMERGENCIES: &str = "SELECT id, declared_at, author, drill, state, \
     updated_at, document FROM emergencies ORDER BY declared_at DESC, id DESC";

pub(crate) const SELECT_DECLARATIONS_SINCE: &str = "SELECT id, author, declared_at, drill \
     FROM emergencies WHERE declared_at >= $1 ORDER BY declared_at, id";

pub(crate) const INSERT_RATE_REVIEW: &str =
    "INSERT INTO rate_reviews (at, by_actor, notes) VALUES ($1, $2, $3)";

/// The newest review by its time; of reviews at the same instant, the one recorded last.
pub(crate) const SELECT_LAST_RATE_REVIEW: &str =
    "SELECT at, by_actor, notes FROM rate_reviews ORDER BY at DESC, seq DESC LIMIT 1";

/// `(incident, outcome)` of a canary, when it exists.
pub(crate) const CANARY_KEY: &str = "SELECT incident, outcome FROM canaries WHERE id = $1";

pub(crate) const INSERT_CANARY: &str = "INSERT INTO canaries \
     (id, incident, rev, profile, started_at, plan) VALUES ($1, $2, $3, $4, $5, $6)";

/// The canary's last event seq, 0 before its first. Read under the write lock, so the next
/// batch's numbers cannot be taken by a concurrent writer.
pub(crate) const LAST_CANARY_SEQ: &str =
    "SELECT COALESCE(MAX(seq), 0) AS last FROM canary_events WHERE canary_id = $1";

pub(crate) const INSERT_CANARY_EVENT: &str = "INSERT INTO canary_events \
     (canary_id, seq, at, kind, data, audited) VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const FINISH_CANARY: &str =
    "UPDATE canaries SET finished_at = $2, outcome = $3 WHERE id = $1";

pub(crate) const SELECT_CANARY: &str = "SELECT id, incident, rev, profile, started_at, \
     finished_at, outcome, plan FROM canaries WHERE id = $1";

pub(crate) const SELECT_CANARY_EVENTS: &str = "SELECT seq, at, kind, data, audited \
     FROM canary_events WHERE canary_id = $1 ORDER BY seq";

pub(crate) const SELECT_CANARIES_OF: &str = "SELECT id, incident, rev, profile, started_at, \
     finished_at, outcome, plan FROM canaries WHERE incident = $1 \
     ORDER BY started_at DESC, id DESC";

/// Refuses an empty (or blank) value before anything is written.
pub(crate) fn validate_present(
    value: &str,
    what: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::Invalid { what: what() });
    }
    Ok(())
}

/// Checks a new canary and encodes its columns as stored: `(started_at, plan)`.
pub(crate) fn encode_canary(canary: &NewCanary) -> Result<(String, String), StoreError> {
    validate_present(&canary.id, || "a canary with an empty id".to_owned())?;
    validate_present(&canary.rev, || {
        format!("canary {} without a rev", canary.id)
    })?;
    validate_present(&canary.profile, || {
        format!("canary {} without a profile", canary.id)
    })?;
    Ok((format_time(canary.started_at), canonical_json(&canary.plan)))
}

/// The audit action of an audited canary event: `canary-<kind>`, `_` turned into `-`.
pub(crate) fn canary_action(kind: &str) -> String {
    format!("canary-{}", kind.replace('_', "-"))
}

/// Checks a batch of canary events and encodes each as stored: `(at, data)`.
pub(crate) fn encode_canary_events(
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

/// A `canaries` row as stored (times and plan still text).
pub(crate) struct CanaryText {
    pub id: String,
    pub incident: Option<String>,
    pub rev: String,
    pub profile: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub plan: String,
}

impl CanaryText {
    pub(crate) fn into_record(
        self,
        events: Vec<(i64, CanaryEventRecord)>,
    ) -> Result<CanaryRecord, StoreError> {
        let context = format!("canary {}", self.id);
        Ok(CanaryRecord {
            started_at: parse_time(&self.started_at, &format!("{context}: started_at"))?,
            finished_at: self
                .finished_at
                .as_deref()
                .map(|text| parse_time(text, &format!("{context}: finished_at")))
                .transpose()?,
            plan: parse_json(&self.plan, &format!("{context}: plan"))?,
            id: self.id,
            incident: self.incident,
            rev: self.rev,
            profile: self.profile,
            outcome: self.outcome,
            events,
        })
    }
}

/// A `canary_events` row read back.
pub(crate) fn canary_event(
    canary_id: &str,
    seq: i64,
    at: &str,
    kind: String,
    data: &str,
    audited: bool,
) -> Result<(i64, CanaryEventRecord), StoreError> {
    let context = format!("canary {canary_id}, event {seq}");
    Ok((
        seq,
        CanaryEventRecord {
            at: parse_time(at, &format!("{context}: at"))?,
            data: parse_json(data, &format!("{context}: data"))?,
            kind,
            audited,
        },
    ))
}

/// An `emergencies` row as stored (times and document still text).
pub(crate) struct EmergencyText {
    pub id: String,
    pub declared_at: String,
    pub author: String,
    pub drill: bool,
    pub state: String,
    pub updated_at: String,
    pub document: String,
}

impl EmergencyText {
    pub(crate) fn into_row(self) -> Result<EmergencyRow, StoreError> {
        let context = format!("emergency {}", self.id);
        Ok(EmergencyRow {
            declared_at: parse_time(&self.declared_at, &format!("{context}: declared_at"))?,
            updated_at: parse_time(&self.updated_at, &format!("{context}: updated_at"))?,
            document: parse_json(&self.document, &format!("{context}: document"))?,
            id: self.id,
            author: self.author,
            drill: self.drill,
            state: self.state,
        })
    }
}

/// A declaration as read for a rate decision.
pub(crate) fn past_declaration(
    id: String,
    author: String,
    declared_at: &str,
    drill: bool,
) -> Result<PastDeclaration, StoreError> {
    Ok(PastDeclaration {
        declared_at: parse_time(declared_at, &format!("emergency {id}: declared_at"))?,
        id,
        author,
        drill,
    })
}

/// A `rate_reviews` row read back.
pub(crate) fn rate_review(at: &str, by: String, notes: String) -> Result<RateReview, StoreError> {
    Ok(RateReview {
        at: parse_time(at, "a rate review's time")?,
        by,
        notes,
    })
}

/// Refuses an empty actor before anything is written.
pub(crate) fn validate_actor(actor: &str, doing: &str) -> Result<(), StoreError> {
    if actor.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: format!("{doing} without an actor: name who is acting"),
        });
    }
    Ok(())
}

/// Checks an emergency row and encodes its columns as stored: `(declared_at, updated_at,
/// document)`. The row's document is replaced by what a reader will parse back from the stored
/// canonical text, so the row handed back to the caller equals the row read later.
pub(crate) fn encode_emergency(
    row: &mut EmergencyRow,
) -> Result<(String, String, String), StoreError> {
    if row.id.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: "an emergency with an empty id".to_owned(),
        });
    }
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
    row.document = parse_json(&document, &format!("emergency {}: document", row.id))?;
    Ok((
        format_time(row.declared_at),
        format_time(row.updated_at),
        document,
    ))
}

/// A `runs` row as stored.
pub(crate) struct RunRow {
    pub run_id: String,
    pub rev: String,
    pub branch: Option<String>,
    pub lane: String,
    pub emergency: bool,
    pub incident: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub verdict: Option<String>,
    pub reasons: String,
    pub plan: String,
    pub runner: Option<String>,
    pub abandoned_at: Option<String>,
}

impl RunRow {
    pub(crate) fn into_record(self, gates: Vec<GateRecord>) -> Result<RunRecord, StoreError> {
        let context = format!("run {}", self.run_id);
        Ok(RunRecord {
            started_at: parse_time(&self.started_at, &format!("{context}: started_at"))?,
            finished_at: self
                .finished_at
                .as_deref()
                .map(|text| parse_time(text, &format!("{context}: finished_at")))
                .transpose()?,
            reasons: parse_json(&self.reasons, &format!("{context}: reasons"))?,
            plan: parse_json(&self.plan, &format!("{context}: plan"))?,
            runner: self
                .runner
                .as_deref()
                .map(|text| parse_json(text, &format!("{context}: runner")))
                .transpose()?,
            abandoned_at: self
                .abandoned_at
                .as_deref()
                .map(|text| parse_time(text, &format!("{context}: abandoned_at")))
                .transpose()?,
            run_id: self.run_id,
            rev: self.rev,
            branch: self.branch,
            lane: self.lane,
            emergency: self.emergency,
            incident: self.incident,
            verdict: self.verdict,
            gates,
        })
    }
}

/// A `gate_results` row as stored.
pub(crate) struct GateRow {
    pub gate: String,
    pub tier: String,
    pub state: String,
    pub detail: Option<String>,
    pub exit_code: Option<i32>,
    pub duration_ms: Option<i64>,
    pub log_path: Option<String>,
    pub tail: String,
    pub finished_at: String,
}

impl GateRow {
    pub(crate) fn into_record(self, run_id: &str) -> Result<GateRecord, StoreError> {
        let context = format!("run {run_id}, gate {}", self.gate);
        Ok(GateRecord {
            tail: parse_json(&self.tail, &format!("{context}: tail"))?,
            finished_at: parse_time(&self.finished_at, &format!("{context}: finished_at"))?,
            gate: self.gate,
            tier: self.tier,
            state: self.state,
            detail: self.detail,
            exit_code: self.exit_code,
            duration_ms: self.duration_ms,
            log_path: self.log_path,
        })
    }
}

/// An `audit_log` row as stored (details still text).
pub(crate) struct AuditRow {
    pub seq: i64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub details: String,
    pub previous_hash: String,
    pub hash: String,
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> Result<AuditEntry, StoreError> {
        let details = parse_json(&self.details, &format!("audit entry {}: details", self.seq))?;
        Ok(AuditEntry {
            seq: self.seq,
            time: self.time,
            actor: self.actor,
            action: self.action,
            details,
            previous_hash: self.previous_hash,
            hash: self.hash,
        })
    }
}

/// All entries in seq order; a damaged details column is an error.
pub(crate) fn entries(rows: Vec<AuditRow>) -> Result<Vec<AuditEntry>, StoreError> {
    rows.into_iter().map(AuditRow::into_entry).collect()
}

/// Verifies rows against the head. Details that are no longer JSON count as an alteration of
/// that entry, reported after everything before it checked out.
pub(crate) fn verify_rows(rows: Vec<AuditRow>, head: (i64, &str)) -> Result<usize, ChainBreak> {
    let mut checked = Vec::with_capacity(rows.len());
    for row in rows {
        let seq = row.seq;
        let Ok(entry) = row.into_entry() else {
            verify_chain(&checked, None)?;
            return Err(ChainBreak::Altered { seq });
        };
        checked.push(entry);
    }
    verify_chain(&checked, Some(head))?;
    Ok(checked.len())
}

/// The entry that follows the head, and the exact details text to store.
///
/// The hash covers the details as a reader will parse them back from that text, so the chain
/// verifies whatever the JSON library does to numbers on the way through.
pub(crate) fn next_entry(
    head_seq: i64,
    head_hash: String,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
) -> Result<(AuditEntry, String), StoreError> {
    if actor.trim().is_empty() || action.trim().is_empty() {
        return Err(StoreError::Invalid {
            what: format!(
                "an audit entry without an actor or action (actor `{actor}`, action `{action}`)"
            ),
        });
    }
    let details_text = canonical_json(details);
    let details = parse_json(&details_text, "the new audit entry's details")?;
    let seq = head_seq.checked_add(1).ok_or_else(|| StoreError::Corrupt {
        what: format!("the audit chain head seq {head_seq} cannot be incremented"),
    })?;
    let entry = AuditEntry::new(
        seq,
        format_time(Timestamp::now()),
        actor.to_owned(),
        action.to_owned(),
        details,
        head_hash,
    );
    Ok((entry, details_text))
}

/// Implements [`crate::Store`] for a backend type `$store` over database `$db`. Expects, in
/// scope: `READ_HEAD_FOR_APPEND` and the inherent methods `begin_write` and `begin_read`.
macro_rules! impl_store {
    ($store:ident, $db:ty) => {
        impl $store {
            /// Appends one audit entry inside the caller's write transaction and moves the head.
            async fn append_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                actor: &str,
                action: &str,
                details: &serde_json::Value,
            ) -> Result<fixlane_core::audit::AuditEntry, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "read the audit chain head";
                let head = sqlx::query(READ_HEAD_FOR_APPEND)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error(what))?
                    .ok_or($crate::StoreError::HeadMissing)?;
                let head_seq: i64 = head.try_get("seq").map_err(query_error(what))?;
                let head_hash: String = head.try_get("hash").map_err(query_error(what))?;
                let (entry, details_text) =
                    $crate::backend::next_entry(head_seq, head_hash, actor, action, details)?;
                let what = "append to the audit log";
                sqlx::query($crate::backend::INSERT_AUDIT)
                    .bind(entry.seq)
                    .bind(&entry.time)
                    .bind(&entry.actor)
                    .bind(&entry.action)
                    .bind(details_text)
                    .bind(&entry.previous_hash)
                    .bind(&entry.hash)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error(what))?;
                let moved = sqlx::query($crate::backend::UPDATE_HEAD)
                    .bind(entry.seq)
                    .bind(&entry.hash)
                    .bind(head_seq)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("move the audit chain head"))?;
                if moved.rows_affected() != 1 {
                    return Err($crate::StoreError::HeadMissing);
                }
                Ok(entry)
            }

            /// Takes the append lock at the start of a write transaction, before anything is
            /// read, so what the caller decides on cannot change until the commit. (`SQLite`
            /// already holds it from `BEGIN IMMEDIATE`; `PostgreSQL` locks the head row.)
            async fn hold_write_lock(
                conn: &mut <$db as sqlx::Database>::Connection,
            ) -> Result<(), $crate::StoreError> {
                use $crate::error::query_error;
                sqlx::query(READ_HEAD_FOR_APPEND)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error("take the store's write lock"))?
                    .ok_or($crate::StoreError::HeadMissing)?;
                Ok(())
            }

            /// Decodes an `emergencies` row.
            fn emergency_from_row(
                row: &<$db as sqlx::Database>::Row,
            ) -> Result<$crate::EmergencyRow, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "read an emergency";
                $crate::backend::EmergencyText {
                    id: row.try_get("id").map_err(query_error(what))?,
                    declared_at: row.try_get("declared_at").map_err(query_error(what))?,
                    author: row.try_get("author").map_err(query_error(what))?,
                    drill: row.try_get("drill").map_err(query_error(what))?,
                    state: row.try_get("state").map_err(query_error(what))?,
                    updated_at: row.try_get("updated_at").map_err(query_error(what))?,
                    document: row.try_get("document").map_err(query_error(what))?,
                }
                .into_row()
            }

            /// One emergency, read on `conn` (inside a transaction when it is one).
            async fn emergency_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: &str,
            ) -> Result<Option<$crate::EmergencyRow>, $crate::StoreError> {
                use $crate::error::query_error;
                sqlx::query($crate::backend::SELECT_EMERGENCY)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error("look up the emergency"))?
                    .map(|row| Self::emergency_from_row(&row))
                    .transpose()
            }

            /// The newest rate review, read on `conn`.
            async fn last_rate_review_in(
                conn: &mut <$db as sqlx::Database>::Connection,
            ) -> Result<Option<$crate::RateReview>, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "read the last rate review";
                let Some(row) = sqlx::query($crate::backend::SELECT_LAST_RATE_REVIEW)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error(what))?
                else {
                    return Ok(None);
                };
                let at: String = row.try_get("at").map_err(query_error(what))?;
                $crate::backend::rate_review(
                    &at,
                    row.try_get("by_actor").map_err(query_error(what))?,
                    row.try_get("notes").map_err(query_error(what))?,
                )
                .map(Some)
            }

            /// Looks a canary up inside a transaction: `(incident, outcome)` when it exists.
            async fn canary_key(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: &str,
            ) -> Result<Option<(Option<String>, Option<String>)>, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "look the canary up";
                let Some(row) = sqlx::query($crate::backend::CANARY_KEY)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error(what))?
                else {
                    return Ok(None);
                };
                let incident: Option<String> =
                    row.try_get("incident").map_err(query_error(what))?;
                let outcome: Option<String> = row.try_get("outcome").map_err(query_error(what))?;
                Ok(Some((incident, outcome)))
            }

            /// Decodes a `canaries` row (its events are read apart).
            fn canary_from_row(
                row: &<$db as sqlx::Database>::Row,
            ) -> Result<$crate::backend::CanaryText, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "read a canary";
                Ok($crate::backend::CanaryText {
                    id: row.try_get("id").map_err(query_error(what))?,
                    incident: row.try_get("incident").map_err(query_error(what))?,
                    rev: row.try_get("rev").map_err(query_error(what))?,
                    profile: row.try_get("profile").map_err(query_error(what))?,
                    started_at: row.try_get("started_at").map_err(query_error(what))?,
                    finished_at: row.try_get("finished_at").map_err(query_error(what))?,
                    outcome: row.try_get("outcome").map_err(query_error(what))?,
                    plan: row.try_get("plan").map_err(query_error(what))?,
                })
            }

            /// Looks a run up inside a transaction: `(rev, lane)` when it exists.
            async fn run_key(
                conn: &mut <$db as sqlx::Database>::Connection,
                run_id: &str,
            ) -> Result<Option<(String, String)>, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "look the run up";
                let Some(row) = sqlx::query($crate::backend::RUN_EXISTS)
                    .bind(run_id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(query_error(what))?
                else {
                    return Ok(None);
                };
                let rev: String = row.try_get("rev").map_err(query_error(what))?;
                let lane: String = row.try_get("lane").map_err(query_error(what))?;
                Ok(Some((rev, lane)))
            }

            /// Reads a run row and its gates.
            async fn load_run(
                &self,
                row: <$db as sqlx::Database>::Row,
            ) -> Result<$crate::RunRecord, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "read a run";
                let run = $crate::backend::RunRow {
                    run_id: row.try_get("run_id").map_err(query_error(what))?,
                    rev: row.try_get("rev").map_err(query_error(what))?,
                    branch: row.try_get("branch").map_err(query_error(what))?,
                    lane: row.try_get("lane").map_err(query_error(what))?,
                    emergency: row.try_get("emergency").map_err(query_error(what))?,
                    incident: row.try_get("incident").map_err(query_error(what))?,
                    started_at: row.try_get("started_at").map_err(query_error(what))?,
                    finished_at: row.try_get("finished_at").map_err(query_error(what))?,
                    verdict: row.try_get("verdict").map_err(query_error(what))?,
                    reasons: row.try_get("reasons").map_err(query_error(what))?,
                    plan: row.try_get("plan").map_err(query_error(what))?,
                    runner: row.try_get("runner").map_err(query_error(what))?,
                    abandoned_at: row.try_get("abandoned_at").map_err(query_error(what))?,
                };
                let what = "read a run's gate results";
                let rows = sqlx::query($crate::backend::SELECT_GATES)
                    .bind(&run.run_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error(what))?;
                let mut gates = Vec::with_capacity(rows.len());
                for row in rows {
                    let gate = $crate::backend::GateRow {
                        gate: row.try_get("gate").map_err(query_error(what))?,
                        tier: row.try_get("tier").map_err(query_error(what))?,
                        state: row.try_get("state").map_err(query_error(what))?,
                        detail: row.try_get("detail").map_err(query_error(what))?,
                        exit_code: row.try_get("exit_code").map_err(query_error(what))?,
                        duration_ms: row.try_get("duration_ms").map_err(query_error(what))?,
                        log_path: row.try_get("log_path").map_err(query_error(what))?,
                        tail: row.try_get("tail").map_err(query_error(what))?,
                        finished_at: row.try_get("finished_at").map_err(query_error(what))?,
                    };
                    gates.push(gate.into_record(&run.run_id)?);
                }
                run.into_record(gates)
            }

            /// Reads the head and every audit row from one consistent snapshot.
            async fn read_audit(
                &self,
            ) -> Result<(Option<(i64, String)>, Vec<$crate::backend::AuditRow>), $crate::StoreError>
            {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "read the audit log";
                let mut tx = self.begin_read().await?;
                let head = match sqlx::query($crate::backend::READ_HEAD)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_error(what))?
                {
                    Some(row) => Some((
                        row.try_get::<i64, _>("seq").map_err(query_error(what))?,
                        row.try_get::<String, _>("hash").map_err(query_error(what))?,
                    )),
                    None => None,
                };
                let rows = sqlx::query($crate::backend::SELECT_AUDIT)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(query_error(what))?;
                tx.commit().await.map_err(query_error(what))?;
                let mut audit = Vec::with_capacity(rows.len());
                for row in rows {
                    audit.push($crate::backend::AuditRow {
                        seq: row.try_get("seq").map_err(query_error(what))?,
                        time: row.try_get("recorded_at").map_err(query_error(what))?,
                        actor: row.try_get("actor").map_err(query_error(what))?,
                        action: row.try_get("action").map_err(query_error(what))?,
                        details: row.try_get("details").map_err(query_error(what))?,
                        previous_hash: row.try_get("previous_hash").map_err(query_error(what))?,
                        hash: row.try_get("hash").map_err(query_error(what))?,
                    });
                }
                Ok((head, audit))
            }
        }

        impl $crate::Store for $store {
            async fn record_config_seen(
                &self,
                actor: &str,
                file: &str,
                sha256: &str,
            ) -> Result<Option<fixlane_core::audit::AuditEntry>, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "read the last config seen";
                // Under the write lock, so two runs starting together log one change, not two.
                let mut tx = self.begin_write().await?;
                let last: Option<String> = sqlx::query($crate::backend::LAST_CONFIG_SEEN)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_error(what))?
                    .map(|row| row.try_get::<String, _>("details"))
                    .transpose()
                    .map_err(query_error(what))?;
                let previous = last
                    .and_then(|details| serde_json::from_str::<serde_json::Value>(&details).ok())
                    .and_then(|details| details.get("sha256").and_then(|sha| sha.as_str().map(str::to_owned)));
                if previous.as_deref() == Some(sha256) {
                    return Ok(None);
                }
                let details = serde_json::json!({
                    "file": file,
                    "sha256": sha256,
                    "previous_sha256": previous,
                });
                let entry = Self::append_in(&mut tx, actor, "config-seen", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the config-seen entry"))?;
                Ok(Some(entry))
            }

            async fn declare_emergency<F, E>(
                &self,
                actor: &str,
                since: jiff::Timestamp,
                decide: F,
            ) -> Result<
                Result<$crate::store::EmergencyWrite, E>,
                $crate::StoreError,
            >
            where
                F: FnOnce(
                        jiff::Timestamp,
                        &[$crate::PastDeclaration],
                        Option<&$crate::RateReview>,
                    ) -> Result<($crate::EmergencyRow, serde_json::Value), E>
                    + Send,
                E: Send,
            {
                use sqlx::Row as _;
                use $crate::error::query_error;
                $crate::backend::validate_actor(actor, "declaring an emergency")?;
                let since = $crate::model::format_time(since);
                let mut tx = self.begin_write().await?;
                // The lock comes before the reads: the decision sees every declaration committed
                // before it, and no other declaration can commit until this one does.
                Self::hold_write_lock(&mut tx).await?;
                // Read under the lock: every declaration committed before this one read the
                // clock before this reading, so none of them is stamped later than `now` (on one
                // clock; the policy counts later stamps anyway, for clocks that disagree).
                let now = jiff::Timestamp::now();
                let what = "read the recent declarations";
                let rows = sqlx::query($crate::backend::SELECT_DECLARATIONS_SINCE)
                    .bind(&since)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(query_error(what))?;
                let mut past = Vec::with_capacity(rows.len());
                for row in rows {
                    let declared_at: String =
                        row.try_get("declared_at").map_err(query_error(what))?;
                    past.push($crate::backend::past_declaration(
                        row.try_get("id").map_err(query_error(what))?,
                        row.try_get("author").map_err(query_error(what))?,
                        &declared_at,
                        row.try_get("drill").map_err(query_error(what))?,
                    )?);
                }
                let review = Self::last_rate_review_in(&mut tx).await?;
                let (mut row, details) = match decide(now, &past, review.as_ref()) {
                    Ok(decided) => decided,
                    Err(refusal) => {
                        tx.rollback()
                            .await
                            .map_err(query_error("release the store's write lock"))?;
                        return Ok(Err(refusal));
                    }
                };
                let (declared_at, updated_at, document) =
                    $crate::backend::encode_emergency(&mut row)?;
                let taken = sqlx::query($crate::backend::EMERGENCY_EXISTS)
                    .bind(&row.id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(query_error("look up the emergency"))?;
                if taken.is_some() {
                    return Err($crate::StoreError::EmergencyExists { id: row.id });
                }
                sqlx::query($crate::backend::INSERT_EMERGENCY)
                    .bind(&row.id)
                    .bind(declared_at)
                    .bind(&row.author)
                    .bind(row.drill)
                    .bind(&row.state)
                    .bind(updated_at)
                    .bind(document)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("record the emergency"))?;
                let entry = Self::append_in(&mut tx, actor, "declare", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the declared emergency"))?;
                Ok(Ok((row, entry)))
            }

            async fn update_emergency<F, E>(
                &self,
                actor: &str,
                id: &str,
                action: &str,
                change: F,
            ) -> Result<
                Option<Result<$crate::store::EmergencyWrite, E>>,
                $crate::StoreError,
            >
            where
                F: FnOnce(
                        $crate::EmergencyRow,
                    ) -> Result<($crate::EmergencyRow, serde_json::Value), E>
                    + Send,
                E: Send,
            {
                use $crate::error::query_error;
                $crate::backend::validate_actor(actor, "changing an emergency")?;
                if id.trim().is_empty() {
                    return Err($crate::StoreError::Invalid {
                        what: "a change to an emergency with an empty id".to_owned(),
                    });
                }
                if action.trim().is_empty() {
                    return Err($crate::StoreError::Invalid {
                        what: format!("a change to emergency {id} without an audit action"),
                    });
                }
                let mut tx = self.begin_write().await?;
                // Locked before the read, so no other change lands between it and the write.
                Self::hold_write_lock(&mut tx).await?;
                let release = "release the store's write lock";
                let Some(current) = Self::emergency_in(&mut tx, id).await? else {
                    tx.rollback().await.map_err(query_error(release))?;
                    return Ok(None);
                };
                let (mut row, details) = match change(current) {
                    Ok(changed) => changed,
                    Err(refusal) => {
                        tx.rollback().await.map_err(query_error(release))?;
                        return Ok(Some(Err(refusal)));
                    }
                };
                if row.id != id {
                    return Err($crate::StoreError::Invalid {
                        what: format!(
                            "a change to emergency {id} that renames it to `{}`: an emergency's \
                             id never changes",
                            row.id
                        ),
                    });
                }
                let (declared_at, updated_at, document) =
                    $crate::backend::encode_emergency(&mut row)?;
                let written = sqlx::query($crate::backend::UPDATE_EMERGENCY)
                    .bind(&row.id)
                    .bind(declared_at)
                    .bind(&row.author)
                    .bind(row.drill)
                    .bind(&row.state)
                    .bind(updated_at)
                    .bind(document)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("record the emergency's change"))?;
                if written.rows_affected() != 1 {
                    return Err($crate::StoreError::Corrupt {
                        what: format!("emergency {id} vanished while the write lock was held"),
                    });
                }
                let entry = Self::append_in(&mut tx, actor, action, &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the emergency's change"))?;
                Ok(Some(Ok((row, entry))))
            }

            async fn emergency(
                &self,
                id: &str,
            ) -> Result<Option<$crate::EmergencyRow>, $crate::StoreError> {
                use $crate::error::query_error;
                let mut conn = self
                    .pool
                    .acquire()
                    .await
                    .map_err(query_error("look up the emergency"))?;
                Self::emergency_in(&mut conn, id).await
            }

            async fn emergencies(
                &self,
            ) -> Result<Vec<$crate::EmergencyRow>, $crate::StoreError> {
                use $crate::error::query_error;
                let rows = sqlx::query($crate::backend::SELECT_EMERGENCIES)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("list the emergencies"))?;
                rows.iter().map(Self::emergency_from_row).collect()
            }

            async fn record_rate_review(
                &self,
                actor: &str,
                notes: &str,
            ) -> Result<
                ($crate::RateReview, fixlane_core::audit::AuditEntry),
                $crate::StoreError,
            > {
                use $crate::error::query_error;
                $crate::backend::validate_actor(actor, "a rate review")?;
                let mut tx = self.begin_write().await?;
                // The review's moment is read under the lock, as a declaration's is, so the
                // order of the stamps is the order of the commits.
                Self::hold_write_lock(&mut tx).await?;
                let now = jiff::Timestamp::now();
                let at = $crate::model::format_time(now);
                sqlx::query($crate::backend::INSERT_RATE_REVIEW)
                    .bind(&at)
                    .bind(actor)
                    .bind(notes)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("record the rate review"))?;
                let details = serde_json::json!({ "at": at, "notes": notes });
                let entry = Self::append_in(&mut tx, actor, "review-rate", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the rate review"))?;
                let review = $crate::RateReview {
                    at: now,
                    by: actor.to_owned(),
                    notes: notes.to_owned(),
                };
                Ok((review, entry))
            }

            async fn last_rate_review(
                &self,
            ) -> Result<Option<$crate::RateReview>, $crate::StoreError> {
                use $crate::error::query_error;
                let mut conn = self
                    .pool
                    .acquire()
                    .await
                    .map_err(query_error("read the last rate review"))?;
                Self::last_rate_review_in(&mut conn).await
            }

            async fn append_audit(
                &self,
                actor: &str,
                action: &str,
                details: serde_json::Value,
            ) -> Result<fixlane_core::audit::AuditEntry, $crate::StoreError> {
                use $crate::error::query_error;
                let mut tx = self.begin_write().await?;
                let entry = Self::append_in(&mut tx, actor, action, &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the audit entry"))?;
                Ok(entry)
            }

            async fn start_run(
                &self,
                actor: &str,
                run: &$crate::NewRun,
            ) -> Result<fixlane_core::audit::AuditEntry, $crate::StoreError> {
                use $crate::error::query_error;
                let plan = $crate::model::to_json(&run.plan, "the run's plan")?;
                let runner = run
                    .runner
                    .as_ref()
                    .map(|runner| $crate::model::to_json(runner, "the run's runner"))
                    .transpose()?;
                let started_at = $crate::model::format_time(run.started_at);
                let mut tx = self.begin_write().await?;
                if Self::run_key(&mut tx, &run.run_id).await?.is_some() {
                    return Err($crate::StoreError::RunExists {
                        run_id: run.run_id.clone(),
                    });
                }
                sqlx::query($crate::backend::INSERT_RUN)
                    .bind(&run.run_id)
                    .bind(&run.rev)
                    .bind(&run.branch)
                    .bind(&run.lane)
                    .bind(run.emergency)
                    .bind(&run.incident)
                    .bind(&started_at)
                    .bind(plan)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("record the new run"))?;
                if let Some(runner) = runner {
                    sqlx::query($crate::backend::INSERT_RUN_RUNNER)
                        .bind(&run.run_id)
                        .bind(runner)
                        .execute(&mut *tx)
                        .await
                        .map_err(query_error("record the run's runner"))?;
                }
                let mut details = serde_json::json!({
                    "run_id": run.run_id,
                    "rev": run.rev,
                    "branch": run.branch,
                    "lane": run.lane,
                    "emergency": run.emergency,
                    "incident": run.incident,
                    "started_at": started_at,
                });
                // Only runs that know their runner say so: older entries keep their shape.
                if let (Some(runner), Some(object)) = (&run.runner, details.as_object_mut()) {
                    object.insert("runner".to_owned(), runner.clone());
                }
                let entry = Self::append_in(&mut tx, actor, "run-started", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the new run"))?;
                Ok(entry)
            }

            async fn record_gates(
                &self,
                actor: &str,
                run_id: &str,
                gates: &[$crate::GateRecord],
            ) -> Result<Option<fixlane_core::audit::AuditEntry>, $crate::StoreError> {
                use $crate::error::query_error;
                if gates.is_empty() {
                    return Ok(None);
                }
                let mut encoded = Vec::with_capacity(gates.len());
                for gate in gates {
                    $crate::model::validate_gate(gate)?;
                    encoded.push((
                        $crate::model::to_json(&gate.tail, "a gate's output tail")?,
                        $crate::model::format_time(gate.finished_at),
                    ));
                }
                let mut tx = self.begin_write().await?;
                if Self::run_key(&mut tx, run_id).await?.is_none() {
                    return Err($crate::StoreError::UnknownRun {
                        run_id: run_id.to_owned(),
                    });
                }
                for (gate, (tail, finished_at)) in gates.iter().zip(encoded) {
                    sqlx::query($crate::backend::UPSERT_GATE)
                        .bind(run_id)
                        .bind(&gate.gate)
                        .bind(&gate.tier)
                        .bind(&gate.state)
                        .bind(&gate.detail)
                        .bind(gate.exit_code)
                        .bind(gate.duration_ms)
                        .bind(&gate.log_path)
                        .bind(tail)
                        .bind(finished_at)
                        .execute(&mut *tx)
                        .await
                        .map_err(query_error("record a gate result"))?;
                }
                let listed: Vec<serde_json::Value> = gates
                    .iter()
                    .map(|gate| {
                        serde_json::json!({
                            "gate": gate.gate,
                            "state": gate.state,
                            "exit_code": gate.exit_code,
                        })
                    })
                    .collect();
                let details = serde_json::json!({ "run_id": run_id, "gates": listed });
                let entry = Self::append_in(&mut tx, actor, "gates-recorded", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the gate results"))?;
                Ok(Some(entry))
            }

            async fn finish_run(
                &self,
                actor: &str,
                run_id: &str,
                verdict: &str,
                reasons: &[String],
                finished_at: jiff::Timestamp,
            ) -> Result<fixlane_core::audit::AuditEntry, $crate::StoreError> {
                use $crate::error::query_error;
                $crate::model::validate_verdict(verdict)?;
                let reasons_text = $crate::model::to_json(&reasons, "the verdict's reasons")?;
                let finished_text = $crate::model::format_time(finished_at);
                let mut tx = self.begin_write().await?;
                let Some((rev, lane)) = Self::run_key(&mut tx, run_id).await? else {
                    return Err($crate::StoreError::UnknownRun {
                        run_id: run_id.to_owned(),
                    });
                };
                sqlx::query($crate::backend::FINISH_RUN)
                    .bind(run_id)
                    .bind(verdict)
                    .bind(reasons_text)
                    .bind(&finished_text)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("record the run's verdict"))?;
                let details = serde_json::json!({
                    "run_id": run_id,
                    "rev": rev,
                    "lane": lane,
                    "verdict": verdict,
                    "reasons": reasons,
                    "finished_at": finished_text,
                });
                let entry = Self::append_in(&mut tx, actor, "run-verdict", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the run's verdict"))?;
                Ok(entry)
            }

            async fn latest_run(
                &self,
                rev: &str,
                lane: Option<&str>,
            ) -> Result<Option<$crate::RunRecord>, $crate::StoreError> {
                use $crate::error::query_error;
                let row = sqlx::query($crate::backend::SELECT_LATEST_RUN)
                    .bind(rev)
                    .bind(lane)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("look up the latest run"))?;
                match row {
                    Some(row) => self.load_run(row).await.map(Some),
                    None => Ok(None),
                }
            }

            async fn run(
                &self,
                run_id: &str,
            ) -> Result<Option<$crate::RunRecord>, $crate::StoreError> {
                use $crate::error::query_error;
                let row = sqlx::query($crate::backend::SELECT_RUN)
                    .bind(run_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error("look up the run"))?;
                match row {
                    Some(row) => self.load_run(row).await.map(Some),
                    None => Ok(None),
                }
            }

            async fn unfinished_runs(
                &self,
            ) -> Result<Vec<$crate::RunRecord>, $crate::StoreError> {
                use $crate::error::query_error;
                let rows = sqlx::query($crate::backend::SELECT_UNFINISHED_RUNS)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("list the unfinished runs"))?;
                let mut runs = Vec::with_capacity(rows.len());
                for row in rows {
                    runs.push(self.load_run(row).await?);
                }
                Ok(runs)
            }

            async fn abandon_run(
                &self,
                actor: &str,
                run_id: &str,
                why: &str,
                at: jiff::Timestamp,
            ) -> Result<Option<fixlane_core::audit::AuditEntry>, $crate::StoreError> {
                use $crate::error::query_error;
                $crate::backend::validate_actor(actor, "marking a run abandoned")?;
                let reasons = vec![why.to_owned()];
                let reasons_text = $crate::model::to_json(&reasons, "the verdict's reasons")?;
                let at_text = $crate::model::format_time(at);
                let mut tx = self.begin_write().await?;
                let Some((rev, lane)) = Self::run_key(&mut tx, run_id).await? else {
                    return Err($crate::StoreError::UnknownRun {
                        run_id: run_id.to_owned(),
                    });
                };
                let changed = sqlx::query($crate::backend::ABANDON_RUN)
                    .bind(run_id)
                    .bind(reasons_text)
                    .bind(&at_text)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("mark the run abandoned"))?
                    .rows_affected();
                if changed == 0 {
                    // It finished, or another reader marked it first: nothing to record.
                    tx.rollback()
                        .await
                        .map_err(query_error("release the store's write lock"))?;
                    return Ok(None);
                }
                sqlx::query($crate::backend::MARK_RUN_ABANDONED)
                    .bind(run_id)
                    .bind(&at_text)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("mark the run abandoned"))?;
                let details = serde_json::json!({
                    "run_id": run_id,
                    "rev": rev,
                    "lane": lane,
                    "verdict": "blocked",
                    "why": why,
                    "abandoned_at": at_text,
                });
                let entry = Self::append_in(&mut tx, actor, "run-abandoned", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the abandoned run"))?;
                Ok(Some(entry))
            }

            async fn start_canary(
                &self,
                actor: &str,
                canary: &$crate::NewCanary,
            ) -> Result<fixlane_core::audit::AuditEntry, $crate::StoreError> {
                use $crate::error::query_error;
                $crate::backend::validate_actor(actor, "starting a canary")?;
                let (started_at, plan) = $crate::backend::encode_canary(canary)?;
                let mut tx = self.begin_write().await?;
                // Locked before the lookup, so two starts of one id cannot both pass it.
                Self::hold_write_lock(&mut tx).await?;
                if Self::canary_key(&mut tx, &canary.id).await?.is_some() {
                    return Err($crate::StoreError::CanaryExists {
                        id: canary.id.clone(),
                    });
                }
                sqlx::query($crate::backend::INSERT_CANARY)
                    .bind(&canary.id)
                    .bind(&canary.incident)
                    .bind(&canary.rev)
                    .bind(&canary.profile)
                    .bind(&started_at)
                    .bind(plan)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("record the new canary"))?;
                let details = serde_json::json!({
                    "id": canary.id,
                    "incident": canary.incident,
                    "rev": canary.rev,
                    "profile": canary.profile,
                    "started_at": started_at,
                });
                let entry = Self::append_in(&mut tx, actor, "canary-started", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the new canary"))?;
                Ok(entry)
            }

            async fn record_canary_events(
                &self,
                actor: &str,
                canary_id: &str,
                events: &[$crate::CanaryEventRecord],
            ) -> Result<Vec<fixlane_core::audit::AuditEntry>, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                $crate::backend::validate_actor(actor, "recording canary events")?;
                $crate::backend::validate_present(canary_id, || {
                    "canary events for an empty canary id".to_owned()
                })?;
                let encoded = $crate::backend::encode_canary_events(canary_id, events)?;
                if events.is_empty() {
                    return Ok(Vec::new());
                }
                let mut tx = self.begin_write().await?;
                // Locked before the last seq is read, so concurrent batches never share numbers.
                Self::hold_write_lock(&mut tx).await?;
                let Some((incident, _)) = Self::canary_key(&mut tx, canary_id).await? else {
                    return Err($crate::StoreError::UnknownCanary {
                        id: canary_id.to_owned(),
                    });
                };
                let what = "read the canary's last event";
                let last: i64 = sqlx::query($crate::backend::LAST_CANARY_SEQ)
                    .bind(canary_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_error(what))?
                    .try_get("last")
                    .map_err(query_error(what))?;
                let mut entries = Vec::new();
                let mut seq = last;
                for (event, (at, data)) in events.iter().zip(encoded) {
                    seq = seq.checked_add(1).ok_or_else(|| $crate::StoreError::Corrupt {
                        what: format!("canary {canary_id}: event seq {seq} cannot be incremented"),
                    })?;
                    sqlx::query($crate::backend::INSERT_CANARY_EVENT)
                        .bind(canary_id)
                        .bind(seq)
                        .bind(at)
                        .bind(&event.kind)
                        .bind(data)
                        .bind(event.audited)
                        .execute(&mut *tx)
                        .await
                        .map_err(query_error("record a canary event"))?;
                    if event.audited {
                        let details = serde_json::json!({
                            "canary": canary_id,
                            "incident": incident,
                            "seq": seq,
                            "data": event.data,
                        });
                        let action = $crate::backend::canary_action(&event.kind);
                        entries.push(Self::append_in(&mut tx, actor, &action, &details).await?);
                    }
                }
                tx.commit()
                    .await
                    .map_err(query_error("commit the canary events"))?;
                Ok(entries)
            }

            async fn finish_canary(
                &self,
                actor: &str,
                canary_id: &str,
                outcome: &str,
                finished_at: jiff::Timestamp,
            ) -> Result<fixlane_core::audit::AuditEntry, $crate::StoreError> {
                use $crate::error::query_error;
                $crate::backend::validate_actor(actor, "finishing a canary")?;
                $crate::backend::validate_present(canary_id, || {
                    "the end of a canary with an empty id".to_owned()
                })?;
                $crate::backend::validate_present(outcome, || {
                    format!("the end of canary {canary_id} without an outcome")
                })?;
                let finished_text = $crate::model::format_time(finished_at);
                let mut tx = self.begin_write().await?;
                Self::hold_write_lock(&mut tx).await?;
                let Some((incident, previous)) = Self::canary_key(&mut tx, canary_id).await?
                else {
                    return Err($crate::StoreError::UnknownCanary {
                        id: canary_id.to_owned(),
                    });
                };
                if let Some(previous) = previous {
                    return Err($crate::StoreError::Invalid {
                        what: format!(
                            "a second end (`{outcome}`) of canary {canary_id}: it already finished \
                             with outcome `{previous}`"
                        ),
                    });
                }
                sqlx::query($crate::backend::FINISH_CANARY)
                    .bind(canary_id)
                    .bind(&finished_text)
                    .bind(outcome)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error("record the canary's end"))?;
                let details = serde_json::json!({
                    "canary": canary_id,
                    "incident": incident,
                    "outcome": outcome,
                    "finished_at": finished_text,
                });
                let entry = Self::append_in(&mut tx, actor, "canary-finished", &details).await?;
                tx.commit()
                    .await
                    .map_err(query_error("commit the canary's end"))?;
                Ok(entry)
            }

            async fn canary(
                &self,
                id: &str,
            ) -> Result<Option<$crate::CanaryRecord>, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                // One snapshot: the row and its events as of one instant.
                let mut tx = self.begin_read().await?;
                let Some(row) = sqlx::query($crate::backend::SELECT_CANARY)
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
                let rows = sqlx::query($crate::backend::SELECT_CANARY_EVENTS)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(query_error(what))?;
                tx.commit().await.map_err(query_error(what))?;
                let mut events = Vec::with_capacity(rows.len());
                for row in rows {
                    let at: String = row.try_get("at").map_err(query_error(what))?;
                    let data: String = row.try_get("data").map_err(query_error(what))?;
                    events.push($crate::backend::canary_event(
                        &canary.id,
                        row.try_get("seq").map_err(query_error(what))?,
                        &at,
                        row.try_get("kind").map_err(query_error(what))?,
                        &data,
                        row.try_get("audited").map_err(query_error(what))?,
                    )?);
                }
                canary.into_record(events).map(Some)
            }

            async fn canaries_of(
                &self,
                incident: &str,
            ) -> Result<Vec<$crate::CanaryRecord>, $crate::StoreError> {
                use $crate::error::query_error;
                let rows = sqlx::query($crate::backend::SELECT_CANARIES_OF)
                    .bind(incident)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("list the incident's canaries"))?;
                rows.iter()
                    .map(|row| Self::canary_from_row(row)?.into_record(Vec::new()))
                    .collect()
            }

            async fn audit_entries(
                &self,
            ) -> Result<Vec<fixlane_core::audit::AuditEntry>, $crate::StoreError> {
                let (_, rows) = self.read_audit().await?;
                $crate::backend::entries(rows)
            }

            async fn audit_head(&self) -> Result<Option<(i64, String)>, $crate::StoreError> {
                use sqlx::Row as _;
                use $crate::error::query_error;
                let what = "read the audit chain head";
                let head = match sqlx::query($crate::backend::READ_HEAD)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(query_error(what))?
                {
                    Some(row) => Some((
                        row.try_get::<i64, _>("seq").map_err(query_error(what))?,
                        row.try_get::<String, _>("hash").map_err(query_error(what))?,
                    )),
                    None => None,
                };
                match head {
                    None => Err($crate::StoreError::HeadMissing),
                    Some((0, _)) => Ok(None),
                    Some(head) => Ok(Some(head)),
                }
            }

            async fn verify_audit(
                &self,
            ) -> Result<Result<usize, fixlane_core::audit::ChainBreak>, $crate::StoreError> {
                let (head, rows) = self.read_audit().await?;
                let (seq, hash) = head.ok_or($crate::StoreError::HeadMissing)?;
                Ok($crate::backend::verify_rows(rows, (seq, &hash)))
            }
        }
    };
}

pub(crate) use impl_store;
