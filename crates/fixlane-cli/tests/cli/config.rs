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

/// A `PATH` holding git and stand-ins for `tools` only, so what `init` finds does not depend
/// on the machine running the tests. Each stand-in prints its name and arguments.
fn path_with(sandbox: &Sandbox, tools: &[&str]) -> String {
    let bin = sandbox.path().join(".test-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let git = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|directory| directory.join("git"))
        .find(|candidate| candidate.is_file())
        .unwrap();
    std::os::unix::fs::symlink(git, bin.join("git")).unwrap();
    for tool in tools {
        let stand_in = bin.join(tool);
        std::fs::write(&stand_in, format!("#!/bin/sh\necho \"{tool} $*\"\n")).unwrap();
        let mut permissions = std::fs::metadata(&stand_in).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&stand_in, permissions).unwrap();
    }
    bin.to_string_lossy().into_owned()
}

fn init_with(sandbox: &Sandbox, tools: &[&str]) -> String {
    let path = path_with(sandbox, tools);
    let mut command = sandbox.command(&["init"]);
    command.env("PATH", &path);
    crate::support::Run::of(&mut command).expect_code(0);
    std::fs::read_to_string(sandbox.path().join("fixlane.toml")).unwrap()
}

#[test]
fn init_writes_people_a_category_and_the_tools_it_assumes_for_every_kind_of_repository() {
    let kinds: [(&str, &str, &str); 4] = [
        (
            "Cargo.toml",
            "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            "cargo-nextest",
        ),
        ("go.mod", "module example.com/svc\n\ngo 1.22\n", "go"),
        ("package.json", "{\"name\": \"svc\"}\n", "npm"),
        ("README.md", "plain\n", "make"),
    ];
    for (manifest, text, tool) in kinds {
        let sandbox = Sandbox::empty();
        sandbox.write(manifest, text);
        let config = init_with(&sandbox, &[]);
        // The sandbox's git user is bob@example.com: the first person, with one category.
        assert!(
            config.contains("[people.bob]\nroles = [\"sre-lead\"]\nemail = \"bob@example.com\""),
            "{manifest}:\n{config}"
        );
        assert!(
            config.contains("[emergency.categories.incident]\napprovers = "),
            "{manifest}:\n{config}"
        );
        assert!(
            config.contains(&format!("#   {tool} ")),
            "{manifest}: {tool} not named:\n{config}"
        );
        assert!(config.contains("NOT FOUND"), "{manifest}:\n{config}");
        let check = sandbox.fixlane(&["config", "check"]);
        check.expect_code(0);
    }
}

#[test]
fn init_says_when_trivy_is_missing_and_uses_it_when_it_is_there() {
    let sandbox = Sandbox::empty();
    sandbox.write("go.mod", "module example.com/svc\n");
    let config = init_with(&sandbox, &[]);
    assert!(
        config.contains("trivy was not found on this machine"),
        "{config}"
    );
    assert!(config.contains("#   trivy  NOT FOUND"), "{config}");

    let sandbox = Sandbox::empty();
    sandbox.write("go.mod", "module example.com/svc\n");
    let config = init_with(&sandbox, &["trivy", "go"]);
    assert!(!config.contains("was not found"), "{config}");
    assert!(config.contains("#   trivy  found"), "{config}");
    sandbox.fixlane(&["config", "check"]).expect_code(0);
}

/// A Cargo workspace of three members: `app` needs `core`, `other` needs nothing.
fn cargo_workspace(sandbox: &Sandbox) {
    sandbox.write("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
    sandbox.write("Cargo.lock", "version = 4\n");
    sandbox.write("crates/core/Cargo.toml", "[package]\nname = \"core\"\n");
    sandbox.write("crates/core/src/lib.rs", "pub fn one() -> u8 { 1 }\n");
    sandbox.write(
        "crates/app/Cargo.toml",
        "[package]\nname = \"app\"\n[dependencies]\ncore = { path = \"../core\" }\n",
    );
    sandbox.write("crates/app/src/main.rs", "fn main() {}\n");
    sandbox.write("crates/other/Cargo.toml", "[package]\nname = \"other\"\n");
    sandbox.write("crates/other/src/lib.rs", "\n");
}

/// What the hotfix lane's `unit` gate ran, as the stand-in `cargo` printed it.
fn hotfix_unit_command(sandbox: &Sandbox, path: &str) -> String {
    sandbox.git(&["checkout", "--quiet", "-b", "hotfix/INC-1-core"]);
    sandbox.write("crates/core/src/lib.rs", "pub fn one() -> u8 { 2 - 1 }\n");
    sandbox.commit("fix core");
    let mut command = sandbox.command(&["run", "--json"]);
    command.env("PATH", path);
    let run = crate::support::Run::of(&mut command);
    let run_id = run.events()[0]["run_id"].as_str().unwrap().to_owned();
    std::fs::read_to_string(
        sandbox
            .path()
            .join(".git/fixlane/logs")
            .join(run_id)
            .join("unit.log"),
    )
    .unwrap_or_else(|error| panic!("no unit log ({error}):\n{}", run.stdout()))
    .trim()
    .to_owned()
}

#[test]
fn the_cargo_hotfix_lane_builds_the_workspace_and_runs_only_the_affected_packages_with_nextest() {
    let sandbox = Sandbox::empty();
    cargo_workspace(&sandbox);
    sandbox.write(".gitignore", ".test-bin\n");
    let _ = init_with(&sandbox, &["cargo", "cargo-nextest"]);
    sandbox.commit("workspace");
    let path = sandbox
        .path()
        .join(".test-bin")
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        hotfix_unit_command(&sandbox, &path),
        "cargo nextest run --workspace --locked --lib --bins --no-tests=warn \
         -E package(=app) -E package(=core)"
    );
}

#[test]
fn without_nextest_the_cargo_hotfix_lane_still_builds_like_the_normal_lane() {
    let sandbox = Sandbox::empty();
    cargo_workspace(&sandbox);
    sandbox.write(".gitignore", ".test-bin\n");
    let _ = init_with(&sandbox, &["cargo"]);
    sandbox.commit("workspace");
    let path = sandbox
        .path()
        .join(".test-bin")
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        hotfix_unit_command(&sandbox, &path),
        "cargo test --workspace --locked --lib --bins"
    );
}
