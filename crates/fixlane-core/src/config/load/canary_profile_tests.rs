//! When the emergency canary profile must exist: only when something can run an emergency
//! canary (an emergency lane or an emergency category), and the error then says which.

use super::*;

/// `[deploy]`, `[canary]`, one profile and one check: a team that canaries normal changes only.
const CANARY_ONLY: &str = r#"[project]
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

fn errors_of(source: &str) -> Vec<ConfigError> {
    match parse(source, "fixlane.toml") {
        Ok(_) => Vec::new(),
        Err(errors) => errors.errors,
    }
}

#[test]
fn a_canary_for_normal_changes_needs_no_emergency_profile() {
    if let Err(errors) = parse(CANARY_ONLY, "fixlane.toml") {
        panic!("{}", errors.render_plain());
    }
}

#[test]
fn an_emergency_lane_needs_the_emergency_profile_and_the_error_names_it() {
    let source =
        format!("{CANARY_ONLY}\n[lanes.hotfix]\nbranches = [\"hotfix/**\"]\nemergency = true\n");
    let found = errors_of(&source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].found, "no profile `compressed`");
    let help = found[0].help.clone().unwrap_or_default();
    assert!(
        help.contains("the emergency lane `hotfix` (line 21)"),
        "{help}"
    );
    assert!(
        help.contains("add `[canary.profiles.compressed]`"),
        "{help}"
    );
}

#[test]
fn an_emergency_category_needs_the_emergency_profile_and_the_error_names_it() {
    let source = format!(
        "{CANARY_ONLY}\n[emergency.categories.security]\napprovers = [[\"security-lead\"]]\n"
    );
    let found = errors_of(&source);
    assert_eq!(found.len(), 1, "{found:?}");
    let help = found[0].help.clone().unwrap_or_default();
    assert!(
        help.contains("the emergency category `security` (line 21)"),
        "{help}"
    );
}

#[test]
fn a_lane_that_is_not_an_emergency_lane_does_not_need_it() {
    let source = format!("{CANARY_ONLY}\n[lanes.quick]\nlabels = [\"quick\"]\n");
    assert_eq!(errors_of(&source), Vec::new());
}

#[test]
fn a_profile_named_in_emergency_canary_profile_must_exist_even_when_unused() {
    let source = format!("{CANARY_ONLY}\n[emergency]\ncanary_profile = \"fast\"\n");
    let found = errors_of(&source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].found, "`fast`, which is not defined");
}
