//! `fixlane.toml`: the validated model and the loader that produces it with located errors.

mod load;
pub mod model;
pub mod starter;

pub use load::{ConfigError, ConfigErrors, MAX_CONFIG_BYTES, oversize, parse};
