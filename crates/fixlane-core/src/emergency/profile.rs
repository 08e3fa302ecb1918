//! Which canary profile a rollout may use: an emergency gets `emergency.canary_profile`; any
//! other profile needs the `canary` bypass, and a profile with its own `requires` (the seed's
//! "ship to 100% immediately", reserved for the rarest cases) also needs those approvers.
//! Outside an emergency a change uses `canary.profile`.

use crate::config::model::{BypassElement, Config};
use crate::emergency::instead::Instead;
use crate::emergency::model::{Emergency, EmergencyState};
use crate::emergency::refusal::Refusal;

/// The profile an emergency's canary runs, or why it may not run.
pub fn for_emergency(
    config: &Config,
    emergency: &Emergency,
    requested: Option<&str>,
) -> Result<String, Refusal> {
    if !matches!(
        emergency.state,
        EmergencyState::Approved | EmergencyState::FixReady | EmergencyState::Deploying
    ) {
        return Err(Refusal::new(
            "emergency.canary.state",
            format!("a canary of {}", emergency.id),
            format!(
                "{} is {}; a canary deploys an approved fix (approved or fix_ready), once",
                emergency.id, emergency.state
            ),
            if emergency.state.is_approved() {
                Instead::VerifyOrDeclare
            } else {
                Instead::GetApprovals {
                    id: emergency.id.clone(),
                }
            },
        ));
    }
    let default = config.emergency.canary_profile.clone();
    let profile = requested.map_or_else(|| default.clone(), str::to_owned);
    if profile != default && !emergency.is_bypassed(BypassElement::Canary) {
        return Err(Refusal::new(
            "emergency.canary_profile",
            format!("canary profile `{profile}` for {}", emergency.id),
            format!(
                "an emergency gets the `{default}` profile (emergency.canary_profile); another profile bypasses the canary discipline, and {} has no `canary` bypass recorded",
                emergency.id
            ),
            Instead::ProfileOrBypass {
                profile: default.clone(),
                id: emergency.id.clone(),
            },
        ));
    }
    let requires = config
        .canary
        .as_ref()
        .and_then(|canary| canary.profiles.get(&profile))
        .map(|chosen| chosen.requires.clone())
        .unwrap_or_default();
    let approver_roles: Vec<&String> = emergency
        .approvals
        .iter()
        .filter_map(|approval| config.people.get(&approval.person))
        .flat_map(|person| person.roles.iter())
        .collect();
    let missing: Vec<String> = requires
        .iter()
        .filter(|group| !group.iter().any(|role| approver_roles.contains(&role)))
        .map(|group| group.join(" or "))
        .collect();
    if !missing.is_empty() {
        return Err(Refusal::new(
            "canary.profiles.requires",
            format!("canary profile `{profile}` for {}", emergency.id),
            format!(
                "the `{profile}` profile needs its own approvers: {} — none of {}'s approvers holds that role",
                missing.join(", and "),
                emergency.id
            ),
            Instead::advice(format!(
                "use the `{default}` profile: `{profile}` is for emergencies approved by a {} as well (its category's approvers must include one)",
                missing.join(" and a "),
            )),
        ));
    }
    Ok(profile)
}

/// The profile of a normal change's canary.
pub fn for_normal_change(config: &Config, requested: Option<&str>) -> Result<String, Refusal> {
    let default = config
        .canary
        .as_ref()
        .map_or_else(|| "standard".to_owned(), |canary| canary.profile.clone());
    match requested {
        Some(profile) if profile != default => Err(Refusal::new(
            "canary.profile",
            format!("canary profile `{profile}` for a normal change"),
            format!(
                "a normal change uses the `{default}` profile (canary.profile); a faster profile bypasses the canary discipline"
            ),
            Instead::advice(
                "use the normal profile, or declare an emergency and record its `canary` bypass",
            ),
        )),
        _ => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::emergency::model::{Approval, Bypass};
    use crate::names::{IncidentId, PersonName};
    use jiff::Timestamp;

    const CONFIG: &str = r#"
[project]
name = "x"
[people.bob]
roles = ["engineer"]
[people.carol]
roles = ["security-lead"]
[people.dave]
roles = ["platform-lead"]
[gates.build]
run = "true"
tier = "critical"
[emergency]
canary_profile = "compressed"
[emergency.categories.security]
approvers = [["security-lead"], ["platform-lead"]]
may_bypass = ["eval", "canary"]
[deploy]
set_weight = "true"
promote = "true"
rollback = "true"
rollback_check = "true"
[canary]
profile = "standard"
[canary.profiles.standard]
steps = [{ weight = 100, bake = "1h" }]
[canary.profiles.compressed]
steps = [{ weight = 100, bake = "5m" }]
[canary.profiles.immediate]
steps = [{ weight = 100, bake = "5m" }]
requires = [["platform-lead"]]
[[canary.checks]]
name = "errors"
command = "echo 0"
max = 0.01
"#;

    fn person(name: &str) -> PersonName {
        PersonName::parse(name).unwrap()
    }

    fn emergency(
        state: EmergencyState,
        approvers: &[&str],
        bypasses: &[BypassElement],
    ) -> Emergency {
        let at = Timestamp::UNIX_EPOCH;
        Emergency {
            id: IncidentId::parse("INC-2026-05-20-001").unwrap(),
            severity: "P0".into(),
            category: "security".into(),
            title: "t".into(),
            author: person("bob"),
            cleanup_owner: person("bob"),
            eta: None,
            flag_flip: "f".into(),
            rollback: "r".into(),
            branch: "hotfix/INC-2026-05-20-001-t".into(),
            drill: false,
            declared_at: at,
            state,
            approvals: approvers
                .iter()
                .enumerate()
                .map(|(group, name)| Approval {
                    person: person(name),
                    role: "r".into(),
                    group,
                    at,
                })
                .collect(),
            bypasses: bypasses
                .iter()
                .map(|element| Bypass {
                    element: *element,
                    reason: "r".into(),
                    compensation: "c".into(),
                    by: person("bob"),
                    at,
                })
                .collect(),
            warnings: vec![],
            owed_gates: vec![],
            timeline: vec![],
        }
    }

    #[test]
    fn an_emergency_gets_its_profile_and_others_need_the_bypass_and_approvers() {
        let config = parse(CONFIG, "fixlane.toml").unwrap();
        let ready = emergency(EmergencyState::FixReady, &["carol", "dave"], &[]);
        assert_eq!(for_emergency(&config, &ready, None).unwrap(), "compressed");
        assert_eq!(
            for_emergency(&config, &ready, Some("immediate"))
                .unwrap_err()
                .rule,
            "emergency.canary_profile"
        );
        let bypassed = emergency(
            EmergencyState::FixReady,
            &["carol", "dave"],
            &[BypassElement::Canary],
        );
        assert_eq!(
            for_emergency(&config, &bypassed, Some("immediate")).unwrap(),
            "immediate"
        );
        let no_platform_lead = emergency(
            EmergencyState::FixReady,
            &["carol"],
            &[BypassElement::Canary],
        );
        assert_eq!(
            for_emergency(&config, &no_platform_lead, Some("immediate"))
                .unwrap_err()
                .rule,
            "canary.profiles.requires"
        );
    }

    #[test]
    fn only_an_approved_fix_is_deployed_once() {
        let config = parse(CONFIG, "fixlane.toml").unwrap();
        for state in [
            EmergencyState::Declared,
            EmergencyState::Promoted,
            EmergencyState::RolledBack,
            EmergencyState::Closed,
        ] {
            let record = emergency(state, &["carol", "dave"], &[]);
            assert_eq!(
                for_emergency(&config, &record, None).unwrap_err().rule,
                "emergency.canary.state"
            );
        }
    }

    #[test]
    fn a_normal_change_keeps_the_normal_profile() {
        let config = parse(CONFIG, "fixlane.toml").unwrap();
        assert_eq!(for_normal_change(&config, None).unwrap(), "standard");
        assert_eq!(
            for_normal_change(&config, Some("standard")).unwrap(),
            "standard"
        );
        assert_eq!(
            for_normal_change(&config, Some("compressed"))
                .unwrap_err()
                .rule,
            "canary.profile"
        );
    }
}
