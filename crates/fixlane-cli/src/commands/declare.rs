//! `fixlane declare`: the emergency record, admitted only past pre-flight, eligibility and the
//! rate limit; prints the branch to use and what approvals it still needs.

use fixlane_app::{App, DeclareInput};
use fixlane_core::emergency::policy;
use fixlane_core::text::for_terminal as shown;
use fixlane_runner::git::Repository;

use crate::cli::DeclareArgs;
use crate::client::{self, Client};
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn declare(context: &Context, arguments: &DeclareArgs) -> CommandResult {
    let input = DeclareInput {
        id: arguments.id.clone(),
        severity: arguments.severity.clone(),
        category: arguments.category.clone(),
        title: arguments.title.clone(),
        cleanup_owner: arguments.cleanup_owner.clone(),
        eta: arguments.eta.clone(),
        flag_flip: arguments.flag_flip.clone(),
        rollback: arguments.rollback.clone(),
        any_date: arguments.any_date,
    };
    // The approvals still missing, judged by the policy that admitted the declaration.
    let (declared, missing, client_mode) = if let Some(client) = Client::from_env(context)? {
        client::refuse_at(arguments.at.as_deref(), "declare")?;
        let reply = settings::runtime()?.block_on(client.declare(&input))?;
        (reply.body.emergency, reply.body.missing, true)
    } else {
        let config = context.load_config()?;
        let author = records::person(context, &config, "declaring an emergency")?;
        let at = arguments
            .at
            .as_deref()
            .map(|at| records::moment(Some(at)))
            .transpose()?;
        let declared = settings::runtime()?.block_on(async {
            let store = context.open_store().await?;
            App::new(&store, &config)
                .declare(&author, input, at)
                .await
                .map_err(|error| records::app_failure(error, context))
        })?;
        let missing = policy::missing_groups(&config, &declared);
        (declared, missing, false)
    };

    if arguments.json {
        println!("{}", serde_json::to_string_pretty(&declared)?);
    } else {
        println!(
            "declared {} ({} {}) by {}: {}",
            declared.id,
            shown(&declared.severity),
            shown(&declared.category),
            declared.author,
            shown(&declared.title)
        );
        println!("branch:  {}", shown(&declared.branch));
        for warning in &declared.warnings {
            eprintln!("warning: {}", shown(warning));
        }
        if !missing.is_empty() {
            println!(
                "needs approval from: {}",
                shown(
                    &missing
                        .iter()
                        .map(|group| group.join(" or "))
                        .collect::<Vec<_>>()
                        .join(", and ")
                )
            );
            if client_mode {
                // Through the server each approver acts with their own token.
                println!(
                    "next:    fixlane approve {} (by each approver)",
                    declared.id
                );
            } else {
                println!("next:    fixlane approve {} --as <approver>", declared.id);
            }
        }
    }
    if arguments.branch {
        context.repo.create_branch(&declared.branch).map_err(|error| {
            Failure::error(anyhow::anyhow!(
                "{error}\nthe emergency is declared; create the branch by hand: git switch -c {}",
                declared.branch
            ))
        })?;
        eprintln!("switched to the new branch {}", declared.branch);
    }
    Ok(ExitCode::Success)
}
