//! Turning a config and a lane into the list of gates a run executes, skips, or leaves out.
//!
//! Pure: the caller supplies the changed files (from git) when a lane variant needs them.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::config::model::{Config, GateKind, LaneVariant, Scope, Tier};
use crate::duration::Duration;
use crate::names::{GateName, LaneName};

/// Why a gate is not run in this lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// The lane says `"skip"` for this gate: in an emergency lane this is owed debt.
    SkippedByLane { lane: LaneName },
    /// `scope = "changed"` and no changed file matches the gate's `inputs`.
    NoChangedInputs { lane: LaneName },
    /// A deploy gate refused by a rule (a change window, a freeze): it blocks the verdict and
    /// its dependents do not run, whatever its tier.
    Refused { why: String },
}

impl SkipReason {
    /// Whether the skip stands in for a pass (a lane's choice) or blocks like a failure.
    pub fn blocks(&self) -> bool {
        matches!(self, SkipReason::Refused { .. })
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::SkippedByLane { lane } => write!(formatter, "skipped by lane {lane}"),
            SkipReason::NoChangedInputs { lane } => {
                write!(
                    formatter,
                    "skipped by lane {lane}: no changed file matches its inputs"
                )
            }
            SkipReason::Refused { why } => write!(formatter, "refused: {why}"),
        }
    }
}

/// What a run does with one gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum GateAction {
    Run { command: String },
    Skip(SkipReason),
}

/// What the plan decided for a gate, in the words `fixlane run --explain` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// It runs as written.
    #[default]
    Selected,
    /// It runs with the lane's shorter command.
    Shortened,
    /// It does not run, and nothing is owed: no input changed, or an ordinary lane skips it.
    Skipped,
    /// An emergency lane skips it: the debt is recorded and paid back by a backfill run.
    Owed,
    /// A deploy refused by a rule (a change window, a freeze, a refused run).
    Refused,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Selected => "selected",
            Decision::Shortened => "shortened",
            Decision::Skipped => "skipped",
            Decision::Owed => "owed",
            Decision::Refused => "refused",
        }
    }
}

/// Why a gate runs, runs shorter, or does not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
pub struct Explanation {
    pub decision: Decision,
    /// A sentence for people; commands and globs in it come from the config.
    pub why: String,
}

/// What a plan knows about the change, for `scope = "changed"`.
#[derive(Debug, Clone, Copy)]
pub enum Changes<'a> {
    /// The files that differ from the base, repository-relative.
    Known(&'a [String]),
    /// No base to compare with (a root commit, a shallow clone): every gate runs.
    Unknown,
    /// A full run (a backfill): every gate of the lane runs whatever changed.
    Full,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PlannedGate {
    pub name: GateName,
    pub tier: Tier,
    pub kind: GateKind,
    /// Only gates of this plan; a need on a skipped gate is kept (it counts as satisfied).
    pub needs: Vec<GateName>,
    pub timeout: Option<Duration>,
    pub env: Vec<(String, String)>,
    pub action: GateAction,
    /// Why: kept with the stored plan; a plan stored before it existed reads with none.
    #[serde(default)]
    pub explanation: Explanation,
}

/// The gates of one run, dependencies before dependents.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Plan {
    pub lane: LaneName,
    pub emergency: bool,
    pub gates: Vec<PlannedGate>,
    /// Why the whole run is blocked whatever its gates do: a fix on an emergency lane that
    /// changes the policy judging it, or a policy that cannot be read from the base commit.
    /// Kept with the stored plan, so the verdict recomputed later says the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<String>,
    /// On an emergency lane: what to say when no emergency record matches the run, worded for
    /// its branch (an undeclared id, or a branch without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_emergency: Option<String>,
    /// On an emergency lane: how soon what it skips must be backfilled, for the verdict to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backfill_within: Option<crate::duration::Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("there is no lane `{lane}`; the lanes are: {known}")]
    UnknownLane { lane: LaneName, known: String },
    #[error("gate `{gate}` has an input glob `{glob}` that does not parse: {why}")]
    BadInputGlob {
        gate: GateName,
        glob: String,
        why: String,
    },
    #[error("the `needs` of the gates form a cycle: {path}")]
    Cycle { path: String },
}

impl Plan {
    /// Refuses every deploy gate this plan would run, e.g. outside a change window. Returns how
    /// many were refused.
    pub fn refuse_deploys(&mut self, why: &str) -> usize {
        let mut refused = 0;
        for gate in &mut self.gates {
            if gate.kind == GateKind::Deploy && matches!(gate.action, GateAction::Run { .. }) {
                gate.action = GateAction::Skip(SkipReason::Refused {
                    why: why.to_owned(),
                });
                gate.explanation = Explanation {
                    decision: Decision::Refused,
                    why: why.to_owned(),
                };
                refused += 1;
            }
        }
        refused
    }

    /// Blocks the whole run for `why` (kept with the plan) and refuses its deploy gates: nothing
    /// ships from a run that is refused.
    pub fn refuse(&mut self, why: String) {
        self.refuse_deploys("nothing ships from a run that is refused");
        self.refusals.push(why);
    }

    /// Whether any deploy gate would run.
    pub fn runs_deploys(&self) -> bool {
        self.gates.iter().any(|gate| {
            gate.kind == GateKind::Deploy && matches!(gate.action, GateAction::Run { .. })
        })
    }

    pub fn gate(&self, name: &GateName) -> Option<&PlannedGate> {
        self.gates.iter().find(|gate| &gate.name == name)
    }

    /// Whether any variant in this plan needs the list of changed files.
    pub fn needs_changed_files(config: &Config, lane: &LaneName) -> bool {
        config.gates.values().any(|gate| {
            matches!(
                gate.lanes.get(lane),
                Some(LaneVariant::Variant {
                    scope: Scope::Changed,
                    ..
                })
            )
        })
    }
}

fn input_matcher(gate: &GateName, globs: &[String]) -> Result<GlobSet, PlanError> {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let parsed = Glob::new(glob).map_err(|error| PlanError::BadInputGlob {
            gate: gate.clone(),
            glob: glob.clone(),
            why: error.kind().to_string(),
        })?;
        builder.add(parsed);
    }
    builder.build().map_err(|error| PlanError::BadInputGlob {
        gate: gate.clone(),
        glob: globs.join(", "),
        why: error.to_string(),
    })
}

/// Builds the plan of `lane`. `changed_files` (repository-relative paths) is consulted only for
/// `scope = "changed"` variants; `None` there means "unknown", and the gate runs (fail closed).
pub fn plan(
    config: &Config,
    lane: &LaneName,
    changed_files: Option<&[String]>,
) -> Result<Plan, PlanError> {
    plan_with(
        config,
        lane,
        changed_files.map_or(Changes::Unknown, Changes::Known),
    )
}

/// Up to this many of a gate's inputs are named when none matched.
const INPUTS_NAMED: usize = 3;

/// Why a `scope = "changed"` gate runs, or `None` when no changed file matches its inputs.
fn changed_scope_why(
    gate: &crate::config::model::Gate,
    changes: Changes<'_>,
) -> Result<Option<String>, PlanError> {
    if gate.tier == Tier::Critical {
        return Ok(Some("a critical gate runs whatever changed".to_owned()));
    }
    let files = match changes {
        Changes::Full => return Ok(Some("a full run ignores what changed".to_owned())),
        Changes::Unknown => {
            return Ok(Some(
                "the changed files are unknown (no base to compare with), so it runs".to_owned(),
            ));
        }
        Changes::Known(files) => files,
    };
    let matcher = input_matcher(&gate.name, &gate.inputs)?;
    // The first match says enough: counting them all would scan every changed file for every
    // gate, which a large change to a large config makes slow.
    let Some(first) = files.iter().find(|file| matcher.is_match(file.as_str())) else {
        return Ok(None);
    };
    let glob = matcher
        .matches(first.as_str())
        .first()
        .copied()
        .unwrap_or(0);
    Ok(Some(format!(
        "a changed file matches its inputs: `{first}` matches `{}`",
        gate.inputs.get(glob).map_or("", String::as_str)
    )))
}

fn no_changed_input_why(gate: &crate::config::model::Gate) -> String {
    let mut named: Vec<String> = gate
        .inputs
        .iter()
        .take(INPUTS_NAMED)
        .map(|glob| format!("`{glob}`"))
        .collect();
    if gate.inputs.len() > INPUTS_NAMED {
        named.push(format!("{} more", gate.inputs.len() - INPUTS_NAMED));
    }
    format!("no changed file matches its inputs ({})", named.join(", "))
}

/// What `lane` does with `gate`, and why.
fn decide(
    config: &Config,
    gate: &crate::config::model::Gate,
    lane: &LaneName,
    emergency: bool,
    changes: Changes<'_>,
) -> Result<(GateAction, Explanation), PlanError> {
    let explained = |decision, why: String| Explanation { decision, why };
    Ok(match gate.lanes.get(lane) {
        // A critical gate is never skipped: the loader refuses such configs, and this
        // match refuses them again so no future code path can slip one through.
        Some(LaneVariant::Skip) if gate.tier != Tier::Critical => (
            GateAction::Skip(SkipReason::SkippedByLane { lane: lane.clone() }),
            if emergency {
                explained(
                    Decision::Owed,
                    format!(
                        "lane {lane} skips it: owed, to be backfilled in full within {}",
                        config.emergency.backfill_within
                    ),
                )
            } else {
                explained(Decision::Skipped, format!("lane {lane} skips it"))
            },
        ),
        Some(LaneVariant::Skip) => (
            GateAction::Run {
                command: gate.run.clone(),
            },
            explained(
                Decision::Selected,
                format!("a critical gate is never skipped, whatever lane {lane} says"),
            ),
        ),
        Some(LaneVariant::Variant { run, scope }) => {
            let command = run.clone().unwrap_or_else(|| gate.run.clone());
            let shortened = command != gate.run;
            let scope_why = match scope {
                Scope::Changed => match changed_scope_why(gate, changes)? {
                    Some(why) => Some(why),
                    None => {
                        return Ok((
                            GateAction::Skip(SkipReason::NoChangedInputs { lane: lane.clone() }),
                            explained(Decision::Skipped, no_changed_input_why(gate)),
                        ));
                    }
                },
                Scope::All => None,
            };
            let mut why = if shortened {
                format!("lane {lane} runs `{command}` instead of `{}`", gate.run)
            } else {
                format!("lane {lane} runs it as written")
            };
            if let Some(scope_why) = scope_why {
                why.push_str("; ");
                why.push_str(&scope_why);
            }
            (
                GateAction::Run { command },
                explained(
                    if shortened {
                        Decision::Shortened
                    } else {
                        Decision::Selected
                    },
                    why,
                ),
            )
        }
        None => (
            GateAction::Run {
                command: gate.run.clone(),
            },
            explained(
                Decision::Selected,
                if lane.is_normal() {
                    "the normal lane runs every gate as written".to_owned()
                } else {
                    format!("lane {lane} runs it as written")
                },
            ),
        ),
    })
}

/// Builds the plan of `lane` for `changes`, each gate with why it runs or not.
pub fn plan_with(
    config: &Config,
    lane: &LaneName,
    changes: Changes<'_>,
) -> Result<Plan, PlanError> {
    let emergency = if lane.is_normal() {
        false
    } else {
        let Some(definition) = config.lane(lane) else {
            return Err(PlanError::UnknownLane {
                lane: lane.clone(),
                known: config
                    .lane_names()
                    .map(|name| name.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        definition.emergency
    };
    let order = topological_order(config)?;
    let mut gates = Vec::with_capacity(order.len());
    for name in order {
        let Some(gate) = config.gates.get(&name) else {
            continue;
        };
        let (action, explanation) = decide(config, gate, lane, emergency, changes)?;
        gates.push(PlannedGate {
            name: gate.name.clone(),
            tier: gate.tier,
            kind: gate.kind,
            needs: gate.needs.clone(),
            timeout: gate.timeout,
            env: gate
                .env
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            action,
            explanation,
        });
    }
    Ok(Plan {
        lane: lane.clone(),
        emergency,
        gates,
        refusals: Vec::new(),
        missing_emergency: None,
        backfill_within: emergency.then_some(config.emergency.backfill_within),
    })
}

/// Orders gates so every gate comes after what it needs, keeping the written order otherwise.
pub fn topological_order(config: &Config) -> Result<Vec<GateName>, PlanError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    let names: Vec<&GateName> = config.gates.keys().collect();
    let mut marks = vec![Mark::New; names.len()];
    let mut order = Vec::with_capacity(names.len());
    // Iterative depth-first search so a 1 000-gate chain cannot overflow the stack.
    for start in 0..names.len() {
        if marks[start] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Visiting;
        while let Some(&mut (index, ref mut next)) = stack.last_mut() {
            let needs = config
                .gates
                .get_index(index)
                .map(|(_, gate)| gate.needs.as_slice())
                .unwrap_or_default();
            if let Some(need) = needs.get(*next) {
                *next += 1;
                let Some(need_index) = config.gates.get_index_of(need) else {
                    continue;
                };
                match marks[need_index] {
                    Mark::Done => {}
                    Mark::New => {
                        marks[need_index] = Mark::Visiting;
                        stack.push((need_index, 0));
                    }
                    Mark::Visiting => {
                        let from = stack
                            .iter()
                            .position(|(entry, _)| *entry == need_index)
                            .unwrap_or(0);
                        let mut path: Vec<String> = stack[from..]
                            .iter()
                            .map(|(entry, _)| names[*entry].to_string())
                            .collect();
                        path.push(names[need_index].to_string());
                        return Err(PlanError::Cycle {
                            path: path.join(" -> "),
                        });
                    }
                }
            } else {
                marks[index] = Mark::Done;
                order.push(names[index].clone());
                stack.pop();
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_survives_a_json_round_trip() {
        let lane = LaneName::parse("hotfix").unwrap();
        let plan = Plan {
            lane: lane.clone(),
            emergency: true,
            gates: vec![
                PlannedGate {
                    name: GateName::parse("lint").unwrap(),
                    tier: Tier::Required,
                    kind: GateKind::Check,
                    needs: vec![],
                    timeout: Some(Duration::from_seconds(60)),
                    env: vec![("A".into(), "b".into())],
                    action: GateAction::Skip(SkipReason::SkippedByLane { lane }),
                    explanation: Explanation {
                        decision: Decision::Owed,
                        why: "lane hotfix skips it".into(),
                    },
                },
                PlannedGate {
                    name: GateName::parse("build").unwrap(),
                    tier: Tier::Critical,
                    kind: GateKind::Build,
                    needs: vec![GateName::parse("lint").unwrap()],
                    timeout: None,
                    env: vec![],
                    action: GateAction::Run {
                        command: "make".into(),
                    },
                    explanation: Explanation::default(),
                },
            ],
            refusals: vec!["a refusal".into()],
            missing_emergency: None,
            backfill_within: None,
        };
        let json = serde_json::to_value(&plan).unwrap();
        let back: Plan = serde_json::from_value(json).unwrap();
        assert_eq!(back.gates[0].action, plan.gates[0].action);
        assert_eq!(back.gates[1].action, plan.gates[1].action);
        assert_eq!(back.gates[1].needs, plan.gates[1].needs);
        assert_eq!(back.refusals, plan.refusals);
        assert_eq!(back.gates[0].explanation, plan.gates[0].explanation);
    }

    #[test]
    fn a_plan_stored_before_refusals_existed_still_reads() {
        let json = serde_json::json!({"lane": "normal", "emergency": false, "gates": [{
            "name": "build", "tier": "critical", "kind": "build", "needs": [], "timeout": null,
            "env": [], "action": {"action": "run", "command": "make"}
        }]});
        let plan: Plan = serde_json::from_value(json).unwrap();
        assert!(plan.refusals.is_empty());
        assert!(plan.missing_emergency.is_none());
        assert_eq!(plan.gates[0].explanation, Explanation::default());
    }
}

#[cfg(test)]
#[path = "plan_explain_tests.rs"]
mod explain_tests;
