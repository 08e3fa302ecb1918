//! `fixlane ci`: `fixlane run` as a CI job runs it — the branch and labels read from the CI's
//! environment (GitHub Actions, GitLab CI, else plain git), a `JUnit` report, and the job summary.

use std::path::PathBuf;

use super::run::settings::RunPlanSettings;
use crate::cli::{CiArgs, RunArgs};
use crate::exit::CommandResult;
use crate::settings::Context;

/// What the CI says about the change being built.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CiFacts {
    pub system: &'static str,
    pub branch: Option<String>,
    pub labels: Vec<String>,
    pub summary: Option<PathBuf>,
}

fn present(value: Option<String>) -> Option<String> {
    value.filter(|value| !value.is_empty())
}

/// Reads the CI's variables through `variable` (the process environment in use; a map in tests).
pub fn detect(variable: impl Fn(&str) -> Option<String>) -> CiFacts {
    if variable("GITHUB_ACTIONS").as_deref() == Some("true") {
        // A pull request's labels are only in the event payload GitHub writes to a file.
        let labels = variable("GITHUB_EVENT_PATH")
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|event| {
                event
                    .pointer("/pull_request/labels")
                    .and_then(serde_json::Value::as_array)
                    .map(|labels| {
                        labels
                            .iter()
                            .filter_map(|label| {
                                label.get("name").and_then(serde_json::Value::as_str)
                            })
                            .map(str::to_owned)
                            .collect()
                    })
            })
            .unwrap_or_default();
        return CiFacts {
            system: "GitHub Actions",
            branch: present(variable("GITHUB_HEAD_REF"))
                .or_else(|| present(variable("GITHUB_REF_NAME"))),
            labels,
            summary: present(variable("GITHUB_STEP_SUMMARY")).map(PathBuf::from),
        };
    }
    if variable("GITLAB_CI").as_deref() == Some("true") {
        return CiFacts {
            system: "GitLab CI",
            branch: present(variable("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"))
                .or_else(|| present(variable("CI_COMMIT_REF_NAME"))),
            labels: variable("CI_MERGE_REQUEST_LABELS")
                .map(|labels| {
                    labels
                        .split(',')
                        .map(str::trim)
                        .filter(|label| !label.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            summary: None,
        };
    }
    CiFacts {
        system: "git",
        ..CiFacts::default()
    }
}

pub fn ci(context: &Context, arguments: &CiArgs) -> CommandResult {
    let facts = detect(|name| std::env::var(name).ok());
    // Branch names and pull-request labels come from whoever opened the change.
    eprintln!(
        "fixlane ci: {}{}{}",
        facts.system,
        facts
            .branch
            .as_ref()
            .map(|branch| format!(", branch {}", fixlane_core::text::for_terminal(branch)))
            .unwrap_or_default(),
        if facts.labels.is_empty() {
            String::new()
        } else {
            format!(
                ", labels {}",
                fixlane_core::text::for_terminal(&facts.labels.join(", "))
            )
        }
    );
    let settings = RunPlanSettings::parse(&as_run(arguments, facts))?;
    super::run::execute(context, &settings)
}

/// `fixlane ci` in `fixlane run`'s words, parsed like them: the lane and jobs given, the CI's
/// branch, labels and job summary, and always a `JUnit` report.
fn as_run(arguments: &CiArgs, facts: CiFacts) -> RunArgs {
    RunArgs {
        lane: arguments.lane.clone(),
        labels: facts.labels,
        rev: None,
        branch: facts.branch,
        base: None,
        incident: None,
        jobs: arguments.jobs,
        json: false,
        at: None,
        junit: Some(arguments.junit.clone()),
        summary: facts.summary,
        explain: false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::report::View;

    fn facts(pairs: &[(&str, &str)]) -> CiFacts {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect();
        detect(|name| map.get(name).cloned())
    }

    #[test]
    fn github_pull_requests_use_the_head_branch_and_the_event_labels() {
        let directory = tempfile::tempdir().unwrap();
        let event = directory.path().join("event.json");
        std::fs::write(
            &event,
            r#"{"pull_request": {"labels": [{"name": "hotfix"}, {"name": "payments"}]}}"#,
        )
        .unwrap();
        let found = facts(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_HEAD_REF", "hotfix/INC-1-fix"),
            ("GITHUB_REF_NAME", "42/merge"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", "/tmp/summary.md"),
        ]);
        assert_eq!(found.branch.as_deref(), Some("hotfix/INC-1-fix"));
        assert_eq!(found.labels, ["hotfix", "payments"]);
        assert_eq!(found.summary, Some(PathBuf::from("/tmp/summary.md")));
    }

    #[test]
    fn github_pushes_use_the_ref_name() {
        let found = facts(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_HEAD_REF", ""),
            ("GITHUB_REF_NAME", "main"),
        ]);
        assert_eq!(found.branch.as_deref(), Some("main"));
        assert!(found.labels.is_empty());
    }

    #[test]
    fn gitlab_merge_requests_use_the_source_branch_and_labels() {
        let found = facts(&[
            ("GITLAB_CI", "true"),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "hotfix/INC-2-x"),
            ("CI_COMMIT_REF_NAME", "refs/merge-requests/7/head"),
            ("CI_MERGE_REQUEST_LABELS", "hotfix, p0"),
        ]);
        assert_eq!(found.system, "GitLab CI");
        assert_eq!(found.branch.as_deref(), Some("hotfix/INC-2-x"));
        assert_eq!(found.labels, ["hotfix", "p0"]);
    }

    #[test]
    fn a_ci_run_is_parsed_as_a_run_with_the_cis_facts() {
        let cli = Cli::try_parse_from(["fixlane", "ci", "--lane", "hotfix", "-j", "3"]).unwrap();
        let Command::Ci(arguments) = cli.command else {
            unreachable!("a ci command")
        };
        let facts = CiFacts {
            system: "GitLab CI",
            branch: Some("hotfix/INC-2-x".to_owned()),
            labels: vec!["p0".to_owned()],
            summary: Some(PathBuf::from("summary.md")),
        };
        let settings = RunPlanSettings::parse(&as_run(&arguments, facts)).unwrap();
        assert_eq!(settings.lane.unwrap().as_str(), "hotfix");
        assert_eq!(settings.jobs.get(), 3);
        assert_eq!(settings.rev, "HEAD");
        assert_eq!(settings.branch.as_deref(), Some("hotfix/INC-2-x"));
        assert_eq!(settings.labels, ["p0"]);
        assert_eq!(settings.junit, Some(PathBuf::from("fixlane-junit.xml")));
        assert_eq!(settings.summary, Some(PathBuf::from("summary.md")));
        assert_ne!(settings.view, View::Json);
        assert_eq!(settings.incident, None);
    }

    #[test]
    fn elsewhere_git_decides() {
        assert_eq!(facts(&[]).system, "git");
        assert_eq!(facts(&[]).branch, None);
    }
}
