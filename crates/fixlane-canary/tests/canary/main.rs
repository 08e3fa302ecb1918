//! The canary against real things: a simulated service, a real Prometheus (`/usr/bin/prometheus`),
//! deploy actions that log what they were asked to do, and every metric source.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests and their helpers fail loudly on purpose: a broken fixture is a failed test"
)]

mod command;
mod query;
mod scrape;
mod support;
mod verify;
