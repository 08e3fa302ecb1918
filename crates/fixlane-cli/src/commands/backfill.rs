//! `fixlane backfill`: the debt paid back. Every gate of the normal lane runs in full on the
//! merged commit — so every gate the emergency lane skipped or shortened runs with its normal
//! command — with the same runner, live view, `--json` and `JUnit` as `fixlane run`. All owed
//! gates pass: the backfill follow-up closes with the run as evidence. Any fails: it stays open
//! and a regression opens, to be explained before the emergency can close.

use fixlane_app::App;
use fixlane_core::{LaneName, Rev};
use fixlane_runner::git::Repository;
use fixlane_store::Store;

use super::run::{self, settings::RunPlanSettings};
use crate::cli::{BackfillArgs, RunArgs};
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn backfill(context: &Context, arguments: &BackfillArgs) -> CommandResult {
    let config = context.load_config()?;
    let id = records::incident(&arguments.id)?;
    // In client mode the run and the backfill are recorded on the team server, by the token's
    // owner.
    let server = Client::from_env(context)?;
    let person = match &server {
        Some(_) => None,
        None => Some(records::person(
            context,
            &config,
            &format!("backfilling {id}"),
        )?),
    };
    // `--at` judges the deploy gates' windows, as `run --at` does; the backfill itself is
    // recorded when it happened.
    records::moment(arguments.at.as_deref())?;
    let rev = Rev::parse(
        &context
            .repo
            .resolve(arguments.rev.as_deref().unwrap_or("HEAD"))?,
    )?;
    let emergency = settings::runtime()?.block_on(async {
        if let Some(client) = &server {
            return Ok(client.show(&id).await?.body.emergency);
        }
        let store = context.open_store().await?;
        records::load(&store, &id, context).await
    })?;
    if emergency.owed_gates.is_empty() {
        return Err(Failure::failed(anyhow::anyhow!(
            "{id} owes no gates: its emergency lane skipped none, so there is nothing to backfill"
        )));
    }
    let lane = LaneName::normal();
    let mut settings = RunPlanSettings::parse(&RunArgs {
        lane: Some(lane.to_string()),
        labels: Vec::new(),
        rev: Some(rev.to_string()),
        branch: None,
        base: None,
        incident: None,
        jobs: arguments.jobs,
        json: arguments.json,
        at: arguments.at.clone(),
        junit: arguments.junit.clone(),
        summary: arguments.summary.clone(),
        explain: false,
    })?;
    settings.full = true;
    let code = run::execute(context, &settings)?;
    if code == ExitCode::Interrupted {
        eprintln!("interrupted: the backfill is not recorded; run it again");
        return Ok(code);
    }
    settings::runtime()?.block_on(async {
        let (run_id, emergency_closed, failing) = match (&server, &person) {
            (Some(client), _) => {
                let backfilled = client.backfill(&id, &rev, lane.as_str()).await?;
                (
                    backfilled.run_id,
                    backfilled.emergency_closed,
                    backfilled.failing,
                )
            }
            (None, person) => {
                let store = context.open_store().await?;
                let Some(recorded) = store.latest_run(&rev, Some(lane.as_str())).await? else {
                    return Err(Failure::error(anyhow::anyhow!(
                        "the backfill run of {} was not recorded; run it again",
                        rev.short()
                    )));
                };
                let person = person.as_ref().ok_or_else(|| {
                    Failure::error(anyhow::anyhow!("nobody to record the backfill as"))
                })?;
                let (outcome, failing) = App::new(&store, &config)
                    .record_backfill(person, &id, &recorded, jiff::Timestamp::now())
                    .await
                    .map_err(|error| records::app_failure(error, context))?;
                (recorded.run_id, outcome.emergency_closed, failing)
            }
        };
        if failing.is_empty() {
            eprintln!(
                "{id}: every owed gate passed on {}; the backfill is closed (run {run_id})",
                rev.short(),
            );
            if emergency_closed {
                eprintln!("every follow-up is closed: {id} is closed");
            }
            Ok(ExitCode::Success)
        } else {
            eprintln!(
                "{id}: owed gates failed on {}: {}; the backfill stays open and a regression is \
                 open. Close it with notes saying whether this is a real side effect of the fix or \
                 an evaluation that encoded the old behaviour, and a link to the fix or the update: \
                 fixlane close {id} regression --notes \"…\" --link URL",
                rev.short(),
                failing.join(", ")
            );
            Ok(ExitCode::Failed)
        }
    })
}
