//! `fixlane list`: active emergencies with their clocks, newest first.

use std::fmt::Write as _;

use fixlane_app::App;
use fixlane_app::views::Summary;
use fixlane_core::text::for_terminal;
use jiff::Timestamp;
use serde::Deserialize;

use crate::cli::ListArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

/// One line of the table: what `list --json` (and the team server) says of an emergency.
#[derive(Debug, Deserialize)]
pub struct Row {
    pub id: String,
    pub state: String,
    pub seconds_since_declared: i64,
    pub eta: Option<String>,
    pub severity: String,
    pub title: String,
    pub drill: bool,
    pub followups_open: usize,
    pub followups_overdue: usize,
}

impl From<&Summary> for Row {
    fn from(summary: &Summary) -> Self {
        Self {
            id: summary.id.to_string(),
            state: summary.state.to_owned(),
            seconds_since_declared: summary.seconds_since_declared,
            eta: summary.eta.clone(),
            severity: summary.severity.clone(),
            title: summary.title.clone(),
            drill: summary.drill,
            followups_open: summary.followups_open,
            followups_overdue: summary.followups_overdue,
        }
    }
}

/// The table people read.
pub fn render(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "no active emergencies\n".to_owned();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<24} {:<10} {:>9}  {:<6} {:<8} title",
        "incident", "state", "declared", "eta", "severity"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "{:<24} {:<10} {:>9}  {:<6} {:<8} {}{}{}",
            for_terminal(&row.id),
            for_terminal(&row.state),
            format!("{} ago", records::clock(row.seconds_since_declared)),
            for_terminal(row.eta.as_deref().unwrap_or("-")),
            for_terminal(&row.severity),
            for_terminal(&row.title),
            if row.drill { " [drill]" } else { "" },
            match (row.followups_open, row.followups_overdue) {
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
    out
}

pub fn list(context: &Context, arguments: &ListArgs) -> CommandResult {
    if let Some(client) = Client::from_env(context)? {
        let listed = settings::runtime()?.block_on(client.list(arguments.all))?;
        if arguments.json {
            println!("{}", serde_json::to_string_pretty(&listed)?);
        } else {
            let rows = listed
                .into_iter()
                .map(serde_json::from_value)
                .collect::<Result<Vec<Row>, _>>()
                .map_err(|error| {
                    Failure::error(anyhow::anyhow!(
                        "the server's list does not read as emergencies ({error})"
                    ))
                })?;
            print!("{}", render(&rows));
        }
        return Ok(ExitCode::Success);
    }
    let config = context.load_config()?;
    let now = Timestamp::now();
    let listed = settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        App::new(&store, &config)
            .list(now, arguments.all)
            .await
            .map_err(|error| records::app_failure(error, context))
    })?;
    let summaries: Vec<Summary> = listed
        .iter()
        .map(|listed| listed.summary(&config, now))
        .collect();
    if arguments.json {
        println!("{}", serde_json::to_string_pretty(&summaries)?);
    } else {
        let rows: Vec<Row> = summaries.iter().map(Row::from).collect();
        print!("{}", render(&rows));
    }
    Ok(ExitCode::Success)
}
