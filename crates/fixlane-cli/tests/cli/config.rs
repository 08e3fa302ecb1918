//! `fixlane config check` and `fixlane init` on real repositories.

use crate::support::{Sandbox, redactions};

const FIVE_MISTAKES: &str = r#"[project]
name = "checkout"

[gates.build]
run = "make"
tier = "critical"
lanes.hotfix = "skip"

[gates.unit]
run = "make test"
tier = "requird"
needs = ["biuld"]

[gates.lint]
run = "make lint"
tier = "required"
timeout = "ten minutes"

[gates.perf]
run = "make perf"
tier = "optional"
timout = "5m"

[lanes.hotfix]
branches = ["hotfix/**"]
emergency = true
"#;

#[test]
fn config_check_lists_every_mistake_with_its_line_and_column() {
    let sandbox = Sandbox::empty();
    sandbox.write("fixlane.toml", FIVE_MISTAKES);
    let run = sandbox.fixlane(&["config", "check"]);
    run.expect_code(5);
    let stderr = run.stderr();
    for location in [
        "fixlane.toml:7:16",
        "fixlane.toml:11:8",
        "fixlane.toml:12:10",
        "fixlane.toml:17:11",
        "fixlane.toml:22:1",
    ] {
        assert!(
            stderr.contains(location),
            "{location} missing from:\n{stderr}"
        );
    }
    assert!(stderr.contains("5 errors"), "{stderr}");
    redactions(&sandbox).bind(|| insta::assert_snapshot!(stderr));
}

#[test]
fn config_check_accepts_the_example() {
    let sandbox = Sandbox::example();
    let run = sandbox.fixlane(&["config", "check"]);
    run.expect_code(0);
    assert!(run.stdout().contains("9 gates"), "{}", run.stdout());
}

#[test]
fn a_cycle_in_needs_is_named_with_its_path() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "fixlane.toml",
        "[project]\nname = \"x\"\n[gates.a]\nrun = \"true\"\ntier = \"required\"\nneeds = [\"b\"]\n[gates.b]\nrun = \"true\"\ntier = \"required\"\nneeds = [\"a\"]\n",
    );
    let run = sandbox.fixlane(&["config", "check"]);
    run.expect_code(5);
    assert!(run.stderr().contains("a -> b -> a"), "{}", run.stderr());
}

#[test]
fn init_writes_a_starter_that_validates_and_refuses_to_overwrite() {
    let sandbox = Sandbox::empty();
    sandbox.write(
        "Cargo.toml",
        "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    sandbox.fixlane(&["init"]).expect_code(0);
    let text = std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap();
    assert!(text.contains("cargo"), "{text}");
    sandbox.fixlane(&["config", "check"]).expect_code(0);
    let again = sandbox.fixlane(&["init"]);
    again.expect_code(2);
    assert!(again.stderr().contains("--force"), "{}", again.stderr());
}

#[test]
fn a_missing_config_says_how_to_get_one() {
    let sandbox = Sandbox::empty();
    let run = sandbox.fixlane(&["run"]);
    run.expect_code(5);
    assert!(run.stderr().contains("fixlane init"), "{}", run.stderr());
}

/// A plain error: the config's exit code (5), no panic, and a message short enough to read.
#[track_caller]
fn assert_plain_refusal(sandbox: &Sandbox, location: &str) -> String {
    let run = sandbox.fixlane(&["config", "check"]);
    run.expect_code(5);
    let stderr = run.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(location),
        "{location} missing from:\n{stderr}"
    );
    assert!(
        stderr.len() < 4096,
        "{} bytes of error output:\n{}",
        stderr.len(),
        &stderr[..4096.min(stderr.len())]
    );
    stderr
}

#[test]
fn an_unterminated_string_on_a_very_long_line_is_an_error_not_a_panic() {
    let sandbox = Sandbox::empty();
    let long = "a".repeat(70_000);
    sandbox.write(
        "fixlane.toml",
        &format!("[project]\nname = \"x\"\njunk = \"{long}\n"),
    );
    assert_plain_refusal(&sandbox, "fixlane.toml:3:");
}

#[test]
fn an_unknown_key_far_along_a_long_line_is_located_without_drawing_the_line() {
    let sandbox = Sandbox::empty();
    let long = "a".repeat(70_000);
    sandbox.write(
        "fixlane.toml",
        &format!(
            "[project]\nname = \"x\"\n[people]\nbob = {{ roles = [\"{long}\"], emial = \"b@x\" }}\n"
        ),
    );
    let stderr = assert_plain_refusal(&sandbox, "fixlane.toml:4:70023");
    assert!(stderr.contains("unknown key `emial`"), "{stderr}");
    assert!(stderr.contains("did you mean `email`?"), "{stderr}");
}

#[test]
fn a_config_over_the_size_limit_is_refused_with_its_size_and_the_limit() {
    let sandbox = Sandbox::empty();
    let mut text = String::from("[project]\nname = \"x\"\n");
    while text.len() < 5 * 1024 * 1024 {
        text.push_str("# a comment line that pads the file out to five mebibytes of text\n");
    }
    sandbox.write("fixlane.toml", &text);
    let stderr = assert_plain_refusal(&sandbox, "fixlane.toml");
    assert!(stderr.contains("5.0 MiB"), "{stderr}");
    assert!(stderr.contains("1 MiB"), "{stderr}");
}

#[test]
fn a_file_with_thousands_of_mistakes_shows_the_first_ones_and_counts_the_rest() {
    let sandbox = Sandbox::empty();
    let mut text = String::from("[project]\nname = \"x\"\n");
    for index in 0..5_000 {
        text.push_str(&format!("unknown{index} = 1\n"));
    }
    sandbox.write("fixlane.toml", &text);
    let run = sandbox.fixlane(&["config", "check"]);
    run.expect_code(5);
    let stderr = run.stderr();
    assert!(stderr.contains("fixlane.toml:3:1:"), "{stderr}");
    assert!(!stderr.contains("fixlane.toml:53:1:"), "{stderr}");
    assert!(
        stderr.contains("4950 more errors are not shown"),
        "{stderr}"
    );
    assert!(stderr.contains("5000 errors"), "{stderr}");
}

const CANARY_FOR_NORMAL_CHANGES: &str = r#"[project]
name = "svc"

[deploy]
set_weight = "true"
promote = "true"
rollback = "true"
rollback_check = "true"

[canary]
profile = "standard"

[canary.profiles.standard]
steps = [{ weight = 100, bake = "1m" }]

[[canary.checks]]
name = "up"
command = "true"
min = 1
"#;

#[test]
fn a_canary_for_normal_changes_only_needs_no_emergency_profile() {
    let sandbox = Sandbox::empty();
    sandbox.write("fixlane.toml", CANARY_FOR_NORMAL_CHANGES);
    sandbox.fixlane(&["config", "check"]).expect_code(0);
    // With an emergency lane the emergency profile is needed, and the error says why.
    sandbox.write(
        "fixlane.toml",
        &format!("{CANARY_FOR_NORMAL_CHANGES}[lanes.hotfix]\nemergency = true\n"),
    );
    let run = sandbox.fixlane(&["config", "check"]);
    run.expect_code(5);
    assert!(
        run.stderr()
            .contains("the emergency lane `hotfix` (line 20)"),
        "{}",
        run.stderr()
    );
}
