//! A real server for each test: bound to a free port on 127.0.0.1, on a real `SQLite` file in a
//! temporary directory, answering a real HTTP client; tokens issued through the application
//! layer as `fixlane token issue` issues them.

use fixlane_app::App;
use fixlane_core::Config;
use fixlane_core::emergency::Instead;
use fixlane_server::{Options, Server, ServerError};
use fixlane_store::{AnyStore, Store, StoreLocation};
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// The policy every test server enforces: who holds which role, and who approves what.
pub const CONFIG: &str = r#"[project]
name = "checkout-service"

[people.alice]
roles = ["sre-lead"]
[people.bob]
roles = ["engineer"]
[people.carol]
roles = ["security-lead"]
[people.dave]
roles = ["platform-lead"]
[people.erin]
roles = ["security-lead"]

[gates.build]
run = "true"
tier = "critical"

[lanes.hotfix]
branches = ["hotfix/**"]
emergency = true

[emergency]
severities = ["P0"]
cleanup_within = "24h"
postmortem_within = "48h"
audit_review_within = "7d"
backfill_within = "24h"

[emergency.categories.security]
approvers = [["security-lead"], ["platform-lead"]]
may_bypass = ["eval", "canary", "window", "freeze"]
"#;

/// An incident id dated far from today: declarations say `any_date`.
pub const ID: &str = "INC-2026-05-20-001";

/// How the test server spells what to do instead: marked, so a test sees that the words the
/// server was started with are the ones it answers with.
fn say(instead: &Instead) -> String {
    format!("SAY: {instead}")
}

pub fn config(text: &str) -> Config {
    fixlane_core::config::parse(text, "fixlane.toml")
        .unwrap_or_else(|errors| panic!("{}", errors.render_plain()))
}

/// One running server.
pub struct TestServer {
    pub base: String,
    pub store: AnyStore,
    pub config: Config,
    pub location: StoreLocation,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<Result<(), ServerError>>>,
    /// The store's directory, kept until the server is dropped.
    dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// A server on a fresh `SQLite` file, enforcing [`CONFIG`].
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let location = StoreLocation::sqlite(dir.path().join("fixlane.db"));
        let mut server = Self::on(location, CONFIG).await;
        server.dir = Some(dir);
        server
    }

    /// A server on the store at `location`, enforcing the config `text`.
    pub async fn on(location: StoreLocation, text: &str) -> Self {
        let config = config(text);
        let server = Server::bind(Options {
            listen: "127.0.0.1:0".parse().unwrap(),
            location: location.clone(),
            config: config.clone(),
            config_name: "fixlane.toml".to_owned(),
            config_sha256: Some(fixlane_core::audit::content_hash(text)),
            say,
        })
        .await
        .unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        let store = server.context().store().clone();
        let (shutdown, stop) = oneshot::channel::<()>();
        let serving = tokio::spawn(server.run(async {
            let _ = stop.await;
        }));
        Self {
            base,
            store,
            config,
            location,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            serving: Some(serving),
            dir: None,
        }
    }

    /// Issues a token for `person` as an operator would; returns its text and id.
    pub async fn token(&self, person: &str) -> (String, String) {
        self.token_at(person, None, Timestamp::now()).await
    }

    /// A token issued at `at`, living `lifetime`.
    pub async fn token_at(
        &self,
        person: &str,
        lifetime: Option<&str>,
        at: Timestamp,
    ) -> (String, String) {
        let lifetime = lifetime.map(|text| fixlane_core::Duration::parse(text).unwrap());
        let issued = App::new(&self.store, &self.config)
            .issue_token("operator", person, lifetime, at)
            .await
            .unwrap();
        (
            issued.secret.expose().to_owned(),
            issued.record.id.to_string(),
        )
    }

    fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `GET path`: the status and the JSON answer.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        answer(self.request(reqwest::Method::GET, path, token)).await
    }

    /// `GET path`: the status and the answer as text, exactly as sent.
    pub async fn get_text(&self, path: &str, token: Option<&str>) -> (StatusCode, String) {
        let response = self
            .request(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        answer(self.request(reqwest::Method::POST, path, token).json(body)).await
    }

    /// A request with a raw `Authorization` header.
    pub async fn get_with_authorization(&self, path: &str, header: &str) -> (StatusCode, Value) {
        answer(
            self.request(reqwest::Method::GET, path, None)
                .header(reqwest::header::AUTHORIZATION, header),
        )
        .await
    }

    /// `GET /metrics` with an `Accept` header, when given: the content type and the text.
    pub async fn metrics(&self, accept: Option<&str>) -> (String, String) {
        let mut request = self.request(reqwest::Method::GET, "/metrics", None);
        if let Some(accept) = accept {
            request = request.header(reqwest::header::ACCEPT, accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        (content_type, response.text().await.unwrap())
    }

    /// The audit log's `(actor, action, details)`, in order.
    pub async fn audit(&self) -> Vec<(String, String, Value)> {
        self.store
            .audit_entries()
            .await
            .unwrap()
            .into_iter()
            .map(|entry| (entry.actor, entry.action, entry.details))
            .collect()
    }

    /// Stops serving and waits until it has.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(serving) = self.serving.take() {
            serving.await.unwrap().unwrap();
        }
    }
}

async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"));
    (status, value)
}

/// A declaration's body, by whoever's token sends it.
pub fn declaration(id: &str) -> Value {
    json!({
        "id": id,
        "any_date": true,
        "severity": "P0",
        "category": "security",
        "title": "payments time out",
        "cleanup_owner": "bob",
        "eta": "23:30",
        "flag_flip": "no flag covers the payment path",
        "rollback": "the bug is in a brand-new feature",
    })
}
