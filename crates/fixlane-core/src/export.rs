//! Workflows generated from `fixlane.toml`, so the CI's routing of branches to lanes never
//! drifts from the config: `fixlane export github-actions`.

use std::fmt::Write as _;

use crate::config::model::Config;

/// Where the GitHub Actions workflow is written by default.
pub const GITHUB_WORKFLOW_PATH: &str = ".github/workflows/fixlane.yml";

/// A YAML single-quoted scalar: the only escape is a doubled quote.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// How the workflow's jobs get the `fixlane` binary. fixlane is on no registry, so it is built
/// with cargo from its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// The repository is fixlane's own: the job builds the checkout it is testing.
    FromCheckout,
    /// Any other repository: `cargo install --git` from where the organization keeps fixlane's
    /// source, named by the repository variable `FIXLANE_SOURCE` (and pinned by
    /// `FIXLANE_SOURCE_REV`, when set).
    FromGit,
}

impl Install {
    /// The job's install step, indented for a job's `steps:`.
    fn step(self) -> &'static str {
        match self {
            Install::FromCheckout => {
                "      # This is fixlane's own repository: the job builds the fixlane it checks out.\n\
                 \x20     - name: Install fixlane\n\
                 \x20       run: cargo install --locked --path crates/fixlane-cli\n"
            }
            Install::FromGit => {
                "      # fixlane is on no registry: cargo builds it from its git repository, named by\n\
                 \x20     # the repository variable FIXLANE_SOURCE (FIXLANE_SOURCE_REV pins a commit).\n\
                 \x20     - name: Install fixlane\n\
                 \x20       env:\n\
                 \x20         FIXLANE_SOURCE: ${{ vars.FIXLANE_SOURCE }}\n\
                 \x20         FIXLANE_SOURCE_REV: ${{ vars.FIXLANE_SOURCE_REV }}\n\
                 \x20       run: >-\n\
                 \x20         cargo install --locked\n\
                 \x20         --git \"${FIXLANE_SOURCE:?set the repository variable FIXLANE_SOURCE to the git URL of fixlane}\"\n\
                 \x20         ${FIXLANE_SOURCE_REV:+--rev \"$FIXLANE_SOURCE_REV\"}\n\
                 \x20         fixlane-cli\n"
            }
        }
    }
}

/// What the `fixlane ci` step reports to: the team server (a repository variable; when it is
/// empty the run records in the job's own store only, where an emergency lane finds no approved
/// record) and the token it acts with (a secret: the token of a person under `[people]`). Only
/// that step sees them: the install step builds code (build scripts of dependencies included)
/// that has no business with the token.
const SERVER_ENV: &str = "        env:\n\
     \x20         FIXLANE_SERVER: ${{ vars.FIXLANE_SERVER }}\n\
     \x20         FIXLANE_TOKEN: ${{ secrets.FIXLANE_TOKEN }}\n";

/// The branch a run builds, in GitHub's expression language.
const BRANCH: &str = "(github.head_ref || github.ref_name)";

/// A GitHub expression that holds exactly when `glob` matches the branch, if the glob has a shape
/// the expression language can say: an exact name, or a prefix followed by `**`. (A lone `*`
/// stops at `/`, which `startsWith` cannot.)
fn branch_condition(glob: &str) -> Option<String> {
    let wildcard = |text: &str| text.contains(['*', '?', '[', '{']);
    if !wildcard(glob) {
        return Some(format!("{BRANCH} == {}", quoted(glob)));
    }
    let prefix = glob
        .strip_suffix("/**")
        .map(|prefix| format!("{prefix}/"))
        .or_else(|| glob.strip_suffix("**").map(str::to_owned))?;
    if wildcard(&prefix) {
        return None;
    }
    Some(format!("startsWith({BRANCH}, {})", quoted(&prefix)))
}

/// The workflow: one job per lane whose branches or labels GitHub can match, running
/// `fixlane ci --lane LANE`, and a default job otherwise, running `fixlane ci`, which chooses the
/// lane itself (so globs GitHub cannot express still reach their lane). Each job reads the
/// repository only (`permissions: contents: read`), installs fixlane as `install` says, and
/// reports to the team server when `FIXLANE_SERVER` is set.
pub fn github_workflow(config: &Config, config_file: &str, install: Install) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated from {config_file} by `fixlane export github-actions`: do not edit by hand.\n\
         # Regenerate it after changing the lanes; `fixlane export github-actions --check` fails\n\
         # while the two disagree.\n\
         name: fixlane\n"
    );
    let mut push_branches = vec!["main".to_owned()];
    for lane in config.lanes.values() {
        for glob in &lane.branches {
            if !push_branches.contains(glob) {
                push_branches.push(glob.clone());
            }
        }
    }
    let _ = writeln!(
        out,
        "on:\n  push:\n    branches: [{}]\n  pull_request:\n    types: [opened, synchronize, reopened, labeled, unlabeled]\n",
        push_branches
            .iter()
            .map(|branch| quoted(branch))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "permissions:\n  contents: read\n\n\
         concurrency:\n  group: fixlane-${{{{ github.head_ref || github.ref }}}}\n  cancel-in-progress: true\n\njobs:"
    );

    let mut lane_conditions = Vec::new();
    let mut unexpressed = Vec::new();
    for (name, lane) in &config.lanes {
        let mut conditions: Vec<String> = Vec::new();
        for glob in &lane.branches {
            match branch_condition(glob) {
                Some(condition) => conditions.push(condition),
                None => unexpressed.push(format!("{name}: {glob}")),
            }
        }
        for label in &lane.labels {
            conditions.push(format!(
                "contains(github.event.pull_request.labels.*.name, {})",
                quoted(label)
            ));
        }
        if !conditions.is_empty() {
            lane_conditions.push((name.clone(), lane.emergency, conditions.join(" || ")));
        }
    }

    let step = |out: &mut String, job: &str, lane: Option<&str>, condition: &str, note: &str| {
        let command = lane.map_or_else(
            || "fixlane ci".to_owned(),
            |lane| format!("fixlane ci --lane {lane}"),
        );
        let _ = writeln!(out, "  {job}:");
        if !note.is_empty() {
            let _ = writeln!(out, "    # {note}");
        }
        let _ = writeln!(out, "    if: ${{{{ {condition} }}}}");
        let _ = writeln!(
            out,
            "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0  # the base of `scope = \"changed\"`\n{}      - run: {command}\n{SERVER_ENV}",
            install.step()
        );
    };

    let normal_condition = if lane_conditions.is_empty() {
        "true".to_owned()
    } else {
        format!(
            "!({})",
            lane_conditions
                .iter()
                .map(|(_, _, condition)| format!("({condition})"))
                .collect::<Vec<_>>()
                .join(" || ")
        )
    };
    step(
        &mut out,
        "fixlane",
        None,
        &normal_condition,
        "fixlane chooses the lane from the branch and labels (normal unless one matches)",
    );
    for (name, emergency, condition) in &lane_conditions {
        let note = if *emergency {
            "an emergency lane: its verdict needs an approved emergency change"
        } else {
            ""
        };
        step(
            &mut out,
            &format!("lane-{name}"),
            Some(name.as_str()),
            condition,
            note,
        );
    }
    for glob in unexpressed {
        let _ = writeln!(
            out,
            "# {glob}: GitHub expressions cannot say this glob; the `fixlane` job's `fixlane ci` matches it."
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    const CONFIG: &str = r#"
[project]
name = "x"
[gates.build]
run = "make"
tier = "critical"
[lanes.hotfix]
branches = ["hotfix/**", "release-fix"]
labels = ["hotfix"]
emergency = true
[lanes.docs]
branches = ["docs/*", "a*b/**"]
"#;

    #[test]
    fn branch_globs_become_expressions_where_they_can() {
        assert_eq!(
            branch_condition("hotfix/**").as_deref(),
            Some("startsWith((github.head_ref || github.ref_name), 'hotfix/')")
        );
        assert_eq!(
            branch_condition("it's").as_deref(),
            Some("(github.head_ref || github.ref_name) == 'it''s'")
        );
        assert_eq!(branch_condition("a*b/**"), None);
        assert_eq!(branch_condition("docs/*"), None);
        assert_eq!(branch_condition("*-fix"), None);
    }

    #[test]
    fn the_workflow_routes_each_lane_and_says_what_it_cannot() {
        let config = parse(CONFIG, "fixlane.toml").unwrap();
        let workflow = github_workflow(&config, "fixlane.toml", Install::FromGit);
        insta::assert_snapshot!(workflow);
        assert!(workflow.contains("run: fixlane ci --lane hotfix"));
        assert!(
            !workflow.contains("lane-docs"),
            "docs has no glob GitHub can match exactly"
        );
        assert!(workflow.contains("contains(github.event.pull_request.labels.*.name, 'hotfix')"));
        assert!(workflow.contains("# docs: a*b/**: GitHub expressions cannot say this glob"));
        assert!(workflow.contains("# docs: docs/*:"));
        assert!(workflow.contains("      - run: fixlane ci\n"));
        assert!(workflow.contains("permissions:\n  contents: read\n"));
        assert_eq!(
            workflow
                .matches("FIXLANE_TOKEN: ${{ secrets.FIXLANE_TOKEN }}")
                .count(),
            2,
            "every job reports with the token"
        );
        assert!(workflow.contains("--git \"${FIXLANE_SOURCE:?"));
        // The install step builds other people's code: it never sees the token.
        for job in workflow.split("- name: Install fixlane").skip(1) {
            let install = job.split("      - run: fixlane ci").next().unwrap();
            assert!(!install.contains("FIXLANE_TOKEN"), "{install}");
        }
    }

    #[test]
    fn fixlanes_own_repository_builds_its_checkout() {
        let config = parse(CONFIG, "fixlane.toml").unwrap();
        let workflow = github_workflow(&config, "fixlane.toml", Install::FromCheckout);
        assert!(workflow.contains("run: cargo install --locked --path crates/fixlane-cli\n"));
        assert!(!workflow.contains("FIXLANE_SOURCE"));
    }
}
