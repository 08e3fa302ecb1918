//! A run's record: its start (with the config it read and any weakening of the policy), its
//! gates and verdict, the runs whose runner died, the fix an emergency lane made ready, and the
//! confirmed merge of a commit whose gates still run. These need no policy, only the store, so
//! they take it directly: the recorder calls them from its own task.

use fixlane_core::audit::{
    AuditAction, ConfirmWhileRunning, DeployWindowBypassed, FixReady, PolicyMismatch,
    PolicyWeakened,
};
use fixlane_core::plan::Plan;
use fixlane_core::policy_change::Weakening;
use fixlane_core::verdict::GateState;
use fixlane_core::verdict::{EmergencyStanding, RunProgress, VerdictReport};
use fixlane_core::{GateName, IncidentId, Verdict};
use fixlane_runner::liveness::{Liveness, RunnerIdentity};
use fixlane_store::{AuditEntry, GateRecord, NewRun, RunRecord, Store, StoredGateState};
use jiff::Timestamp;

use crate::AppError;
use crate::records::{from_row, to_row};

/// Appends a standalone audited action.
pub async fn append(
    store: &impl Store,
    actor: &str,
    action: &AuditAction,
) -> Result<AuditEntry, AppError> {
    Ok(store.append_audit(actor, action).await?)
}

/// The config file a run read, as shown, and the SHA-256 of its text.
#[derive(Debug, Clone)]
pub struct ConfigRead {
    pub file: String,
    pub sha256: String,
}

/// Records the start of a run: the config seen, the run, and any weakening of the policy
/// against the base, each audited.
pub async fn start_run(
    store: &impl Store,
    actor: &str,
    config: &ConfigRead,
    run: &NewRun,
    weakenings: &[Weakening],
) -> Result<(), AppError> {
    store
        .record_config_seen(actor, &config.file, &config.sha256)
        .await?;
    store.start_run(actor, run).await?;
    if !weakenings.is_empty() {
        let action = AuditAction::PolicyWeakened(PolicyWeakened {
            run_id: run.run_id.clone(),
            rev: run.rev.to_string(),
            lane: run.lane.clone(),
            base: run.plan.get("base").cloned(),
            file: config.file.clone(),
            changes: weakenings.to_vec(),
        });
        append(store, actor, &action).await?;
    }
    Ok(())
}

/// The policy a reported run read against the one the server enforces: the SHA-256 of each
/// ([`fixlane_core::config::policy_sha256`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyCheck {
    pub run_sha256: String,
    pub server_sha256: String,
}

impl PolicyCheck {
    pub fn matches(&self) -> bool {
        self.run_sha256 == self.server_sha256
    }
}

/// The plan key a run's policy mismatch is kept under, on the run itself.
pub const POLICY_MISMATCH_KEY: &str = "policy_mismatch";

/// Records the start of a run reported to the team server, as [`start_run`] does; a run whose
/// policy is not the server's is flagged: on the run (its plan keeps both hashes under
/// [`POLICY_MISMATCH_KEY`]) and in the audit log (`policy-mismatch`). The server's policy still
/// decides everything the run asks of the record: the flag says the run judged its own gates
/// by other rules.
pub async fn start_reported_run(
    store: &impl Store,
    actor: &str,
    config: &ConfigRead,
    run: &NewRun,
    weakenings: &[Weakening],
    policy: &PolicyCheck,
) -> Result<(), AppError> {
    if policy.matches() {
        return start_run(store, actor, config, run, weakenings).await;
    }
    let mut flagged = run.clone();
    if let Some(plan) = flagged.plan.as_object_mut() {
        plan.insert(
            POLICY_MISMATCH_KEY.to_owned(),
            serde_json::to_value(policy).map_err(|source| AppError::Encode {
                what: "the run's policy check",
                source,
            })?,
        );
    }
    start_run(store, actor, config, &flagged, weakenings).await?;
    let action = AuditAction::PolicyMismatch(PolicyMismatch {
        run_id: run.run_id.clone(),
        rev: run.rev.to_string(),
        lane: run.lane.clone(),
        file: config.file.clone(),
        run_sha256: policy.run_sha256.clone(),
        server_sha256: policy.server_sha256.clone(),
    });
    append(store, actor, &action).await?;
    Ok(())
}

/// Records gate results of a run as they finish (nothing for none).
pub async fn record_gates(
    store: &impl Store,
    actor: &str,
    run_id: &str,
    gates: &[GateRecord],
) -> Result<(), AppError> {
    store.record_gates(actor, run_id, gates).await?;
    Ok(())
}

/// Records a run's verdict and its reasons.
pub async fn finish_run(
    store: &impl Store,
    actor: &str,
    run_id: &str,
    verdict: Verdict,
    reasons: &[String],
    at: Timestamp,
) -> Result<(), AppError> {
    store
        .finish_run(actor, run_id, verdict, reasons, at)
        .await?;
    Ok(())
}

/// An earlier run found without a verdict and with its runner gone, now recorded as blocked.
#[derive(Debug, Clone)]
pub struct AbandonedRun {
    pub run_id: String,
    pub rev: String,
    pub lane: String,
    pub why: String,
}

/// Why an unfinished run will never finish, when its runner is known to be gone.
pub fn abandoned_because(run: &RunRecord) -> Option<String> {
    if run.finished_at.is_some() {
        return None;
    }
    let runner: RunnerIdentity = serde_json::from_value(run.runner.clone()?).ok()?;
    (runner.liveness() == Liveness::Gone).then(|| {
        format!(
            "abandoned: its runner ({}) stopped without finishing it",
            runner.describe()
        )
    })
}

/// Marks every unfinished run whose runner is gone (on this machine) as abandoned, except
/// `own`, and says which: the next run is where a killed one comes to light.
pub async fn abandon_dead_runs(
    store: &impl Store,
    actor: &str,
    own: &str,
) -> Result<Vec<AbandonedRun>, AppError> {
    let mut abandoned = Vec::new();
    for run in store.unfinished_runs().await? {
        if run.run_id == own {
            continue;
        }
        let Some(why) = abandoned_because(&run) else {
            continue;
        };
        if store
            .abandon_run(actor, &run.run_id, &why, Timestamp::now())
            .await?
            .is_some()
        {
            abandoned.push(AbandonedRun {
                run_id: run.run_id,
                rev: run.rev.to_string(),
                lane: run.lane,
                why,
            });
        }
    }
    Ok(abandoned)
}

/// The state a stored gate result stands for, for recomputing a verdict from the store. `None`
/// for a skip, which the plan already says.
pub fn gate_state(state: StoredGateState, detail: Option<&str>) -> Option<GateState> {
    Some(match state {
        StoredGateState::NotRun => GateState::NotRun {
            because: GateName::parse(detail.unwrap_or("unknown")).ok()?,
        },
        StoredGateState::Skipped => return None,
        finished => GateState::Finished {
            outcome: finished.outcome()?,
        },
    })
}

/// The stored plan of a recorded run.
pub fn stored_plan(run: &RunRecord) -> Result<Plan, AppError> {
    serde_json::from_value(run.plan.get("plan").cloned().unwrap_or_default()).map_err(|error| {
        AppError::UnreadableRecord {
            id: format!("run {}", run.run_id),
            why: error.to_string(),
        }
    })
}

/// Recomputes the verdict of a recorded run; see [`fixlane_core::verdict::recompute`].
/// `abandoned` says whether its runner was found gone just now.
pub fn recorded_verdict(
    run: &RunRecord,
    standing: Option<&EmergencyStanding>,
    abandoned: bool,
    missing_emergency: Option<String>,
) -> Result<VerdictReport, AppError> {
    let plan = stored_plan(run)?;
    let progress = if abandoned || run.abandoned_at.is_some() {
        RunProgress::Abandoned
    } else if run.finished_at.is_some() {
        RunProgress::Finished
    } else {
        RunProgress::Going
    };
    let recorded = |gate: &GateName| {
        run.gates
            .iter()
            .find(|record| record.gate == *gate)
            .and_then(|record| gate_state(record.state, record.detail.as_deref()))
    };
    Ok(fixlane_core::verdict::recompute(
        &plan,
        recorded,
        progress,
        missing_emergency,
        standing,
    ))
}

/// After an emergency-lane run reached `ready`: the record moves to fix ready (the first time)
/// and lists every gate the lane skipped as owed, in one audited change. A record that is gone
/// is not an error: the run's own verdict is already recorded.
pub async fn mark_fix_ready(
    store: &impl Store,
    actor: &str,
    id: &IncidentId,
    plan: &Plan,
    rev: &str,
    run_id: &str,
    ready_at: Timestamp,
) -> Result<(), AppError> {
    let updated = store
        .update_emergency(actor, id, |row| {
            let mut emergency = from_row(&row)?;
            let owed = emergency.record_ready_run(plan, rev, run_id, ready_at, actor)?;
            let action = AuditAction::FixReady(FixReady {
                id: emergency.id.clone(),
                rev: rev.to_owned(),
                run_id: run_id.to_owned(),
                state: emergency.state,
                owed: owed.iter().map(|gate| gate.gate.to_string()).collect(),
            });
            Ok::<_, AppError>((to_row(&emergency, Timestamp::now())?, action))
        })
        .await?;
    match updated {
        Some(Ok(_)) | None => Ok(()),
        Some(Err(error)) => Err(error),
    }
}

/// [`mark_fix_ready`] for a run already recorded, judged on its record alone: an emergency-lane
/// run of an incident whose recorded verdict is `ready` (or `green`) makes that incident's fix
/// ready, with the plan, commit and run the record holds. Returns the incident. A run that is
/// not such a run is refused, naming why.
pub async fn mark_recorded_run_ready(
    store: &impl Store,
    actor: &str,
    run_id: &str,
    ready_at: Timestamp,
) -> Result<IncidentId, AppError> {
    let run = store
        .run(run_id)
        .await?
        .ok_or_else(|| fixlane_store::StoreError::UnknownRun {
            run_id: run_id.to_owned(),
        })?;
    let refuse = |why: String| {
        AppError::Refused(fixlane_core::emergency::Refusal::new(
            "runs.fix_ready",
            format!("marking the fix of run {run_id} ready"),
            why,
            fixlane_core::emergency::Instead::advice(
                "record the run's verdict first; only an emergency-lane run of a declared \
                 incident whose verdict is ready makes its fix ready",
            ),
        ))
    };
    let Some(incident) = run.incident.clone().filter(|_| run.emergency) else {
        return Err(refuse(format!(
            "run {run_id} is not an emergency-lane run of an incident"
        )));
    };
    if !matches!(run.verdict, Some(Verdict::Ready | Verdict::Green)) {
        return Err(refuse(format!(
            "run {run_id} has the verdict {}, not ready",
            run.verdict.map_or("none yet", Verdict::as_str)
        )));
    }
    let plan = stored_plan(&run)?;
    mark_fix_ready(
        store,
        actor,
        &incident,
        &plan,
        run.rev.as_str(),
        run_id,
        ready_at,
    )
    .await?;
    Ok(incident)
}

/// Records that `actor` confirmed merging `run`'s commit while its verdict was `waiting`; the
/// confirmation counts only once it is in the audit log.
pub async fn confirm_while_running(
    store: &impl Store,
    actor: &str,
    run: &RunRecord,
    reasons: &[String],
) -> Result<AuditEntry, AppError> {
    let action = AuditAction::ConfirmWhileRunning(ConfirmWhileRunning {
        rev: run.rev.to_string(),
        run_id: run.run_id.clone(),
        lane: run.lane.clone(),
        reasons: reasons.to_vec(),
    });
    append(store, actor, &action).await
}

/// Records that deploy gates run outside the normal windows under the record's bypasses.
pub async fn deploy_window_bypassed(
    store: &impl Store,
    actor: &str,
    bypassed: DeployWindowBypassed,
) -> Result<AuditEntry, AppError> {
    append(store, actor, &AuditAction::DeployWindowBypassed(bypassed)).await
}
