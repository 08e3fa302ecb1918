//! The starter `fixlane.toml` that `fixlane init` writes, shaped by what the repository is and
//! by which tools the machine has.
//!
//! The gates follow seed 003's gate-reduction table: in the `hotfix` lane, lint, integration
//! tests and performance tests are skipped (and owed as backfill), unit tests run in short mode
//! on the affected packages only, and the critical security scan and the build always run.
//!
//! The hotfix unit gate builds exactly what the normal lane's unit gate builds and only *runs*
//! less. A first hotfix run comes right after normal-lane runs on the default branch; a command
//! that resolved features differently (`cargo test -p changed`, which resolves them for that
//! package alone) would rebuild dependencies the normal lane had already built, at the one
//! moment speed matters.
//!
//! Pure: `fixlane init` says which tools it found and who runs it; this module only writes text.

use std::fmt::Write as _;

/// What kind of project the repository root looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    Cargo,
    Go,
    Npm,
    Unknown,
}

/// A program a starter's gates run, and what to do about it when it is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The program's name on `PATH`.
    pub program: &'static str,
    /// What the gates use it for.
    pub used_for: &'static str,
    /// How to get it, for the comment when it was not found.
    pub install: &'static str,
}

const CARGO: Tool = Tool {
    program: "cargo",
    used_for: "build, unit and integration tests, benchmarks",
    install: "https://rustup.rs",
};
const CLIPPY: Tool = Tool {
    program: "cargo-clippy",
    used_for: "the lint gate",
    install: "rustup component add clippy",
};
const NEXTEST: Tool = Tool {
    program: "cargo-nextest",
    used_for: "the hotfix unit gate: runs only the affected packages' tests",
    install: "cargo install cargo-nextest --locked",
};
const CARGO_AUDIT: Tool = Tool {
    program: "cargo-audit",
    used_for: "the critical scan (RustSec advisories)",
    install: "cargo install cargo-audit --locked",
};
const TRIVY: Tool = Tool {
    program: "trivy",
    used_for: "the critical scan",
    install: "https://trivy.dev",
};
const GO: Tool = Tool {
    program: "go",
    used_for: "build, vet, tests, benchmarks",
    install: "https://go.dev/dl",
};
const GOVULNCHECK: Tool = Tool {
    program: "govulncheck",
    used_for: "the critical scan (Go vulnerability database)",
    install: "go install golang.org/x/vuln/cmd/govulncheck@latest",
};
const NPM: Tool = Tool {
    program: "npm",
    used_for: "install, build, lint, tests, the critical scan (`npm audit`)",
    install: "https://nodejs.org",
};
const MAKE: Tool = Tool {
    program: "make",
    used_for: "every gate but the scan (targets build, lint, test, test-short, integration, perf)",
    install: "your system's package manager",
};

/// The person running `fixlane init`, as git knows them: the first entry of `[people]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintainer {
    /// A valid person name (see [`person_name`]).
    pub name: String,
    pub email: Option<String>,
}

impl Maintainer {
    /// The maintainer git's `user.email` names: its local part as the person's name. `None`
    /// when there is no usable email.
    pub fn from_email(email: &str) -> Option<Self> {
        let email = email.trim();
        let (local, domain) = email.split_once('@')?;
        if domain.is_empty() {
            return None;
        }
        Some(Self {
            name: person_name(local)?,
            email: Some(email.to_owned()),
        })
    }
}

/// `text` as a person's name in `[people]`: lowercase letters, digits and `-`, at most 64
/// characters; `None` when nothing of it is left.
pub fn person_name(text: &str) -> Option<String> {
    let mut name = String::new();
    for character in text.chars() {
        if character.is_ascii_alphanumeric() {
            name.push(character.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_end_matches('-').chars().take(64).collect();
    let name = name.trim_end_matches('-').to_owned();
    (!name.is_empty()).then_some(name)
}

/// The commands of one ecosystem, in the order the starter lists its gates, with the comment
/// each needs.
struct Commands {
    build: &'static str,
    lint: &'static str,
    unit: &'static str,
    unit_short: &'static str,
    /// Why the short mode is what it is.
    unit_short_comment: &'static str,
    inputs: &'static str,
    integration: &'static str,
    scan: &'static str,
    scan_comment: String,
    perf: &'static str,
    /// Every tool the commands above assume.
    tools: Vec<Tool>,
}

const TRIVY_SCAN: &str = "trivy fs --scanners vuln --severity CRITICAL --exit-code 1 .";

/// `fixlane run` gives `FIXLANE_CHANGED_PACKAGES` as words; nextest takes one `-E` per package
/// (several are or-ed). None at all (a change outside every package) leaves no `-E`: every
/// package's tests run, failing closed.
const NEXTEST_SHORT: &str = "cargo nextest run --workspace --locked --lib --bins --no-tests=warn \
     $(for p in $FIXLANE_CHANGED_PACKAGES; do printf -- '-E package(=%s) ' \"$p\"; done)";

const NEXTEST_COMMENT: &str = "# The same build as the normal lane's `cargo test --workspace` (the same features, so its\n\
# cache is reused), then only the unit tests of the affected packages run: those holding a\n\
# changed file and those depending on them.";

const CARGO_SHORT_COMMENT: &str = "# The same build as the normal lane's `cargo test --workspace` (the same features, so its\n\
# cache is reused), and every package's unit tests: cargo-nextest was not found, and without it\n\
# cargo cannot run only some packages' tests of a workspace build. Not `cargo test -p …`: that\n\
# resolves features for those packages alone and rebuilds dependencies the normal lane built.\n\
# With cargo-nextest installed, `fixlane init --force` writes a lane that runs only the\n\
# affected packages' tests (docs/config.md, \"Hotfix unit tests\").";

/// The critical scan: trivy when the machine has it, else the ecosystem's own scanner when it
/// has that, else trivy with a comment saying it is missing (a critical scan that cannot run
/// fails, and so blocks, until someone installs it or replaces it).
fn scan(
    native: Option<(Tool, &'static str)>,
    found: &dyn Fn(&str) -> bool,
) -> (Tool, &'static str, String) {
    if found(TRIVY.program) {
        return (
            TRIVY,
            TRIVY_SCAN,
            "# trivy: critical vulnerabilities only".to_owned(),
        );
    }
    if let Some((tool, command)) = native
        && found(tool.program)
    {
        return (
            tool,
            command,
            format!("# {}: {}", tool.program, tool.used_for),
        );
    }
    let alternative = native.map_or(String::new(), |(tool, command)| {
        format!(" or `{command}` ({}: {})", tool.program, tool.install)
    });
    (
        TRIVY,
        TRIVY_SCAN,
        format!(
            "# trivy was not found on this machine: install it ({}){alternative}, or put your\n\
             # scanner here. Until then this critical gate fails and blocks every lane.",
            TRIVY.install
        ),
    )
}

fn commands(ecosystem: Ecosystem, found: &dyn Fn(&str) -> bool) -> Commands {
    match ecosystem {
        Ecosystem::Cargo => {
            let nextest = found(NEXTEST.program);
            let (scanner, scan, scan_comment) = scan(Some((CARGO_AUDIT, "cargo audit")), found);
            Commands {
                build: "cargo build --workspace --locked",
                lint: "cargo clippy --workspace --all-targets --locked -- -D warnings",
                unit: "cargo test --workspace --locked",
                unit_short: if nextest {
                    NEXTEST_SHORT
                } else {
                    "cargo test --workspace --locked --lib --bins"
                },
                unit_short_comment: if nextest {
                    NEXTEST_COMMENT
                } else {
                    CARGO_SHORT_COMMENT
                },
                inputs: r#"["src/**", "crates/**", "Cargo.toml", "Cargo.lock"]"#,
                integration: "cargo test --workspace --locked --test '*'",
                scan,
                scan_comment,
                perf: "cargo bench --workspace --locked",
                tools: vec![CARGO, CLIPPY, NEXTEST, scanner],
            }
        }
        Ecosystem::Go => {
            let (scanner, scan, scan_comment) =
                scan(Some((GOVULNCHECK, "govulncheck ./...")), found);
            Commands {
                build: "go build ./...",
                lint: "go vet ./...",
                unit: "go test -count=1 ./...",
                unit_short: "go test -short -count=1 ${FIXLANE_CHANGED_PACKAGES:-./...}",
                unit_short_comment: "# Go caches each package's build by its content, so testing only the affected packages\n\
# (those holding a changed file and their importers) reuses the normal lane's builds; none\n\
# at all tests everything.",
                inputs: r#"["**/*.go", "go.mod", "go.sum"]"#,
                integration: "go test -count=1 -tags=integration ./...",
                scan,
                scan_comment,
                perf: "go test -run='^$' -bench=. ./...",
                tools: vec![GO, scanner],
            }
        }
        Ecosystem::Npm => Commands {
            build: "npm ci && npm run build",
            lint: "npm run lint",
            unit: "npm test",
            unit_short: "npm test -- --bail",
            unit_short_comment: "# Your test runner's short mode; narrow it with $FIXLANE_CHANGED_PACKAGES (the affected\n\
# workspaces) if it can.",
            inputs: r#"["src/**", "packages/**", "package.json", "package-lock.json"]"#,
            integration: "npm run test:integration",
            scan: "npm audit --audit-level=critical",
            scan_comment: "# npm audit: critical advisories only".to_owned(),
            perf: "npm run bench",
            tools: vec![NPM],
        },
        Ecosystem::Unknown => {
            let (scanner, scan, scan_comment) = scan(None, found);
            Commands {
                build: "make build",
                lint: "make lint",
                unit: "make test",
                unit_short: "make test-short",
                unit_short_comment: "# A short mode of your tests; $FIXLANE_CHANGED_PACKAGES names the affected packages.",
                inputs: r#"["**"]"#,
                integration: "make integration",
                scan,
                scan_comment,
                perf: "make perf",
                tools: vec![MAKE, scanner],
            }
        }
    }
}

/// A TOML basic string holding `text` exactly.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            control if control.is_control() => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04X}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// The comment block naming every tool the gates assume and whether `init` found it.
fn tools_comment(tools: &[Tool], found: &dyn Fn(&str) -> bool) -> String {
    let width = tools
        .iter()
        .map(|tool| tool.program.len())
        .max()
        .unwrap_or(0);
    let mut text =
        String::from("# Tools these gates assume, as `fixlane init` found them on this machine:\n");
    for tool in tools {
        let state = if found(tool.program) {
            "found    ".to_owned()
        } else {
            "NOT FOUND".to_owned()
        };
        let _ = write!(
            text,
            "#   {:<width$}  {state}  {}",
            tool.program, tool.used_for
        );
        if !found(tool.program) {
            let _ = write!(text, " (get it: {})", tool.install);
        }
        text.push('\n');
    }
    text
}

/// `[people]` with the maintainer (or a placeholder to replace) and a second person to fill in.
fn people(maintainer: Option<&Maintainer>) -> String {
    let mut text = String::from(
        "# Who may approve; roles are free text matched against `approvers`. Nobody approves their\n\
         # own change, so an emergency needs at least one more person holding a role below.\n",
    );
    match maintainer {
        Some(maintainer) => {
            let _ = writeln!(text, "[people.{}]", maintainer.name);
            text.push_str("roles = [\"sre-lead\"]\n");
            if let Some(email) = &maintainer.email {
                let _ = writeln!(text, "email = {}", quoted(email));
            }
        }
        None => {
            text.push_str(
                "# git has no user.email here: replace `maintainer` with yourself.\n\
                 [people.maintainer]\nroles = [\"sre-lead\"]\n",
            );
        }
    }
    text.push_str(
        "# [people.carol]\n# roles = [\"eng-manager\"]\n# email = \"carol@example.com\"\n",
    );
    text
}

/// The text of a starter config with a normal and a hotfix lane (seed 003's gate reduction),
/// `[people]` and one emergency category. `found` says whether a program is on the machine's
/// `PATH`; `maintainer` is the person running `init`.
pub fn starter(
    project_name: &str,
    ecosystem: Ecosystem,
    found: &dyn Fn(&str) -> bool,
    maintainer: Option<&Maintainer>,
) -> String {
    let commands = commands(ecosystem, found);
    let tools = tools_comment(&commands.tools, found);
    let people = people(maintainer);
    let project = quoted(project_name);
    let build = quoted(commands.build);
    let lint = quoted(commands.lint);
    let unit = quoted(commands.unit);
    let unit_short = quoted(commands.unit_short);
    let unit_short_comment = commands.unit_short_comment;
    let inputs = commands.inputs;
    let integration = quoted(commands.integration);
    let scan = quoted(commands.scan);
    let scan_comment = commands.scan_comment;
    let perf = quoted(commands.perf);
    format!(
        r#"# fixlane.toml: the gates of this repository, and the lanes that run them.
# Reference: docs/config.md. Check this file with `fixlane config check`.
#
{tools}
[project]
name = {project}

# Tiers: "critical" never skips (in any lane), "required" is skipped only by an emergency
# lane (and owed as a backfill run), "optional" may finish after the verdict.

[gates.build]
run = {build}
tier = "critical"             # an unbuildable fix is no fix
kind = "build"

[gates.lint]
run = {lint}
tier = "required"
lanes.hotfix = "skip"         # style does not cause outages

[gates.unit]
run = {unit}
tier = "required"
needs = ["build"]
inputs = {inputs}
# In the hotfix lane: short mode, and only when a changed file matches `inputs`.
{unit_short_comment}
lanes.hotfix = {{ run = {unit_short}, scope = "changed" }}

[gates.integration]
run = {integration}
tier = "required"
needs = ["build"]
timeout = "30m"
lanes.hotfix = "skip"         # too slow for an incident; backfilled after the merge

{scan_comment}
[gates.scan-critical]
run = {scan}
tier = "critical"             # non-negotiable in every lane

[gates.perf]
run = {perf}
tier = "optional"
needs = ["build"]
lanes.hotfix = "skip"         # not relevant to a hotfix

# The emergency lane: a branch like hotfix/INC-2026-05-20-001-fix-payment-timeout selects it.
[lanes.hotfix]
branches = ["hotfix/**"]
labels = ["hotfix"]
emergency = true              # it skips required gates, so it needs an approved emergency change
max_diff_lines = 50           # a bigger fix is doing too much in one hotfix

{people}
# Without `[emergency]`: P0 only, cleanup 24h, postmortem 48h, audit review 7d, backfill 24h.
[emergency]
severities = ["P0"]
# rate_limit = {{ max = 3, within = "7d" }}

# One category to start with: an outage fix, approved by an SRE lead or an engineering
# manager (one person, not the author), which may use a shorter canary and deploy outside the
# change windows. `fixlane declare --category incident` uses it.
[emergency.categories.incident]
approvers = [["sre-lead", "eng-manager"]]   # every group, one person per group
may_bypass = ["canary", "window"]
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::names::{GateName, LaneName};
    use crate::plan::{GateAction, plan};

    const ALL: [Ecosystem; 4] = [
        Ecosystem::Cargo,
        Ecosystem::Go,
        Ecosystem::Npm,
        Ecosystem::Unknown,
    ];

    fn everything(_: &str) -> bool {
        true
    }

    fn nothing(_: &str) -> bool {
        false
    }

    fn action(plan: &crate::plan::Plan, gate: &str) -> GateAction {
        plan.gate(&GateName::parse(gate).unwrap())
            .unwrap()
            .action
            .clone()
    }

    fn command(plan: &crate::plan::Plan, gate: &str) -> String {
        match action(plan, gate) {
            GateAction::Run { command } => command,
            GateAction::Skip(reason) => panic!("{gate} is skipped: {reason}"),
        }
    }

    fn bob() -> Maintainer {
        Maintainer::from_email("bob.smith@example.com").unwrap()
    }

    #[test]
    fn every_starter_parses_and_its_hotfix_lane_reduces_gates() {
        for found in [everything as fn(&str) -> bool, nothing] {
            for maintainer in [Some(bob()), None] {
                for ecosystem in ALL {
                    let text = starter(
                        "checkout \"service\"",
                        ecosystem,
                        &found,
                        maintainer.as_ref(),
                    );
                    let config = parse(&text, "fixlane.toml").unwrap_or_else(|errors| {
                        panic!("{ecosystem:?}:\n{}\n{text}", errors.render_plain())
                    });
                    assert_eq!(config.project.name, "checkout \"service\"");
                    let hotfix = LaneName::parse("hotfix").unwrap();
                    assert!(config.lanes[&hotfix].emergency);
                    assert_eq!(config.lanes[&hotfix].max_diff_lines, Some(50));
                    let reduced = plan(&config, &hotfix, Some(&["README.md".to_owned()])).unwrap();
                    for skipped in ["lint", "integration", "perf"] {
                        assert!(
                            matches!(action(&reduced, skipped), GateAction::Skip(_)),
                            "{ecosystem:?}: {skipped} should be skipped"
                        );
                    }
                    for kept in ["build", "scan-critical"] {
                        assert!(
                            matches!(action(&reduced, kept), GateAction::Run { .. }),
                            "{ecosystem:?}: {kept} should run"
                        );
                    }
                    let normal = plan(&config, &LaneName::normal(), None).unwrap();
                    assert!(
                        normal
                            .gates
                            .iter()
                            .all(|gate| matches!(gate.action, GateAction::Run { .. }))
                    );
                    // One person and one category: an emergency can be declared at once.
                    assert_eq!(config.people.len(), 1, "{ecosystem:?}");
                    assert_eq!(config.emergency.categories.len(), 1, "{ecosystem:?}");
                }
            }
        }
    }

    #[test]
    fn unit_tests_run_in_short_mode_on_the_affected_go_packages() {
        let config = parse(
            &starter("svc", Ecosystem::Go, &everything, None),
            "fixlane.toml",
        )
        .unwrap();
        let hotfix = LaneName::parse("hotfix").unwrap();
        let changed = plan(&config, &hotfix, Some(&["pay/handler.go".to_owned()])).unwrap();
        assert_eq!(
            command(&changed, "unit"),
            "go test -short -count=1 ${FIXLANE_CHANGED_PACKAGES:-./...}"
        );
    }

    #[test]
    fn the_cargo_hotfix_unit_gate_builds_the_whole_workspace_like_the_normal_lane() {
        let hotfix = LaneName::parse("hotfix").unwrap();
        let changed = ["crates/pay/src/lib.rs".to_owned()];
        for found in [everything as fn(&str) -> bool, nothing] {
            let config = parse(
                &starter("svc", Ecosystem::Cargo, &found, None),
                "fixlane.toml",
            )
            .unwrap();
            let normal = command(&plan(&config, &LaneName::normal(), None).unwrap(), "unit");
            let short = command(&plan(&config, &hotfix, Some(&changed)).unwrap(), "unit");
            // Features are resolved over the packages selected: both select the workspace,
            // with the same profile and lockfile flag, and neither names a package.
            assert!(normal.contains("--workspace --locked"), "{normal}");
            assert!(short.contains("--workspace --locked"), "{short}");
            assert!(
                !short.contains(" -p ") && !short.contains("--package"),
                "{short}"
            );
            if found("cargo-nextest") {
                assert!(short.starts_with("cargo nextest run "), "{short}");
                assert!(short.contains("$FIXLANE_CHANGED_PACKAGES"), "{short}");
            } else {
                assert_eq!(short, "cargo test --workspace --locked --lib --bins");
            }
        }
    }

    #[test]
    fn each_assumed_tool_is_named_with_whether_it_was_found() {
        let only_cargo = |program: &str| program == "cargo" || program == "cargo-clippy";
        let text = starter("x", Ecosystem::Cargo, &only_cargo, None);
        assert!(text.contains("#   cargo          found"), "{text}");
        assert!(
            text.contains("#   cargo-nextest  NOT FOUND  the hotfix unit gate"),
            "{text}"
        );
        assert!(
            text.contains("cargo install cargo-nextest --locked"),
            "{text}"
        );
        assert!(
            text.contains("trivy was not found on this machine"),
            "{text}"
        );
        assert!(text.contains("`cargo audit`"), "{text}");

        let with_audit = |program: &str| program != "trivy";
        let text = starter("x", Ecosystem::Cargo, &with_audit, None);
        assert!(text.contains("run = \"cargo audit\""), "{text}");
        assert!(!text.contains("trivy fs"), "{text}");

        let text = starter("x", Ecosystem::Go, &everything, None);
        assert!(text.contains("run = \"trivy fs"), "{text}");
        assert!(text.contains("#   trivy  found"), "{text}");
    }

    #[test]
    fn the_maintainer_is_the_first_person_and_a_placeholder_stands_in_without_one() {
        let text = starter("x", Ecosystem::Npm, &everything, Some(&bob()));
        let config = parse(&text, "fixlane.toml").unwrap();
        let (name, person) = config.people.iter().next().unwrap();
        assert_eq!(name.as_str(), "bob-smith");
        assert_eq!(person.email.as_deref(), Some("bob.smith@example.com"));
        assert_eq!(person.roles, ["sre-lead"]);

        let text = starter("x", Ecosystem::Npm, &everything, None);
        let config = parse(&text, "fixlane.toml").unwrap();
        assert_eq!(
            config
                .people
                .keys()
                .next()
                .map(crate::names::PersonName::as_str),
            Some("maintainer")
        );
    }

    #[test]
    fn person_names_keep_only_what_a_name_may_hold() {
        assert_eq!(person_name("Bob.Smith+ci").as_deref(), Some("bob-smith-ci"));
        assert_eq!(person_name("  ").as_deref(), None);
        assert_eq!(person_name("üß").as_deref(), None);
        assert_eq!(
            person_name(&"a".repeat(100)).map(|name| name.len()),
            Some(64)
        );
        assert_eq!(Maintainer::from_email("not-an-email"), None);
        assert_eq!(Maintainer::from_email("x@"), None);
    }

    #[test]
    fn uses_each_ecosystems_own_build() {
        assert!(
            starter("x", Ecosystem::Cargo, &everything, None)
                .contains("cargo build --workspace --locked")
        );
        assert!(starter("x", Ecosystem::Go, &everything, None).contains("go build ./..."));
        assert!(
            starter("x", Ecosystem::Npm, &everything, None).contains("npm ci && npm run build")
        );
    }
}
