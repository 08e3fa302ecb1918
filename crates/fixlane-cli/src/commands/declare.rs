//! `fixlane declare`: the emergency record, admitted only past pre-flight, eligibility and the
//! rate limit; prints the branch to use and what approvals it still needs.

use fixlane_core::emergency::policy::{self, DeclarationHistory, DeclareRequest, PastDeclaration};
use fixlane_core::text::for_terminal as shown;
use fixlane_runner::git::Repository;
use fixlane_store::Store;
use jiff::{Timestamp, ToSpan};

use crate::cli::DeclareArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn declare(context: &Context, arguments: &DeclareArgs) -> CommandResult {
    let config = context.load_config()?;
    let author = records::person(context, &config, "declaring an emergency")?;
    // The history the rate limits look at: the longer of their two windows, and a day more for
    // a clock stepped back between this reading and the store's (reading more is harmless).
    let window_seconds = [config.emergency.rate_limit, config.emergency.author_limit]
        .iter()
        .flatten()
        .map(|limit| limit.within.as_seconds())
        .max()
        .unwrap_or(0);
    let since = Timestamp::now()
        .checked_sub(i64::try_from(window_seconds).unwrap_or(i64::MAX).seconds())
        .and_then(|since| since.checked_sub(24.hours()))
        .unwrap_or(Timestamp::MIN);
    let declared = settings::runtime()?.block_on(async {
        let store = context.open_store().await?;
        let decided = store
            // `now` is read by the store under its write lock: deciding on a clock read before
            // it would let a declaration that committed first with a later stamp go uncounted.
            .declare_emergency(author.as_str(), since, |now, past, review| {
                let history = DeclarationHistory {
                    declarations: past
                        .iter()
                        .map(|declaration| PastDeclaration {
                            id: declaration.id.to_string(),
                            author: declaration.author.clone(),
                            declared_at: declaration.declared_at,
                            drill: declaration.drill,
                        })
                        .collect(),
                    last_rate_review: review.map(|review| review.at),
                };
                let request = DeclareRequest {
                    id: arguments.id.clone(),
                    severity: arguments.severity.clone(),
                    category: arguments.category.clone(),
                    title: arguments.title.clone(),
                    author: author.clone(),
                    cleanup_owner: arguments.cleanup_owner.clone(),
                    eta: arguments.eta.clone(),
                    flag_flip: arguments.flag_flip.clone(),
                    rollback: arguments.rollback.clone(),
                    drill: false,
                    any_date: arguments.any_date,
                    now,
                };
                let declared = policy::declare(&config, &request, &history)?;
                let details = serde_json::json!({
                    "id": declared.emergency.id,
                    "severity": declared.emergency.severity,
                    "category": declared.emergency.category,
                    "title": declared.emergency.title,
                    "cleanup_owner": declared.emergency.cleanup_owner,
                    "eta": declared.emergency.eta,
                    "flag_flip": declared.emergency.flag_flip,
                    "rollback": declared.emergency.rollback,
                    "branch": declared.emergency.branch,
                    "warnings": declared.warnings,
                });
                let row = records::to_row(&declared.emergency, now)?;
                anyhow::Ok((row, details))
            })
            .await?;
        let (row, _) = decided.map_err(|error| records::failure(error, context))?;
        records::from_row(&row).map_err(Failure::error)
    })?;

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
        let missing = policy::missing_groups(&config, &declared);
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
            println!("next:    fixlane approve {} --as <approver>", declared.id);
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
