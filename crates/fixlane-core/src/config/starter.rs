//! The starter `fixlane.toml` that `fixlane init` writes, shaped by what the repository is.
//!
//! The gates follow seed 003's gate-reduction table: in the `hotfix` lane, lint, integration
//! tests and performance tests are skipped (and owed as backfill), unit tests run in short mode
//! on changed code only, and the critical security scan and the build always run.

use std::fmt::Write as _;

/// What kind of project the repository root looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    Cargo,
    Go,
    Npm,
    Unknown,
}

/// The commands of one ecosystem, in the order the starter lists its gates.
struct Commands {
    build: &'static str,
    lint: &'static str,
    unit: &'static str,
    unit_short: &'static str,
    inputs: &'static str,
    integration: &'static str,
    scan: &'static str,
    perf: &'static str,
}

fn commands(ecosystem: Ecosystem) -> Commands {
    match ecosystem {
        Ecosystem::Cargo => Commands {
            build: "cargo build --locked",
            lint: "cargo clippy --workspace --all-targets --locked -- -D warnings",
            unit: "cargo test --workspace --locked",
            unit_short: "cargo test --workspace --lib --locked",
            inputs: r#"["src/**", "crates/**", "Cargo.toml", "Cargo.lock"]"#,
            integration: "cargo test --workspace --locked --test '*'",
            scan: "trivy fs --scanners vuln --severity CRITICAL --exit-code 1 .",
            perf: "cargo bench --workspace --locked",
        },
        Ecosystem::Go => Commands {
            build: "go build ./...",
            lint: "go vet ./...",
            unit: "go test -count=1 ./...",
            unit_short: "go test -short -count=1 ./...",
            inputs: r#"["**/*.go", "go.mod", "go.sum"]"#,
            integration: "go test -count=1 -tags=integration ./...",
            scan: "trivy fs --scanners vuln --severity CRITICAL --exit-code 1 .",
            perf: "go test -run='^$' -bench=. ./...",
        },
        Ecosystem::Npm => Commands {
            build: "npm ci && npm run build",
            lint: "npm run lint",
            unit: "npm test",
            unit_short: "npm test -- --bail",
            inputs: r#"["src/**", "packages/**", "package.json", "package-lock.json"]"#,
            integration: "npm run test:integration",
            scan: "npm audit --audit-level=critical",
            perf: "npm run bench",
        },
        Ecosystem::Unknown => Commands {
            build: "make build",
            lint: "make lint",
            unit: "make test",
            unit_short: "make test-short",
            inputs: r#"["**"]"#,
            integration: "make integration",
            scan: "trivy fs --scanners vuln --severity CRITICAL --exit-code 1 .",
            perf: "make perf",
        },
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

/// The text of a starter config with a normal and a hotfix lane (seed 003's gate reduction).
pub fn starter(project_name: &str, ecosystem: Ecosystem) -> String {
    let commands = commands(ecosystem);
    let project = quoted(project_name);
    let build = quoted(commands.build);
    let lint = quoted(commands.lint);
    let unit = quoted(commands.unit);
    let unit_short = quoted(commands.unit_short);
    let inputs = commands.inputs;
    let integration = quoted(commands.integration);
    let scan = quoted(commands.scan);
    let perf = quoted(commands.perf);
    format!(
        r#"# fixlane.toml: the gates of this repository, and the lanes that run them.
# Reference: docs/config.md. Check this file with `fixlane config check`.

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
# Short mode, and only when a changed file matches `inputs`; the changed packages are in
# $FIXLANE_CHANGED_PACKAGES if the command wants to narrow further.
lanes.hotfix = {{ run = {unit_short}, scope = "changed" }}

[gates.integration]
run = {integration}
tier = "required"
needs = ["build"]
timeout = "30m"
lanes.hotfix = "skip"         # too slow for an incident; backfilled after the merge

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

# Who may approve; roles are free text matched against `approvers`.
# [people.alice]
# roles = ["sre-lead"]
# email = "alice@example.com"
# [people.carol]
# roles = ["security-lead"]

# Without this section: P0 only, cleanup 24h, postmortem 48h, audit review 7d, backfill 24h.
# [emergency]
# severities = ["P0"]
# rate_limit = {{ max = 3, within = "7d" }}
# [emergency.categories.incident]
# approvers = [["sre-lead", "eng-manager"]]   # every group, one person per group
# may_bypass = ["canary", "window"]
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

    fn action(plan: &crate::plan::Plan, gate: &str) -> GateAction {
        plan.gate(&GateName::parse(gate).unwrap())
            .unwrap()
            .action
            .clone()
    }

    #[test]
    fn every_starter_parses_and_its_hotfix_lane_reduces_gates() {
        for ecosystem in ALL {
            let text = starter("checkout \"service\"", ecosystem);
            let config = parse(&text, "fixlane.toml")
                .unwrap_or_else(|errors| panic!("{ecosystem:?}:\n{}", errors.render_plain()));
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
        }
    }

    #[test]
    fn unit_tests_run_in_short_mode_when_their_inputs_change() {
        let config = parse(&starter("svc", Ecosystem::Go), "fixlane.toml").unwrap();
        let hotfix = LaneName::parse("hotfix").unwrap();
        let changed = plan(&config, &hotfix, Some(&["pay/handler.go".to_owned()])).unwrap();
        assert_eq!(
            action(&changed, "unit"),
            GateAction::Run {
                command: "go test -short -count=1 ./...".to_owned()
            }
        );
    }

    #[test]
    fn uses_each_ecosystems_own_build() {
        assert!(starter("x", Ecosystem::Cargo).contains("cargo build --locked"));
        assert!(starter("x", Ecosystem::Go).contains("go build ./..."));
        assert!(starter("x", Ecosystem::Npm).contains("npm ci && npm run build"));
    }
}
