//! Changes to the policy between the base commit and the change under test.
//!
//! A fix must not rewrite the rules that judge it: an emergency-lane run takes its policy from
//! `fixlane.toml` at the base commit, and a fix that edits that file, or a script a critical
//! gate runs, is refused there ([`emergency_refusals`]). Policy changes go through the normal
//! lane, where every weakening against the base is shown and audited ([`weakenings`]). Pure:
//! the caller reads both configs and the changed files from git.

use serde::{Deserialize, Serialize};

use crate::config::model::{Config, Gate, LaneVariant, Tier};
use crate::names::LaneName;

/// One way the changed policy is weaker than (or different in a way that matters from) the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weakening {
    /// What part of the policy: `gates.scan`, `people.eve`, `emergency.rate_limit`, …
    pub what: String,
    /// A sentence saying what changed.
    pub change: String,
}

impl std::fmt::Display for Weakening {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.what, self.change)
    }
}

fn rank(tier: Tier) -> u8 {
    match tier {
        Tier::Critical => 2,
        Tier::Required => 1,
        Tier::Optional => 0,
    }
}

fn variant_text(variant: Option<&LaneVariant>) -> String {
    match variant {
        None => "runs it as written".to_owned(),
        Some(LaneVariant::Skip) => "skips it".to_owned(),
        Some(LaneVariant::Variant { run, scope }) => format!(
            "runs {}{}",
            run.as_deref()
                .map_or_else(|| "it as written".to_owned(), |run| format!("`{run}`")),
            if *scope == crate::config::model::Scope::Changed {
                " only when its inputs changed"
            } else {
                ""
            }
        ),
    }
}

fn gate_weakenings(base: &Gate, head: Option<&Gate>, out: &mut Vec<Weakening>) {
    let what = format!("gates.{}", base.name);
    let Some(head) = head else {
        if base.tier != Tier::Optional {
            out.push(Weakening {
                what,
                change: format!("the {} gate was removed", base.tier.as_str()),
            });
        }
        return;
    };
    if rank(head.tier) < rank(base.tier) {
        out.push(Weakening {
            what: what.clone(),
            change: format!(
                "its tier was lowered from {} to {}",
                base.tier.as_str(),
                head.tier.as_str()
            ),
        });
    }
    if base.tier == Tier::Optional {
        return;
    }
    if head.run != base.run {
        out.push(Weakening {
            what: what.clone(),
            change: format!(
                "the {} gate's command changed from `{}` to `{}`",
                base.tier.as_str(),
                base.run,
                head.run
            ),
        });
    }
    let lanes = base.lanes.keys().chain(head.lanes.keys());
    let mut seen: Vec<&LaneName> = Vec::new();
    for lane in lanes {
        if seen.contains(&lane) {
            continue;
        }
        seen.push(lane);
        let (before, after) = (base.lanes.get(lane), head.lanes.get(lane));
        if before != after {
            out.push(Weakening {
                what: format!("{what}.lanes.{lane}"),
                change: format!(
                    "lane {lane} {} (it {})",
                    variant_text(after),
                    variant_text(before)
                ),
            });
        }
    }
}

fn list(roles: &[String]) -> String {
    if roles.is_empty() {
        "none".to_owned()
    } else {
        roles.join(", ")
    }
}

fn groups(groups: &[Vec<String>]) -> String {
    groups
        .iter()
        .map(|group| format!("[{}]", group.join(" or ")))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Every change from `base` to `head` that could weaken discipline: critical or required gates
/// removed, lowered, re-commanded or newly skipped by a lane; people and roles; emergency
/// severities, limits, approver groups and bypass scopes; which branches pick an emergency lane.
/// Empty when the policy is the same (or only stricter in ways not listed).
pub fn weakenings(base: &Config, head: &Config) -> Vec<Weakening> {
    let mut out = Vec::new();
    for gate in base.gates.values() {
        gate_weakenings(gate, head.gates.get(&gate.name), &mut out);
    }
    for (name, person) in &head.people {
        match base.people.get(name) {
            None => out.push(Weakening {
                what: format!("people.{name}"),
                change: format!("a person was added with roles {}", list(&person.roles)),
            }),
            Some(before) if before.roles != person.roles || before.email != person.email => {
                out.push(Weakening {
                    what: format!("people.{name}"),
                    change: format!(
                        "roles changed from {} to {}{}",
                        list(&before.roles),
                        list(&person.roles),
                        if before.email == person.email {
                            ""
                        } else {
                            ", and the email changed"
                        }
                    ),
                });
            }
            Some(_) => {}
        }
    }
    let (before, after) = (&base.emergency, &head.emergency);
    if before.severities != after.severities {
        out.push(Weakening {
            what: "emergency.severities".to_owned(),
            change: format!(
                "changed from {} to {}",
                list(&before.severities),
                list(&after.severities)
            ),
        });
    }
    for (key, was, now) in [
        ("rate_limit", before.rate_limit, after.rate_limit),
        ("author_limit", before.author_limit, after.author_limit),
    ] {
        if was != now {
            let show = |limit: Option<crate::config::model::RateLimit>| {
                limit.map_or_else(
                    || "none".to_owned(),
                    |limit| format!("{} within {}", limit.max, limit.within),
                )
            };
            out.push(Weakening {
                what: format!("emergency.{key}"),
                change: format!("changed from {} to {}", show(was), show(now)),
            });
        }
    }
    if before.rate_review_roles != after.rate_review_roles {
        out.push(Weakening {
            what: "emergency.rate_review_roles".to_owned(),
            change: format!(
                "changed from {} to {}",
                list(&before.rate_review_roles),
                list(&after.rate_review_roles)
            ),
        });
    }
    for (name, category) in &after.categories {
        let what = format!("emergency.categories.{name}");
        match before.categories.get(name) {
            None => out.push(Weakening {
                what,
                change: format!(
                    "a category was added, approved by {}",
                    groups(&category.approvers)
                ),
            }),
            Some(was) => {
                if was.approvers != category.approvers {
                    out.push(Weakening {
                        what: what.clone(),
                        change: format!(
                            "approvers changed from {} to {}",
                            groups(&was.approvers),
                            groups(&category.approvers)
                        ),
                    });
                }
                let widened: Vec<&str> = category
                    .may_bypass
                    .iter()
                    .filter(|element| !was.may_bypass.contains(element))
                    .map(|element| element.as_str())
                    .collect();
                if !widened.is_empty() {
                    out.push(Weakening {
                        what,
                        change: format!("may now bypass {}", widened.join(", ")),
                    });
                }
            }
        }
    }
    for (name, lane) in &head.lanes {
        let what = format!("lanes.{name}");
        match base.lanes.get(name) {
            None if lane.emergency => out.push(Weakening {
                what,
                change: "an emergency lane was added".to_owned(),
            }),
            Some(was) if was.emergency != lane.emergency => out.push(Weakening {
                what,
                change: if lane.emergency {
                    "the lane became an emergency lane".to_owned()
                } else {
                    "the lane is no longer an emergency lane".to_owned()
                },
            }),
            Some(was) if was.max_diff_lines != lane.max_diff_lines => out.push(Weakening {
                what,
                change: format!(
                    "max_diff_lines changed from {} to {}",
                    was.max_diff_lines
                        .map_or_else(|| "none".to_owned(), |n| n.to_string()),
                    lane.max_diff_lines
                        .map_or_else(|| "none".to_owned(), |n| n.to_string())
                ),
            }),
            _ => {}
        }
    }
    out
}

/// Repository-relative paths a command names: its words that look like paths, `./` dropped.
/// Quotes are stripped; shell syntax is not interpreted, so this over-approximates, which is
/// the safe direction for a refusal.
fn named_paths(command: &str) -> impl Iterator<Item = String> + '_ {
    command
        .split(|character: char| character.is_whitespace() || ";&|()<>=`".contains(character))
        .map(|word| word.trim_matches(|character| character == '"' || character == '\''))
        .filter(|word| !word.is_empty() && !word.starts_with('-') && !word.starts_with('$'))
        .map(|word| {
            let mut path = word;
            while let Some(rest) = path.strip_prefix("./") {
                path = rest;
            }
            path.to_owned()
        })
        .filter(|path| !path.is_empty() && !path.starts_with('/'))
}

/// Why an emergency-lane run of `lane` under the base policy must be refused, given the files
/// the fix changes: the config itself (`config_path`, repository-relative), or a file that a
/// critical gate's command (as written, or as the lane runs it) names. Empty when neither.
pub fn emergency_refusals(
    base: &Config,
    lane: &LaneName,
    config_path: &str,
    changed_files: &[String],
) -> Vec<String> {
    let mut refusals = Vec::new();
    if changed_files.iter().any(|file| file == config_path) {
        refusals.push(format!(
            "the fix changes {config_path}, the policy that judges it; an emergency lane runs \
             under the policy of the base commit, so ship policy changes through the normal lane \
             and keep the fix to the fix"
        ));
    }
    for gate in base
        .gates
        .values()
        .filter(|gate| gate.tier == Tier::Critical)
    {
        let mut commands = vec![gate.run.as_str()];
        if let Some(LaneVariant::Variant { run: Some(run), .. }) = gate.lanes.get(lane) {
            commands.push(run.as_str());
        }
        let mut touched: Vec<&str> = changed_files
            .iter()
            .filter(|file| {
                commands
                    .iter()
                    .any(|command| named_paths(command).any(|path| &path == *file))
            })
            .map(String::as_str)
            .collect();
        touched.dedup();
        if !touched.is_empty() {
            refusals.push(format!(
                "the fix changes {}, which the critical gate {} runs; a fix may not change the \
                 check that judges it on an emergency lane, so ship that change through the \
                 normal lane",
                touched.join(", "),
                gate.name
            ));
        }
    }
    refusals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        crate::config::parse(text, "fixlane.toml").unwrap()
    }

    const BASE: &str = r#"
[project]
name = "x"
[people.alice]
roles = ["sre-lead"]
[gates.build]
run = "cargo build"
tier = "critical"
[gates.scan]
run = "./scripts/scan --severity CRITICAL"
tier = "critical"
lanes.hotfix = { run = "sh tools/quick-scan.sh" }
[gates.lint]
run = "cargo clippy"
tier = "required"
lanes.hotfix = "skip"
[lanes.hotfix]
branches = ["hotfix/**"]
emergency = true
[emergency]
rate_limit = { max = 3, within = "7d" }
[emergency.categories.incident]
approvers = [["sre-lead"]]
may_bypass = ["eval"]
"#;

    #[test]
    fn the_same_policy_has_no_weakenings() {
        assert_eq!(weakenings(&config(BASE), &config(BASE)), vec![]);
    }

    #[test]
    fn a_critical_gate_lowered_and_skipped_is_two_weakenings() {
        let head = BASE.replace(
            "run = \"./scripts/scan --severity CRITICAL\"\ntier = \"critical\"\nlanes.hotfix = { run = \"sh tools/quick-scan.sh\" }",
            "run = \"./scripts/scan --severity CRITICAL\"\ntier = \"optional\"\nlanes.hotfix = \"skip\"",
        );
        let found = weakenings(&config(BASE), &config(&head));
        let whats: Vec<&str> = found.iter().map(|w| w.what.as_str()).collect();
        assert_eq!(
            whats,
            vec!["gates.scan", "gates.scan.lanes.hotfix"],
            "{found:?}"
        );
        assert!(found[0].change.contains("from critical to optional"));
    }

    #[test]
    fn a_critical_command_replaced_by_true_is_shown() {
        let head = BASE.replace("run = \"cargo build\"", "run = \"true\"");
        let found = weakenings(&config(BASE), &config(&head));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].change.contains("`cargo build` to `true`"));
    }

    #[test]
    fn people_limits_and_approvers_are_weakenings() {
        let head = BASE
            .replace(
                "[people.alice]\nroles = [\"sre-lead\"]",
                "[people.alice]\nroles = [\"sre-lead\"]\n[people.mallory]\nroles = [\"sre-lead\"]",
            )
            .replace("max = 3", "max = 30")
            .replace(
                "approvers = [[\"sre-lead\"]]",
                "approvers = [[\"engineer\"]]",
            );
        let whats: Vec<String> = weakenings(&config(BASE), &config(&head))
            .into_iter()
            .map(|w| w.what)
            .collect();
        assert_eq!(
            whats,
            vec![
                "people.mallory",
                "emergency.rate_limit",
                "emergency.categories.incident"
            ]
        );
    }

    #[test]
    fn a_removed_critical_gate_is_a_weakening() {
        let head = BASE.replace(
            "[gates.build]\nrun = \"cargo build\"\ntier = \"critical\"\n",
            "",
        );
        let found = weakenings(&config(BASE), &config(&head));
        assert_eq!(found[0].what, "gates.build");
        assert!(found[0].change.contains("removed"));
    }

    #[test]
    fn an_emergency_fix_may_not_touch_the_config_or_a_critical_script() {
        let base = config(BASE);
        let hotfix = LaneName::parse("hotfix").unwrap();
        let none = emergency_refusals(&base, &hotfix, "fixlane.toml", &["src/lib.rs".into()]);
        assert!(none.is_empty());
        let config_changed =
            emergency_refusals(&base, &hotfix, "fixlane.toml", &["fixlane.toml".into()]);
        assert_eq!(config_changed.len(), 1);
        assert!(config_changed[0].contains("normal lane"));
        for script in ["scripts/scan", "tools/quick-scan.sh"] {
            let refused = emergency_refusals(&base, &hotfix, "fixlane.toml", &[script.into()]);
            assert_eq!(refused.len(), 1, "{script}");
            assert!(refused[0].contains("critical gate scan"), "{refused:?}");
        }
        // A required gate's script is the fix's business.
        let lint = emergency_refusals(&base, &hotfix, "fixlane.toml", &["cargo".into()]);
        assert_eq!(
            lint.len(),
            1,
            "`cargo` is named by a critical command: {lint:?}"
        );
    }

    #[test]
    fn named_paths_strip_quotes_and_leading_dot_slash() {
        let paths: Vec<String> =
            named_paths(r#"FOO=1 sh "./a/b.sh" --x && ././c; $HOME/d /abs"#).collect();
        assert_eq!(paths, vec!["FOO", "1", "sh", "a/b.sh", "c"]);
    }
}
