//! Runs gates: the concurrent DAG scheduler over process groups and the runtime it runs on, a
//! small view of git, and the workspace reader behind `FIXLANE_CHANGED_PACKAGES` (which packages
//! a change affects is `fixlane_core::affected`'s rule).

pub mod git;
pub mod liveness;
pub mod packages;
pub mod program;
pub mod run;
pub mod runner;

pub use git::{FileChange, GitCli, GitError, Repository};
pub use packages::{affected_packages, changed_packages};
pub use run::{RunError, RunSettings, RunSummary, run};
pub use runner::{RunHandle, Runner};
