//! How fixlane stops the commands it starts: each one leads its own process group, and ending
//! it ends the whole group — SIGTERM, a grace period, then SIGKILL for whatever is left, then
//! the leader reaped. The runner's gates and the canary's deploy actions and command sources
//! share this crate so that both stop a command in exactly the same way, and both listen for
//! Ctrl-C through the same [`Cancel`].
//!
//! It is its own small crate rather than a module of `fixlane-runner` because the canary needs
//! process groups and nothing else of the runner (plans, git, changed packages).

mod cancel;
// fixlane only runs on Unix; a port would add a sibling module with the same items.
mod unix;

pub use cancel::Cancel;
pub use unix::{Group, KillOnDrop, in_new_group};
