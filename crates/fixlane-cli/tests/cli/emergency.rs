//! Emergency change records end to end: declaration with pre-flight, approvals by role, bypass
//! scope, rate limits, windows and freezes, commit discipline, and the hotfix lane's verdict.

use crate::support::{IN_WINDOW, PostgresDatabase, Run, Sandbox, redactions};

const ID: &str = "INC-2026-05-20-001";
/// A Saturday night.
const OUTSIDE_WINDOW: &str = "2026-11-28T22:00:00+05:30";
/// Inside the holiday freeze, on a weekday morning.
const IN_FREEZE: &str = "2026-12-22T10:00:00+05:30";

fn declare(sandbox: &Sandbox, id: &str, as_person: &str, extra: &[&str]) -> Run {
    let mut arguments = vec![
        "declare",
        // The suite's ids are fixed dates, so it reads the same on any day.
        "--any-date",
        id,
        "--severity",
        "P0",
        "--category",
        "security",
        "--title",
        "payment timeout $(touch pwned); `rm -rf /` \"quoted\"",
        "--cleanup-owner",
        "bob",
        "--eta",
        "23:30",
        "--flag-flip",
        "no flag covers the payment path",
        "--rollback",
        "the bug is in a brand-new feature",
        "--as",
        as_person,
    ];
    arguments.extend_from_slice(extra);
    sandbox.fixlane(&arguments)
}

fn snapshot(sandbox: &Sandbox, name: &str, text: &str) {
    redactions(sandbox).bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn a_whole_lifecycle_reaches_a_ready_hotfix_verdict() {
    lifecycle(&Sandbox::example());
}

#[test]
fn a_whole_lifecycle_on_postgresql() {
    let Some(database) = PostgresDatabase::create("a_whole_lifecycle_on_postgresql") else {
        return;
    };
    let mut sandbox = Sandbox::example();
    sandbox.db = Some(database.url.clone());
    lifecycle(&sandbox);
    assert!(
        !sandbox.db().exists(),
        "the SQLite default was used instead of PostgreSQL"
    );
}

fn lifecycle(sandbox: &Sandbox) {
    let declared = declare(sandbox, ID, "bob", &["--branch"]);
    declared.expect_code(0);
    let branch = sandbox.git(&["branch", "--show-current"]);
    assert!(
        branch.starts_with(&format!("hotfix/{ID}-payment-timeout")),
        "{branch}"
    );
    assert!(
        branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/".contains(c)),
        "{branch}"
    );
    assert!(
        declared.stdout().contains("needs approval from"),
        "{}",
        declared.stdout()
    );

    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit(&format!(
        "hotfix(payments): raise the timeout\n\n{ID}\napprover: @carol"
    ));

    // Not approved yet: blocked, naming what is missing.
    let early = sandbox.fixlane(&["run", "--at", IN_WINDOW]);
    early.expect_code(1);
    assert!(
        early.stderr().contains("is not approved yet"),
        "{}",
        early.stderr()
    );

    sandbox
        .fixlane(&["approve", ID, "--as", "carol"])
        .expect_code(0);
    let second = sandbox.fixlane(&["approve", ID, "--as", "dave"]);
    second.expect_code(0);
    assert!(
        second.stdout().contains("the change is approved"),
        "{}",
        second.stdout()
    );

    // Approved but no eval bypass recorded: still blocked.
    let no_bypass = sandbox.fixlane(&["run", "--at", IN_WINDOW]);
    no_bypass.expect_code(1);
    assert!(
        no_bypass.stderr().contains("no `eval` bypass"),
        "{}",
        no_bypass.stderr()
    );

    sandbox
        .fixlane(&[
            "bypass",
            ID,
            "eval",
            "--reason",
            "the integration suite takes 30 minutes; customers are failing now",
            "--compensation",
            "backfill the skipped gates within 24h; roll back on any regression",
            "--as",
            "bob",
        ])
        .expect_code(0);

    let ready = sandbox.fixlane(&["run", "--at", IN_WINDOW]);
    ready.expect_code(0);
    let stderr = ready.stderr();
    assert!(
        stderr.contains(&format!("lane hotfix (emergency) for {ID}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped  lint (required): skipped by lane hotfix"),
        "{stderr}"
    );

    let show = sandbox.fixlane(&["show", ID, "--json"]);
    show.expect_code(0);
    let record: serde_json::Value = serde_json::from_str(&show.stdout()).unwrap();
    assert_eq!(record["state"], "fix_ready");
    assert_eq!(
        record["title"],
        "payment timeout $(touch pwned); `rm -rf /` \"quoted\""
    );
    let owed: Vec<&str> = record["owed_gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|gate| gate["gate"].as_str().unwrap())
        .collect();
    assert_eq!(
        owed,
        ["lint", "integration", "scan-high", "perf", "staging-deploy"]
    );
    let states: Vec<&str> = record["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["declared", "approved", "fix_ready"]);
    assert!(!sandbox.path().join("pwned").exists());

    sandbox.fixlane(&["check-commit"]).expect_code(0);
    let verdict = sandbox.fixlane(&["verdict"]);
    verdict.expect_code(0);
    let audit = sandbox.fixlane(&["audit", "verify"]);
    audit.expect_code(0);
    let actions = sandbox.fixlane(&["audit", "export"]).stdout();
    for action in ["\"declare\"", "\"approve\"", "\"bypass\"", "\"fix-ready\""] {
        assert!(
            actions.contains(action),
            "{action} missing from the audit log"
        );
    }
    let listed = sandbox.fixlane(&["list"]);
    listed.expect_code(0);
    assert!(listed.stdout().contains(ID), "{}", listed.stdout());
}

#[test]
fn refusals_name_the_rule_and_what_to_do_instead() {
    let sandbox = Sandbox::example();
    let p2 = sandbox.fixlane(&[
        "declare",
        "--any-date",
        ID,
        "--severity",
        "P2",
        "--category",
        "security",
        "--title",
        "slow",
        "--cleanup-owner",
        "bob",
        "--flag-flip",
        "none",
        "--rollback",
        "none",
        "--as",
        "bob",
    ]);
    p2.expect_code(1);
    snapshot(&sandbox, "refused_p2", &p2.stderr());

    let no_preflight = sandbox.fixlane(&[
        "declare",
        "--any-date",
        ID,
        "--severity",
        "P0",
        "--category",
        "security",
        "--title",
        "down",
        "--cleanup-owner",
        "bob",
        "--as",
        "bob",
    ]);
    no_preflight.expect_code(1);
    snapshot(
        &sandbox,
        "refused_missing_preflight",
        &no_preflight.stderr(),
    );

    let bad_id = declare(&sandbox, "INC-1$(touch pwned)", "bob", &[]);
    assert_ne!(bad_id.code(), 0);
    assert!(!sandbox.path().join("pwned").exists());

    let unknown = declare(&sandbox, ID, "mallory@example.com", &[]);
    unknown.expect_code(1);
    snapshot(&sandbox, "refused_unknown_identity", &unknown.stderr());

    declare(&sandbox, ID, "bob", &[]).expect_code(0);
    let own = sandbox.fixlane(&["approve", ID, "--as", "bob"]);
    own.expect_code(1);
    snapshot(&sandbox, "refused_self_approval", &own.stderr());

    let no_role = sandbox.fixlane(&["approve", ID, "--as", "alice"]);
    no_role.expect_code(1);
    snapshot(
        &sandbox,
        "refused_approver_without_the_role",
        &no_role.stderr(),
    );

    let no_compensation = sandbox.fixlane(&[
        "bypass",
        ID,
        "canary",
        "--reason",
        "harm is ongoing",
        "--as",
        "bob",
    ]);
    no_compensation.expect_code(1);
    snapshot(
        &sandbox,
        "refused_bypass_without_compensation",
        &no_compensation.stderr(),
    );
    let bad_element = sandbox.fixlane(&[
        "bypass",
        ID,
        "lint",
        "--reason",
        "r",
        "--compensation",
        "c",
        "--as",
        "bob",
    ]);
    bad_element.expect_code(2);
}

#[test]
fn one_person_counts_for_one_group_and_scope_follows_the_category() {
    let sandbox = Sandbox::example();
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    sandbox.write(
        "fixlane.toml",
        &config.replace(
            "[people.dave]",
            "[people.erin]\nroles = [\"security-lead\", \"platform-lead\"]\n[people.dave]",
        ),
    );
    sandbox.commit("erin holds two roles");
    declare(&sandbox, ID, "bob", &[]).expect_code(0);
    sandbox
        .fixlane(&["approve", ID, "--as", "erin"])
        .expect_code(0);
    let twice = sandbox.fixlane(&["approve", ID, "--as", "erin"]);
    twice.expect_code(1);
    snapshot(
        &sandbox,
        "refused_one_person_for_two_groups",
        &twice.stderr(),
    );

    let incident_id = "INC-2026-05-20-002";
    sandbox
        .fixlane(&[
            "declare",
            "--any-date",
            incident_id,
            "--severity",
            "P0",
            "--category",
            "incident",
            "--title",
            "orders saga lock",
            "--cleanup-owner",
            "bob",
            "--flag-flip",
            "no flag",
            "--rollback",
            "no target",
            "--as",
            "bob",
        ])
        .expect_code(0);
    let freeze = sandbox.fixlane(&[
        "bypass",
        incident_id,
        "freeze",
        "--reason",
        "cannot wait",
        "--compensation",
        "senior approval",
        "--as",
        "bob",
    ]);
    freeze.expect_code(1);
    snapshot(
        &sandbox,
        "refused_bypass_outside_the_category",
        &freeze.stderr(),
    );
}

fn set_limits(sandbox: &Sandbox, rate: &str, author: &str) {
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    let config = config
        .replace("rate_limit = { max = 3, within = \"7d\" }", rate)
        .replace("author_limit = { max = 4, within = \"90d\" }", author);
    sandbox.write("fixlane.toml", &config);
    sandbox.commit("limits");
}

#[test]
fn the_fourth_declaration_in_a_week_waits_for_a_team_review() {
    let sandbox = Sandbox::example();
    for number in 1..=3 {
        declare(&sandbox, &format!("INC-2026-05-20-00{number}"), "bob", &[]).expect_code(0);
    }
    let fourth = declare(&sandbox, "INC-2026-05-20-004", "bob", &[]);
    fourth.expect_code(1);
    snapshot(&sandbox, "refused_rate_limit", &fourth.stderr());

    let not_allowed = sandbox.fixlane(&["review-rate", "--notes", "fine", "--as", "bob"]);
    not_allowed.expect_code(1);
    sandbox
        .fixlane(&[
            "review-rate",
            "--notes",
            "three genuine P0s; the payment gateway needs a circuit breaker",
            "--as",
            "dave",
        ])
        .expect_code(0);
    declare(&sandbox, "INC-2026-05-20-004", "bob", &[]).expect_code(0);
}

#[test]
fn the_author_limit_warns_and_keeps_the_warning() {
    let sandbox = Sandbox::example();
    set_limits(
        &sandbox,
        "rate_limit = { max = 10, within = \"7d\" }",
        "author_limit = { max = 1, within = \"90d\" }",
    );
    declare(&sandbox, "INC-2026-05-20-001", "bob", &[]).expect_code(0);
    let second = declare(&sandbox, "INC-2026-05-20-002", "bob", &[]);
    second.expect_code(0);
    assert!(second.stderr().contains("warning:"), "{}", second.stderr());
    let show = sandbox.fixlane(&["show", "INC-2026-05-20-002", "--json"]);
    let record: serde_json::Value = serde_json::from_str(&show.stdout()).unwrap();
    assert_eq!(record["warnings"].as_array().unwrap().len(), 1, "{record}");
}

#[test]
fn a_normal_lane_deploy_respects_windows_and_freezes() {
    let sandbox = Sandbox::example();
    let inside = sandbox.fixlane(&["run", "--at", IN_WINDOW]);
    inside.expect_code(0);

    let night = sandbox.fixlane(&["run", "--at", OUTSIDE_WINDOW]);
    night.expect_code(1);
    let stderr = night.stderr();
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(stderr.contains("Mon-Thu 09:00-17:00"), "{stderr}");
    assert!(
        stderr.contains("skipped  staging-deploy (required): refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("passed   production-deploy"), "{stderr}");
    assert!(stderr.contains("passed   unit"), "{stderr}");

    let holiday = sandbox.fixlane(&["run", "--at", IN_FREEZE]);
    holiday.expect_code(1);
    assert!(
        holiday.stderr().contains("holiday freeze"),
        "{}",
        holiday.stderr()
    );

    let window = sandbox.fixlane(&["window", "--at", IN_FREEZE]);
    window.expect_code(1);
    assert!(
        window.stdout().contains("inside the freeze"),
        "{}",
        window.stdout()
    );
}

#[test]
fn an_emergency_with_the_matching_bypass_deploys_outside_the_window_and_the_log_says_so() {
    let sandbox = Sandbox::example();
    declare(&sandbox, ID, "bob", &["--branch"]).expect_code(0);
    sandbox
        .fixlane(&["approve", ID, "--as", "carol"])
        .expect_code(0);
    sandbox
        .fixlane(&["approve", ID, "--as", "dave"])
        .expect_code(0);
    let bypass = |element: &str| {
        sandbox
            .fixlane(&[
                "bypass",
                ID,
                element,
                "--reason",
                "the harm is ongoing at night",
                "--compensation",
                "on-call coverage and senior approval",
                "--as",
                "bob",
            ])
            .expect_code(0);
    };
    bypass("eval");
    let no_window = sandbox.fixlane(&["run", "--at", OUTSIDE_WINDOW]);
    no_window.expect_code(1);
    assert!(
        no_window.stderr().contains("refused"),
        "{}",
        no_window.stderr()
    );
    bypass("window");
    let night = sandbox.fixlane(&["run", "--at", OUTSIDE_WINDOW]);
    night.expect_code(0);
    assert!(
        night.stderr().contains("passed   production-deploy"),
        "{}",
        night.stderr()
    );
    let holiday = sandbox.fixlane(&["run", "--at", IN_FREEZE]);
    holiday.expect_code(1);
    bypass("freeze");
    sandbox.fixlane(&["run", "--at", IN_FREEZE]).expect_code(0);
    let log = sandbox.fixlane(&["audit", "export"]).stdout();
    assert_eq!(
        log.matches("\"deploy-window-bypassed\"").count(),
        2,
        "{log}"
    );
}

#[test]
fn check_commit_passes_a_disciplined_commit_and_fails_the_others() {
    let sandbox = Sandbox::example();
    declare(&sandbox, ID, "bob", &["--branch"]).expect_code(0);
    sandbox
        .fixlane(&["approve", ID, "--as", "carol"])
        .expect_code(0);

    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit(&format!(
        "hotfix(payments): timeout\n\n{ID}\napprover: @carol"
    ));
    sandbox.fixlane(&["check-commit"]).expect_code(0);

    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    true\n}\n",
    );
    sandbox.commit("hotfix(payments): no incident, no approver");
    let bare = sandbox.fixlane(&["check-commit"]);
    bare.expect_code(1);
    snapshot(
        &sandbox,
        "check_commit_without_incident_or_approver",
        &bare.stderr(),
    );

    // Approved by someone who did not approve: named, but not an approver of the record.
    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit(&format!(
        "hotfix(payments): again\n\n{ID}\napprover: @alice"
    ));
    sandbox.fixlane(&["check-commit"]).expect_code(1);

    // Too big and two packages: warnings, and a failure with --strict.
    let big: String = (0..60).fold(String::new(), |text, line| {
        text + &format!("// line {line}\n")
    });
    sandbox.write("crates/payments/src/big.rs", &big);
    sandbox.write(
        "crates/catalog/src/lib.rs",
        "//! Catalog.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit(&format!("hotfix: two things\n\n{ID}\napprover: @carol"));
    let wide = sandbox.fixlane(&["check-commit"]);
    wide.expect_code(0);
    assert!(wide.stderr().contains("warning:"), "{}", wide.stderr());
    assert!(wide.stderr().contains("one concern"), "{}", wide.stderr());
    sandbox
        .fixlane(&["check-commit", "--strict"])
        .expect_code(1);
}

#[test]
fn a_declaration_with_three_mistakes_hears_of_all_three_at_once() {
    let sandbox = Sandbox::example();
    let refused = sandbox.fixlane(&[
        "declare",
        "--any-date",
        ID,
        "--severity",
        "P1",
        "--category",
        "sec",
        "--title",
        "payment timeout",
        "--cleanup-owner",
        "bobby",
        "--flag-flip",
        "x",
        "--rollback",
        "y",
        "--as",
        "bob",
    ]);
    refused.expect_code(1);
    let stderr = refused.stderr();
    for expected in [
        "for 3 reasons",
        "emergency.severities",
        "did you mean `security`?",
        "did you mean `bob`?",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    snapshot(&sandbox, "refused_three_mistakes_at_once", &stderr);
    let listed = sandbox.fixlane(&["list", "--json"]);
    assert!(!listed.stdout().contains(ID), "{}", listed.stdout());
}

#[test]
fn an_incident_id_dated_years_ago_needs_any_date() {
    let sandbox = Sandbox::example();
    let old = "INC-2020-01-01-001";
    let mut arguments = vec![
        "declare",
        old,
        "--severity",
        "P0",
        "--category",
        "security",
        "--title",
        "payment timeout",
        "--cleanup-owner",
        "bob",
        "--flag-flip",
        "x",
        "--rollback",
        "y",
        "--as",
        "bob",
    ];
    let refused = sandbox.fixlane(&arguments);
    refused.expect_code(1);
    let stderr = refused.stderr();
    for expected in [
        "emergency.id_date",
        "is dated 2020-01-01",
        "days before today",
        "--any-date",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    arguments.push("--any-date");
    sandbox.fixlane(&arguments).expect_code(0);
}

#[test]
fn check_commit_counts_one_line_as_one_line() {
    let sandbox = Sandbox::example();
    declare(&sandbox, ID, "bob", &["--branch"]).expect_code(0);
    sandbox
        .fixlane(&["approve", ID, "--as", "carol"])
        .expect_code(0);
    let path = sandbox.path().join("crates/payments/src/lib.rs");
    let mut source = std::fs::read_to_string(&path).unwrap();
    source.push_str("// Timeouts are retried once.\n");
    sandbox.write("crates/payments/src/lib.rs", &source);
    sandbox.commit(&format!(
        "hotfix(payments): note the retry\n\n{ID}\napprover: @carol"
    ));
    let passed = sandbox.fixlane(&["check-commit"]);
    passed.expect_code(0);
    assert!(
        passed.stdout().contains("(1 line changed)"),
        "{}",
        passed.stdout()
    );
}
