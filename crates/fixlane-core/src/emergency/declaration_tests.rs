//! A declaration's refusals all at once, with "did you mean", and the id's date.

use super::*;
use crate::emergency::instead::Instead;
use crate::emergency::naming::{IdDate, IdPattern};
use crate::emergency::test_support::{NOW, at, config, only, past, request};

fn refused(request: &DeclareRequest) -> Refusals {
    declare(&config(), request, &DeclarationHistory::default()).unwrap_err()
}

fn date(text: &str) -> jiff::civil::Date {
    text.parse().unwrap()
}

#[test]
fn every_problem_of_a_declaration_is_reported_at_once() {
    let mut bad = request();
    bad.severity = "P1".to_owned();
    bad.category = "sec".to_owned();
    bad.cleanup_owner = "bobby".to_owned();
    let refusals = refused(&bad);
    assert_eq!(
        refusals.rules(),
        [
            "emergency.severities",
            "emergency.categories",
            "emergency.cleanup_owner"
        ]
    );
    let [severity, category, owner] = refusals.clone().into_vec().try_into().unwrap();
    // `P1` is another level, not a typo of `P0`: no suggestion to raise it.
    assert_eq!(
        *severity.instead,
        Instead::UseNormalLane { did_you_mean: None },
        "{severity}"
    );
    assert!(
        category
            .instead
            .to_string()
            .starts_with("did you mean `security`? Otherwise, pick one of the known categories"),
        "{category}"
    );
    assert_eq!(
        *owner.instead,
        Instead::NamePerson {
            did_you_mean: Some("bob".to_owned()),
            key: "bobby".to_owned()
        },
        "{owner}"
    );
    insta::assert_snapshot!(refusals.render_with(Some("fixlane.toml"), &ToString::to_string));
}

#[test]
fn the_id_the_limits_and_the_answers_are_reported_together() {
    let mut bad = request();
    bad.flag_flip = None;
    bad.eta = Some("noon".to_owned());
    let history = DeclarationHistory {
        declarations: vec![
            past("INC-2026-05-20-001", "alice", "2026-05-19T08:00:00Z", false),
            past("INC-2026-05-18-001", "carol", "2026-05-18T08:00:00Z", false),
            past("INC-2026-05-17-001", "dave", "2026-05-17T08:00:00Z", false),
        ],
        last_rate_review: None,
        overdue: Vec::new(),
    };
    let refusals = declare(&config(), &bad, &history).unwrap_err();
    assert_eq!(
        refusals.rules(),
        [
            "emergency.preflight",
            "emergency.eta",
            "emergency.unique_id",
            "emergency.rate_limit"
        ]
    );

    // An id that does not match the pattern has no date and no earlier record to compare.
    bad.id = "INC-42".to_owned();
    bad.severity = "P2".to_owned();
    let refusals = declare(&config(), &bad, &history).unwrap_err();
    assert_eq!(
        refusals.rules(),
        [
            "emergency.id_pattern",
            "emergency.severities",
            "emergency.preflight",
            "emergency.eta",
            "emergency.rate_limit"
        ]
    );
}

#[test]
fn a_typo_in_the_severity_gets_a_suggestion() {
    let mut typo = request();
    typo.severity = "PO".to_owned();
    let refusal = only(refused(&typo));
    assert_eq!(refusal.rule, "emergency.severities");
    assert_eq!(
        *refusal.instead,
        Instead::UseNormalLane {
            did_you_mean: Some("P0".to_owned())
        },
        "{refusal}"
    );
    assert!(refusal.config_line.is_some());
}

#[test]
fn another_level_of_the_same_scale_is_not_a_typo() {
    assert!(is_another_level("P1", "P0"));
    assert!(is_another_level("sev2", "SEV1"));
    assert!(!is_another_level("PO", "P0"));
    assert!(!is_another_level("P10", "P0"));
    assert!(!is_another_level("crit", "P0"));
}

#[test]
fn an_id_dated_far_from_today_is_refused_unless_any_date() {
    let mut old = request();
    old.id = "INC-2020-01-01-001".to_owned();
    let refusal = only(refused(&old));
    assert_eq!(refusal.rule, "emergency.id_date");
    assert!(
        refusal
            .why
            .contains("is dated 2020-01-01, 2331 days before today (2026-05-20, UTC)"),
        "{}",
        refusal.why
    );
    assert_eq!(
        *refusal.instead,
        Instead::TodaysId {
            example: "INC-2026-05-20-001".to_owned(),
            dated: date("2020-01-01")
        }
    );
    old.any_date = true;
    assert!(declare(&config(), &old, &DeclarationHistory::default()).is_ok());

    // A week either way is the slack; a day more is refused, ahead of today too.
    for (id, fine) in [
        ("INC-2026-05-13-001", true),
        ("INC-2026-05-12-001", false),
        ("INC-2026-05-27-001", true),
        ("INC-2026-05-28-001", false),
    ] {
        let mut near = request();
        near.id = id.to_owned();
        let outcome = declare(&config(), &near, &DeclarationHistory::default());
        assert_eq!(outcome.is_ok(), fine, "{id}: {outcome:?}");
    }
    let mut ahead = request();
    ahead.id = "INC-2026-05-28-001".to_owned();
    assert!(only(refused(&ahead)).why.contains("8 days after today"));
}

#[test]
fn an_id_with_an_impossible_date_is_refused_even_with_any_date() {
    let mut impossible = request();
    impossible.id = "INC-2026-13-01-001".to_owned();
    impossible.any_date = true;
    let refusal = only(refused(&impossible));
    assert_eq!(refusal.rule, "emergency.id_date");
    assert!(refusal.why.contains("2026-13-01, which is not a day"));
}

#[test]
fn the_pattern_reads_the_date_an_id_carries() {
    let default = IdPattern::parse("INC-YYYY-MM-DD-NNN").unwrap();
    assert_eq!(
        default.date("INC-2026-05-20-001"),
        Some(IdDate::Valid(date("2026-05-20")))
    );
    assert_eq!(default.date("INC-2026-05-20-01"), None);
    assert_eq!(
        default.date("INC-2026-02-30-001"),
        Some(IdDate::Invalid {
            year: 2026,
            month: 2,
            day: 30
        })
    );
    assert_eq!(
        IdPattern::parse("OPS-YYMMDD-N")
            .unwrap()
            .date("OPS-260520-7"),
        Some(IdDate::Valid(date("2026-05-20")))
    );
    // Without a whole date in the pattern there is nothing to compare.
    assert_eq!(IdPattern::parse("DNS-NN").unwrap().date("DNS-42"), None);
    assert_eq!(
        IdPattern::parse("INC-YYYY-NNN")
            .unwrap()
            .date("INC-2020-001"),
        None
    );
    let now = at("2026-05-20T10:00:00Z");
    assert_eq!(default.example(now), "INC-2026-05-20-001");
    assert_eq!(default.as_str(), "INC-YYYY-MM-DD-NNN");
}

#[test]
fn the_rate_history_covers_the_longer_window_and_a_day() {
    let config = config();
    let now = at(NOW);
    let since = history_since(&config, now);
    let longest = [config.emergency.rate_limit, config.emergency.author_limit]
        .iter()
        .flatten()
        .map(|limit| limit.within.as_seconds())
        .max()
        .unwrap();
    let expected = i64::try_from(longest).unwrap() + 86_400;
    assert_eq!(now.duration_since(since).as_secs(), expected);
    let mut unlimited = config.clone();
    unlimited.emergency.rate_limit = None;
    unlimited.emergency.author_limit = None;
    assert_eq!(
        now.duration_since(history_since(&unlimited, now)).as_secs(),
        86_400
    );
}

fn overdue_history() -> DeclarationHistory {
    DeclarationHistory {
        declarations: vec![past(
            "INC-2026-05-10-001",
            "alice",
            "2026-05-10T10:00:00Z",
            false,
        )],
        last_rate_review: None,
        overdue: vec![OverdueFollowUp {
            id: "INC-2026-05-10-001".into(),
            kind: crate::followup::FollowUpKind::Cleanup,
            due_at: at("2026-05-11T10:00:00Z"),
        }],
    }
}

#[test]
fn overdue_follow_ups_warn_and_stay_on_the_record() {
    let declared = declare(&config(), &request(), &overdue_history()).unwrap();
    assert!(
        declared
            .warnings
            .iter()
            .any(|warning| warning.contains("cleanup of INC-2026-05-10-001")),
        "{:?}",
        declared.warnings
    );
    assert_eq!(declared.emergency.warnings, declared.warnings);
}

#[test]
fn with_overdue_blocks_debt_refuses_until_a_review_after_the_last_declaration() {
    let mut config = config();
    config.emergency.overdue_blocks = true;
    let mut history = overdue_history();
    let refused = only(declare(&config, &request(), &history).unwrap_err());
    assert_eq!(refused.rule, "emergency.overdue_blocks");
    // A review before the last declaration does not count for this one.
    history.last_rate_review = Some(at("2026-05-09T00:00:00Z"));
    assert!(declare(&config, &request(), &history).is_err());
    history.last_rate_review = Some(at("2026-05-12T00:00:00Z"));
    let declared = declare(&config, &request(), &history).unwrap();
    assert!(
        declared
            .warnings
            .iter()
            .any(|warning| warning.contains("overdue"))
    );
    // A drill is never blocked by debt.
    history.last_rate_review = None;
    let mut drill = request();
    drill.drill = true;
    assert!(declare(&config, &drill, &history).is_ok());
}
