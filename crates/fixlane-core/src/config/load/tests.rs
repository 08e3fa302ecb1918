//! The loader on plain strings: the SPEC example, one test per rule, and garbage that must not
//! panic.

use std::fmt::Write as _;

use super::*;
use crate::config::model::{BypassElement, GateKind, LaneVariant, MetricSource, Scope, Tier};
use crate::duration::Duration;
use crate::names::{GateName, LaneName};

const SPEC_EXAMPLE: &str = include_str!("../../../tests/fixtures/spec-example.toml");

/// A project with one emergency lane (`hotfix`) and one ordinary lane (`quick`).
const BASE: &str = r#"[project]
name = "svc"

[lanes.hotfix]
emergency = true

[lanes.quick]
labels = ["quick"]
"#;

fn errors(source: &str) -> Vec<ConfigError> {
    match parse(source, "fixlane.toml") {
        Ok(_) => Vec::new(),
        Err(errors) => errors.errors,
    }
}

fn rendered(source: &str) -> String {
    match parse(source, "fixlane.toml") {
        Ok(_) => "no errors".to_owned(),
        Err(errors) => errors.render_plain(),
    }
}

/// The one error `source` has, when `BASE` is prepended.
pub(super) fn only_error(extra: &str) -> ConfigError {
    let source = format!("{BASE}{extra}");
    let mut found = errors(&source);
    assert_eq!(found.len(), 1, "{}", rendered(&source));
    found.remove(0)
}

pub(super) fn accepts(extra: &str) -> Config {
    let source = format!("{BASE}{extra}");
    parse(&source, "fixlane.toml").unwrap_or_else(|errors| panic!("{}", errors.render_plain()))
}

fn gate(name: &str) -> GateName {
    GateName::parse(name).unwrap()
}

fn lane(name: &str) -> LaneName {
    LaneName::parse(name).unwrap()
}

#[test]
fn the_spec_example_parses_with_its_values() {
    let config = parse(SPEC_EXAMPLE, "fixlane.toml")
        .unwrap_or_else(|errors| panic!("{}", errors.render_plain()));
    assert_eq!(config.project.name, "checkout-service");
    assert_eq!(config.people.len(), 4);
    assert_eq!(
        config.people[&crate::names::PersonName::parse("carol").unwrap()].roles,
        ["security-lead"]
    );
    let names: Vec<&str> = config.gates.keys().map(GateName::as_str).collect();
    assert_eq!(
        names,
        [
            "build",
            "lint",
            "unit",
            "scan-critical",
            "integration",
            "perf"
        ]
    );
    let build = &config.gates[&gate("build")];
    assert_eq!(build.tier, Tier::Critical);
    assert_eq!(build.kind, GateKind::Check);
    assert_eq!((build.source.line, build.source.column), (14, 8));
    let hotfix = lane("hotfix");
    assert_eq!(
        config.gates[&gate("lint")].lanes[&hotfix],
        LaneVariant::Skip
    );
    let unit = &config.gates[&gate("unit")];
    assert_eq!(unit.needs, [gate("build")]);
    assert_eq!(unit.inputs, ["crates/**", "Cargo.toml", "Cargo.lock"]);
    assert_eq!(
        unit.lanes[&hotfix],
        LaneVariant::Variant {
            run: Some("cargo test --workspace --lib".to_owned()),
            scope: Scope::Changed
        }
    );
    assert_eq!(
        config.gates[&gate("integration")]
            .timeout
            .map(Duration::as_seconds),
        Some(1_800)
    );
    let lane_definition = &config.lanes[&hotfix];
    assert_eq!(lane_definition.branches, ["hotfix/**"]);
    assert!(lane_definition.emergency);
    assert_eq!(lane_definition.max_diff_lines, Some(50));

    let emergency = &config.emergency;
    assert_eq!(emergency.severities, ["P0"]);
    assert_eq!(emergency.id_pattern, "INC-YYYY-MM-DD-NNN");
    assert_eq!(emergency.postmortem_within.as_seconds(), 48 * 3_600);
    assert_eq!(emergency.audit_review_within.as_seconds(), 7 * 86_400);
    let rate = emergency.rate_limit.unwrap();
    assert_eq!((rate.max, rate.within.as_seconds()), (3, 7 * 86_400));
    assert_eq!(
        emergency.author_limit.unwrap().within.as_seconds(),
        90 * 86_400
    );
    assert_eq!(
        emergency.rate_review_roles,
        ["platform-lead", "eng-manager"]
    );
    assert_eq!(emergency.canary_profile, "compressed");
    let categories: Vec<&str> = emergency.categories.keys().map(String::as_str).collect();
    assert_eq!(
        categories,
        ["security", "regulatory", "incident", "customer-blocking"]
    );
    let security = &emergency.categories["security"];
    assert_eq!(
        security.approvers,
        [
            vec!["security-lead".to_owned()],
            vec!["platform-lead".to_owned()]
        ]
    );
    assert_eq!(security.may_bypass, BypassElement::ALL);
    assert_eq!(
        emergency.categories["incident"].approvers,
        [vec!["sre-lead".to_owned(), "eng-manager".to_owned()]]
    );

    let windows = config.windows.as_ref().unwrap();
    assert_eq!(windows.timezone, "Asia/Kolkata");
    assert_eq!(windows.change[0].days, [0, 1, 2, 3]);
    assert_eq!(windows.change[0].start, jiff::civil::time(9, 0, 0, 0));
    assert_eq!(windows.change[0].end, jiff::civil::time(17, 0, 0, 0));
    assert_eq!(windows.freezes[0].from, jiff::civil::date(2026, 12, 20));
    assert_eq!(windows.freezes[0].to, jiff::civil::date(2027, 1, 3));
    assert_eq!(windows.freezes[0].reason, "holiday freeze");

    let deploy = config.deploy.as_ref().unwrap();
    assert!(deploy.set_weight.contains("$FIXLANE_WEIGHT"));

    let canary = config.canary.as_ref().unwrap();
    assert_eq!(canary.prometheus.as_deref(), Some("http://127.0.0.1:9090"));
    assert_eq!(canary.profile, "standard");
    assert_eq!(canary.interval.as_seconds(), 10);
    assert_eq!(canary.failure_limit, 3);
    let weights: Vec<u8> = canary.profiles["compressed"]
        .steps
        .iter()
        .map(|step| step.weight)
        .collect();
    assert_eq!(weights, [1, 10, 50, 100]);
    assert_eq!(
        canary.profiles["immediate"].requires,
        [vec!["platform-lead".to_owned()]]
    );
    assert_eq!(canary.checks.len(), 2);
    assert_eq!(canary.checks[0].name, "error-rate");
    assert_eq!(canary.checks[0].max, Some(0.01));
    assert!(matches!(
        canary.checks[1].source,
        MetricSource::Query { .. }
    ));
}

#[test]
fn five_mistakes_in_five_places_give_five_errors() {
    let source = r#"[project]
name = "svc"

[gates.build]
run = "cargo build"
tier = "critcal"

[gates.unit]
run = "cargo test"
tier = "required"
needs = ["biuld"]
timout = "5m"

[lanes.hotfix]
emergency = "yes"

[emergency]
cleanup_within = "24 hours"
"#;
    let found = errors(source);
    assert_eq!(found.len(), 5, "{}", rendered(source));
    insta::assert_snapshot!(rendered(source));
}

#[test]
fn a_missing_section_and_missing_keys_are_reported_together() {
    let source = "[gates.build]\ntier = \"critical\"\n[deploy]\npromote = \"x\"\n";
    insta::assert_snapshot!(rendered(source));
}

#[test]
fn unknown_keys_are_errors_everywhere_with_a_suggestion() {
    let source = r#"[project]
name = "svc"
[gate.build]
run = "x"
[gates.build]
run = "x"
tier = "critical"
tiers = "x"
lanes.hotfix = { run = "y", scoop = "all" }
[lanes.hotfix]
emergency = true
brnaches = ["hotfix/**"]
[emergency]
cleanup = "1d"
[emergency.categories.incident]
approvers = [["sre"]]
may_bypas = ["canary"]
"#;
    let found = errors(source);
    let keys: Vec<(&str, Option<&str>)> = found
        .iter()
        .map(|error| (error.found.as_str(), error.help.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            ("unknown key `gate`", Some("did you mean `gates`?")),
            ("unknown key `tiers`", Some("did you mean `tier`?")),
            ("unknown key `scoop`", Some("did you mean `scope`?")),
            ("unknown key `brnaches`", Some("did you mean `branches`?")),
            (
                "unknown key `cleanup`",
                Some("did you mean `cleanup_within`?")
            ),
            (
                "unknown key `may_bypas`",
                Some("did you mean `may_bypass`?")
            ),
        ],
        "{}",
        rendered(source)
    );
}

#[test]
fn an_unknown_key_far_from_any_known_one_lists_the_keys() {
    let error = only_error("[project.extra]\nzzz = 1\n");
    assert_eq!(error.found, "unknown key `extra`");
    assert!(error.help.unwrap().contains("`name`"));
}

#[test]
fn a_critical_gate_is_never_skipped() {
    let error =
        only_error("[gates.scan]\nrun = \"scan\"\ntier = \"critical\"\nlanes.hotfix = \"skip\"\n");
    assert_eq!((error.line, error.column), (12, 16));
    assert_eq!(
        error.help.as_deref(),
        Some("a critical gate is never skipped; give the lane a shorter `run` instead")
    );
    accepts(
        "[gates.scan]\nrun = \"scan\"\ntier = \"critical\"\nlanes.hotfix = { run = \"scan --fast\" }\n",
    );
}

#[test]
fn a_critical_gate_cannot_be_scoped_to_changes() {
    let error = only_error(
        "[gates.scan]\nrun = \"scan\"\ntier = \"critical\"\ninputs = [\"src/**\"]\nlanes.hotfix = { scope = \"changed\" }\n",
    );
    assert_eq!(error.found, "`scope = \"changed\"`");
    assert_eq!((error.line, error.column), (13, 26));
}

#[test]
fn only_an_emergency_lane_skips_a_required_gate() {
    let error =
        only_error("[gates.lint]\nrun = \"lint\"\ntier = \"required\"\nlanes.quick = \"skip\"\n");
    assert!(
        error
            .help
            .unwrap()
            .contains("only an approved emergency lane")
    );
    let error =
        only_error("[gates.lint]\nrun = \"lint\"\ntier = \"required\"\nlanes.normal = \"skip\"\n");
    assert!(error.found.contains("`normal`"));
    accepts("[gates.lint]\nrun = \"lint\"\ntier = \"required\"\nlanes.hotfix = \"skip\"\n");
    // An optional gate may be left out of any lane.
    accepts("[gates.perf]\nrun = \"perf\"\ntier = \"optional\"\nlanes.quick = \"skip\"\n");
}

#[test]
fn changed_scope_needs_inputs() {
    let error = only_error(
        "[gates.unit]\nrun = \"test\"\ntier = \"required\"\nlanes.hotfix = { scope = \"changed\" }\n",
    );
    assert!(error.expected.contains("`inputs`"));
    accepts(
        "[gates.unit]\nrun = \"test\"\ntier = \"required\"\ninputs = [\"src/**\"]\nlanes.hotfix = { scope = \"changed\" }\n",
    );
}

#[test]
fn a_cycle_in_needs_is_one_error_at_its_first_gate() {
    let source = "[gates.a]\nrun = \"a\"\ntier = \"optional\"\nneeds = [\"c\"]\n\
        [gates.b]\nrun = \"b\"\ntier = \"optional\"\nneeds = [\"a\"]\n\
        [gates.c]\nrun = \"c\"\ntier = \"optional\"\nneeds = [\"b\"]\n\
        [gates.d]\nrun = \"d\"\ntier = \"optional\"\nneeds = [\"a\"]\n";
    let error = only_error(source);
    assert_eq!(error.found, "the cycle a -> c -> b -> a");
    assert_eq!((error.line, error.column), (9, 8));
}

#[test]
fn a_gate_needing_itself_is_a_cycle() {
    let error = only_error("[gates.a]\nrun = \"a\"\ntier = \"optional\"\nneeds = [\"a\"]\n");
    assert_eq!(error.found, "the cycle a -> a");
}

#[test]
fn an_unknown_need_is_named_with_a_suggestion() {
    let error = only_error(
        "[gates.build]\nrun = \"b\"\ntier = \"critical\"\n[gates.unit]\nrun = \"u\"\ntier = \"required\"\nneeds = [\"bulid\"]\n",
    );
    assert_eq!(error.found, "`bulid`, which is not a gate");
    assert_eq!(error.help.as_deref(), Some("did you mean `build`?"));
}

#[test]
fn a_lane_variant_must_name_a_declared_lane() {
    let error =
        only_error("[gates.lint]\nrun = \"l\"\ntier = \"optional\"\nlanes.hotfx = \"skip\"\n");
    assert_eq!(error.found, "`hotfx`, which is not a lane");
    assert_eq!(error.help.as_deref(), Some("did you mean `hotfix`?"));
    let error =
        only_error("[gates.lint]\nrun = \"l\"\ntier = \"optional\"\nlanes.hotfix = \"skipped\"\n");
    assert!(error.expected.contains("`\"skip\"`"));
}

#[test]
fn the_normal_lane_cannot_be_declared() {
    let error = only_error("[lanes.normal]\nlabels = [\"x\"]\n");
    assert!(error.help.unwrap().contains("implicit"));
}

#[test]
fn gate_values_are_checked() {
    let source = format!(
        "{BASE}[gates.x]\nrun = \"\"\ntier = \"required\"\ntimeout = \"10w\"\ninputs = [\"src/[\"]\nenv = {{ \"1BAD\" = \"v\", OK = 3 }}\nkind = \"deploi\"\n"
    );
    let found = errors(&source);
    assert_eq!(found.len(), 6, "{}", rendered(&source));
    assert_eq!(
        found.last().unwrap().help.as_deref(),
        Some("did you mean `deploy`?")
    );
}

#[test]
fn lane_values_are_checked() {
    let source = format!(
        "{BASE}[lanes.slow]\nbranches = [\"a/[\"]\nlabels = [1]\nemergency = 1\nmax_diff_lines = 0\n"
    );
    assert_eq!(errors(&source).len(), 4, "{}", rendered(&source));
}

#[test]
fn the_project_name_is_required() {
    let found = errors("[project]\n");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].found, "no `name`");
    let found = errors("");
    assert_eq!(found[0].found, "no `[project]` section");
}

#[test]
fn global_inputs_are_repository_relative_globs() {
    let config = parse(
        "[project]\nname = \"x\"\nglobal_inputs = [\"ci/**\", \"Makefile\"]\n",
        "fixlane.toml",
    )
    .unwrap();
    assert_eq!(config.project.global_inputs, ["ci/**", "Makefile"]);
    let found = errors("[project]\nglobal_inputs = [\"a/[\", \"/etc/**\"]\n");
    let shown: Vec<&str> = found.iter().map(|error| error.found.as_str()).collect();
    assert_eq!(found.len(), 3, "{shown:?}");
    assert_eq!(shown[0], "no `name`");
    assert!(shown[1].starts_with("`a/[` ("), "{shown:?}");
    assert_eq!(shown[2], "`/etc/**`, an absolute path");
}

#[test]
fn people_need_roles() {
    let error = only_error("[people.alice]\nemail = \"alice@example.com\"\n");
    assert_eq!(error.found, "no `roles`");
    let config = accepts("[people.alice]\nroles = [\"sre-lead\"]\n");
    assert_eq!(config.people.len(), 1);
}

#[test]
fn an_absent_emergency_section_means_the_defaults() {
    let config = accepts("");
    let emergency = &config.emergency;
    assert_eq!(emergency.severities, ["P0"]);
    assert_eq!(emergency.id_pattern, "INC-YYYY-MM-DD-NNN");
    assert_eq!(emergency.cleanup_within.as_seconds(), 86_400);
    assert_eq!(emergency.postmortem_within.as_seconds(), 2 * 86_400);
    assert_eq!(emergency.audit_review_within.as_seconds(), 7 * 86_400);
    assert_eq!(emergency.backfill_within.as_seconds(), 86_400);
    assert_eq!(
        emergency.rate_review_roles,
        ["platform-lead", "eng-manager"]
    );
    assert_eq!(emergency.canary_profile, "compressed");
    assert!(emergency.categories.is_empty());
    assert!(emergency.rate_limit.is_none());
}

#[test]
fn approvers_are_non_empty_groups_and_bypasses_are_known_elements() {
    let error = only_error("[emergency.categories.x]\napprovers = [[\"a\"], []]\n");
    assert_eq!(error.found, "an empty group `[]`");
    let error = only_error("[emergency.categories.x]\napprovers = []\n");
    assert_eq!(error.found, "an empty list");
    let error =
        only_error("[emergency.categories.x]\napprovers = [[\"a\"]]\nmay_bypass = [\"canery\"]\n");
    assert_eq!(error.help.as_deref(), Some("did you mean `canary`?"));
    // A role nobody holds yet is fine: people may be added later.
    let config = accepts("[emergency.categories.x]\napprovers = [[\"exec\"]]\n");
    assert_eq!(
        config.emergency.categories["x"].approvers,
        [vec!["exec".to_owned()]]
    );
}

#[test]
fn rate_limits_need_a_positive_max_and_a_duration() {
    let source = format!(
        "{BASE}[emergency]\nrate_limit = {{ max = 0, within = \"7d\" }}\nauthor_limit = {{ max = 2 }}\n"
    );
    let found = errors(&source);
    assert_eq!(found.len(), 2, "{}", rendered(&source));
    assert_eq!(found[1].found, "no `within`");
}

#[test]
fn the_emergency_canary_profile_must_exist_when_canary_is_configured() {
    let canary = "[canary]\nprofile = \"standard\"\n[canary.profiles.standard]\nsteps = [{ weight = 100, bake = \"1h\" }]\n";
    let error = only_error(&format!("[emergency]\ncanary_profile = \"fast\"\n{canary}"));
    assert_eq!(error.found, "`fast`, which is not defined");
    // The default `compressed` is checked too, at the `[canary]` section.
    let error = only_error(canary);
    assert_eq!(error.found, "no profile `compressed`");
    // Without `[canary]` nothing is checked: the name is kept for later.
    accepts("[emergency]\ncanary_profile = \"fast\"\n");
}

#[test]
fn change_windows_are_parsed_and_bad_ones_explained() {
    let config = accepts(
        "[windows]\ntimezone = \"UTC\"\nchange = [\"Sat,Sun 10:00-12:00\", \"Fri-Mon 00:00-24:00\", \"wed 08:30-09:00\"]\n",
    );
    let change = &config.windows.unwrap().change;
    assert_eq!(change[0].days, [5, 6]);
    assert_eq!(change[1].days, [0, 4, 5, 6]);
    assert_eq!(change[1].end, jiff::civil::Time::MAX);
    assert_eq!(change[2].days, [2]);
    assert_eq!(change[2].source.line, 11);
    for bad in [
        "Mon-Thu",
        "Mon-Thu 9-17",
        "Mun 09:00-17:00",
        "Mon 17:00-09:00",
        "Mon 25:00-26:00",
        "Mon 09:00-17:00 extra",
    ] {
        let error = only_error(&format!(
            "[windows]\ntimezone = \"UTC\"\nchange = [\"{bad}\"]\n"
        ));
        assert!(error.found.starts_with(&format!("`{bad}` (")), "{error}");
    }
}

#[test]
fn freezes_need_ordered_dates_and_a_reason() {
    let config = accepts(
        "[windows]\ntimezone = \"UTC\"\nfreezes = [{ from = 2026-12-20, to = \"2027-01-03\", reason = \"holidays\" }]\n",
    );
    assert_eq!(
        config.windows.unwrap().freezes[0].from,
        jiff::civil::date(2026, 12, 20)
    );
    let error = only_error(
        "[windows]\ntimezone = \"UTC\"\nfreezes = [{ from = \"2026-12-20\", to = \"2026-12-01\", reason = \"x\" }]\n",
    );
    assert!(error.expected.contains("on or after"));
    let error = only_error(
        "[windows]\ntimezone = \"UTC\"\nfreezes = [{ from = \"2026-12-20\", to = \"2026-12-21\" }]\n",
    );
    assert_eq!(error.found, "no `reason`");
    let error = only_error(
        "[windows]\ntimezone = \"UTC\"\nfreezes = [{ from = \"20-12-2026\", to = 2026-12-21, reason = \"x\" }]\n",
    );
    assert!(error.expected.contains("a date"));
    let error = only_error("[windows]\nchange = []\n");
    assert_eq!(error.found, "no `timezone`");
}

#[test]
fn deploy_needs_all_four_commands() {
    let source = format!("{BASE}[deploy]\nset_weight = \"w\"\n");
    let found = errors(&source);
    let missing: Vec<&str> = found.iter().map(|error| error.found.as_str()).collect();
    assert_eq!(
        missing,
        ["no `promote`", "no `rollback`", "no `rollback_check`"]
    );
}

const PROFILE: &str = "[canary.profiles.standard]\nsteps = [{ weight = 100, bake = \"1h\" }]\n[canary.profiles.compressed]\nsteps = [{ weight = 100, bake = \"5m\" }]\n";

#[test]
fn canary_defaults_and_profile_reference() {
    let config = accepts(&format!("[canary]\n{PROFILE}"));
    let canary = config.canary.unwrap();
    assert_eq!(canary.profile, "standard");
    assert_eq!(canary.interval.as_seconds(), 10);
    assert_eq!(canary.failure_limit, 3);
    let error = only_error(&format!("[canary]\nprofile = \"standart\"\n{PROFILE}"));
    assert_eq!(error.help.as_deref(), Some("did you mean `standard`?"));
    let error = only_error(&format!("[canary]\nfailure_limit = 0\n{PROFILE}"));
    assert!(error.expected.contains("at least 1"));
}

#[test]
fn canary_steps_rise_strictly_and_end_at_full_traffic() {
    let steps = |text: &str| {
        format!(
            "[canary]\n[canary.profiles.standard]\nsteps = {text}\n[canary.profiles.compressed]\nsteps = [{{ weight = 100, bake = \"5m\" }}]\n"
        )
    };
    let error = only_error(&steps(
        "[{ weight = 10, bake = \"5m\" }, { weight = 10, bake = \"5m\" }, { weight = 100, bake = \"5m\" }]",
    ));
    assert!(error.expected.contains("above the previous step's 10"));
    let error = only_error(&steps(
        "[{ weight = 10, bake = \"5m\" }, { weight = 50, bake = \"5m\" }]",
    ));
    assert_eq!(error.found, "weight 50");
    let error = only_error(&steps("[{ weight = 101, bake = \"5m\" }]"));
    assert!(error.expected.contains("from 1 to 100"));
    let error = only_error(&steps("[]"));
    assert_eq!(error.found, "an empty list");
}

#[test]
fn canary_checks_have_bounds_and_exactly_one_source() {
    let with_checks =
        |checks: &str| format!("[canary]\nprometheus = \"http://p:9090\"\n{PROFILE}{checks}");
    let config = accepts(&with_checks(
        "[[canary.checks]]\nname = \"a\"\nquery = \"up\"\nmin = 1\n\
         [[canary.checks]]\nname = \"b\"\nscrape = \"http://svc/metrics\"\nnumerator = \"errors_total\"\ndenominator = \"requests_total\"\nmax = 0.01\n\
         [[canary.checks]]\nname = \"c\"\ncommand = \"./rate\"\nmax = 5\n",
    ));
    let checks = config.canary.unwrap().checks;
    assert_eq!(checks[0].min, Some(1.0));
    assert!(matches!(checks[1].source, MetricSource::Scrape { .. }));
    assert!(matches!(checks[2].source, MetricSource::Command { .. }));

    let error = only_error(&with_checks(
        "[[canary.checks]]\nname = \"a\"\nquery = \"up\"\n",
    ));
    assert_eq!(error.found, "a check without bounds");
    let error = only_error(&with_checks(
        "[[canary.checks]]\nname = \"a\"\nquery = \"up\"\ncommand = \"x\"\nmax = 1\n",
    ));
    assert_eq!(error.found, "`query` and `command`");
    let error = only_error(&with_checks("[[canary.checks]]\nname = \"a\"\nmax = 1\n"));
    assert_eq!(error.found, "none of them");
    let error = only_error(&with_checks(
        "[[canary.checks]]\nname = \"a\"\nscrape = \"http://x/metrics\"\nnumerator = \"e\"\nmax = 1\n",
    ));
    assert_eq!(error.found, "no `denominator`");
    let error = only_error(&with_checks(
        "[[canary.checks]]\nname = \"a\"\ncommand = \"x\"\nnumerator = \"e\"\nmax = 1\n",
    ));
    assert_eq!(error.found, "`numerator`");
    let error = only_error(&with_checks(
        "[[canary.checks]]\nname = \"a\"\ncommand = \"x\"\nmin = 2\nmax = 1\n",
    ));
    assert_eq!(error.found, "min = 2");
    let error = only_error(&with_checks(
        "[[canary.checks]]\nname = \"a\"\ncommand = \"x\"\nmax = 1\n[[canary.checks]]\nname = \"a\"\ncommand = \"y\"\nmax = 1\n",
    ));
    assert_eq!(error.found, "a second check named `a`");
    // A query needs a Prometheus server to ask.
    let error = only_error(&format!(
        "[canary]\n{PROFILE}[[canary.checks]]\nname = \"a\"\nquery = \"up\"\nmax = 1\n"
    ));
    assert_eq!(error.found, "no `prometheus` in `[canary]`");
}

#[test]
fn columns_count_characters_not_bytes() {
    let error = only_error("[gates.x]\nrun = \"é\"\ntier = \"é-critical\"\n");
    assert_eq!((error.line, error.column), (11, 8));
    let error = only_error("[gates.x]\nrun = \"x\" # ééé\ntier = 1 # é\n");
    assert_eq!((error.line, error.column), (11, 8));
    let source =
        format!("{BASE}[gates.x]\nrun = \"x\"\ntier = \"optional\"\nneeds = [\"é\", \"ö\"]\n");
    let found = errors(&source);
    let positions: Vec<(usize, usize)> = found
        .iter()
        .map(|error| (error.line, error.column))
        .collect();
    assert_eq!(positions, [(12, 10), (12, 15)], "{}", rendered(&source));
}

#[test]
fn syntax_errors_are_located_and_do_not_repeat_as_type_errors() {
    let source = "[project]\nname = \"svc\"\n[gates.build]\nrun = cargo build\ntier = \"critical\"\n[lanes.hotfix\n";
    insta::assert_snapshot!(rendered(source));
}

/// A small deterministic generator, so the garbage is the same on every run.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn garbage_and_truncated_input_never_panic() {
    let mut boundaries: Vec<usize> = SPEC_EXAMPLE
        .char_indices()
        .map(|(index, _)| index)
        .collect();
    boundaries.push(SPEC_EXAMPLE.len());
    for end in boundaries {
        let text = &SPEC_EXAMPLE[..end];
        if let Err(errors) = parse(text, "t.toml") {
            assert!(!errors.errors.is_empty());
            for error in &errors.errors {
                assert!(error.line >= 1 && error.column >= 1);
            }
        }
    }
    let alphabet: Vec<char> = "[]{}=\"',.#\n abcz019-_é\\tT:+".chars().collect();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..2_000 {
        let length = usize::try_from(next(&mut state) % 80).unwrap();
        let text: String = (0..length)
            .map(|_| alphabet[usize::try_from(next(&mut state)).unwrap() % alphabet.len()])
            .collect();
        let _ = parse(&text, "t.toml");
        // Splicing garbage into a valid file exercises the semantic checks on odd trees too.
        let at = usize::try_from(next(&mut state)).unwrap() % SPEC_EXAMPLE.len();
        if SPEC_EXAMPLE.is_char_boundary(at) {
            let spliced = format!("{}{text}{}", &SPEC_EXAMPLE[..at], &SPEC_EXAMPLE[at..]);
            let _ = parse(&spliced, "t.toml");
        }
    }
    let deep = format!("a = {}{}", "[".repeat(5_000), "]".repeat(5_000));
    let _ = parse(&deep, "t.toml");
    let mut chain = String::new();
    for index in 0..2_000 {
        let need = (index + 1) % 2_000;
        let _ = write!(
            chain,
            "[gates.g{index}]\nrun = \"x\"\ntier = \"optional\"\nneeds = [\"g{need}\"]\n"
        );
    }
    let found = errors(&format!("[project]\nname = \"x\"\n{chain}"));
    assert_eq!(found.len(), 1);
    assert!(found[0].found.starts_with("the cycle g0 -> g1 -> g2"));
}

#[test]
fn a_syntax_error_does_not_hide_mistakes_elsewhere() {
    let source = format!(
        "{BASE}[gates.build]\nrun = \"b\"\ntier = \"critical\"\nlanes.hotfix = \"skip\"\n[gates.x]\nrun = \"x\"\ntier = \"optional\"\nkind = \"check\nlanes.quick = \"skip\"\n"
    );
    let found = errors(&source);
    let lines: Vec<usize> = found.iter().map(|error| error.line).collect();
    assert!(lines.contains(&12), "{}", rendered(&source));
    assert!(lines.contains(&16), "{}", rendered(&source));
}

#[test]
fn a_duplicate_key_is_reported() {
    let source = format!("{BASE}[gates.x]\nrun = \"x\"\nrun = \"y\"\ntier = \"optional\"\n");
    let found = errors(&source);
    assert_eq!(found.len(), 1, "{}", rendered(&source));
    assert_eq!(found[0].line, 11);
}

#[test]
fn the_examples_in_the_config_reference_parse_together() {
    let reference = include_str!("../../../../../docs/config.md");
    let mut combined = String::new();
    let mut inside = false;
    for line in reference.lines() {
        match line {
            "```toml" => inside = true,
            "```" => inside = false,
            _ if inside => {
                combined.push_str(line);
                combined.push('\n');
            }
            _ => {}
        }
    }
    let config = parse(&combined, "docs/config.md")
        .unwrap_or_else(|errors| panic!("{}", errors.render_plain()));
    assert_eq!(config.canary.unwrap().checks.len(), 3);
    assert_eq!(config.windows.unwrap().change[1].days, [4]);
}

#[test]
fn a_config_over_the_limit_is_one_error_naming_its_size_and_the_limit() {
    let mut source = String::from("[project]\nname = \"x\"\n");
    while source.len() <= MAX_CONFIG_BYTES {
        source.push_str("# padding\n");
    }
    let found = errors(&source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].expected,
        format!("a config of at most 1 MiB ({MAX_CONFIG_BYTES} bytes)")
    );
    assert_eq!(found[0].found, format!("1.0 MiB ({} bytes)", source.len()));
    assert!(oversize("fixlane.toml", MAX_CONFIG_BYTES as u64).is_none());
}

#[test]
fn what_was_written_is_quoted_short_however_long_the_line() {
    let long = "b".repeat(10_000);
    for source in [
        format!("[project]\nname = \"x\"\njunk = \"{long}\n"),
        format!("{BASE}[gates.a]\nrun = \"true\"\ntier = \"{long}\"\n"),
        format!("{BASE}[gates.{long}]\nrun = \"true\"\ntier = \"required\"\nx = 1\n"),
    ] {
        let found = errors(&source);
        assert!(!found.is_empty());
        for error in found {
            let length = error.to_string().chars().count();
            assert!(length < 1200, "{length} characters: {error}");
        }
    }
}
