//! `fixlane drill`: the whole lifecycle as a game day in a sandbox of its own, with and without
//! a rehearsed regression, its result recorded in the repository's store for `stats`; and a
//! drill whose steps cannot behave as promised exits 1 and says which step broke.

use crate::support::{Sandbox, redactions};

/// The repository the drill is run from: any git repository; a config only so `stats` reads.
fn repository() -> Sandbox {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"team\"\n\n[gates.build]\nrun = \"true\"\ntier = \"critical\"\n",
    );
    sandbox.commit("config");
    sandbox
}

/// The script as a person reads it: each step and each command typed, without the commands'
/// own output (whose canary samples depend on timing).
fn script(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|line| {
            line.starts_with("   $ ")
                || line.starts_with("   NOT AS PROMISED")
                || line.chars().next().is_some_and(|c| c.is_ascii_digit())
                || line.starts_with("The drill")
                || line.starts_with("Recorded")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn snapshot_settings(sandbox: &Sandbox) -> insta::Settings {
    let mut settings = redactions(sandbox);
    settings.add_filter(r"INC-\d{4}-\d{2}-\d{2}-001", "INC-[TODAY]-001");
    settings.add_filter(r"in \d+\.\d s", "in [SECS]");
    settings.add_filter(r"audit entry #\d+", "audit entry #[N]");
    settings
}

#[test]
fn a_drill_goes_from_declaration_to_a_closed_emergency_and_is_recorded() {
    let sandbox = repository();
    let run = sandbox.fixlane(&["drill"]);
    let stdout = run.stdout();
    run.expect_code(0);
    // The lifecycle's promises, in the commands' own words.
    assert!(
        stdout.contains("BLOCKED — this emergency-lane run needs an approved emergency change"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule: emergency.approval.not_author"),
        "{stdout}"
    );
    assert!(stdout.contains("READY — safe to merge"), "{stdout}");
    assert!(stdout.contains("2 gates owed"), "{stdout}");
    // The hotfix lane's run is never green; only the backfill on the merged commit is.
    assert_eq!(stdout.matches("verdict: GREEN").count(), 1, "{stdout}");
    assert!(stdout.contains("every owed gate passed"), "{stdout}");
    assert!(stdout.contains("promoted: the fix is at 100%"), "{stdout}");
    assert!(
        stdout.contains("verified: error-rate held within bounds"),
        "{stdout}"
    );
    assert!(stdout.contains("the backfill is closed"), "{stdout}");
    assert!(stdout.contains("**This was a drill.**"), "{stdout}");
    assert!(stdout.contains("followups.audit_review"), "{stdout}");
    assert!(stdout.contains("is closed"), "{stdout}");
    assert!(stdout.contains("[drill]"), "{stdout}");
    assert!(stdout.contains("audit log intact"), "{stdout}");
    snapshot_settings(&sandbox).bind(|| insta::assert_snapshot!(script(&stdout)));

    // The repository's own store holds the result, and no emergency of the drill's.
    let stats = sandbox.fixlane(&["stats"]);
    stats.expect_code(0);
    let text = stats.stdout();
    assert!(
        text.contains("last drill:") && text.contains("went as scripted"),
        "{text}"
    );
    assert!(!text.contains("has not been exercised"), "{text}");
    let list = sandbox.fixlane(&["list"]);
    assert!(!list.stdout().contains("INC-"), "{}", list.stdout());
    let log = sandbox.fixlane(&["audit", "log"]);
    assert!(log.stdout().contains("drill-recorded"), "{}", log.stdout());
    sandbox.fixlane(&["audit", "verify"]).expect_code(0);
}

#[test]
fn a_drilled_regression_is_rolled_back_by_the_canary() {
    let sandbox = repository();
    let run = sandbox.fixlane(&["drill", "--regression"]);
    let stdout = run.stdout();
    run.expect_code(0);
    assert!(stdout.contains("step 2 error-rate = 0.0800"), "{stdout}");
    assert!(
        stdout.contains("ROLLBACK: check `error-rate` out of bounds"),
        "{stdout}"
    );
    assert!(stdout.contains("state:          rolled_back"), "{stdout}");
    // Nothing after the rollback: no verification, no follow-ups of a fix that is not out.
    assert!(!stdout.contains("fixlane verify"), "{stdout}");
    assert!(!stdout.contains("fixlane backfill"), "{stdout}");
    snapshot_settings(&sandbox).bind(|| insta::assert_snapshot!(script(&stdout)));
    let stats = sandbox.fixlane(&["stats", "--json"]);
    let figures: serde_json::Value = serde_json::from_str(&stats.stdout()).unwrap();
    assert_eq!(figures["last_drill"]["regression"], true);
    assert_eq!(figures["last_drill"]["passed"], true);
    assert_eq!(figures["stale"], false);
}

#[test]
fn a_drill_whose_step_cannot_be_taken_fails_there_and_says_so() {
    let sandbox = repository();
    // A git that refuses every merge: the step that merges the fix cannot be taken.
    let bin = tempfile::tempdir().unwrap();
    let git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let wrapper = bin.path().join("git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ncase \"$1\" in merge) echo 'merges are refused here' >&2; exit 1;; esac\nexec {} \"$@\"\n",
            git.trim()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&wrapper, permissions).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let run = crate::support::Run::of(sandbox.command(&["drill"]).env("PATH", path));
    let stdout = run.stdout();
    run.expect_code(1);
    assert!(
        stdout.contains("The drill did not go as scripted:")
            && stdout.contains("merges are refused here"),
        "{stdout}"
    );
    // Stopped there: nothing was backfilled or closed on a merge that never happened.
    assert!(!stdout.contains("fixlane backfill"), "{stdout}");
    let stats = sandbox.fixlane(&["stats", "--json"]);
    let figures: serde_json::Value = serde_json::from_str(&stats.stdout()).unwrap();
    assert_eq!(figures["last_drill"]["passed"], false);
}
