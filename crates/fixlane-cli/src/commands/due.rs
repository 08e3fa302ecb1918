//! `fixlane due`: every open follow-up across emergencies, overdue first, with its owner and
//! deadline; exits 1 when any is overdue, for a scheduled CI job.

use fixlane_app::App;
use fixlane_core::PersonName;
use fixlane_core::text::for_terminal as shown;

use crate::cli::DueArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn due(context: &Context, arguments: &DueArgs) -> CommandResult {
    let config = context.load_config()?;
    let at = records::moment(arguments.at.as_deref())?;
    let owner = arguments
        .owner
        .as_deref()
        .map(|name| {
            PersonName::parse(name)
                .map_err(|error| Failure::error(anyhow::anyhow!("--owner: {error}")))
        })
        .transpose()?;
    let due = settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        App::new(&store, &config)
            .due(at, owner.as_ref())
            .await
            .map_err(|error| records::app_failure(error, context))
    })?;
    let overdue = due.iter().filter(|item| item.overdue).count();
    if arguments.json {
        let items: Vec<_> = due.iter().map(|item| item.item(at)).collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else if due.is_empty() {
        println!("no open follow-ups");
    } else {
        for item in &due {
            println!(
                "{:<8} {:<22} {:<13} owner {:<10} due {} ({})",
                if item.overdue { "OVERDUE" } else { "open" },
                item.id.as_str(),
                item.followup.kind.as_str(),
                shown(item.followup.owner.as_str()),
                records::human_time(item.followup.due_at, &config),
                records::until(item.followup.due_at, at)
            );
        }
        println!(
            "{} open, {overdue} overdue",
            fixlane_core::plural::count(due.len(), "follow-up", "follow-ups")
        );
    }
    Ok(if overdue > 0 {
        ExitCode::Failed
    } else {
        ExitCode::Success
    })
}
