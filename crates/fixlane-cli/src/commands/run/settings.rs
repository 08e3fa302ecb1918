//! What a run is asked to do, parsed once from `fixlane run`'s arguments (or from `fixlane ci`'s
//! and the CI's environment, see `commands::ci`): names are names, the moment is a moment, the
//! parallelism is a count, before git or the config are asked anything.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::Context as _;
use fixlane_core::{IncidentId, LaneName};

use crate::cli::RunArgs;
use crate::exit::Failure;
use crate::records;
use crate::report::View;

/// How many gates run at once: `--jobs`, else (or for 0) the machine's cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jobs(NonZeroUsize);

impl Jobs {
    /// When the cores cannot be counted.
    const FALLBACK: NonZeroUsize = NonZeroUsize::MIN.saturating_add(1);

    pub fn parse(jobs: Option<usize>) -> Self {
        Jobs(
            jobs.and_then(NonZeroUsize::new)
                .or_else(|| std::thread::available_parallelism().ok())
                .unwrap_or(Self::FALLBACK),
        )
    }

    pub fn get(self) -> usize {
        self.0.get()
    }
}

/// What a run is asked to do: `fixlane_runner::run::RunSettings` is how it is done, once the lane
/// and the plan are known.
#[derive(Debug)]
pub struct RunPlanSettings {
    /// The lane named; else the labels, the branch or the default decide (`lane::choose`).
    pub lane: Option<LaneName>,
    pub labels: Vec<String>,
    /// The commit, as git is asked about it.
    pub rev: String,
    /// The branch as named; else git's current branch.
    pub branch: Option<String>,
    /// What `scope = "changed"` compares against, as named; else the merge-base.
    pub base: Option<String>,
    pub incident: Option<IncidentId>,
    pub jobs: Jobs,
    /// The moment change windows and freezes are judged at; `None` is when they are judged.
    pub at: Option<jiff::Timestamp>,
    pub view: View,
    pub junit: Option<PathBuf>,
    pub summary: Option<PathBuf>,
    /// Every gate of the lane runs, whatever changed (a backfill pays every owed gate back).
    pub full: bool,
    /// Say why each gate was selected, shortened, skipped or owed (`--explain`).
    pub explain: bool,
}

impl RunPlanSettings {
    pub fn parse(arguments: &RunArgs) -> Result<Self, Failure> {
        Ok(Self {
            lane: arguments
                .lane
                .as_deref()
                .map(LaneName::parse)
                .transpose()
                .context("--lane")?,
            labels: arguments.labels.clone(),
            rev: arguments.rev.clone().unwrap_or_else(|| "HEAD".to_owned()),
            branch: arguments.branch.clone(),
            base: arguments.base.clone(),
            // A branch names its incident only through the store (see `emergency::prepare`):
            // `hotfix/INC-1-fix` could be INC-1 or INC-1-fix, and only the record knows.
            incident: arguments
                .incident
                .as_deref()
                .map(IncidentId::parse)
                .transpose()
                .context("--incident")?,
            jobs: Jobs::parse(arguments.jobs),
            at: arguments
                .at
                .as_deref()
                .map(|at| records::moment(Some(at)))
                .transpose()?,
            view: View::choose(arguments.json),
            junit: arguments.junit.clone(),
            summary: arguments.summary.clone(),
            full: false,
            explain: arguments.explain,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(arguments: &[&str]) -> Result<RunPlanSettings, Failure> {
        let cli = Cli::try_parse_from([&["fixlane", "run"], arguments].concat()).unwrap();
        let Command::Run(arguments) = cli.command else {
            unreachable!("a run command")
        };
        RunPlanSettings::parse(&arguments)
    }

    #[test]
    fn without_arguments_head_is_run_with_a_job_per_core() {
        let settings = parse(&[]).unwrap();
        assert_eq!(settings.rev, "HEAD");
        assert_eq!(settings.lane, None);
        assert_eq!(settings.incident, None);
        assert_eq!(settings.at, None);
        assert_eq!(
            settings.jobs.get(),
            std::thread::available_parallelism().unwrap().get()
        );
        assert_ne!(settings.view, View::Json);
    }

    #[test]
    fn names_and_the_moment_are_parsed() {
        let settings = parse(&[
            "--lane",
            "hotfix",
            "--incident",
            "INC-2026-12-01-001",
            "--at",
            "2026-11-25T22:00:00+05:30",
            "--jobs",
            "3",
            "--json",
            "--label",
            "p0",
        ])
        .unwrap();
        assert_eq!(settings.lane.unwrap().as_str(), "hotfix");
        assert_eq!(settings.incident.unwrap().as_str(), "INC-2026-12-01-001");
        assert_eq!(
            settings.at.unwrap(),
            "2026-11-25T16:30:00Z".parse::<jiff::Timestamp>().unwrap()
        );
        assert_eq!(settings.jobs.get(), 3);
        assert_eq!(settings.view, View::Json);
        assert_eq!(settings.labels, ["p0"]);
    }

    #[test]
    fn zero_jobs_is_a_job_per_core() {
        assert_eq!(Jobs::parse(Some(0)), Jobs::parse(None));
        assert_eq!(Jobs::parse(Some(1)).get(), 1);
    }

    #[test]
    fn what_is_not_a_name_or_a_moment_is_refused_naming_the_flag() {
        let lane = parse(&["--lane", "Not A Lane"]).unwrap_err();
        assert!(
            format!("{:#}", lane.error).starts_with("--lane: "),
            "{:#}",
            lane.error
        );
        let incident = parse(&["--incident", "not an id!"]).unwrap_err();
        assert!(
            format!("{:#}", incident.error).starts_with("--incident: "),
            "{:#}",
            incident.error
        );
        let at = parse(&["--at", "tonight"]).unwrap_err();
        assert!(
            format!("{:#}", at.error).starts_with("--at tonight: "),
            "{:#}",
            at.error
        );
    }
}
