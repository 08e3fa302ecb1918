//! The canary against real things: a simulated service, a real Prometheus (`/usr/bin/prometheus`),
//! deploy actions that log what they were asked to do, and every metric source.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod command;
mod query;
mod scrape;
mod support;
mod verify;
