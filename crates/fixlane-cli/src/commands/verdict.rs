//! `fixlane verdict`: the verdict of a commit recomputed from what the store recorded, and the
//! doubly confirmed acceptance of a `waiting` verdict (seed 002's confirmation dialogues).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context as _;
use fixlane_app::App;
use fixlane_core::verdict::{EmergencyStanding, VerdictReport};
use fixlane_core::{Rev, Verdict};
use fixlane_runner::git::Repository;
use fixlane_store::{RunRecord, Store};

use crate::cli::VerdictArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::report::lines;
use crate::settings::{self, Context};

/// Recomputes the verdict of a recorded run; see [`fixlane_app::runs::recorded_verdict`].
pub fn recompute(
    run: &RunRecord,
    standing: Option<&EmergencyStanding>,
    abandoned: bool,
    missing_emergency: Option<String>,
    context: &Context,
) -> Result<VerdictReport, Failure> {
    fixlane_app::runs::recorded_verdict(run, standing, abandoned, missing_emergency)
        .map_err(|error| records::app_failure(error, context))
}

fn ask_for_short_hash(short: &str) -> Result<bool, Failure> {
    eprint!(
        "a critical gate is still running; type the commit's short hash ({short}) to merge anyway: "
    );
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("could not read the confirmation")?;
    Ok(answer.trim() == short)
}

pub fn verdict(context: &Context, arguments: &VerdictArgs) -> CommandResult {
    let rev = Rev::parse(
        &context
            .repo
            .resolve(arguments.rev.as_deref().unwrap_or("HEAD"))?,
    )?;
    settings::runtime()?.block_on(async {
        // Only a confirmed acceptance writes (its audit entry); a plain verdict just reads.
        let store = if arguments.confirm_while_running == 0 {
            context.open_store_read_only().await?
        } else {
            context.open_store().await?
        };
        let Some(run) = store.latest_run(&rev, arguments.lane.as_deref()).await? else {
            return Err(Failure::error(anyhow::anyhow!(
                "no run of {} is recorded{}; run `fixlane run` first",
                rev.short(),
                arguments
                    .lane
                    .as_ref()
                    .map(|lane| format!(" in lane {lane}"))
                    .unwrap_or_default()
            )));
        };
        // The emergency's standing as of now: an approval after the run counts.
        let (standing, missing) = if run.emergency {
            let config = context.load_config()?;
            let incident = run.incident.clone();
            match App::new(&store, &config)
                .emergency_for_run(incident.as_ref(), run.branch.as_deref())
                .await
                .map_err(|error| records::app_failure(error, context))?
            {
                Ok(record) => (Some(record.standing()), None),
                Err(reason) => (None, Some(crate::refusal::no_emergency(&reason))),
            }
        } else {
            (None, None)
        };
        // A run without a verdict whose runner is gone will never get one.
        let abandoned = fixlane_app::runs::abandoned_because(&run);
        let report = recompute(
            &run,
            standing.as_ref(),
            abandoned.is_some(),
            missing,
            context,
        )?;
        if arguments.json {
            println!(
                "{}",
                serde_json::json!({
                    "rev": rev,
                    "run_id": run.run_id,
                    "lane": run.lane,
                    "verdict": report.verdict,
                    "reasons": report.reasons,
                    "exit_code": ExitCode::for_verdict(report.verdict).code(),
                })
            );
        } else {
            println!(
                "{} (run {}, lane {}, {})",
                lines::verdict_line("verdict:", report.verdict, &report.reasons),
                run.run_id,
                run.lane,
                rev.short()
            );
            if let Some(why) = &abandoned {
                println!("{why}; run `fixlane run` again");
            }
        }
        if report.verdict != Verdict::Waiting || arguments.confirm_while_running == 0 {
            return Ok(ExitCode::for_verdict(report.verdict));
        }
        if arguments.confirm_while_running < 2 {
            return Err(Failure {
                code: ExitCode::for_verdict(report.verdict),
                error: anyhow::anyhow!(
                    "merging while a critical gate runs needs --confirm-while-running given twice; \
                     waiting for the gate is safer"
                ),
            });
        }
        let short = rev.abbrev(7).to_owned();
        if std::io::stdin().is_terminal() && !ask_for_short_hash(&short)? {
            return Err(Failure {
                code: ExitCode::for_verdict(report.verdict),
                error: anyhow::anyhow!("the hash did not match; nothing was confirmed"),
            });
        }
        let actor = context
            .load_config()
            .ok()
            .and_then(|config| fixlane_core::emergency::policy::identify(&config, context.actor()))
            .map_or_else(|| context.actor().to_owned(), |person| person.to_string());
        fixlane_app::runs::confirm_while_running(&store, &actor, &run, &report.reasons)
            .await
            .context("the confirmation could not be logged, so it does not count")?;
        eprintln!(
            "confirmed by {}: merging {short} while {} — this is in the audit log",
            fixlane_core::text::for_terminal(&actor),
            fixlane_core::text::for_terminal(&report.reasons.join("; "))
        );
        Ok(ExitCode::Success)
    })
}
