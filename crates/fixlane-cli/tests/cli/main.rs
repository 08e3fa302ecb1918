//! The one integration-test binary of the `fixlane` command: real git repositories in temp
//! dirs, the real binary, real `SQLite` stores.

// Test helpers fail loudly on purpose: a broken sandbox is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod canary;
mod ci;
mod config;
mod emergency;
mod help;
mod holes;
mod hostile_text;
mod races;
mod run;
mod store;
mod support;
mod verdict;
