//! `fixlane audit verify | export | log`: the tamper-evident log, checked, exported and read.

use std::io::Write;

use fixlane_core::text::for_terminal as shown;
use fixlane_store::Store;

use crate::cli::AuditCommand;
use crate::exit::{CommandResult, ExitCode, Failure};
use crate::settings::{self, Context};
use fixlane_core::plural;

pub fn audit(context: &Context, command: &AuditCommand) -> CommandResult {
    settings::runtime()?.block_on(async {
        let store = context.open_store_read_only().await?;
        match command {
            AuditCommand::Verify => match store.verify_audit().await? {
                Ok(count) => {
                    let head = store.audit_head().await?;
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
            },
            AuditCommand::Export { output } => {
                let entries = store.audit_entries().await?;
                let mut text = String::new();
                for entry in &entries {
                    text.push_str(&serde_json::to_string(entry)?);
                    text.push('\n');
                }
                match output {
                    Some(path) => {
                        std::fs::write(path, text).map_err(|error| {
                            anyhow::anyhow!("could not write {}: {error}", path.display())
                        })?;
                        eprintln!(
                            "wrote {} to {}",
                            plural::count(entries.len(), "entry", "entries"),
                            path.display()
                        );
                    }
                    None => std::io::stdout().lock().write_all(text.as_bytes())?,
                }
                Ok(ExitCode::Success)
            }
            AuditCommand::Log { last } => {
                let entries = store.audit_entries().await?;
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
                Ok(ExitCode::Success)
            }
        }
    })
}
