//! The `fixlane` binary: parse the command line, run the subcommand, exit with its code.

mod cli;
mod client;
mod commands;
mod diagnostics;
mod exit;
mod interrupt;
mod policy;
mod record;
mod records;
mod refusal;
mod report;
mod settings;

use clap::Parser;

fn main() {
    quiet_on_closed_stdout();
    // A run's config (a thousand gates in a large one) is read while the command line is parsed.
    let early = settings::EarlyConfig::from_command_line();
    let arguments = cli::Cli::parse();
    let code = commands::dispatch(arguments, early);
    std::process::exit(code);
}

/// `fixlane audit log | head` closes the pipe early; printing then fails, and `println!` turns
/// that into a panic. A reader that stopped reading is not an error: exit quietly, as other
/// command-line tools do on SIGPIPE (128 + 13).
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(exit::ExitCode::ClosedPipe.code());
        }
        default(info);
    }));
}
