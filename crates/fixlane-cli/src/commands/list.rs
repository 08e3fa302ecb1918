//! `fixlane list`: active emergencies with their clocks, newest first.

use fixlane_core::emergency::{EmergencyState, policy};
use fixlane_core::text::for_terminal;
use fixlane_store::Store;
use jiff::Timestamp;

use crate::cli::ListArgs;
use crate::exit::{CommandResult, ExitCode};
use crate::records;
use crate::settings::{self, Context};

pub fn list(context: &Context, arguments: &ListArgs) -> CommandResult {
    let config = context.load_config()?;
    let now = Timestamp::now();
    let (emergencies, open) = settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        let emergencies = fixlane_app::records::all(&store)
            .await
            .map_err(|error| records::app_failure(error, context))?;
        let open = store.open_followups().await?;
        Ok::<_, crate::exit::Failure>((emergencies, open))
    })?;
    // Open and overdue follow-ups per emergency, for the clocks after the title: counted once,
    // not once per emergency (a store of thousands would make that quadratic).
    let mut counts: std::collections::HashMap<&fixlane_core::IncidentId, (usize, usize)> =
        std::collections::HashMap::new();
    for (id, followup) in &open {
        let entry = counts.entry(id).or_default();
        entry.0 += 1;
        if followup.is_overdue(now) {
            entry.1 += 1;
        }
    }
    let debt = |id: &fixlane_core::IncidentId| counts.get(id).copied().unwrap_or_default();
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
                    "followups_open": debt(&emergency.id).0,
                    "followups_overdue": debt(&emergency.id).1,
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
            match debt(&emergency.id) {
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
