//! What a run knows before its first gate: git's answers about the commit, the lane, and the
//! policy that judges it (the base commit's on an emergency lane).

use fixlane_core::affected::{self, Affected, GlobalInputs, Workspace};
use fixlane_core::event::{BaseChoice, Selection};
use fixlane_core::lane::{self, LaneInputs};
use fixlane_core::plan::{self, Changes, Plan};
use fixlane_core::policy_change::Weakening;
use fixlane_core::{Config, IncidentId};
use fixlane_runner::git::{FileAt, Repository};

use super::settings::RunPlanSettings;
use crate::exit::Failure;
use crate::policy::{self, BasePolicy, BaseText};
use crate::settings::Context;

/// What git says about the commit: gathered beside the config's parsing, since both are on the
/// way to the first gate and neither needs the other.
pub struct GitFacts {
    pub rev: String,
    pub branch: Option<String>,
    pub base: Option<String>,
    pub base_choice: BaseChoice,
    /// Whose `fixlane.toml` judges an emergency-lane run (see `Bases::policy`): the
    /// merge-base with the default branch, so a fix never judges itself; never taken from
    /// `--base`, which only says what to compare with.
    pub policy_base: Option<String>,
    pub changed_files: Option<Vec<String>>,
    /// The workspace's packages as its manifests say, read beside the config's parsing: which
    /// of them a change affects needs the config's `global_inputs`.
    pub workspace: Workspace,
    /// The config's text at the policy base, read beside the changed files.
    pub base_config_text: BaseText,
}

pub fn git_facts(context: &Context, settings: &RunPlanSettings) -> Result<GitFacts, Failure> {
    let repo = &context.repo;
    let rev_spec = settings.rev.as_str();
    let config_path = policy::config_in_repo(context);
    // One round of two git processes answers the commit, its parent, the branch, the default
    // branches and the commit's own config (its policy when the commit is on the default
    // branch); a given base is resolved beside them.
    let early = context.take_early_snapshot();
    let (snapshot, given) = std::thread::scope(|scope| {
        let given = settings
            .base
            .as_deref()
            .map(|base| scope.spawn(move || repo.resolve(base)));
        // Asked already, from the process's start, when it is the same question.
        let snapshot = early
            .and_then(|early| early.answer(repo.root(), rev_spec, config_path.as_deref()))
            .unwrap_or_else(|| repo.snapshot(rev_spec, config_path.as_deref()));
        (snapshot, given.map(std::thread::ScopedJoinHandle::join))
    });
    let snapshot = snapshot?;
    let branch = match &settings.branch {
        Some(branch) => Some(branch.clone()),
        None => snapshot.branch.clone(),
    };
    // A merge-base, only off the default branch.
    let bases = repo.bases_of(&snapshot)?;
    let rev = snapshot.commit.clone();
    let policy_base = bases.policy;
    let (base, base_choice) = if let (Some(given), Some(spec)) = (given, &settings.base) {
        let given = given.map_err(|_| anyhow::anyhow!("resolving the base failed"))?;
        (Some(given?), BaseChoice::Given { spec: spec.clone() })
    } else {
        let choice = match (&bases.compare, bases.compare_with) {
            (None, _) => BaseChoice::None,
            (Some(_), Some(with)) => BaseChoice::MergeBase { with },
            (Some(_), None) => BaseChoice::Parent,
        };
        (bases.compare, choice)
    };
    // The changed files and the base's policy, again at once; the policy is the commit's own
    // (read already) on the default branch.
    let own = policy_base.as_deref() == Some(rev.as_str());
    let (changed_files, base_config_text) = std::thread::scope(|scope| {
        let text = scope.spawn(|| match (&policy_base, &config_path) {
            (Some(_), Some(_)) if own => match snapshot.file {
                FileAt::Found(text) => BaseText::Found(text),
                FileAt::Absent => BaseText::Absent,
                FileAt::Unread => BaseText::Unread,
            },
            (Some(base), Some(path)) => match repo.file_at(base, path) {
                Ok(Some(text)) => BaseText::Found(text),
                Ok(None) => BaseText::Absent,
                Err(_) => BaseText::Unread,
            },
            _ => BaseText::Unread,
        });
        let changed = base
            .as_ref()
            .map(|base| repo.changed_files(base, &rev))
            .transpose();
        (changed, text.join().unwrap_or(BaseText::Unread))
    });
    let changed_files: Option<Vec<String>> = changed_files?;
    let workspace = fixlane_runner::packages::read_workspace(
        context.root(),
        changed_files.as_deref().unwrap_or_default(),
    );
    Ok(GitFacts {
        rev,
        branch,
        base,
        base_choice,
        policy_base,
        changed_files,
        workspace,
        base_config_text,
    })
}

/// The packages the run affects, by the judging config's `global_inputs`: every package when
/// the changes are unknown or ignored (a full run), as narrowing on nothing would fail open.
fn affected_packages(context: &Context, config: &Config, facts: &GitFacts, full: bool) -> Affected {
    let files = match &facts.changed_files {
        _ if full => {
            return affected::every_package(
                &facts.workspace,
                "a full run selects every package".to_owned(),
            );
        }
        None => {
            return affected::every_package(
                &facts.workspace,
                "the changed files are unknown (no base to compare with)".to_owned(),
            );
        }
        Some(files) => files,
    };
    let config_file = policy::config_in_repo(context);
    match GlobalInputs::new(config_file.as_deref(), &config.project.global_inputs) {
        Ok(globals) => affected::affected(&facts.workspace, files, &globals),
        // The loader checked every glob; should one still fail, nothing is narrowed.
        Err(error) => affected::every_package(
            &facts.workspace,
            format!("[project] global_inputs could not be read ({error})"),
        ),
    }
}

/// What `fixlane run` resolved from its settings, git and the policy before anything starts.
pub struct Resolved {
    /// The policy the run is judged by: the base commit's on an emergency lane.
    pub config: Config,
    pub plan: Plan,
    pub lane_why: String,
    pub rev: String,
    pub branch: Option<String>,
    pub incident: Option<IncidentId>,
    pub changed_files: Option<Vec<String>>,
    /// What the run selected: the base and how it was chosen, the changed files' count, the
    /// affected packages (`FIXLANE_CHANGED_PACKAGES`).
    pub selection: Selection,
    pub base: Option<String>,
    /// On the normal lane: how the working tree's policy is weaker than the base's, with the
    /// lines that say so.
    pub weakenings: Vec<Weakening>,
    pub weakening_lines: Vec<String>,
    /// The commit is on the default branch (its policy base is itself): a fix found in its
    /// history has been merged.
    pub on_default_branch: bool,
}

/// Chooses the lane and the policy, and plans the run. The lane is chosen by the base's policy
/// when there is one, so a branch cannot make its lane stop being an emergency lane either.
pub fn resolve(
    context: &Context,
    (head, head_hash): (Config, &str),
    mut facts: GitFacts,
    settings: &RunPlanSettings,
) -> Result<Resolved, Failure> {
    // Almost always the policy did not change: then the base's text is the working tree's, and
    // a second parse (of a config of a thousand gates, on the way to the first one) is skipped.
    let base = match (
        std::mem::replace(&mut facts.base_config_text, BaseText::Unread),
        &facts.policy_base,
    ) {
        (BaseText::Found(text), Some(base))
            if fixlane_core::audit::content_hash(&text) == head_hash =>
        {
            BasePolicy::Same { base: base.clone() }
        }
        (text, _) => policy::at_base(context, facts.policy_base.as_deref(), text),
    };
    let inputs = LaneInputs {
        explicit: settings.lane.as_ref(),
        labels: &settings.labels,
        branch: facts.branch.as_deref(),
    };
    let deciding = base.config().unwrap_or(&head);
    let choice = lane::choose(deciding, &inputs)?;
    let emergency_lane = deciding
        .lane(&choice.lane)
        .is_some_and(|lane| lane.emergency);
    let (config, refusals, weakenings, weakening_lines) = if emergency_lane {
        let (config, refusals) = policy::for_emergency_lane(context, head, base, &choice.lane)?;
        (config, refusals, Vec::new(), Vec::new())
    } else {
        let weakenings = policy::weakenings(&base, &head);
        let lines = if weakenings.is_empty() {
            Vec::new()
        } else {
            policy::weakening_lines(&base, &weakenings)
        };
        (head, Vec::new(), weakenings, lines)
    };
    // A full run does not narrow by changed files: every gate runs (as when the changes cannot
    // be known).
    let changes = match (&facts.changed_files, settings.full) {
        (_, true) => Changes::Full,
        (Some(files), false) => Changes::Known(files),
        (None, false) => Changes::Unknown,
    };
    let mut plan = plan::plan_with(&config, &choice.lane, changes)?;
    let selection = Selection {
        base: facts.base.clone(),
        base_choice: facts.base_choice.clone(),
        changed_files: facts.changed_files.as_ref().map(Vec::len),
        full: settings.full,
        packages: affected_packages(context, &config, &facts, settings.full),
    };
    for refusal in refusals {
        plan.refuse(refusal);
    }
    let on_default_branch = facts.policy_base.as_deref() == Some(facts.rev.as_str());
    Ok(Resolved {
        config,
        plan,
        lane_why: choice.why,
        rev: facts.rev,
        branch: facts.branch,
        incident: settings.incident.clone(),
        changed_files: facts.changed_files,
        selection,
        base: facts.base,
        weakenings,
        weakening_lines,
        on_default_branch,
    })
}
