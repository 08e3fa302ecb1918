//! Runs and their gate results: a run's start, its gates as they finish, its verdict, and the
//! marking of a run whose runner is gone as abandoned.

use fixlane_core::audit::{
    AuditAction, AuditEntry, GateListed, GatesRecorded, RunAbandoned, RunStarted, RunVerdict,
};
use fixlane_core::{GateName, IncidentId, Rev, Tier, Verdict};
use jiff::Timestamp;
use sqlx::{ColumnIndex, Encode, Executor, Type};

use super::write::{Audit, Change};
use super::{SqlStore, column, validate_actor};
use crate::backend::{Backend, ColumnType};
use crate::error::{StoreError, query_error};
use crate::model::{
    GateRecord, NewRun, RunRecord, StoredGateState, format_time, parse_json, parse_text,
    parse_time, to_json,
};

const RUN_EXISTS: &str = "SELECT run_id, rev, lane FROM runs WHERE run_id = $1";

const INSERT_RUN: &str = "INSERT INTO runs \
     (run_id, rev, branch, lane, emergency, incident, started_at, plan) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

const INSERT_RUN_RUNNER: &str = "INSERT INTO run_runners (run_id, runner) VALUES ($1, $2)";

/// The columns of a run as read back, its runner beside it.
macro_rules! run_columns {
    () => {
        "SELECT runs.run_id, rev, branch, lane, emergency, incident, started_at, finished_at, \
         verdict, reasons, plan, run_runners.runner, run_runners.abandoned_at FROM runs \
         LEFT JOIN run_runners ON run_runners.run_id = runs.run_id "
    };
}

const UPSERT_GATE: &str = "INSERT INTO gate_results \
     (run_id, gate, tier, state, detail, exit_code, duration_ms, log_path, tail, finished_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (run_id, gate) DO UPDATE SET \
     tier = excluded.tier, state = excluded.state, detail = excluded.detail, \
     exit_code = excluded.exit_code, duration_ms = excluded.duration_ms, \
     log_path = excluded.log_path, tail = excluded.tail, finished_at = excluded.finished_at";

const FINISH_RUN: &str =
    "UPDATE runs SET verdict = $2, reasons = $3, finished_at = $4 WHERE run_id = $1";

const SELECT_RUN: &str = concat!(run_columns!(), "WHERE runs.run_id = $1");

const SELECT_LATEST_RUN: &str = concat!(
    run_columns!(),
    "WHERE rev = $1 AND ($2 IS NULL OR lane = $2) \
     ORDER BY started_at DESC, runs.run_id DESC LIMIT 1"
);

/// The newest run of a branch (index `runs_by_branch`).
const SELECT_LATEST_ON_BRANCH: &str = concat!(
    run_columns!(),
    "WHERE branch = $1 ORDER BY started_at DESC, runs.run_id DESC LIMIT 1"
);

/// Runs without a verdict, oldest first: still going, or abandoned by a runner that died.
const SELECT_LATEST_FINISHED_IN_LANE: &str = concat!(
    run_columns!(),
    "WHERE lane = $1 AND finished_at IS NOT NULL \
     ORDER BY started_at DESC, runs.run_id DESC LIMIT 1"
);

const SELECT_UNFINISHED_RUNS: &str = concat!(
    run_columns!(),
    "WHERE finished_at IS NULL ORDER BY started_at, runs.run_id"
);

/// Marks a run abandoned; the `finished_at IS NULL` guard makes two finders write it once.
const ABANDON_RUN: &str = "UPDATE runs SET verdict = 'blocked', reasons = $2, \
     finished_at = $3 WHERE run_id = $1 AND finished_at IS NULL";

const MARK_RUN_ABANDONED: &str = "INSERT INTO run_runners (run_id, abandoned_at) \
     VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE SET abandoned_at = excluded.abandoned_at";

const SELECT_GATES: &str = "SELECT gate, tier, state, detail, exit_code, duration_ms, \
     log_path, tail, finished_at FROM gate_results WHERE run_id = $1 ORDER BY finished_at, gate";

/// A `runs` row as stored.
struct RunRow {
    run_id: String,
    rev: String,
    branch: Option<String>,
    lane: String,
    emergency: bool,
    incident: Option<String>,
    started_at: String,
    finished_at: Option<String>,
    verdict: Option<String>,
    reasons: String,
    plan: String,
    runner: Option<String>,
    abandoned_at: Option<String>,
}

impl RunRow {
    fn into_record(self, gates: Vec<GateRecord>) -> Result<RunRecord, StoreError> {
        let context = format!("run {}", self.run_id);
        Ok(RunRecord {
            rev: parse_text(&self.rev, format!("{context}: rev"), Rev::parse)?,
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
            verdict: self
                .verdict
                .as_deref()
                .map(|text| {
                    parse_text(text, format!("{context}: verdict"), |text| {
                        Verdict::parse(text).ok_or("not green, ready, waiting or blocked")
                    })
                })
                .transpose()?,
            reasons: parse_json(&self.reasons, format!("{context}: reasons"))?,
            plan: parse_json(&self.plan, format!("{context}: plan"))?,
            runner: self
                .runner
                .as_deref()
                .map(|text| parse_json(text, format!("{context}: runner")))
                .transpose()?,
            abandoned_at: self
                .abandoned_at
                .as_deref()
                .map(|text| parse_time(text, format!("{context}: abandoned_at")))
                .transpose()?,
            run_id: self.run_id,
            branch: self.branch,
            lane: self.lane,
            emergency: self.emergency,
            gates,
        })
    }
}

/// A `gate_results` row as stored.
struct GateRow {
    gate: String,
    tier: String,
    state: String,
    detail: Option<String>,
    exit_code: Option<i32>,
    duration_ms: Option<i64>,
    log_path: Option<String>,
    tail: String,
    finished_at: String,
}

impl GateRow {
    fn into_record(self, run_id: &str) -> Result<GateRecord, StoreError> {
        let context = format!("run {run_id}, gate {}", self.gate);
        Ok(GateRecord {
            gate: parse_text(&self.gate, format!("run {run_id}: gate"), GateName::parse)?,
            tier: parse_text(&self.tier, format!("{context}: tier"), |text| {
                Tier::parse(text).ok_or("not critical, required or optional")
            })?,
            state: parse_text(&self.state, format!("{context}: state"), |text| {
                StoredGateState::parse(text).ok_or("not a gate's final state")
            })?,
            tail: parse_json(&self.tail, format!("{context}: tail"))?,
            finished_at: parse_time(&self.finished_at, format!("{context}: finished_at"))?,
            detail: self.detail,
            exit_code: self.exit_code,
            duration_ms: self.duration_ms,
            log_path: self.log_path,
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
    pub(crate) async fn start_run(
        &self,
        actor: &str,
        run: &NewRun,
    ) -> Result<AuditEntry, StoreError> {
        let plan = to_json(&run.plan, "the run's plan")?;
        let runner = run
            .runner
            .as_ref()
            .map(|runner| to_json(runner, "the run's runner"))
            .transpose()?;
        let started_at = format_time(run.started_at);
        let Ok(((), entry)) = self
            .write(actor, "commit the new run", async |conn| {
                if Self::run_key(conn, &run.run_id).await?.is_some() {
                    return Err(StoreError::RunExists {
                        run_id: run.run_id.clone(),
                    });
                }
                sqlx::query(INSERT_RUN)
                    .bind(&run.run_id)
                    .bind(run.rev.as_str())
                    .bind(&run.branch)
                    .bind(&run.lane)
                    .bind(run.emergency)
                    .bind(run.incident.as_ref().map(IncidentId::to_string))
                    .bind(&started_at)
                    .bind(plan)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the new run"))?;
                if let Some(runner) = runner {
                    sqlx::query(INSERT_RUN_RUNNER)
                        .bind(&run.run_id)
                        .bind(runner)
                        .execute(&mut *conn)
                        .await
                        .map_err(query_error("record the run's runner"))?;
                }
                let action = AuditAction::RunStarted(RunStarted {
                    run_id: run.run_id.clone(),
                    rev: run.rev.to_string(),
                    branch: run.branch.clone(),
                    lane: run.lane.clone(),
                    emergency: run.emergency,
                    incident: run.incident.as_ref().map(IncidentId::to_string),
                    started_at: run.started_at,
                    runner: run.runner.clone(),
                });
                Ok(Change::made((), Audit::of(&action)?))
            })
            .await?;
        Ok(entry)
    }

    pub(crate) async fn record_gates(
        &self,
        actor: &str,
        run_id: &str,
        gates: &[GateRecord],
    ) -> Result<Option<AuditEntry>, StoreError> {
        if gates.is_empty() {
            return Ok(None);
        }
        let mut encoded = Vec::with_capacity(gates.len());
        for gate in gates {
            encoded.push((
                to_json(&gate.tail, "a gate's output tail")?,
                format_time(gate.finished_at),
            ));
        }
        let Ok(((), entry)) = self
            .write(actor, "commit the gate results", async |conn| {
                if Self::run_key(conn, run_id).await?.is_none() {
                    return Err(StoreError::UnknownRun {
                        run_id: run_id.to_owned(),
                    });
                }
                for (gate, (tail, finished_at)) in gates.iter().zip(encoded) {
                    sqlx::query(UPSERT_GATE)
                        .bind(run_id)
                        .bind(gate.gate.as_str())
                        .bind(gate.tier.as_str())
                        .bind(gate.state.as_str())
                        .bind(&gate.detail)
                        .bind(gate.exit_code)
                        .bind(gate.duration_ms)
                        .bind(&gate.log_path)
                        .bind(tail)
                        .bind(finished_at)
                        .execute(&mut *conn)
                        .await
                        .map_err(query_error("record a gate result"))?;
                }
                let action = AuditAction::GatesRecorded(GatesRecorded {
                    run_id: run_id.to_owned(),
                    gates: gates
                        .iter()
                        .map(|gate| GateListed {
                            gate: gate.gate.to_string(),
                            state: gate.state.as_str().to_owned(),
                            exit_code: gate.exit_code,
                        })
                        .collect(),
                });
                Ok(Change::made((), Audit::of(&action)?))
            })
            .await?;
        Ok(Some(entry))
    }

    pub(crate) async fn finish_run(
        &self,
        actor: &str,
        run_id: &str,
        verdict: Verdict,
        reasons: &[String],
        finished_at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        let reasons_text = to_json(&reasons, "the verdict's reasons")?;
        let finished_text = format_time(finished_at);
        let Ok(((), entry)) = self
            .write(actor, "commit the run's verdict", async |conn| {
                let Some((rev, lane)) = Self::run_key(conn, run_id).await? else {
                    return Err(StoreError::UnknownRun {
                        run_id: run_id.to_owned(),
                    });
                };
                sqlx::query(FINISH_RUN)
                    .bind(run_id)
                    .bind(verdict.as_str())
                    .bind(reasons_text)
                    .bind(&finished_text)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("record the run's verdict"))?;
                let action = AuditAction::RunVerdict(RunVerdict {
                    run_id: run_id.to_owned(),
                    rev,
                    lane,
                    verdict: verdict.as_str().to_owned(),
                    reasons: reasons.to_vec(),
                    finished_at,
                });
                Ok(Change::made((), Audit::of(&action)?))
            })
            .await?;
        Ok(entry)
    }

    pub(crate) async fn latest_run(
        &self,
        rev: &Rev,
        lane: Option<&str>,
    ) -> Result<Option<RunRecord>, StoreError> {
        let row = sqlx::query(SELECT_LATEST_RUN)
            .bind(rev.as_str())
            .bind(lane.map(str::to_owned))
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("look up the latest run"))?;
        match row {
            Some(row) => self.load_run(&row).await.map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn latest_run_on_branch(
        &self,
        branch: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        let row = sqlx::query(SELECT_LATEST_ON_BRANCH)
            .bind(branch)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("look up the branch's latest run"))?;
        match row {
            Some(row) => self.load_run(&row).await.map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn latest_finished_run(
        &self,
        lane: &str,
    ) -> Result<Option<RunRecord>, StoreError> {
        let row = sqlx::query(SELECT_LATEST_FINISHED_IN_LANE)
            .bind(lane)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("look up the lane's latest run"))?;
        match row {
            Some(row) => self.load_run(&row).await.map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        let row = sqlx::query(SELECT_RUN)
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("look up the run"))?;
        match row {
            Some(row) => self.load_run(&row).await.map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn unfinished_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query(SELECT_UNFINISHED_RUNS)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list the unfinished runs"))?;
        let mut runs = Vec::with_capacity(rows.len());
        for row in &rows {
            runs.push(self.load_run(row).await?);
        }
        Ok(runs)
    }

    pub(crate) async fn abandon_run(
        &self,
        actor: &str,
        run_id: &str,
        why: &str,
        at: Timestamp,
    ) -> Result<Option<AuditEntry>, StoreError> {
        validate_actor(actor, "marking a run abandoned")?;
        let reasons = vec![why.to_owned()];
        let reasons_text = to_json(&reasons, "the verdict's reasons")?;
        let at_text = format_time(at);
        let written = self
            .write(actor, "commit the abandoned run", async |conn| {
                let Some((rev, lane)) = Self::run_key(conn, run_id).await? else {
                    return Err(StoreError::UnknownRun {
                        run_id: run_id.to_owned(),
                    });
                };
                let changed = sqlx::query(ABANDON_RUN)
                    .bind(run_id)
                    .bind(reasons_text)
                    .bind(&at_text)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("mark the run abandoned"))?;
                if B::rows_affected(&changed) == 0 {
                    // It finished, or another reader marked it first: nothing to record.
                    return Ok(Change::Unchanged(()));
                }
                sqlx::query(MARK_RUN_ABANDONED)
                    .bind(run_id)
                    .bind(&at_text)
                    .execute(&mut *conn)
                    .await
                    .map_err(query_error("mark the run abandoned"))?;
                let action = AuditAction::RunAbandoned(RunAbandoned {
                    run_id: run_id.to_owned(),
                    rev,
                    lane,
                    verdict: Verdict::Blocked.as_str().to_owned(),
                    why: why.to_owned(),
                    abandoned_at: at,
                });
                Ok(Change::Made((), Audit::of(&action)?))
            })
            .await?;
        Ok(written.ok().map(|((), entry)| entry))
    }

    /// Looks a run up inside a transaction: `(rev, lane)` when it exists.
    async fn run_key(
        conn: &mut B::Connection,
        run_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let what = "look the run up";
        let Some(row) = sqlx::query(RUN_EXISTS)
            .bind(run_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(query_error(what))?
        else {
            return Ok(None);
        };
        Ok(Some((
            column::<B, _>(&row, "rev", what)?,
            column::<B, _>(&row, "lane", what)?,
        )))
    }

    /// Reads a run row and its gates.
    async fn load_run(&self, row: &B::Row) -> Result<RunRecord, StoreError> {
        let what = "read a run";
        let run = RunRow {
            run_id: column::<B, _>(row, "run_id", what)?,
            rev: column::<B, _>(row, "rev", what)?,
            branch: column::<B, _>(row, "branch", what)?,
            lane: column::<B, _>(row, "lane", what)?,
            emergency: column::<B, _>(row, "emergency", what)?,
            incident: column::<B, _>(row, "incident", what)?,
            started_at: column::<B, _>(row, "started_at", what)?,
            finished_at: column::<B, _>(row, "finished_at", what)?,
            verdict: column::<B, _>(row, "verdict", what)?,
            reasons: column::<B, _>(row, "reasons", what)?,
            plan: column::<B, _>(row, "plan", what)?,
            runner: column::<B, _>(row, "runner", what)?,
            abandoned_at: column::<B, _>(row, "abandoned_at", what)?,
        };
        let what = "read a run's gate results";
        let rows = sqlx::query(SELECT_GATES)
            .bind(&run.run_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error(what))?;
        let mut gates = Vec::with_capacity(rows.len());
        for row in &rows {
            let gate = GateRow {
                gate: column::<B, _>(row, "gate", what)?,
                tier: column::<B, _>(row, "tier", what)?,
                state: column::<B, _>(row, "state", what)?,
                detail: column::<B, _>(row, "detail", what)?,
                exit_code: column::<B, _>(row, "exit_code", what)?,
                duration_ms: column::<B, _>(row, "duration_ms", what)?,
                log_path: column::<B, _>(row, "log_path", what)?,
                tail: column::<B, _>(row, "tail", what)?,
                finished_at: column::<B, _>(row, "finished_at", what)?,
            };
            gates.push(gate.into_record(&run.run_id)?);
        }
        run.into_record(gates)
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row as _;

    use super::SELECT_UNFINISHED_RUNS;
    use crate::SqliteStore;

    /// Every run's end asks for the unfinished runs: the read must go through the index of
    /// unfinished runs, not through every run of the store (plans and all), or each run's end
    /// grows slower with the store's history.
    #[tokio::test]
    async fn the_unfinished_runs_are_read_through_their_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("fixlane.db"))
            .await
            .unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {SELECT_UNFINISHED_RUNS}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(store.pool())
            .await
            .unwrap();
        let plan: Vec<String> = rows.iter().map(|row| row.get("detail")).collect();
        assert!(
            plan.iter()
                .any(|step| step == "SCAN runs USING INDEX unfinished_runs"),
            "{plan:?}"
        );
        // The index's order is the query's: no sort of the rows it finds.
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }
}
