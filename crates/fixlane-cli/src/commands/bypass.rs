//! `fixlane bypass`: one discipline element bypassed, within the category's scope, with a
//! specific reason and the compensation in place (seed 000's bypass table).

use fixlane_core::config::model::BypassElement;
use fixlane_core::emergency::policy;
use fixlane_core::text::for_terminal as shown;
use fixlane_store::Store;
use jiff::Timestamp;

use crate::cli::BypassArgs;
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
    let config = context.load_config()?;
    let id = records::incident(&arguments.id)?;
    let element = element(&arguments.element)?;
    let person = records::person(context, &config, &format!("bypassing {element:?} for {id}"))?;
    let now = Timestamp::now();
    let reason = arguments.reason.clone().unwrap_or_default();
    let compensation = arguments.compensation.clone().unwrap_or_default();
    settings::runtime()?.block_on(async {
        let store = context.open_store().await?;
        let updated = store
            .update_emergency(person.as_str(), &id, "bypass", |row| {
                let mut emergency = records::from_row(&row)?;
                let bypass = policy::bypass(
                    &config,
                    &emergency,
                    element,
                    &reason,
                    &compensation,
                    &person,
                    now,
                )?;
                let details = serde_json::json!({
                    "id": emergency.id,
                    "element": bypass.element,
                    "reason": bypass.reason,
                    "compensation": bypass.compensation,
                    "by": bypass.by,
                });
                emergency.bypasses.push(bypass);
                anyhow::Ok((records::to_row(&emergency, now)?, details))
            })
            .await?;
        match updated {
            None => Err(Failure::error(anyhow::anyhow!(
                "there is no emergency {id}; `fixlane list` shows the active ones"
            ))),
            Some(result) => result
                .map(|_| ())
                .map_err(|error| records::failure(error, context)),
        }
    })?;
    println!("{id}: {} bypassed by {person}", element.as_str());
    println!("  reason:       {}", shown(&reason));
    println!("  compensation: {}", shown(&compensation));
    Ok(ExitCode::Success)
}
