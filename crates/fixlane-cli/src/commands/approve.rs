//! `fixlane approve`: one named authority's approval, checked against the category's groups;
//! the change becomes `approved` when every group is satisfied.

use fixlane_app::App;
use fixlane_core::text::for_terminal as shown;
use jiff::Timestamp;

use crate::cli::ApproveArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode};
use crate::records;
use crate::settings::{self, Context};

pub fn approve(context: &Context, arguments: &ApproveArgs) -> CommandResult {
    let id = records::incident(&arguments.id)?;
    let (person, emergency, missing) = if let Some(client) = Client::from_env(context)? {
        let reply =
            settings::runtime()?.block_on(client.approve(&id, arguments.role.as_deref()))?;
        (reply.actor, reply.body.emergency, reply.body.missing)
    } else {
        let config = context.load_config()?;
        let person = records::person(context, &config, &format!("approving {id}"))?;
        let outcome = settings::runtime()?.block_on(async {
            let store = context.open_store().await?;
            App::new(&store, &config)
                .approve(&person, &id, arguments.role.as_deref(), Timestamp::now())
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        (person.to_string(), outcome.emergency, outcome.missing)
    };
    if missing.is_empty() {
        println!(
            "{id} approved by {}: every approver group is satisfied; the change is approved",
            shown(&person)
        );
        if !emergency.is_bypassed(fixlane_core::config::model::BypassElement::Eval) {
            println!(
                "next: record what the hotfix lane skips: fixlane bypass {id} eval --reason \"…\" --compensation \"…\""
            );
        }
    } else {
        println!(
            "{id} approved by {}; still needs: {}",
            shown(&person),
            shown(
                &missing
                    .iter()
                    .map(|group| group.join(" or "))
                    .collect::<Vec<_>>()
                    .join(", and ")
            )
        );
    }
    Ok(ExitCode::Success)
}
