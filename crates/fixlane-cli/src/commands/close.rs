//! `fixlane close`: one follow-up closed with its evidence; the last one closes the emergency.

use fixlane_app::App;
use fixlane_app::followups::Closed;
use fixlane_core::emergency::EmergencyState;
use fixlane_core::followup::{Evidence, FollowUpKind};
use fixlane_core::text::for_terminal as shown;

use crate::cli::CloseArgs;
use crate::client::{self, Client};
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

fn kind(text: &str) -> Result<FollowUpKind, Failure> {
    FollowUpKind::parse(text).ok_or_else(|| {
        Failure::error(anyhow::anyhow!(
            "`{}` is not a follow-up; the follow-ups are cleanup, postmortem, audit-review and \
             regression (the backfill closes itself when `fixlane backfill` passes)",
            shown(text)
        ))
    })
}

pub fn close(context: &Context, arguments: &CloseArgs) -> CommandResult {
    let config = context.load_config()?;
    let id = records::incident(&arguments.id)?;
    let kind = kind(&arguments.kind)?;
    let (person, closed) = if let Some(client) = Client::from_env(context)? {
        client::refuse_at(arguments.at.as_deref(), "close")?;
        let reply = settings::runtime()?.block_on(client.close(
            &id,
            kind,
            arguments.link.as_deref(),
            arguments.notes.as_deref(),
        ))?;
        let closed = Closed {
            emergency_closed: reply.body.emergency.state == EmergencyState::Closed,
            emergency: reply.body.emergency,
            followups: reply.body.followups,
        };
        (reply.actor, closed)
    } else {
        let at = records::moment(arguments.at.as_deref())?;
        let person = records::person(context, &config, &format!("closing the {kind} of {id}"))?;
        let evidence = Evidence {
            link: arguments.link.clone(),
            notes: arguments.notes.clone(),
            run_id: None,
        };
        let closed = settings::runtime()?.block_on(async {
            let store = context.open_store().await?;
            App::new(&store, &config)
                .close_followup(&person, &id, kind, evidence, at)
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        (person.to_string(), closed)
    };
    let person = shown(&person);
    println!("{id}: {kind} closed by {person}");
    if closed.emergency_closed {
        println!("every follow-up is closed: {id} is closed");
        return Ok(ExitCode::Success);
    }
    let open: Vec<String> = closed
        .followups
        .iter()
        .filter(|followup| followup.is_open())
        .map(|followup| {
            format!(
                "{} (due {})",
                followup.kind,
                records::human_time(followup.due_at, &config)
            )
        })
        .collect();
    println!("still open: {}", open.join(", "));
    Ok(ExitCode::Success)
}
