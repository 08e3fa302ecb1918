//! The rules that admit or refuse each emergency step: declaring (id, severity, category,
//! pre-flight, owners, rate limits), approving by named authorities, recording a bypass, and
//! recording a team rate review.
//!
//! Every refusal names its rule, the values that made it apply, the config line when known, and
//! what to do instead: the person reading it is in the middle of an incident.
//!
//! Each concept has its own module (identity, naming, declaration, approvals, bypasses); this one
//! keeps the `policy::` paths callers use and the wording the rules share.

use crate::config::model::{Category, Config};
use crate::emergency::identity::suggested_key;
use crate::emergency::instead::{Instead, after_suggestion};
use crate::suggest::closest;

pub use crate::emergency::approvals::{
    apply_approval, approve, is_fully_approved, missing_groups, missing_with_eligible,
};
pub use crate::emergency::bypasses::{apply_bypass, bypass};
pub use crate::emergency::declaration::{
    DeclarationHistory, DeclareRequest, Declared, OverdueFollowUp, PastDeclaration, declare,
    history_since, review_rate,
};
pub use crate::emergency::identity::{identify, identify_among};
pub use crate::emergency::naming::branch_name;
pub use crate::emergency::refusal::{Refusal, Refusals};

pub(super) fn find_category<'a>(
    config: &'a Config,
    name: &str,
    refused: &str,
) -> Result<&'a Category, Refusal> {
    config.emergency.categories.get(name.trim()).ok_or_else(|| {
        let known: Vec<String> = config.emergency.categories.keys().cloned().collect();
        let why = if known.is_empty() {
            format!("there is no emergency category `{name}`: the config defines none")
        } else {
            format!(
                "there is no emergency category `{name}`; the known ones are {}",
                known.join(", ")
            )
        };
        let suggestion = closest(name.trim(), known.iter().map(String::as_str));
        Refusal::new(
            "emergency.categories",
            refused,
            why,
            Instead::advice(after_suggestion(
                suggestion,
                &format!(
                    "pick one of the known categories, or add `[emergency.categories.{}]` with \
                     its approvers and may_bypass to the config",
                    suggested_key(name)
                ),
            )),
        )
    })
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
