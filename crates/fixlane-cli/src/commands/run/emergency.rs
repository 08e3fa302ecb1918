//! Before the first gate, what only the record knows (the store's, or the team server's in
//! client mode): the emergency record an emergency-lane run
//! belongs to (bound to its branch), and whether its deploy gates may run now (an approved
//! record; change windows and freezes, with the record's bypasses).

use fixlane_app::App;
use fixlane_core::IncidentId;
use fixlane_core::audit::DeployWindowBypassed;
use fixlane_core::emergency::{Emergency, windows};
use fixlane_core::lane::NoEmergency;

use super::facts::Resolved;
use crate::exit::Failure;
use crate::record::Target;
use crate::records;
use crate::settings::Context;

/// The record a run belongs to, from the store or the team server.
async fn emergency_for_run(
    target: Target<'_>,
    context: &Context,
    resolved: &Resolved,
    incident: Option<&IncidentId>,
) -> Result<Result<Emergency, NoEmergency>, Failure> {
    let branch = resolved.branch.as_deref();
    match target {
        Target::Store(store) => App::new(store, &resolved.config)
            .emergency_for_run(incident, branch)
            .await
            .map_err(|error| records::app_failure(error, context)),
        Target::Server(client) => client.emergency_for_run(incident, branch).await,
    }
}

/// Records that deploy gates run outside the windows under the record's bypasses.
async fn deploy_window_bypassed(
    target: Target<'_>,
    context: &Context,
    actor: &str,
    bypassed: DeployWindowBypassed,
) -> Result<(), Failure> {
    match target {
        Target::Store(store) => fixlane_app::runs::deploy_window_bypassed(store, actor, bypassed)
            .await
            .map(drop)
            .map_err(|error| records::app_failure(error, context)),
        Target::Server(client) => client.deploy_window_bypassed(&bypassed).await,
    }
}

/// Finds the run's record and refuses what may not run. Refused deploy gates stay in the plan
/// as refused; an emergency lane without its record says why in the plan, for the verdict.
pub async fn prepare(
    target: Target<'_>,
    context: &Context,
    actor: &str,
    resolved: &mut Resolved,
    at: jiff::Timestamp,
) -> Result<Option<Emergency>, Failure> {
    let record = if resolved.plan.emergency {
        let incident = resolved.incident.clone();
        match emergency_for_run(target, context, resolved, incident.as_ref()).await? {
            Ok(record) => Some(record),
            Err(reason) => {
                // The run does not belong to the emergency it named: it is not attached to it.
                resolved.incident = None;
                resolved.plan.missing_emergency = Some(crate::refusal::no_emergency(&reason));
                None
            }
        }
    } else {
        None
    };
    if let Some(record) = &record {
        resolved.incident = Some(record.id.clone());
    }
    if resolved.plan.emergency
        && !record
            .as_ref()
            .is_some_and(|record| record.standing().approved)
    {
        // Nothing ships from an emergency lane before its change is approved.
        resolved
            .plan
            .refuse_deploys("the emergency lane has no approved emergency change for this run");
    }
    if resolved.plan.runs_deploys() {
        let bypassed = record
            .as_ref()
            .map(Emergency::bypassed_elements)
            .unwrap_or_default();
        match windows::deploy_allowed(resolved.config.windows.as_ref(), at, &bypassed) {
            Ok(permission) => {
                if !permission.bypassed.is_empty() {
                    let used: Vec<&str> = permission
                        .bypassed
                        .iter()
                        .map(|element| element.as_str())
                        .collect();
                    deploy_window_bypassed(
                        target,
                        context,
                        actor,
                        DeployWindowBypassed {
                            incident: resolved.incident.clone(),
                            rev: resolved.rev.clone(),
                            lane: resolved.plan.lane.clone(),
                            at,
                            bypassed: permission.bypassed.clone(),
                            why: permission.note.clone(),
                        },
                    )
                    .await?;
                    eprintln!(
                        "note: deploy gates run outside the normal windows under the recorded {} bypass of {} — logged",
                        used.join(" and "),
                        resolved
                            .incident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    );
                }
            }
            Err(refusal) => {
                let file = context.config_display();
                let why = match refusal.config_line {
                    Some(line) => format!("{} ({file}:{})", refusal.why, line.line),
                    None => refusal.why.clone(),
                };
                resolved.plan.refuse_deploys(&why);
                eprintln!("{}", crate::refusal::render(&refusal, Some(&file)));
            }
        }
    }
    Ok(record)
}
