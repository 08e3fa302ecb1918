//! The one context every handler shares: the store, the policy loaded at start, and the request
//! metrics. Cloning it is cheap (one `Arc`); nothing in it caches a record, so replicas on one
//! database never disagree about one.

use std::sync::Arc;

use fixlane_app::App;
use fixlane_core::Config;
use fixlane_core::emergency::Instead;
use fixlane_store::{AnyStore, StoreLocation};

use crate::metrics::Metrics;

/// How the server spells what to do instead of a refused step: the CLI hands its own words
/// (the `fixlane` commands that take each step), so a refusal reads the same through either.
pub type SayInstead = fn(&Instead) -> String;

/// [`Instead`] in plain words, for a server started without the CLI's.
pub fn plain_words(instead: &Instead) -> String {
    instead.to_string()
}

/// The server's shared state.
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    store: AnyStore,
    location: StoreLocation,
    /// The policy: people, roles, categories and emergency settings come from here only,
    /// never from a request.
    config: Config,
    /// The config file's name as refusals cite it (`fixlane.toml:30:14`): its file name only,
    /// so no server path reaches a client.
    config_name: String,
    say: SayInstead,
    metrics: Metrics,
}

impl Context {
    pub(crate) fn new(
        store: AnyStore,
        location: StoreLocation,
        config: Config,
        config_name: String,
        say: SayInstead,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                location,
                config,
                config_name,
                say,
                metrics: Metrics::new(),
            }),
        }
    }

    /// The application layer on this server's store and policy.
    pub fn app(&self) -> App<'_, AnyStore> {
        App::new(&self.inner.store, &self.inner.config)
    }

    pub fn store(&self) -> &AnyStore {
        &self.inner.store
    }

    pub fn location(&self) -> &StoreLocation {
        &self.inner.location
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub(crate) fn config_name(&self) -> &str {
        &self.inner.config_name
    }

    pub(crate) fn say(&self) -> SayInstead {
        self.inner.say
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Context")
            .field("store", &self.inner.location.to_string())
            .field("config", &self.inner.config_name)
            .finish_non_exhaustive()
    }
}
