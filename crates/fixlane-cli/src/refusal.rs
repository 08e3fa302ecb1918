//! How refusals read on the command line. The core says what to do instead as data
//! ([`Instead`]) and names no command; this module spells each next step as the `fixlane`
//! command and flags that take it, and so do the reasons an emergency-lane run finds no record.
//!
//! The words are the CLI's published text: tests and scripts match them, so each is pinned
//! byte for byte by the tests below.
//!
//! It depends on nothing but `fixlane-core` (and anyhow for [`error_text`]), so it can move with
//! the commands that print refusals.

use fixlane_core::emergency::instead::{
    Ask, Instead, after_suggestion, config_list, groups_text, holders_note, next_window,
};
use fixlane_core::emergency::{Refusal, Refusals};
use fixlane_core::lane::{BranchMismatch, MissingEmergency, NoEmergency};

/// One refusal over a few lines, naming `file` when the caller knows it.
pub fn render(refusal: &Refusal, file: Option<&str>) -> String {
    refusal.render_with(file, &instead)
}

/// Every refusal of one request at once.
pub fn render_all(refusals: &Refusals, file: Option<&str>) -> String {
    refusals.render_with(file, &instead)
}

/// A failure's whole message, as anyhow's `{:#}` writes it (each cause after a `: `), with any
/// refusal among the causes read as the CLI reads it rather than in the core's plain words.
pub fn error_text(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(|cause| {
            if let Some(refusal) = cause.downcast_ref::<Refusal>() {
                render(refusal, None)
            } else if let Some(refusals) = cause.downcast_ref::<Refusals>() {
                render_all(refusals, None)
            } else {
                cause.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// The bypass a refused deploy could record, as its command with the reason and compensation
/// left for the person to write.
fn bypass_hint(element: &str) -> String {
    format!("`fixlane bypass INC-… {element} --reason \"…\" --compensation \"…\"`")
}

/// What to do instead, as the command that does it.
pub fn instead(step: &Instead) -> String {
    match step {
        // Plain words already: the core's reading is the CLI's.
        Instead::Advice { .. } | Instead::Nothing { .. } => step.to_string(),
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
                format!(
                    "{lead}{}, with `fixlane approve {id} --as NAME`",
                    groups_text(missing)
                )
            }
        }
        Instead::CheckRecord { id } => format!("check the record with `fixlane show {id}`"),
        Instead::GetApprovals { id } => {
            format!("get the approvals first: `fixlane show {id}` lists what is missing")
        }
        Instead::CheckState { id } => format!(
            "check where it stands with `fixlane show {id}`; a fix that needs another attempt \
             after a rollback is a new incident: declare one"
        ),
        Instead::UseExistingRecord { id } => format!(
            "work on the existing record (`fixlane show {id}`), or declare a new incident with \
             its own id"
        ),
        Instead::VerifyOrDeclare => "after a promotion verify the symptom (`fixlane verify`); \
                                     after a rollback, a new attempt is a new incident: declare \
                                     one"
        .to_owned(),
        Instead::RunCanary { id } => format!("run the canary first: fixlane canary {id}"),
        Instead::Backfill { id } => format!("run the owed gates: fixlane backfill {id}"),
        Instead::JustifyBypass { id, element } => format!(
            "say why this element must be bypassed for this incident and what compensates for \
             it, e.g. `fixlane bypass {id} {} --reason \"the eval suite takes 40 minutes; the fix \
             is one guard clause\" --compensation \"the full suite runs on the cleanup change \
             within 24h\"`",
            element.as_str()
        ),
        Instead::ProfileOrBypass { profile, id } => format!(
            "use the `{profile}` profile, or record the bypass first: `fixlane bypass {id} canary \
             --reason \"…\" --compensation \"…\"`"
        ),
        Instead::WaitForFreeze { until, zone } => format!(
            "wait until the freeze ends ({} {zone}); in a declared emergency whose category may \
             bypass `freeze`, record it first with {}",
            until.map_or_else(
                || "never".to_owned(),
                |until| until.strftime("%Y-%m-%d %H:%M").to_string()
            ),
            bypass_hint("freeze")
        ),
        Instead::DeployInWindow { next, zone } => format!(
            "deploy inside a change window ({}); in a declared emergency whose category may \
             bypass `window`, record it first with {}",
            next_window(next.as_ref(), zone),
            bypass_hint("window")
        ),
        Instead::GiveEta => {
            "give --eta as HH:MM, for example --eta 23:30, or leave it out".to_owned()
        }
        Instead::TodaysId { example, dated } => format!(
            "use today's incident id, for example {example}; if the incident really is dated \
             {dated}, declare again with --any-date"
        ),
        Instead::UseNormalLane { did_you_mean } => after_suggestion(
            did_you_mean.as_deref(),
            "use the normal lane (`fixlane run`); declare an emergency only for a severity \
             listed in emergency.severities",
        ),
        Instead::AnswerPreflight { .. } => "try the feature-flag flip first, then the rollback; \
                                            if neither mitigates, declare again with --flag-flip \
                                            \"why no flag covers it\" and --rollback \"why a \
                                            rollback does not fix it\""
            .to_owned(),
        Instead::ReviewRate { roles, holders } => format!(
            "record a team review first: `fixlane review-rate --notes \"…\"` by a person holding \
             one of {}{}, then declare again",
            config_list(roles),
            holders_note(holders)
        ),
        Instead::NamePerson { did_you_mean, key } => after_suggestion(
            did_you_mean.as_deref(),
            &format!(
                "name a person from [people] (with --as, FIXLANE_USER or git's user.email for \
                 yourself), or add `[people.{key}]` with their roles to the config"
            ),
        ),
        Instead::Identify => "pass --as NAME or set FIXLANE_USER to a person listed in \
                              fixlane.toml, or add them under [people] with their roles"
            .to_owned(),
    }
}

/// Why an emergency-lane run has no emergency it may use, as its verdict says it.
pub fn no_emergency(reason: &NoEmergency) -> String {
    match reason {
        NoEmergency::NotDeclared { id } => format!(
            "this emergency-lane run names {id} with --incident, and {id} is not declared: \
             declare it with `fixlane declare {id} …`, or check the id"
        ),
        NoEmergency::OtherBranch(mismatch) => branch_mismatch(mismatch),
        NoEmergency::NoRecord(missing) => missing_emergency(missing),
    }
}

/// Why an emergency-lane run may not use the emergency of another branch, in a whole sentence.
fn branch_mismatch(mismatch: &BranchMismatch) -> String {
    let BranchMismatch {
        incident,
        declared_branch,
        run_branch,
    } = mismatch;
    match run_branch {
        Some(branch) => format!(
            "emergency {incident} belongs to the branch {declared_branch}, not {branch}: an \
             emergency's approvals cover only the branch it was declared for; run the emergency \
             lane on {declared_branch}, or declare a new emergency for this change"
        ),
        None => format!(
            "emergency {incident} belongs to the branch {declared_branch}, and this run is on a \
             detached HEAD: check out {declared_branch}, or pass --branch {declared_branch} \
             when CI checked out its commit"
        ),
    }
}

/// What an emergency-lane run says when no record matches it.
fn missing_emergency(missing: &MissingEmergency) -> String {
    let active = missing.active_text();
    match &missing.named {
        Some((branch, id)) => format!(
            "this emergency-lane run needs an approved emergency change, and {id} (named by the \
             branch {branch}) is not declared: declare it with `fixlane declare {id} …`, or check \
             the id in the branch name; {active}"
        ),
        None => format!(
            "this emergency-lane run needs an approved emergency change and none matches it: \
             declare one with `fixlane declare` and run on the branch it prints \
             (hotfix/<ID>-…), or name it with `--incident ID`; {active}"
        ),
    }
}

#[cfg(test)]
#[path = "refusal_tests.rs"]
mod tests;
