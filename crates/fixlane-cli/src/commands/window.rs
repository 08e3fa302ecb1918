//! `fixlane window`: where a moment stands against the change windows and freezes, and whether
//! a normal-lane deploy would go through.

use fixlane_core::emergency::windows;

use crate::cli::WindowArgs;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::Context;

pub fn window(context: &Context, arguments: &WindowArgs) -> CommandResult {
    let config = context.load_config()?;
    let at = records::moment(arguments.at.as_deref())?;
    let Some(definition) = &config.windows else {
        println!(
            "no [windows] in {}: deploys are allowed at any time",
            context.config_display()
        );
        return Ok(ExitCode::Success);
    };
    let standing = windows::standing(definition, at)
        .map_err(|refusal| records::failure(refusal.into(), context))?;
    println!("{at} is {} in {}", standing.local, standing.zone);
    match &standing.change_window {
        Some(window) => println!(
            "inside the change window `{}` ({}:{})",
            window.text,
            context.config_display(),
            window.source.line
        ),
        None => println!("outside every change window"),
    }
    if let Some(freeze) = &standing.freeze {
        println!(
            "inside the freeze {} to {} — {} ({}:{})",
            freeze.from,
            freeze.to,
            fixlane_core::text::for_terminal(&freeze.reason),
            context.config_display(),
            freeze.source.line
        );
    }
    match windows::deploy_allowed(Some(definition), at, &[]) {
        Ok(_) => {
            println!("a normal-lane deploy is allowed");
            Ok(ExitCode::Success)
        }
        Err(refusal) => Err(Failure::failed(anyhow::anyhow!(
            "a normal-lane deploy would be {}",
            crate::refusal::render(&refusal, Some(&context.config_display()))
        ))),
    }
}
