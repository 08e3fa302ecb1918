//! `fixlane due`: every open follow-up across emergencies, overdue first, with its owner and
//! deadline; exits 1 when any is overdue, for a scheduled CI job.

use std::borrow::Cow;
use std::io::Write;

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

/// One line of the list: what `due --json` (and the team server) says of a follow-up. Borrowed
/// from the local list, owned when read from the server's answer.
#[derive(Debug, Deserialize)]
pub struct Row<'a> {
    pub id: Cow<'a, str>,
    pub kind: Cow<'a, str>,
    pub owner: Cow<'a, str>,
    pub due_at: Timestamp,
    pub overdue: bool,
}

impl<'a> From<&'a fixlane_app::followups::Due> for Row<'a> {
    fn from(due: &'a fixlane_app::followups::Due) -> Self {
        Self {
            id: Cow::Borrowed(due.id.as_str()),
            kind: Cow::Borrowed(due.followup.kind.as_str()),
            owner: Cow::Borrowed(due.followup.owner.as_str()),
            due_at: due.followup.due_at,
            overdue: due.overdue,
        }
    }
}

/// The list people read, judged at `at`, times in the configured zone, written to `out` as it
/// goes: `due` on a busy store prints tens of thousands of lines, and one string of them all
/// cost more than writing them.
pub fn write_list(
    out: &mut impl Write,
    rows: &[Row<'_>],
    config: &Config,
    at: Timestamp,
) -> std::io::Result<()> {
    if rows.is_empty() {
        return out.write_all(b"no open follow-ups\n");
    }
    // The list is sorted by deadline, and an emergency's backfill and cleanup usually share
    // one: the deadline's words are made once per run of equal deadlines.
    let mut deadline: Option<(Timestamp, String, String)> = None;
    for row in rows {
        if deadline
            .as_ref()
            .is_none_or(|(due_at, _, _)| *due_at != row.due_at)
        {
            deadline = Some((
                row.due_at,
                records::human_time(row.due_at, config),
                records::until(row.due_at, at),
            ));
        }
        let (when, until) = deadline
            .as_ref()
            .map_or(("", ""), |(_, when, until)| (when.as_str(), until.as_str()));
        writeln!(
            out,
            "{:<8} {:<22} {:<13} owner {:<10} due {when} ({until})",
            if row.overdue { "OVERDUE" } else { "open" },
            shown(&row.id),
            shown(&row.kind),
            shown(&row.owner),
        )?;
    }
    let overdue = rows.iter().filter(|row| row.overdue).count();
    writeln!(
        out,
        "{} open, {overdue} overdue",
        fixlane_core::plural::count(rows.len(), "follow-up", "follow-ups")
    )
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
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let print = |out: &mut std::io::BufWriter<std::io::StdoutLock<'_>>, rows: &[Row<'_>]| {
        if !arguments.json {
            write_list(out, rows, &config, at)?;
        }
        out.flush()?;
        Ok::<_, std::io::Error>(rows.iter().any(|row| row.overdue))
    };
    let overdue = if let Some(client) = Client::from_env(context)? {
        let items = settings::runtime()?.block_on(client.due(owner.as_ref(), at))?;
        let rows = items
            .iter()
            .cloned()
            .map(serde_json::from_value)
            .collect::<Result<Vec<Row<'_>>, _>>()
            .map_err(|error| {
                Failure::error(anyhow::anyhow!(
                    "the server's follow-ups do not read as follow-ups ({error})"
                ))
            })?;
        if arguments.json {
            serde_json::to_writer_pretty(&mut out, &items)?;
            writeln!(out)?;
        }
        print(&mut out, &rows)?
    } else {
        let due = settings::runtime()?.block_on(async {
            let store = context.open_store_read_only().await?;
            App::new(&store, &config)
                .due(at, owner.as_ref())
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        if arguments.json {
            let items: Vec<DueItem> = due.iter().map(|item| item.item(at)).collect();
            serde_json::to_writer_pretty(&mut out, &items)?;
            writeln!(out)?;
        }
        let rows: Vec<Row<'_>> = due.iter().map(Row::from).collect();
        print(&mut out, &rows)?
    };
    Ok(if overdue {
        ExitCode::Failed
    } else {
        ExitCode::Success
    })
}
