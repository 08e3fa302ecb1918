//! The policy a team server enforces, as one hash: the people (with their roles and emails)
//! and the `[emergency]` settings with their categories, canonicalised, so a run reported to a
//! server can say which policy it read and the server can tell when it is not its own.
//!
//! The hash is of the parsed model, not of the file's text: comments, formatting, the order of
//! keys and where each setting was written do not change it; a person, a role, an approver
//! group, a bypass scope, a rate limit or a deadline does. Gates, lanes, windows and the canary
//! are not in it: they decide how a run is carried out, which is the run's own business, while
//! these decide who may declare and approve, which the server alone decides.

use crate::audit::{canonical_json, content_hash};
use crate::config::model::Config;

/// The canonical JSON the policy hash is taken of (see the module's doc).
pub fn policy_json(config: &Config) -> String {
    let mut emergency = serde_json::to_value(&config.emergency).unwrap_or_default();
    if let Some(object) = emergency.as_object_mut() {
        // Where settings were written is for messages, not policy.
        object.remove("lines");
        if let Some(categories) = object
            .get_mut("categories")
            .and_then(serde_json::Value::as_object_mut)
        {
            for category in categories.values_mut() {
                if let Some(category) = category.as_object_mut() {
                    category.remove("source");
                }
            }
        }
    }
    let people = serde_json::to_value(&config.people).unwrap_or_default();
    canonical_json(&serde_json::json!({ "emergency": emergency, "people": people }))
}

/// The SHA-256 (hex) of [`policy_json`].
pub fn policy_sha256(config: &Config) -> String {
    content_hash(&policy_json(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    const BASE: &str = r#"
[project]
name = "x"
[people.alice]
roles = ["sre-lead"]
[people.bob]
roles = ["engineer"]
email = "bob@example.com"
[gates.build]
run = "make"
tier = "critical"
[emergency]
severities = ["P0"]
[emergency.categories.incident]
approvers = [["sre-lead"]]
may_bypass = ["eval"]
"#;

    fn hash(text: &str) -> String {
        policy_sha256(&parse(text, "fixlane.toml").unwrap())
    }

    #[test]
    fn layout_comments_and_unrelated_sections_do_not_change_the_policy() {
        let base = hash(BASE);
        assert_eq!(base.len(), 64);
        let reordered = BASE
            .replace("[people.alice]\nroles = [\"sre-lead\"]\n", "")
            .replace(
                "[gates.build]",
                "# a comment\n\n[people.alice]\nroles = [ \"sre-lead\" ]\n[gates.build]",
            );
        assert_eq!(hash(&reordered), base);
        let other_gates = BASE.replace("run = \"make\"", "run = \"make all\"");
        assert_eq!(hash(&other_gates), base);
    }

    #[test]
    fn people_roles_approvers_and_emergency_settings_do() {
        let base = hash(BASE);
        for changed in [
            BASE.replace(
                "roles = [\"engineer\"]",
                "roles = [\"engineer\", \"sre-lead\"]",
            ),
            BASE.replace("bob@example.com", "robert@example.com"),
            BASE.replace(
                "approvers = [[\"sre-lead\"]]",
                "approvers = [[\"engineer\"]]",
            ),
            BASE.replace(
                "may_bypass = [\"eval\"]",
                "may_bypass = [\"eval\", \"canary\"]",
            ),
            BASE.replace("severities = [\"P0\"]", "severities = [\"P0\", \"P1\"]"),
            format!("{BASE}[people.mallory]\nroles = [\"sre-lead\"]\n"),
        ] {
            assert_ne!(hash(&changed), base, "{changed}");
        }
    }
}
