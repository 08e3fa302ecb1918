//! `fixlane canary`: the rollback path checked first, then each weight step baked under metric
//! analysis, rolled back at once on any concerning signal, promoted after the last step.

use fixlane_app::CanaryRecorder;
use fixlane_canary::CanarySettings;
use fixlane_core::emergency::profile;
use fixlane_runner::git::Repository;
use fixlane_store::NewCanary;
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::cli::CanaryArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::report::canary::CanaryView;
use crate::settings::{self, Context};

pub fn canary(context: &Context, arguments: &CanaryArgs) -> CommandResult {
    let rev = context
        .repo
        .resolve(arguments.rev.as_deref().unwrap_or("HEAD"))?;
    // An emergency's canary runs under the policy committed at the base (its deploy commands,
    // profiles, approvers), so the fix cannot loosen how it is rolled out.
    let config = match &arguments.id {
        Some(_) => crate::policy::for_emergency_action(context, &rev, "the emergency's canary")?.0,
        None => context.load_config()?,
    };
    settings::runtime()?.block_on(async {
        let store = context.open_store().await?;
        let (chosen, incident, actor) = if let Some(id) = &arguments.id {
            {
                let id = records::incident(id)?;
                let person = records::person(context, &config, &format!("deploying {id}"))?;
                let emergency = records::load(&store, &id, context).await?;
                let chosen = profile::for_emergency(&config, &emergency, arguments.profile.as_deref())
                    .map_err(|refusal| records::failure(refusal.into(), context))?;
                (chosen, Some(id), person.to_string())
            }
        } else {
            {
                let chosen = profile::for_normal_change(&config, arguments.profile.as_deref())
                    .map_err(|refusal| records::failure(refusal.into(), context))?;
                let actor = fixlane_core::emergency::policy::identify(&config, context.actor())
                    .map_or_else(|| context.actor().to_owned(), |person| person.to_string());
                (chosen, None, actor)
            }
        };
        let settings = CanarySettings::from_config(
            &config,
            &chosen,
            rev.clone(),
            incident.as_ref().map(ToString::to_string),
            Some(context.root().to_path_buf()),
        )
        .map_err(Failure::error)?;
        let canary_id = new_id("canary");
        let session = CanaryRecorder::start(
                &store,
                &config,
                &actor,
                NewCanary {
                    id: canary_id.clone(),
                    incident: incident.clone(),
                    rev: rev.clone(),
                    profile: chosen.clone(),
                    started_at: Timestamp::now(),
                    plan: serde_json::json!({
                        "steps": settings.profile.steps.iter().map(|step| serde_json::json!({
                            "weight": step.weight,
                            "bake_seconds": step.bake.as_seconds(),
                        })).collect::<Vec<_>>(),
                        "checks": settings.checks.iter().map(|check| check.name.clone()).collect::<Vec<_>>(),
                        "interval_seconds": settings.interval.as_secs(),
                        "failure_limit": settings.failure_limit,
                    }),
                },
            )
            .await
            .map_err(|error| records::app_failure(error, context))?;

        let (cancel_sender, cancel) = watch::channel(false);
        let interrupted = crate::interrupt::on_ctrl_c(cancel_sender.clone());
        let (sender, receiver) = mpsc::unbounded_channel();
        let driver = tokio::spawn(fixlane_canary::drive(settings, sender, cancel));
        let mut view = CanaryView::choose(arguments.json);
        let consumed = session
            .consume(receiver, |event| view.event(event), &cancel_sender)
            .await;
        view.finish();
        let outcome = driver
            .await
            .map_err(|error| anyhow::anyhow!("the canary driver stopped unexpectedly: {error}"))?
            .map_err(Failure::error)?;
        session
            .finish(outcome.as_str(), Timestamp::now())
            .await
            .map_err(|error| records::app_failure(error, context))?;
        consumed.map_err(|error| records::app_failure(error, context))?;
        if interrupted.is_finished() {
            eprintln!("interrupted: the canary was rolled back");
            return Ok(ExitCode::Interrupted);
        }
        interrupted.abort();
        Ok(ExitCode::for_canary(outcome))
    })
}

/// A new id for a canary or a verification: the run-id shape behind a prefix.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", crate::commands::run::run_id())
}
