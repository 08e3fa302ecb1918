//! `[emergency]`: who may declare what, who approves it, what it may bypass, and the deadlines
//! of the discipline that follows. Absent, it means the defaults and no categories.

use indexmap::IndexMap;
use toml::Spanned;

use super::reader::{Reader, Value, choices};
use crate::config::model::{
    BypassElement, Canary, Category, EmergencyLines, EmergencyPolicy, Lane, RateLimit,
};
use crate::duration::Duration;
use crate::emergency::naming::{DEFAULT_ID_PATTERN, IdPattern, IdPatternError};

const KEYS: [&str; 12] = [
    "severities",
    "overdue_blocks",
    "id_pattern",
    "cleanup_within",
    "postmortem_within",
    "audit_review_within",
    "backfill_within",
    "rate_limit",
    "author_limit",
    "rate_review_roles",
    "canary_profile",
    "categories",
];
const CATEGORY_KEYS: [&str; 2] = ["approvers", "may_bypass"];
const BYPASS: [&str; 4] = ["eval", "canary", "window", "freeze"];
const DEFAULT_CANARY_PROFILE: &str = "compressed";

fn defaults() -> EmergencyPolicy {
    EmergencyPolicy {
        severities: vec!["P0".to_owned()],
        id_pattern: IdPattern::default(),
        cleanup_within: Duration::from_seconds(24 * 3_600),
        postmortem_within: Duration::from_seconds(48 * 3_600),
        audit_review_within: Duration::from_seconds(7 * 86_400),
        backfill_within: Duration::from_seconds(24 * 3_600),
        rate_limit: None,
        author_limit: None,
        rate_review_roles: vec!["platform-lead".to_owned(), "eng-manager".to_owned()],
        overdue_blocks: false,
        canary_profile: DEFAULT_CANARY_PROFILE.to_owned(),
        categories: IndexMap::new(),
        lines: EmergencyLines::default(),
    }
}

/// The `[canary]` section as read, for checking the emergency's profile against it.
pub(super) struct CanarySection<'t, 'i> {
    pub(super) canary: Option<&'t Canary>,
    pub(super) value: Option<&'t Value<'i>>,
}

/// `emergency_lane` is the first lane with `emergency = true`, if any: with it (or with an
/// emergency category) emergencies can deploy, so their canary profile must exist.
pub(super) fn read_emergency(
    reader: &mut Reader<'_>,
    value: Option<&Value<'_>>,
    canary: &CanarySection<'_, '_>,
    emergency_lane: Option<&Lane>,
) -> Option<EmergencyPolicy> {
    let Some(value) = value else {
        if let Some(lane) = emergency_lane {
            let needed_by = format!(
                "the emergency lane `{}` (line {})",
                lane.name, lane.source.line
            );
            check_profile(reader, DEFAULT_CANARY_PROFILE, None, canary, &needed_by);
        }
        return Some(defaults());
    };
    let fields = reader.table(value, "emergency", &KEYS)?;
    let mut policy = defaults();
    let mut complete = true;
    for (key, slot) in [
        ("severities", &mut policy.lines.severities),
        ("id_pattern", &mut policy.lines.id_pattern),
        ("rate_limit", &mut policy.lines.rate_limit),
    ] {
        *slot = fields
            .get(key)
            .map(|value| reader.position(value.span().start));
    }

    if let Some(value) = fields.get("severities") {
        match reader.strings(value, &fields.path("severities")) {
            Some(list) if list.is_empty() => {
                complete = false;
                reader.error(
                    value.span(),
                    "at least one severity for `emergency.severities`",
                    "an empty list",
                    Some(
                        "the emergency lane is for the worst incidents, e.g. `[\"P0\"]`".to_owned(),
                    ),
                );
            }
            Some(list) => policy.severities = list.into_iter().map(Spanned::into_inner).collect(),
            None => complete = false,
        }
    }
    if let Some(value) = fields.get("id_pattern") {
        match reader
            .text(value, &fields.path("id_pattern"))
            .map(|text| (IdPattern::parse(&text), text))
        {
            Some((Ok(pattern), _)) => policy.id_pattern = pattern,
            Some((Err(error), text)) => {
                complete = false;
                bad_id_pattern(reader, value, &text, &error);
            }
            None => complete = false,
        }
    }
    for (key, slot) in [
        ("cleanup_within", &mut policy.cleanup_within),
        ("postmortem_within", &mut policy.postmortem_within),
        ("audit_review_within", &mut policy.audit_review_within),
        ("backfill_within", &mut policy.backfill_within),
    ] {
        if let Some(value) = fields.get(key) {
            match reader.duration(value, &fields.path(key)) {
                Some(duration) => *slot = duration,
                None => complete = false,
            }
        }
    }
    for (key, slot) in [
        ("rate_limit", &mut policy.rate_limit),
        ("author_limit", &mut policy.author_limit),
    ] {
        if let Some(value) = fields.get(key) {
            match read_rate_limit(reader, value, &fields.path(key)) {
                Some(limit) => *slot = Some(limit),
                None => complete = false,
            }
        }
    }
    if let Some(value) = fields.get("overdue_blocks") {
        match reader.boolean(value, &fields.path("overdue_blocks")) {
            Some(blocks) => policy.overdue_blocks = blocks,
            None => complete = false,
        }
    }
    policy.lines.overdue_blocks = fields
        .get("overdue_blocks")
        .map(|value| reader.position(value.span().start));
    if let Some(value) = fields.get("rate_review_roles") {
        match reader.strings(value, &fields.path("rate_review_roles")) {
            Some(roles) => {
                policy.rate_review_roles = roles.into_iter().map(Spanned::into_inner).collect();
            }
            None => complete = false,
        }
    }
    if let Some(value) = fields.get("categories") {
        match read_categories(reader, value) {
            Some(categories) => policy.categories = categories,
            None => complete = false,
        }
    }
    if let Some(value) = fields.get("canary_profile") {
        match reader.text(value, &fields.path("canary_profile")) {
            Some(profile) => {
                // A profile named here must exist whether or not anything uses it yet: the
                // name was written on purpose, and a typo in it would otherwise wait for the
                // first emergency to surface.
                if !check_profile(reader, &profile, Some(value), canary, "") {
                    complete = false;
                }
                policy.canary_profile = profile;
            }
            None => complete = false,
        }
    } else if let Some(needed_by) = needed_by(emergency_lane, &policy)
        && !check_profile(reader, DEFAULT_CANARY_PROFILE, None, canary, &needed_by)
    {
        complete = false;
    }
    complete.then_some(policy)
}

/// What can run an emergency canary, for saying why its profile is needed; `None` when
/// nothing can, so the default profile need not exist.
fn needed_by(emergency_lane: Option<&Lane>, policy: &EmergencyPolicy) -> Option<String> {
    let lane = emergency_lane.map(|lane| {
        format!(
            "the emergency lane `{}` (line {})",
            lane.name, lane.source.line
        )
    });
    let category = policy.categories.values().next().map(|category| {
        format!(
            "the emergency category `{}` (line {})",
            category.name, category.source.line
        )
    });
    match (lane, category) {
        (Some(lane), Some(category)) => Some(format!("{lane} and {category}")),
        (lane, category) => lane.or(category),
    }
}

/// The emergency's canary profile must exist once a `[canary]` section defines profiles.
/// `needed_by` says what ships emergency fixes, for the error about the default profile (a
/// profile written in `emergency.canary_profile` needs no reason).
fn check_profile(
    reader: &mut Reader<'_>,
    profile: &str,
    written: Option<&Value<'_>>,
    canary: &CanarySection<'_, '_>,
    needed_by: &str,
) -> bool {
    let (Some(section), Some(canary_value)) = (canary.canary, canary.value) else {
        return true;
    };
    if section.profiles.contains_key(profile) {
        return true;
    }
    let names: Vec<&str> = section.profiles.keys().map(String::as_str).collect();
    let suggestion = super::reader::did_you_mean(profile, names.iter().copied());
    match written {
        Some(value) => reader.error(
            value.span(),
            "a profile defined under `[canary.profiles]` for `emergency.canary_profile`",
            format!("`{profile}`, which is not defined"),
            Some(suggestion.unwrap_or_else(|| {
                format!(
                    "add `[canary.profiles.{profile}]` or set `emergency.canary_profile` to one of {}",
                    choices(&names)
                )
            })),
        ),
        None => reader.error(
            canary_value.span(),
            format!(
                "`[canary.profiles.{profile}]`, the profile emergencies use by default (`emergency.canary_profile`)"
            ),
            format!("no profile `{profile}`"),
            Some(format!(
                "{needed_by} can ship an emergency fix, and emergency fixes deploy through this profile: add `[canary.profiles.{profile}]`, or set `emergency.canary_profile` to one of {}{}",
                choices(&names),
                suggestion.map(|text| format!(" ({text})")).unwrap_or_default(),
            )),
        ),
    }
    false
}

/// A pattern whose ids could never be incident ids: said at its line when the config is read,
/// not mid-incident when every declaration under it would be refused.
fn bad_id_pattern(reader: &mut Reader<'_>, value: &Value<'_>, text: &str, error: &IdPatternError) {
    let found = match error {
        IdPatternError::Empty => "an empty pattern".to_owned(),
        IdPatternError::BadCharacter { character, .. } => {
            format!("`{text}`, whose ids would have the character {character:?}")
        }
        IdPatternError::TooLong { length, max, .. } => {
            format!("`{text}`, whose ids would be {length} characters long (at most {max})")
        }
    };
    reader.error(
        value.span(),
        "an incident id pattern for `emergency.id_pattern` of letters, digits, `-`, `_` and `.`",
        found,
        Some(format!(
            "an incident id names its branch and its record, so it keeps to letters, digits, \
             `-`, `_` and `.`; in the pattern Y, M, D and N stand for digits and everything \
             else for itself, as in `{DEFAULT_ID_PATTERN}`"
        )),
    );
}

fn read_rate_limit(reader: &mut Reader<'_>, value: &Value<'_>, path: &str) -> Option<RateLimit> {
    let fields = reader.table(value, path, &["max", "within"])?;
    let max = fields
        .require(reader, "max", "how many emergencies")
        .and_then(|value| {
            reader.integer_in::<u32>(value, &fields.path("max"), 1, i64::from(u32::MAX))
        });
    let within = fields
        .require(reader, "within", "over how long, like `7d`")
        .and_then(|value| reader.duration(value, &fields.path("within")));
    Some(RateLimit {
        max: max?,
        within: within?,
    })
}

fn read_categories(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
) -> Option<IndexMap<String, Category>> {
    let entries = reader.entries(value, "emergency.categories")?;
    let mut categories = IndexMap::new();
    let mut complete = true;
    for entry in entries {
        let path = format!("emergency.categories.{}", entry.key);
        let source = reader.position(entry.key_span.start);
        let Some(fields) = reader.table(entry.value, &path, &CATEGORY_KEYS) else {
            complete = false;
            continue;
        };
        let approvers = fields
            .require(
                reader,
                "approvers",
                "groups of roles, like [[\"security-lead\"], [\"platform-lead\"]]",
            )
            .and_then(|value| read_groups(reader, value, &fields.path("approvers"), true));
        let may_bypass = match fields.get("may_bypass") {
            Some(value) => read_bypass(reader, value, &fields.path("may_bypass")),
            None => Some(Vec::new()),
        };
        match (approvers, may_bypass) {
            (Some(approvers), Some(may_bypass)) => {
                categories.insert(
                    entry.key.to_owned(),
                    Category {
                        name: entry.key.to_owned(),
                        approvers,
                        may_bypass,
                        source,
                    },
                );
            }
            _ => complete = false,
        }
    }
    complete.then_some(categories)
}

/// An array of non-empty arrays of role names: every group must approve.
pub(super) fn read_groups(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    path: &str,
    required: bool,
) -> Option<Vec<Vec<String>>> {
    let items = reader.array(value, path)?;
    if required && items.is_empty() {
        reader.error(
            value.span(),
            format!("at least one group of roles in `{path}`"),
            "an empty list",
            Some(
                "an emergency change needs an approver: add a group like `[\"sre-lead\"]`"
                    .to_owned(),
            ),
        );
        return None;
    }
    let mut groups = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items {
        match reader.strings(item, path) {
            Some(roles) if roles.is_empty() => {
                complete = false;
                reader.error(
                    item.span(),
                    format!("a group with at least one role in `{path}`"),
                    "an empty group `[]`",
                    Some("a group is satisfied by one person holding any of its roles; name at least one role".to_owned()),
                );
            }
            Some(roles) => groups.push(roles.into_iter().map(Spanned::into_inner).collect()),
            None => complete = false,
        }
    }
    complete.then_some(groups)
}

fn read_bypass(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    path: &str,
) -> Option<Vec<BypassElement>> {
    let items = reader.array(value, path)?;
    let mut elements = Vec::new();
    let mut complete = true;
    for item in items {
        match reader.one_of(item, path, &BYPASS) {
            Some(index) => {
                if let Some(element) = BypassElement::ALL.get(index).copied()
                    && !elements.contains(&element)
                {
                    elements.push(element);
                }
            }
            None => complete = false,
        }
    }
    complete.then_some(elements)
}
