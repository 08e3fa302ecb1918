//! `fixlane list`: active emergencies with their clocks, newest first.

use fixlane_core::emergency::{EmergencyState, policy};
use fixlane_core::text::for_terminal;
use jiff::Timestamp;

use crate::cli::ListArgs;
use crate::exit::{CommandResult, ExitCode};
use crate::records;
use crate::settings::{self, Context};

pub fn list(context: &Context, arguments: &ListArgs) -> CommandResult {
    let config = context.load_config()?;
    let now = Timestamp::now();
    let emergencies = settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        fixlane_app::records::all(&store)
            .await
            .map_err(|error| records::app_failure(error, context))
    })?;
    let shown: Vec<_> = emergencies
        .into_iter()
        .filter(|emergency| arguments.all || emergency.state != EmergencyState::Closed)
        .collect();
    if arguments.json {
        let values: Vec<serde_json::Value> = shown
            .iter()
            .map(|emergency| {
                serde_json::json!({
                    "id": emergency.id,
                    "title": emergency.title,
                    "severity": emergency.severity,
                    "category": emergency.category,
                    "state": emergency.state.as_str(),
                    "author": emergency.author,
                    "declared_at": emergency.declared_at,
                    "seconds_since_declared": now.duration_since(emergency.declared_at).as_secs(),
                    "eta": emergency.eta,
                    "missing_approvals": policy::missing_groups(&config, emergency),
                    "drill": emergency.drill,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&values)?);
        return Ok(ExitCode::Success);
    }
    if shown.is_empty() {
        println!("no active emergencies");
        return Ok(ExitCode::Success);
    }
    println!(
        "{:<24} {:<10} {:>9}  {:<6} {:<8} title",
        "incident", "state", "declared", "eta", "severity"
    );
    for emergency in &shown {
        println!(
            "{:<24} {:<10} {:>9}  {:<6} {:<8} {}{}",
            emergency.id.as_str(),
            emergency.state.as_str(),
            format!(
                "{} ago",
                records::clock(now.duration_since(emergency.declared_at).as_secs())
            ),
            for_terminal(emergency.eta.as_deref().unwrap_or("-")),
            for_terminal(&emergency.severity),
            for_terminal(&emergency.title),
            if emergency.drill { " [drill]" } else { "" }
        );
    }
    Ok(ExitCode::Success)
}
