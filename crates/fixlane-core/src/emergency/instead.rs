//! What to do instead of a refused step, as data: the next step a refusal points at (approve,
//! record a bypass, wait for a freeze to end, …) with the values it needs, or plain advice that
//! names no command.
//!
//! The core never spells a command line: the CLI renders each step as the `fixlane` command
//! that takes it, and a server can return the same step as JSON (`{ "action": "approve", … }`)
//! for its own client to phrase. The [`Display`](fmt::Display) here reads each step in plain
//! words, for logs and for callers that have no commands of their own.

use std::fmt;

use jiff::civil::{Date, DateTime};
use serde::Serialize;

use crate::config::model::BypassElement;
use crate::names::{IncidentId, PersonName};

/// The next step a refusal suggests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Instead {
    /// Advice in plain words that names no command: what to change, or whom to ask.
    Advice { text: String },
    /// Nothing is left to do, and why.
    Nothing { because: String },
    /// Ask the people who can fill the approver groups `missing` to approve `id`.
    Approve {
        id: IncidentId,
        ask: Ask,
        missing: Vec<MissingGroup>,
    },
    /// Look at the record of `id`: the step no longer fits it.
    CheckRecord { id: IncidentId },
    /// Get the approvals of `id` first; its record lists what is missing.
    GetApprovals { id: IncidentId },
    /// See where `id` stands; another attempt after a rollback is a new incident.
    CheckState { id: IncidentId },
    /// Work on the record `id` that already exists, or declare a new incident with its own id.
    UseExistingRecord { id: IncidentId },
    /// After a promotion, verify the symptom; after a rollback, declare a new incident.
    VerifyOrDeclare,
    /// Run the canary of `id` first: there is nothing deployed to judge yet.
    RunCanary { id: IncidentId },
    /// Run the gates `id` owes: its backfill closes itself when they pass.
    Backfill { id: IncidentId },
    /// Record the bypass of `element` on `id` again, with a specific reason and compensation.
    JustifyBypass {
        id: IncidentId,
        element: BypassElement,
    },
    /// Use the emergency's `profile`, or record the `canary` bypass of `id` first.
    ProfileOrBypass { profile: String, id: IncidentId },
    /// Wait until the freeze ends (`until`, on the wall clock of `zone`; `None` when it never
    /// does), or record the `freeze` bypass of a declared emergency first.
    WaitForFreeze {
        until: Option<DateTime>,
        zone: String,
    },
    /// Deploy inside a change window (the next opens at `next` in `zone`; `None` when none
    /// opens within a year), or record the `window` bypass of a declared emergency first.
    DeployInWindow {
        next: Option<DateTime>,
        zone: String,
    },
    /// Give the expected merge time as `HH:MM`, or leave it out.
    GiveEta,
    /// Use today's incident id, such as `example`; an incident really dated `dated` may be
    /// declared again accepting any date.
    TodaysId { example: String, dated: Date },
    /// Use the normal lane: the severity is not an emergency one (`did_you_mean` one that is).
    UseNormalLane { did_you_mean: Option<String> },
    /// Try the flag flip and the rollback first; declare again with the `missing` answers.
    AnswerPreflight { missing: Vec<PreflightAnswer> },
    /// Record a team review of the emergency rate first, by a person holding one of `roles`
    /// (`holders` do), then declare again.
    ReviewRate {
        roles: Vec<String>,
        holders: Vec<PersonName>,
    },
    /// Name a person from `[people]` (`did_you_mean` one), or add `[people.<key>]`.
    NamePerson {
        did_you_mean: Option<String>,
        key: String,
    },
    /// Act as a person listed in `[people]`, or add them there with their roles.
    Identify,
}

/// Whom an [`Instead::Approve`] asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "who", rename_all = "snake_case")]
pub enum Ask {
    /// Any approver of the category: the refused person is the author.
    CategoryApprover { category: String },
    /// Someone else: the refused person already approved.
    AnotherPerson,
    /// Those who can fill the missing groups: the refused person's roles fill none.
    Eligible,
}

/// An approver group no approval counts for yet: the roles that may fill it and the people who
/// could (not the author, not someone who already approved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingGroup {
    pub roles: Vec<String>,
    pub eligible: Vec<PersonName>,
}

/// A pre-flight answer a declaration needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreflightAnswer {
    /// Why no feature-flag flip mitigates.
    FlagFlip,
    /// Why a rollback does not fix it.
    Rollback,
}

impl Instead {
    /// Plain advice; it must name no command or flag (those are [`Instead`]'s other steps).
    pub fn advice(text: impl Into<String>) -> Self {
        Instead::Advice { text: text.into() }
    }

    /// Nothing to do, because of `because`.
    pub fn nothing(because: impl Into<String>) -> Self {
        Instead::Nothing {
            because: because.into(),
        }
    }
}

/// `a security-lead or sre-lead (carol, erin)`, or `(nobody eligible in [people])`.
impl fmt::Display for MissingGroup {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.eligible.is_empty() {
            "nobody eligible in [people]".to_owned()
        } else {
            names(&self.eligible)
        };
        write!(formatter, "a {} ({who})", self.roles.join(" or "))
    }
}

/// The missing groups joined with `and`: `a security-lead (carol) and a platform-lead (dave)`.
pub fn groups_text(missing: &[MissingGroup]) -> String {
    missing
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `["P0", "P1"]`, as the config writes lists.
pub fn config_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("\"{item}\"")).collect();
    format!("[{}]", quoted.join(", "))
}

/// ` (alice, dave)`: who holds a role, or that nobody does yet, to follow a list of roles.
pub fn holders_note(holders: &[PersonName]) -> String {
    if holders.is_empty() {
        " (nobody in [people] holds one yet)".to_owned()
    } else {
        format!(" ({})", names(holders))
    }
}

/// `rest`, led by `did you mean …? Otherwise, ` when there is a close match.
pub fn after_suggestion(suggestion: Option<&str>, rest: &str) -> String {
    match suggestion {
        Some(candidate) => format!("did you mean `{candidate}`? Otherwise, {rest}"),
        None => rest.to_owned(),
    }
}

fn names(people: &[PersonName]) -> String {
    people
        .iter()
        .map(PersonName::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Instead {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Instead::Advice { text } => text.clone(),
            Instead::Nothing { because } => format!("nothing: {because}"),
            Instead::Approve { id, ask, missing } => {
                let lead = match ask {
                    Ask::CategoryApprover { category } => {
                        format!("ask an approver of category `{category}`: ")
                    }
                    Ask::AnotherPerson => "ask another person: ".to_owned(),
                    Ask::Eligible => "ask ".to_owned(),
                };
                if missing.is_empty() {
                    format!("{lead}nobody: every group is satisfied")
                } else {
                    format!("{lead}{}, to approve {id}", groups_text(missing))
                }
            }
            Instead::CheckRecord { id } => format!("check the record of {id}"),
            Instead::GetApprovals { id } => {
                format!("get the approvals first: the record of {id} lists what is missing")
            }
            Instead::CheckState { id } => format!(
                "check where {id} stands; a fix that needs another attempt after a rollback is \
                 a new incident: declare one"
            ),
            Instead::UseExistingRecord { id } => format!(
                "work on the existing record of {id}, or declare a new incident with its own id"
            ),
            Instead::VerifyOrDeclare => "after a promotion verify the symptom; after a rollback, \
                                         a new attempt is a new incident: declare one"
                .to_owned(),
            Instead::RunCanary { id } => format!("run the canary of {id} first"),
            Instead::Backfill { id } => format!("run the gates {id} owes"),
            Instead::JustifyBypass { id, element } => format!(
                "say why `{}` must be bypassed for {id} and what compensates for it, with a \
                 specific reason and a compensation in place",
                element.as_str()
            ),
            Instead::ProfileOrBypass { profile, id } => {
                format!("use the `{profile}` profile, or record the `canary` bypass of {id} first")
            }
            Instead::WaitForFreeze { until, zone } => format!(
                "wait until the freeze ends ({} {zone}); in a declared emergency whose category \
                 may bypass `freeze`, record that bypass first",
                until.map_or_else(
                    || "never".to_owned(),
                    |until| until.strftime("%Y-%m-%d %H:%M").to_string()
                )
            ),
            Instead::DeployInWindow { next, zone } => format!(
                "deploy inside a change window ({}); in a declared emergency whose category may \
                 bypass `window`, record that bypass first",
                next_window(next.as_ref(), zone)
            ),
            Instead::GiveEta => {
                "give the expected merge time as HH:MM, for example 23:30, or leave it out"
                    .to_owned()
            }
            Instead::TodaysId { example, dated } => format!(
                "use today's incident id, for example {example}; if the incident really is dated \
                 {dated}, declare it again accepting any date"
            ),
            Instead::UseNormalLane { did_you_mean } => after_suggestion(
                did_you_mean.as_deref(),
                "use the normal lane; declare an emergency only for a severity listed in \
                 emergency.severities",
            ),
            Instead::AnswerPreflight { .. } => "try the feature-flag flip first, then the \
                                                rollback; if neither mitigates, declare again \
                                                saying why no flag covers it and why a rollback \
                                                does not fix it"
                .to_owned(),
            Instead::ReviewRate { roles, holders } => format!(
                "record a team review first, by a person holding one of {}{}, then declare again",
                config_list(roles),
                holders_note(holders)
            ),
            Instead::NamePerson { did_you_mean, key } => after_suggestion(
                did_you_mean.as_deref(),
                &format!(
                    "name a person from [people] (by name or email), or add `[people.{key}]` \
                     with their roles to the config"
                ),
            ),
            Instead::Identify => "act as a person listed in [people], or add them under \
                                  [people] with their roles"
                .to_owned(),
        };
        formatter.write_str(&text)
    }
}

/// `the next window opens Monday 2026-05-25 09:00 Asia/Kolkata`, or that none does within the
/// year looked ahead.
pub fn next_window(next: Option<&DateTime>, zone: &str) -> String {
    next.map_or_else(
        || "no window opens in the next year".to_owned(),
        |opening| {
            format!(
                "the next window opens {} {zone}",
                opening.strftime("%A %Y-%m-%d %H:%M")
            )
        },
    )
}

#[cfg(test)]
#[path = "instead_tests.rs"]
mod tests;
