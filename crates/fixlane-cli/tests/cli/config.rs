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
    run.expect_code(2);
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
    run.expect_code(2);
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
    run.expect_code(2);
    assert!(run.stderr().contains("fixlane init"), "{}", run.stderr());
}
