//! The emergency change record's operations: declare, approve, bypass, review the rate. Each
//! decides under the store's write lock, on the record as it is now, and writes the change with
//! its audit entry in one transaction.

use fixlane_core::IncidentId;
use fixlane_core::PersonName;
use fixlane_core::audit::{Approved, AuditAction, Bypassed, Declared};
use fixlane_core::config::model::BypassElement;
use fixlane_core::emergency::Emergency;
use fixlane_core::emergency::policy::{
    self, DeclarationHistory, DeclareRequest, OverdueFollowUp, PastDeclaration,
};
use fixlane_store::{EmergencyRow, RateReview, Store};
use jiff::Timestamp;

use crate::records::{from_row, to_row};
use crate::{App, AppError};

/// What a declaration states, as the person typed it (the policy judges every field).
#[derive(Debug, Clone)]
pub struct DeclareInput {
    pub id: String,
    pub severity: String,
    pub category: String,
    pub title: String,
    pub cleanup_owner: String,
    pub eta: Option<String>,
    /// Missing ones are refused by pre-flight, with the other gaps.
    pub flag_flip: Option<String>,
    pub rollback: Option<String>,
    /// Accept an id dated far from today (a deliberate back-dated record).
    pub any_date: bool,
}

/// A bypass as requested: the element, why, and what compensates.
#[derive(Debug, Clone)]
pub struct BypassInput {
    pub element: BypassElement,
    pub reason: String,
    pub compensation: String,
}

/// The record after an approval, and the approver groups it still needs.
#[derive(Debug, Clone)]
pub struct ApproveOutcome {
    pub emergency: Emergency,
    /// Each group as its alternatives; empty when the change is approved.
    pub missing: Vec<Vec<String>>,
}

/// The row to write and its audit action, or why not.
type Change = Result<(EmergencyRow, AuditAction), AppError>;

impl<S: Store + Sync> App<'_, S> {
    /// Declares an emergency by `author`, past pre-flight, eligibility and the rate limits.
    ///
    /// `at` is the moment it is declared at, for tests and replays; `None` is the store's clock,
    /// read under its write lock.
    pub async fn declare(
        &self,
        author: &PersonName,
        input: DeclareInput,
        at: Option<Timestamp>,
    ) -> Result<Emergency, AppError> {
        let config = self.config;
        let since = policy::history_since(config, at.unwrap_or_else(Timestamp::now));
        // Read before the lock: a follow-up closed meanwhile only makes the warning stale.
        let open = self.store.open_followups().await?;
        // A drill's sandbox store makes every declaration in it a drill; nothing a person types
        // can, so a drill never becomes a way around the rate limit in a real store.
        let drill = self.store.is_drill_sandbox().await?;
        // `now` is read by the store under its write lock: deciding on a clock read before it
        // would let a declaration that committed first with a later stamp go uncounted.
        let decided = self
            .store
            .declare_emergency(
                author.as_str(),
                since,
                |store_now, past, review| -> Change {
                    let now = at.unwrap_or(store_now);
                    let history = DeclarationHistory {
                        declarations: past
                            .iter()
                            .map(|declaration| PastDeclaration {
                                id: declaration.id.to_string(),
                                author: declaration.author.clone(),
                                declared_at: declaration.declared_at,
                                drill: declaration.drill,
                            })
                            .collect(),
                        last_rate_review: review.map(|review| review.at),
                        overdue: open
                            .iter()
                            .filter(|(_, followup)| followup.is_overdue(now))
                            .map(|(id, followup)| OverdueFollowUp {
                                id: id.to_string(),
                                kind: followup.kind,
                                due_at: followup.due_at,
                            })
                            .collect(),
                    };
                    let request = DeclareRequest {
                        id: input.id,
                        severity: input.severity,
                        category: input.category,
                        title: input.title,
                        author: author.clone(),
                        cleanup_owner: input.cleanup_owner,
                        eta: input.eta,
                        flag_flip: input.flag_flip,
                        rollback: input.rollback,
                        drill,
                        any_date: input.any_date,
                        now,
                    };
                    let declared = policy::declare(config, &request, &history)?;
                    let action = self.audited(AuditAction::Declare(Declared::of(
                        &declared.emergency,
                        &declared.warnings,
                    )));
                    Ok((to_row(&declared.emergency, now)?, action))
                },
            )
            .await?;
        let (row, _) = decided?;
        from_row(&row)
    }

    /// Records `person`'s approval of `id` (in `role` when they hold several); the change is
    /// approved when every approver group is satisfied.
    pub async fn approve(
        &self,
        person: &PersonName,
        id: &IncidentId,
        role: Option<&str>,
        at: Timestamp,
    ) -> Result<ApproveOutcome, AppError> {
        let config = self.config;
        let updated = self
            .store
            .update_emergency(person.as_str(), id, |row| -> Change {
                let mut emergency = from_row(&row)?;
                let approval = policy::approve(config, &emergency, person, role, at)?;
                let given = approval.clone();
                policy::apply_approval(config, &mut emergency, approval)?;
                let action = self.audited(AuditAction::Approve(Approved::of(
                    &emergency.id,
                    &given,
                    emergency.state,
                )));
                Ok((to_row(&emergency, at)?, action))
            })
            .await?;
        let (row, _) = updated.ok_or_else(|| AppError::NoSuchEmergency(id.clone()))??;
        let emergency = from_row(&row)?;
        let missing = policy::missing_groups(config, &emergency);
        Ok(ApproveOutcome { emergency, missing })
    }

    /// Records a bypass of one discipline element on `id`, within the category's scope, with a
    /// specific reason and its compensation.
    pub async fn bypass(
        &self,
        person: &PersonName,
        id: &IncidentId,
        input: BypassInput,
        at: Timestamp,
    ) -> Result<Emergency, AppError> {
        let config = self.config;
        let updated = self
            .store
            .update_emergency(person.as_str(), id, |row| -> Change {
                let mut emergency = from_row(&row)?;
                let bypass = policy::bypass(
                    config,
                    &emergency,
                    input.element,
                    &input.reason,
                    &input.compensation,
                    person,
                    at,
                )?;
                let action =
                    self.audited(AuditAction::Bypass(Bypassed::of(&emergency.id, &bypass)));
                policy::apply_bypass(&mut emergency, bypass)?;
                Ok((to_row(&emergency, at)?, action))
            })
            .await?;
        let (row, _) = updated.ok_or_else(|| AppError::NoSuchEmergency(id.clone()))??;
        from_row(&row)
    }

    /// Records the team review the rate limit asks for before one more emergency.
    pub async fn review_rate(
        &self,
        person: &PersonName,
        notes: &str,
    ) -> Result<RateReview, AppError> {
        policy::review_rate(self.config, person)?;
        if notes.trim().is_empty() {
            return Err(AppError::EmptyNotes);
        }
        let (review, _) = self
            .store
            .record_rate_review(person.as_str(), notes)
            .await?;
        Ok(review)
    }
}
