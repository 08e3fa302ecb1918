//! Game days: making a scratch store a drill's sandbox, and keeping a drill's result in the
//! repository's own store so `stats` knows when the emergency lane was last exercised.
//!
//! Neither needs the repository's policy (a repository that has no `fixlane.toml` yet can still
//! rehearse), so these take the store alone.

use fixlane_core::PersonName;
use fixlane_core::audit::AuditEntry;
use fixlane_store::{DrillRecord, Store};

use crate::AppError;

/// Marks `store` as a drill's sandbox: from now on every emergency declared in it is a drill.
/// Only `fixlane drill` calls this, on a store it has just created.
pub async fn mark_sandbox<S: Store + Sync>(store: &S, person: &PersonName) -> Result<(), AppError> {
    store.mark_drill_sandbox(person.as_str()).await?;
    Ok(())
}

/// Keeps a drill's result, with how many steps ran and the first that did not behave as
/// scripted.
pub async fn record<S: Store + Sync>(
    store: &S,
    drill: &DrillRecord,
    failed_step: Option<&str>,
    steps: usize,
) -> Result<AuditEntry, AppError> {
    Ok(store.record_drill(drill, failed_step, steps).await?)
}
