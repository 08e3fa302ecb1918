//! Emergency records between the store and the core: rows to typed records and back, the acting
//! person, refusals as exit codes, and the clocks people read mid-incident.

use fixlane_core::emergency::{Emergency, Refusal, Refusals};
use fixlane_core::{Config, IncidentId, PersonName};
use fixlane_store::{EmergencyRow, Store};
use jiff::Timestamp;

use crate::exit::Failure;
use crate::settings::Context;

/// The store's row for a record: indexed columns plus the whole record as JSON.
pub fn to_row(emergency: &Emergency, updated_at: Timestamp) -> anyhow::Result<EmergencyRow> {
    Ok(EmergencyRow {
        id: emergency.id.clone(),
        declared_at: emergency.declared_at,
        author: emergency.author.to_string(),
        drill: emergency.drill,
        state: emergency.state.as_str().to_owned(),
        updated_at,
        document: serde_json::to_value(emergency)?,
    })
}

pub fn from_row(row: &EmergencyRow) -> anyhow::Result<Emergency> {
    serde_json::from_value(row.document.clone()).map_err(|error| {
        anyhow::anyhow!(
            "the stored record of {} cannot be read ({error}); `fixlane audit verify` tells whether it was altered",
            row.id
        )
    })
}

/// A refusal, or every refusal of one request, exits 1 with its whole text; anything else is
/// an error (exit 2, or 6 when the store failed).
pub fn failure(error: anyhow::Error, context: &Context) -> Failure {
    let error = match error.downcast::<Refusals>() {
        Ok(refusals) => {
            return Failure::failed(anyhow::anyhow!(
                "{}",
                refusals.render_with_file(&context.config_display())
            ));
        }
        Err(error) => error,
    };
    match error.downcast::<Refusal>() {
        Ok(refusal) => Failure::failed(anyhow::anyhow!(
            "{}",
            refusal.render_with_file(&context.config_display())
        )),
        Err(error) => Failure::error(error),
    }
}

/// The acting person as a member of `[people]`; an unknown identity may run gates but not act
/// on emergencies.
pub fn person(context: &Context, config: &Config, acting: &str) -> Result<PersonName, Failure> {
    let who = context.actor();
    fixlane_core::emergency::policy::identify(config, who).ok_or_else(|| {
        Failure::failed(anyhow::anyhow!(
            "{}",
            Refusal::new(
                "people",
                format!("{acting} as `{who}`"),
                format!(
                    "`{who}` is not a person under [people] (matched by name or email); only people \
                     named there may declare, approve, bypass or review"
                ),
                "pass --as NAME or set FIXLANE_USER to a person listed in fixlane.toml, or add \
                 them under [people] with their roles",
            )
            .render_with_file(&context.config_display())
        ))
    })
}

pub fn incident(text: &str) -> Result<IncidentId, Failure> {
    IncidentId::parse(text).map_err(|error| Failure::error(anyhow::anyhow!("{error}")))
}

/// Loads a record, or says how to find the right id.
pub async fn load(store: &impl Store, id: &IncidentId) -> Result<Emergency, Failure> {
    match store.emergency(id).await? {
        Some(row) => from_row(&row).map_err(Failure::error),
        None => Err(Failure::error(anyhow::anyhow!(
            "there is no emergency {id}; `fixlane list` shows the active ones, `fixlane declare` records a new one"
        ))),
    }
}

/// The emergency a branch such as `hotfix/INC-1-fix` names: the longest `-` prefix of its last
/// segment that the store knows.
pub async fn for_branch(store: &impl Store, branch: &str) -> Result<Option<Emergency>, Failure> {
    for candidate in fixlane_core::lane::incident_candidates(branch) {
        let Ok(candidate) = IncidentId::parse(&candidate) else {
            continue;
        };
        if let Some(row) = store.emergency(&candidate).await? {
            return Ok(Some(from_row(&row).map_err(Failure::error)?));
        }
    }
    Ok(None)
}

/// `2h05m` style, for clocks.
pub fn clock(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    if days > 0 {
        format!("{sign}{days}d{hours:02}h")
    } else if hours > 0 {
        format!("{sign}{hours}h{minutes:02}m")
    } else {
        format!("{sign}{minutes}m{:02}s", seconds % 60)
    }
}

/// An RFC 3339 moment from `--at`, or now.
pub fn moment(at: Option<&str>) -> Result<Timestamp, Failure> {
    match at {
        None => Ok(Timestamp::now()),
        Some(text) => text.parse::<Timestamp>().map_err(|error| {
            Failure::error(anyhow::anyhow!(
                "--at {text}: {error}; write an RFC 3339 time with its offset, like 2026-11-25T22:00:00+05:30"
            ))
        }),
    }
}

/// The record an emergency-lane run belongs to: `--incident`, else the branch. `Err` is what
/// the verdict says instead: the id is not declared (with the active ones), or the emergency
/// belongs to another branch.
pub async fn for_run(
    store: &impl Store,
    config: &Config,
    incident: Option<&IncidentId>,
    branch: Option<&str>,
) -> Result<Result<Emergency, String>, Failure> {
    let found = match (incident, branch) {
        (Some(id), _) => match store.emergency(id).await? {
            Some(row) => Some(from_row(&row).map_err(Failure::error)?),
            None => None,
        },
        (None, Some(branch)) => for_branch(store, branch).await?,
        (None, None) => None,
    };
    if let Some(emergency) = found {
        return Ok(fixlane_core::lane::check_emergency_branch(
            emergency.id.as_str(),
            &emergency.branch,
            branch,
        )
        .map(|()| emergency));
    }
    let mut active = Vec::new();
    for row in store.emergencies().await? {
        let emergency = from_row(&row).map_err(Failure::error)?;
        if emergency.state != fixlane_core::emergency::EmergencyState::Closed {
            active.push((emergency.id.to_string(), emergency.branch));
        }
    }
    let pattern = &config.emergency.id_pattern;
    let shaped = |id: &str| fixlane_core::emergency::policy::matches_id_pattern(pattern, id);
    let reason = match incident {
        Some(id) => format!(
            "this emergency-lane run names {id} with --incident, and {id} is not declared: \
             declare it with `fixlane declare {id} …`, or check the id"
        ),
        None => fixlane_core::lane::missing_emergency_reason(branch, shaped, &active),
    };
    Ok(Err(reason))
}

/// After an emergency-lane run reached `ready`: the record moves to fix ready (the first time)
/// and lists every gate the lane skipped as owed, in one audited change.
pub async fn record_fix_ready(
    store: &impl Store,
    actor: &str,
    id: &IncidentId,
    plan: &fixlane_core::plan::Plan,
    rev: &str,
    run_id: &str,
    ready_at: Timestamp,
) -> Result<(), Failure> {
    let updated = store
        .update_emergency(actor, id, "fix-ready", |row| {
            let mut emergency = from_row(&row)?;
            let owed = emergency.record_ready_run(plan, rev, run_id, ready_at, actor)?;
            let details = serde_json::json!({
                "id": emergency.id,
                "rev": rev,
                "run_id": run_id,
                "state": emergency.state.as_str(),
                "owed": owed.iter().map(|gate| gate.gate.to_string()).collect::<Vec<_>>(),
            });
            anyhow::Ok((to_row(&emergency, Timestamp::now())?, details))
        })
        .await?;
    match updated {
        Some(Ok(_)) | None => Ok(()),
        Some(Err(error)) => Err(Failure::error(error)),
    }
}
