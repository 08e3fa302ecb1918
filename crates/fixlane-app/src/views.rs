//! What `list`, `show` and `due` report, as data: built once here so the CLI's `--json` and the
//! team server's API return the same fields from the same reads.
//!
//! The structs' fields are declared in alphabetical order: that is the order the CLI's JSON
//! always had (its objects were built as sorted maps), so the output stays byte for byte.

use std::collections::HashMap;

use fixlane_core::emergency::{Emergency, EmergencyState, policy};
use fixlane_core::followup::{FollowUp, FollowUpKind};
use fixlane_core::{Config, IncidentId, PersonName};
use fixlane_store::Store;
use jiff::Timestamp;
use serde::Serialize;

use crate::followups::Due;
use crate::{App, AppError};

/// One emergency with its count of open and overdue follow-ups, as `list` reads it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub emergency: Emergency,
    pub followups_open: usize,
    pub followups_overdue: usize,
}

/// An emergency as `list --json` and `GET /api/v1/emergencies` show it: its clocks and what it
/// still lacks.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub author: PersonName,
    pub category: String,
    pub declared_at: Timestamp,
    pub drill: bool,
    pub eta: Option<String>,
    pub followups_open: usize,
    pub followups_overdue: usize,
    pub id: IncidentId,
    /// Each approver group still unsatisfied, as its alternatives.
    pub missing_approvals: Vec<Vec<String>>,
    pub seconds_since_declared: i64,
    pub severity: String,
    pub state: &'static str,
    pub title: String,
}

impl Listed {
    /// The summary of this emergency at `now`, judged by `config`.
    pub fn summary(&self, config: &Config, now: Timestamp) -> Summary {
        let emergency = &self.emergency;
        Summary {
            author: emergency.author.clone(),
            category: emergency.category.clone(),
            declared_at: emergency.declared_at,
            drill: emergency.drill,
            eta: emergency.eta.clone(),
            followups_open: self.followups_open,
            followups_overdue: self.followups_overdue,
            id: emergency.id.clone(),
            missing_approvals: policy::missing_groups(config, emergency),
            seconds_since_declared: now.duration_since(emergency.declared_at).as_secs(),
            severity: emergency.severity.clone(),
            state: emergency.state.as_str(),
            title: emergency.title.clone(),
        }
    }
}

/// One open follow-up as `due --json` and `GET /api/v1/followups/due` show it.
#[derive(Debug, Clone, Serialize)]
pub struct DueItem {
    pub due_at: Timestamp,
    pub id: IncidentId,
    pub kind: FollowUpKind,
    pub opened_at: Timestamp,
    pub overdue: bool,
    pub owner: PersonName,
    /// Negative once overdue.
    pub seconds_left: i64,
}

impl Due {
    /// This follow-up as reported at `at`.
    pub fn item(&self, at: Timestamp) -> DueItem {
        DueItem {
            due_at: self.followup.due_at,
            id: self.id.clone(),
            kind: self.followup.kind,
            opened_at: self.followup.opened_at,
            overdue: self.overdue,
            owner: self.followup.owner.clone(),
            seconds_left: self.followup.due_at.as_second() - at.as_second(),
        }
    }
}

/// An emergency's whole record as `show --json` and `GET /api/v1/emergencies/{id}` show it: the
/// record, the approvals it still needs and its follow-ups.
pub fn detail(
    config: &Config,
    emergency: &Emergency,
    followups: &[FollowUp],
) -> Result<serde_json::Value, AppError> {
    let encode = |source| AppError::Encode {
        what: "the emergency's record",
        source,
    };
    let mut value = serde_json::to_value(emergency).map_err(encode)?;
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "missing_approvals".to_owned(),
            serde_json::to_value(policy::missing_groups(config, emergency)).map_err(encode)?,
        );
        object.insert(
            "followups".to_owned(),
            serde_json::to_value(followups).map_err(encode)?,
        );
    }
    Ok(value)
}

impl<S: Store + Sync> App<'_, S> {
    /// Every emergency (the closed ones too when `all`), newest declaration first, with its
    /// open and overdue follow-ups at `now`.
    pub async fn list(&self, now: Timestamp, all: bool) -> Result<Vec<Listed>, AppError> {
        let emergencies = crate::records::all(self.store).await?;
        let open = self.store.open_followups().await?;
        // Counted once, not once per emergency: a store of thousands would make that quadratic.
        let mut counts: HashMap<IncidentId, (usize, usize)> = HashMap::new();
        for (id, followup) in open {
            let entry = counts.entry(id).or_default();
            entry.0 += 1;
            if followup.is_overdue(now) {
                entry.1 += 1;
            }
        }
        Ok(emergencies
            .into_iter()
            .filter(|emergency| all || emergency.state != EmergencyState::Closed)
            .map(|emergency| {
                let (open, overdue) = counts.get(&emergency.id).copied().unwrap_or_default();
                Listed {
                    emergency,
                    followups_open: open,
                    followups_overdue: overdue,
                }
            })
            .collect())
    }

    /// One emergency and its follow-ups, or [`AppError::NoSuchEmergency`].
    pub async fn record(&self, id: &IncidentId) -> Result<(Emergency, Vec<FollowUp>), AppError> {
        let emergency = self.emergency(id).await?;
        let followups = self.store.followups(id).await?;
        Ok((emergency, followups))
    }
}
