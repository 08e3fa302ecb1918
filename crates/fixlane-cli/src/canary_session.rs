//! A canary or a verification as it happens: shown, recorded in the store (every sample kept,
//! every state change audited), and reflected on the emergency's timeline. A store that cannot
//! record stops the canary, which then rolls back: nothing ships unrecorded.

use fixlane_canary::CanaryEvent;
use fixlane_core::IncidentId;
use fixlane_core::emergency::EmergencyState;
use fixlane_store::{AnyStore, CanaryEventRecord, Store};
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::exit::Failure;
use crate::records;
use crate::report::canary::CanaryView;

/// The `event` tag of an event, as stored.
fn kind(event: &CanaryEvent) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|value| {
            value
                .get("event")
                .and_then(|kind| kind.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The audit action for an emergency moved to `state` by a canary.
fn action(state: EmergencyState) -> &'static str {
    match state {
        EmergencyState::Deploying => "deploying",
        EmergencyState::Promoted => "promoted",
        EmergencyState::RolledBack => "rolled-back",
        _ => "canary",
    }
}

pub struct Session<'a> {
    pub store: &'a AnyStore,
    pub actor: String,
    pub canary_id: String,
    pub incident: Option<IncidentId>,
}

impl Session<'_> {
    /// Moves the emergency along, with the event's own time on the timeline.
    pub async fn move_emergency(
        &self,
        state: EmergencyState,
        action: &str,
        at: Timestamp,
        note: Option<String>,
    ) -> Result<(), Failure> {
        let Some(id) = &self.incident else {
            return Ok(());
        };
        let updated = self
            .store
            .update_emergency(&self.actor, id, action, |row| {
                let mut emergency = records::from_row(&row)?;
                if emergency.state == state {
                    return anyhow::Ok((
                        row,
                        serde_json::json!({ "state": state.as_str(), "unchanged": true }),
                    ));
                }
                emergency.transition(state, at, &self.actor, note.clone())?;
                let details = serde_json::json!({
                    "id": emergency.id,
                    "state": state.as_str(),
                    "canary": self.canary_id,
                    "note": note,
                });
                anyhow::Ok((records::to_row(&emergency, Timestamp::now())?, details))
            })
            .await?;
        match updated {
            Some(Err(error)) => Err(Failure::error(error)),
            _ => Ok(()),
        }
    }

    /// Shows and records events until the driver is done.
    pub async fn consume(
        &self,
        mut events: mpsc::UnboundedReceiver<CanaryEvent>,
        view: &mut CanaryView,
        cancel: &watch::Sender<bool>,
    ) -> Result<Vec<CanaryEvent>, Failure> {
        let mut seen = Vec::new();
        while let Some(first) = events.recv().await {
            let mut batch = vec![first];
            while let Ok(more) = events.try_recv() {
                batch.push(more);
            }
            for event in &batch {
                view.event(event);
            }
            let result = self.record(&batch).await;
            if let Err(error) = result {
                // Fail closed: a canary whose steps cannot be recorded rolls back.
                let _ = cancel.send(true);
                while let Some(event) = events.recv().await {
                    view.event(&event);
                }
                return Err(error);
            }
            seen.extend(batch);
        }
        Ok(seen)
    }

    async fn record(&self, batch: &[CanaryEvent]) -> Result<(), Failure> {
        let records: Vec<CanaryEventRecord> = batch
            .iter()
            .map(|event| {
                Ok(CanaryEventRecord {
                    kind: kind(event),
                    at: event.at(),
                    data: serde_json::to_value(event)?,
                    audited: event.is_state_change(),
                })
            })
            .collect::<Result<_, serde_json::Error>>()
            .map_err(Failure::error)?;
        self.store
            .record_canary_events(&self.actor, &self.canary_id, &records)
            .await?;
        for event in batch {
            if let Some(state) = event.emergency_state() {
                let note = match event {
                    CanaryEvent::RolledBack { reason, .. } => Some(reason.clone()),
                    _ => Some(format!("canary {}", self.canary_id)),
                };
                self.move_emergency(state, action(state), event.at(), note)
                    .await?;
            }
        }
        Ok(())
    }
}

/// A new id for a canary or a verification: the run-id shape behind a prefix.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", crate::commands::run::run_id())
}
