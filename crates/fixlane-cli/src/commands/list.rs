//! `fixlane list`: active emergencies with their clocks, newest first.

use fixlane_app::App;
use fixlane_core::text::for_terminal;
use jiff::Timestamp;

use crate::cli::ListArgs;
use crate::exit::{CommandResult, ExitCode};
use crate::records;
use crate::settings::{self, Context};

pub fn list(context: &Context, arguments: &ListArgs) -> CommandResult {
    let config = context.load_config()?;
    let now = Timestamp::now();
    let listed = settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        App::new(&store, &config)
            .list(now, arguments.all)
            .await
            .map_err(|error| records::app_failure(error, context))
    })?;
    if arguments.json {
        let values: Vec<_> = listed
            .iter()
            .map(|listed| listed.summary(&config, now))
            .collect();
        println!("{}", serde_json::to_string_pretty(&values)?);
        return Ok(ExitCode::Success);
    }
    if listed.is_empty() {
        println!("no active emergencies");
        return Ok(ExitCode::Success);
    }
    println!(
        "{:<24} {:<10} {:>9}  {:<6} {:<8} title",
        "incident", "state", "declared", "eta", "severity"
    );
    for listed in &listed {
        let emergency = &listed.emergency;
        println!(
            "{:<24} {:<10} {:>9}  {:<6} {:<8} {}{}{}",
            emergency.id.as_str(),
            emergency.state.as_str(),
            format!(
                "{} ago",
                records::clock(now.duration_since(emergency.declared_at).as_secs())
            ),
            for_terminal(emergency.eta.as_deref().unwrap_or("-")),
            for_terminal(&emergency.severity),
            for_terminal(&emergency.title),
            if emergency.drill { " [drill]" } else { "" },
            match (listed.followups_open, listed.followups_overdue) {
                (0, _) => String::new(),
                (open, 0) => format!(
                    " · {} open",
                    fixlane_core::plural::count(open, "follow-up", "follow-ups")
                ),
                (open, overdue) => format!(
                    " · {} open, {overdue} OVERDUE",
                    fixlane_core::plural::count(open, "follow-up", "follow-ups")
                ),
            }
        );
    }
    Ok(ExitCode::Success)
}
