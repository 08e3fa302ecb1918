//! A run reported to the team server while its gates run here: the emergency it belongs to
//! (looked up on the server's record), a deploy outside the windows under the record's
//! bypasses, the run's start with the policy it read, its gates and verdict as they arrive
//! (through the application layer's [`write_events`], as against a store), the fix made ready,
//! and the shipped emergencies a default-branch run finds merged.

use anyhow::anyhow;
use fixlane_app::recorder::{RunWriter, write_events};
use fixlane_core::audit::DeployWindowBypassed;
use fixlane_core::emergency::Emergency;
use fixlane_core::lane::NoEmergency;
use fixlane_core::policy_change::Weakening;
use fixlane_core::{IncidentId, RunEvent, Verdict};
use fixlane_store::{GateRecord, NewRun};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::Client;
use super::records::with_query;
use crate::exit::Failure;

/// The server's answer to "which emergency is this run's?".
#[derive(Debug, Deserialize)]
struct ForRun {
    emergency: Option<Emergency>,
    missing: Option<NoEmergency>,
}

/// How the policy the run read compares with the server's.
#[derive(Debug, Deserialize)]
pub struct PolicyAnswer {
    pub matches: bool,
    pub run_sha256: String,
    pub server_sha256: String,
}

#[derive(Debug, Deserialize)]
struct Started {
    policy: PolicyAnswer,
}

#[derive(Debug, Deserialize)]
struct Opened {
    opened: Vec<IncidentId>,
}

impl Client {
    /// The emergency a run belongs to, on the server's record (see
    /// `fixlane_app::App::emergency_for_run`).
    pub async fn emergency_for_run(
        &self,
        incident: Option<&IncidentId>,
        branch: Option<&str>,
    ) -> Result<Result<Emergency, NoEmergency>, Failure> {
        let path = with_query(
            "/runs/emergency",
            &[
                ("incident", incident.map(ToString::to_string)),
                ("branch", branch.map(str::to_owned)),
            ],
        );
        let answer: ForRun = self.get(&path, incident).await?.body;
        match (answer.emergency, answer.missing) {
            (Some(emergency), _) => Ok(Ok(emergency)),
            (None, Some(missing)) => Ok(Err(missing)),
            (None, None) => Err(Failure::error(anyhow!(
                "the server at {} named neither the run's emergency nor why it has none",
                self.url()
            ))),
        }
    }

    pub async fn deploy_window_bypassed(
        &self,
        bypassed: &DeployWindowBypassed,
    ) -> Result<(), Failure> {
        self.post::<Value>("/deploy-window-bypasses", bypassed, None)
            .await?;
        Ok(())
    }

    /// Records the run's start: the config it read, the SHA-256 of its policy, the run and any
    /// weakening of the policy against the base.
    pub async fn start_run(
        &self,
        config_seen: &(String, String),
        policy_sha256: &str,
        run: &NewRun,
        weakenings: &[Weakening],
    ) -> Result<PolicyAnswer, Failure> {
        let body = json!({
            "run": run,
            "config": { "file": config_seen.0, "sha256": config_seen.1 },
            "policy_sha256": policy_sha256,
            "weakenings": weakenings,
        });
        Ok(self
            .post::<Started>("/runs", &body, run.incident.as_ref())
            .await?
            .body
            .policy)
    }

    /// The run reached `ready` at `ready_at`: the server makes its emergency's fix ready, judged
    /// on the run as it recorded it.
    pub async fn fix_ready(&self, run_id: &str, ready_at: Timestamp) -> Result<(), Failure> {
        self.post::<Value>(
            &format!("/runs/{run_id}/fix-ready"),
            &json!({ "ready_at": ready_at }),
            None,
        )
        .await?;
        Ok(())
    }

    /// The emergencies still open on the server, for a default-branch run to look for in its
    /// history.
    pub async fn active_emergencies(&self) -> Result<Vec<IncidentId>, Failure> {
        #[derive(Deserialize)]
        struct Listed {
            id: IncidentId,
        }
        let listed: Vec<Listed> = self.get("/emergencies", None).await?.body;
        Ok(listed.into_iter().map(|listed| listed.id).collect())
    }

    /// Of `merged` (emergencies whose fix this run's commit contains), the shipped ones without
    /// follow-ups get them opened; returns those.
    pub async fn open_merged(
        &self,
        run_id: &str,
        merged: &[IncidentId],
    ) -> Result<Vec<IncidentId>, Failure> {
        let opened: Opened = self
            .post(
                &format!("/runs/{run_id}/merged"),
                &json!({ "merged": merged }),
                None,
            )
            .await?
            .body;
        Ok(opened.opened)
    }
}

impl RunWriter for Client {
    type Error = Failure;

    async fn record_gates(&self, run_id: &str, gates: &[GateRecord]) -> Result<(), Failure> {
        self.post::<Value>(&format!("/runs/{run_id}/gates"), &gates, None)
            .await?;
        Ok(())
    }

    async fn finish_run(
        &self,
        run_id: &str,
        verdict: Verdict,
        reasons: &[String],
        at: Timestamp,
    ) -> Result<(), Failure> {
        let body = json!({ "verdict": verdict, "reasons": reasons, "finished_at": at });
        self.post::<Value>(&format!("/runs/{run_id}/verdict"), &body, None)
            .await?;
        Ok(())
    }
}

/// Records the run on the server as its events arrive; its start is recorded already. A server
/// that cannot record cancels the run (fail closed: nothing ships unrecorded).
pub async fn record(
    client: Client,
    run_id: String,
    mut events: mpsc::UnboundedReceiver<RunEvent>,
    cancel: watch::Sender<bool>,
    started: watch::Sender<Option<bool>>,
) -> Result<Vec<String>, Failure> {
    let _ = started.send(Some(true));
    let result = write_events(&client, &run_id, &mut events).await;
    if result.is_err() {
        let _ = cancel.send(true);
    }
    result.map(|()| Vec::new())
}
