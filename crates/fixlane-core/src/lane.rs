//! Choosing the lane of a run: `--lane`, else a `--label`, else the branch, else `normal`.

use globset::{GlobBuilder, GlobMatcher};
use serde::Serialize;

use crate::config::model::Config;
use crate::names::LaneName;

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

/// Whether a run on `run_branch` may use the emergency declared for `declared_branch`: an
/// emergency covers the one branch it was declared for, so its approvals cannot turn an
/// unrelated branch ready. `Err` says why not, in a whole sentence.
pub fn check_emergency_branch(
    incident: &str,
    declared_branch: &str,
    run_branch: Option<&str>,
) -> Result<(), String> {
    match run_branch {
        Some(branch) if branch == declared_branch => Ok(()),
        Some(branch) => Err(format!(
            "emergency {incident} belongs to the branch {declared_branch}, not {branch}: an \
             emergency's approvals cover only the branch it was declared for; run the emergency \
             lane on {declared_branch}, or declare a new emergency for this change"
        )),
        None => Err(format!(
            "emergency {incident} belongs to the branch {declared_branch}, and this run is on a \
             detached HEAD: check out {declared_branch}, or pass --branch {declared_branch} \
             when CI checked out its commit"
        )),
    }
}

/// What an emergency-lane run says when no record matches it. `id_matches` tells which of the
/// branch's candidate ids have the configured id shape; `active` lists the emergencies still
/// open, as `(id, branch)`.
pub fn missing_emergency_reason(
    branch: Option<&str>,
    id_matches: impl Fn(&str) -> bool,
    active: &[(String, String)],
) -> String {
    let active_text = if active.is_empty() {
        "no emergency is active".to_owned()
    } else {
        format!(
            "the active emergencies are {}",
            active
                .iter()
                .map(|(id, branch)| format!("{id} (branch {branch})"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let named = branch.and_then(|branch| {
        incident_candidates(branch)
            .into_iter()
            .find(|candidate| id_matches(candidate))
            .map(|id| (branch, id))
    });
    match named {
        Some((branch, id)) => format!(
            "this emergency-lane run needs an approved emergency change, and {id} (named by the \
             branch {branch}) is not declared: declare it with `fixlane declare {id} …`, or check \
             the id in the branch name; {active_text}"
        ),
        None => format!(
            "this emergency-lane run needs an approved emergency change and none matches it: \
             declare one with `fixlane declare` and run on the branch it prints \
             (hotfix/<ID>-…), or name it with `--incident ID`; {active_text}"
        ),
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
        assert!(other.contains("belongs to the branch hotfix/INC-1-x, not feature/y"));
        let detached = check_emergency_branch("INC-1", "hotfix/INC-1-x", None).unwrap_err();
        assert!(detached.contains("--branch hotfix/INC-1-x"));
    }

    #[test]
    fn an_undeclared_id_in_the_branch_is_named_with_the_active_ones() {
        let shaped = |id: &str| id.len() == "INC-2026-12-01-005".len() && id.starts_with("INC-");
        let reason = missing_emergency_reason(
            Some("hotfix/INC-2026-12-01-005-oops"),
            shaped,
            &[(
                "INC-2026-12-01-001".into(),
                "hotfix/INC-2026-12-01-001-a".into(),
            )],
        );
        assert!(
            reason.contains("INC-2026-12-01-005 (named by the branch hotfix/INC-2026-12-01-005-oops) is not declared"),
            "{reason}"
        );
        assert!(reason.contains("INC-2026-12-01-001 (branch hotfix/INC-2026-12-01-001-a)"));
        assert!(!reason.contains("hotfix/<ID>"), "{reason}");
        let unnamed = missing_emergency_reason(Some("quick-fix"), shaped, &[]);
        assert!(unnamed.contains("hotfix/<ID>-…"));
        assert!(unnamed.contains("no emergency is active"));
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
