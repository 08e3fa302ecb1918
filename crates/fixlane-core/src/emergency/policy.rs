//! The rules that admit or refuse each emergency step: declaring (id, severity, category,
//! pre-flight, owners, rate limits), approving by named authorities, recording a bypass, and
//! recording a team rate review.
//!
//! Every refusal names its rule, the values that made it apply, the config line when known, and
//! what to do instead: the person reading it is in the middle of an incident.

use jiff::Timestamp;

use crate::config::model::{BypassElement, Category, Config, RateLimit};
use crate::duration::Duration;
use crate::emergency::model::{Approval, Bypass, Emergency, EmergencyState, Transition};
pub use crate::emergency::refusal::Refusal;
use crate::names::{IncidentId, PersonName};

/// Branch names stay short enough for every forge and terminal.
const BRANCH_MAX: usize = 80;

/// What `fixlane declare` was asked to record.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclareRequest {
    pub id: String,
    pub severity: String,
    pub category: String,
    pub title: String,
    pub author: PersonName,
    /// As typed: a person's name or email.
    pub cleanup_owner: String,
    pub eta: Option<String>,
    pub flag_flip: Option<String>,
    pub rollback: Option<String>,
    pub drill: bool,
    pub now: Timestamp,
}

/// Earlier declarations, for the rate limits. Any window: the rules pick what they count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeclarationHistory {
    pub declarations: Vec<PastDeclaration>,
    /// When the last team review of the emergency rate was recorded.
    pub last_rate_review: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PastDeclaration {
    pub id: String,
    pub author: String,
    pub declared_at: Timestamp,
    pub drill: bool,
}

/// A declaration that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    pub emergency: Emergency,
    /// Shown to the user and also kept in `emergency.warnings`.
    pub warnings: Vec<String>,
}

/// The person `who` names: a key of `[people]`, or a person's email (case-insensitive).
pub fn identify(config: &Config, who: &str) -> Option<PersonName> {
    let who = who.trim();
    if who.is_empty() {
        return None;
    }
    if let Some(name) = config.people.keys().find(|name| name.as_str() == who) {
        return Some(name.clone());
    }
    config
        .people
        .iter()
        .find(|(_, person)| {
            person
                .email
                .as_deref()
                .is_some_and(|email| email.trim().eq_ignore_ascii_case(who))
        })
        .map(|(name, _)| name.clone())
}

/// `hotfix/<ID>-<slug of the title>`, at most 80 characters, with only `[a-z0-9-]` in the slug:
/// the branch name ends up in shells and URLs, so nothing of the title's punctuation survives.
pub fn branch_name(id: &IncidentId, title: &str) -> String {
    let prefix = format!("hotfix/{id}-");
    let room = BRANCH_MAX.saturating_sub(prefix.len());
    let full = slugify(title);
    let slug = if full.len() > room {
        // The slug is ASCII, so byte positions are character positions.
        let cut = &full[..room];
        let whole_words = if full.as_bytes().get(room) == Some(&b'-') {
            cut
        } else {
            match cut.rfind('-') {
                Some(boundary) if boundary > 0 => &cut[..boundary],
                _ => cut,
            }
        };
        whole_words.trim_end_matches('-').to_owned()
    } else {
        full
    };
    // A title of only symbols still gives a branch that says what it is.
    let slug = if slug.is_empty() {
        "fix"
    } else {
        slug.as_str()
    };
    if room < slug.len() {
        // Only an id close to the name limit leaves no room at all.
        return format!("hotfix/{id}");
    }
    format!("{prefix}{slug}")
}

fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for character in title.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// The pattern's characters, each marked as a digit placeholder or a literal. A run of letters
/// made only of `Y`, `M`, `D` and `N` is placeholders; any other letter makes its whole run
/// literal, so the `N` of `INC` stands for itself while `NNN` stands for three digits.
fn pattern_characters(pattern: &str) -> Vec<(char, bool)> {
    let characters: Vec<char> = pattern.chars().collect();
    let mut marked = Vec::with_capacity(characters.len());
    let mut index = 0;
    while let Some(&character) = characters.get(index) {
        if character.is_ascii_alphabetic() {
            let run: Vec<char> = characters[index..]
                .iter()
                .copied()
                .take_while(char::is_ascii_alphabetic)
                .collect();
            let placeholder = run
                .iter()
                .all(|letter| matches!(letter, 'Y' | 'M' | 'D' | 'N'));
            index += run.len();
            marked.extend(run.into_iter().map(|letter| (letter, placeholder)));
        } else {
            marked.push((character, false));
            index += 1;
        }
    }
    marked
}

/// Whether `id` matches `pattern` (not a regex): in a run of letters made only of `Y`, `M`, `D`
/// and `N`, each letter stands for one digit; every other character stands for itself.
pub fn matches_id_pattern(pattern: &str, id: &str) -> bool {
    let marked = pattern_characters(pattern);
    marked.len() == id.chars().count()
        && marked
            .iter()
            .zip(id.chars())
            .all(|(&(expected, placeholder), character)| {
                if placeholder {
                    character.is_ascii_digit()
                } else {
                    expected == character
                }
            })
}

/// An id that matches `pattern`, dated `now` (UTC): `INC-2026-05-20-001` for the default.
pub fn example_id(pattern: &str, now: Timestamp) -> String {
    let date = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let marked = pattern_characters(pattern);
    let mut example = String::with_capacity(pattern.len());
    let mut index = 0;
    while let Some(&(character, placeholder)) = marked.get(index) {
        let run = marked[index..]
            .iter()
            .take_while(|&&next| next == (character, placeholder))
            .count();
        let value = match (placeholder, character) {
            (true, 'Y') => Some(i64::from(date.year())),
            (true, 'M') => Some(i64::from(date.month())),
            (true, 'D') => Some(i64::from(date.day())),
            (true, _) => Some(1),
            (false, _) => None,
        };
        match value {
            Some(number) => {
                let digits = format!("{number:0run$}");
                // A run shorter than the value keeps its last digits (`YY` gives `26`).
                example.push_str(&digits[digits.len().saturating_sub(run)..]);
            }
            None => example.extend(std::iter::repeat_n(character, run)),
        }
        index += run;
    }
    example
}

/// Checks a declaration against every rule and builds the record.
pub fn declare(
    config: &Config,
    request: &DeclareRequest,
    history: &DeclarationHistory,
) -> Result<Declared, Refusal> {
    let policy = &config.emergency;
    let id_text = request.id.trim();
    let refused = format!("declaring emergency {id_text}");

    let id = check_id(config, id_text, request.now, &refused)?;

    let Some(severity) = policy
        .severities
        .iter()
        .find(|severity| severity.eq_ignore_ascii_case(request.severity.trim()))
    else {
        return Err(Refusal::new(
            "emergency.severities",
            refused,
            format!(
                "severity `{}` is not an emergency severity here (emergency.severities = {}): \
                 the normal pipeline is fast enough, and a hotfix's cost (cleanup, audit, \
                 postmortem) exceeds its benefit",
                request.severity,
                list(&policy.severities)
            ),
            "use the normal lane (`fixlane run`); declare an emergency only for a severity \
             listed in emergency.severities",
        ));
    };

    let category = find_category(config, &request.category, &refused)?;

    let missing: Vec<&str> = [
        ("--flag-flip", &request.flag_flip),
        ("--rollback", &request.rollback),
    ]
    .into_iter()
    .filter(|(_, answer)| answer.as_deref().is_none_or(|text| text.trim().is_empty()))
    .map(|(flag, _)| flag)
    .collect();
    if !missing.is_empty() {
        return Err(Refusal::new(
            "emergency.preflight",
            refused,
            format!(
                "the pre-flight answers are missing ({}): a feature-flag flip mitigates in about \
                 a minute and a rollback in a few, with no hotfix debt, so a hotfix is the right \
                 tool only when neither applies",
                missing.join(", ")
            ),
            "try the feature-flag flip first, then the rollback; if neither mitigates, declare \
             again with --flag-flip \"why no flag covers it\" and --rollback \"why a rollback \
             does not fix it\"",
        ));
    }

    if !config.people.contains_key(&request.author) {
        return Err(unknown_person(
            config,
            "emergency.identity",
            refused,
            request.author.as_str(),
            "the author",
        ));
    }

    let Some(cleanup_owner) = identify(config, &request.cleanup_owner) else {
        return Err(unknown_person(
            config,
            "emergency.cleanup_owner",
            refused,
            &request.cleanup_owner,
            "the cleanup owner",
        ));
    };

    if let Some(eta) = &request.eta
        && !is_clock_time(eta.trim())
    {
        return Err(Refusal::new(
            "emergency.eta",
            refused,
            format!("the expected merge time `{eta}` is not a time of day written HH:MM"),
            "give --eta as HH:MM, for example --eta 23:30, or leave it out",
        ));
    }

    if let Some(earlier) = history
        .declarations
        .iter()
        .find(|earlier| earlier.id == id.as_str())
    {
        return Err(Refusal::new(
            "emergency.unique_id",
            refused,
            format!(
                "{} was already declared on {} by {}",
                earlier.id,
                day(earlier.declared_at),
                earlier.author
            ),
            format!(
                "work on the existing record (`fixlane show {}`), or declare a new incident with \
                 its own id",
                earlier.id
            ),
        ));
    }

    if !request.drill
        && let Some(limit) = policy.rate_limit
    {
        check_rate_limit(config, limit, history, request.now, &refused)?;
    }

    let mut warnings = Vec::new();
    if !request.drill
        && let Some(limit) = policy.author_limit
    {
        let recent: Vec<&PastDeclaration> = counted(history, limit.within, request.now, None)
            .filter(|earlier| earlier.author == request.author.as_str())
            .collect();
        if recent.len() >= limit_count(limit) {
            warnings.push(format!(
                "{} has declared {} emergencies in the last {} (limit {}): {}. The hotfix lane is \
                 becoming normal — seed 001's code-yellow conversation: make the normal \
                 pipeline faster rather than hotfixing around it",
                request.author,
                recent.len(),
                limit.within,
                limit.max,
                describe(&recent)
            ));
        }
    }

    let branch = branch_name(&id, &request.title);
    let emergency = Emergency {
        id,
        severity: severity.clone(),
        category: category.name.clone(),
        title: request.title.clone(),
        author: request.author.clone(),
        cleanup_owner,
        eta: request.eta.as_ref().map(|eta| eta.trim().to_owned()),
        flag_flip: request.flag_flip.clone().unwrap_or_default(),
        rollback: request.rollback.clone().unwrap_or_default(),
        branch,
        drill: request.drill,
        declared_at: request.now,
        state: EmergencyState::Declared,
        approvals: Vec::new(),
        bypasses: Vec::new(),
        warnings: warnings.clone(),
        owed_gates: Vec::new(),
        timeline: vec![Transition {
            state: EmergencyState::Declared,
            at: request.now,
            by: request.author.to_string(),
            note: request.drill.then(|| "drill".to_owned()),
        }],
    };
    Ok(Declared {
        emergency,
        warnings,
    })
}

fn check_id(
    config: &Config,
    id: &str,
    now: Timestamp,
    refused: &str,
) -> Result<IncidentId, Refusal> {
    let pattern = &config.emergency.id_pattern;
    let example = example_id(pattern, now);
    if !matches_id_pattern(pattern, id) {
        return Err(Refusal::new(
            "emergency.id_pattern",
            refused,
            format!(
                "the incident id `{id}` does not match emergency.id_pattern `{pattern}` (Y, M, D \
                 and N stand for digits, everything else for itself)"
            ),
            format!("use the incident's id in that form, for example {example}"),
        ));
    }
    IncidentId::parse(id).map_err(|error| {
        Refusal::new(
            "emergency.id_pattern",
            refused,
            format!("the incident id `{id}` is not usable as a name: {error}"),
            format!(
                "use an id with letters, digits, `-`, `_` and `.` only, for example {example}; \
                 if emergency.id_pattern allows other characters, change it"
            ),
        )
    })
}

fn check_rate_limit(
    config: &Config,
    limit: RateLimit,
    history: &DeclarationHistory,
    now: Timestamp,
    refused: &str,
) -> Result<(), Refusal> {
    let recent: Vec<&PastDeclaration> =
        counted(history, limit.within, now, history.last_rate_review).collect();
    if recent.len() < limit_count(limit) {
        return Ok(());
    }
    let since = match history.last_rate_review {
        Some(review) => format!(" since the last team review ({})", day(review)),
        None => String::new(),
    };
    Err(Refusal::new(
        "emergency.rate_limit",
        refused,
        format!(
            "{} emergencies were declared in the last {}{since}, and emergency.rate_limit allows \
             {} in {}: {}. Seed 001: beyond it the team reviews the emergency rate before the next one",
            recent.len(),
            limit.within,
            limit.max,
            limit.within,
            describe(&recent)
        ),
        format!(
            "record a team review first: `fixlane review-rate --notes \"…\"` by a person holding \
             one of {}{}, then declare again",
            list(&config.emergency.rate_review_roles),
            holders(config, &config.emergency.rate_review_roles)
        ),
    ))
}

/// Non-drill declarations within `within` before `now`, and after `after` when given.
fn counted(
    history: &DeclarationHistory,
    within: Duration,
    now: Timestamp,
    after: Option<Timestamp>,
) -> impl Iterator<Item = &PastDeclaration> {
    let start = window_start(now, within);
    history.declarations.iter().filter(move |earlier| {
        !earlier.drill
            && earlier.declared_at > start
            && earlier.declared_at <= now
            && after.is_none_or(|review| earlier.declared_at > review)
    })
}

fn window_start(now: Timestamp, within: Duration) -> Timestamp {
    let seconds = i64::try_from(within.as_seconds()).unwrap_or(i64::MAX);
    now.checked_sub(jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(Timestamp::MIN)
}

fn limit_count(limit: RateLimit) -> usize {
    usize::try_from(limit.max).unwrap_or(usize::MAX)
}

fn describe(declarations: &[&PastDeclaration]) -> String {
    declarations
        .iter()
        .map(|earlier| format!("{} ({})", earlier.id, day(earlier.declared_at)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn day(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d").to_string()
}

fn is_clock_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        text.get(range)
            .filter(|part| part.bytes().all(|byte| byte.is_ascii_digit()))
            .and_then(|part| part.parse::<u8>().ok())
    };
    matches!((number(0..2), number(3..5)), (Some(hour), Some(minute)) if hour < 24 && minute < 60)
}

/// `["P0", "P1"]`, as the config writes lists.
fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("\"{item}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// ` (alice, dave)`: the people holding any of `roles`, or nothing when nobody does.
fn holders(config: &Config, roles: &[String]) -> String {
    let names: Vec<&str> = config
        .people
        .iter()
        .filter(|(_, person)| person.roles.iter().any(|role| roles.contains(role)))
        .map(|(name, _)| name.as_str())
        .collect();
    if names.is_empty() {
        " (nobody in [people] holds one yet)".to_owned()
    } else {
        format!(" ({})", names.join(", "))
    }
}

fn known_people(config: &Config) -> String {
    let names: Vec<&str> = config.people.keys().map(PersonName::as_str).collect();
    if names.is_empty() {
        "[people] is empty".to_owned()
    } else {
        format!("known people: {}", names.join(", "))
    }
}

fn unknown_person(
    config: &Config,
    rule: &'static str,
    refused: impl Into<String>,
    who: &str,
    what: &str,
) -> Refusal {
    Refusal::new(
        rule,
        refused,
        format!(
            "{what} `{who}` is not a person in [people] (by name or email); {}",
            known_people(config)
        ),
        format!(
            "name a person from [people] (with --as, FIXLANE_USER or git's user.email for \
             yourself), or add `[people.{}]` with their roles to the config",
            suggested_key(who)
        ),
    )
}

fn suggested_key(who: &str) -> String {
    let local = who.split('@').next().unwrap_or(who);
    let key = slugify(local);
    if key.is_empty() {
        "name".to_owned()
    } else {
        key
    }
}

fn find_category<'a>(
    config: &'a Config,
    name: &str,
    refused: &str,
) -> Result<&'a Category, Refusal> {
    config.emergency.categories.get(name.trim()).ok_or_else(|| {
        let known: Vec<String> = config.emergency.categories.keys().cloned().collect();
        let why = if known.is_empty() {
            format!("there is no emergency category `{name}`: the config defines none")
        } else {
            format!(
                "there is no emergency category `{name}`; the known ones are {}",
                known.join(", ")
            )
        };
        Refusal::new(
            "emergency.categories",
            refused,
            why,
            format!(
                "pick one of the known categories, or add `[emergency.categories.{}]` with its \
                 approvers and may_bypass to the config",
                suggested_key(name)
            ),
        )
    })
}

/// Whether `person` may record a team review of the emergency rate.
pub fn review_rate(config: &Config, person: &PersonName) -> Result<(), Refusal> {
    let refused = format!("recording a team rate review as {person}");
    let roles = &config.emergency.rate_review_roles;
    let Some(details) = config.people.get(person) else {
        return Err(unknown_person(
            config,
            "emergency.identity",
            refused,
            person.as_str(),
            "the reviewer",
        ));
    };
    if details.roles.iter().any(|role| roles.contains(role)) {
        return Ok(());
    }
    Err(Refusal::new(
        "emergency.rate_review_roles",
        refused,
        format!(
            "{person} holds {}, but a rate review needs one of emergency.rate_review_roles = {}",
            list(&details.roles),
            list(roles)
        ),
        format!(
            "ask a person holding one of those roles{} to record the review",
            holders(config, roles)
        ),
    ))
}

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
            format!(
                "ask an approver of category `{}`: {}",
                category.name,
                describe_groups(config, category, emergency)
            ),
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
                "nothing: every approver group is satisfied".to_owned()
            } else {
                format!(
                    "ask another person: {}",
                    describe_groups(config, category, emergency)
                )
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
            "nothing: the emergency is approved",
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
                list(&details.roles)
            ),
            "approve as one of your own roles, or leave the role out to use the one that fits",
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
            None => format!("the roles {}", list(&details.roles)),
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
            format!("ask {}", describe_groups(config, category, emergency)),
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
fn describe_groups(config: &Config, category: &Category, emergency: &Emergency) -> String {
    let open = unsatisfied(category, emergency);
    let parts: Vec<String> = open
        .iter()
        .map(|&group| {
            let roles = category.approvers.get(group).cloned().unwrap_or_default();
            let people: Vec<&str> = config
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
                .map(|(name, _)| name.as_str())
                .collect();
            let who = if people.is_empty() {
                "nobody eligible in [people]".to_owned()
            } else {
                people.join(", ")
            };
            format!("a {} ({who})", roles.join(" or "))
        })
        .collect();
    if parts.is_empty() {
        "nobody: every group is satisfied".to_owned()
    } else {
        format!(
            "{}, with `fixlane approve {} --as NAME`",
            parts.join(" and "),
            emergency.id
        )
    }
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
            format!("check the record with `fixlane show {}`", emergency.id),
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

/// Texts that say nothing: seed 000 wants a specific reason and a compensation in place.
fn is_placeholder(text: &str) -> bool {
    let text = text.trim().to_ascii_lowercase();
    text.chars().all(|character| !character.is_alphanumeric())
        || matches!(
            text.as_str(),
            "n/a" | "na" | "none" | "tbd" | "todo" | "x" | "xxx" | "asap" | "urgent" | "emergency"
        )
}

/// Whether `by` may record a bypass of `element` on `emergency`.
pub fn bypass(
    config: &Config,
    emergency: &Emergency,
    element: BypassElement,
    reason: &str,
    compensation: &str,
    by: &PersonName,
    now: Timestamp,
) -> Result<Bypass, Refusal> {
    let refused = format!(
        "bypass of `{}` for {} by {by}",
        element.as_str(),
        emergency.id
    );
    let category = find_category(config, &emergency.category, &refused)?;
    if !config.people.contains_key(by) {
        return Err(unknown_person(
            config,
            "emergency.identity",
            refused,
            by.as_str(),
            "the person recording the bypass",
        ));
    }
    if !category.may_bypass.contains(&element) {
        let allowed: Vec<&str> = category
            .may_bypass
            .iter()
            .map(|allowed| allowed.as_str())
            .collect();
        let allowed = if allowed.is_empty() {
            "nothing".to_owned()
        } else {
            allowed.join(", ")
        };
        return Err(Refusal::new(
            "emergency.bypass.scope",
            refused,
            format!("category `{}` may bypass only: {allowed}", category.name),
            format!(
                "keep the `{}` discipline for this change; if the incident really belongs to a \
                 category whose may_bypass includes it, that is a different declaration",
                element.as_str()
            ),
        )
        .at(category.source));
    }
    let blank: Vec<&str> = [("--reason", reason), ("--compensation", compensation)]
        .into_iter()
        .filter(|(_, text)| is_placeholder(text))
        .map(|(flag, _)| flag)
        .collect();
    if !blank.is_empty() {
        return Err(Refusal::new(
            "emergency.bypass.justification",
            refused,
            format!(
                "{} missing or says nothing: each bypass is documented, the reason is specific \
                 and the compensation is in place",
                blank.join(" and ")
            ),
            format!(
                "say why this element must be bypassed for this incident and what compensates \
                 for it, e.g. `fixlane bypass {} {} --reason \"the eval suite takes 40 minutes; \
                 the fix is one guard clause\" --compensation \"the full suite runs on the \
                 cleanup change within 24h\"`",
                emergency.id,
                element.as_str()
            ),
        ));
    }
    if let Some(earlier) = emergency
        .bypasses
        .iter()
        .find(|earlier| earlier.element == element)
    {
        return Err(Refusal::new(
            "emergency.bypass.once",
            refused,
            format!(
                "`{}` was already bypassed by {} at {} (reason: {})",
                element.as_str(),
                earlier.by,
                earlier.at.strftime("%Y-%m-%d %H:%M UTC"),
                earlier.reason
            ),
            "nothing: the existing bypass stands, with its reason and compensation",
        ));
    }
    Ok(Bypass {
        element,
        // Verbatim: it is evidence, and it reaches commands only through the environment.
        reason: reason.to_owned(),
        compensation: compensation.to_owned(),
        by: by.clone(),
        at: now,
    })
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
