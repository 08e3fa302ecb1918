//! `fixlane config check`: every problem in the config at once, each with file, line and column.

use crate::cli::ConfigCommand;
use crate::exit::{self, CommandResult};
use crate::settings::Context;

pub fn config(context: &Context, command: &ConfigCommand) -> CommandResult {
    match command {
        ConfigCommand::Check => {
            let config = context.load_config()?;
            let emergency_lanes = config.lanes.values().filter(|lane| lane.emergency).count();
            println!(
                "{}: ok — {} gates, {} lanes (normal{}), {} emergency categories",
                context.config_display(),
                config.gates.len(),
                config.lanes.len() + 1,
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
                config.emergency.categories.len(),
            );
            if emergency_lanes == 0 {
                println!("note: no lane has `emergency = true`, so there is no hotfix lane yet");
            }
            Ok(exit::SUCCESS)
        }
    }
}
