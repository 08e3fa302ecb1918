//! After the fix: follow-ups open when it is merged, `due` lists them and fails once one is
//! overdue, `backfill` pays the owed gates back (or opens a regression), `close` takes each
//! with its evidence, the audit review never by the author or an approver, and the emergency
//! closes with the last one.

use crate::support::{IN_WINDOW, Run, Sandbox};

const ID: &str = "INC-2026-05-20-001";
/// The day after the merge below: inside the 24 h deadlines.
const NEXT_MORNING: &str = "2026-11-25T10:00:00+05:30";
/// Three days after the merge: cleanup, backfill and postmortem are overdue.
const THREE_DAYS_LATER: &str = "2026-11-27T12:00:00+05:30";
/// The merge, the evening before `NEXT_MORNING`.
const MERGED_AT: &str = "2026-11-24T20:00:00+05:30";

/// `fixlane declare` of a P0 security emergency by `author`, with the pre-flight answers.
pub(crate) fn declare(sandbox: &Sandbox, id: &str, author: &str, extra: &[&str]) -> Run {
    let mut arguments = vec![
        "declare",
        "--any-date",
        id,
        "--severity",
        "P0",
        "--category",
        "security",
        "--title",
        "payment timeout",
        "--cleanup-owner",
        "bob",
        "--flag-flip",
        "no flag covers the payment path",
        "--rollback",
        "the bug is in a brand-new feature",
        "--as",
        author,
    ];
    arguments.extend_from_slice(extra);
    sandbox.fixlane(&arguments)
}

/// Declared, approved, bypassed, the hotfix lane `ready`, then merged into main.
fn fixed_and_merged(sandbox: &Sandbox) {
    declare(sandbox, ID, "bob", &["--branch"]).expect_code(0);
    sandbox.write(
        "crates/payments/src/lib.rs",
        "//! Payments.\npub fn ok() -> bool {\n    false\n}\n",
    );
    sandbox.commit(&format!(
        "hotfix(payments): raise the timeout\n\n{ID}\napprover: @carol"
    ));
    for approver in ["carol", "dave"] {
        sandbox
            .fixlane(&["approve", ID, "--as", approver])
            .expect_code(0);
    }
    sandbox
        .fixlane(&[
            "bypass",
            ID,
            "eval",
            "--reason",
            "the integration suite takes 30 minutes; customers are failing now",
            "--compensation",
            "backfill the skipped gates within 24h",
            "--as",
            "bob",
        ])
        .expect_code(0);
    let ready = sandbox.fixlane(&["run", "--at", IN_WINDOW]);
    ready.expect_code(0);
    // The debt is in the verdict: ready, never green, with what is owed and by when.
    assert!(
        ready.stderr().contains("5 gates owed, backfill within 1d"),
        "{}",
        ready.stderr()
    );
    let branch = sandbox.git(&["branch", "--show-current"]);
    sandbox.git(&["switch", "--quiet", "main"]);
    sandbox.git(&[
        "merge",
        "--quiet",
        "--no-ff",
        "-m",
        "merge the hotfix",
        branch.trim(),
    ]);
}

fn due(sandbox: &Sandbox, at: &str) -> Run {
    sandbox.fixlane(&["due", "--at", at])
}

#[test]
fn an_emergency_goes_from_merged_to_closed_by_hand() {
    let sandbox = Sandbox::example();
    fixed_and_merged(&sandbox);
    // Before the merge is recorded nothing is owed yet.
    due(&sandbox, NEXT_MORNING).expect_code(0);

    let merged = sandbox.fixlane(&["merged", ID, "--at", MERGED_AT, "--as", "bob"]);
    merged.expect_code(0);
    let text = merged.stdout();
    for kind in ["backfill", "cleanup", "postmortem", "audit-review"] {
        assert!(text.contains(kind), "{kind} missing from: {text}");
    }
    // Deadlines read in the configured zone.
    assert!(text.contains("2026-11-25 20:00 IST"), "{text}");

    let listed = sandbox.fixlane(&["list"]);
    assert!(
        listed.stdout().contains("4 follow-ups open"),
        "{}",
        listed.stdout()
    );
    let shown = sandbox.fixlane(&["show", ID]).stdout();
    assert!(shown.contains("follow-ups:\n"), "{shown}");
    assert!(shown.contains("audit-review  owner alice"), "{shown}");
    // Times for people, in the configured zone, not nanosecond RFC 3339.
    assert!(shown.contains(" IST  declared     by bob"), "{shown}");

    let morning = due(&sandbox, NEXT_MORNING);
    morning.expect_code(0);
    assert!(
        morning.stdout().contains("4 follow-ups open, 0 overdue"),
        "{}",
        morning.stdout()
    );
    let late = due(&sandbox, THREE_DAYS_LATER);
    late.expect_code(1);
    assert!(late.stdout().starts_with("OVERDUE"), "{}", late.stdout());
    let json = sandbox.fixlane(&["due", "--json", "--at", THREE_DAYS_LATER, "--owner", "bob"]);
    json.expect_code(1);
    let items: Vec<serde_json::Value> = serde_json::from_str(&json.stdout()).unwrap();
    assert!(items.iter().all(|item| item["owner"] == "bob"), "{items:?}");
    assert!(items.iter().any(|item| item["overdue"] == true));

    // The backfill cannot be closed by hand.
    let by_hand = sandbox.fixlane(&[
        "close",
        ID,
        "backfill",
        "--link",
        "https://x",
        "--as",
        "bob",
    ]);
    by_hand.expect_code(1);
    assert!(
        by_hand.stderr().contains("followups.backfill"),
        "{}",
        by_hand.stderr()
    );
    let backfill = sandbox.fixlane(&["backfill", ID, "--at", IN_WINDOW, "--as", "bob"]);
    backfill.expect_code(0);
    assert!(
        backfill.stderr().contains("the backfill is closed"),
        "{}",
        backfill.stderr()
    );

    sandbox
        .fixlane(&[
            "close",
            ID,
            "cleanup",
            "--link",
            "https://git.example.com/pr/7",
            "--as",
            "bob",
        ])
        .expect_code(0);
    // A link is evidence of a postmortem; none is refused.
    let no_link = sandbox.fixlane(&["close", ID, "postmortem", "--as", "bob"]);
    no_link.expect_code(1);
    assert!(
        no_link.stderr().contains("followups.evidence"),
        "{}",
        no_link.stderr()
    );
    sandbox
        .fixlane(&[
            "close",
            ID,
            "postmortem",
            "--link",
            "https://wiki.example.com/pm/7",
            "--as",
            "bob",
        ])
        .expect_code(0);

    // Separation of duties: neither the author nor an approver reviews the audit trail.
    for conflicted in ["bob", "carol", "dave"] {
        let refused = sandbox.fixlane(&[
            "close",
            ID,
            "audit-review",
            "--notes",
            "looks fine",
            "--as",
            conflicted,
        ]);
        refused.expect_code(1);
        assert!(
            refused.stderr().contains("followups.audit_review"),
            "{conflicted}: {}",
            refused.stderr()
        );
    }
    let last = sandbox.fixlane(&[
        "close",
        ID,
        "audit-review",
        "--notes",
        "the bypass was justified and compensated; the backfill passed",
        "--as",
        "alice",
    ]);
    last.expect_code(0);
    assert!(
        last.stdout().contains(&format!("{ID} is closed")),
        "{}",
        last.stdout()
    );

    due(&sandbox, THREE_DAYS_LATER).expect_code(0);
    // Each lane's latest run against its critical path, from the recorded durations.
    let stats = sandbox.fixlane(&["stats"]).stdout();
    for lane in ["lane hotfix: last run", "lane normal: last run"] {
        assert!(stats.contains(lane), "{lane} missing: {stats}");
    }
    assert!(
        stats.contains("critical path") && stats.contains("build →"),
        "{stats}"
    );
    let show = sandbox.fixlane(&["show", ID, "--json"]);
    let record: serde_json::Value = serde_json::from_str(&show.stdout()).unwrap();
    assert_eq!(record["state"], "closed");
    let closed_by: Vec<&str> = record["followups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|followup| followup["closed_by"].as_str().unwrap())
        .collect();
    assert_eq!(closed_by, ["bob", "bob", "bob", "alice"]);
    let timeline = record["timeline"].as_array().unwrap();
    assert_eq!(timeline.last().unwrap()["state"], "closed");
    sandbox.fixlane(&["audit", "verify"]).expect_code(0);
    let exported = sandbox.fixlane(&["audit", "export"]).stdout();
    assert_eq!(exported.matches("\"followup-opened\"").count(), 4);
    assert_eq!(exported.matches("\"followup-closed\"").count(), 4);
    assert_eq!(
        exported.matches("\"action\":\"closed\"").count(),
        1,
        "{exported}"
    );
}

#[test]
fn a_failed_backfill_opens_a_regression_that_closes_only_with_notes_and_a_link() {
    let sandbox = Sandbox::example();
    fixed_and_merged(&sandbox);
    sandbox
        .fixlane(&["merged", ID, "--at", MERGED_AT, "--as", "bob"])
        .expect_code(0);
    let failed = Run::of(
        sandbox
            .command(&["backfill", ID, "--at", IN_WINDOW, "--as", "bob"])
            .env("EXAMPLE_FAIL", "integration"),
    );
    failed.expect_code(1);
    assert!(
        failed.stderr().contains("owed gates failed"),
        "{}",
        failed.stderr()
    );
    assert!(
        failed.stderr().contains("integration"),
        "{}",
        failed.stderr()
    );
    let open = due(&sandbox, NEXT_MORNING);
    assert!(open.stdout().contains("regression"), "{}", open.stdout());
    assert!(open.stdout().contains("backfill"), "{}", open.stdout());

    let notes_only = sandbox.fixlane(&[
        "close",
        ID,
        "regression",
        "--notes",
        "the integration suite encoded the old timeout",
        "--as",
        "bob",
    ]);
    notes_only.expect_code(1);
    assert!(
        notes_only.stderr().contains("a link"),
        "{}",
        notes_only.stderr()
    );
    sandbox
        .fixlane(&[
            "close",
            ID,
            "regression",
            "--notes",
            "the integration suite encoded the old timeout",
            "--link",
            "https://git.example.com/pr/8",
            "--as",
            "bob",
        ])
        .expect_code(0);
    // The backfill is still owed until it passes.
    let still = due(&sandbox, NEXT_MORNING);
    assert!(still.stdout().contains("backfill"), "{}", still.stdout());
    assert!(!still.stdout().contains("regression"), "{}", still.stdout());
    sandbox
        .fixlane(&["backfill", ID, "--at", IN_WINDOW, "--as", "bob"])
        .expect_code(0);
}

#[test]
fn overdue_debt_warns_a_new_declaration_and_blocks_it_when_configured() {
    let sandbox = Sandbox::example();
    fixed_and_merged(&sandbox);
    sandbox
        .fixlane(&["merged", ID, "--at", MERGED_AT, "--as", "bob"])
        .expect_code(0);
    let second = |at: &str| declare(&sandbox, "INC-2026-05-20-002", "alice", &["--at", at]);
    let config = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    sandbox.write(
        "fixlane.toml",
        &config.replacen("[emergency]\n", "[emergency]\noverdue_blocks = true\n", 1),
    );
    let blocked = second(THREE_DAYS_LATER);
    blocked.expect_code(1);
    assert!(
        blocked.stderr().contains("emergency.overdue_blocks"),
        "{}",
        blocked.stderr()
    );
    assert!(
        blocked.stderr().contains("cleanup of INC-2026-05-20-001"),
        "{}",
        blocked.stderr()
    );
    // A rate reviewer's review lifts the block for the next declaration, which still warns.
    sandbox
        .fixlane(&[
            "review-rate",
            "--notes",
            "one overdue cleanup; owner on it",
            "--as",
            "dave",
        ])
        .expect_code(0);
    let warned = second(THREE_DAYS_LATER);
    warned.expect_code(0);
    assert!(warned.stderr().contains("overdue"), "{}", warned.stderr());
    let record = sandbox
        .fixlane(&["show", "INC-2026-05-20-002", "--json"])
        .stdout();
    assert!(record.contains("Debt blocks more debt"), "{record}");
}

#[test]
fn a_run_on_the_default_branch_that_contains_the_fix_opens_its_follow_ups() {
    let sandbox = Sandbox::example();
    fixed_and_merged(&sandbox);
    due(&sandbox, NEXT_MORNING).expect_code(0);
    let run = sandbox.fixlane(&["run", "--at", IN_WINDOW]);
    assert!(
        run.stderr()
            .contains(&format!("{ID} is merged into the default branch")),
        "{}",
        run.stderr()
    );
    let open = sandbox.fixlane(&["due", "--json", "--at", NEXT_MORNING]);
    let items: Vec<serde_json::Value> = serde_json::from_str(&open.stdout()).unwrap();
    assert_eq!(items.len(), 4, "{items:?}");
    // Once: the next run opens nothing more.
    let again = sandbox.fixlane(&["run", "--at", IN_WINDOW]);
    assert!(!again.stderr().contains("is merged"), "{}", again.stderr());
    let exported = sandbox.fixlane(&["audit", "export"]).stdout();
    assert_eq!(exported.matches("\"followup-opened\"").count(), 4);
}

#[test]
fn stats_count_weeks_authors_limits_and_follow_ups() {
    let sandbox = Sandbox::example();
    declare(
        &sandbox,
        "INC-2026-11-16-001",
        "bob",
        &["--at", "2026-11-16T10:00:00Z"],
    )
    .expect_code(0);
    declare(
        &sandbox,
        "INC-2026-11-24-001",
        "alice",
        &["--at", "2026-11-24T10:00:00Z"],
    )
    .expect_code(0);
    sandbox
        .fixlane(&[
            "merged",
            "INC-2026-11-16-001",
            "--at",
            "2026-11-16T12:00:00Z",
            "--as",
            "bob",
        ])
        .expect_code(0);
    sandbox
        .fixlane(&[
            "close",
            "INC-2026-11-16-001",
            "cleanup",
            "--link",
            "https://git.example.com/pr/9",
            "--at",
            "2026-11-17T09:00:00Z",
            "--as",
            "bob",
        ])
        .expect_code(0);
    let at = "2026-11-30T12:00:00Z";
    let text = sandbox.fixlane(&["stats", "--at", at]);
    text.expect_code(0);
    insta::assert_snapshot!("stats", text.stdout());
    let json = sandbox.fixlane(&["stats", "--json", "--at", at]);
    let figures: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    assert_eq!(figures["emergencies"], 2);
    assert_eq!(figures["rate_limit"]["used"], 1);
    assert_eq!(figures["stale"], false);
}
