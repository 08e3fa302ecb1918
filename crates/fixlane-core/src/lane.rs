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

#[cfg(test)]
mod tests {
    use super::*;

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
