//! `fixlane postmortem`: the Markdown draft of an emergency's postmortem, written from its
//! record and its canaries, for the team to finish within the deadline.

use fixlane_core::emergency::postmortem::{self, CanaryRun};
use fixlane_store::Store;
use jiff::Timestamp;

use crate::cli::PostmortemArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn postmortem(context: &Context, arguments: &PostmortemArgs) -> CommandResult {
    // The zone the team reads times in; without a config, UTC.
    let config = context.load_config().ok();
    let id = records::incident(&arguments.id)?;
    let path = arguments
        .output
        .clone()
        .unwrap_or_else(|| context.root().join(format!("postmortem-{id}.md")));
    if path.exists() && !arguments.force {
        return Err(Failure::error(anyhow::anyhow!(
            "{} exists and may hold the team's edits; nothing was written (pass --force to replace it, or -o FILE)",
            path.display()
        )));
    }
    let (emergency, canaries) = settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        let emergency = records::load(&store, &id, context).await?;
        let canaries: Vec<CanaryRun> = store
            .canaries_of(&id)
            .await?
            .into_iter()
            .rev()
            .map(|canary| CanaryRun {
                id: canary.id,
                profile: canary.profile,
                rev: canary.rev,
                started_at: canary.started_at,
                outcome: canary.outcome,
            })
            .collect();
        Ok::<_, Failure>((emergency, canaries))
    })?;
    let when = |at: Timestamp| match &config {
        Some(config) => records::human_time(at, config),
        None => at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    };
    let text = postmortem::draft(&emergency, &canaries, Timestamp::now(), &when);
    std::fs::write(&path, text)
        .map_err(|error| anyhow::anyhow!("could not write {}: {error}", path.display()))?;
    println!("wrote the postmortem draft of {id} to {}", path.display());
    Ok(ExitCode::Success)
}
