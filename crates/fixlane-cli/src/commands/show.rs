//! `fixlane show`: an emergency's record, what it still lacks, and its timeline.

use std::fmt::Write as _;

use fixlane_core::Config;
use fixlane_core::emergency::{Emergency, policy};
use fixlane_core::followup::FollowUp;
use fixlane_core::text::for_terminal as shown;
use fixlane_store::Store;
use jiff::Timestamp;

use crate::cli::ShowArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode};
use crate::records;
use crate::settings::{self, Context};

/// The record for people: who, why, what is missing, what was bypassed, what is owed, when.
///
/// Every typed value goes through `shown`: one line each, whatever was typed, so a title
/// cannot forge the `state:` line under it.
/// `missing` is each approver group still unsatisfied, as the policy that judges the record
/// (the local config's, or the team server's) finds it; `config` gives only the time zone.
pub fn render(
    config: &Config,
    emergency: &Emergency,
    followups: &[FollowUp],
    missing: &[Vec<String>],
    now: Timestamp,
) -> String {
    let mut out = String::new();
    let since = now.duration_since(emergency.declared_at).as_secs();
    let _ = writeln!(
        out,
        "{} — {} ({} {}){}",
        emergency.id,
        shown(&emergency.title),
        shown(&emergency.severity),
        shown(&emergency.category),
        if emergency.drill { " [drill]" } else { "" }
    );
    let _ = writeln!(out, "state:          {}", emergency.state.as_str());
    let _ = writeln!(
        out,
        "declared:       {} by {} ({} ago)",
        records::human_time(emergency.declared_at, config),
        shown(emergency.author.as_str()),
        records::clock(since)
    );
    let _ = writeln!(
        out,
        "cleanup owner:  {}",
        shown(emergency.cleanup_owner.as_str())
    );
    if let Some(eta) = &emergency.eta {
        let _ = writeln!(out, "merge ETA:      {}", shown(eta));
    }
    let _ = writeln!(out, "branch:         {}", shown(&emergency.branch));
    let _ = writeln!(
        out,
        "flag flip:      not enough because {}",
        shown(&emergency.flag_flip)
    );
    let _ = writeln!(
        out,
        "rollback:       not enough because {}",
        shown(&emergency.rollback)
    );
    out.push_str("approvals:\n");
    for approval in &emergency.approvals {
        let _ = writeln!(
            out,
            "  ✓ {} as {} at {}",
            shown(approval.person.as_str()),
            shown(&approval.role),
            records::human_time(approval.at, config)
        );
    }
    for group in missing {
        let _ = writeln!(out, "  ✗ missing: one of {}", shown(&group.join(", ")));
    }
    if emergency.bypasses.is_empty() {
        out.push_str("bypasses:       none recorded\n");
    } else {
        out.push_str("bypasses:\n");
        for bypass in &emergency.bypasses {
            let _ = writeln!(
                out,
                "  {} by {}: {} — compensation: {}",
                bypass.element.as_str(),
                shown(bypass.by.as_str()),
                shown(&bypass.reason),
                shown(&bypass.compensation)
            );
        }
    }
    if !emergency.owed_gates.is_empty() {
        out.push_str("owed gates (skipped by the lane, to backfill):\n");
        for owed in &emergency.owed_gates {
            let _ = writeln!(
                out,
                "  {} ({}) skipped by lane {} on {}",
                owed.gate,
                owed.tier.as_str(),
                owed.lane,
                shown(fixlane_core::rev::short(&owed.rev))
            );
        }
    }
    if !followups.is_empty() {
        out.push_str("follow-ups:\n");
        for followup in followups {
            let _ = match (&followup.closed_at, &followup.closed_by) {
                (Some(at), by) => writeln!(
                    out,
                    "  ✓ {:<13} closed by {} at {}",
                    followup.kind.as_str(),
                    shown(by.as_ref().map_or("?", |by| by.as_str())),
                    records::human_time(*at, config)
                ),
                (None, _) => writeln!(
                    out,
                    "  {} {:<13} owner {}, due {} ({})",
                    if followup.is_overdue(now) { "!" } else { "✗" },
                    followup.kind.as_str(),
                    shown(followup.owner.as_str()),
                    records::human_time(followup.due_at, config),
                    if followup.is_overdue(now) {
                        format!(
                            "overdue by {}",
                            records::clock(now.as_second() - followup.due_at.as_second())
                        )
                    } else {
                        records::until(followup.due_at, now)
                    }
                ),
            };
        }
    }
    for warning in &emergency.warnings {
        let _ = writeln!(out, "warning:        {}", shown(warning));
    }
    out.push_str("timeline:\n");
    for transition in &emergency.timeline {
        let _ = writeln!(
            out,
            "  {}  {:<12} by {}{}",
            records::human_time(transition.at, config),
            transition.state.as_str(),
            shown(&transition.by),
            transition
                .note
                .as_ref()
                .map(|note| format!(" — {}", shown(note)))
                .unwrap_or_default()
        );
    }
    out
}

pub fn show(context: &Context, arguments: &ShowArgs) -> CommandResult {
    let config = context.load_config()?;
    let id = records::incident(&arguments.id)?;
    if let Some(client) = Client::from_env(context)? {
        let detail = settings::runtime()?.block_on(client.show(&id))?.body;
        if arguments.json {
            println!("{}", serde_json::to_string_pretty(&detail.json)?);
        } else {
            print!(
                "{}",
                render(
                    &config,
                    &detail.emergency,
                    &detail.followups,
                    &detail.missing,
                    Timestamp::now()
                )
            );
        }
        return Ok(ExitCode::Success);
    }
    let (emergency, followups) = settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        let emergency = records::load(&store, &id, context).await?;
        let followups = store.followups(&id).await?;
        Ok::<_, crate::exit::Failure>((emergency, followups))
    })?;
    if arguments.json {
        let value = fixlane_app::views::detail(&config, &emergency, &followups)
            .map_err(|error| records::app_failure(error, context))?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        let missing = policy::missing_groups(&config, &emergency);
        print!(
            "{}",
            render(&config, &emergency, &followups, &missing, Timestamp::now())
        );
    }
    Ok(ExitCode::Success)
}
