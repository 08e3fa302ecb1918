//! One file per subcommand; `dispatch` resolves the context and runs the chosen one.

mod audit;
mod config;
mod init;
mod run;
mod verdict;

use crate::cli::{Cli, Command};
use crate::exit::{self, Failure};
use crate::settings::Context;

/// Runs the command and returns the process exit code, printing any failure.
pub fn dispatch(cli: Cli) -> i32 {
    let result = Context::discover(&cli.global).and_then(|context| match cli.command {
        Command::Run(arguments) => run::run(&context, &arguments),
        Command::Verdict(arguments) => verdict::verdict(&context, &arguments),
        Command::Config(command) => config::config(&context, &command),
        Command::Init(arguments) => init::init(&context, &arguments),
        Command::Audit(command) => audit::audit(&context, &command),
    });
    match result {
        Ok(code) => code,
        Err(Failure { code, error }) => {
            eprintln!("error: {error:#}");
            if code == exit::SUCCESS {
                exit::ERROR
            } else {
                code
            }
        }
    }
}
