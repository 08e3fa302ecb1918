//! `fixlane merged`: the fix left the emergency lane by a merge (no canary promoted it), so its
//! follow-ups open now, each with its owner and deadline.

use fixlane_app::App;
use fixlane_core::text::for_terminal as shown;
use fixlane_runner::git::Repository;
use jiff::Timestamp;

use crate::cli::MergedArgs;
use crate::client::{self, Client};
use crate::exit::{CommandResult, ExitCode};
use crate::records;
use crate::settings::{self, Context};

pub fn merged(context: &Context, arguments: &MergedArgs) -> CommandResult {
    let config = context.load_config()?;
    let id = records::incident(&arguments.id)?;
    let rev = context
        .repo
        .resolve(arguments.rev.as_deref().unwrap_or("HEAD"))?;
    let (followups, at) = if let Some(client) = Client::from_env(context)? {
        client::refuse_at(arguments.at.as_deref(), "merged")?;
        let reply = settings::runtime()?.block_on(client.merged(&id, &rev))?;
        (reply.body.followups, Timestamp::now())
    } else {
        let at = records::moment(arguments.at.as_deref())?;
        let actor = fixlane_core::emergency::policy::identify(&config, context.actor())
            .map_or_else(|| context.actor().to_owned(), |person| person.to_string());
        let because = format!("merged as {}", fixlane_core::rev::short(&rev));
        let followups = settings::runtime()?.block_on(async {
            let store = context.open_store().await?;
            App::new(&store, &config)
                .open_followups(&actor, &id, &because, at)
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        (followups, at)
    };
    println!("{id}: the fix is merged; its follow-ups are open:");
    for followup in &followups {
        println!(
            "  {:<13} owner {:<10} due {} ({})",
            followup.kind.as_str(),
            shown(followup.owner.as_str()),
            records::human_time(followup.due_at, &config),
            records::until(followup.due_at, at)
        );
    }
    println!("next:    fixlane due lists them; fixlane close {id} KIND closes each");
    Ok(ExitCode::Success)
}
