//! fixlane's pure core: the config model, tiers and lanes, run plans, verdicts, the `RunEvent`
//! seam, commit ids and the audit hash chain.
//!
//! Nothing in this crate does I/O, spawns, awaits or touches a database: callers hand it data
//! and it hands back decisions, so every rule here is unit-tested on plain values.

pub mod affected;
pub mod audit;
pub mod canary;
pub mod config;
pub mod critical_path;
pub mod duration;
pub mod emergency;
pub mod event;
pub mod export;
pub mod followup;
pub mod lane;
pub mod names;
pub mod notify;
pub mod plan;
pub mod plural;
pub mod policy_change;
pub mod rev;
pub mod schedule;
pub mod session;
pub mod stats;
pub mod suggest;
pub mod text;
pub mod token;
pub mod verdict;

pub use config::model::{Config, Tier};
pub use duration::Duration;
pub use event::{Outcome, RunEvent};
pub use names::{GateName, IncidentId, LaneName, PersonName};
pub use rev::Rev;
pub use verdict::Verdict;
