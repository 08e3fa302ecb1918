//! `[deploy]` and `[canary]`: the commands that move traffic, and the profiles and checks that
//! decide whether a canary step may go on.

use indexmap::IndexMap;

use super::reader::{Reader, Value, choices, did_you_mean};
use crate::config::model::{Canary, CanaryCheck, CanaryProfile, CanaryStep, Deploy, MetricSource};
use crate::duration::Duration;

const DEPLOY_KEYS: [&str; 4] = ["set_weight", "promote", "rollback", "rollback_check"];
const CANARY_KEYS: [&str; 6] = [
    "prometheus",
    "profile",
    "interval",
    "failure_limit",
    "profiles",
    "checks",
];
const PROFILE_KEYS: [&str; 2] = ["steps", "requires"];
const STEP_KEYS: [&str; 2] = ["weight", "bake"];
const CHECK_KEYS: [&str; 8] = [
    "name",
    "query",
    "scrape",
    "numerator",
    "denominator",
    "command",
    "min",
    "max",
];

pub(super) fn read_deploy(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Deploy> {
    let fields = reader.table(value, "deploy", &DEPLOY_KEYS)?;
    let mut command = |key: &str, what: &str| {
        fields
            .require(reader, key, what)
            .and_then(|value| reader.text(value, &fields.path(key)))
    };
    let set_weight = command(
        "set_weight",
        "the command that sets the canary weight from $FIXLANE_WEIGHT",
    );
    let promote = command(
        "promote",
        "the command that sends all traffic to the new version",
    );
    let rollback = command(
        "rollback",
        "the command that returns all traffic to the old version",
    );
    let rollback_check = command(
        "rollback_check",
        "the command that proves a rollback would work",
    );
    Some(Deploy {
        set_weight: set_weight?,
        promote: promote?,
        rollback: rollback?,
        rollback_check: rollback_check?,
    })
}

pub(super) fn read_canary(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Canary> {
    let fields = reader.table(value, "canary", &CANARY_KEYS)?;
    let prometheus = match fields.get("prometheus") {
        Some(value) => match reader.text(value, "canary.prometheus") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(Some(url))
            }
            Some(url) => {
                reader.error(
                    value.span(),
                    "an http:// or https:// URL for `canary.prometheus`",
                    format!("`{url}`"),
                    None,
                );
                None
            }
            None => None,
        },
        None => Some(None),
    };
    let interval = match fields.get("interval") {
        Some(value) => reader.duration(value, "canary.interval"),
        None => Some(Duration::from_seconds(10)),
    };
    let failure_limit = match fields.get("failure_limit") {
        Some(value) => {
            reader.integer_in::<u32>(value, "canary.failure_limit", 1, i64::from(u32::MAX))
        }
        None => Some(3),
    };
    let profiles = match fields.get("profiles") {
        Some(value) => read_profiles(reader, value),
        None => Some(IndexMap::new()),
    };
    let profile = match fields.get("profile") {
        Some(value) => reader.text(value, "canary.profile"),
        None => Some("standard".to_owned()),
    };
    if let (Some(profile), Some(profiles)) = (&profile, &profiles)
        && !profiles.contains_key(profile)
    {
        let names: Vec<&str> = profiles.keys().map(String::as_str).collect();
        let help = did_you_mean(profile, names.iter().copied()).unwrap_or_else(|| {
            format!(
                "add `[canary.profiles.{profile}]`; the profiles are {}",
                choices(&names)
            )
        });
        let span = fields
            .get("profile")
            .map_or_else(|| fields.span(), Value::span);
        reader.error(
            span,
            "a profile defined under `[canary.profiles]` for `canary.profile`",
            format!("`{profile}`, which is not defined"),
            Some(help),
        );
        return None;
    }
    let checks = match fields.get("checks") {
        Some(value) => read_checks(
            reader,
            value,
            prometheus.as_ref().is_some_and(Option::is_some),
        ),
        None => Some(Vec::new()),
    };
    Some(Canary {
        prometheus: prometheus?,
        profile: profile?,
        interval: interval?,
        failure_limit: failure_limit?,
        profiles: profiles?,
        checks: checks?,
    })
}

fn read_profiles(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
) -> Option<IndexMap<String, CanaryProfile>> {
    let entries = reader.entries(value, "canary.profiles")?;
    let mut profiles = IndexMap::new();
    let mut complete = true;
    for entry in entries {
        let path = format!("canary.profiles.{}", entry.key);
        let Some(fields) = reader.table(entry.value, &path, &PROFILE_KEYS) else {
            complete = false;
            continue;
        };
        let steps = fields
            .require(reader, "steps", "the weight steps, like [{ weight = 10, bake = \"5m\" }, { weight = 100, bake = \"30m\" }]")
            .and_then(|value| read_steps(reader, value, &fields.path("steps")));
        let requires = match fields.get("requires") {
            Some(value) => {
                super::emergency::read_groups(reader, value, &fields.path("requires"), false)
            }
            None => Some(Vec::new()),
        };
        match (steps, requires) {
            (Some(steps), Some(requires)) => {
                profiles.insert(entry.key.to_owned(), CanaryProfile { steps, requires });
            }
            _ => complete = false,
        }
    }
    complete.then_some(profiles)
}

fn read_steps(reader: &mut Reader<'_>, value: &Value<'_>, path: &str) -> Option<Vec<CanaryStep>> {
    let items = reader.array(value, path)?;
    let mut steps: Vec<CanaryStep> = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items {
        let Some(fields) = reader.table(item, path, &STEP_KEYS) else {
            complete = false;
            continue;
        };
        let weight_value = fields.require(reader, "weight", "the traffic percent, 1 to 100");
        let weight = weight_value
            .and_then(|value| reader.integer_in::<u8>(value, &format!("{path}.weight"), 1, 100));
        let bake = fields
            .require(
                reader,
                "bake",
                "how long to watch the checks at this weight, like \"5m\"",
            )
            .and_then(|value| reader.duration(value, &format!("{path}.bake")));
        if let (Some(weight), Some(previous), Some(value)) = (weight, steps.last(), weight_value)
            && weight <= previous.weight
        {
            complete = false;
            reader.error(
                value.span(),
                format!(
                    "a weight above the previous step's {} in `{path}`",
                    previous.weight
                ),
                weight.to_string(),
                Some("weights only go up, ending at 100".to_owned()),
            );
        }
        match (weight, bake) {
            (Some(weight), Some(bake)) => steps.push(CanaryStep { weight, bake }),
            _ => complete = false,
        }
    }
    if complete {
        match (steps.last(), items.last()) {
            (Some(last), _) if last.weight == 100 => {}
            (Some(last), Some(item)) => {
                reader.error(
                    item.span(),
                    format!("a last step of `{path}` with weight 100"),
                    format!("weight {}", last.weight),
                    Some("end with `{ weight = 100, bake = \"…\" }` so the canary reaches all traffic".to_owned()),
                );
                return None;
            }
            _ => {
                reader.error(
                    value.span(),
                    format!("at least one step in `{path}`"),
                    "an empty list",
                    Some("add `{ weight = 100, bake = \"30m\" }`".to_owned()),
                );
                return None;
            }
        }
    }
    complete.then_some(steps)
}

fn read_checks(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    has_prometheus: bool,
) -> Option<Vec<CanaryCheck>> {
    let items = reader.array(value, "canary.checks")?;
    let mut checks: Vec<CanaryCheck> = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items {
        match read_check(reader, item, has_prometheus, &checks) {
            Some(check) => checks.push(check),
            None => complete = false,
        }
    }
    complete.then_some(checks)
}

fn read_check(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    has_prometheus: bool,
    earlier: &[CanaryCheck],
) -> Option<CanaryCheck> {
    let path = "canary.checks";
    let fields = reader.table(value, path, &CHECK_KEYS)?;
    let name_value = fields.require(
        reader,
        "name",
        "the check's name, used by `fixlane verify --check`",
    );
    let name = name_value.and_then(|value| reader.text(value, "canary.checks.name"));
    if let (Some(name), Some(value)) = (&name, name_value)
        && earlier.iter().any(|check| &check.name == name)
    {
        reader.error(
            value.span(),
            "a check name used once in `[[canary.checks]]`",
            format!("a second check named `{name}`"),
            Some("give each check its own name".to_owned()),
        );
        return None;
    }
    let mut bound = |key: &str| match fields.get(key) {
        Some(value) => reader.number(value, &format!("{path}.{key}")).map(Some),
        None => Some(None),
    };
    let min = bound("min");
    let max = bound("max");
    let mut complete = true;
    match (min, max) {
        (Some(None), Some(None)) => {
            complete = false;
            reader.error(
                fields.span(),
                "`min`, `max` or both in a `[[canary.checks]]` entry",
                "a check without bounds",
                Some(
                    "add `max = …` (e.g. an error rate) or `min = …` (e.g. a success rate)"
                        .to_owned(),
                ),
            );
        }
        (Some(Some(low)), Some(Some(high))) if low > high => {
            complete = false;
            let span = fields.get("min").map_or_else(|| fields.span(), Value::span);
            reader.error(
                span,
                format!("a `min` no greater than `max` ({high})"),
                format!("min = {low}"),
                None,
            );
        }
        _ => {}
    }
    let source = read_source(reader, &fields, has_prometheus);
    if !complete {
        return None;
    }
    Some(CanaryCheck {
        name: name?,
        source: source?,
        min: min?,
        max: max?,
    })
}

fn read_source(
    reader: &mut Reader<'_>,
    fields: &super::reader::Fields<'_, '_>,
    has_prometheus: bool,
) -> Option<MetricSource> {
    let path = "canary.checks";
    let given: Vec<&str> = ["query", "scrape", "command"]
        .into_iter()
        .filter(|key| fields.get(key).is_some())
        .collect();
    if given.len() != 1 {
        let span = given
            .get(1)
            .and_then(|key| fields.get(key))
            .map_or_else(|| fields.span(), Value::span);
        reader.error(
            span,
            "exactly one of `query`, `scrape` or `command` in a `[[canary.checks]]` entry",
            if given.is_empty() {
                "none of them".to_owned()
            } else {
                choices(&given).replace(" or ", " and ")
            },
            Some("a check reads its number from one source".to_owned()),
        );
        return None;
    }
    let ratio_keys: Vec<&str> = ["numerator", "denominator"]
        .into_iter()
        .filter(|key| fields.get(key).is_some())
        .collect();
    match given.first().copied() {
        Some("query") => {
            let value = fields.get("query")?;
            let query = reader.text(value, &format!("{path}.query"));
            let mut valid = query.is_some();
            if !has_prometheus {
                valid = false;
                reader.error(
                    value.span(),
                    "`canary.prometheus` set, since this check has a `query`",
                    "no `prometheus` in `[canary]`",
                    Some("add `prometheus = \"http://…:9090\"` to `[canary]`, or use `scrape` or `command`".to_owned()),
                );
            }
            valid = valid && report_stray_ratio(reader, fields, &ratio_keys, "query");
            valid.then_some(MetricSource::Query { query: query? })
        }
        Some("scrape") => {
            let url = fields
                .get("scrape")
                .and_then(|value| reader.text(value, &format!("{path}.scrape")));
            let mut selector = |key: &str| {
                fields
                    .require(reader, key, "a metric selector for the counter ratio")
                    .and_then(|value| reader.text(value, &format!("{path}.{key}")))
            };
            let numerator = selector("numerator");
            let denominator = selector("denominator");
            if let (Some(url), Some(value)) = (&url, fields.get("scrape"))
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                reader.error(
                    value.span(),
                    "an http:// or https:// URL for `canary.checks.scrape`",
                    format!("`{url}`"),
                    None,
                );
                return None;
            }
            Some(MetricSource::Scrape {
                url: url?,
                numerator: numerator?,
                denominator: denominator?,
            })
        }
        _ => {
            let run = fields
                .get("command")
                .and_then(|value| reader.text(value, &format!("{path}.command")));
            let valid = report_stray_ratio(reader, fields, &ratio_keys, "command");
            if valid {
                run.map(|run| MetricSource::Command { run })
            } else {
                None
            }
        }
    }
}

/// `numerator` and `denominator` only mean something with `scrape`.
fn report_stray_ratio(
    reader: &mut Reader<'_>,
    fields: &super::reader::Fields<'_, '_>,
    ratio_keys: &[&str],
    source: &str,
) -> bool {
    for key in ratio_keys {
        if let Some(span) = fields.key_span(key) {
            reader.error(
                span,
                format!("no `{key}` in a check with `{source}`"),
                format!("`{key}`"),
                Some("`numerator` and `denominator` belong to a `scrape` check".to_owned()),
            );
        }
    }
    ratio_keys.is_empty()
}
