//! fixlane's webhook deliveries: drains the store's outbox to each `[[notify.webhooks]]` hook.
//!
//! The outbox is written by the store's audit append, in the action's own transaction, so
//! delivering never blocks or undoes the action: a drain runs after it (at the end of a CLI
//! command, or in a server replica's background task), claims each due delivery with a lease
//! so no two drainers send the same one, sends a Slack-compatible JSON body (which Slack and
//! Mattermost incoming webhooks take as it is) signed per Standard Webhooks when the hook has
//! a secret, and records the outcome: delivered, skipped (the hook does not hear the event),
//! retried later with backoff, or given up after [`MAX_ATTEMPTS`]. A receiver sees each event
//! once unless a drainer dies between its answer and the record of it; the `webhook-id` header
//! (`fixlane-<audit seq>`) lets it drop such a repeat.
//!
//! Hook URLs can be secrets (a Slack webhook URL is one): nothing here prints one; errors name
//! the hook by its key (`env:NAME` or a hash of the URL) and the URL's host.

use std::time::Duration;

use fixlane_core::config::model::{Config, Webhook, WebhookTarget};
use fixlane_core::notify::{self, WebhookEvent};
use fixlane_store::{DeliveryOutcome, Store, StoreError};
use jiff::Timestamp;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 8;

/// How far back a hook is sent what it missed: a hook added today is not sent last year.
const CATCH_UP: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// How long a claimed delivery is held before another drainer may take it.
const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// Deliveries claimed at a time.
const BATCH: i64 = 20;

/// Why a drain could not run at all (a single delivery's failure is an outcome, not this).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not set up the HTTPS client for webhooks: {0}")]
    Client(String),
}

/// What a drain did, for the caller to report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drained {
    pub delivered: u64,
    pub skipped: u64,
    pub retrying: u64,
    pub gave_up: u64,
    /// Overdue follow-ups noted (each an event of its own).
    pub overdue_noted: u64,
    /// One line per problem, naming the hook but never its URL.
    pub problems: Vec<String>,
}

/// Reads an environment variable (tests hand in their own).
pub type EnvLookup = std::sync::Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How a drain runs.
#[derive(Clone)]
pub struct DrainOptions {
    /// The moment deliveries are judged due at (tests move it; otherwise now).
    pub now: Timestamp,
    /// The drain stops claiming after this long; what is left waits for the next drain.
    pub budget: Duration,
    /// The longest one request may take.
    pub request_timeout: Duration,
    /// The zone times are worded in.
    pub zone: jiff::tz::TimeZone,
    /// Who notes overdue follow-ups in the audit log.
    pub actor: String,
    /// Where `url_env` and `secret_env` are looked up: the process environment.
    pub env: EnvLookup,
}

impl std::fmt::Debug for DrainOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DrainOptions")
            .field("now", &self.now)
            .field("budget", &self.budget)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl DrainOptions {
    pub fn new(zone: jiff::tz::TimeZone) -> Self {
        Self {
            now: Timestamp::now(),
            budget: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            zone,
            actor: "fixlane".to_owned(),
            env: std::sync::Arc::new(|name| std::env::var(name).ok()),
        }
    }
}

/// A hook ready to send to, or why it cannot be.
struct Hook<'c> {
    config: &'c Webhook,
    key: String,
    url: Result<String, String>,
    secret: Result<Option<String>, String>,
}

impl<'c> Hook<'c> {
    fn resolve(config: &'c Webhook, env: &EnvLookup) -> Self {
        let url = match &config.target {
            WebhookTarget::Url(url) => Ok(url.clone()),
            WebhookTarget::Env(name) => match env(name) {
                Some(url) if url.starts_with("https://") || url.starts_with("http://") => Ok(url),
                Some(_) => Err(format!("{name} does not hold an http:// or https:// URL")),
                None => Err(format!("{name} is not set where fixlane runs")),
            },
        };
        let secret = match &config.secret_env {
            None => Ok(None),
            Some(name) => match env(name) {
                Some(secret) if !secret.is_empty() => Ok(Some(secret)),
                // Fail closed: a hook that is meant to be signed is never sent unsigned.
                _ => Err(format!(
                    "{name} is not set, and this hook is never sent unsigned"
                )),
            },
        };
        Self {
            config,
            key: config.key(),
            url,
            secret,
        }
    }
}

/// The host of a URL, for messages: the path of a Slack webhook URL is its secret.
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "an unreadable URL".to_owned())
}

/// One HTTPS client for every hook.
pub fn client(timeout: Duration) -> Result<reqwest::Client, NotifyError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|error| NotifyError::Client(error.to_string()))
}

/// Drains what is due to every configured hook, within the options' budget.
pub async fn drain<S: Store + Sync>(
    store: &S,
    config: &Config,
    options: &DrainOptions,
) -> Result<Drained, NotifyError> {
    let mut drained = Drained::default();
    if config.notify.webhooks.is_empty() {
        return Ok(drained);
    }
    let noted = store.note_overdue(&options.actor, options.now).await?;
    drained.overdue_noted = u64::try_from(noted.len()).unwrap_or(u64::MAX);
    let client = client(options.request_timeout)?;
    let started = std::time::Instant::now();
    let since = options.now.checked_sub(CATCH_UP).unwrap_or(Timestamp::MIN);
    for config_hook in &config.notify.webhooks {
        let hook = Hook::resolve(config_hook, &options.env);
        let (url, secret) = match (&hook.url, &hook.secret) {
            (Ok(url), Ok(secret)) => (url.clone(), secret.clone()),
            (Err(why), _) | (_, Err(why)) => {
                drained
                    .problems
                    .push(format!("webhook {} is not sent: {why}", hook.key));
                continue;
            }
        };
        store.plan_deliveries(&hook.key, since).await?;
        while started.elapsed() < options.budget {
            let lease = options.now.checked_add(LEASE).unwrap_or(Timestamp::MAX);
            let claims = store
                .claim_deliveries(&hook.key, options.now, lease, BATCH)
                .await?;
            if claims.is_empty() {
                break;
            }
            for claim in claims {
                let outcome = send_one(
                    store,
                    &client,
                    &hook,
                    &url,
                    secret.as_deref(),
                    claim,
                    options,
                )
                .await?;
                match &outcome {
                    DeliveryOutcome::Delivered { .. } => drained.delivered += 1,
                    DeliveryOutcome::Skipped { .. } => drained.skipped += 1,
                    DeliveryOutcome::Retry { error, .. } => {
                        drained.retrying += 1;
                        drained.problems.push(format!(
                            "webhook {} ({}) failed, retried later: {error}",
                            hook.key,
                            host_of(&url)
                        ));
                    }
                    DeliveryOutcome::GaveUp { error, .. } => {
                        drained.gave_up += 1;
                        drained.problems.push(format!(
                            "webhook {} ({}) failed {MAX_ATTEMPTS} times and is given up: {error}",
                            hook.key,
                            host_of(&url)
                        ));
                    }
                }
                store
                    .finish_delivery(&hook.key, claim.seq, &outcome)
                    .await?;
            }
        }
    }
    Ok(drained)
}

/// Sends one claimed delivery and says how it ended.
async fn send_one<S: Store + Sync>(
    store: &S,
    client: &reqwest::Client,
    hook: &Hook<'_>,
    url: &str,
    secret: Option<&str>,
    claim: fixlane_store::DeliveryClaim,
    options: &DrainOptions,
) -> Result<DeliveryOutcome, NotifyError> {
    let Some(entry) = store.audit_entry(claim.seq).await? else {
        return Ok(DeliveryOutcome::Skipped { at: options.now });
    };
    let Some(event) = WebhookEvent::of_action(&entry.action, &entry.details) else {
        return Ok(DeliveryOutcome::Skipped { at: options.now });
    };
    if !hook.config.events.contains(&event) {
        return Ok(DeliveryOutcome::Skipped { at: options.now });
    }
    let when = entry.time.parse::<Timestamp>().map_or_else(
        |_| entry.time.clone(),
        |at| {
            at.to_zoned_datetime(options.zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        },
    );
    let body = notify::body(event, &entry, &when).to_string();
    let id = format!("fixlane-{}", entry.seq);
    let timestamp = Timestamp::now().as_second();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string());
    if let Some(secret) = secret {
        request = request.header(
            "webhook-signature",
            notify::signature(secret, &id, timestamp, &body),
        );
    }
    let result = request.body(body).send().await;
    let error = match result {
        Ok(response) if response.status().is_success() => {
            return Ok(DeliveryOutcome::Delivered { at: options.now });
        }
        Ok(response) => format!("the receiver answered HTTP {}", response.status().as_u16()),
        // The error's text can hold the URL; say only what kind of failure it was.
        Err(error) if error.is_timeout() => "the receiver did not answer in time".to_owned(),
        Err(error) if error.is_connect() => "could not connect to the receiver".to_owned(),
        Err(_) => "the request failed".to_owned(),
    };
    let attempt = claim.attempts + 1;
    if attempt >= MAX_ATTEMPTS {
        return Ok(DeliveryOutcome::GaveUp {
            at: options.now,
            error,
        });
    }
    let retry = options
        .now
        .checked_add(jiff::SignedDuration::from_secs(notify::backoff_seconds(
            attempt,
        )))
        .unwrap_or(Timestamp::MAX);
    Ok(DeliveryOutcome::Retry { at: retry, error })
}
