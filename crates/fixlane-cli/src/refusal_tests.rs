//! Every next step as the CLI has always printed it, byte for byte: the expected texts are the
//! ones `fixlane` printed when the core still wrote them.

use fixlane_core::config::model::{BypassElement, SourceLine};
use fixlane_core::emergency::instead::{Ask, Instead, MissingGroup, PreflightAnswer};
use fixlane_core::emergency::{Refusal, Refusals};
use fixlane_core::lane::{BranchMismatch, MissingEmergency, NoEmergency};
use fixlane_core::{IncidentId, PersonName};
use jiff::civil::date;

use super::*;

const ID: &str = "INC-2026-05-20-001";

fn id() -> IncidentId {
    IncidentId::parse(ID).unwrap()
}

fn people(names: &[&str]) -> Vec<PersonName> {
    names
        .iter()
        .map(|name| PersonName::parse(name).unwrap())
        .collect()
}

fn group(roles: &[&str], eligible: &[&str]) -> MissingGroup {
    MissingGroup {
        roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        eligible: people(eligible),
    }
}

fn security_and_platform() -> Vec<MissingGroup> {
    vec![
        group(&["security-lead"], &["carol"]),
        group(&["platform-lead"], &["dave"]),
    ]
}

#[test]
fn approvals_name_the_command_and_who_can_give_them() {
    let cases = [
        (
            Ask::CategoryApprover {
                category: "security".to_owned(),
            },
            security_and_platform(),
            "ask an approver of category `security`: a security-lead (carol) and a platform-lead \
             (dave), with `fixlane approve INC-2026-05-20-001 --as NAME`",
        ),
        (
            Ask::AnotherPerson,
            vec![group(&["platform-lead"], &["dave"])],
            "ask another person: a platform-lead (dave), with `fixlane approve \
             INC-2026-05-20-001 --as NAME`",
        ),
        (
            Ask::Eligible,
            security_and_platform(),
            "ask a security-lead (carol) and a platform-lead (dave), with `fixlane approve \
             INC-2026-05-20-001 --as NAME`",
        ),
        (
            Ask::Eligible,
            vec![group(&["sre-lead", "eng-manager"], &[])],
            "ask a sre-lead or eng-manager (nobody eligible in [people]), with `fixlane approve \
             INC-2026-05-20-001 --as NAME`",
        ),
        (
            Ask::CategoryApprover {
                category: "security".to_owned(),
            },
            vec![],
            "ask an approver of category `security`: nobody: every group is satisfied",
        ),
    ];
    for (ask, missing, expected) in cases {
        let step = Instead::Approve {
            id: id(),
            ask,
            missing,
        };
        assert_eq!(instead(&step), expected);
    }
}

#[test]
fn record_steps_point_at_show_and_verify() {
    assert_eq!(
        instead(&Instead::CheckRecord { id: id() }),
        "check the record with `fixlane show INC-2026-05-20-001`"
    );
    assert_eq!(
        instead(&Instead::GetApprovals { id: id() }),
        "get the approvals first: `fixlane show INC-2026-05-20-001` lists what is missing"
    );
    assert_eq!(
        instead(&Instead::CheckState { id: id() }),
        "check where it stands with `fixlane show INC-2026-05-20-001`; a fix that needs another \
         attempt after a rollback is a new incident: declare one"
    );
    assert_eq!(
        instead(&Instead::UseExistingRecord { id: id() }),
        "work on the existing record (`fixlane show INC-2026-05-20-001`), or declare a new \
         incident with its own id"
    );
    assert_eq!(
        instead(&Instead::RunCanary { id: id() }),
        "run the canary first: fixlane canary INC-2026-05-20-001"
    );
    assert_eq!(
        instead(&Instead::Backfill { id: id() }),
        "run the owed gates: fixlane backfill INC-2026-05-20-001"
    );
    assert_eq!(
        instead(&Instead::VerifyOrDeclare),
        "after a promotion verify the symptom (`fixlane verify`); after a rollback, a new attempt \
         is a new incident: declare one"
    );
}

#[test]
fn bypass_steps_spell_the_bypass_command() {
    assert_eq!(
        instead(&Instead::JustifyBypass {
            id: id(),
            element: BypassElement::Canary
        }),
        "say why this element must be bypassed for this incident and what compensates for it, \
         e.g. `fixlane bypass INC-2026-05-20-001 canary --reason \"the eval suite takes 40 \
         minutes; the fix is one guard clause\" --compensation \"the full suite runs on the \
         cleanup change within 24h\"`"
    );
    assert_eq!(
        instead(&Instead::ProfileOrBypass {
            profile: "compressed".to_owned(),
            id: id()
        }),
        "use the `compressed` profile, or record the bypass first: `fixlane bypass \
         INC-2026-05-20-001 canary --reason \"…\" --compensation \"…\"`"
    );
    assert_eq!(
        instead(&Instead::WaitForFreeze {
            until: Some(date(2027, 1, 4).at(0, 0, 0, 0)),
            zone: "Asia/Kolkata".to_owned()
        }),
        "wait until the freeze ends (2027-01-04 00:00 Asia/Kolkata); in a declared emergency \
         whose category may bypass `freeze`, record it first with `fixlane bypass INC-… freeze \
         --reason \"…\" --compensation \"…\"`"
    );
    assert_eq!(
        instead(&Instead::WaitForFreeze {
            until: None,
            zone: "UTC".to_owned()
        }),
        "wait until the freeze ends (never UTC); in a declared emergency whose category may \
         bypass `freeze`, record it first with `fixlane bypass INC-… freeze --reason \"…\" \
         --compensation \"…\"`"
    );
    assert_eq!(
        instead(&Instead::DeployInWindow {
            next: Some(date(2026, 5, 25).at(9, 0, 0, 0)),
            zone: "Asia/Kolkata".to_owned()
        }),
        "deploy inside a change window (the next window opens Monday 2026-05-25 09:00 \
         Asia/Kolkata); in a declared emergency whose category may bypass `window`, record it \
         first with `fixlane bypass INC-… window --reason \"…\" --compensation \"…\"`"
    );
    assert_eq!(
        instead(&Instead::DeployInWindow {
            next: None,
            zone: "UTC".to_owned()
        }),
        "deploy inside a change window (no window opens in the next year); in a declared \
         emergency whose category may bypass `window`, record it first with `fixlane bypass \
         INC-… window --reason \"…\" --compensation \"…\"`"
    );
}

#[test]
fn declaration_steps_name_the_flags_of_declare() {
    assert_eq!(
        instead(&Instead::GiveEta),
        "give --eta as HH:MM, for example --eta 23:30, or leave it out"
    );
    assert_eq!(
        instead(&Instead::TodaysId {
            example: ID.to_owned(),
            dated: date(2020, 1, 1)
        }),
        "use today's incident id, for example INC-2026-05-20-001; if the incident really is \
         dated 2020-01-01, declare again with --any-date"
    );
    assert_eq!(
        instead(&Instead::UseNormalLane { did_you_mean: None }),
        "use the normal lane (`fixlane run`); declare an emergency only for a severity listed in \
         emergency.severities"
    );
    assert_eq!(
        instead(&Instead::UseNormalLane {
            did_you_mean: Some("P0".to_owned())
        }),
        "did you mean `P0`? Otherwise, use the normal lane (`fixlane run`); declare an emergency \
         only for a severity listed in emergency.severities"
    );
    for missing in [
        vec![PreflightAnswer::FlagFlip, PreflightAnswer::Rollback],
        vec![PreflightAnswer::Rollback],
    ] {
        assert_eq!(
            instead(&Instead::AnswerPreflight { missing }),
            "try the feature-flag flip first, then the rollback; if neither mitigates, declare \
             again with --flag-flip \"why no flag covers it\" and --rollback \"why a rollback \
             does not fix it\""
        );
    }
    let roles = vec!["platform-lead".to_owned(), "eng-manager".to_owned()];
    assert_eq!(
        instead(&Instead::ReviewRate {
            roles: roles.clone(),
            holders: people(&["dave", "erin", "frank"])
        }),
        "record a team review first: `fixlane review-rate --notes \"…\"` by a person holding one \
         of [\"platform-lead\", \"eng-manager\"] (dave, erin, frank), then declare again"
    );
    assert_eq!(
        instead(&Instead::ReviewRate {
            roles,
            holders: vec![]
        }),
        "record a team review first: `fixlane review-rate --notes \"…\"` by a person holding one \
         of [\"platform-lead\", \"eng-manager\"] (nobody in [people] holds one yet), then \
         declare again"
    );
}

#[test]
fn people_steps_name_the_ways_to_say_who_you_are() {
    assert_eq!(
        instead(&Instead::NamePerson {
            did_you_mean: Some("bob".to_owned()),
            key: "bobby".to_owned()
        }),
        "did you mean `bob`? Otherwise, name a person from [people] (with --as, FIXLANE_USER or \
         git's user.email for yourself), or add `[people.bobby]` with their roles to the config"
    );
    assert_eq!(
        instead(&Instead::NamePerson {
            did_you_mean: None,
            key: "nobody".to_owned()
        }),
        "name a person from [people] (with --as, FIXLANE_USER or git's user.email for \
         yourself), or add `[people.nobody]` with their roles to the config"
    );
    assert_eq!(
        instead(&Instead::Identify),
        "pass --as NAME or set FIXLANE_USER to a person listed in fixlane.toml, or add them \
         under [people] with their roles"
    );
}

#[test]
fn plain_advice_reads_as_written() {
    assert_eq!(
        instead(&Instead::advice(
            "use the normal profile, or declare an emergency and record its `canary` bypass"
        )),
        "use the normal profile, or declare an emergency and record its `canary` bypass"
    );
    assert_eq!(
        instead(&Instead::nothing("the emergency is approved")),
        "nothing: the emergency is approved"
    );
}

#[test]
fn a_refusal_reads_with_the_file_and_the_commands() {
    let refusal = Refusal::new(
        "emergency.severities",
        "declaring emergency INC-2026-05-20-001",
        "severity `P2` is not an emergency severity here",
        Instead::UseNormalLane { did_you_mean: None },
    )
    .at(SourceLine {
        line: 29,
        column: 14,
    });
    assert_eq!(
        render(&refusal, Some("fixlane.toml")),
        "refused: declaring emergency INC-2026-05-20-001\n   rule: emergency.severities — \
         severity `P2` is not an emergency severity here\n  where: fixlane.toml:29:14\ninstead: \
         use the normal lane (`fixlane run`); declare an emergency only for a severity listed \
         in emergency.severities"
    );
    assert!(render(&refusal, None).contains("  where: config line 29, column 14\n"));
    let both: Refusals = Refusals::from(refusal.clone());
    assert_eq!(
        render_all(&both, Some("fixlane.toml")),
        render(&refusal, Some("fixlane.toml"))
    );
}

#[test]
fn a_refusal_among_an_errors_causes_reads_as_the_cli_reads_it() {
    let refusal = Refusal::new(
        "emergency.states",
        "moving INC-2026-05-20-001 from closed to approved",
        "nothing follows closed",
        Instead::CheckState { id: id() },
    );
    let error = anyhow::Error::from(refusal.clone()).context("the canary could not record");
    assert_eq!(
        error_text(&error),
        format!("the canary could not record: {}", render(&refusal, None))
    );
    assert!(error_text(&error).contains("`fixlane show INC-2026-05-20-001`"));
    // Anything else reads as anyhow's `{:#}` writes it.
    let plain = anyhow::anyhow!("git failed").context("the run could not start");
    assert_eq!(error_text(&plain), format!("{plain:#}"));
}

#[test]
fn an_emergency_lane_run_says_which_branch_or_record_it_needs() {
    let mismatch = BranchMismatch {
        incident: "INC-1".to_owned(),
        declared_branch: "hotfix/INC-1-x".to_owned(),
        run_branch: Some("feature/y".to_owned()),
    };
    assert_eq!(
        no_emergency(&NoEmergency::NotDeclared { id: id() }),
        "this emergency-lane run names INC-2026-05-20-001 with --incident, and \
         INC-2026-05-20-001 is not declared: declare it with `fixlane declare \
         INC-2026-05-20-001 …`, or check the id"
    );
    assert_eq!(
        no_emergency(&NoEmergency::OtherBranch(mismatch.clone())),
        branch_mismatch(&mismatch)
    );
    assert_eq!(
        branch_mismatch(&mismatch),
        "emergency INC-1 belongs to the branch hotfix/INC-1-x, not feature/y: an emergency's \
         approvals cover only the branch it was declared for; run the emergency lane on \
         hotfix/INC-1-x, or declare a new emergency for this change"
    );
    let detached = BranchMismatch {
        run_branch: None,
        ..mismatch
    };
    assert_eq!(
        branch_mismatch(&detached),
        "emergency INC-1 belongs to the branch hotfix/INC-1-x, and this run is on a detached \
         HEAD: check out hotfix/INC-1-x, or pass --branch hotfix/INC-1-x when CI checked out its \
         commit"
    );
    let named = MissingEmergency {
        named: Some((
            "hotfix/INC-2026-12-01-005-oops".to_owned(),
            "INC-2026-12-01-005".to_owned(),
        )),
        active: vec![(
            "INC-2026-12-01-001".to_owned(),
            "hotfix/INC-2026-12-01-001-a".to_owned(),
        )],
    };
    assert_eq!(
        missing_emergency(&named),
        "this emergency-lane run needs an approved emergency change, and INC-2026-12-01-005 \
         (named by the branch hotfix/INC-2026-12-01-005-oops) is not declared: declare it with \
         `fixlane declare INC-2026-12-01-005 …`, or check the id in the branch name; the active \
         emergencies are INC-2026-12-01-001 (branch hotfix/INC-2026-12-01-001-a)"
    );
    let unnamed = MissingEmergency {
        named: None,
        active: vec![],
    };
    assert_eq!(
        no_emergency(&NoEmergency::NoRecord(unnamed.clone())),
        missing_emergency(&unnamed)
    );
    assert_eq!(
        missing_emergency(&unnamed),
        "this emergency-lane run needs an approved emergency change and none matches it: declare \
         one with `fixlane declare` and run on the branch it prints (hotfix/<ID>-…), or name it \
         with `--incident ID`; no emergency is active"
    );
}
