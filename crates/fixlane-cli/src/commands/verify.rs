//! `fixlane verify`: re-query the symptom check until it has held within bounds for the period;
//! the recovery time goes on the emergency's timeline (seed 001's "expect: drops below 0.01
//! within 2-3 minutes").

use fixlane_canary::VerifySettings;
use fixlane_core::Duration;
use fixlane_core::emergency::EmergencyState;
use fixlane_store::{NewCanary, Store};
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::canary_session::{self, Session};
use crate::cli::VerifyArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::report::canary::CanaryView;
use crate::settings::{self, Context};

fn duration(flag: &str, text: &str) -> Result<Duration, Failure> {
    Duration::parse(text).map_err(|error| Failure::error(anyhow::anyhow!("{flag}: {error}")))
}

pub fn verify(context: &Context, arguments: &VerifyArgs) -> CommandResult {
    let config = context.load_config()?;
    let id = records::incident(&arguments.id)?;
    let person = records::person(context, &config, &format!("verifying {id}"))?;
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
        let store = context.open_store().await?;
        let emergency = records::load(&store, &id).await?;
        if !matches!(
            emergency.state,
            EmergencyState::Promoted | EmergencyState::RolledBack
        ) {
            return Err(Failure::failed(anyhow::anyhow!(
                "refused: verifying {id}\n   rule: emergency.states — {id} is {}; the symptom is verified after the canary promoted or rolled back\ninstead: run the canary first: fixlane canary {id}",
                emergency.state
            )));
        }
        let verify_id = canary_session::new_id("verify");
        store
            .start_canary(
                person.as_str(),
                &NewCanary {
                    id: verify_id.clone(),
                    incident: Some(id.clone()),
                    rev: emergency.branch.clone(),
                    profile: format!("verify {}", arguments.check),
                    started_at: Timestamp::now(),
                    plan: serde_json::json!({
                        "check": arguments.check,
                        "hold_seconds": hold.as_seconds(),
                        "timeout_seconds": timeout.as_seconds(),
                    }),
                },
            )
            .await?;
        let (cancel_sender, cancel) = watch::channel(false);
        let interrupted = crate::interrupt::on_ctrl_c(cancel_sender.clone());
        let (sender, receiver) = mpsc::unbounded_channel();
        let verifier = tokio::spawn(fixlane_canary::verify(settings, sender, cancel));
        let session = Session {
            store: &store,
            actor: person.to_string(),
            canary_id: verify_id.clone(),
            incident: Some(id.clone()),
        };
        let mut view = CanaryView::choose(arguments.json);
        let consumed = session.consume(receiver, &mut view, &cancel_sender).await;
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
        let finished = if outcome.recovered { "recovered" } else { "not recovered" };
        store
            .finish_canary(person.as_str(), &verify_id, finished, Timestamp::now())
            .await?;
        if !outcome.recovered {
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
            .move_emergency(
                EmergencyState::Verified,
                "verified",
                Timestamp::now(),
                Some(note.clone()),
            )
            .await?;
        println!(
            "{id} verified: {}",
            fixlane_core::text::for_terminal(&note)
        );
        Ok(ExitCode::Success)
    })
}
