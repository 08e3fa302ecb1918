//! `fixlane serve`: the team server on the store `--db` names (a `PostgreSQL` database that
//! several replicas may share, or a `SQLite` file for one), enforcing the config `--config`
//! names, until SIGTERM or Ctrl-C.
//!
//! The server is `fixlane-server`; this command loads the config as every command does, sets
//! up the log on standard error (`FIXLANE_LOG=debug` for every request), hands the server the
//! CLI's words for what to do instead of a refused step, and runs it.

use std::path::Path;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::cli::{GlobalArgs, ServeArgs};
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::settings::{Standalone, store_failure};

/// The log level from `FIXLANE_LOG` (`error`, `warn`, `info`, `debug`, `trace`); `info` by
/// default.
fn log_level() -> Result<tracing::Level, Failure> {
    match std::env::var("FIXLANE_LOG") {
        Err(_) => Ok(tracing::Level::INFO),
        Ok(text) => text.trim().parse().map_err(|_| {
            Failure::error(anyhow::anyhow!(
                "FIXLANE_LOG={text} is not a log level; use error, warn, info, debug or trace"
            ))
        }),
    }
}

pub fn serve(global: &GlobalArgs, arguments: &ServeArgs) -> CommandResult {
    let settings = Standalone::resolve(global)?;
    let (config, sha256) = settings.load_config()?;
    let level = log_level()?;
    // fixlane's own events at that level; its libraries' (the database driver logs every
    // statement at debug) only when they warn.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing::Level::WARN)
        .with_target("fixlane_server", level)
        .with_target("fixlane_app", level)
        .with_target("fixlane_store", level);
    // A second subscriber (in tests that run the command twice in one process) is harmless.
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .try_init();
    // Refusals cite the config by its file name only: no server path reaches a client.
    let config_name = Path::new(&settings.config_display).file_name().map_or_else(
        || settings.config_display.clone(),
        |name| name.to_string_lossy().into_owned(),
    );
    let options = fixlane_server::Options {
        listen: arguments.listen,
        location: settings.location.clone(),
        config,
        config_name,
        config_sha256: Some(sha256),
        say: crate::refusal::instead,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            Failure::error(anyhow::anyhow!(
                "could not start the async runtime: {error}"
            ))
        })?;
    runtime.block_on(async {
        let server = fixlane_server::Server::bind(options)
            .await
            .map_err(|error| server_failure(error, &settings))?;
        let address = server
            .local_addr()
            .map_err(|error| server_failure(error, &settings))?;
        eprintln!(
            "fixlane serve: listening on http://{address} (store {}, config {})",
            settings.location, settings.config_display
        );
        server
            .run(fixlane_server::shutdown_signal())
            .await
            .map_err(|error| server_failure(error, &settings))
    })?;
    eprintln!("fixlane serve: stopped");
    Ok(ExitCode::Success)
}

/// A server that could not start or stopped, with the store's exit code when the store failed.
fn server_failure(error: fixlane_server::ServerError, settings: &Standalone) -> Failure {
    match error {
        fixlane_server::ServerError::Store(error) => store_failure(&error, &settings.location),
        other => Failure::error(other),
    }
}
