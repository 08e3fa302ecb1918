//! Commit discipline for hotfix commits (seed 001): the message names the incident and an
//! approver, so the audit trail starts in git; the diff is small; one concern per hotfix.

use serde::Serialize;

use crate::names::{IncidentId, PersonName};

/// What `fixlane check-commit` learned from git and the emergency record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInput {
    pub message: String,
    pub incident: IncidentId,
    /// Who approved, from the record, with their email when `[people]` has one.
    pub approvers: Vec<(PersonName, Option<String>)>,
    /// Added plus removed lines.
    pub lines_changed: u64,
    /// The lane's `max_diff_lines`.
    pub max_diff_lines: Option<u32>,
    /// The packages (workspace members) the diff touches.
    pub packages: Vec<String>,
    /// `--strict`: an oversized diff is an error rather than a warning.
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub level: Level,
    pub rule: &'static str,
    pub message: String,
}

/// Every finding on the commit; none means it follows the discipline.
pub fn check_commit(input: &CommitInput) -> Vec<Finding> {
    let mut findings = Vec::new();
    let incident = input.incident.as_str();
    if !contains_word(&input.message, incident) {
        findings.push(Finding {
            level: Level::Error,
            rule: "commit.incident",
            message: format!(
                "the commit message does not name the incident {incident}: add a line \
                 `{incident}` so the audit trail starts in git"
            ),
        });
    }

    if !input
        .approvers
        .iter()
        .any(|(name, email)| names_approver(&input.message, name, email.as_deref()))
    {
        let message = if input.approvers.is_empty() {
            format!(
                "{incident} has no approvals on record, so the commit cannot name its approver: \
                 get the approval first (`fixlane approve {incident} --as NAME`), then add \
                 `approver: @NAME` to the message"
            )
        } else {
            let handles: Vec<String> = input
                .approvers
                .iter()
                .map(|(name, _)| format!("@{name}"))
                .collect();
            format!(
                "the commit message names no approver of {incident}: add `approver: {}`",
                handles.join(" or ")
            )
        };
        findings.push(Finding {
            level: Level::Error,
            rule: "commit.approver",
            message,
        });
    }

    if let Some(max) = input.max_diff_lines
        && input.lines_changed > u64::from(max)
    {
        findings.push(Finding {
            level: if input.strict {
                Level::Error
            } else {
                Level::Warning
            },
            rule: "commit.max_diff_lines",
            message: format!(
                "the diff changes {} lines, more than the lane's max_diff_lines of {max}: that is \
                 doing too much in one hotfix; ship the smallest fix and move the rest to the \
                 cleanup change",
                input.lines_changed
            ),
        });
    }

    let mut packages: Vec<&str> = input.packages.iter().map(String::as_str).collect();
    packages.sort_unstable();
    packages.dedup();
    if packages.len() > 1 {
        findings.push(Finding {
            level: Level::Warning,
            rule: "commit.one_concern",
            message: format!(
                "the change touches {} packages ({}): one concern per hotfix; \"while I was \
                 there\" changes bypass review and belong in a separate change",
                packages.len(),
                packages.join(", ")
            ),
        });
    }
    findings
}

/// `@name`, the name as a whole word (any case), or the email.
fn names_approver(message: &str, name: &PersonName, email: Option<&str>) -> bool {
    let lower = message.to_ascii_lowercase();
    contains_word(&lower, &name.as_str().to_ascii_lowercase())
        || email
            .map(|email| email.trim().to_ascii_lowercase())
            .is_some_and(|email| !email.is_empty() && lower.contains(&email))
}

/// Whether `needle` occurs in `text` with no name character right before or after it, so
/// `bob` is not found in `bobby` and `INC-1` not in `INC-12`.
fn contains_word(text: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let is_name_character =
        |character: char| character.is_alphanumeric() || matches!(character, '-' | '_');
    text.match_indices(needle).any(|(start, found)| {
        let before = text[..start].chars().next_back();
        let after = text[start + found.len()..].chars().next();
        !before.is_some_and(is_name_character)
            && !after.is_some_and(|character| {
                // A trailing `.` ends a sentence; one followed by a name character continues it.
                is_name_character(character)
                    || (character == '.'
                        && text[start + found.len() + 1..]
                            .chars()
                            .next()
                            .is_some_and(is_name_character))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(message: &str) -> CommitInput {
        CommitInput {
            message: message.to_owned(),
            incident: IncidentId::parse("INC-2026-05-20-001").unwrap(),
            approvers: vec![
                (PersonName::parse("alice").unwrap(), None),
                (
                    PersonName::parse("carol").unwrap(),
                    Some("Carol@Example.com".to_owned()),
                ),
            ],
            lines_changed: 12,
            max_diff_lines: Some(50),
            packages: vec!["catalog".to_owned()],
            strict: false,
        }
    }

    fn rules(findings: &[Finding]) -> Vec<(&'static str, Level)> {
        findings
            .iter()
            .map(|finding| (finding.rule, finding.level))
            .collect()
    }

    const GOOD: &str = "hotfix(catalog): nil-deref on missing tenant header\n\n\
                        INC-2026-05-20-001\napprover: @alice\ncleanup: @bob within 24h.";

    #[test]
    fn the_seed_commit_message_passes() {
        assert_eq!(check_commit(&input(GOOD)), []);
    }

    #[test]
    fn a_message_without_the_incident_id_is_an_error() {
        let findings = check_commit(&input("fix nil-deref\napprover: @alice"));
        assert_eq!(rules(&findings), [("commit.incident", Level::Error)]);
        assert!(findings[0].message.contains("INC-2026-05-20-001"));
        // A longer id is another incident.
        let findings = check_commit(&input("INC-2026-05-20-0012\napprover: @alice"));
        assert_eq!(rules(&findings), [("commit.incident", Level::Error)]);
        // At the end of a sentence it counts.
        assert_eq!(check_commit(&input("Fixes INC-2026-05-20-001. @alice")), []);
    }

    #[test]
    fn a_message_naming_no_approver_is_an_error() {
        let findings = check_commit(&input("INC-2026-05-20-001\ncleanup: @bob"));
        assert_eq!(rules(&findings), [("commit.approver", Level::Error)]);
        assert!(findings[0].message.contains("@alice or @carol"));
        // A name inside a longer word is not the approver.
        let findings = check_commit(&input("INC-2026-05-20-001 approver: @alicea, caroline"));
        assert_eq!(rules(&findings), [("commit.approver", Level::Error)]);
    }

    #[test]
    fn an_approver_may_be_named_by_handle_word_or_email() {
        for message in [
            "INC-2026-05-20-001 approver: @carol",
            "INC-2026-05-20-001 approved by Carol",
            "INC-2026-05-20-001 approved-by: carol@example.com",
        ] {
            assert_eq!(check_commit(&input(message)), [], "{message}");
        }
    }

    #[test]
    fn without_approvals_on_record_the_approver_rule_says_so() {
        let mut commit = input(GOOD);
        commit.approvers.clear();
        let findings = check_commit(&commit);
        assert_eq!(rules(&findings), [("commit.approver", Level::Error)]);
        assert!(findings[0].message.contains("no approvals on record"));
    }

    #[test]
    fn an_oversized_diff_warns_and_fails_with_strict() {
        let mut commit = input(GOOD);
        commit.lines_changed = 50;
        assert_eq!(check_commit(&commit), []);
        commit.lines_changed = 51;
        let findings = check_commit(&commit);
        assert_eq!(
            rules(&findings),
            [("commit.max_diff_lines", Level::Warning)]
        );
        assert!(findings[0].message.contains("doing too much in one hotfix"));
        commit.strict = true;
        assert_eq!(
            rules(&check_commit(&commit)),
            [("commit.max_diff_lines", Level::Error)]
        );
        commit.max_diff_lines = None;
        assert_eq!(check_commit(&commit), []);
    }

    #[test]
    fn touching_two_packages_warns_one_concern_per_hotfix() {
        let mut commit = input(GOOD);
        commit.packages = vec!["catalog".to_owned(), "catalog".to_owned()];
        assert_eq!(check_commit(&commit), []);
        commit.packages.push("orders".to_owned());
        let findings = check_commit(&commit);
        assert_eq!(rules(&findings), [("commit.one_concern", Level::Warning)]);
        assert!(findings[0].message.contains("catalog, orders"));
    }

    #[test]
    fn hostile_messages_are_only_text() {
        let findings = check_commit(&input(
            "$(rm -rf /) `reboot`; \"INC-2026-05-20-001\" '@alice' && echo ok",
        ));
        assert_eq!(findings, []);
        let findings = check_commit(&input("$(echo INC-2026-05-20-001x) `@alice`"));
        assert_eq!(rules(&findings), [("commit.incident", Level::Error)]);
    }
}
