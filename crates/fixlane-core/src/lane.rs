//! Choosing the lane of a run: `--lane`, else a `--label`, else the branch, else `normal`; and
//! which emergency an emergency-lane run belongs to, or why none does, as data the caller words
//! (the CLI names its own flags and commands).

use globset::{GlobBuilder, GlobMatcher};
use serde::Serialize;

use crate::config::model::Config;
use crate::names::{IncidentId, LaneName};

/// What the caller knows when choosing a lane.
#[derive(Debug, Clone, Default)]
pub struct LaneInputs<'a> {
    pub explicit: Option<&'a LaneName>,
    pub labels: &'a [String],
    pub branch: Option<&'a str>,
}

/// The chosen lane and why, for the run header and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LaneChoice {
    pub lane: LaneName,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaneError {
    #[error("there is no lane `{lane}`; the lanes are: {known}")]
    Unknown { lane: LaneName, known: String },
    #[error("lane `{lane}` has a branch glob `{glob}` that does not parse: {why}")]
    BadGlob {
        lane: LaneName,
        glob: String,
        why: String,
    },
}

/// A branch glob where `*` stays within one path segment and `**` crosses `/`.
pub fn branch_matcher(glob: &str) -> Result<GlobMatcher, globset::Error> {
    Ok(GlobBuilder::new(glob)
        .literal_separator(true)
        .build()?
        .compile_matcher())
}

pub fn choose(config: &Config, inputs: &LaneInputs<'_>) -> Result<LaneChoice, LaneError> {
    if let Some(lane) = inputs.explicit {
        if lane.is_normal() || config.lanes.contains_key(lane) {
            return Ok(LaneChoice {
                lane: lane.clone(),
                why: "chosen with --lane".to_owned(),
            });
        }
        return Err(LaneError::Unknown {
            lane: lane.clone(),
            known: config
                .lane_names()
                .map(|name| name.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    for (name, lane) in &config.lanes {
        if let Some(label) = inputs
            .labels
            .iter()
            .find(|label| lane.labels.iter().any(|wanted| wanted == *label))
        {
            return Ok(LaneChoice {
                lane: name.clone(),
                why: format!("label `{label}`"),
            });
        }
    }
    if let Some(branch) = inputs.branch {
        for (name, lane) in &config.lanes {
            for glob in &lane.branches {
                let matcher = branch_matcher(glob).map_err(|error| LaneError::BadGlob {
                    lane: name.clone(),
                    glob: glob.clone(),
                    why: error.kind().to_string(),
                })?;
                if matcher.is_match(branch) {
                    return Ok(LaneChoice {
                        lane: name.clone(),
                        why: format!("branch matches `{glob}`"),
                    });
                }
            }
        }
    }
    Ok(LaneChoice {
        lane: LaneName::normal(),
        why: "no lane matched; the normal lane runs everything".to_owned(),
    })
}

/// The incident ids a branch such as `hotfix/INC-2026-05-20-001-fix-payment` may name: every
/// `-`-separated prefix of its last path segment, longest first. The caller keeps the first one
/// its store knows, so ids and slugs need no fixed shape.
pub fn incident_candidates(branch: &str) -> Vec<String> {
    let last = branch.rsplit('/').next().unwrap_or(branch);
    let mut candidates: Vec<String> = last
        .match_indices('-')
        .map(|(index, _)| last[..index].to_owned())
        .chain(std::iter::once(last.to_owned()))
        .filter(|candidate| !candidate.is_empty())
        .collect();
    candidates.reverse();
    candidates
}

/// Why an emergency-lane run has no emergency it may use, for the verdict to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum NoEmergency {
    /// The run named `id` itself, and no emergency has that id.
    NotDeclared { id: IncidentId },
    /// The emergency found was declared for another branch.
    OtherBranch(BranchMismatch),
    /// No record matches the run's branch.
    NoRecord(MissingEmergency),
}

/// A run on a branch other than the one its emergency was declared for, or on a detached HEAD
/// (`run_branch` is `None`): an emergency covers the one branch it was declared for, so its
/// approvals cannot turn an unrelated branch ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BranchMismatch {
    pub incident: String,
    pub declared_branch: String,
    pub run_branch: Option<String>,
}

/// Whether a run on `run_branch` may use the emergency declared for `declared_branch`.
pub fn check_emergency_branch(
    incident: &str,
    declared_branch: &str,
    run_branch: Option<&str>,
) -> Result<(), BranchMismatch> {
    if run_branch == Some(declared_branch) {
        return Ok(());
    }
    Err(BranchMismatch {
        incident: incident.to_owned(),
        declared_branch: declared_branch.to_owned(),
        run_branch: run_branch.map(str::to_owned),
    })
}

/// An emergency-lane run that no record matches: the undeclared id its branch names, if any,
/// and the emergencies still open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MissingEmergency {
    /// `(branch, id)`: the run's branch and the id of the configured shape it names.
    pub named: Option<(String, String)>,
    /// The open emergencies, as `(id, branch)`.
    pub active: Vec<(String, String)>,
}

impl MissingEmergency {
    /// `the active emergencies are INC-1 (branch hotfix/INC-1-x)`, or `no emergency is active`.
    pub fn active_text(&self) -> String {
        if self.active.is_empty() {
            return "no emergency is active".to_owned();
        }
        format!(
            "the active emergencies are {}",
            self.active
                .iter()
                .map(|(id, branch)| format!("{id} (branch {branch})"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// Why an emergency-lane run has no record. `id_matches` tells which of the branch's candidate
/// ids have the configured id shape; `active` lists the emergencies still open, as
/// `(id, branch)`.
pub fn missing_emergency(
    branch: Option<&str>,
    id_matches: impl Fn(&str) -> bool,
    active: &[(String, String)],
) -> MissingEmergency {
    let named = branch.and_then(|branch| {
        incident_candidates(branch)
            .into_iter()
            .find(|candidate| id_matches(candidate))
            .map(|id| (branch.to_owned(), id))
    });
    MissingEmergency {
        named,
        active: active.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emergency_covers_only_its_own_branch() {
        assert_eq!(
            check_emergency_branch("INC-1", "hotfix/INC-1-x", Some("hotfix/INC-1-x")),
            Ok(())
        );
        let other =
            check_emergency_branch("INC-1", "hotfix/INC-1-x", Some("feature/y")).unwrap_err();
        assert_eq!(
            other,
            BranchMismatch {
                incident: "INC-1".into(),
                declared_branch: "hotfix/INC-1-x".into(),
                run_branch: Some("feature/y".into()),
            }
        );
        let detached = check_emergency_branch("INC-1", "hotfix/INC-1-x", None).unwrap_err();
        assert_eq!(detached.run_branch, None);
        assert_eq!(detached.declared_branch, "hotfix/INC-1-x");
    }

    #[test]
    fn an_undeclared_id_in_the_branch_is_named_with_the_active_ones() {
        let shaped = |id: &str| id.len() == "INC-2026-12-01-005".len() && id.starts_with("INC-");
        let active = [(
            "INC-2026-12-01-001".to_owned(),
            "hotfix/INC-2026-12-01-001-a".to_owned(),
        )];
        let missing = missing_emergency(Some("hotfix/INC-2026-12-01-005-oops"), shaped, &active);
        assert_eq!(
            missing.named,
            Some((
                "hotfix/INC-2026-12-01-005-oops".to_owned(),
                "INC-2026-12-01-005".to_owned()
            ))
        );
        assert_eq!(
            missing.active_text(),
            "the active emergencies are INC-2026-12-01-001 (branch hotfix/INC-2026-12-01-001-a)"
        );
        let unnamed = missing_emergency(Some("quick-fix"), shaped, &[]);
        assert_eq!(unnamed.named, None);
        assert_eq!(unnamed.active_text(), "no emergency is active");
        assert_eq!(missing_emergency(None, shaped, &active).named, None);
    }

    #[test]
    fn incident_candidates_are_prefixes_longest_first() {
        assert_eq!(
            incident_candidates("hotfix/INC-1-fix-it"),
            vec!["INC-1-fix-it", "INC-1-fix", "INC-1", "INC"]
        );
    }

    #[test]
    fn double_star_crosses_slashes_and_single_star_does_not() {
        let deep = branch_matcher("hotfix/**").unwrap();
        assert!(deep.is_match("hotfix/INC-1/x"));
        assert!(deep.is_match("hotfix/INC-1-x"));
        assert!(!deep.is_match("feature/hotfix"));
        let shallow = branch_matcher("release/*").unwrap();
        assert!(!shallow.is_match("release/a/b"));
    }
}
