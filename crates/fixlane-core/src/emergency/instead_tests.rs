//! The next steps as data: each has its JSON action, and each reads in plain words that name
//! no command or flag, since the core does not know the CLI.

use super::*;
use jiff::civil::date;

fn id() -> IncidentId {
    IncidentId::parse("INC-2026-05-20-001").unwrap()
}

fn person(name: &str) -> PersonName {
    PersonName::parse(name).unwrap()
}

/// The action a step serializes as. Listing every variant here makes a new one fail to compile
/// until it is listed in [`one_of_each`] as well.
fn action(instead: &Instead) -> &'static str {
    match instead {
        Instead::Advice { .. } => "advice",
        Instead::Nothing { .. } => "nothing",
        Instead::Approve { .. } => "approve",
        Instead::CheckRecord { .. } => "check_record",
        Instead::GetApprovals { .. } => "get_approvals",
        Instead::CheckState { .. } => "check_state",
        Instead::UseExistingRecord { .. } => "use_existing_record",
        Instead::VerifyOrDeclare => "verify_or_declare",
        Instead::RunCanary { .. } => "run_canary",
        Instead::Backfill { .. } => "backfill",
        Instead::JustifyBypass { .. } => "justify_bypass",
        Instead::ProfileOrBypass { .. } => "profile_or_bypass",
        Instead::WaitForFreeze { .. } => "wait_for_freeze",
        Instead::DeployInWindow { .. } => "deploy_in_window",
        Instead::GiveEta => "give_eta",
        Instead::TodaysId { .. } => "todays_id",
        Instead::UseNormalLane { .. } => "use_normal_lane",
        Instead::AnswerPreflight { .. } => "answer_preflight",
        Instead::ReviewRate { .. } => "review_rate",
        Instead::NamePerson { .. } => "name_person",
        Instead::Identify => "identify",
    }
}

fn one_of_each() -> Vec<Instead> {
    let groups = vec![MissingGroup {
        roles: vec!["security-lead".to_owned()],
        eligible: vec![person("carol")],
    }];
    vec![
        Instead::advice("keep the `eval` discipline for this change"),
        Instead::nothing("the emergency is approved"),
        Instead::Approve {
            id: id(),
            ask: Ask::CategoryApprover {
                category: "security".to_owned(),
            },
            missing: groups.clone(),
        },
        Instead::Approve {
            id: id(),
            ask: Ask::AnotherPerson,
            missing: groups.clone(),
        },
        Instead::Approve {
            id: id(),
            ask: Ask::Eligible,
            missing: vec![],
        },
        Instead::CheckRecord { id: id() },
        Instead::GetApprovals { id: id() },
        Instead::CheckState { id: id() },
        Instead::UseExistingRecord { id: id() },
        Instead::VerifyOrDeclare,
        Instead::RunCanary { id: id() },
        Instead::Backfill { id: id() },
        Instead::JustifyBypass {
            id: id(),
            element: BypassElement::Eval,
        },
        Instead::ProfileOrBypass {
            profile: "compressed".to_owned(),
            id: id(),
        },
        Instead::WaitForFreeze {
            until: Some(date(2027, 1, 4).at(0, 0, 0, 0)),
            zone: "Asia/Kolkata".to_owned(),
        },
        Instead::WaitForFreeze {
            until: None,
            zone: "UTC".to_owned(),
        },
        Instead::DeployInWindow {
            next: Some(date(2026, 5, 25).at(9, 0, 0, 0)),
            zone: "Asia/Kolkata".to_owned(),
        },
        Instead::DeployInWindow {
            next: None,
            zone: "UTC".to_owned(),
        },
        Instead::GiveEta,
        Instead::TodaysId {
            example: "INC-2026-05-20-001".to_owned(),
            dated: date(2020, 1, 1),
        },
        Instead::UseNormalLane {
            did_you_mean: Some("P0".to_owned()),
        },
        Instead::AnswerPreflight {
            missing: vec![PreflightAnswer::FlagFlip, PreflightAnswer::Rollback],
        },
        Instead::ReviewRate {
            roles: vec!["platform-lead".to_owned(), "eng-manager".to_owned()],
            holders: vec![person("dave")],
        },
        Instead::NamePerson {
            did_you_mean: Some("bob".to_owned()),
            key: "bobby".to_owned(),
        },
        Instead::Identify,
    ]
}

#[test]
fn every_step_reads_in_plain_words_without_a_command() {
    for instead in one_of_each() {
        let text = instead.to_string();
        assert!(!text.is_empty(), "{instead:?}");
        assert!(!text.contains("--"), "a flag in {text:?}");
        assert!(!text.contains("fixlane "), "a command in {text:?}");
        assert!(!text.contains("FIXLANE_"), "a variable in {text:?}");
        assert_eq!(text.lines().count(), 1, "{text:?}");
    }
}

#[test]
fn every_step_serializes_with_its_action() {
    for instead in one_of_each() {
        let json = serde_json::to_value(&instead).unwrap();
        assert_eq!(json["action"], action(&instead), "{json}");
    }
}

#[test]
fn a_step_carries_the_values_a_client_needs() {
    let approve = Instead::Approve {
        id: id(),
        ask: Ask::CategoryApprover {
            category: "security".to_owned(),
        },
        missing: vec![
            MissingGroup {
                roles: vec!["security-lead".to_owned()],
                eligible: vec![person("carol"), person("erin")],
            },
            MissingGroup {
                roles: vec!["platform-lead".to_owned()],
                eligible: vec![],
            },
        ],
    };
    assert_eq!(
        serde_json::to_value(&approve).unwrap(),
        serde_json::json!({
            "action": "approve",
            "id": "INC-2026-05-20-001",
            "ask": { "who": "category_approver", "category": "security" },
            "missing": [
                { "roles": ["security-lead"], "eligible": ["carol", "erin"] },
                { "roles": ["platform-lead"], "eligible": [] }
            ]
        })
    );
    let freeze = Instead::WaitForFreeze {
        until: Some(date(2027, 1, 4).at(0, 0, 0, 0)),
        zone: "Asia/Kolkata".to_owned(),
    };
    assert_eq!(
        serde_json::to_value(&freeze).unwrap(),
        serde_json::json!({
            "action": "wait_for_freeze",
            "until": "2027-01-04T00:00:00",
            "zone": "Asia/Kolkata"
        })
    );
    let bypass = Instead::JustifyBypass {
        id: id(),
        element: BypassElement::Canary,
    };
    assert_eq!(
        serde_json::to_value(&bypass).unwrap(),
        serde_json::json!({
            "action": "justify_bypass",
            "id": "INC-2026-05-20-001",
            "element": "canary"
        })
    );
    let preflight = Instead::AnswerPreflight {
        missing: vec![PreflightAnswer::Rollback],
    };
    assert_eq!(
        serde_json::to_value(&preflight).unwrap(),
        serde_json::json!({ "action": "answer_preflight", "missing": ["rollback"] })
    );
}

#[test]
fn the_shared_pieces_read_as_the_config_writes_them() {
    let groups = [
        MissingGroup {
            roles: vec!["security-lead".to_owned(), "sre-lead".to_owned()],
            eligible: vec![person("carol"), person("erin")],
        },
        MissingGroup {
            roles: vec!["platform-lead".to_owned()],
            eligible: vec![],
        },
    ];
    assert_eq!(
        groups_text(&groups),
        "a security-lead or sre-lead (carol, erin) and a platform-lead (nobody eligible in \
         [people])"
    );
    assert_eq!(
        config_list(&["P0".to_owned(), "P1".to_owned()]),
        r#"["P0", "P1"]"#
    );
    assert_eq!(config_list(&[]), "[]");
    assert_eq!(
        holders_note(&[person("dave"), person("erin")]),
        " (dave, erin)"
    );
    assert_eq!(holders_note(&[]), " (nobody in [people] holds one yet)");
    assert_eq!(
        after_suggestion(Some("P0"), "use the normal lane"),
        "did you mean `P0`? Otherwise, use the normal lane"
    );
    assert_eq!(
        after_suggestion(None, "use the normal lane"),
        "use the normal lane"
    );
    assert_eq!(
        next_window(Some(&date(2026, 5, 25).at(9, 0, 0, 0)), "Asia/Kolkata"),
        "the next window opens Monday 2026-05-25 09:00 Asia/Kolkata"
    );
    assert_eq!(next_window(None, "UTC"), "no window opens in the next year");
}

#[test]
fn an_approval_step_with_nothing_missing_says_so() {
    let done = Instead::Approve {
        id: id(),
        ask: Ask::AnotherPerson,
        missing: vec![],
    };
    assert_eq!(
        done.to_string(),
        "ask another person: nobody: every group is satisfied"
    );
    let open = Instead::Approve {
        id: id(),
        ask: Ask::Eligible,
        missing: vec![MissingGroup {
            roles: vec!["platform-lead".to_owned()],
            eligible: vec![person("dave")],
        }],
    };
    assert_eq!(
        open.to_string(),
        "ask a platform-lead (dave), to approve INC-2026-05-20-001"
    );
}
