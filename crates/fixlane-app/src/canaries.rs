//! A canary or a verification as it happens: started on record, every event kept (state changes
//! audited), the emergency moved along its timeline, and the end recorded. A store that cannot
//! record stops the canary, which then rolls back: nothing ships unrecorded.

use fixlane_core::audit::{AuditAction, EmergencyMoved, EmergencyUnchanged};
use fixlane_core::canary::CanaryEvent;
use fixlane_core::emergency::{Emergency, EmergencyState};
use fixlane_core::{Config, IncidentId, PersonName};
use fixlane_store::{CanaryEventRecord, NewCanary, Store};
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::recorder::next_batch;
use crate::records::{from_row, to_row};
use crate::{App, AppError};

/// Records one canary (or verification) run and what it does to its emergency.
#[derive(Debug)]
pub struct CanaryRecorder<'a, S> {
    pub store: &'a S,
    /// The policy follow-ups open under when the canary promotes the fix.
    pub config: &'a Config,
    pub actor: String,
    pub canary_id: String,
    pub incident: Option<IncidentId>,
}

/// A verification that may start: the record as it stands, and its recorder.
#[derive(Debug)]
pub struct VerificationStart<'a, S> {
    pub emergency: Emergency,
    pub recorder: CanaryRecorder<'a, S>,
}

impl<'a, S: Store + Sync> CanaryRecorder<'a, S> {
    /// Records the start of `canary` by `actor` and returns its recorder.
    pub async fn start(
        store: &'a S,
        config: &'a Config,
        actor: &str,
        canary: NewCanary,
    ) -> Result<Self, AppError> {
        let incident = canary.incident.clone();
        store.start_canary(actor, &canary).await?;
        Ok(Self {
            store,
            config,
            actor: actor.to_owned(),
            canary_id: canary.id,
            incident,
        })
    }

    /// Moves the emergency to `state` with the event's own time on the timeline; a record
    /// already there gets an audit entry saying so.
    pub async fn move_emergency(
        &self,
        state: EmergencyState,
        at: Timestamp,
        note: Option<String>,
    ) -> Result<(), AppError> {
        let Some(id) = &self.incident else {
            return Ok(());
        };
        let updated = self
            .store
            .update_emergency(&self.actor, id, |row| {
                let mut emergency = from_row(&row)?;
                let action = if emergency.state == state {
                    let action = AuditAction::EmergencyUnchanged(EmergencyUnchanged {
                        state,
                        unchanged: true,
                    });
                    return Ok((row, action));
                } else {
                    emergency.transition(state, at, &self.actor, note.clone())?;
                    AuditAction::EmergencyMoved(EmergencyMoved {
                        id: emergency.id.clone(),
                        state,
                        canary: self.canary_id.clone(),
                        note: note.clone(),
                    })
                };
                Ok::<_, AppError>((to_row(&emergency, Timestamp::now())?, action))
            })
            .await?;
        match updated {
            Some(Err(error)) => Err(error),
            _ => Ok(()),
        }
    }

    /// Records a batch of events: each kept, the state changes audited, and the emergency moved
    /// by the events that move it.
    pub async fn record(&self, batch: &[CanaryEvent]) -> Result<(), AppError> {
        let records: Vec<CanaryEventRecord> = batch
            .iter()
            .map(|event| {
                // Encoded once: the stored kind is the encoding's own `event` tag.
                let data = serde_json::to_value(event)?;
                let kind = data
                    .get("event")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("unknown")
                    .to_owned();
                Ok(CanaryEventRecord {
                    kind,
                    at: event.at(),
                    data,
                    audited: event.is_state_change(),
                })
            })
            .collect::<Result<_, serde_json::Error>>()
            .map_err(|source| AppError::Encode {
                what: "a canary event",
                source,
            })?;
        self.store
            .record_canary_events(&self.actor, &self.canary_id, &records)
            .await?;
        for event in batch {
            if let Some(state) = event.emergency_state() {
                let note = match event {
                    CanaryEvent::RolledBack { reason, .. } => Some(reason.clone()),
                    _ => Some(format!("canary {}", self.canary_id)),
                };
                self.move_emergency(state, event.at(), note).await?;
                // A promoted fix has left the emergency lane: its follow-ups open now.
                if let (EmergencyState::Promoted, Some(id)) = (state, &self.incident) {
                    App::new(self.store, self.config)
                        .open_followups(&self.actor, id, "promoted", event.at())
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Shows (through `show`) and records events until the driver is done. When recording
    /// fails, the driver is cancelled (it rolls back) and its remaining events are still shown.
    pub async fn consume(
        &self,
        mut events: mpsc::UnboundedReceiver<CanaryEvent>,
        mut show: impl FnMut(&CanaryEvent),
        cancel: &watch::Sender<bool>,
    ) -> Result<Vec<CanaryEvent>, AppError> {
        let mut seen = Vec::new();
        while let Some(batch) = next_batch(&mut events, std::time::Duration::ZERO, |_| false).await
        {
            for event in &batch {
                show(event);
            }
            if let Err(error) = self.record(&batch).await {
                // Fail closed: a canary whose steps cannot be recorded rolls back.
                let _ = cancel.send(true);
                while let Some(event) = events.recv().await {
                    show(&event);
                }
                return Err(error);
            }
            seen.extend(batch);
        }
        Ok(seen)
    }

    /// Records how the canary or verification ended.
    pub async fn finish(&self, outcome: &str, at: Timestamp) -> Result<(), AppError> {
        self.store
            .finish_canary(&self.actor, &self.canary_id, outcome, at)
            .await?;
        Ok(())
    }
}

impl<'a, S: Store + Sync> App<'a, S> {
    /// Starts verifying the symptom of `id` after its canary promoted or rolled back: the
    /// verification is recorded like a canary run, under `verification_id`.
    pub async fn start_verification(
        &self,
        person: &PersonName,
        id: &IncidentId,
        verification_id: String,
        check: &str,
        hold_seconds: u64,
        timeout_seconds: u64,
    ) -> Result<VerificationStart<'a, S>, AppError> {
        let emergency = self.emergency(id).await?;
        fixlane_core::emergency::verification::may_verify(&emergency)?;
        let recorder = CanaryRecorder::start(
            self.store,
            self.config,
            person.as_str(),
            NewCanary {
                id: verification_id,
                incident: Some(id.clone()),
                rev: emergency.branch.clone(),
                profile: format!("verify {check}"),
                started_at: Timestamp::now(),
                plan: serde_json::json!({
                    "check": check,
                    "hold_seconds": hold_seconds,
                    "timeout_seconds": timeout_seconds,
                }),
            },
        )
        .await?;
        Ok(VerificationStart {
            emergency,
            recorder,
        })
    }
}
