//! Why each gate of a plan runs, runs shorter, is skipped or owed: one config, every case.

use super::*;
use crate::config::parse;

const CONFIG: &str = r#"[project]
name = "svc"

[gates.build]
run = "make build"
tier = "critical"

[gates.lint]
run = "make lint"
tier = "required"
lanes.hotfix = "skip"

[gates.unit]
run = "make test"
tier = "required"
inputs = ["src/**", "Cargo.toml", "build.rs", "tests/**"]
lanes.hotfix = { run = "make test-short", scope = "changed" }

[gates.docs]
run = "make docs"
tier = "optional"
inputs = ["docs/**"]
lanes.hotfix = { scope = "changed" }
lanes.quick = "skip"

[gates.deploy]
run = "make deploy"
tier = "required"
kind = "deploy"

[lanes.hotfix]
emergency = true

[lanes.quick]
"#;

fn explained(changes: Changes<'_>, lane: &str) -> Vec<(String, Decision, String)> {
    let config = parse(CONFIG, "fixlane.toml").unwrap();
    let mut plan = plan_with(&config, &LaneName::parse(lane).unwrap(), changes).unwrap();
    plan.refuse_deploys("outside the change window Mon-Thu 09:00-17:00");
    plan.gates
        .into_iter()
        .map(|gate| {
            (
                gate.name.to_string(),
                gate.explanation.decision,
                gate.explanation.why,
            )
        })
        .collect()
}

#[test]
fn the_hotfix_lane_says_what_it_shortened_skipped_owed_and_refused() {
    let files = ["src/pay.rs".to_owned(), "src/lib.rs".to_owned()];
    let found = explained(Changes::Known(&files), "hotfix");
    let expected = [
        (
            "build",
            Decision::Selected,
            "lane hotfix runs it as written",
        ),
        (
            "lint",
            Decision::Owed,
            "lane hotfix skips it: owed, to be backfilled in full within 1d",
        ),
        (
            "unit",
            Decision::Shortened,
            "lane hotfix runs `make test-short` instead of `make test`; a changed file matches its inputs: `src/pay.rs` matches `src/**`",
        ),
        (
            "docs",
            Decision::Skipped,
            "no changed file matches its inputs (`docs/**`)",
        ),
        (
            "deploy",
            Decision::Refused,
            "outside the change window Mon-Thu 09:00-17:00",
        ),
    ];
    assert_eq!(found.len(), expected.len());
    for ((gate, decision, why), (want_gate, want_decision, want_why)) in found.iter().zip(expected)
    {
        assert_eq!(
            (gate.as_str(), *decision, why.as_str()),
            (want_gate, want_decision, want_why)
        );
    }
}

#[test]
fn an_ordinary_lane_skip_is_not_owed_and_the_normal_lane_runs_everything_as_written() {
    let quick = explained(Changes::Known(&[]), "quick");
    assert_eq!(quick[3].1, Decision::Skipped);
    assert_eq!(quick[3].2, "lane quick skips it");
    assert_eq!(quick[0].2, "lane quick runs it as written");
    let normal = explained(Changes::Known(&[]), "normal");
    assert!(
        normal[..4]
            .iter()
            .all(|(_, decision, why)| *decision == Decision::Selected
                && why == "the normal lane runs every gate as written"),
        "{normal:?}"
    );
}

#[test]
fn unknown_changes_and_full_runs_run_the_changed_scope_gates_and_say_why() {
    let unknown = explained(Changes::Unknown, "hotfix");
    assert_eq!(unknown[3].1, Decision::Selected);
    assert_eq!(
        unknown[3].2,
        "lane hotfix runs it as written; the changed files are unknown (no base to compare with), so it runs"
    );
    let full = explained(Changes::Full, "hotfix");
    assert_eq!(
        full[2].2,
        "lane hotfix runs `make test-short` instead of `make test`; a full run ignores what changed"
    );
    // With many inputs, the first few are named.
    let docs_only = ["docs/a.md".to_owned()];
    let skipped = explained(Changes::Known(&docs_only), "hotfix");
    assert_eq!(skipped[2].1, Decision::Skipped);
    assert_eq!(
        skipped[2].2,
        "no changed file matches its inputs (`src/**`, `Cargo.toml`, `build.rs`, 1 more)"
    );
    assert_eq!(
        skipped[3].2,
        "lane hotfix runs it as written; a changed file matches its inputs: `docs/a.md` matches `docs/**`"
    );
}
