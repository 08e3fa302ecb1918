//! fixlane's canary: runs the `[deploy]` actions as process groups, samples the `[canary]`
//! checks from Prometheus, a scrape or a command, and drives a profile's steps to promotion or
//! rollback (`drive`); then verifies that a symptom metric recovered (`verify`).
//!
//! The decisions (bounds, failure limits, what "held for the period" means) live in
//! `fixlane_core::canary`; this crate does the I/O around them and reports every step as a
//! `CanaryEvent`. It prints nothing.
//!
//! HTTP is plain `http://` only: no TLS stack is compiled in, and an `https://` source is an
//! error that counts toward `failure_limit`.

pub mod deploy;
pub mod driver;
pub mod exposition;
pub mod process;
pub mod source;

pub use driver::{
    CanaryError, CanarySettings, DEFAULT_ACTION_TIMEOUT, VerifyOutcome, VerifySettings, drive,
    verify,
};
pub use fixlane_core::canary::{CanaryEvent, CanaryOutcome};
pub use source::{SourceError, Sources};
