//! `fixlane audit verify | export | log`: the tamper-evident log, checked, exported and read —
//! from the store, or from the team server in client mode.

use std::io::Write;

use fixlane_core::audit::AuditEntry;
use fixlane_core::text::for_terminal as shown;
use fixlane_store::Store;

use crate::cli::AuditCommand;
use crate::client::Client;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::settings::{self, Context};
use fixlane_core::plural;

/// What `verify` found: the entries checked and the head, or the first break.
type Verified = Result<(usize, Option<(i64, String)>), String>;

/// `verify`'s answer, as people read it and with its exit code.
fn verified(found: Verified) -> CommandResult {
    match found {
        Ok((count, head)) => {
            match head {
                Some((seq, hash)) => println!(
                    "audit log intact: {}, head #{seq} {}",
                    plural::count(count, "entry", "entries"),
                    hash.get(..16).unwrap_or(&hash)
                ),
                None => println!("audit log intact: it is empty"),
            }
            Ok(ExitCode::Success)
        }
        Err(broken) => Err(Failure::failed(anyhow::anyhow!(
            "audit log is NOT intact: {broken}\nevery entry from there on is untrusted; \
             restore the store from a backup and investigate who wrote to it"
        ))),
    }
}

/// `export`: the JSON Lines to a file or standard output.
fn exported(text: &str, count: usize, output: Option<&std::path::Path>) -> CommandResult {
    match output {
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|error| anyhow::anyhow!("could not write {}: {error}", path.display()))?;
            eprintln!(
                "wrote {} to {}",
                plural::count(count, "entry", "entries"),
                path.display()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::Success)
}

/// `log`: the last `last` entries (all when `None`), one a line.
fn logged(entries: &[AuditEntry], last: Option<usize>) {
    let skip = last.map_or(0, |last| entries.len().saturating_sub(last));
    for entry in entries.iter().skip(skip) {
        // The details are JSON, which escapes C0 controls but not C1 controls
        // or bidi overrides; the actor is whoever `--as` or git said.
        println!(
            "#{:<5} {}  {:<24} {:<22} {}",
            entry.seq,
            entry.time,
            shown(&entry.actor),
            shown(&entry.action),
            shown(&fixlane_core::audit::canonical_json(&entry.details))
        );
    }
}

pub fn audit(context: &Context, command: &AuditCommand) -> CommandResult {
    if let Some(client) = Client::from_env(context)? {
        return settings::runtime()?.block_on(async {
            match command {
                AuditCommand::Verify => {
                    let answer = client.audit_verify().await?;
                    verified(match (answer.intact, answer.broken) {
                        (true, _) | (false, None) => Ok((
                            answer.entries,
                            answer.head.map(|head| (head.seq, head.hash)),
                        )),
                        (false, Some(broken)) => Err(broken),
                    })
                }
                AuditCommand::Export { output } => {
                    let text = client.audit_export().await?;
                    exported(&text, text.lines().count(), output.as_deref())
                }
                AuditCommand::Log { last } => {
                    let text = client.audit_export().await?;
                    let entries = text
                        .lines()
                        .map(serde_json::from_str)
                        .collect::<Result<Vec<AuditEntry>, _>>()
                        .map_err(|error| {
                            Failure::error(anyhow::anyhow!(
                                "the server's audit log does not read as entries ({error})"
                            ))
                        })?;
                    logged(&entries, *last);
                    Ok(ExitCode::Success)
                }
            }
        });
    }
    settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        match command {
            AuditCommand::Verify => match store.verify_audit().await? {
                Ok(count) => verified(Ok((count, store.audit_head().await?))),
                Err(broken) => verified(Err(broken.to_string())),
            },
            AuditCommand::Export { output } => {
                let entries = store.audit_entries().await?;
                let mut text = String::new();
                for entry in &entries {
                    text.push_str(&serde_json::to_string(entry)?);
                    text.push('\n');
                }
                exported(&text, entries.len(), output.as_deref())
            }
            AuditCommand::Log { last } => {
                logged(&store.audit_entries().await?, *last);
                Ok(ExitCode::Success)
            }
        }
    })
}
