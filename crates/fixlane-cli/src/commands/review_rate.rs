//! `fixlane review-rate`: the team review the rate limit asks for before one more emergency.

use fixlane_app::App;

use crate::cli::ReviewRateArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode};
use crate::records;
use crate::settings::{self, Context};

pub fn review_rate(context: &Context, arguments: &ReviewRateArgs) -> CommandResult {
    let person = if let Some(client) = Client::from_env(context)? {
        settings::runtime()?
            .block_on(client.review_rate(&arguments.notes))?
            .body
            .by
    } else {
        let config = context.load_config()?;
        let person = records::person(context, &config, "recording a rate review")?;
        settings::runtime()?.block_on(async {
            let store = context.open_store().await?;
            App::new(&store, &config)
                .review_rate(&person, &arguments.notes)
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        person.to_string()
    };
    println!(
        "rate review recorded by {}: the next emergency may be declared",
        fixlane_core::text::for_terminal(&person)
    );
    Ok(ExitCode::Success)
}
