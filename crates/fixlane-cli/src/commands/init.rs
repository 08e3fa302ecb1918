//! `fixlane init`: a starter fixlane.toml shaped by what the repository is, which tools this
//! machine has, and who runs it.

use fixlane_core::config::starter::{Ecosystem, Maintainer, starter};

use crate::cli::InitArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::settings::Context;
use fixlane_core::plural;
use fixlane_runner::git::Repository as _;

fn detect(root: &std::path::Path) -> Ecosystem {
    if root.join("Cargo.toml").is_file() {
        Ecosystem::Cargo
    } else if root.join("go.mod").is_file() {
        Ecosystem::Go
    } else if root.join("package.json").is_file() {
        Ecosystem::Npm
    } else {
        Ecosystem::Unknown
    }
}

/// Whether `program` is on this process's `PATH`: the gates run with the same one.
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .and_then(|path| fixlane_runner::program::find_executable(program, &path))
        .is_some()
}

pub fn init(context: &Context, arguments: &InitArgs) -> CommandResult {
    let path = &context.config_path;
    if path.exists() && !arguments.force {
        return Err(Failure::error(anyhow::anyhow!(
            "{} already exists; nothing was written (pass --force to replace it)",
            path.display()
        )));
    }
    let ecosystem = detect(context.root());
    let name = context.root().file_name().map_or_else(
        || "service".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    let maintainer = context
        .repo
        .user_email()
        .and_then(|email| Maintainer::from_email(&email));
    let text = starter(&name, ecosystem, &on_path, maintainer.as_ref());
    // The starter must pass its own checks; refusing here beats writing a broken file.
    if let Err(errors) = fixlane_core::config::parse(&text, "fixlane.toml") {
        return Err(Failure::error(anyhow::anyhow!(
            "the starter config for {ecosystem:?} does not validate ({}); this is a bug in fixlane",
            plural::count(errors.errors.len(), "error", "errors")
        )));
    }
    std::fs::write(path, text)
        .map_err(|error| anyhow::anyhow!("could not write {}: {error}", path.display()))?;
    println!(
        "wrote {} ({ecosystem:?} project): review the commands and the tools it lists at the top, \
         add the people who approve, then `fixlane config check` and `fixlane run`",
        path.display()
    );
    Ok(ExitCode::Success)
}
