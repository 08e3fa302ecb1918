//! `fixlane check-commit`: the hotfix commit carries its incident and approver, stays small, and
//! keeps to one concern (seed 001's commit discipline).

use fixlane_core::emergency::commit::{self, CommitInput, Level};
use fixlane_core::lane::{self, LaneInputs};
use fixlane_runner::git::Repository;

use crate::cli::CheckCommitArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::settings::{self, Context};
use fixlane_core::plural;

use crate::{policy, records};

pub fn check_commit(context: &Context, arguments: &CheckCommitArgs) -> CommandResult {
    let repo = &context.repo;
    let rev = repo.resolve(arguments.rev.as_deref().unwrap_or("HEAD"))?;
    // A hotfix commit is judged by the policy committed at its base, never by its own.
    let (config, base) = policy::for_emergency_action(context, &rev, "checking the hotfix commit")?;
    let branch = repo.current_branch()?;
    let emergency = settings::runtime()?.block_on(async {
        let store = context.open_store().await?;
        match (&arguments.incident, &branch) {
            (Some(id), _) => records::load(&store, &records::incident(id)?, context)
                .await
                .map(Some),
            (None, Some(branch)) => records::for_branch(&store, branch, context).await,
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
    let lane_name = choice.lane.clone();
    let policy_errors = match &base {
        Some(base) => fixlane_core::policy_change::emergency_refusals(
            &config,
            &lane_name,
            &policy::config_in_repo(context).unwrap_or_default(),
            &repo.changed_files(base, &rev)?,
        ),
        None => Vec::new(),
    };
    let findings = commit::check_commit(&CommitInput {
        message: repo.commit_message(&rev)?,
        incident: emergency.id.clone(),
        approvers,
        lines_changed,
        max_diff_lines,
        packages,
        strict: arguments.strict,
    });
    let short = fixlane_core::rev::short(&rev);
    let mut errors = 0;
    for refusal in &policy_errors {
        errors += 1;
        eprintln!("error: {refusal} (policy from the base commit)");
    }
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
            "commit {short} fails {} for {}",
            plural::count(errors, "hotfix rule", "hotfix rules"),
            emergency.id
        )));
    }
    println!(
        "commit {short} passes the hotfix rules for {} ({} changed{})",
        emergency.id,
        plural::count(lines_changed, "line", "lines"),
        if findings.is_empty() {
            ""
        } else {
            ", with warnings"
        }
    );
    Ok(ExitCode::Success)
}
