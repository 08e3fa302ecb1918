//! Emergency changes: the record, the policy that admits or refuses each step, windows and
//! freezes, and commit discipline. Pure: the caller supplies the clock, the history and git's
//! answers.

pub mod approvals;
pub mod bypasses;
pub mod commit;
pub mod declaration;
pub mod identity;
pub mod instead;
pub mod model;
pub mod naming;
pub mod policy;
pub mod postmortem;
pub mod profile;
pub mod refusal;
pub mod verification;
pub mod windows;

#[cfg(test)]
pub(crate) mod test_support;

pub use instead::Instead;
pub use model::{Approval, Bypass, Emergency, EmergencyState, OwedGate, Transition};
pub use refusal::{Refusal, Refusals};
