//! Every audit action with the JSON it writes: the snapshot is the log format, so a change to it
//! is a change to what old logs mean.

use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::canary::CanaryEvent;
use crate::config::model::BypassElement;
use crate::emergency::EmergencyState;
use crate::names::{IncidentId, LaneName, PersonName};
use crate::policy_change::Weakening;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn id() -> IncidentId {
    IncidentId::parse("INC-2026-12-01-001").unwrap()
}

fn person(name: &str) -> PersonName {
    PersonName::parse(name).unwrap()
}

fn token() -> crate::token::TokenId {
    crate::token::TokenId::parse("ab01020304cd").unwrap()
}

/// One of each variant. The `match` has no wildcard: a new variant does not compile until it is
/// listed here too.
fn every_action() -> Vec<AuditAction> {
    let listed = vec![
        AuditAction::ConfigSeen(ConfigSeen {
            file: "fixlane.toml".into(),
            sha256: "ab12".into(),
            previous_sha256: None,
        }),
        AuditAction::Declare(Declared {
            id: id(),
            severity: "SEV1".into(),
            category: "outage".into(),
            title: "payments time out".into(),
            cleanup_owner: person("bob"),
            eta: Some("30m".into()),
            flag_flip: "no flag covers it".into(),
            rollback: "./rollback.sh".into(),
            branch: "hotfix/INC-2026-12-01-001-payments-time-out".into(),
            warnings: vec!["a warning".into()],
        }),
        AuditAction::Approve(Approved {
            approval: ApprovalGiven {
                id: id(),
                person: person("carol"),
                role: "incident-commander".into(),
                group: 0,
            },
            state: EmergencyState::Approved,
        }),
        AuditAction::Bypass(Bypassed {
            id: id(),
            element: BypassElement::Eval,
            reason: "the fix is one line".into(),
            compensation: "backfill within 24h".into(),
            by: person("carol"),
        }),
        AuditAction::ReviewRate(RateReviewed {
            at: at("2026-12-01T22:14:00Z"),
            notes: "three in a week is a pattern".into(),
        }),
        AuditAction::RunStarted(RunStarted {
            run_id: "20261201T221400.000Z-00001".into(),
            rev: "0123456789abcdef0123456789abcdef01234567".into(),
            branch: Some("main".into()),
            lane: "normal".into(),
            emergency: false,
            incident: None,
            started_at: at("2026-12-01T22:14:00.5Z"),
            runner: Some(json!({"host": "ci-1", "pid": 42})),
        }),
        AuditAction::GatesRecorded(GatesRecorded {
            run_id: "r1".into(),
            gates: vec![GateListed {
                gate: "unit".into(),
                state: "timed_out".into(),
                exit_code: None,
            }],
        }),
        AuditAction::RunVerdict(RunVerdict {
            run_id: "r1".into(),
            rev: "0123456".into(),
            lane: "hotfix".into(),
            verdict: "ready".into(),
            reasons: vec!["2 gates owed".into()],
            finished_at: at("2026-12-01T22:15:00Z"),
        }),
        AuditAction::RunAbandoned(RunAbandoned {
            run_id: "r1".into(),
            rev: "0123456".into(),
            lane: "hotfix".into(),
            verdict: "blocked".into(),
            why: "abandoned: its runner stopped".into(),
            abandoned_at: at("2026-12-01T22:16:00Z"),
        }),
        AuditAction::PolicyWeakened(PolicyWeakened {
            run_id: "r1".into(),
            rev: "0123456".into(),
            lane: "normal".into(),
            base: Some(json!("fedcba9")),
            file: "fixlane.toml".into(),
            changes: vec![Weakening {
                what: "gates.scan".into(),
                change: "the gate was removed".into(),
            }],
        }),
        AuditAction::PolicyMismatch(PolicyMismatch {
            run_id: "r1".into(),
            rev: "0123456".into(),
            lane: "hotfix".into(),
            file: "fixlane.toml".into(),
            run_sha256: "ab12".into(),
            server_sha256: "cd34".into(),
        }),
        AuditAction::DeployWindowBypassed(DeployWindowBypassed {
            incident: Some(id()),
            rev: "0123456".into(),
            lane: LaneName::parse("hotfix").unwrap(),
            at: at("2026-12-01T22:17:00Z"),
            bypassed: vec![BypassElement::Window],
            why: "outside the deploy window".into(),
        }),
        AuditAction::ConfirmWhileRunning(ConfirmWhileRunning {
            rev: "0123456".into(),
            run_id: "r1".into(),
            lane: "normal".into(),
            reasons: vec!["e2e is still running".into()],
        }),
        AuditAction::FixReady(FixReady {
            id: id(),
            rev: "0123456".into(),
            run_id: "r1".into(),
            state: EmergencyState::FixReady,
            owed: vec!["e2e".into()],
        }),
        AuditAction::CanaryStarted(CanaryStarted {
            id: "canary-1".into(),
            incident: Some("INC-2026-12-01-001".into()),
            rev: "0123456".into(),
            profile: "default".into(),
            started_at: at("2026-12-01T22:18:00Z"),
        }),
        AuditAction::CanaryStep(CanaryStep {
            kind: "step_started".into(),
            canary: "canary-1".into(),
            incident: None,
            seq: 3,
            data: serde_json::to_value(CanaryEvent::StepStarted {
                at: at("2026-12-01T22:18:30Z"),
                step: 1,
                weight: 5,
                bake_seconds: 60,
            })
            .unwrap(),
        }),
        AuditAction::CanaryFinished(CanaryFinished {
            canary: "canary-1".into(),
            incident: None,
            outcome: "promoted".into(),
            finished_at: at("2026-12-01T22:20:00Z"),
        }),
        AuditAction::EmergencyMoved(EmergencyMoved {
            id: id(),
            state: EmergencyState::RolledBack,
            canary: "canary-1".into(),
            note: Some("error rate above 0.05".into()),
        }),
        AuditAction::EmergencyUnchanged(EmergencyUnchanged {
            state: EmergencyState::Deploying,
            unchanged: true,
        }),
        AuditAction::FollowUpOpened(FollowUpOpened {
            id: id(),
            kind: crate::followup::FollowUpKind::AuditReview,
            owner: person("alice"),
            due_at: at("2026-12-08T22:14:00Z"),
            because: "promoted".into(),
        }),
        AuditAction::FollowUpClosed(FollowUpClosed {
            id: id(),
            kind: crate::followup::FollowUpKind::Cleanup,
            by: person("bob"),
            evidence: crate::followup::Evidence {
                link: Some("https://git.example.com/pr/42".into()),
                notes: None,
                run_id: None,
            },
            late: false,
        }),
        AuditAction::EmergencyClosed(EmergencyClosed {
            id: id(),
            state: EmergencyState::Closed,
        }),
        AuditAction::FollowUpOverdue(FollowUpOverdue {
            id: id(),
            seq: 2,
            kind: crate::followup::FollowUpKind::Postmortem,
            owner: PersonName::parse("bob").unwrap(),
            due_at: "2026-12-03T22:14:00Z".parse().unwrap(),
        }),
        AuditAction::DrillSandbox(DrillSandbox {
            at: "2026-12-01T16:44:00Z".parse().unwrap(),
        }),
        AuditAction::DrillRecorded(DrillRecorded {
            drill_id: "drill-20261201T164400Z-1a2b".to_owned(),
            regression: true,
            passed: false,
            steps: 9,
            failed_step: Some("the canary rolls back on the error-rate rise".to_owned()),
        }),
        AuditAction::TokenIssued(TokenIssued {
            token: token(),
            person: person("alice"),
            expires_at: Some(at("2027-03-01T22:14:00Z")),
        }),
        AuditAction::TokenRevoked(TokenRevoked {
            token: token(),
            person: person("alice"),
        }),
        AuditAction::SessionStarted(SessionStarted {
            session: "5e551011d0a1".to_owned(),
            token: token(),
            person: person("alice"),
            expires_at: at("2026-12-02T10:14:00Z"),
        }),
        AuditAction::SessionEnded(SessionEnded {
            session: "5e551011d0a1".to_owned(),
            person: person("alice"),
        }),
        WithToken::of(
            &token(),
            AuditAction::Approve(Approved {
                approval: ApprovalGiven {
                    id: id(),
                    person: person("alice"),
                    role: "sre-lead".into(),
                    group: 0,
                },
                state: EmergencyState::Approved,
            }),
        ),
    ];
    for action in &listed {
        match action {
            AuditAction::ConfigSeen(_)
            | AuditAction::Declare(_)
            | AuditAction::Approve(_)
            | AuditAction::Bypass(_)
            | AuditAction::ReviewRate(_)
            | AuditAction::RunStarted(_)
            | AuditAction::GatesRecorded(_)
            | AuditAction::RunVerdict(_)
            | AuditAction::RunAbandoned(_)
            | AuditAction::PolicyWeakened(_)
            | AuditAction::PolicyMismatch(_)
            | AuditAction::DeployWindowBypassed(_)
            | AuditAction::ConfirmWhileRunning(_)
            | AuditAction::FixReady(_)
            | AuditAction::CanaryStarted(_)
            | AuditAction::CanaryStep(_)
            | AuditAction::CanaryFinished(_)
            | AuditAction::EmergencyMoved(_)
            | AuditAction::EmergencyUnchanged(_)
            | AuditAction::FollowUpOpened(_)
            | AuditAction::FollowUpClosed(_)
            | AuditAction::EmergencyClosed(_)
            | AuditAction::FollowUpOverdue(_)
            | AuditAction::DrillSandbox(_)
            | AuditAction::DrillRecorded(_)
            | AuditAction::TokenIssued(_)
            | AuditAction::TokenRevoked(_)
            | AuditAction::SessionStarted(_)
            | AuditAction::SessionEnded(_)
            | AuditAction::WithToken(_) => {}
        }
    }
    listed
}

#[test]
fn every_action_with_its_json() {
    let mut text = String::new();
    for action in every_action() {
        text.push_str(&action.name());
        text.push_str(": ");
        text.push_str(&crate::audit::canonical_json(&action.details().unwrap()));
        text.push('\n');
    }
    insta::assert_snapshot!(text);
}

#[test]
fn each_variant_has_its_own_name() {
    // An action taken with a token keeps the action's name by design.
    let mut names: Vec<String> = every_action()
        .iter()
        .filter(|action| !matches!(action, AuditAction::WithToken(_)))
        .map(|action| action.name().into_owned())
        .collect();
    // The two emergency moves share the state's name by design; every other name is unique.
    names.retain(|name| !matches!(name.as_str(), "deploying" | "rolled-back"));
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
}

#[test]
fn an_action_taken_with_a_token_is_the_action_naming_the_token() {
    let plain = AuditAction::Bypass(Bypassed {
        id: id(),
        element: BypassElement::Window,
        reason: "outside the window".into(),
        compensation: "watched live".into(),
        by: person("carol"),
    });
    let with = WithToken::of(&token(), plain.clone());
    assert_eq!(with.name(), plain.name());
    let mut expected = plain.details().unwrap();
    expected
        .as_object_mut()
        .unwrap()
        .insert("token".into(), json!("ab01020304cd"));
    assert_eq!(with.details().unwrap(), expected);
}

#[test]
fn details_match_what_earlier_versions_wrote() {
    // The exact literals the store and CLI built by hand before the enum existed.
    let started = AuditAction::RunStarted(RunStarted {
        run_id: "r1".into(),
        rev: "abc".into(),
        branch: None,
        lane: "normal".into(),
        emergency: false,
        incident: None,
        started_at: at("2026-12-01T22:14:00Z"),
        runner: None,
    });
    assert_eq!(
        started.details().unwrap(),
        json!({
            "run_id": "r1",
            "rev": "abc",
            "branch": null,
            "lane": "normal",
            "emergency": false,
            "incident": null,
            "started_at": "2026-12-01T22:14:00.000000000Z",
        })
    );
    let moved = AuditAction::EmergencyUnchanged(EmergencyUnchanged {
        state: EmergencyState::Promoted,
        unchanged: true,
    });
    assert_eq!(moved.name(), "promoted");
    assert_eq!(
        moved.details().unwrap(),
        json!({ "state": "promoted", "unchanged": true })
    );
    let event = CanaryEvent::RollbackCheckPassed {
        at: at("2026-12-01T22:14:00Z"),
    };
    let step = AuditAction::CanaryStep(CanaryStep {
        kind: "rollback_check_passed".into(),
        canary: "c".into(),
        incident: Some("INC-1".into()),
        seq: 1,
        data: serde_json::to_value(&event).unwrap(),
    });
    assert_eq!(step.name(), "canary-rollback-check-passed");
    assert_eq!(
        step.details().unwrap(),
        json!({ "canary": "c", "incident": "INC-1", "seq": 1, "data": serde_json::to_value(&event).unwrap() })
    );
}
