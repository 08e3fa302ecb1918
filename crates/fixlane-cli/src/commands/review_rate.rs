//! `fixlane review-rate`: the team review the rate limit asks for before one more emergency.

use fixlane_core::emergency::policy;
use fixlane_store::Store;

use crate::cli::ReviewRateArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn review_rate(context: &Context, arguments: &ReviewRateArgs) -> CommandResult {
    let config = context.load_config()?;
    let person = records::person(context, &config, "recording a rate review")?;
    policy::review_rate(&config, &person)
        .map_err(|refusal| records::failure(refusal.into(), context))?;
    if arguments.notes.trim().is_empty() {
        return Err(Failure::error(anyhow::anyhow!(
            "--notes is empty: write what the team concluded about the emergency rate"
        )));
    }
    settings::runtime()?.block_on(async {
        let store = context.open_store().await?;
        store
            .record_rate_review(person.as_str(), &arguments.notes)
            .await?;
        Ok::<(), Failure>(())
    })?;
    println!("rate review recorded by {person}: the next emergency may be declared");
    Ok(ExitCode::Success)
}
