//! `fixlane check-commit`: the hotfix commit carries its incident and approver, stays small, and
//! keeps to one concern (seed 001's commit discipline).

use fixlane_core::emergency::commit::{self, CommitInput, Level};
use fixlane_core::lane::{self, LaneInputs};
use fixlane_runner::git::Repository;

use crate::cli::CheckCommitArgs;
use crate::exit::{self, CommandResult, Failure};
use crate::records;
use crate::settings::{self, Context};

pub fn check_commit(context: &Context, arguments: &CheckCommitArgs) -> CommandResult {
    let config = context.load_config()?;
    let repo = &context.repo;
    let rev = repo.resolve(arguments.rev.as_deref().unwrap_or("HEAD"))?;
    let branch = repo.current_branch()?;
    let emergency = settings::runtime()?.block_on(async {
        let store = context.open_store().await?;
        match (&arguments.incident, &branch) {
            (Some(id), _) => records::load(&store, &records::incident(id)?)
                .await
                .map(Some),
            (None, Some(branch)) => records::for_branch(&store, branch).await,
            (None, None) => Ok(None),
        }
    })?;
    let Some(emergency) = emergency else {
        return Err(Failure::error(anyhow::anyhow!(
            "no emergency matches {}; check-commit checks hotfix commits: run it on a hotfix/<ID>-… branch or pass --incident ID",
            branch.as_deref().unwrap_or("this detached HEAD")
        )));
    };
    let choice = lane::choose(
        &config,
        &LaneInputs {
            explicit: None,
            labels: &[],
            branch: Some(emergency.branch.as_str()),
        },
    )?;
    let max_diff_lines = config
        .lane(&choice.lane)
        .and_then(|lane| lane.max_diff_lines);
    let parent = repo.resolve(&format!("{rev}~1")).map_err(|error| {
        Failure::error(anyhow::anyhow!(
            "{error}\nthe commit has no parent to compare with (a root commit, or a shallow clone: fetch one more commit)"
        ))
    })?;
    let changes = repo.numstat(&parent, &rev)?;
    let lines_changed = changes
        .iter()
        .map(|change| change.added.unwrap_or(0) + change.removed.unwrap_or(0))
        .sum();
    let files: Vec<String> = changes.iter().map(|change| change.path.clone()).collect();
    let packages = fixlane_runner::packages::changed_packages(context.root(), &files);
    let approvers = emergency
        .approvals
        .iter()
        .map(|approval| {
            let email = config
                .people
                .get(&approval.person)
                .and_then(|person| person.email.clone());
            (approval.person.clone(), email)
        })
        .collect();
    let findings = commit::check_commit(&CommitInput {
        message: repo.commit_message(&rev)?,
        incident: emergency.id.clone(),
        approvers,
        lines_changed,
        max_diff_lines,
        packages,
        strict: arguments.strict,
    });
    let short = rev.get(..12).unwrap_or(&rev);
    let mut errors = 0;
    for finding in &findings {
        match finding.level {
            Level::Error => {
                errors += 1;
                eprintln!(
                    "error: {} ({})",
                    fixlane_core::text::for_terminal(&finding.message),
                    finding.rule
                );
            }
            Level::Warning => eprintln!(
                "warning: {} ({})",
                fixlane_core::text::for_terminal(&finding.message),
                finding.rule
            ),
        }
    }
    if errors > 0 {
        return Err(Failure::failed(anyhow::anyhow!(
            "commit {short} fails {errors} hotfix rule{} for {}",
            if errors == 1 { "" } else { "s" },
            emergency.id
        )));
    }
    println!(
        "commit {short} passes the hotfix rules for {} ({lines_changed} lines changed{})",
        emergency.id,
        if findings.is_empty() {
            ""
        } else {
            ", with warnings"
        }
    );
    Ok(exit::SUCCESS)
}
