//! The run's recorder as the `run` command starts it: the application layer's recorder
//! (`fixlane_app::recorder`) fed from the command's event channel, with the earlier runs it
//! finds abandoned worded for the person.

use fixlane_app::recorder::{self, RunStart};
use fixlane_app::runs::{self, ConfigRead};
use fixlane_core::RunEvent;
use fixlane_core::policy_change::Weakening;
use fixlane_store::{AnyStore, NewRun, StoreLocation};
use tokio::sync::{mpsc, watch};

/// What the recorder needs to record a run's start (unless the caller already did).
pub struct Start {
    /// The store, when the caller already opened it.
    pub store: Option<AnyStore>,
    pub db: StoreLocation,
    pub actor: String,
    /// The config file as shown and the SHA-256 of its text.
    pub config_seen: (String, String),
    pub run: NewRun,
    /// Whether [`start`] already recorded it, before the first gate.
    pub already_started: bool,
    /// How the run's policy is weaker than the base's (the normal lane's audited notice).
    pub weakenings: Vec<Weakening>,
}

fn config_read((file, sha256): &(String, String)) -> ConfigRead {
    ConfigRead {
        file: file.clone(),
        sha256: sha256.clone(),
    }
}

/// Records the start of a run: the config seen, the run, and any weakening of the policy
/// against the base, each audited.
pub async fn start(
    store: &AnyStore,
    actor: &str,
    config_seen: &(String, String),
    run: &NewRun,
    weakenings: &[Weakening],
) -> anyhow::Result<()> {
    runs::start_run(store, actor, &config_read(config_seen), run, weakenings).await?;
    Ok(())
}

/// Records the run as its events arrive (see [`recorder::record_run`]); returns notes for the
/// person: earlier runs found abandoned.
pub async fn record(
    start: Start,
    events: mpsc::UnboundedReceiver<RunEvent>,
    cancel: watch::Sender<bool>,
    started: watch::Sender<Option<bool>>,
) -> anyhow::Result<Vec<String>> {
    let start = RunStart {
        store: start.store,
        db: start.db,
        actor: start.actor,
        config: config_read(&start.config_seen),
        run: start.run,
        already_started: start.already_started,
        weakenings: start.weakenings,
    };
    let abandoned = recorder::record_run(start, events, cancel, started).await?;
    Ok(abandoned
        .into_iter()
        .map(|run| {
            format!(
                "the earlier run {} of {} (lane {}) never finished and is now recorded as blocked: {}",
                run.run_id,
                fixlane_core::rev::short(&run.rev),
                run.lane,
                run.why
            )
        })
        .collect())
}
