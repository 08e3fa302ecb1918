//! `fixlane stats`: the data behind "make the normal pipeline faster instead" — emergencies per
//! week and per author against the limits, follow-ups paid on time, recovery time, and the
//! deploys' rework and change failure rates with their four-keys buckets.

use std::fmt::Write as _;

use fixlane_core::Duration;
use fixlane_core::critical_path::TimedGate;
use fixlane_core::stats::{self, CanaryRun, LaneRun, LastDrill, Stats, StatsInput};
use fixlane_core::text::for_terminal as shown;
use fixlane_store::{RunRecord, Store};

use crate::cli::StatsArgs;
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

/// A recorded run as its lane's figures need it: its gates that ran, in plan order, with their
/// needs and durations. `None` when its plan cannot be read.
fn lane_run(run: &RunRecord) -> Option<LaneRun> {
    let plan = fixlane_app::runs::stored_plan(run).ok()?;
    let gates = plan
        .gates
        .iter()
        .filter_map(|gate| {
            let recorded = run.gates.iter().find(|record| record.gate == gate.name)?;
            Some(TimedGate {
                name: gate.name.clone(),
                needs: gate.needs.clone(),
                duration_ms: u64::try_from(recorded.duration_ms?).ok()?,
            })
        })
        .collect();
    let wall_ms = run
        .finished_at?
        .duration_since(run.started_at)
        .as_millis()
        .try_into()
        .ok()?;
    Some(LaneRun {
        lane: run.lane.clone(),
        wall_ms,
        gates,
    })
}

pub fn stats(context: &Context, arguments: &StatsArgs) -> CommandResult {
    let config = context.load_config()?;
    let now = records::moment(arguments.at.as_deref())?;
    let window = Duration::parse(&arguments.since)
        .map_err(|error| Failure::error(anyhow::anyhow!("--since: {error}")))?;
    let since = now
        .checked_sub(jiff::SignedDuration::from_secs(
            i64::try_from(window.as_seconds()).unwrap_or(i64::MAX),
        ))
        .unwrap_or(jiff::Timestamp::MIN);
    let (emergencies, followups, canaries, lanes, last_drill) =
        settings::runtime()?.block_on(async {
            let store = context.open_store_read_only().await?;
            let emergencies = fixlane_app::records::for_stats(&store)
                .await
                .map_err(|error| records::app_failure(error, context))?;
            let followups = store.followup_clocks().await?;
            let canaries: Vec<CanaryRun> = store
                .canaries_since(since)
                .await?
                .into_iter()
                .map(|canary| CanaryRun {
                    incident: canary.incident,
                    profile: canary.profile,
                    outcome: canary.outcome,
                    started_at: canary.started_at,
                })
                .collect();
            let mut lanes = Vec::new();
            for lane in config.lane_names() {
                if let Some(run) = store.latest_finished_run(lane.as_str()).await? {
                    lanes.extend(lane_run(&run));
                }
            }
            let last_drill = store.latest_drill().await?.map(|drill| LastDrill {
                at: drill.finished_at,
                passed: drill.passed,
                regression: drill.regression,
            });
            Ok::<_, Failure>((emergencies, followups, canaries, lanes, last_drill))
        })?;
    let figures = stats::compute(StatsInput {
        config: &config,
        emergencies: &emergencies,
        followups: &followups,
        canaries: &canaries,
        lanes: &lanes,
        last_drill,
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        since,
        now,
    });
    if arguments.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        print!("{}", render(&figures, &config, window));
    }
    Ok(ExitCode::Success)
}
