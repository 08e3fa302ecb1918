//! `fixlane config check`: every problem in the config at once, each with file, line and column.

use crate::cli::ConfigCommand;
use crate::exit::{CommandResult, ExitCode};
use crate::settings::Context;
use fixlane_core::plural;

pub fn config(context: &Context, command: &ConfigCommand) -> CommandResult {
    match command {
        ConfigCommand::Check => {
            let config = context.load_config()?;
            let emergency_lanes = config.lanes.values().filter(|lane| lane.emergency).count();
            println!(
                "{}: ok — {}, {} (normal{}), {}",
                context.config_display(),
                plural::count(config.gates.len(), "gate", "gates"),
                plural::count(config.lanes.len() + 1, "lane", "lanes"),
                if config.lanes.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", {}",
                        config
                            .lanes
                            .keys()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                plural::count(
                    config.emergency.categories.len(),
                    "emergency category",
                    "emergency categories"
                ),
            );
            if emergency_lanes == 0 {
                println!("note: no lane has `emergency = true`, so there is no hotfix lane yet");
            }
            Ok(ExitCode::Success)
        }
    }
}
