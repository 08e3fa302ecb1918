//! Approving an emergency: named authorities fill the category's approver groups, one distinct
//! person per group and never the author, until the emergency moves to `approved`.

use jiff::Timestamp;

use crate::config::model::{Category, Config};
use crate::emergency::identity::unknown_person;
use crate::emergency::instead::{Ask, Instead, MissingGroup, config_list};
use crate::emergency::model::{Approval, Emergency, EmergencyState};
use crate::emergency::policy::find_category;
use crate::emergency::refusal::Refusal;
use crate::names::PersonName;

/// Indices of the approver groups of `category` no approval counts for yet.
fn unsatisfied(category: &Category, emergency: &Emergency) -> Vec<usize> {
    (0..category.approvers.len())
        .filter(|group| {
            !emergency
                .approvals
                .iter()
                .any(|approval| approval.group == *group)
        })
        .collect()
}

/// The approver groups still missing an approval (each group: the roles that may fill it).
pub fn missing_groups(config: &Config, emergency: &Emergency) -> Vec<Vec<String>> {
    let Some(category) = config.emergency.categories.get(&emergency.category) else {
        return Vec::new();
    };
    unsatisfied(category, emergency)
        .into_iter()
        .filter_map(|group| category.approvers.get(group).cloned())
        .collect()
}

/// The approver groups still missing an approval, each with the people who could fill it (not
/// the author, nobody who already approved): what a refused approval lists, for a page that
/// shows it before anyone asks.
pub fn missing_with_eligible(config: &Config, emergency: &Emergency) -> Vec<MissingGroup> {
    config
        .emergency
        .categories
        .get(&emergency.category)
        .map(|category| describe_groups(config, category, emergency))
        .unwrap_or_default()
}

/// Every group of the category is satisfied, by at least one approval. A category missing from
/// the config, or one without groups, never approves anything: no approver, no bypass.
pub fn is_fully_approved(config: &Config, emergency: &Emergency) -> bool {
    config
        .emergency
        .categories
        .get(&emergency.category)
        .is_some_and(|category| {
            !category.approvers.is_empty()
                && !emergency.approvals.is_empty()
                && unsatisfied(category, emergency).is_empty()
        })
}

/// Whether `person` may approve `emergency` now, and for which group.
pub fn approve(
    config: &Config,
    emergency: &Emergency,
    person: &PersonName,
    role: Option<&str>,
    now: Timestamp,
) -> Result<Approval, Refusal> {
    let refused = format!("approval of {} by {person}", emergency.id);
    let category = find_category(config, &emergency.category, &refused)?;
    let Some(details) = config.people.get(person) else {
        return Err(unknown_person(
            config,
            "emergency.identity",
            refused,
            person.as_str(),
            "the approver",
        ));
    };
    if *person == emergency.author {
        return Err(Refusal::new(
            "emergency.approval.not_author",
            refused,
            format!(
                "{person} declared {}, and the author of an emergency may not approve it: the \
                 approval is the second pair of eyes that makes the bypass accountable",
                emergency.id
            ),
            Instead::Approve {
                id: emergency.id.clone(),
                ask: Ask::CategoryApprover {
                    category: category.name.clone(),
                },
                missing: describe_groups(config, category, emergency),
            },
        )
        .at(category.source));
    }
    if let Some(earlier) = emergency
        .approvals
        .iter()
        .find(|approval| approval.person == *person)
    {
        return Err(Refusal::new(
            "emergency.approval.distinct",
            refused,
            format!(
                "{person} already approved as {} (group {}); each approver group is satisfied by \
                 a distinct person, so one person counts once",
                earlier.role,
                group_text(category, earlier.group)
            ),
            if is_fully_approved(config, emergency) {
                Instead::nothing("every approver group is satisfied")
            } else {
                Instead::Approve {
                    id: emergency.id.clone(),
                    ask: Ask::AnotherPerson,
                    missing: describe_groups(config, category, emergency),
                }
            },
        )
        .at(category.source));
    }
    let open = unsatisfied(category, emergency);
    if open.is_empty() {
        return Err(Refusal::new(
            "emergency.approval.complete",
            refused,
            format!(
                "every approver group of category `{}` is already satisfied ({})",
                category.name,
                emergency
                    .approvals
                    .iter()
                    .map(|approval| format!("{} as {}", approval.person, approval.role))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Instead::nothing("the emergency is approved"),
        )
        .at(category.source));
    }
    if let Some(role) = role
        && !details.roles.iter().any(|held| held == role)
    {
        return Err(Refusal::new(
            "emergency.approval.role",
            refused,
            format!(
                "{person} does not hold the role `{role}`; their roles are {}",
                config_list(&details.roles)
            ),
            Instead::advice(
                "approve as one of your own roles, or leave the role out to use the one that fits",
            ),
        ));
    }
    let candidates: Vec<(usize, &String)> = open
        .iter()
        .filter_map(|&group| {
            let roles = category.approvers.get(group)?;
            let chosen = match role {
                Some(role) => roles.iter().find(|candidate| candidate.as_str() == role),
                None => roles
                    .iter()
                    .find(|candidate| details.roles.contains(candidate)),
            }?;
            Some((group, chosen))
        })
        .collect();
    // Take the group that the fewest other people could fill, so a person holding several roles
    // does not use up the only group someone else could have satisfied.
    let Some(&(group, chosen)) = candidates
        .iter()
        .min_by_key(|(group, _)| other_fillers(config, category, emergency, person, *group))
    else {
        let held = match role {
            Some(role) => format!("the role `{role}`"),
            None => format!("the roles {}", config_list(&details.roles)),
        };
        return Err(Refusal::new(
            "emergency.approval.role",
            refused,
            format!(
                "category `{}` needs approvals from {}; {person} approves with {held}, which \
                 fills none of the groups still missing",
                category.name,
                groups_text(category, &open)
            ),
            Instead::Approve {
                id: emergency.id.clone(),
                ask: Ask::Eligible,
                missing: describe_groups(config, category, emergency),
            },
        )
        .at(category.source));
    };
    Ok(Approval {
        person: person.clone(),
        role: chosen.clone(),
        group,
        at: now,
    })
}

fn other_fillers(
    config: &Config,
    category: &Category,
    emergency: &Emergency,
    person: &PersonName,
    group: usize,
) -> usize {
    let Some(roles) = category.approvers.get(group) else {
        return 0;
    };
    config
        .people
        .iter()
        .filter(|(name, details)| {
            *name != person
                && **name != emergency.author
                && !emergency
                    .approvals
                    .iter()
                    .any(|approval| approval.person == **name)
                && details.roles.iter().any(|role| roles.contains(role))
        })
        .count()
}

fn group_text(category: &Category, group: usize) -> String {
    category
        .approvers
        .get(group)
        .map_or_else(|| format!("#{group}"), |roles| roles.join(" or "))
}

fn groups_text(category: &Category, groups: &[usize]) -> String {
    groups
        .iter()
        .map(|&group| format!("[{}]", group_text(category, group)))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// For each missing group: its roles and who could fill it.
fn describe_groups(
    config: &Config,
    category: &Category,
    emergency: &Emergency,
) -> Vec<MissingGroup> {
    unsatisfied(category, emergency)
        .into_iter()
        .map(|group| {
            let roles = category.approvers.get(group).cloned().unwrap_or_default();
            let eligible = config
                .people
                .iter()
                .filter(|(name, details)| {
                    **name != emergency.author
                        && !emergency
                            .approvals
                            .iter()
                            .any(|approval| approval.person == **name)
                        && details.roles.iter().any(|role| roles.contains(role))
                })
                .map(|(name, _)| name.clone())
                .collect();
            MissingGroup { roles, eligible }
        })
        .collect()
}

/// Records `approval` (as returned by [`approve`] on this record) and, when it completes the
/// approvals of a declared emergency, moves it to `approved` with a timeline entry. Returns
/// whether it did. Refuses an approval that no longer fits, such as one for a group another
/// person filled in the meantime, so a stale approval never counts twice.
pub fn apply_approval(
    config: &Config,
    emergency: &mut Emergency,
    approval: Approval,
) -> Result<bool, Refusal> {
    let refused = format!(
        "recording the approval of {} by {}",
        emergency.id, approval.person
    );
    let category = find_category(config, &emergency.category, &refused)?;
    let taken = emergency
        .approvals
        .iter()
        .any(|earlier| earlier.group == approval.group || earlier.person == approval.person);
    if taken || approval.group >= category.approvers.len() {
        return Err(Refusal::new(
            "emergency.approval.distinct",
            refused,
            format!(
                "the approval for group {} no longer fits: each group is satisfied by one \
                 distinct person, and this group or this person is already counted",
                group_text(category, approval.group)
            ),
            Instead::CheckRecord {
                id: emergency.id.clone(),
            },
        )
        .at(category.source));
    }
    let at = approval.at;
    let by = approval.person.to_string();
    emergency.approvals.push(approval);
    if emergency.state == EmergencyState::Declared && is_fully_approved(config, emergency) {
        emergency.transition(
            EmergencyState::Approved,
            at,
            &by,
            Some("every approver group is satisfied".to_owned()),
        )?;
        return Ok(true);
    }
    Ok(false)
}
