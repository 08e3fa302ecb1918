//! `fixlane due`: every open follow-up across emergencies, overdue first, with its owner and
//! deadline; exits 1 when any is overdue, for a scheduled CI job.

use std::fmt::Write as _;

use fixlane_app::App;
use fixlane_app::views::DueItem;
use fixlane_core::text::for_terminal as shown;
use fixlane_core::{Config, PersonName};
use jiff::Timestamp;
use serde::Deserialize;

use crate::cli::DueArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

/// One line of the list: what `due --json` (and the team server) says of a follow-up.
#[derive(Debug, Deserialize)]
pub struct Row {
    pub id: String,
    pub kind: String,
    pub owner: String,
    pub due_at: Timestamp,
    pub overdue: bool,
}

impl From<&DueItem> for Row {
    fn from(item: &DueItem) -> Self {
        Self {
            id: item.id.to_string(),
            kind: item.kind.as_str().to_owned(),
            owner: item.owner.to_string(),
            due_at: item.due_at,
            overdue: item.overdue,
        }
    }
}

/// The list people read, judged at `at`, times in the configured zone.
pub fn render(rows: &[Row], config: &Config, at: Timestamp) -> String {
    if rows.is_empty() {
        return "no open follow-ups\n".to_owned();
    }
    let mut out = String::new();
    for row in rows {
        let _ = writeln!(
            out,
            "{:<8} {:<22} {:<13} owner {:<10} due {} ({})",
            if row.overdue { "OVERDUE" } else { "open" },
            shown(&row.id),
            shown(&row.kind),
            shown(&row.owner),
            records::human_time(row.due_at, config),
            records::until(row.due_at, at)
        );
    }
    let overdue = rows.iter().filter(|row| row.overdue).count();
    let _ = writeln!(
        out,
        "{} open, {overdue} overdue",
        fixlane_core::plural::count(rows.len(), "follow-up", "follow-ups")
    );
    out
}

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
    // The JSON is built only when asked for: `due` lists thousands of follow-ups on a busy
    // store, and a pretty-printed copy nobody reads cost a fifth of its time.
    let rows = if let Some(client) = Client::from_env(context)? {
        let items = settings::runtime()?.block_on(client.due(owner.as_ref(), at))?;
        let rows = items
            .iter()
            .cloned()
            .map(serde_json::from_value)
            .collect::<Result<Vec<Row>, _>>()
            .map_err(|error| {
                Failure::error(anyhow::anyhow!(
                    "the server's follow-ups do not read as follow-ups ({error})"
                ))
            })?;
        if arguments.json {
            println!("{}", serde_json::to_string_pretty(&items)?);
        }
        rows
    } else {
        let due = settings::runtime()?.block_on(async {
            let store = context.open_store_read_only().await?;
            App::new(&store, &config)
                .due(at, owner.as_ref())
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        let items: Vec<DueItem> = due.iter().map(|item| item.item(at)).collect();
        if arguments.json {
            println!("{}", serde_json::to_string_pretty(&items)?);
        }
        items.iter().map(Row::from).collect()
    };
    if !arguments.json {
        print!("{}", render(&rows, &config, at));
    }
    Ok(if rows.iter().any(|row| row.overdue) {
        ExitCode::Failed
    } else {
        ExitCode::Success
    })
}
