//! `fixlane token issue|list|revoke`: the team server's per-person tokens, with direct access
//! to its database (run by an operator on the server host, or anywhere `--db` reaches).
//!
//! `issue` prints the token alone on standard output, once (`TOKEN=$(fixlane token issue
//! alice)` works); what it is and how to use it goes to standard error. Only its SHA-256 is
//! kept, so a lost token is revoked and issued again, never shown again.

use fixlane_app::App;
use fixlane_core::Config;
use fixlane_core::text::for_terminal as shown;
use fixlane_store::TokenRecord;
use jiff::Timestamp;

use crate::cli::{GlobalArgs, TokenCommand};
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::records;
use crate::settings::{self, Standalone};

/// An application error as this command says it (refusals name the config file).
fn app_failure(error: fixlane_app::AppError, settings: &Standalone) -> Failure {
    match error {
        fixlane_app::AppError::Refused(refusal) => Failure::failed(anyhow::anyhow!(
            "{}",
            crate::refusal::render(&refusal, Some(&settings.config_display))
        )),
        fixlane_app::AppError::NothingToRevoke { target } => Failure::error(anyhow::anyhow!(
            "no live token matches `{target}`: it is neither the id of a live token nor a \
             person holding one; `fixlane token list` shows every token with its id and state"
        )),
        other => Failure::error(other),
    }
}

/// `live`, `expired` or `revoked`, at `now`.
fn state(token: &TokenRecord, now: Timestamp) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "live"
    }
}

fn when(at: Option<Timestamp>, config: &Config, never: &str) -> String {
    at.map_or_else(|| never.to_owned(), |at| records::human_time(at, config))
}

pub fn token(global: &GlobalArgs, command: &TokenCommand) -> CommandResult {
    let settings = Standalone::resolve(global)?;
    let (config, _) = settings.load_config()?;
    let now = Timestamp::now();
    settings::runtime()?.block_on(async {
        match command {
            TokenCommand::Issue { person, expires } => {
                let lifetime = expires
                    .as_deref()
                    .map(fixlane_core::Duration::parse)
                    .transpose()
                    .map_err(|error| Failure::error(anyhow::anyhow!("--expires: {error}")))?;
                let store = settings.open_store().await?;
                let issued = App::new(&store, &config)
                    .issue_token(&settings.actor, person, lifetime, now)
                    .await
                    .map_err(|error| app_failure(error, &settings))?;
                let record = &issued.record;
                eprintln!(
                    "issued token {} for {}, {}",
                    record.id,
                    shown(record.person.as_str()),
                    match record.expires_at {
                        Some(at) => format!(
                            "expiring {} ({})",
                            records::human_time(at, &config),
                            records::until(at, now)
                        ),
                        None => "until it is revoked".to_owned(),
                    }
                );
                println!("{}", issued.secret.expose());
                eprintln!(
                    "it is shown only this once (only its hash is kept); {} sends it as \
                     `Authorization: Bearer <token>`; revoke it with `fixlane token revoke {}`",
                    shown(record.person.as_str()),
                    record.id
                );
                Ok(ExitCode::Success)
            }
            TokenCommand::List { json } => {
                let store = settings.open_store_read_only().await?;
                let tokens = App::new(&store, &config)
                    .tokens()
                    .await
                    .map_err(|error| app_failure(error, &settings))?;
                if *json {
                    let values: Vec<serde_json::Value> = tokens
                        .iter()
                        .map(|token| {
                            let mut value = serde_json::to_value(token).unwrap_or_default();
                            if let Some(object) = value.as_object_mut() {
                                object.insert("state".to_owned(), state(token, now).into());
                            }
                            value
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&values)?);
                } else if tokens.is_empty() {
                    println!("no tokens issued; issue one with `fixlane token issue PERSON`");
                } else {
                    println!(
                        "{:<12}  {:<12}  {:<8}  {:<22}  {:<22}  revoked",
                        "id", "person", "state", "issued", "expires"
                    );
                    for token in &tokens {
                        println!(
                            "{:<12}  {:<12}  {:<8}  {:<22}  {:<22}  {}",
                            token.id.as_str(),
                            shown(token.person.as_str()),
                            state(token, now),
                            records::human_time(token.issued_at, &config),
                            when(token.expires_at, &config, "never"),
                            match (&token.revoked_at, &token.revoked_by) {
                                (Some(at), Some(by)) => format!(
                                    "{} by {}",
                                    records::human_time(*at, &config),
                                    shown(by)
                                ),
                                (Some(at), None) => records::human_time(*at, &config),
                                (None, _) => "-".to_owned(),
                            }
                        );
                    }
                }
                Ok(ExitCode::Success)
            }
            TokenCommand::Revoke { target } => {
                let store = settings.open_store().await?;
                let revoked = App::new(&store, &config)
                    .revoke_tokens(&settings.actor, target, now)
                    .await
                    .map_err(|error| app_failure(error, &settings))?;
                for token in &revoked {
                    println!(
                        "revoked token {} of {}",
                        token.id,
                        shown(token.person.as_str())
                    );
                }
                Ok(ExitCode::Success)
            }
        }
    })
}
