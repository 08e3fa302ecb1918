//! The one integration-test binary of the `fixlane` command: real git repositories in temp
//! dirs, the real binary, real `SQLite` stores.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail loudly on purpose: a broken sandbox is a failed test"
)]

mod audit;
mod canary;
mod ci;
mod client;
mod client_canary;
mod client_races;
mod config;
mod dashboard;
mod drill;
mod emergency;
mod exit_codes;
mod followups;
mod help;
mod holes;
mod hostile_text;
mod notify;
mod races;
mod run;
mod selection;
mod server;
mod store;
mod support;
mod verdict;
