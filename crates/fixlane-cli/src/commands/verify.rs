//! `fixlane verify`: re-query the symptom check until it has held within bounds for the period;
//! the recovery time goes on the emergency's timeline (seed 001's "expect: drops below 0.01
//! within 2-3 minutes").
//!
//! The check is queried here in either mode; the verification is recorded on the local store,
//! or in client mode on the team server, through the same application-layer functions.

use fixlane_app::App;
use fixlane_canary::VerifySettings;
use fixlane_core::{Duration, PersonName};
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use super::canary::Recording;
use crate::cli::VerifyArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::report::canary::CanaryView;
use crate::settings::{self, Context};

fn duration(flag: &str, text: &str) -> Result<Duration, Failure> {
    Duration::parse(text).map_err(|error| Failure::error(anyhow::anyhow!("{flag}: {error}")))
}

/// Who records the verification: the team server, or the local store as this person.
enum By {
    Server(Client),
    Person(PersonName),
}

pub fn verify(context: &Context, arguments: &VerifyArgs) -> CommandResult {
    let config = context.load_config()?;
    let id = records::incident(&arguments.id)?;
    // In client mode the check is queried here and the verification recorded on the server,
    // as the token's owner; locally, as the person named.
    let by = match Client::from_env(context)? {
        Some(client) => By::Server(client),
        None => By::Person(records::person(
            context,
            &config,
            &format!("verifying {id}"),
        )?),
    };
    let hold = duration("--for", &arguments.hold)?;
    let timeout = duration("--timeout", &arguments.timeout)?;
    let settings = VerifySettings::from_config(
        &config,
        &arguments.check,
        hold.to_std(),
        timeout.to_std(),
        Some(context.root().to_path_buf()),
    )
    .map_err(Failure::error)?;
    settings::runtime()?.block_on(async {
        let verify_id = super::canary::new_id("verify");
        let local;
        let session = match &by {
            By::Server(client) => Recording::Server(
                client
                    .start_verification(
                        &id,
                        &verify_id,
                        &arguments.check,
                        hold.as_seconds(),
                        timeout.as_seconds(),
                    )
                    .await?,
            ),
            By::Person(person) => {
                local = context.open_store().await?;
                Recording::Store {
                    recorder: App::new(&local, &config)
                        .start_verification(
                            person,
                            &id,
                            verify_id,
                            &arguments.check,
                            hold.as_seconds(),
                            timeout.as_seconds(),
                        )
                        .await
                        .map_err(|error| records::app_failure(error, context))?
                        .recorder,
                    config_file: context.config_display(),
                }
            }
        };
        let (cancel_sender, cancel) = watch::channel(false);
        let interrupted = crate::interrupt::on_ctrl_c(cancel_sender.clone());
        let (sender, receiver) = mpsc::unbounded_channel();
        let verifier = tokio::spawn(fixlane_canary::verify(settings, sender, cancel));
        let mut view = CanaryView::choose(arguments.json);
        let consumed =
            fixlane_app::consume(&session, receiver, |event| view.event(event), &cancel_sender)
                .await;
        view.finish();
        let outcome = verifier
            .await
            .map_err(|error| anyhow::anyhow!("verification stopped unexpectedly: {error}"))?;
        if interrupted.is_finished() {
            eprintln!("interrupted: nothing was verified");
            return Ok(ExitCode::Interrupted);
        }
        interrupted.abort();
        let outcome = outcome.map_err(Failure::error)?;
        consumed?;
        if !outcome.recovered {
            session.finish_verification(None, Timestamp::now()).await?;
            return Err(Failure::failed(anyhow::anyhow!(
                "{} did not hold within bounds for {hold} before the {timeout} timeout: the fix did not resolve the symptom. \
                 Roll the hotfix back and treat it as a new incident; do not chain another hotfix",
                arguments.check
            )));
        }
        let note = format!(
            "{} held within bounds for {hold}; recovered after {}",
            arguments.check,
            records::clock(outcome.recovery_seconds.map_or(0, |seconds| {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "a recovery time in seconds, rounded; far inside i64"
                )]
                let whole = seconds.round() as i64;
                whole
            }))
        );
        session
            .finish_verification(Some(note.clone()), Timestamp::now())
            .await?;
        println!(
            "{id} verified: {}",
            fixlane_core::text::for_terminal(&note)
        );
        Ok(ExitCode::Success)
    })
}
