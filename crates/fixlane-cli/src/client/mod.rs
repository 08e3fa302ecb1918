//! The CLI as a client of the team server. With `FIXLANE_SERVER` (the server's URL) and
//! `FIXLANE_TOKEN` set, the commands that read or change the record — `declare`, `approve`,
//! `bypass`, `review-rate`, `show`, `list`, `close`, `due`, `merged`, `stats`,
//! `audit verify|export|log` — ask the server instead of opening a store; `run`, `ci` and
//! `backfill` record their run there while the gates still run here; and `canary` and
//! `verify` record their steps there while the deploy commands and metric queries still run
//! here. Each command branches once, at its top, to a call here, and renders what comes back
//! with the renderer local mode uses.
//!
//! The server acts as the owner of the token, always: `--as` (or `FIXLANE_USER`) is refused
//! rather than ignored. A server that cannot be reached is an error naming its URL, with the
//! store's exit code (6), never a silent fallback to a local store; the commands that have no
//! route on the server refuse to run in client mode for the same reason.
//!
//! | module | what it holds |
//! |---|---|
//! | this one | the connection: the URL and token, each request, its answer or its error as the CLI says it |
//! | `records` | the record's routes: emergencies, follow-ups, rate reviews, the audit log |
//! | `runs` | a run reported as it goes: its emergency, its start, gates, verdict and ready fix |
//! | `canaries` | a canary or verification reported as it goes: its profile, start, events and end; the figures of `stats` |

pub mod canaries;
pub mod records;
pub mod runs;

use std::time::Duration;

use anyhow::anyhow;
use fixlane_app::AppError;
use fixlane_core::IncidentId;
use fixlane_store::StoreError;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::exit::Failure;
use crate::settings::Context;

/// The variable naming the team server.
pub const SERVER_VAR: &str = "FIXLANE_SERVER";
/// The variable holding the person's token.
pub const TOKEN_VAR: &str = "FIXLANE_TOKEN";

/// How long one request may take before the server counts as not answering.
const REQUEST_TIMEOUT: Duration = Duration::from_mins(1);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's URL when client mode is on: `FIXLANE_SERVER` set and not empty (a CI
/// variable that is not defined expands to the empty string, which means no server).
pub fn server_url() -> Option<String> {
    std::env::var(SERVER_VAR)
        .ok()
        .map(|url| url.trim().trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty())
}

/// Whether the CLI is in client mode.
pub fn configured() -> bool {
    server_url().is_some()
}

/// A connection to the team server, as the token's owner.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
    /// The config file as refusals reconstructed here name it.
    config_file: String,
}

/// A successful answer: its body, and the person the server says acted.
#[derive(Debug)]
pub struct Reply<T> {
    pub body: T,
    /// The token's owner (the `fixlane-actor` header).
    pub actor: String,
}

/// The JSON of every error answer (see `fixlane_server::ApiError`).
#[derive(Debug, serde::Deserialize)]
struct ErrorAnswer {
    rule: String,
    #[serde(default)]
    instead: String,
    message: String,
    #[serde(default)]
    refused: Option<String>,
}

impl Client {
    /// The client, when `FIXLANE_SERVER` is set; `None` in local mode. Refuses `--as` (the
    /// token's owner acts) and a server without a token.
    pub fn from_env(context: &Context) -> Result<Option<Self>, Failure> {
        let Some(base) = server_url() else {
            return Ok(None);
        };
        if let Some(named) = context.acting_as() {
            let how = if std::env::var("FIXLANE_USER").ok().as_deref() == Some(named) {
                format!("FIXLANE_USER={named}")
            } else {
                format!("--as {named}")
            };
            return Err(Failure::error(anyhow!(
                "{how} names who acts, but with {SERVER_VAR} set ({base}) the server acts as the \
                 owner of {TOKEN_VAR}, whoever is named: leave it out and use your own token, \
                 or unset {SERVER_VAR} to work on a local store"
            )));
        }
        let token = std::env::var(TOKEN_VAR)
            .ok()
            .map(|token| token.trim().to_owned())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Failure::error(anyhow!(
                    "{SERVER_VAR} is set ({base}) but {TOKEN_VAR} is not: set it to your own \
                     token (an operator issues one with `fixlane token issue NAME`), or unset \
                     {SERVER_VAR} to work on a local store"
                ))
            })?;
        let parsed = reqwest::Url::parse(&base).map_err(|error| {
            Failure::error(anyhow!(
                "{SERVER_VAR}={base} is not a URL ({error}): set it to the server's address, \
                 like http://127.0.0.1:8080"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Failure::error(anyhow!(
                "{SERVER_VAR}={base} is not an http:// or https:// URL"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("fixlane/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| Failure::error(anyhow!("could not set up HTTP: {error}")))?;
        Ok(Some(Self {
            base,
            token,
            http,
            config_file: context.config_display(),
        }))
    }

    /// The server's URL, as messages name it.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// `GET /api/v1{path}`, its JSON answer.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        about: Option<&IncidentId>,
    ) -> Result<Reply<T>, Failure> {
        let (actor, bytes) = self.send(Method::GET, path, None, about).await?;
        self.decode(path, actor, &bytes)
    }

    /// `GET /api/v1{path}`, its answer as text (the audit export's JSON Lines).
    pub async fn get_text(&self, path: &str) -> Result<String, Failure> {
        let (_, bytes) = self.send(Method::GET, path, None, None).await?;
        String::from_utf8(bytes).map_err(|_| {
            Failure::error(anyhow!(
                "the server at {} answered {path} with text that is not UTF-8",
                self.base
            ))
        })
    }

    /// `POST /api/v1{path}` with `body` as JSON, its JSON answer.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        about: Option<&IncidentId>,
    ) -> Result<Reply<T>, Failure> {
        let body = serde_json::to_vec(body)?;
        let (actor, bytes) = self.send(Method::POST, path, Some(body), about).await?;
        self.decode(path, actor, &bytes)
    }

    fn decode<T: DeserializeOwned>(
        &self,
        path: &str,
        actor: String,
        bytes: &[u8],
    ) -> Result<Reply<T>, Failure> {
        let body = serde_json::from_slice(bytes).map_err(|error| {
            Failure::error(anyhow!(
                "the server at {} answered {path} with JSON this fixlane does not read ({error}): \
                 is it the same version?",
                self.base
            ))
        })?;
        Ok(Reply { body, actor })
    }

    /// One request; a success is the acting person and the body, anything else the failure the
    /// CLI prints. `about` is the emergency asked about, for the words of a missing one.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        about: Option<&IncidentId>,
    ) -> Result<(String, Vec<u8>), Failure> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|error| self.unreachable(&error))?;
        let status = response.status();
        let actor = response
            .headers()
            .get("fixlane-actor")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.unreachable(&error))?;
        if status.is_success() {
            return Ok((actor, bytes.to_vec()));
        }
        Err(self.refused(status, &bytes, about))
    }

    /// A server that did not answer: the store's exit code (6), naming the URL. A connection
    /// never made wrote nothing; one lost after the request went out may have.
    fn unreachable(&self, error: &reqwest::Error) -> Failure {
        let mut cause = String::new();
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
        while let Some(inner) = source {
            cause.push_str(": ");
            cause.push_str(&inner.to_string());
            source = inner.source();
        }
        let message = if error.is_connect() {
            format!(
                "could not reach the fixlane server at {} ({SERVER_VAR}){cause}; nothing was \
                 sent, and no local store was used instead: start the server, or correct or \
                 unset {SERVER_VAR}",
                self.base
            )
        } else if error.is_timeout() {
            format!(
                "the fixlane server at {} ({SERVER_VAR}) did not answer within {}s; whether it \
                 recorded the request, `fixlane show` or `fixlane audit export` tells",
                self.base,
                REQUEST_TIMEOUT.as_secs()
            )
        } else {
            format!(
                "the fixlane server at {} ({SERVER_VAR}) stopped answering{cause}; whether it \
                 recorded the request, `fixlane show` or `fixlane audit export` tells",
                self.base
            )
        };
        Failure::store(anyhow!(message))
    }

    /// An error answer as the CLI says it: the same words and exit code local mode has for the
    /// same application error where the answer names one, else the server's own words.
    fn refused(&self, status: StatusCode, bytes: &[u8], about: Option<&IncidentId>) -> Failure {
        let Ok(answer) = serde_json::from_slice::<ErrorAnswer>(bytes) else {
            let failure = anyhow!(
                "the server at {} answered {status} without fixlane's JSON: is {SERVER_VAR} the \
                 address of a fixlane server?",
                self.base
            );
            return if status.is_server_error() {
                Failure::store(failure)
            } else {
                Failure::error(failure)
            };
        };
        let local = |error: AppError| crate::records::app_failure_in(error, &self.config_file);
        match (status, answer.rule.as_str(), about) {
            // The server words a refusal as the CLI does (its rule, where, instead, in the
            // CLI's commands): printed as it is, exit 1.
            (StatusCode::FORBIDDEN, _, _) if answer.refused.is_some() => {
                Failure::failed(anyhow!("{}", answer.message))
            }
            (StatusCode::UNAUTHORIZED, _, _) => Failure::failed(anyhow!(
                "the server at {} refused {TOKEN_VAR}: {}\ninstead: {}",
                self.base,
                answer.message,
                answer.instead
            )),
            (StatusCode::NOT_FOUND, "emergency.unknown", Some(id)) => {
                local(AppError::NoSuchEmergency(id.clone()))
            }
            (StatusCode::CONFLICT, "emergency.exists", Some(id)) => {
                local(AppError::Store(StoreError::EmergencyExists {
                    id: id.to_string(),
                }))
            }
            (StatusCode::UNPROCESSABLE_ENTITY, "rate_review.notes", _) => {
                local(AppError::EmptyNotes)
            }
            (StatusCode::SERVICE_UNAVAILABLE, _, _) => Failure::store(anyhow!(
                "{} (the server at {})\ninstead: {}",
                answer.message,
                self.base,
                answer.instead
            )),
            _ => Failure::error(anyhow!(
                "{} (the server at {})\ninstead: {}",
                answer.message,
                self.base,
                answer.instead
            )),
        }
    }
}

/// Refuses an `--at` that would stamp a record: in client mode the server's clock does.
pub fn refuse_at(at: Option<&str>, command: &str) -> Result<(), Failure> {
    match at {
        None => Ok(()),
        Some(at) => Err(Failure::error(anyhow!(
            "`fixlane {command} --at {at}` stamps the record with a time of your choosing; with \
             {SERVER_VAR} set the server's clock stamps what it records: leave --at out, or \
             unset {SERVER_VAR} to work on a local store"
        ))),
    }
}

/// Refuses a command that has no route on the server: run against a local store, it would
/// read or write a record other than the team's without saying so.
pub fn refuse_local_only(command: &str) -> Failure {
    let base = server_url().unwrap_or_default();
    Failure::error(anyhow!(
        "`fixlane {command}` works on a local store only, and {SERVER_VAR} is set ({base}): it \
         would not see the team's record. Unset {SERVER_VAR} to run it on the local store"
    ))
}
