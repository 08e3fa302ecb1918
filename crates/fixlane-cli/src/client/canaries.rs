//! A canary or verification reported to the team server while its deploy commands and metric
//! queries run here: the profile judged on the server's record, the start, each batch of events
//! as it arrives (through the application layer's [`CanaryWriter`], as against a store), and
//! the end; and the figures of `stats`, computed from the team's record.

use fixlane_app::CanaryWriter;
use fixlane_core::IncidentId;
use fixlane_core::canary::{CanaryEvent, CanaryOutcome};
use fixlane_store::NewCanary;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Client;
use super::records::with_query;
use crate::exit::Failure;

#[derive(Debug, Deserialize)]
struct Profile {
    profile: String,
}

impl Client {
    /// The profile a canary of `incident` (else of a normal change) runs under, judged by the
    /// server's policy on its record (see `fixlane_app::App::canary_profile`); and the person
    /// the server acts as.
    pub async fn canary_profile(
        &self,
        incident: Option<&IncidentId>,
        requested: Option<&str>,
    ) -> Result<(String, String), Failure> {
        let path = with_query(
            "/canaries/profile",
            &[
                ("incident", incident.map(ToString::to_string)),
                ("profile", requested.map(str::to_owned)),
            ],
        );
        let reply = self.get::<Profile>(&path, incident).await?;
        Ok((reply.body.profile, reply.actor))
    }

    /// Records the canary's start on the server; its events go through the answer.
    pub async fn start_canary(&self, canary: &NewCanary) -> Result<RemoteCanary<'_>, Failure> {
        self.post::<Value>("/canaries", canary, canary.incident.as_ref())
            .await?;
        Ok(RemoteCanary {
            client: self,
            path: format!("/canaries/{}", canary.id),
        })
    }

    /// Starts verifying the symptom of `id` on the server, under `verification_id`.
    pub async fn start_verification(
        &self,
        id: &IncidentId,
        verification_id: &str,
        check: &str,
        hold_seconds: u64,
        timeout_seconds: u64,
    ) -> Result<RemoteCanary<'_>, Failure> {
        let body = json!({
            "id": verification_id,
            "check": check,
            "hold_seconds": hold_seconds,
            "timeout_seconds": timeout_seconds,
        });
        self.post::<Value>(&format!("/emergencies/{id}/verifications"), &body, Some(id))
            .await?;
        Ok(RemoteCanary {
            client: self,
            path: format!("/verifications/{verification_id}"),
        })
    }

    /// The figures of `stats --json` over the `since` window ending at `at`, from the server's
    /// record, as the JSON text it printed; a lane's `--jobs` time is judged for `cores`.
    pub async fn stats(&self, since: &str, at: Timestamp, cores: usize) -> Result<String, Failure> {
        let path = with_query(
            "/stats",
            &[
                ("since", Some(since.to_owned())),
                ("at", Some(at.to_string())),
                ("cores", Some(cores.to_string())),
            ],
        );
        self.get_text(&path).await
    }
}

/// A canary or verification started on the server: where its events and its end are reported.
#[derive(Debug)]
pub struct RemoteCanary<'a> {
    client: &'a Client,
    /// `/canaries/ID` or `/verifications/ID`.
    path: String,
}

impl RemoteCanary<'_> {
    /// How the canary ended.
    pub async fn finish(&self, outcome: CanaryOutcome, at: Timestamp) -> Result<(), Failure> {
        let body = json!({ "outcome": outcome, "finished_at": at });
        self.client
            .post::<Value>(&format!("{}/finish", self.path), &body, None)
            .await?;
        Ok(())
    }

    /// How the verification ended: the note for the timeline when the check held.
    pub async fn finish_verification(
        &self,
        recovered: Option<String>,
        at: Timestamp,
    ) -> Result<(), Failure> {
        let body = json!({
            "recovered": recovered.is_some(),
            "note": recovered,
            "finished_at": at,
        });
        self.client
            .post::<Value>(&format!("{}/result", self.path), &body, None)
            .await?;
        Ok(())
    }
}

impl CanaryWriter for RemoteCanary<'_> {
    type Error = Failure;

    async fn record(&self, batch: &[CanaryEvent]) -> Result<(), Failure> {
        self.client
            .post::<Value>(&format!("{}/events", self.path), &batch, None)
            .await?;
        Ok(())
    }
}
