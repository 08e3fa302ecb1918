//! Emergency records between the store and the core: rows to typed records and back, and the
//! lookups every operation starts from.

use fixlane_core::emergency::{Emergency, EmergencyState};
use fixlane_core::lane::NoEmergency;
use fixlane_core::{Config, IncidentId};
use fixlane_store::{EmergencyRow, Store};
use jiff::Timestamp;

use crate::{App, AppError};

/// The store's row for a record: indexed columns plus the whole record as JSON.
pub fn to_row(emergency: &Emergency, updated_at: Timestamp) -> Result<EmergencyRow, AppError> {
    Ok(EmergencyRow {
        id: emergency.id.clone(),
        declared_at: emergency.declared_at,
        author: emergency.author.to_string(),
        drill: emergency.drill,
        state: emergency.state.as_str().to_owned(),
        updated_at,
        document: serde_json::to_value(emergency).map_err(|source| AppError::Encode {
            what: "the emergency record",
            source,
        })?,
    })
}

/// The typed record of a stored row.
pub fn from_row(row: &EmergencyRow) -> Result<Emergency, AppError> {
    serde_json::from_value(row.document.clone()).map_err(|error| AppError::UnreadableRecord {
        id: row.id.to_string(),
        why: error.to_string(),
    })
}

impl<S: Store + Sync> App<'_, S> {
    /// One emergency, or [`AppError::NoSuchEmergency`].
    pub async fn emergency(&self, id: &IncidentId) -> Result<Emergency, AppError> {
        find(self.store, id)
            .await?
            .ok_or_else(|| AppError::NoSuchEmergency(id.clone()))
    }

    /// The record an emergency-lane run belongs to: `incident` when named, else the branch.
    /// The inner `Err` is why there is none, for the verdict to say (each caller in its own
    /// words): the id is not declared (with the active ones), or the emergency belongs to
    /// another branch.
    pub async fn emergency_for_run(
        &self,
        incident: Option<&IncidentId>,
        branch: Option<&str>,
    ) -> Result<Result<Emergency, NoEmergency>, AppError> {
        let found = match (incident, branch) {
            (Some(id), _) => find(self.store, id).await?,
            (None, Some(branch)) => for_branch(self.store, branch).await?,
            (None, None) => None,
        };
        if let Some(emergency) = found {
            return Ok(fixlane_core::lane::check_emergency_branch(
                emergency.id.as_str(),
                &emergency.branch,
                branch,
            )
            .map(|()| emergency)
            .map_err(NoEmergency::OtherBranch));
        }
        let mut active = Vec::new();
        for row in self.store.emergencies().await? {
            let emergency = from_row(&row)?;
            if emergency.state != EmergencyState::Closed {
                active.push((emergency.id.to_string(), emergency.branch));
            }
        }
        Ok(Err(missing_reason(self.config, incident, branch, &active)))
    }
}

/// Why an emergency-lane run has no record, for what it named.
fn missing_reason(
    config: &Config,
    incident: Option<&IncidentId>,
    branch: Option<&str>,
    active: &[(String, String)],
) -> NoEmergency {
    match incident {
        Some(id) => NoEmergency::NotDeclared { id: id.clone() },
        None => NoEmergency::NoRecord(fixlane_core::lane::missing_emergency(
            branch,
            |id| config.emergency.id_pattern.matches(id),
            active,
        )),
    }
}

/// One emergency by id, if the store has it.
pub async fn find(store: &impl Store, id: &IncidentId) -> Result<Option<Emergency>, AppError> {
    match store.emergency(id).await? {
        Some(row) => Ok(Some(from_row(&row)?)),
        None => Ok(None),
    }
}

/// The emergency a branch such as `hotfix/INC-1-fix` names: the longest `-` prefix of its last
/// segment that the store knows.
pub async fn for_branch(store: &impl Store, branch: &str) -> Result<Option<Emergency>, AppError> {
    for candidate in fixlane_core::lane::incident_candidates(branch) {
        let Ok(id) = IncidentId::parse(&candidate) else {
            continue;
        };
        if let Some(emergency) = find(store, &id).await? {
            return Ok(Some(emergency));
        }
    }
    Ok(None)
}

/// The documents read as `T`s, when the array reads and holds as many as the store counted.
fn parsed<T: serde::de::DeserializeOwned>(
    documents: &fixlane_store::EmergencyDocuments,
) -> Option<Vec<T>> {
    serde_json::from_str::<Vec<T>>(&documents.json)
        .ok()
        .filter(|read| read.len() == documents.count)
}

/// Every emergency as `stats` counts it (see [`fixlane_core::stats::StatsEmergency`]): parsed
/// from the same one array of documents as [`all`], but only the fields the figures use, which
/// is most of what `stats` spends on 10 000 records. In no particular order.
pub async fn for_stats(
    store: &impl Store,
) -> Result<Vec<fixlane_core::stats::StatsEmergency>, AppError> {
    match parsed(&store.emergency_documents().await?) {
        Some(emergencies) => Ok(emergencies),
        // Read one by one, so the error names the record that does not read.
        None => Ok(all(store)
            .await?
            .iter()
            .map(fixlane_core::stats::StatsEmergency::from)
            .collect()),
    }
}

/// Every emergency, newest declaration first.
///
/// Read as one array of documents and parsed in one pass: on 10 000 emergencies this is what
/// `list` and `stats` spend most of their time on. When the array does not read (a record
/// altered behind fixlane's back), the rows are read again one by one, so the error names the
/// record that does not.
pub async fn all(store: &impl Store) -> Result<Vec<Emergency>, AppError> {
    let documents = store.emergency_documents().await?;
    if let Some(mut emergencies) = parsed::<Emergency>(&documents) {
        // Newest first, as the rows are listed.
        emergencies.sort_unstable_by(|a, b| {
            (b.declared_at, b.id.as_str()).cmp(&(a.declared_at, a.id.as_str()))
        });
        return Ok(emergencies);
    }
    let emergencies: Vec<Emergency> = store
        .emergencies()
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<_, _>>()?;
    if emergencies.len() == documents.count {
        return Ok(emergencies);
    }
    // The rows read one by one but not as one array: a document holding more than one value,
    // which only a hand edit of the database makes.
    Err(AppError::UnreadableRecord {
        id: "(one of the emergencies)".to_owned(),
        why: format!(
            "{} rows read as {} records: a stored document is not one JSON value",
            documents.count,
            emergencies.len()
        ),
    })
}
