//! The team server end to end, in process: a real server on a free 127.0.0.1 port and a real
//! `SQLite` file, driven by a real HTTP client.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly on purpose: a broken server is a failed test"
)]

mod auth;
mod canaries;
mod dashboard;
mod errors;
mod lifecycle;
mod metrics;
mod runs;
mod support;
mod webhooks;
