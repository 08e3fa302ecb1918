//! `[gates.*]` and `[lanes.*]`: the gate DAG, each lane's variants, and the tier rules that keep
//! a critical gate running in every lane.

use std::collections::VecDeque;

use globset::Glob;
use indexmap::IndexMap;
use toml::Spanned;
use toml::de::DeValue;

use super::reader::{Reader, Span, Value, choices, did_you_mean};
use crate::config::model::{Gate, GateKind, Lane, LaneVariant, Scope, SourceLine, Tier};
use crate::lane::branch_matcher;
use crate::names::{GateName, LaneName};

const GATE_KEYS: [&str; 8] = [
    "run", "tier", "needs", "timeout", "inputs", "env", "kind", "lanes",
];
const LANE_KEYS: [&str; 4] = ["branches", "labels", "emergency", "max_diff_lines"];
const TIERS: [&str; 3] = ["critical", "required", "optional"];
const KINDS: [&str; 3] = ["check", "build", "deploy"];
const SCOPES: [&str; 2] = ["all", "changed"];

pub(super) fn read_lanes(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
) -> Option<IndexMap<LaneName, Lane>> {
    let entries = reader.entries(value, "lanes")?;
    let mut lanes = IndexMap::new();
    let mut complete = true;
    for entry in entries {
        let path = format!("lanes.{}", entry.key);
        let name = match LaneName::parse(entry.key) {
            Ok(name) if name.is_normal() => {
                reader.error(
                    entry.key_span.clone(),
                    "a lane other than `normal` under `[lanes]`",
                    "`[lanes.normal]`",
                    Some(
                        "`normal` is implicit and runs every gate as written; remove this section"
                            .to_owned(),
                    ),
                );
                None
            }
            Ok(name) => Some(name),
            Err(error) => {
                reader.error(
                    entry.key_span.clone(),
                    "a lane name (letters, digits, `-`, `_`, `.`)",
                    format!("`{}`", entry.key),
                    Some(error.to_string()),
                );
                None
            }
        };
        let source = reader.position(entry.key_span.start);
        let lane = read_lane(reader, entry.value, &path);
        match (name, lane) {
            (Some(name), Some((branches, labels, emergency, max_diff_lines))) => {
                lanes.insert(
                    name.clone(),
                    Lane {
                        name,
                        branches,
                        labels,
                        emergency,
                        max_diff_lines,
                        source,
                    },
                );
            }
            _ => complete = false,
        }
    }
    complete.then_some(lanes)
}

type LaneParts = (Vec<String>, Vec<String>, bool, Option<u32>);

fn read_lane(reader: &mut Reader<'_>, value: &Value<'_>, path: &str) -> Option<LaneParts> {
    let fields = reader.table(value, path, &LANE_KEYS)?;
    let branches = match fields.get("branches") {
        Some(value) => reader
            .strings(value, &fields.path("branches"))
            .and_then(|globs| {
                let mut valid = true;
                for glob in &globs {
                    if let Err(error) = branch_matcher(glob.get_ref()) {
                        valid = false;
                        reader.error(
                            glob.span(),
                            format!("a branch glob for `{}`", fields.path("branches")),
                            format!("`{}` ({})", glob.get_ref(), error.kind()),
                            Some("`*` matches within one path segment, `**` across `/`".to_owned()),
                        );
                    }
                }
                valid.then(|| globs.into_iter().map(Spanned::into_inner).collect())
            }),
        None => Some(Vec::new()),
    };
    let labels = match fields.get("labels") {
        Some(value) => reader
            .strings(value, &fields.path("labels"))
            .map(|labels| labels.into_iter().map(Spanned::into_inner).collect()),
        None => Some(Vec::new()),
    };
    let emergency = match fields.get("emergency") {
        Some(value) => reader.boolean(value, &fields.path("emergency")),
        None => Some(false),
    };
    let max_diff_lines = match fields.get("max_diff_lines") {
        Some(value) => reader
            .integer_in::<u32>(
                value,
                &fields.path("max_diff_lines"),
                1,
                i64::from(u32::MAX),
            )
            .map(Some),
        None => Some(None),
    };
    Some((branches?, labels?, emergency?, max_diff_lines?))
}

/// A `needs` entry, kept with where it was written for the checks that need all gates.
struct Need {
    name: String,
    span: Span,
}

pub(super) fn read_gates(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    lanes: &IndexMap<LaneName, Lane>,
) -> Option<IndexMap<GateName, Gate>> {
    let entries = reader.entries(value, "gates")?;
    let mut gates = IndexMap::new();
    let mut complete = true;
    // Every gate name written, valid or not, so a `needs` on a broken gate is not also reported
    // as unknown.
    let written: Vec<&str> = entries.iter().map(|entry| entry.key).collect();
    // Looked up once per `needs` entry: a list would make a config of a thousand gates cost a
    // million comparisons on the way to the first gate.
    let known: std::collections::HashSet<&str> = written.iter().copied().collect();
    // (gate name, key span, needs) for the graph checks.
    let mut graph: Vec<(String, Span, Vec<Need>)> = Vec::new();
    for entry in &entries {
        let path = format!("gates.{}", entry.key);
        let name = match GateName::parse(entry.key) {
            Ok(name) => Some(name),
            Err(error) => {
                reader.error(
                    entry.key_span.clone(),
                    "a gate name (letters, digits, `-`, `_`, `.`)",
                    format!("`{}`", entry.key),
                    Some(error.to_string()),
                );
                None
            }
        };
        let source = reader.position(entry.key_span.start);
        let (gate, needs) = read_gate(reader, entry.value, &path, name.as_ref(), lanes);
        graph.push((entry.key.to_owned(), entry.key_span.clone(), needs));
        match (name, gate) {
            (Some(_), Some(mut gate)) => {
                gate.source = source;
                gates.insert(gate.name.clone(), gate);
            }
            _ => complete = false,
        }
    }
    for (gate, _, needs) in &graph {
        for need in needs {
            if !known.contains(need.name.as_str()) {
                complete = false;
                let help = did_you_mean(&need.name, written.iter().copied())
                    .unwrap_or_else(|| format!("the gates are {}", choices(&written)));
                reader.error(
                    need.span.clone(),
                    format!("the name of a gate in `gates.{gate}.needs`"),
                    format!("`{}`, which is not a gate", need.name),
                    Some(help),
                );
            }
        }
    }
    if report_cycles(reader, &graph) {
        complete = false;
    }
    complete.then_some(gates)
}

/// Reads one gate; the `needs` come back even when the gate itself is broken.
fn read_gate(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    path: &str,
    name: Option<&GateName>,
    lanes: &IndexMap<LaneName, Lane>,
) -> (Option<Gate>, Vec<Need>) {
    let Some(fields) = reader.table(value, path, &GATE_KEYS) else {
        return (None, Vec::new());
    };
    let run = fields
        .require(reader, "run", "the command to run")
        .and_then(|value| reader.text(value, &fields.path("run")));
    let tier = fields
        .require(reader, "tier", "`critical`, `required` or `optional`")
        .and_then(|value| reader.one_of(value, &fields.path("tier"), &TIERS))
        .map(|index| match index {
            0 => Tier::Critical,
            1 => Tier::Required,
            _ => Tier::Optional,
        });
    let mut needs = Vec::new();
    let mut needs_valid = true;
    if let Some(value) = fields.get("needs")
        && let Some(items) = reader.strings(value, &fields.path("needs"))
    {
        for item in items {
            if GateName::parse(item.get_ref()).is_ok() {
                needs.push(Need {
                    name: item.get_ref().clone(),
                    span: item.span(),
                });
            } else {
                needs_valid = false;
                reader.error(
                    item.span(),
                    format!("a gate name in `{}`", fields.path("needs")),
                    format!("`{}`", item.get_ref()),
                    None,
                );
            }
        }
    } else if fields.get("needs").is_some() {
        needs_valid = false;
    }
    let timeout = match fields.get("timeout") {
        Some(value) => reader.duration(value, &fields.path("timeout")).map(Some),
        None => Some(None),
    };
    let inputs = match fields.get("inputs") {
        Some(value) => read_inputs(reader, value, &fields.path("inputs")),
        None => Some(Vec::new()),
    };
    let env = match fields.get("env") {
        Some(value) => read_env(reader, value, &fields.path("env")),
        None => Some(IndexMap::new()),
    };
    let kind =
        match fields.get("kind") {
            Some(value) => reader
                .one_of(value, &fields.path("kind"), &KINDS)
                .map(|index| match index {
                    0 => GateKind::Check,
                    1 => GateKind::Build,
                    _ => GateKind::Deploy,
                }),
            None => Some(GateKind::default()),
        };
    let has_inputs = fields
        .get("inputs")
        .is_some_and(|value| matches!(value.get_ref(), DeValue::Array(items) if !items.is_empty()));
    let variants = match fields.get("lanes") {
        Some(value) => read_variants(
            reader,
            value,
            &fields.path("lanes"),
            tier,
            has_inputs,
            lanes,
        ),
        None => Some(IndexMap::new()),
    };
    let parsed_needs = needs_valid.then(|| {
        needs
            .iter()
            .filter_map(|need| GateName::parse(&need.name).ok())
            .collect::<Vec<_>>()
    });
    let gate = match (
        name,
        run,
        tier,
        parsed_needs,
        timeout,
        inputs,
        env,
        kind,
        variants,
    ) {
        (
            Some(name),
            Some(run),
            Some(tier),
            Some(parsed_needs),
            Some(timeout),
            Some(inputs),
            Some(env),
            Some(kind),
            Some(lanes),
        ) => Some(Gate {
            name: name.clone(),
            run,
            tier,
            needs: parsed_needs,
            timeout,
            inputs,
            env,
            kind,
            lanes,
            source: SourceLine::default(),
        }),
        _ => None,
    };
    (gate, needs)
}

pub(super) fn read_inputs(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    path: &str,
) -> Option<Vec<String>> {
    let globs = reader.strings(value, path)?;
    let mut valid = true;
    for glob in &globs {
        if glob.get_ref().starts_with('/') {
            valid = false;
            reader.error(
                glob.span(),
                format!("a repository-relative file glob for `{path}`"),
                format!("`{}`, an absolute path", glob.get_ref()),
                Some("globs are relative to the repository root, like `crates/**`".to_owned()),
            );
        } else if let Err(error) = Glob::new(glob.get_ref()) {
            valid = false;
            reader.error(
                glob.span(),
                format!("a file glob for `{path}`"),
                format!("`{}` ({})", glob.get_ref(), error.kind()),
                Some("globs are relative to the repository root, like `crates/**`".to_owned()),
            );
        }
    }
    valid.then(|| globs.into_iter().map(Spanned::into_inner).collect())
}

fn is_variable_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
}

fn read_env(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    path: &str,
) -> Option<IndexMap<String, String>> {
    let entries = reader.entries(value, path)?;
    let mut env = IndexMap::new();
    let mut complete = true;
    for entry in entries {
        if !is_variable_name(entry.key) {
            complete = false;
            reader.error(
                entry.key_span.clone(),
                format!("an environment variable name in `{path}`"),
                format!("`{}`", entry.key),
                Some("use letters, digits and `_`, not starting with a digit".to_owned()),
            );
        }
        match reader.string(entry.value, &format!("{path}.{}", entry.key)) {
            Some(text) => {
                env.insert(entry.key.to_owned(), text);
            }
            None => complete = false,
        }
    }
    complete.then_some(env)
}

fn read_variants(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    path: &str,
    tier: Option<Tier>,
    has_inputs: bool,
    lanes: &IndexMap<LaneName, Lane>,
) -> Option<IndexMap<LaneName, LaneVariant>> {
    let entries = reader.entries(value, path)?;
    let mut variants = IndexMap::new();
    let mut complete = true;
    let lane_names: Vec<&str> = std::iter::once("normal")
        .chain(lanes.keys().map(LaneName::as_str))
        .collect();
    for entry in entries {
        let lane_path = format!("{path}.{}", entry.key);
        let lane = LaneName::parse(entry.key)
            .ok()
            .filter(|lane| lane.is_normal() || lanes.contains_key(lane));
        if lane.is_none() {
            let help = did_you_mean(entry.key, lane_names.iter().copied()).unwrap_or_else(|| {
                format!(
                    "declare it under `[lanes.{}]`; the lanes are {}",
                    entry.key,
                    choices(&lane_names)
                )
            });
            reader.error(
                entry.key_span.clone(),
                format!("a lane name in `{path}`"),
                format!("`{}`, which is not a lane", entry.key),
                Some(help),
            );
        }
        let emergency = lane
            .as_ref()
            .and_then(|lane| lanes.get(lane))
            .is_some_and(|lane| lane.emergency);
        let variant = read_variant(reader, entry.value, &lane_path);
        if let (Some(lane), Some(variant)) = (&lane, &variant) {
            check_variant_rules(
                reader,
                entry.value,
                &lane_path,
                lane,
                variant,
                tier,
                has_inputs,
                emergency,
            );
        }
        match (lane, variant) {
            (Some(lane), Some(variant)) => {
                variants.insert(lane, variant);
            }
            _ => complete = false,
        }
    }
    complete.then_some(variants)
}

fn read_variant(reader: &mut Reader<'_>, value: &Value<'_>, path: &str) -> Option<LaneVariant> {
    match value.get_ref() {
        DeValue::String(text) if text.as_ref() == "skip" => Some(LaneVariant::Skip),
        DeValue::Table(_) => {
            let fields = reader.table(value, path, &["run", "scope"])?;
            let run = match fields.get("run") {
                Some(value) => reader.text(value, &fields.path("run")).map(Some),
                None => Some(None),
            };
            let scope = match fields.get("scope") {
                Some(value) => reader
                    .one_of(value, &fields.path("scope"), &SCOPES)
                    .map(|index| {
                        if index == 0 {
                            Scope::All
                        } else {
                            Scope::Changed
                        }
                    }),
                None => Some(Scope::All),
            };
            Some(LaneVariant::Variant {
                run: run?,
                scope: scope?,
            })
        }
        _ => {
            let found = reader.describe(value);
            reader.error(
                value.span(),
                format!("`\"skip\"` or a table like `{{ run = \"…\", scope = \"changed\" }}` for `{path}`"),
                found,
                None,
            );
            None
        }
    }
}

/// The tier rules: a critical gate always runs in full, a required gate is skipped only by an
/// emergency lane, and `scope = "changed"` needs inputs to compare against.
#[expect(
    clippy::too_many_arguments,
    reason = "each argument is one part of the gate's table the rules compare; a struct would only name them twice"
)]
fn check_variant_rules(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    path: &str,
    lane: &LaneName,
    variant: &LaneVariant,
    tier: Option<Tier>,
    has_inputs: bool,
    emergency: bool,
) {
    match variant {
        LaneVariant::Skip => match tier {
            Some(Tier::Critical) => reader.error(
                value.span(),
                format!("a lane variant for the critical gate at `{path}`"),
                "`\"skip\"`",
                Some(
                    "a critical gate is never skipped; give the lane a shorter `run` instead"
                        .to_owned(),
                ),
            ),
            Some(Tier::Required) if !emergency => reader.error(
                value.span(),
                format!("a required gate to run in lane `{lane}` at `{path}`"),
                format!("`\"skip\"` in lane `{lane}`, which is not an emergency lane"),
                Some(format!(
                    "only an approved emergency lane may skip a required gate; set `emergency = true` under `[lanes.{lane}]` or remove this skip"
                )),
            ),
            _ => {}
        },
        LaneVariant::Variant {
            scope: Scope::Changed,
            ..
        } => {
            let scope_span = scope_span(value);
            if tier == Some(Tier::Critical) {
                reader.error(
                    scope_span,
                    format!("`scope = \"all\"` for the critical gate at `{path}`"),
                    "`scope = \"changed\"`",
                    Some(
                        "a critical gate is never skipped, and `changed` would skip it when no input changed; remove `scope`"
                            .to_owned(),
                    ),
                );
            } else if !has_inputs {
                reader.error(
                    scope_span,
                    format!("`inputs` on the gate, since `{path}` has `scope = \"changed\"`"),
                    "a gate without `inputs`",
                    Some(
                        "add `inputs = [\"src/**\", …]` to the gate so fixlane knows which changes concern it"
                            .to_owned(),
                    ),
                );
            }
        }
        LaneVariant::Variant { .. } => {}
    }
}

/// The `scope` value inside a variant table, or the table itself.
fn scope_span(value: &Value<'_>) -> Span {
    if let DeValue::Table(table) = value.get_ref() {
        for (key, child) in table {
            if key.get_ref().as_ref() == "scope" {
                return child.span();
            }
        }
    }
    value.span()
}

/// Reports each group of gates whose `needs` loop back on themselves, once, at the first gate
/// written; returns whether any was found.
fn report_cycles(reader: &mut Reader<'_>, graph: &[(String, Span, Vec<Need>)]) -> bool {
    let indexes: std::collections::HashMap<&str, usize> = graph
        .iter()
        .enumerate()
        .map(|(index, (gate, _, _))| (gate.as_str(), index))
        .collect();
    let edges: Vec<Vec<usize>> = graph
        .iter()
        .map(|(_, _, needs)| {
            needs
                .iter()
                .filter_map(|need| indexes.get(need.name.as_str()).copied())
                .collect()
        })
        .collect();
    // Peeling off gates whose needs are all peeled (Kahn) is linear and settles the common
    // case, no cycle, without the per-gate searches below: a 1 000-gate config is parsed on
    // the way to the first gate.
    let mut remaining: Vec<usize> = edges.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); graph.len()];
    for (from, targets) in edges.iter().enumerate() {
        for &target in targets {
            dependents[target].push(from);
        }
    }
    let mut queue: VecDeque<usize> = (0..graph.len())
        .filter(|&index| remaining[index] == 0)
        .collect();
    let mut peeled = vec![false; graph.len()];
    while let Some(node) = queue.pop_front() {
        peeled[node] = true;
        for &dependent in &dependents[node] {
            remaining[dependent] = remaining[dependent].saturating_sub(1);
            if remaining[dependent] == 0 {
                queue.push_back(dependent);
            }
        }
    }
    if peeled.iter().all(|flag| *flag) {
        return false;
    }
    let mut reverse: Vec<Vec<usize>> = vec![Vec::new(); graph.len()];
    for (from, targets) in edges.iter().enumerate() {
        for &target in targets {
            if let Some(list) = reverse.get_mut(target) {
                list.push(from);
            }
        }
    }
    // Gates that were peeled are on no cycle; only the rest need the searches.
    let mut assigned = peeled;
    let mut found = false;
    for start in 0..graph.len() {
        if assigned[start] {
            continue;
        }
        let forward = reachable(&edges, start);
        let backward = reachable(&reverse, start);
        // The gates that both reach and are reached from `start`: its strongly connected group.
        for (index, flag) in assigned.iter_mut().enumerate() {
            if forward[index] && backward[index] {
                *flag = true;
            }
        }
        assigned[start] = true;
        let Some(path) = shortest_cycle(&edges, start) else {
            continue;
        };
        found = true;
        let names: Vec<&str> = path
            .iter()
            .filter_map(|&index| graph.get(index).map(|(name, _, _)| name.as_str()))
            .collect();
        let (name, span, _) = &graph[start];
        reader.error(
            span.clone(),
            format!("`needs` without cycles, from gate `{name}`"),
            format!("the cycle {}", names.join(" -> ")),
            Some("remove one of these `needs` so the gates can run in order".to_owned()),
        );
    }
    found
}

/// Which nodes can be reached from `start` by one or more steps.
fn reachable(edges: &[Vec<usize>], start: usize) -> Vec<bool> {
    let mut seen = vec![false; edges.len()];
    let mut queue: VecDeque<usize> = edges.get(start).into_iter().flatten().copied().collect();
    while let Some(node) = queue.pop_front() {
        if let Some(flag) = seen.get_mut(node)
            && !*flag
        {
            *flag = true;
            queue.extend(edges.get(node).into_iter().flatten().copied());
        }
    }
    seen
}

/// The shortest path `start -> … -> start`, if there is one.
fn shortest_cycle(edges: &[Vec<usize>], start: usize) -> Option<Vec<usize>> {
    let mut previous: Vec<Option<usize>> = vec![None; edges.len()];
    let mut seen = vec![false; edges.len()];
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in edges.get(node).into_iter().flatten() {
            if next == start {
                let mut between = Vec::new();
                let mut current = node;
                while current != start {
                    between.push(current);
                    current = previous.get(current).copied().flatten()?;
                }
                between.reverse();
                let mut path = vec![start];
                path.extend(between);
                path.push(start);
                return Some(path);
            }
            if !seen.get(next).copied().unwrap_or(true) {
                seen[next] = true;
                previous[next] = Some(node);
                queue.push_back(next);
            }
        }
    }
    None
}
