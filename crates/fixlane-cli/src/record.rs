//! The run's recorder as the `run` command starts it: the application layer's recorder
//! (`fixlane_app::recorder`) fed from the command's event channel, with the earlier runs it
//! finds abandoned worded for the person — or, in client mode, the team server fed the same
//! events (`crate::client::runs`). [`Target`] is where a run's record is read and written
//! before its first gate: the store, or the server.

use fixlane_app::recorder::{self, RunStart};
use fixlane_app::runs::{self, ConfigRead};
use fixlane_core::RunEvent;
use fixlane_core::policy_change::Weakening;
use fixlane_store::{AnyStore, NewRun, StoreLocation};
use tokio::sync::{mpsc, oneshot, watch};

use crate::client::Client;
use crate::commands::run::ActorLookup;
use crate::exit::Failure;
use fixlane_core::config::model::Person;
use fixlane_core::names::PersonName;
use indexmap::IndexMap;

/// Where a run's record is: the store, or the team server (client mode).
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Store(&'a AnyStore),
    Server(&'a Client),
}

/// What the recorder needs to record a run's start (unless the caller already did).
pub struct Start {
    /// The store, when the caller already opened it.
    pub store: Option<AnyStore>,
    pub db: StoreLocation,
    /// Who runs the gates, still being looked up when the run's start is recorded beside them.
    pub actor: ActorLookup,
    /// The config's `[people]`, who the acting person is among.
    pub people: IndexMap<PersonName, Person>,
    /// The config file as shown and the SHA-256 of its text.
    pub config_seen: (String, String),
    pub run: NewRun,
    /// How to build the run's plan record (`run.plan`) when it is not built yet: on a thread
    /// of its own once the first gates run, awaited before the start is recorded.
    pub pending_plan: Option<PlanRecord>,
    /// Whether [`start`] already recorded it, before the first gate.
    pub already_started: bool,
    /// How the run's policy is weaker than the base's (the normal lane's audited notice).
    pub weakenings: Vec<Weakening>,
    /// The team server the run is recorded on instead of the store (its start recorded
    /// already, by [`start_on_server`]).
    pub server: Option<Client>,
}

/// Builds a run's plan record (a thousand gates' worth of JSON in a large config).
pub type PlanRecord = Box<dyn FnOnce() -> serde_json::Value + Send>;

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

/// Records the start of a run on the team server, before its first gate: the config seen, the
/// SHA-256 of the policy the run read, the run, and any weakening against the base. A policy
/// that is not the server's is flagged there, and said here.
pub async fn start_on_server(
    client: &Client,
    config_seen: &(String, String),
    policy_sha256: &str,
    run: &NewRun,
    weakenings: &[Weakening],
) -> Result<(), Failure> {
    let policy = client
        .start_run(config_seen, policy_sha256, run, weakenings)
        .await?;
    if !policy.matches {
        eprintln!(
            "warning: the people, roles, categories and emergency settings in {} are not the \
             ones the server at {} enforces (policy {} here, {} there): the run is flagged \
             there (`policy-mismatch` in the audit log), and the server's rules decide what \
             it records",
            config_seen.0,
            client.url(),
            policy.run_sha256.get(..12).unwrap_or(&policy.run_sha256),
            policy
                .server_sha256
                .get(..12)
                .unwrap_or(&policy.server_sha256)
        );
    }
    Ok(())
}

/// What recording a run left: notes for the person (earlier runs found abandoned), and the
/// store it was recorded in (none in client mode), for what the run does after its end.
pub struct Recorded {
    pub notes: Vec<String>,
    /// Who the run was recorded as acting.
    pub actor: String,
    pub store: Option<AnyStore>,
}

/// Records the run as its events arrive (see [`recorder::record_run`]), on the team server in
/// client mode.
///
/// `heard` says the run's first event came: the runner sends it once its first gates have
/// started, so the store opens and the plan's record is built beside them, never before them.
pub async fn record(
    start: Start,
    (events, heard): (mpsc::UnboundedReceiver<RunEvent>, oneshot::Receiver<()>),
    cancel: watch::Sender<bool>,
    started: watch::Sender<Option<bool>>,
) -> Result<Recorded, Failure> {
    // A feed that went away without an event leaves the rest to fail as it would.
    let _ = heard.await;
    // git's `user.email` is asked beside the store's opening, not after it: a short run's end
    // would otherwise wait for one more git process.
    let actor = start.actor.started();
    if let Some(client) = start.server {
        // The server records its token's owner; the name here is only for what follows.
        let notes =
            crate::client::runs::record(client, start.run.run_id, events, cancel, started).await?;
        let actor = actor.resolve(&start.people).await;
        return Ok(Recorded {
            notes,
            actor,
            store: None,
        });
    }
    // The store is opened here rather than by the recorder, so the run's end can use it too;
    // it opens while the plan's record is still being built.
    let plan = start.pending_plan.map(|build| {
        let (sender, receiver) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("fixlane-plan-record".to_owned())
            .spawn(move || {
                let _ = sender.send(build());
            });
        // A thread that could not start drops the sender: the run fails closed below.
        drop(spawned);
        receiver
    });
    let store = match start.store {
        Some(store) => store,
        None => match fixlane_store::open(&start.db).await {
            Ok(store) => store,
            Err(error) => {
                let _ = started.send(Some(false));
                let _ = cancel.send(true);
                return Err(crate::settings::store_failure(&error, &start.db));
            }
        },
    };
    let actor = actor.resolve(&start.people).await;
    let mut run = start.run;
    if let Some(pending) = plan {
        // Fail closed: a run whose plan cannot be recorded does not go on.
        let Ok(plan) = pending.await else {
            let _ = started.send(Some(false));
            let _ = cancel.send(true);
            return Err(Failure::error(anyhow::anyhow!(
                "the run's plan could not be prepared for the store"
            )));
        };
        run.plan = plan;
    }
    let start = RunStart {
        store: Some(store.clone()),
        db: start.db,
        actor: actor.clone(),
        config: config_read(&start.config_seen),
        run,
        already_started: start.already_started,
        weakenings: start.weakenings,
    };
    let abandoned = recorder::record_run(start, events, cancel, started)
        .await
        .map_err(Failure::error)?;
    let notes = abandoned
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
        .collect();
    Ok(Recorded {
        notes,
        actor,
        store: Some(store),
    })
}
