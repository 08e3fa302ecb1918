//! `fixlane export github-actions`: the CI workflow generated from `fixlane.toml`, and a check
//! that the committed one still matches it.
//!
//! fixlane is on no registry, so the workflow builds it with cargo: from the checkout in
//! fixlane's own repository, and elsewhere from the git repository the organization keeps it
//! in (the repository variable `FIXLANE_SOURCE`). Each job reports to the team server named by
//! the repository variable `FIXLANE_SERVER`, with the token in the secret `FIXLANE_TOKEN`.

use fixlane_core::export::{GITHUB_WORKFLOW_PATH, Install, github_workflow};

use crate::cli::ExportCommand;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::settings::Context;

pub fn export(context: &Context, command: &ExportCommand) -> CommandResult {
    let ExportCommand::GithubActions { output, check } = command;
    let config = context.load_config()?;
    let text = github_workflow(&config, &context.config_display(), install(context));
    let path = output
        .clone()
        .unwrap_or_else(|| context.root().join(GITHUB_WORKFLOW_PATH));
    if *check {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            println!("{} matches {}", path.display(), context.config_display());
            return Ok(ExitCode::Success);
        }
        return Err(Failure::failed(anyhow::anyhow!(
            "{} does not match what {} generates: the workflow and the lanes have drifted apart; \
             run `fixlane export github-actions` and commit the result",
            path.display(),
            context.config_display()
        )));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| anyhow::anyhow!("could not create {}: {error}", parent.display()))?;
    }
    std::fs::write(&path, text)
        .map_err(|error| anyhow::anyhow!("could not write {}: {error}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(ExitCode::Success)
}

/// How the workflow installs fixlane: from the checkout when the repository is fixlane's own
/// (its CLI crate is at `crates/fixlane-cli`), else from git.
fn install(context: &Context) -> Install {
    let manifest = context.root().join("crates/fixlane-cli/Cargo.toml");
    let own = std::fs::read_to_string(manifest).is_ok_and(|text| {
        text.lines()
            .any(|line| line.trim() == "name = \"fixlane-cli\"")
    });
    if own {
        Install::FromCheckout
    } else {
        Install::FromGit
    }
}
