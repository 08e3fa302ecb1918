//! `fixlane approve`: one named authority's approval, checked against the category's groups;
//! the change becomes `approved` when every group is satisfied.

use fixlane_core::emergency::policy;
use fixlane_core::text::for_terminal as shown;
use fixlane_store::Store;
use jiff::Timestamp;

use crate::cli::ApproveArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn approve(context: &Context, arguments: &ApproveArgs) -> CommandResult {
    let config = context.load_config()?;
    let id = records::incident(&arguments.id)?;
    let person = records::person(context, &config, &format!("approving {id}"))?;
    let now = Timestamp::now();
    let emergency = settings::runtime()?.block_on(async {
        let store = context.open_store().await?;
        let updated = store
            .update_emergency(person.as_str(), &id, "approve", |row| {
                let mut emergency = records::from_row(&row)?;
                let approval =
                    policy::approve(&config, &emergency, &person, arguments.role.as_deref(), now)?;
                let details = serde_json::json!({
                    "id": emergency.id,
                    "person": approval.person,
                    "role": approval.role,
                    "group": approval.group,
                });
                policy::apply_approval(&config, &mut emergency, approval)?;
                let details = serde_json::json!({
                    "approval": details,
                    "state": emergency.state.as_str(),
                });
                anyhow::Ok((records::to_row(&emergency, now)?, details))
            })
            .await?;
        match updated {
            None => Err(Failure::error(anyhow::anyhow!(
                "there is no emergency {id}; `fixlane list` shows the active ones"
            ))),
            Some(result) => {
                let (row, _) = result.map_err(|error| records::failure(error, context))?;
                records::from_row(&row).map_err(Failure::error)
            }
        }
    })?;
    let missing = policy::missing_groups(&config, &emergency);
    if missing.is_empty() {
        println!(
            "{id} approved by {person}: every approver group is satisfied; the change is approved"
        );
        if !emergency.is_bypassed(fixlane_core::config::model::BypassElement::Eval) {
            println!(
                "next: record what the hotfix lane skips: fixlane bypass {id} eval --reason \"…\" --compensation \"…\""
            );
        }
    } else {
        println!(
            "{id} approved by {person}; still needs: {}",
            shown(
                &missing
                    .iter()
                    .map(|group| group.join(" or "))
                    .collect::<Vec<_>>()
                    .join(", and ")
            )
        );
    }
    Ok(ExitCode::Success)
}
