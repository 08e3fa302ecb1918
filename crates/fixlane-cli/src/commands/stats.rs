//! `fixlane stats`: the data behind "make the normal pipeline faster instead" — emergencies per
//! week and per author against the limits, follow-ups paid on time, recovery time, and the
//! deploys' rework and change failure rates with their four-keys buckets. Gathered from the
//! local store, or in client mode from the team server's (`GET /api/v1/stats`), by the same
//! `fixlane_app::App::stats`.

use std::fmt::Write as _;

use fixlane_app::App;
use fixlane_core::Duration;
use fixlane_core::stats::{self, Stats};
use fixlane_core::text::for_terminal as shown;

use crate::cli::StatsArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_owned(), |rate| format!("{:.0}%", rate * 100.0))
}

/// The figures for people.
pub fn render(stats: &Stats, config: &fixlane_core::Config, window: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "since {} ({window}): {} ({} drill{})",
        records::human_time(stats.since, config),
        fixlane_core::plural::count(stats.emergencies, "emergency", "emergencies"),
        stats.drills,
        if stats.drills == 1 { "" } else { "s" }
    );
    let weeks: Vec<String> = stats
        .per_week
        .iter()
        .map(|(week, count)| format!("{week} {count}"))
        .collect();
    let _ = writeln!(
        out,
        "per week:     {}",
        if weeks.is_empty() {
            "-".to_owned()
        } else {
            weeks.join(" · ")
        }
    );
    let authors: Vec<String> = stats
        .per_author
        .iter()
        .map(|(author, count)| format!("{} {count}", shown(author)))
        .collect();
    let _ = writeln!(
        out,
        "per author:   {}",
        if authors.is_empty() {
            "-".to_owned()
        } else {
            authors.join(", ")
        }
    );
    if let Some(rate) = &stats.rate_limit {
        let _ = writeln!(
            out,
            "rate limit:   {} of {} in {}",
            rate.used, rate.max, rate.within
        );
    }
    if let Some((author, limit)) = &stats.author_limit {
        let _ = writeln!(
            out,
            "author limit: {} {} of {} in {}",
            shown(author),
            limit.used,
            limit.max,
            limit.within
        );
    }
    for figures in &stats.followups {
        let _ = writeln!(
            out,
            "follow-ups:   {:<13} {} of {} closed on time, {} open, {} overdue",
            figures.kind.as_str(),
            figures.closed_on_time,
            figures.closed,
            figures.open,
            figures.overdue
        );
    }
    match &stats.recovery {
        Some(recovery) => {
            let _ = writeln!(
                out,
                "recovery:     declared to verified p50 {}, p90 {} ({}) — four keys: {}",
                records::clock(recovery.p50_seconds),
                records::clock(recovery.p90_seconds),
                fixlane_core::plural::count(recovery.count, "emergency", "emergencies"),
                recovery.bucket
            );
        }
        None => out.push_str("recovery:     no emergency verified in the window\n"),
    }
    let deploys = &stats.deploys;
    let _ = writeln!(
        out,
        "deploys:      {} through the canary, {} promoted, {} rolled back",
        deploys.total, deploys.promoted, deploys.rolled_back
    );
    let _ = writeln!(
        out,
        "rework rate:  {} ({} of the deploys were emergencies)",
        percent(deploys.rework_rate),
        deploys.emergency
    );
    let _ = writeln!(
        out,
        "change failure rate: {}{}",
        percent(deploys.change_failure_rate),
        deploys
            .change_failure_bucket
            .map(|bucket| format!(" — four keys: {bucket}"))
            .unwrap_or_default()
    );
    for lane in &stats.lanes {
        let path: Vec<&str> = lane
            .critical_path
            .gates
            .iter()
            .map(fixlane_core::GateName::as_str)
            .collect();
        let _ = writeln!(
            out,
            "lane {}: last run {} wall, critical path {} ({}); with -j{} about {}",
            lane.lane,
            crate::report::lines::seconds(lane.wall_ms),
            crate::report::lines::seconds(lane.critical_path.total_ms),
            if path.is_empty() {
                "no gate ran".to_owned()
            } else {
                path.join(" → ")
            },
            lane.cores,
            crate::report::lines::seconds(lane.with_cores_ms)
        );
    }
    match stats.last_exercised {
        Some(at) => {
            let _ = writeln!(
                out,
                "last exercised: {} ({} ago)",
                records::human_time(at, config),
                records::clock(stats.now.as_second() - at.as_second())
            );
        }
        None => out.push_str("last exercised: never\n"),
    }
    if let Some(drill) = &stats.last_drill {
        let _ = writeln!(
            out,
            "last drill:   {}{}, {}",
            records::human_time(drill.at, config),
            if drill.regression {
                " (a regression rehearsed)"
            } else {
                ""
            },
            if drill.passed {
                "went as scripted"
            } else {
                "did not go as scripted: run `fixlane drill` again and fix what it found"
            }
        );
    }
    if stats.stale {
        let _ = writeln!(
            out,
            "warning: the emergency lane has not been exercised in {} days; run a game day before the next real incident needs it",
            stats::STALE_AFTER_DAYS
        );
    }
    out
}

pub fn stats(context: &Context, arguments: &StatsArgs) -> CommandResult {
    let config = context.load_config()?;
    let now = records::moment(arguments.at.as_deref())?;
    let window = Duration::parse(&arguments.since)
        .map_err(|error| Failure::error(anyhow::anyhow!("--since: {error}")))?;
    let cores = fixlane_app::stats::cores();
    // In client mode the figures are the team's record's, computed by the server.
    let (figures, json) = if let Some(client) = Client::from_env(context)? {
        let json = settings::runtime()?.block_on(client.stats(&arguments.since, now, cores))?;
        let figures: Stats = serde_json::from_str(&json).map_err(|error| {
            Failure::error(anyhow::anyhow!(
                "the server at {} sent figures this fixlane does not read ({error}): is it the \
                 same version?",
                client.url()
            ))
        })?;
        (figures, Some(json))
    } else {
        let figures = settings::runtime()?.block_on(async {
            let store = context.open_store_read_only().await?;
            App::new(&store, &config)
                .stats(window, now, cores)
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        (figures, None)
    };
    if arguments.json {
        // The server's text is what `stats --json` prints from its store, byte for byte.
        match json {
            Some(json) => println!("{json}"),
            None => println!("{}", serde_json::to_string_pretty(&figures)?),
        }
    } else {
        print!("{}", render(&figures, &config, window));
    }
    Ok(ExitCode::Success)
}
