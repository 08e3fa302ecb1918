//! Who runs the gates. Without `--as` it is git's `user.email`, one more git process, so it is
//! not asked while git and the config are answering what the run is: a run that records its
//! start before its first gate (an emergency, a deploy) asks it beside the store's opening,
//! any other run as soon as its first gates run, also beside the store's opening, so that a
//! short run's end does not wait for it.

use fixlane_core::config::model::Person;
use fixlane_core::names::PersonName;
use fixlane_runner::git::GitCli;
use indexmap::IndexMap;
use tokio::sync::oneshot;

use crate::settings::Context;

/// The acting person's name or email as given or as git knows it, on its way.
pub enum ActorLookup {
    /// Known already (`--as`, `FIXLANE_USER`, or looked up before).
    Known(String),
    /// Being looked up on a thread of its own.
    Pending(oneshot::Receiver<String>),
    /// To be looked up when it is first needed.
    Later(GitCli),
}

impl ActorLookup {
    /// Starts the lookup now: `--as` (or `FIXLANE_USER`) at once, else git's `user.email` on
    /// a thread of its own.
    pub fn start(context: &Context) -> Self {
        Self::later(context).started()
    }

    /// The lookup, started only when it is first awaited.
    pub fn later(context: &Context) -> Self {
        match context.acting_as() {
            Some(named) => Self::Known(named.to_owned()),
            None => Self::Later(context.repo.clone()),
        }
    }

    /// The lookup, started now if it was left for later: the recorder starts it as soon as the
    /// first gates run, so git's answer is there before the run's end needs it.
    pub fn started(self) -> Self {
        let Self::Later(repo) = self else {
            return self;
        };
        let (sender, receiver) = oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("fixlane-actor".to_owned())
            .spawn(move || {
                use fixlane_runner::git::Repository as _;
                let _ = sender.send(repo.user_email().unwrap_or_else(unknown));
            });
        if let Err(error) = spawned {
            // The sender went with the thread that never started: the lookup says "unknown".
            tracing::debug!("could not start the actor lookup: {error}");
        }
        Self::Pending(receiver)
    }

    /// The acting person: their name in `people` when the config knows them (by name or
    /// email), so they are logged as their approvals are; anyone else as git knows them.
    pub async fn resolve(self, people: &IndexMap<PersonName, Person>) -> String {
        let who = match self.started() {
            Self::Known(who) => who,
            Self::Pending(receiver) => receiver.await.unwrap_or_else(|_| unknown()),
            Self::Later(_) => unknown(),
        };
        fixlane_core::emergency::policy::identify_among(people, &who)
            .map_or(who, |person| person.to_string())
    }
}

/// The actor when git has no `user.email`, as `Context::actor` says it.
fn unknown() -> String {
    crate::settings::UNKNOWN_ACTOR.to_owned()
}
