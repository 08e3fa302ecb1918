//! Post-emergency follow-ups: opened when the fix leaves the emergency lane, closed one by one
//! with their evidence, and the emergency closed with the last of them — each step decided by
//! the core's rules on the record as it is under the store's write lock.

use fixlane_core::PersonName;
use fixlane_core::audit::{AuditAction, EmergencyClosed, FollowUpClosed, FollowUpOpened};
use fixlane_core::emergency::{Emergency, EmergencyState};
use fixlane_core::followup::{self, CloseRequest, Evidence, FollowUp, FollowUpKind};
use fixlane_core::{Config, IncidentId};
use fixlane_store::{FollowUpChange, RunRecord, Store, StoredGateState};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::records::{from_row, to_row};
use crate::{App, AppError};

/// The zone deadlines are counted in: `windows.timezone`, else UTC.
pub fn zone(config: &Config) -> TimeZone {
    config
        .windows
        .as_ref()
        .and_then(|windows| fixlane_core::emergency::windows::zone(windows).ok())
        .unwrap_or(TimeZone::UTC)
}

/// The record after a close, and whether that close closed the emergency.
#[derive(Debug, Clone)]
pub struct Closed {
    pub emergency: Emergency,
    pub followups: Vec<FollowUp>,
    pub emergency_closed: bool,
}

/// One open follow-up, for `due`.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: IncidentId,
    pub followup: FollowUp,
    pub overdue: bool,
}

fn opened_action(id: &IncidentId, followup: &FollowUp, because: &str) -> AuditAction {
    AuditAction::FollowUpOpened(FollowUpOpened {
        id: id.clone(),
        kind: followup.kind,
        owner: followup.owner.clone(),
        due_at: followup.due_at,
        because: because.to_owned(),
    })
}

/// The owed gates of `emergency` that did not pass in `run`.
fn not_passed(emergency: &Emergency, run: &RunRecord) -> Vec<String> {
    emergency
        .owed_gates
        .iter()
        .filter(|owed| {
            !run.gates
                .iter()
                .any(|gate| gate.gate == owed.gate && gate.state == StoredGateState::Passed)
        })
        .map(|owed| owed.gate.to_string())
        .collect()
}

/// When every follow-up is closed, closes the emergency (with the time on its timeline) and
/// returns its row to write, adding the audit action.
fn close_when_done(
    emergency: &mut Emergency,
    followups: &[FollowUp],
    person: &PersonName,
    at: Timestamp,
    actions: &mut Vec<AuditAction>,
) -> Result<Option<fixlane_store::EmergencyRow>, AppError> {
    if !followup::all_closed(followups) || emergency.state == EmergencyState::Closed {
        return Ok(None);
    }
    emergency.transition(
        EmergencyState::Closed,
        at,
        person.as_str(),
        Some("every follow-up is closed".to_owned()),
    )?;
    actions.push(AuditAction::EmergencyClosed(EmergencyClosed {
        id: emergency.id.clone(),
        state: EmergencyState::Closed,
    }));
    Ok(Some(to_row(emergency, at)?))
}

impl<S: Store + Sync> App<'_, S> {
    /// Opens the follow-ups of `id` at `at` because the fix left the emergency lane (`because`:
    /// `promoted`, `merged`). Once only: an emergency whose follow-ups are open already keeps
    /// them, and the call returns them unchanged.
    pub async fn open_followups(
        &self,
        actor: &str,
        id: &IncidentId,
        because: &str,
        at: Timestamp,
    ) -> Result<Vec<FollowUp>, AppError> {
        let config = self.config;
        let zone = zone(config);
        let changed = self
            .store
            .change_followups(actor, id, |row, before| {
                let emergency = from_row(&row)?;
                if !before.is_empty() {
                    return Ok::<_, AppError>(FollowUpChange {
                        row: None,
                        followups: before,
                        actions: vec![],
                    });
                }
                let opened = followup::open_after_merge(config, &emergency, at, &zone);
                let actions = opened
                    .iter()
                    .map(|followup| opened_action(id, followup, because))
                    .collect();
                Ok(FollowUpChange {
                    row: None,
                    followups: opened,
                    actions,
                })
            })
            .await?;
        match changed {
            Some(Ok((change, _))) => Ok(change.followups),
            Some(Err(error)) => Err(error),
            // Nothing changed (already open), or no such emergency: say which.
            None => {
                self.emergency(id).await?;
                Ok(self.store.followups(id).await?)
            }
        }
    }

    /// Closes the open follow-up of `kind` on `id` as `person` with `evidence`; the last one
    /// closes the emergency, with the time on its timeline.
    pub async fn close_followup(
        &self,
        person: &PersonName,
        id: &IncidentId,
        kind: FollowUpKind,
        evidence: Evidence,
        at: Timestamp,
    ) -> Result<Closed, AppError> {
        let config = self.config;
        let changed = self
            .store
            .change_followups(person.as_str(), id, |row, mut followups| {
                let mut emergency = from_row(&row)?;
                let request = CloseRequest {
                    kind,
                    by: person,
                    evidence: &evidence,
                };
                followup::may_close(config, &emergency, &followups, &request)?;
                // `may_close` found it open; the first open one of its kind is the one closed.
                let mut late = false;
                if let Some(open) = followups
                    .iter_mut()
                    .find(|followup| followup.kind == kind && followup.is_open())
                {
                    late = at > open.due_at;
                    open.closed_at = Some(at);
                    open.closed_by = Some(person.clone());
                    open.evidence = evidence.clone();
                }
                let mut actions = vec![AuditAction::FollowUpClosed(FollowUpClosed {
                    id: id.clone(),
                    kind,
                    by: person.clone(),
                    evidence: evidence.clone(),
                    late,
                })];
                let row_out =
                    close_when_done(&mut emergency, &followups, person, at, &mut actions)?;
                Ok::<_, AppError>(FollowUpChange {
                    row: row_out,
                    followups,
                    actions,
                })
            })
            .await?;
        let (change, _) = changed.ok_or_else(|| AppError::NoSuchEmergency(id.clone()))??;
        let emergency_closed = change.row.is_some();
        let emergency = match change.row {
            Some(row) => from_row(&row)?,
            None => self.emergency(id).await?,
        };
        Ok(Closed {
            emergency,
            followups: change.followups,
            emergency_closed,
        })
    }

    /// Records `run`, a backfill of `id`'s owed gates: when every owed gate passed in it, the
    /// backfill closes itself with the run as evidence; otherwise it stays open and a regression
    /// opens (once), owned by the cleanup owner, due `backfill_within` later. Returns the owed
    /// gates that did not pass, judged on the record as it is under the write lock.
    pub async fn record_backfill(
        &self,
        person: &PersonName,
        id: &IncidentId,
        run: &RunRecord,
        at: Timestamp,
    ) -> Result<(Closed, Vec<String>), AppError> {
        let run_id = run.run_id.as_str();
        let mut failing = Vec::new();
        let config = self.config;
        let zone = zone(config);
        let changed =
            self.store
                .change_followups(person.as_str(), id, |row, mut followups| {
                    let mut emergency = from_row(&row)?;
                    failing = not_passed(&emergency, run);
                    let Some(backfill) = followups.iter_mut().find(|followup| {
                        followup.kind == FollowUpKind::Backfill && followup.is_open()
                    }) else {
                        return Err(AppError::Refused(fixlane_core::emergency::Refusal::new(
                            "followups.backfill",
                            format!("recording a backfill of {id}"),
                            format!("{id} has no open backfill follow-up"),
                            fixlane_core::emergency::Instead::advice(
                                "check the record: the backfill opens when the fix leaves the \
                             emergency lane, if the lane skipped gates",
                            ),
                        )));
                    };
                    let mut actions = Vec::new();
                    if failing.is_empty() {
                        let evidence = Evidence {
                            link: None,
                            notes: None,
                            run_id: Some(run_id.to_owned()),
                        };
                        let late = at > backfill.due_at;
                        backfill.closed_at = Some(at);
                        backfill.closed_by = Some(person.clone());
                        backfill.evidence = evidence.clone();
                        actions.push(AuditAction::FollowUpClosed(FollowUpClosed {
                            id: id.clone(),
                            kind: FollowUpKind::Backfill,
                            by: person.clone(),
                            evidence,
                            late,
                        }));
                    } else if !followups.iter().any(|followup| {
                        followup.kind == FollowUpKind::Regression && followup.is_open()
                    }) {
                        let regression = followup::regression(config, &emergency, at, &zone);
                        actions.push(opened_action(
                            id,
                            &regression,
                            &format!("backfill run {run_id} failed: {}", failing.join(", ")),
                        ));
                        followups.push(regression);
                    }
                    let row_out =
                        close_when_done(&mut emergency, &followups, person, at, &mut actions)?;
                    Ok::<_, AppError>(FollowUpChange {
                        row: row_out,
                        followups,
                        actions,
                    })
                })
                .await?;
        let followups = match changed {
            Some(Ok((change, _))) => change.followups,
            Some(Err(error)) => return Err(error),
            // A failing backfill with its regression already open changes nothing.
            None => self.store.followups(id).await?,
        };
        let emergency = self.emergency(id).await?;
        let closed = Closed {
            emergency_closed: emergency.state == EmergencyState::Closed,
            emergency,
            followups,
        };
        Ok((closed, failing))
    }

    /// After a run on the default branch: every emergency whose fix was made ready (and is
    /// not closed) and has no follow-ups yet, and that `merged` says is in the branch's history,
    /// gets its follow-ups opened. Returns the emergencies opened.
    pub async fn open_merged(
        &self,
        actor: &str,
        merged: impl Fn(&IncidentId) -> bool,
        at: Timestamp,
    ) -> Result<Vec<IncidentId>, AppError> {
        let mut opened = Vec::new();
        for emergency in crate::records::all(self.store).await? {
            let shipped = matches!(
                emergency.state,
                EmergencyState::FixReady
                    | EmergencyState::Deploying
                    | EmergencyState::Promoted
                    | EmergencyState::Verified
            );
            if !shipped || !self.store.followups(&emergency.id).await?.is_empty() {
                continue;
            }
            if merged(&emergency.id) {
                self.open_followups(actor, &emergency.id, "merged into the default branch", at)
                    .await?;
                opened.push(emergency.id);
            }
        }
        Ok(opened)
    }

    /// Every open follow-up across emergencies (of `owner`, when given), overdue first, then by
    /// deadline.
    pub async fn due(
        &self,
        at: Timestamp,
        owner: Option<&PersonName>,
    ) -> Result<Vec<Due>, AppError> {
        let mut due: Vec<Due> = self
            .store
            .open_followups()
            .await?
            .into_iter()
            .filter(|(_, followup)| owner.is_none_or(|owner| followup.owner == *owner))
            .map(|(id, followup)| Due {
                overdue: followup.is_overdue(at),
                id,
                followup,
            })
            .collect();
        // The store lists by deadline; overdue ones are the earliest deadlines already, but
        // sort explicitly so the order does not rest on that.
        due.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then(a.followup.due_at.cmp(&b.followup.due_at))
        });
        Ok(due)
    }
}
