//! Post-emergency follow-ups: what opens when the fix leaves the emergency lane, when each is
//! due, who may close which, and with what evidence. The emergency is closed only when every
//! follow-up is.
//!
//! The practice behind it: a hotfix is followed by a backfill of every gate the lane skipped,
//! a return-to-normal-flow change, a postmortem, and an audit review by someone who neither wrote
//! nor approved the change (separation of duties). A skipped gate never paid back is how "the
//! hotfix became normal".

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::config::model::Config;
use crate::duration::Duration;
use crate::emergency::{Emergency, Instead, Refusal};
use crate::names::PersonName;

/// The kinds of follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FollowUpKind {
    /// Every owed gate run on the merged commit.
    Backfill,
    /// The normal-lane change with tests that replaces the hotfix's shortcuts.
    Cleanup,
    Postmortem,
    /// A review of the audit trail by someone who neither wrote nor approved the change.
    AuditReview,
    /// Opened by a failed backfill: a real side effect, or an evaluation that encoded the old
    /// behaviour.
    Regression,
}

impl FollowUpKind {
    pub const ALL: [FollowUpKind; 5] = [
        FollowUpKind::Backfill,
        FollowUpKind::Cleanup,
        FollowUpKind::Postmortem,
        FollowUpKind::AuditReview,
        FollowUpKind::Regression,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpKind::Backfill => "backfill",
            FollowUpKind::Cleanup => "cleanup",
            FollowUpKind::Postmortem => "postmortem",
            FollowUpKind::AuditReview => "audit-review",
            FollowUpKind::Regression => "regression",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// How long after opening it is due, from `emergency.*_within`.
    pub fn within(self, config: &Config) -> Duration {
        let policy = &config.emergency;
        match self {
            FollowUpKind::Backfill | FollowUpKind::Regression => policy.backfill_within,
            FollowUpKind::Cleanup => policy.cleanup_within,
            FollowUpKind::Postmortem => policy.postmortem_within,
            FollowUpKind::AuditReview => policy.audit_review_within,
        }
    }
}

impl std::fmt::Display for FollowUpKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// What closing a follow-up brings as proof.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// A link to the change, the postmortem or the fix of a regression.
    pub link: Option<String>,
    /// What the reviewer concluded, or what a regression turned out to be.
    pub notes: Option<String>,
    /// The backfill run that passed.
    pub run_id: Option<String>,
}

/// One follow-up of an emergency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub kind: FollowUpKind,
    /// Who is reminded (any person may close most kinds; see [`may_close`]).
    pub owner: PersonName,
    pub opened_at: Timestamp,
    pub due_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub closed_by: Option<PersonName>,
    pub evidence: Evidence,
}

impl FollowUp {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Open and past its deadline at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.is_open() && now > self.due_at
    }
}

/// The moment `within` after `from`, in `zone`: a whole number of days (`24h`, `48h`, `7d`) is
/// counted in calendar days there, so a deadline two days after 22:00 is 22:00 two days later
/// even across a daylight-saving change; any other duration (`36h`, `2s`) is exact.
pub fn deadline(from: Timestamp, within: Duration, zone: &TimeZone) -> Timestamp {
    let seconds = within.as_seconds();
    let exact = || {
        i64::try_from(seconds)
            .ok()
            .and_then(|seconds| {
                from.checked_add(jiff::SignedDuration::from_secs(seconds))
                    .ok()
            })
            .unwrap_or(Timestamp::MAX)
    };
    if seconds == 0 || !seconds.is_multiple_of(86_400) {
        return exact();
    }
    let Ok(days) = i64::try_from(seconds / 86_400) else {
        return Timestamp::MAX;
    };
    from.to_zoned_datetime(zone.clone())
        .checked_add(jiff::Span::new().try_days(days).unwrap_or_default())
        .map_or_else(|_| exact(), |zoned| zoned.timestamp())
}

/// Who is reminded of the audit review: the first person under `[people]` holding a rate-review
/// role, else anyone, who neither declared nor approved the change. `None` when nobody fits.
fn audit_reviewer(config: &Config, emergency: &Emergency) -> Option<PersonName> {
    let eligible = |name: &&PersonName| !conflicted(emergency, name);
    let reviewers = &config.emergency.rate_review_roles;
    config
        .people
        .iter()
        .filter(|(name, _)| eligible(name))
        .find(|(_, person)| person.roles.iter().any(|role| reviewers.contains(role)))
        .or_else(|| config.people.iter().find(|(name, _)| eligible(name)))
        .map(|(name, _)| name.clone())
}

/// Whether `person` wrote or approved the change.
fn conflicted(emergency: &Emergency, person: &PersonName) -> bool {
    emergency.author == *person
        || emergency
            .approvals
            .iter()
            .any(|approval| approval.person == *person)
}

/// The follow-ups that open when the fix leaves the emergency lane at `at`: a backfill when the
/// lane skipped gates, the cleanup change, the postmortem and the audit review. The cleanup and
/// backfill are the cleanup owner's, the postmortem the author's, the audit review someone
/// else's (the author when nobody else is named under `[people]`, so it is still tracked; the
/// author may still not close it).
pub fn open_after_merge(
    config: &Config,
    emergency: &Emergency,
    at: Timestamp,
    zone: &TimeZone,
) -> Vec<FollowUp> {
    let open = |kind: FollowUpKind, owner: PersonName| FollowUp {
        kind,
        owner,
        opened_at: at,
        due_at: deadline(at, kind.within(config), zone),
        closed_at: None,
        closed_by: None,
        evidence: Evidence::default(),
    };
    let mut opened = Vec::new();
    if !emergency.owed_gates.is_empty() {
        opened.push(open(
            FollowUpKind::Backfill,
            emergency.cleanup_owner.clone(),
        ));
    }
    opened.push(open(FollowUpKind::Cleanup, emergency.cleanup_owner.clone()));
    opened.push(open(FollowUpKind::Postmortem, emergency.author.clone()));
    let reviewer = audit_reviewer(config, emergency).unwrap_or_else(|| emergency.author.clone());
    opened.push(open(FollowUpKind::AuditReview, reviewer));
    opened
}

/// The regression a failed backfill opens at `at`, due `backfill_within` later.
pub fn regression(
    config: &Config,
    emergency: &Emergency,
    at: Timestamp,
    zone: &TimeZone,
) -> FollowUp {
    FollowUp {
        kind: FollowUpKind::Regression,
        owner: emergency.cleanup_owner.clone(),
        opened_at: at,
        due_at: deadline(at, FollowUpKind::Regression.within(config), zone),
        closed_at: None,
        closed_by: None,
        evidence: Evidence::default(),
    }
}

/// What `by` wants to close, and with what.
#[derive(Debug, Clone)]
pub struct CloseRequest<'a> {
    pub kind: FollowUpKind,
    pub by: &'a PersonName,
    pub evidence: &'a Evidence,
}

fn filled(text: Option<&String>) -> bool {
    text.is_some_and(|text| !text.trim().is_empty())
}

/// Whether the request may close the open follow-up of its kind on `emergency`.
pub fn may_close(
    config: &Config,
    emergency: &Emergency,
    followups: &[FollowUp],
    request: &CloseRequest<'_>,
) -> Result<(), Refusal> {
    let kind = request.kind;
    let by = request.by;
    let refused = format!("closing the {kind} follow-up of {} as {by}", emergency.id);
    if !followups
        .iter()
        .any(|followup| followup.kind == kind && followup.is_open())
    {
        let open: Vec<&str> = followups
            .iter()
            .filter(|followup| followup.is_open())
            .map(|followup| followup.kind.as_str())
            .collect();
        let why = if followups.is_empty() {
            format!(
                "{} has no follow-ups yet: they open when the fix leaves the emergency lane",
                emergency.id
            )
        } else if open.is_empty() {
            format!("every follow-up of {} is closed", emergency.id)
        } else {
            format!(
                "{} has no open {kind} follow-up; the open ones are {}",
                emergency.id,
                open.join(", ")
            )
        };
        return Err(Refusal::new(
            "followups.open",
            refused,
            why,
            Instead::advice("close one of the open follow-ups, or check the record"),
        ));
    }
    if !config.people.contains_key(by) {
        return Err(Refusal::new(
            "followups.people",
            refused,
            format!(
                "`{by}` is not a person under [people]; only people named there close follow-ups"
            ),
            Instead::advice("act as a person listed in the config, or add them under [people]"),
        ));
    }
    if kind == FollowUpKind::Backfill {
        return Err(Refusal::new(
            "followups.backfill",
            refused,
            "the backfill closes itself when every owed gate passes on the merged commit",
            Instead::Backfill {
                id: emergency.id.clone(),
            },
        ));
    }
    if kind == FollowUpKind::AuditReview && conflicted(emergency, by) {
        let role = if emergency.author == *by {
            "declared"
        } else {
            "approved"
        };
        return Err(Refusal::new(
            "followups.audit_review",
            refused,
            format!(
                "{by} {role} {}; the audit review is by someone who neither wrote nor approved the \
                 change (separation of duties)",
                emergency.id
            ),
            Instead::advice(match audit_reviewer(config, emergency) {
                Some(reviewer) => format!("ask another person, such as {reviewer}, to review it"),
                None => {
                    "add a person under [people] who neither declared nor approved it".to_owned()
                }
            }),
        ));
    }
    let evidence = request.evidence;
    let missing: Vec<&str> = match kind {
        FollowUpKind::Cleanup | FollowUpKind::Postmortem => {
            if filled(evidence.link.as_ref()) {
                vec![]
            } else {
                vec!["a link"]
            }
        }
        FollowUpKind::AuditReview => {
            if filled(evidence.notes.as_ref()) {
                vec![]
            } else {
                vec!["notes"]
            }
        }
        FollowUpKind::Regression => [
            (!filled(evidence.notes.as_ref())).then_some("notes"),
            (!filled(evidence.link.as_ref())).then_some("a link"),
        ]
        .into_iter()
        .flatten()
        .collect(),
        FollowUpKind::Backfill => vec![],
    };
    if !missing.is_empty() {
        let what = match kind {
            FollowUpKind::Cleanup => "the link to the normal-lane change with its tests",
            FollowUpKind::Postmortem => "the link to the postmortem",
            FollowUpKind::AuditReview => "notes saying what the review found",
            _ => {
                "notes saying whether it is a real side effect of the fix or an evaluation that \
                 encoded the old behaviour, and a link to the fix or to the evaluation's update"
            }
        };
        return Err(Refusal::new(
            "followups.evidence",
            refused,
            format!("closing {kind} needs {}", missing.join(" and ")),
            Instead::advice(format!("close it with {what}")),
        ));
    }
    Ok(())
}

/// Whether every follow-up is closed (and there is at least one), so the emergency may close.
pub fn all_closed(followups: &[FollowUp]) -> bool {
    !followups.is_empty() && followups.iter().all(|followup| !followup.is_open())
}

#[cfg(test)]
#[path = "followup_tests.rs"]
mod tests;
