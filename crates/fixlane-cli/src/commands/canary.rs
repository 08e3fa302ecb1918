//! `fixlane canary`: the rollback path checked first, then each weight step baked under metric
//! analysis, rolled back at once on any concerning signal, promoted after the last step.
//!
//! The deploy commands and metric queries run here in either mode; the canary is recorded on
//! the local store, or in client mode on the team server (its profile judged there, on the
//! team's record, by the server's policy), through the same application-layer functions.

use fixlane_app::{App, CanaryRecorder, CanaryWriter};
use fixlane_canary::CanarySettings;
use fixlane_core::IncidentId;
use fixlane_core::canary::{CanaryEvent, CanaryOutcome};
use fixlane_runner::git::Repository;
use fixlane_store::{AnyStore, NewCanary};
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::cli::CanaryArgs;
use crate::client::Client;
use crate::client::canaries::RemoteCanary;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::record::Target;
use crate::records;
use crate::report::canary::CanaryView;
use crate::settings::{self, Context};

/// Where a canary or verification is recorded as it goes: the local store, or the team server.
pub enum Recording<'a> {
    Store {
        recorder: CanaryRecorder<'a, AnyStore>,
        /// The config file, as refusals name it.
        config_file: String,
    },
    Server(RemoteCanary<'a>),
}

impl Recording<'_> {
    fn failure(&self, error: fixlane_app::AppError) -> Failure {
        match self {
            Recording::Store { config_file, .. } => records::app_failure_in(error, config_file),
            Recording::Server(_) => Failure::error(error),
        }
    }

    /// Records how the canary ended.
    pub async fn finish(&self, outcome: CanaryOutcome, at: Timestamp) -> Result<(), Failure> {
        match self {
            Recording::Store { recorder, .. } => recorder
                .finish(outcome.as_str(), at)
                .await
                .map_err(|error| self.failure(error)),
            Recording::Server(remote) => remote.finish(outcome, at).await,
        }
    }

    /// Records how the verification ended (see `CanaryRecorder::finish_verification`).
    pub async fn finish_verification(
        &self,
        recovered: Option<String>,
        at: Timestamp,
    ) -> Result<(), Failure> {
        match self {
            Recording::Store { recorder, .. } => recorder
                .finish_verification(recovered, at)
                .await
                .map_err(|error| self.failure(error)),
            Recording::Server(remote) => remote.finish_verification(recovered, at).await,
        }
    }
}

impl CanaryWriter for Recording<'_> {
    type Error = Failure;

    async fn record(&self, batch: &[CanaryEvent]) -> Result<(), Failure> {
        match self {
            Recording::Store { recorder, .. } => recorder
                .record(batch)
                .await
                .map_err(|error| self.failure(error)),
            Recording::Server(remote) => remote.record(batch).await,
        }
    }
}

/// The profile of the canary, and who records it (on the server, the token's owner).
async fn choose(
    context: &Context,
    config: &fixlane_core::Config,
    target: Target<'_>,
    incident: Option<&IncidentId>,
    requested: Option<&str>,
) -> Result<(String, String), Failure> {
    let store = match target {
        Target::Server(client) => return client.canary_profile(incident, requested).await,
        Target::Store(store) => store,
    };
    let actor = match incident {
        Some(id) => records::person(context, config, &format!("deploying {id}"))?.to_string(),
        None => fixlane_core::emergency::policy::identify(config, context.actor())
            .map_or_else(|| context.actor().to_owned(), |person| person.to_string()),
    };
    let chosen = App::new(store, config)
        .canary_profile(incident, requested)
        .await
        .map_err(|error| records::app_failure(error, context))?;
    Ok((chosen, actor))
}

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
    let incident = arguments.id.as_deref().map(records::incident).transpose()?;
    // In client mode the canary runs here and is recorded on the team server.
    let server = Client::from_env(context)?;
    settings::runtime()?.block_on(async {
        let local;
        let target = if let Some(client) = &server {
            Target::Server(client)
        } else {
            local = context.open_store().await?;
            Target::Store(&local)
        };
        let (chosen, actor) = choose(
            context,
            &config,
            target,
            incident.as_ref(),
            arguments.profile.as_deref(),
        )
        .await?;
        let settings = CanarySettings::from_config(
            &config,
            &chosen,
            rev.clone(),
            incident.as_ref().map(ToString::to_string),
            Some(context.root().to_path_buf()),
        )
        .map_err(Failure::error)?;
        let new = NewCanary {
            id: new_id("canary"),
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
        };
        let session = match target {
            Target::Server(client) => Recording::Server(client.start_canary(&new).await?),
            Target::Store(store) => Recording::Store {
                recorder: App::new(store, &config)
                    .start_canary(&actor, new)
                    .await
                    .map_err(|error| records::app_failure(error, context))?,
                config_file: context.config_display(),
            },
        };

        let (cancel_sender, cancel) = watch::channel(false);
        let interrupted = crate::interrupt::on_ctrl_c(cancel_sender.clone());
        let (sender, receiver) = mpsc::unbounded_channel();
        let driver = tokio::spawn(fixlane_canary::drive(settings, sender, cancel));
        let mut view = CanaryView::choose(arguments.json);
        let consumed =
            fixlane_app::consume(&session, receiver, |event| view.event(event), &cancel_sender)
                .await;
        view.finish();
        let outcome = driver
            .await
            .map_err(|error| anyhow::anyhow!("the canary driver stopped unexpectedly: {error}"))?
            .map_err(Failure::error)?;
        session.finish(outcome, Timestamp::now()).await?;
        consumed?;
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
