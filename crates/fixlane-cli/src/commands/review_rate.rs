//! `fixlane review-rate`: the team review the rate limit asks for before one more emergency.

use fixlane_app::App;

use crate::cli::ReviewRateArgs;
use crate::exit::{CommandResult, ExitCode};
use crate::records;
use crate::settings::{self, Context};

pub fn review_rate(context: &Context, arguments: &ReviewRateArgs) -> CommandResult {
    let config = context.load_config()?;
    let person = records::person(context, &config, "recording a rate review")?;
    settings::runtime()?.block_on(async {
        let store = context.open_store().await?;
        App::new(&store, &config)
            .review_rate(&person, &arguments.notes)
            .await
            .map_err(|error| records::app_failure(error, context))
    })?;
    println!("rate review recorded by {person}: the next emergency may be declared");
    Ok(ExitCode::Success)
}
