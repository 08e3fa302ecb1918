//! The follow-up rules on plain data: what opens, deadlines across a daylight-saving change,
//! who may close which, and what evidence each needs.

use super::*;
use crate::emergency::Approval;
use crate::emergency::test_support::{at, config, person, sample};

fn zone(name: &str) -> TimeZone {
    jiff::tz::TimeZoneDatabase::bundled().get(name).unwrap()
}

fn approved() -> Emergency {
    let mut emergency = sample();
    for (group, name) in [(0, "carol"), (1, "dave")] {
        emergency.approvals.push(Approval {
            person: person(name),
            role: "security-lead".into(),
            group,
            at: at("2026-05-20T10:05:00Z"),
        });
    }
    emergency
}

fn opened(emergency: &Emergency) -> Vec<FollowUp> {
    open_after_merge(
        &config(),
        emergency,
        at("2026-05-20T12:00:00Z"),
        &TimeZone::UTC,
    )
}

#[test]
fn a_fix_without_owed_gates_opens_no_backfill() {
    let kinds: Vec<FollowUpKind> = opened(&approved()).iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            FollowUpKind::Cleanup,
            FollowUpKind::Postmortem,
            FollowUpKind::AuditReview
        ]
    );
}

#[test]
fn owed_gates_open_a_backfill_due_with_the_configured_deadline() {
    let mut emergency = approved();
    emergency.owed_gates.push(crate::emergency::OwedGate {
        gate: crate::GateName::parse("lint").unwrap(),
        tier: crate::Tier::Required,
        lane: crate::names::LaneName::parse("hotfix").unwrap(),
        rev: "abc".into(),
        run_id: "r1".into(),
        recorded_at: at("2026-05-20T11:00:00Z"),
    });
    let followups = opened(&emergency);
    let backfill = &followups[0];
    assert_eq!(backfill.kind, FollowUpKind::Backfill);
    assert_eq!(backfill.owner, emergency.cleanup_owner);
    assert_eq!(backfill.due_at, at("2026-05-21T12:00:00Z"));
    let postmortem = followups
        .iter()
        .find(|f| f.kind == FollowUpKind::Postmortem)
        .unwrap();
    assert_eq!(postmortem.due_at, at("2026-05-22T12:00:00Z"));
}

#[test]
fn the_audit_reviewer_neither_wrote_nor_approved_the_change() {
    let emergency = approved();
    let review = opened(&emergency)
        .into_iter()
        .find(|f| f.kind == FollowUpKind::AuditReview)
        .unwrap();
    assert!(
        !["bob", "carol", "dave"].contains(&review.owner.as_str()),
        "{}",
        review.owner
    );
}

#[test]
fn a_deadline_in_days_keeps_the_local_time_across_daylight_saving() {
    let berlin = zone("Europe/Berlin");
    // 2026-03-28 22:00 CET; clocks go forward on the 29th.
    let from = at("2026-03-28T21:00:00Z");
    let two_days = Duration::parse("2d").unwrap();
    let due = deadline(from, two_days, &berlin);
    assert_eq!(
        due.to_zoned_datetime(berlin.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        "2026-03-30 22:00"
    );
    assert_eq!(due, at("2026-03-30T20:00:00Z"));
    // A whole number of days written in hours counts the same; other durations are exact,
    // whatever the zone does.
    assert_eq!(
        deadline(from, Duration::parse("48h").unwrap(), &berlin),
        due
    );
    let hours = deadline(from, Duration::parse("36h").unwrap(), &berlin);
    assert_eq!(hours, at("2026-03-30T09:00:00Z"));
    // Seconds stay seconds (tests use `2s`).
    assert_eq!(
        deadline(from, Duration::parse("2s").unwrap(), &berlin),
        at("2026-03-28T21:00:02Z")
    );
}

fn close(kind: FollowUpKind, by: &str, evidence: &Evidence) -> Result<(), Refusal> {
    let emergency = approved();
    let by = person(by);
    let mut followups = opened(&emergency);
    followups.push(regression(
        &config(),
        &emergency,
        at("2026-05-20T13:00:00Z"),
        &TimeZone::UTC,
    ));
    may_close(
        &config(),
        &emergency,
        &followups,
        &CloseRequest {
            kind,
            by: &by,
            evidence,
        },
    )
}

fn link() -> Evidence {
    Evidence {
        link: Some("https://git.example.com/pr/42".into()),
        ..Evidence::default()
    }
}

fn notes() -> Evidence {
    Evidence {
        notes: Some("the trail is complete; the bypass was justified".into()),
        ..Evidence::default()
    }
}

#[test]
fn the_author_and_the_approvers_may_not_close_the_audit_review() {
    for conflicted in ["bob", "carol", "dave"] {
        let refusal = close(FollowUpKind::AuditReview, conflicted, &notes()).unwrap_err();
        assert_eq!(refusal.rule, "followups.audit_review", "{conflicted}");
    }
    assert_eq!(close(FollowUpKind::AuditReview, "alice", &notes()), Ok(()));
}

#[test]
fn any_person_closes_cleanup_and_postmortem_with_a_link() {
    assert_eq!(close(FollowUpKind::Cleanup, "carol", &link()), Ok(()));
    assert_eq!(close(FollowUpKind::Postmortem, "bob", &link()), Ok(()));
    let refusal = close(FollowUpKind::Cleanup, "carol", &notes()).unwrap_err();
    assert_eq!(refusal.rule, "followups.evidence");
    let stranger = close(FollowUpKind::Cleanup, "mallory", &link()).unwrap_err();
    assert_eq!(stranger.rule, "followups.people");
}

#[test]
fn a_regression_needs_notes_and_a_link() {
    let both = Evidence {
        link: Some("https://git.example.com/pr/43".into()),
        notes: Some("an evaluation encoded the old behaviour; updated".into()),
        run_id: None,
    };
    assert_eq!(close(FollowUpKind::Regression, "bob", &both), Ok(()));
    let refusal = close(FollowUpKind::Regression, "bob", &notes()).unwrap_err();
    assert!(refusal.why.contains("a link"), "{}", refusal.why);
}

#[test]
fn the_backfill_is_never_closed_by_hand() {
    let mut emergency = approved();
    emergency.owed_gates.push(crate::emergency::OwedGate {
        gate: crate::GateName::parse("lint").unwrap(),
        tier: crate::Tier::Required,
        lane: crate::names::LaneName::parse("hotfix").unwrap(),
        rev: "abc".into(),
        run_id: "r1".into(),
        recorded_at: at("2026-05-20T11:00:00Z"),
    });
    let followups = opened(&emergency);
    let by = person("alice");
    let refusal = may_close(
        &config(),
        &emergency,
        &followups,
        &CloseRequest {
            kind: FollowUpKind::Backfill,
            by: &by,
            evidence: &link(),
        },
    )
    .unwrap_err();
    assert_eq!(refusal.rule, "followups.backfill");
}

#[test]
fn overdue_and_all_closed() {
    let mut followups = opened(&approved());
    assert!(!followups[0].is_overdue(at("2026-05-21T11:59:59Z")));
    assert!(followups[0].is_overdue(at("2026-05-21T12:00:01Z")));
    assert!(!all_closed(&followups));
    for followup in &mut followups {
        followup.closed_at = Some(at("2026-05-21T00:00:00Z"));
    }
    assert!(!followups[0].is_overdue(at("2026-06-01T00:00:00Z")));
    assert!(all_closed(&followups));
    assert!(!all_closed(&[]));
}
