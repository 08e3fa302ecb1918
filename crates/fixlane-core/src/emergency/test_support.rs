//! Shared fixtures for the emergency tests: a config in the SPEC's shape and a few clocks.

use jiff::Timestamp;

use crate::config::model::Config;
use crate::emergency::declaration::{DeclareRequest, PastDeclaration};
use crate::emergency::model::{Emergency, EmergencyState, Transition};
use crate::emergency::refusal::{Refusal, Refusals};
use crate::names::IncidentId;
use crate::names::PersonName;

/// The SPEC's people and categories, plus emails and a few more roles.
pub const CONFIG: &str = r#"[project]
name = "checkout-service"

[people.alice]
roles = ["sre-lead"]
email = "Alice@Example.com"
[people.bob]
roles = ["engineer"]
email = "bob@example.com"
[people.carol]
roles = ["security-lead"]
[people.dave]
roles = ["platform-lead"]
[people.erin]
roles = ["security-lead", "platform-lead"]
[people.frank]
roles = ["eng-manager"]

[gates.build]
run = "cargo build --locked"
tier = "critical"

[lanes.hotfix]
branches = ["hotfix/**"]
emergency = true
max_diff_lines = 50

[emergency]
severities = ["P0"]
rate_limit = { max = 3, within = "7d" }
author_limit = { max = 4, within = "90d" }
rate_review_roles = ["platform-lead", "eng-manager"]

[emergency.categories.security]
approvers = [["security-lead"], ["platform-lead"]]
may_bypass = ["eval", "canary", "window", "freeze"]
[emergency.categories.incident]
approvers = [["sre-lead", "eng-manager"]]
may_bypass = ["canary", "window"]
"#;

pub fn config() -> Config {
    crate::config::parse(CONFIG, "fixlane.toml")
        .unwrap_or_else(|errors| panic!("{}", errors.render_plain()))
}

pub fn person(name: &str) -> PersonName {
    PersonName::parse(name).unwrap()
}

pub fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A declared security emergency by bob, with a title full of shell metacharacters.
pub fn sample() -> Emergency {
    Emergency {
        id: IncidentId::parse("INC-2026-05-20-001").unwrap(),
        severity: "P0".to_owned(),
        category: "security".to_owned(),
        title: "payment $(rm -rf /); `reboot` \"quoted\" 'single'".to_owned(),
        author: person("bob"),
        cleanup_owner: person("bob"),
        eta: Some("23:30".to_owned()),
        flag_flip: "no flag covers the payment path".to_owned(),
        rollback: "the bug is in a brand-new feature".to_owned(),
        branch: "hotfix/INC-2026-05-20-001-payment-rm-rf-reboot-quoted-single".to_owned(),
        drill: false,
        declared_at: at("2026-05-20T10:00:00Z"),
        state: EmergencyState::Declared,
        approvals: vec![],
        bypasses: vec![],
        warnings: vec![],
        owed_gates: vec![],
        timeline: vec![Transition {
            state: EmergencyState::Declared,
            at: at("2026-05-20T10:00:00Z"),
            by: "bob".to_owned(),
            note: None,
        }],
    }
}

/// The moment the sample declarations are made.
pub const NOW: &str = "2026-05-20T10:00:00Z";

/// A declaration that passes every rule of [`CONFIG`] at [`NOW`].
pub fn request() -> DeclareRequest {
    DeclareRequest {
        id: "INC-2026-05-20-001".to_owned(),
        severity: "P0".to_owned(),
        category: "security".to_owned(),
        title: "Fix payment timeout".to_owned(),
        author: person("bob"),
        cleanup_owner: "bob".to_owned(),
        eta: Some("23:30".to_owned()),
        flag_flip: Some("no flag covers the payment path".to_owned()),
        rollback: Some("the bug is in a brand-new feature".to_owned()),
        drill: false,
        any_date: false,
        now: at(NOW),
    }
}

pub fn past(id: &str, author: &str, declared_at: &str, drill: bool) -> PastDeclaration {
    PastDeclaration {
        id: id.to_owned(),
        author: author.to_owned(),
        declared_at: at(declared_at),
        drill,
    }
}

/// The one refusal of a declaration with one problem.
pub fn only(refusals: Refusals) -> Refusal {
    assert_eq!(refusals.len(), 1, "{refusals}");
    refusals.into_vec().remove(0)
}
