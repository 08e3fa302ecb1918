//! Declaring an emergency: id, severity, category, pre-flight, owners and the rate limits,
//! and who may record the team review that resets the rate count.

use jiff::Timestamp;

use crate::config::model::{Config, RateLimit};
use crate::duration::Duration;
use crate::emergency::identity::{holder_names, identify, unknown_person};
use crate::emergency::instead::{Instead, PreflightAnswer, config_list, holders_note};
use crate::emergency::model::{Emergency, EmergencyState, Transition};
use crate::emergency::naming::{IdDate, IdPattern, branch_name};
use crate::emergency::policy::find_category;
use crate::emergency::refusal::{Refusal, Refusals};
use crate::names::{IncidentId, PersonName};
use crate::suggest::closest;

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
    /// Accept an id dated far from today (an incident that really started long ago).
    pub any_date: bool,
    /// The moment of the declaration, which the record is stamped with. Read it where no other
    /// declaration can commit in between (the store's write lock), so the history is complete
    /// up to it.
    pub now: Timestamp,
}

/// Earlier declarations, for the rate limits. Any window: the rules pick what they count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeclarationHistory {
    pub declarations: Vec<PastDeclaration>,
    /// When the last team review of the emergency rate was recorded.
    pub last_rate_review: Option<Timestamp>,
    /// Follow-ups of earlier emergencies past their deadline: debt that blocks more debt.
    pub overdue: Vec<OverdueFollowUp>,
}

/// An earlier emergency's follow-up past its deadline, as a declaration sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OverdueFollowUp {
    pub id: String,
    pub kind: crate::followup::FollowUpKind,
    pub due_at: Timestamp,
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

/// How far an incident id's date may be from the declaration's day, either way, before the id
/// is taken for a copy of an old incident's or a typo (unless the request says `any_date`).
const ID_DATE_SLACK_DAYS: i32 = 7;

/// Checks a declaration against every rule and builds the record. Every rule is checked, so a
/// refused declaration gets all of its problems at once.
pub fn declare(
    config: &Config,
    request: &DeclareRequest,
    history: &DeclarationHistory,
) -> Result<Declared, Refusals> {
    let policy = &config.emergency;
    let id_text = request.id.trim();
    let refused = format!("declaring emergency {id_text}");
    let pattern = &policy.id_pattern;
    let id = check_id(config, pattern, request, &refused);
    let id_date = match &id {
        Ok(_) => check_id_date(config, pattern, request, &refused),
        Err(_) => Ok(()),
    };
    let severity = check_severity(config, &request.severity, &refused);
    let category = find_category(config, &request.category, &refused);
    let preflight = check_preflight(request, &refused);
    let author = if config.people.contains_key(&request.author) {
        Ok(())
    } else {
        Err(unknown_person(
            config,
            "emergency.identity",
            refused.clone(),
            request.author.as_str(),
            "the author",
        ))
    };
    let cleanup_owner = identify(config, &request.cleanup_owner).ok_or_else(|| {
        unknown_person(
            config,
            "emergency.cleanup_owner",
            refused.clone(),
            &request.cleanup_owner,
            "the cleanup owner",
        )
    });
    let eta = match &request.eta {
        Some(eta) if !is_clock_time(eta.trim()) => Err(Refusal::new(
            "emergency.eta",
            refused.clone(),
            format!("the expected merge time `{eta}` is not a time of day written HH:MM"),
            Instead::GiveEta,
        )),
        _ => Ok(()),
    };
    let unique = match &id {
        Ok(id) => check_unique(history, id, &refused),
        Err(_) => Ok(()),
    };
    let debt = if request.drill {
        Ok(None)
    } else {
        check_debt(config, history, &refused)
    };
    let rate = match policy.rate_limit {
        Some(limit) if !request.drill => {
            check_rate_limit(config, limit, history, request.now, &refused)
        }
        _ => Ok(()),
    };

    // In the order a person fixes them: the id, what the incident is, who owns it, the limits.
    let refusals: Vec<Refusal> = [
        id.as_ref().err(),
        id_date.as_ref().err(),
        severity.as_ref().err(),
        category.as_ref().err(),
        preflight.as_ref().err(),
        author.as_ref().err(),
        cleanup_owner.as_ref().err(),
        eta.as_ref().err(),
        unique.as_ref().err(),
        rate.as_ref().err(),
        debt.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    let (Ok(id), Ok(severity), Ok(category), Ok(cleanup_owner), true) =
        (id, severity, category, cleanup_owner, refusals.is_empty())
    else {
        return Err(Refusals::from_vec(refusals));
    };

    let mut warnings: Vec<String> = debt.ok().flatten().into_iter().collect();
    if !request.drill
        && let Some(limit) = policy.author_limit
    {
        let recent: Vec<&PastDeclaration> = counted(history, limit.within, request.now, None)
            .filter(|earlier| earlier.author == request.author.as_str())
            .collect();
        if recent.len() >= limit_count(limit) {
            warnings.push(format!(
                "{} has declared {} emergencies in the last {} (limit {}): {}. The hotfix lane is \
                 becoming normal — time for the code-yellow conversation: make the normal \
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
    pattern: &IdPattern,
    request: &DeclareRequest,
    refused: &str,
) -> Result<IncidentId, Refusal> {
    let id = request.id.trim();
    let example = pattern.example(request.now);
    // The pattern was checked when the config was read: an id of its form is a usable name.
    pattern.incident_id(id).ok_or_else(|| {
        Refusal::new(
            "emergency.id_pattern",
            refused,
            format!(
                "the incident id `{id}` does not match emergency.id_pattern `{}` (Y, M, D and N \
                 stand for digits, everything else for itself)",
                pattern.as_str()
            ),
            Instead::advice(format!(
                "use the incident's id in that form, for example {example}"
            )),
        )
        .at_line(config.emergency.lines.id_pattern)
    })
}

/// An id dated far from the declaration is most often an old incident's id pasted again, or a
/// typo in its date; it would file the emergency under the wrong day. Only for an id that
/// matches the pattern.
fn check_id_date(
    config: &Config,
    pattern: &IdPattern,
    request: &DeclareRequest,
    refused: &str,
) -> Result<(), Refusal> {
    let id = request.id.trim();
    let today = jiff::tz::TimeZone::UTC.to_datetime(request.now).date();
    let example = pattern.example(request.now);
    let refusal = match pattern.date(id) {
        None => return Ok(()),
        Some(IdDate::Invalid { year, month, day }) => Refusal::new(
            "emergency.id_date",
            refused,
            format!(
                "the incident id `{id}` carries the date {year:04}-{month:02}-{day:02}, which is \
                 not a day of the calendar"
            ),
            Instead::advice(format!(
                "use the incident's id with its real date, for example {example}"
            )),
        ),
        Some(IdDate::Valid(_)) if request.any_date => return Ok(()),
        Some(IdDate::Valid(date)) => {
            let days = date.until(today).map_or(i32::MAX, |span| span.get_days());
            if days.abs() <= ID_DATE_SLACK_DAYS {
                return Ok(());
            }
            let distance = if days > 0 {
                format!(
                    "{} before",
                    crate::plural::count(days.unsigned_abs(), "day", "days")
                )
            } else {
                format!(
                    "{} after",
                    crate::plural::count(days.unsigned_abs(), "day", "days")
                )
            };
            Refusal::new(
                "emergency.id_date",
                refused,
                format!(
                    "the incident id `{id}` is dated {date}, {distance} today ({today}, UTC); an \
                     id more than {ID_DATE_SLACK_DAYS} days from today is usually an old \
                     incident's id used again, or a typo in its date"
                ),
                Instead::TodaysId {
                    example,
                    dated: date,
                },
            )
        }
    };
    Err(refusal.at_line(config.emergency.lines.id_pattern))
}

fn check_severity<'a>(
    config: &'a Config,
    typed: &str,
    refused: &str,
) -> Result<&'a String, Refusal> {
    let policy = &config.emergency;
    let typed = typed.trim();
    if let Some(severity) = policy
        .severities
        .iter()
        .find(|severity| severity.eq_ignore_ascii_case(typed))
    {
        return Ok(severity);
    }
    // `P1` for `P0` is another level, not a typo: it gets the normal lane, never a suggestion
    // to raise it.
    let suggestion = closest(
        typed,
        policy
            .severities
            .iter()
            .map(String::as_str)
            .filter(|severity| !is_another_level(typed, severity)),
    );
    let refusal = Refusal::new(
        "emergency.severities",
        refused,
        format!(
            "severity `{typed}` is not an emergency severity here (emergency.severities = {}): \
             the normal pipeline is fast enough, and a hotfix's cost (cleanup, audit, \
             postmortem) exceeds its benefit",
            config_list(&policy.severities)
        ),
        Instead::UseNormalLane {
            did_you_mean: suggestion.map(str::to_owned),
        },
    );
    Err(refusal.at_line(policy.lines.severities))
}

/// Whether `typed` names another level of the same scale as `severity`: the same text but for
/// its digits (`P1` and `P0`, `sev2` and `SEV1`).
fn is_another_level(typed: &str, severity: &str) -> bool {
    let typed = typed.to_ascii_lowercase();
    let severity = severity.to_ascii_lowercase();
    typed.len() == severity.len()
        && typed.bytes().any(|byte| byte.is_ascii_digit())
        && typed
            .bytes()
            .zip(severity.bytes())
            .all(|(left, right)| left == right || (left.is_ascii_digit() && right.is_ascii_digit()))
}

fn check_preflight(request: &DeclareRequest, refused: &str) -> Result<(), Refusal> {
    let missing: Vec<(&str, PreflightAnswer)> = [
        ("--flag-flip", PreflightAnswer::FlagFlip, &request.flag_flip),
        ("--rollback", PreflightAnswer::Rollback, &request.rollback),
    ]
    .into_iter()
    .filter(|(_, _, answer)| answer.as_deref().is_none_or(|text| text.trim().is_empty()))
    .map(|(flag, answer, _)| (flag, answer))
    .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Refusal::new(
        "emergency.preflight",
        refused,
        format!(
            "the pre-flight answers are missing ({}): a feature-flag flip mitigates in about a \
             minute and a rollback in a few, with no hotfix debt, so a hotfix is the right tool \
             only when neither applies",
            missing
                .iter()
                .map(|(flag, _)| *flag)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Instead::AnswerPreflight {
            missing: missing.iter().map(|(_, answer)| *answer).collect(),
        },
    ))
}

fn check_unique(
    history: &DeclarationHistory,
    id: &IncidentId,
    refused: &str,
) -> Result<(), Refusal> {
    let Some(earlier) = history
        .declarations
        .iter()
        .find(|earlier| earlier.id == id.as_str())
    else {
        return Ok(());
    };
    Err(Refusal::new(
        "emergency.unique_id",
        refused,
        format!(
            "{} was already declared on {} by {}",
            earlier.id,
            day(earlier.declared_at),
            earlier.author
        ),
        Instead::UseExistingRecord { id: id.clone() },
    ))
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
             {} in {}: {}. Beyond it, the team reviews how often the emergency lane is used \
             before the next emergency",
            recent.len(),
            limit.within,
            limit.max,
            limit.within,
            describe(&recent)
        ),
        Instead::ReviewRate {
            roles: config.emergency.rate_review_roles.clone(),
            holders: holder_names(config, &config.emergency.rate_review_roles),
        },
    )
    .at_line(config.emergency.lines.rate_limit))
}

/// Debt blocks more debt: with follow-ups overdue, a declaration warns (the warning stays on
/// the record) or, with `emergency.overdue_blocks`, is refused until a rate reviewer records a
/// review after the last declaration, which lets the next one through.
fn check_debt(
    config: &Config,
    history: &DeclarationHistory,
    refused: &str,
) -> Result<Option<String>, Refusal> {
    if history.overdue.is_empty() {
        return Ok(None);
    }
    let listed: Vec<String> = history
        .overdue
        .iter()
        .map(|debt| format!("{} of {} (due {})", debt.kind, debt.id, day(debt.due_at)))
        .collect();
    let count = crate::plural::count(history.overdue.len(), "follow-up is", "follow-ups are");
    let last_declared = history
        .declarations
        .iter()
        .map(|earlier| earlier.declared_at)
        .max();
    let reviewed_since = history
        .last_rate_review
        .is_some_and(|review| last_declared.is_none_or(|last| review > last));
    if config.emergency.overdue_blocks && !reviewed_since {
        return Err(Refusal::new(
            "emergency.overdue_blocks",
            refused,
            format!(
                "{count} overdue: {}. With emergency.overdue_blocks the next emergency waits until \
                 the debt is paid or the team has reviewed it",
                listed.join(", ")
            ),
            Instead::ReviewRate {
                roles: config.emergency.rate_review_roles.clone(),
                holders: holder_names(config, &config.emergency.rate_review_roles),
            },
        )
        .at_line(config.emergency.lines.overdue_blocks));
    }
    Ok(Some(format!(
        "{count} overdue: {}. Debt blocks more debt: close them before the next emergency",
        listed.join(", ")
    )))
}

/// Non-drill declarations since the start of the window `within` before `now`, and from
/// `after` on when given. Fail closed on both ends: a declaration stamped after `now` (another
/// host's clock ahead, or one that read its clock later and committed first) still counts, and
/// one stamped at the very instant of a review counts as after it.
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
            && after.is_none_or(|review| earlier.declared_at >= review)
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
            config_list(&details.roles),
            config_list(roles)
        ),
        Instead::advice(format!(
            "ask a person holding one of those roles{} to record the review",
            holders_note(&holder_names(config, roles))
        )),
    ))
}

#[cfg(test)]
#[path = "declaration_tests.rs"]
mod tests;

/// Since when the declarations the rate limits count must be read, deciding at `now`: the
/// longer of the two windows, and a day more for a clock stepped back between this reading and
/// the store's (reading more is harmless; reading less would let a declaration go uncounted).
pub fn history_since(config: &Config, now: Timestamp) -> Timestamp {
    use jiff::ToSpan;
    let window_seconds = [config.emergency.rate_limit, config.emergency.author_limit]
        .iter()
        .flatten()
        .map(|limit| limit.within.as_seconds())
        .max()
        .unwrap_or(0);
    now.checked_sub(i64::try_from(window_seconds).unwrap_or(i64::MAX).seconds())
        .and_then(|since| since.checked_sub(24.hours()))
        .unwrap_or(Timestamp::MIN)
}
