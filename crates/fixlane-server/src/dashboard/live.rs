//! Live updates: one listener per replica watches the store ([`fixlane_store::watch`]: LISTEN on
//! `PostgreSQL`, so a write through any replica or any CLI reaches every replica's pages; a poll
//! on `SQLite`) and hands each change to every open page over a broadcast channel; each page
//! holds a server-sent-events stream (`GET /dashboard/events`) and fetches the overview again on
//! every event.
//!
//! Nothing of the record travels on the stream, only that something changed: each page then
//! reads the record as its own session may, and a page that missed events (a dropped
//! connection, a slow reader) loses nothing, because the next fetch reads everything afresh.
//!
//! An open stream never ends by itself, so the server's graceful shutdown would wait for it
//! forever: [`Live::ending_streams_on`] ends every stream and the listener first.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fixlane_store::watch::Change;
use futures_util::Stream;
use tokio::sync::{Notify, broadcast, watch};

use super::{unauthorized, viewer};
use crate::context::Context;

/// How many changes a slow page may fall behind before it is told it lagged (and fetches once).
const BACKLOG: usize = 256;

/// How often an idle stream carries a comment, so proxies and browsers keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long the listener waits before watching again after the store failed it.
const RETRY: Duration = Duration::from_secs(1);

/// This replica's live updates: the channel every open page listens on, and the switch that
/// ends them. Cloning it is cheap.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    changes: broadcast::Sender<String>,
    closing: watch::Sender<bool>,
    /// Woken when a page subscribes: a `SQLite` listener polls only while a page is open.
    subscribed: Notify,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Live")
            .field("pages", &self.inner.changes.receiver_count())
            .finish()
    }
}

impl Live {
    /// Starts this replica's listener on the store of `context`. Call it inside the runtime.
    pub fn start(context: &Context) -> Self {
        let (changes, _) = broadcast::channel(BACKLOG);
        let (closing, _) = watch::channel(false);
        let live = Self {
            inner: Arc::new(Inner {
                changes,
                closing,
                subscribed: Notify::new(),
            }),
        };
        tokio::spawn(listen(context.clone(), live.clone()));
        live
    }

    /// `shutdown`, which first ends every open stream and the listener, so the server's
    /// graceful shutdown waits only for the requests that end by themselves.
    pub fn ending_streams_on(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let live = self.clone();
        async move {
            shutdown.await;
            live.inner.closing.send_replace(true);
        }
    }

    fn is_closing(&self) -> bool {
        *self.inner.closing.borrow()
    }
}

/// The listener: watches the store and broadcasts each change, until the server shuts down.
/// A store that fails the watch (a database restart) is watched again after [`RETRY`], and the
/// pages are told to look again, since changes may have been missed meanwhile.
async fn listen(context: Context, live: Live) {
    let mut closing = live.inner.closing.subscribe();
    let polls = context.store().kind() == "sqlite";
    while !live.is_closing() {
        let mut source = match context.store().watch().await {
            Ok(source) => source,
            Err(error) => {
                tracing::warn!(%error, "cannot watch the store for changes; trying again");
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => continue,
                    _ = closing.changed() => return,
                }
            }
        };
        loop {
            // A poll with nobody to tell is wasted: wait for a page (LISTEN must keep reading,
            // or its notifications pile up in memory).
            if polls && live.inner.changes.receiver_count() == 0 {
                tokio::select! {
                    () = live.inner.subscribed.notified() => {}
                    _ = closing.changed() => return,
                }
            }
            tokio::select! {
                change = source.next() => match change {
                    Ok(change) => {
                        let _ = live.inner.changes.send(describe(&change));
                    }
                    Err(error) => {
                        tracing::warn!(%error, "lost the watch on the store; watching again");
                        let _ = live.inner.changes.send("lost".to_owned());
                        break;
                    }
                },
                _ = closing.changed() => return,
            }
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY) => {}
            _ = closing.changed() => return,
        }
    }
}

/// What an event says: `audit 12`, `canary ID`, or `lost`.
fn describe(change: &Change) -> String {
    match change {
        Change::Audit(seq) => format!("audit {seq}"),
        Change::Canary(id) => format!("canary {id}"),
        Change::Lost => "lost".to_owned(),
    }
}

pub fn router() -> Router<Context> {
    Router::new().route("/dashboard/events", get(events))
}

/// One page's stream: an event per change, until the page goes or the server shuts down.
fn stream(live: &Live) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let changes = live.inner.changes.subscribe();
    // A permit is kept if the listener is not waiting yet, so the wake-up is never lost.
    live.inner.subscribed.notify_one();
    let closing = live.inner.closing.subscribe();
    let hello = Event::default()
        .event("hello")
        .data("connected")
        .retry(Duration::from_secs(2));
    let first = futures_util::stream::once(async move { Ok(hello) });
    let rest = futures_util::stream::unfold(
        (changes, closing),
        |(mut changes, mut closing)| async move {
            if *closing.borrow() {
                return None;
            }
            let data = tokio::select! {
                received = changes.recv() => match received {
                    Ok(data) => data,
                    Err(broadcast::error::RecvError::Lagged(_)) => "lagged".to_owned(),
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = closing.changed() => return None,
            };
            let event = Event::default().event("change").data(data);
            Some((Ok(event), (changes, closing)))
        },
    );
    futures_util::StreamExt::chain(first, rest)
}

async fn events(
    State(context): State<Context>,
    Extension(live): Extension<Live>,
    headers: HeaderMap,
) -> Response {
    match viewer(&context, &headers).await {
        Ok(Some(_)) => {}
        Ok(None) => return unauthorized(),
        Err(response) => return response,
    }
    if live.is_closing() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        )
            .into_response();
    }
    Sse::new(stream(&live))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response()
}
