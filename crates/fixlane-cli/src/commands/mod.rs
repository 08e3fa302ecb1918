//! One file per subcommand; `dispatch` resolves the context and runs the chosen one.

mod approve;
mod audit;
mod backfill;
mod bypass;
mod canary;
mod check_commit;
mod ci;
mod close;
mod config;
mod declare;
mod drill;
mod due;
mod export;
mod init;
mod list;
mod merged;
mod notify;
mod postmortem;
mod review_rate;
pub mod run;
mod serve;
mod show;
mod stats;
mod token;
mod verdict;
mod verify;
mod window;

use crate::cli::{Cli, Command};
use crate::exit::{ExitCode, Failure};
use crate::settings::Context;

/// Runs the command and returns the process exit code (see [`ExitCode`]), printing any failure.
///
/// `early` is the config's read started before the command line was parsed (see
/// [`crate::settings::EarlyConfig::from_command_line`]).
pub fn dispatch(cli: Cli, early: Option<crate::settings::EarlyConfig>) -> i32 {
    let Cli { global, command } = cli;
    // Commands that record end by delivering the webhooks their records announce.
    let announces = matches!(
        command,
        Command::Run(_)
            | Command::Ci(_)
            | Command::Declare(_)
            | Command::Approve(_)
            | Command::Bypass(_)
            | Command::ReviewRate(_)
            | Command::Canary(_)
            | Command::Verify(_)
            | Command::Merged(_)
            | Command::Close(_)
            | Command::Backfill(_)
    );
    let result = match command {
        // The team server's commands run on a server host, often outside any repository.
        Command::Serve(arguments) => serve::serve(&global, &arguments),
        Command::Token(command) => token::token(&global, &command),
        // A drill needs no repository (its sandbox is its own); in one, it records its result
        // there.
        Command::Drill(arguments) => drill::drill(&global, &arguments),
        command => {
            // A run's config is parsed while git says where the repository is.
            let early = early
                .filter(|_| matches!(command, Command::Run(_) | Command::Ci(_)))
                .and_then(|early| early.for_global(&global));
            Context::discover(&global).and_then(|context| {
                let context = context.with_early_config(early);
                // In client mode the team server records, and its replicas deliver the webhooks.
                let client_mode = crate::client::configured();
                if client_mode && let Some(name) = local_only(&command) {
                    return Err(crate::client::refuse_local_only(name));
                }
                let result = in_repository(&context, command);
                if announces && !client_mode {
                    notify::after_command(&context);
                }
                result
            })
        }
    };
    finish(result)
}

/// The name of a command that reads or writes the store and has no route on the team server:
/// in client mode it would work on a local store, not the team's record.
fn local_only(command: &Command) -> Option<&'static str> {
    Some(match command {
        Command::Verdict(_) => "verdict",
        Command::CheckCommit(_) => "check-commit",
        Command::Postmortem(_) => "postmortem",
        Command::Notify(_) => "notify",
        _ => return None,
    })
}

/// The commands that work inside a git repository.
fn in_repository(context: &Context, command: Command) -> crate::exit::CommandResult {
    match command {
        Command::Run(arguments) => run::run(context, &arguments),
        Command::Ci(arguments) => ci::ci(context, &arguments),
        Command::Export(command) => export::export(context, &command),
        Command::Verdict(arguments) => verdict::verdict(context, &arguments),
        Command::Config(command) => config::config(context, &command),
        Command::Init(arguments) => init::init(context, &arguments),
        Command::Audit(command) => audit::audit(context, &command),
        Command::Declare(arguments) => declare::declare(context, &arguments),
        Command::Approve(arguments) => approve::approve(context, &arguments),
        Command::Bypass(arguments) => bypass::bypass(context, &arguments),
        Command::Show(arguments) => show::show(context, &arguments),
        Command::List(arguments) => list::list(context, &arguments),
        Command::ReviewRate(arguments) => review_rate::review_rate(context, &arguments),
        Command::Window(arguments) => window::window(context, &arguments),
        Command::CheckCommit(arguments) => check_commit::check_commit(context, &arguments),
        Command::Canary(arguments) => canary::canary(context, &arguments),
        Command::Verify(arguments) => verify::verify(context, &arguments),
        Command::Postmortem(arguments) => postmortem::postmortem(context, &arguments),
        Command::Merged(arguments) => merged::merged(context, &arguments),
        Command::Close(arguments) => close::close(context, &arguments),
        Command::Due(arguments) => due::due(context, &arguments),
        Command::Backfill(arguments) => backfill::backfill(context, &arguments),
        Command::Stats(arguments) => stats::stats(context, &arguments),
        Command::Notify(command) => notify::notify(context, &command),
        // Dispatched before a repository is looked for; never reached.
        Command::Serve(_) | Command::Token(_) | Command::Drill(_) => Err(Failure::error(
            anyhow::anyhow!("serve, token and drill run without a repository"),
        )),
    }
}

/// The process exit code of a command's result, printing any failure.
fn finish(result: crate::exit::CommandResult) -> i32 {
    match result {
        Ok(code) => code.code(),
        Err(Failure { code, error }) => {
            // Messages quote what was typed or printed (an argument, a program's error);
            // their own line breaks stay, anything else that could drive the terminal does not.
            // A refusal among the causes reads with the CLI's commands.
            eprintln!(
                "error: {}",
                fixlane_core::text::for_terminal_lines(&crate::refusal::error_text(&error))
            );
            // A failure never exits 0, whatever code it was handed.
            if code == ExitCode::Success {
                ExitCode::Error.code()
            } else {
                code.code()
            }
        }
    }
}
