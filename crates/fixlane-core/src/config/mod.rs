//! `fixlane.toml`: the validated model and the loader that produces it with located errors.

mod load;
pub mod model;
mod policy;
pub mod starter;

pub use load::{ConfigError, ConfigErrors, MAX_CONFIG_BYTES, oversize, parse};
pub use policy::{policy_json, policy_sha256};
