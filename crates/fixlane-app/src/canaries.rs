//! A canary or a verification as it happens: its profile judged, started on record, every
//! event kept (state changes audited), the emergency moved along its timeline, and the end
//! recorded. A store that cannot record stops the canary, which then rolls back: nothing ships
//! unrecorded.
//!
//! The CLI runs the canary's deploy commands and metric queries where it runs; its events go
//! to a [`CanaryWriter`]: the store through a [`CanaryRecorder`], or (in client mode) the team
//! server, whose routes take each step through these same functions — a reported step through
//! [`CanaryRecorder::resume`], which reads the canary as it was started, never as a request
//! says it was.

use fixlane_core::audit::{AuditAction, EmergencyMoved, EmergencyUnchanged};
use fixlane_core::canary::CanaryEvent;
use fixlane_core::emergency::{Emergency, EmergencyState, profile};
use fixlane_core::{Config, IncidentId, PersonName};
use fixlane_store::{CanaryEventRecord, CanaryRecord, NewCanary, Store, StoreError};
use jiff::Timestamp;
use tokio::sync::{mpsc, watch};

use crate::recorder::next_batch;
use crate::records::{from_row, to_row};
use crate::{App, AppError};

/// How a verification's profile begins (`verify error-rate`): what tells one from a canary.
pub const VERIFY_PROFILE: &str = "verify ";

/// Where a canary's events are recorded as they arrive: the store ([`CanaryRecorder`]) or,
/// in client mode, the team server.
pub trait CanaryWriter {
    type Error;

    /// Records a batch of events, in order (never called with none).
    fn record(
        &self,
        batch: &[CanaryEvent],
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send;
}

/// Shows (through `show`) and records events until the driver is done. When recording fails,
/// the driver is cancelled (it rolls back) and its remaining events are still shown.
pub async fn consume<W: CanaryWriter + Sync>(
    writer: &W,
    mut events: mpsc::UnboundedReceiver<CanaryEvent>,
    mut show: impl FnMut(&CanaryEvent),
    cancel: &watch::Sender<bool>,
) -> Result<Vec<CanaryEvent>, W::Error> {
    let mut seen = Vec::new();
    while let Some(batch) = next_batch(&mut events, std::time::Duration::ZERO, |_| false).await {
        for event in &batch {
            show(event);
        }
        if let Err(error) = writer.record(&batch).await {
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

    /// Shows (through `show`) and records events until the driver is done (see [`consume`]).
    pub async fn consume(
        &self,
        events: mpsc::UnboundedReceiver<CanaryEvent>,
        show: impl FnMut(&CanaryEvent),
        cancel: &watch::Sender<bool>,
    ) -> Result<Vec<CanaryEvent>, AppError> {
        consume(self, events, show, cancel).await
    }

    /// Records how the canary or verification ended.
    pub async fn finish(&self, outcome: &str, at: Timestamp) -> Result<(), AppError> {
        self.store
            .finish_canary(&self.actor, &self.canary_id, outcome, at)
            .await?;
        Ok(())
    }

    /// Records how a verification ended: `recovered` (with the note for the timeline) when the
    /// check held, which moves the emergency to verified; `not recovered` otherwise.
    pub async fn finish_verification(
        &self,
        recovered: Option<String>,
        at: Timestamp,
    ) -> Result<(), AppError> {
        let outcome = if recovered.is_some() {
            "recovered"
        } else {
            "not recovered"
        };
        self.finish(outcome, at).await?;
        if let Some(note) = recovered {
            self.move_emergency(EmergencyState::Verified, at, Some(note))
                .await?;
        }
        Ok(())
    }

    /// The recorder of a canary (or verification) started already and not finished, for a step
    /// reported by `actor`: its emergency is the one it was started for, whatever a request
    /// says. Unknown is [`StoreError::UnknownCanary`]; finished, [`AppError::CanaryState`].
    /// Returns the record too (without its events).
    pub async fn resume(
        store: &'a S,
        config: &'a Config,
        actor: &str,
        canary_id: &str,
    ) -> Result<(Self, CanaryRecord), AppError> {
        let mut record =
            store
                .canary(canary_id)
                .await?
                .ok_or_else(|| StoreError::UnknownCanary {
                    id: canary_id.to_owned(),
                })?;
        if let Some(outcome) = &record.outcome {
            return Err(AppError::CanaryState {
                id: record.id.clone(),
                why: format!("finished already ({outcome}): nothing more is recorded on it"),
            });
        }
        record.events.clear();
        let recorder = Self {
            store,
            config,
            actor: actor.to_owned(),
            canary_id: record.id.clone(),
            incident: record.incident.clone(),
        };
        Ok((recorder, record))
    }
}

impl<S: Store + Sync> CanaryWriter for CanaryRecorder<'_, S> {
    type Error = AppError;

    async fn record(&self, batch: &[CanaryEvent]) -> Result<(), AppError> {
        CanaryRecorder::record(self, batch).await
    }
}

/// Whether a recorded canary is a verification (started by [`App::start_verification`]).
pub fn is_verification(record: &CanaryRecord) -> bool {
    record.profile.starts_with(VERIFY_PROFILE)
}

impl<'a, S: Store + Sync> App<'a, S> {
    /// The profile a canary runs under, `requested` or the default: for an emergency's canary
    /// (`incident`), judged by the emergency rules on its record as it stands (approved, the
    /// `canary` bypass for another profile, the profile's own approvers); for a normal change,
    /// the normal profile only.
    pub async fn canary_profile(
        &self,
        incident: Option<&IncidentId>,
        requested: Option<&str>,
    ) -> Result<String, AppError> {
        Ok(match incident {
            Some(id) => profile::for_emergency(self.config, &self.emergency(id).await?, requested)?,
            None => profile::for_normal_change(self.config, requested)?,
        })
    }

    /// Starts `canary` by `actor`: its profile judged again on the record as it stands (see
    /// [`App::canary_profile`]), so no start records a profile the rules refuse, then recorded.
    pub async fn start_canary(
        &self,
        actor: &str,
        canary: NewCanary,
    ) -> Result<CanaryRecorder<'a, S>, AppError> {
        self.canary_profile(canary.incident.as_ref(), Some(&canary.profile))
            .await?;
        CanaryRecorder::start(self.store, self.config, actor, canary).await
    }

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
                profile: format!("{VERIFY_PROFILE}{check}"),
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
