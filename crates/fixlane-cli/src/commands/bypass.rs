//! `fixlane bypass`: one discipline element bypassed, within the category's scope, with a
//! specific reason and the compensation in place (seed 000's bypass table).

use fixlane_app::{App, BypassInput};
use fixlane_core::config::model::BypassElement;
use fixlane_core::text::for_terminal as shown;
use jiff::Timestamp;

use crate::cli::BypassArgs;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

fn element(text: &str) -> Result<BypassElement, Failure> {
    BypassElement::ALL
        .into_iter()
        .find(|element| element.as_str() == text)
        .ok_or_else(|| {
            Failure::error(anyhow::anyhow!(
                "`{text}` is not a bypassable element; the elements are eval, canary, window and freeze"
            ))
        })
}

pub fn bypass(context: &Context, arguments: &BypassArgs) -> CommandResult {
    let id = records::incident(&arguments.id)?;
    let element = element(&arguments.element)?;
    let reason = arguments.reason.clone().unwrap_or_default();
    let compensation = arguments.compensation.clone().unwrap_or_default();
    let person = if let Some(client) = Client::from_env(context)? {
        settings::runtime()?
            .block_on(client.bypass(&id, element, &reason, &compensation))?
            .actor
    } else {
        let config = context.load_config()?;
        let person = records::person(context, &config, &format!("bypassing {element:?} for {id}"))?;
        let now = Timestamp::now();
        settings::runtime()?.block_on(async {
            let store = context.open_store().await?;
            let input = BypassInput {
                element,
                reason: reason.clone(),
                compensation: compensation.clone(),
            };
            App::new(&store, &config)
                .bypass(&person, &id, input, now)
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        person.to_string()
    };
    println!("{id}: {} bypassed by {}", element.as_str(), shown(&person));
    println!("  reason:       {}", shown(&reason));
    println!("  compensation: {}", shown(&compensation));
    Ok(ExitCode::Success)
}
