//! `fixlane notify deliver|status`, and the delivery every recording command ends with: the
//! store's outbox drained to `[[notify.webhooks]]` after the action committed, within a few
//! seconds, so a slow or failing receiver never blocks or undoes the action (what is left
//! waits for the next command, `fixlane notify deliver`, or a server replica).

use std::fmt::Write as _;
use std::time::Duration;

use fixlane_notify::{DrainOptions, Drained};
use fixlane_store::Store;

use crate::cli::NotifyCommand;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn notify(context: &Context, command: &NotifyCommand) -> CommandResult {
    match command {
        NotifyCommand::Deliver { at } => {
            let config = context.load_config()?;
            let now = records::moment(at.as_deref())?;
            if config.notify.webhooks.is_empty() {
                println!(
                    "no webhooks are configured: add `[[notify.webhooks]]` to {}",
                    context.config_display()
                );
                return Ok(ExitCode::Success);
            }
            let drained = settings::runtime()?.block_on(async {
                let store = context.open_store().await?;
                let mut options = DrainOptions::new(fixlane_app::followups::zone(&config));
                options.now = now;
                options.budget = Duration::from_mins(1);
                fixlane_notify::drain(&store, &config, &options)
                    .await
                    .map_err(|error| Failure::error(anyhow::anyhow!("{error}")))
            })?;
            print!("{}", summary(&drained));
            Ok(if drained.problems.is_empty() {
                ExitCode::Success
            } else {
                ExitCode::Failed
            })
        }
        NotifyCommand::Status { json } => {
            let status = settings::runtime()?.block_on(async {
                let store = context.open_store_read_only().await?;
                Ok::<_, Failure>(store.delivery_status().await?)
            })?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&status)?);
                return Ok(ExitCode::Success);
            }
            if status.is_empty() {
                println!("no webhook deliveries yet");
            }
            for hook in &status {
                let mut line = format!(
                    "{}: {} delivered, {} pending ({} retrying), {} given up",
                    hook.hook, hook.delivered, hook.pending, hook.retrying, hook.failed
                );
                if let Some(error) = &hook.last_error {
                    let _ = write!(
                        line,
                        "; last error: {}",
                        fixlane_core::text::for_terminal(error)
                    );
                }
                println!("{line}");
            }
            Ok(ExitCode::Success)
        }
    }
}

/// What a drain did, in a line or two.
fn summary(drained: &Drained) -> String {
    let mut out = format!(
        "webhooks: {} delivered, {} not for their hook, {} to retry, {} given up",
        drained.delivered, drained.skipped, drained.retrying, drained.gave_up
    );
    if drained.overdue_noted > 0 {
        let _ = write!(
            out,
            "; {} newly overdue",
            fixlane_core::plural::count(
                usize::try_from(drained.overdue_noted).unwrap_or(usize::MAX),
                "follow-up",
                "follow-ups"
            )
        );
    }
    out.push('\n');
    for problem in &drained.problems {
        let _ = writeln!(out, "  {}", fixlane_core::text::for_terminal(problem));
    }
    out
}

/// The delivery a recording command ends with: quiet when it all went out, one warning per
/// problem otherwise. Never changes the command's result; without webhooks it costs nothing
/// after a command that read the config, and one read of it otherwise.
pub fn after_command(context: &Context) {
    // The config the command read says there is nothing to deliver: a run of a thousand gates
    // does not parse it a second time to learn that.
    if context.read_a_config_without_webhooks() {
        return;
    }
    let Ok(config) = context.load_config() else {
        return;
    };
    if config.notify.webhooks.is_empty() {
        return;
    }
    let Ok(runtime) = settings::runtime() else {
        return;
    };
    let drained = runtime.block_on(async {
        let store = context.open_store().await.ok()?;
        let options = DrainOptions::new(fixlane_app::followups::zone(&config));
        fixlane_notify::drain(&store, &config, &options).await.ok()
    });
    match drained {
        Some(drained) => {
            for problem in &drained.problems {
                eprintln!("warning: {}", fixlane_core::text::for_terminal(problem));
            }
        }
        None => eprintln!(
            "warning: the webhooks could not be delivered now; `fixlane notify deliver` tries again"
        ),
    }
}
