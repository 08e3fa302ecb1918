//! The `fixlane` binary: parse the command line, run the subcommand, exit with its code.

mod canary_session;
mod cli;
mod commands;
mod diagnostics;
mod exit;
mod interrupt;
mod plural;
mod policy;
mod record;
mod records;
mod report;
mod settings;

use clap::Parser;

fn main() {
    let arguments = cli::Cli::parse();
    let code = commands::dispatch(arguments);
    std::process::exit(code);
}
