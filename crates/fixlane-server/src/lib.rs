//! fixlane's team server: the JSON API under `/api/v1` over the application layer, per-person
//! tokens, `/healthz`, `/readyz` and `/metrics`.
//!
//! Every handler calls the same `fixlane-app` function the CLI calls, with the token's owner
//! as the person acting; the policy (people, roles, categories, emergency settings) is the
//! config the server was started with, never anything a request sends. Nothing is cached
//! across requests, so several replicas may serve one `PostgreSQL` database: every write goes
//! through the store's transaction-plus-audit path, serialized across replicas.
//!
//! | module | what it serves |
//! |---|---|
//! | `health` | `/healthz`, `/readyz` (no token) |
//! | `metrics` | `/metrics` (no token) and the request counters every route feeds |
//! | `auth` | the token check in front of every `/api` route |
//! | `emergencies` | `/api/v1/emergencies…`: list, show, declare, approve, bypass; `/api/v1/rate-reviews` |
//! | `followups` | `/api/v1/followups/due`; an emergency's merge, follow-up closes and backfill |
//! | `runs` | `/api/v1/runs…`: a CI run's start, gates, verdict and ready fix, reported by the CLI |
//! | `canaries` | `/api/v1/canaries…`, `/api/v1/verifications…`: a canary's or verification's start, events and end, reported by the CLI |
//! | `stats` | `/api/v1/stats`: the figures `fixlane stats --json` prints |
//! | `audit` | `/api/v1/audit/verify`, `/api/v1/audit/export` |
//! | `error` | the one error answer, JSON with the CLI's rule / where / instead |
//! | `outbox` | the webhook outbox, drained in the background by every replica |
//! | `dashboard` | the web pages: log in with a token, the live overview (session cookie) |

mod audit;
mod auth;
mod canaries;
mod context;
mod dashboard;
mod emergencies;
mod error;
mod followups;
mod health;
mod metrics;
mod outbox;
mod runs;
mod stats;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use fixlane_core::Config;
use fixlane_store::StoreLocation;

pub use audit::JSON_LINES;
pub use auth::{ACTOR_HEADER, Actor};
pub use context::{Context, SayInstead, plain_words};
pub use error::{ApiError, ServerError};
pub use metrics::{OPENMETRICS, PROMETHEUS_TEXT, classic};

/// The actor of what the server records on its own behalf (the policy it started with).
pub const SERVER_ACTOR: &str = "fixlane-serve";

/// What a server is started with.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen; port 0 picks a free one ([`Server::local_addr`] says which).
    pub listen: SocketAddr,
    /// The store: a `PostgreSQL` database shared by every replica, or a `SQLite` file for one.
    pub location: StoreLocation,
    /// The policy this server enforces.
    pub config: Config,
    /// The config file's name, as refusals cite it.
    pub config_name: String,
    /// The SHA-256 of the config's text: logged as `config-seen` when it differs from the last
    /// one logged, so every change to the policy a server enforces is on the audit record.
    pub config_sha256: Option<String>,
    /// How refusals spell what to do instead.
    pub say: SayInstead,
}

/// Every route: the open probes and metrics, and the API behind the token check, each request
/// counted and timed.
pub fn router(context: Context, live: dashboard::Live) -> Router {
    let api = Router::new()
        .merge(emergencies::router())
        .merge(followups::router())
        .merge(runs::router())
        .merge(canaries::router())
        .merge(stats::router())
        .merge(audit::router())
        .route_layer(axum::middleware::from_fn_with_state(
            context.clone(),
            auth::require_token,
        ));
    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .nest("/api/v1", api)
        .merge(dashboard::router(live))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            context.clone(),
            metrics::track,
        ))
        .with_state(context)
}

/// Any path no route serves: the same JSON as every other error.
async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::plain(
        axum::http::StatusCode::NOT_FOUND,
        "request.path",
        format!("nothing is served at {}", uri.path()),
        "the API is under /api/v1: /emergencies, /emergencies/{id}, \
         /emergencies/{id}/approvals, /emergencies/{id}/bypasses, /rate-reviews, \
         /followups/due, /runs, /canaries, /emergencies/{id}/verifications, /stats, \
         /audit/verify, /audit/export",
    )
}

/// A server bound to its address, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    context: Context,
}

impl Server {
    /// Opens the store (creating and migrating it when needed) and binds the address.
    pub async fn bind(options: Options) -> Result<Self, ServerError> {
        let store = fixlane_store::open_shared(&options.location).await?;
        if let Some(sha256) = &options.config_sha256 {
            use fixlane_store::Store as _;
            store
                .record_config_seen(SERVER_ACTOR, &options.config_name, sha256)
                .await?;
        }
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|cause| ServerError::Bind {
                address: options.listen,
                cause,
            })?;
        let context = Context::new(
            store,
            options.location,
            options.config,
            options.config_name,
            options.say,
        );
        Ok(Self { listener, context })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(ServerError::Serve)
    }

    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Serves until `shutdown` resolves, then stops accepting connections, lets the requests
    /// in flight finish, and closes the store.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let store = self.context.store().clone();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let drainer = (!self.context.config().notify.webhooks.is_empty())
            .then(|| tokio::spawn(outbox::drain_until(self.context.clone(), stopped)));
        let live = dashboard::Live::start(&self.context);
        let shutdown = live.ending_streams_on(shutdown);
        let served = axum::serve(self.listener, router(self.context, live))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(ServerError::Serve);
        let _ = stop.send(true);
        if let Some(drainer) = drainer {
            let _ = drainer.await;
        }
        served?;
        store.close().await;
        Ok(())
    }
}

/// Resolves at the first SIGTERM or Ctrl-C (SIGINT), saying which in the log.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    let which = tokio::select! {
        () = interrupt => "Ctrl-C",
        () = terminate => "SIGTERM",
    };
    tracing::info!(
        signal = which,
        "shutting down: no new connections; the requests in flight finish first"
    );
}
