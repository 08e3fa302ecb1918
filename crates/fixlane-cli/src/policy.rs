//! Which `fixlane.toml` judges a change: on an emergency lane (and for `check-commit` and an
//! emergency's canary) the one committed at the base commit, so a fix cannot rewrite the rules
//! that judge it; on the normal lane the working tree's, with every weakening against the base
//! shown and audited.

use fixlane_core::policy_change::{self, Weakening};
use fixlane_core::rev::short;
use fixlane_core::{Config, plural};
use fixlane_runner::git::Repository;

use crate::exit::Failure;
use crate::settings::Context;

/// What the base commit says about the policy.
pub enum BasePolicy {
    /// The config as committed at the base.
    Found { base: String, config: Box<Config> },
    /// The base's text is byte for byte the working tree's: nothing to parse twice.
    Same { base: String },
    /// Why there is none to read; an emergency lane fails closed on it.
    Missing(String),
}

impl BasePolicy {
    pub fn config(&self) -> Option<&Config> {
        match self {
            BasePolicy::Found { config, .. } => Some(config),
            BasePolicy::Same { .. } | BasePolicy::Missing(_) => None,
        }
    }
}

/// The config's text at the base as already read, so the run's start asks git once.
pub enum BaseText {
    /// Not asked yet (or asking failed, and is asked again to say why).
    Unread,
    /// The base has no such file.
    Absent,
    Found(String),
}

/// The config file as git names it: repository-relative with `/`, or `None` outside the
/// repository.
pub fn config_in_repo(context: &Context) -> Option<String> {
    let relative = context.config_path.strip_prefix(context.root()).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Reads and parses the config at `base` (the text from git, when the caller already has it).
pub fn at_base(context: &Context, base: Option<&str>, text: BaseText) -> BasePolicy {
    let Some(base) = base else {
        return BasePolicy::Missing(
            "there is no base commit to read the policy from (a root commit, or a shallow clone \
             that cut the history off); fetch more history (`git fetch --deepen=50` or \
             `--unshallow`) or pass --base REV"
                .to_owned(),
        );
    };
    let Some(path) = config_in_repo(context) else {
        return BasePolicy::Missing(format!(
            "the config {} is outside the repository, so its version at the base commit cannot \
             be read; run with the repository's own fixlane.toml",
            context.config_path.display()
        ));
    };
    let text = match text {
        BaseText::Found(text) => Some(text),
        BaseText::Absent => None,
        BaseText::Unread => match context.repo.file_at(base, &path) {
            Ok(text) => text,
            Err(error) => {
                return BasePolicy::Missing(format!(
                    "the policy at the base commit {} could not be read: {error}",
                    short(base)
                ));
            }
        },
    };
    let Some(text) = text else {
        return BasePolicy::Missing(format!(
            "{path} does not exist at the base commit {}; bring the policy in through the normal \
             lane first",
            short(base)
        ));
    };
    match fixlane_core::config::parse(&text, &format!("{path} at {}", short(base))) {
        Ok(config) => BasePolicy::Found {
            base: base.to_owned(),
            config: Box::new(config),
        },
        Err(errors) => BasePolicy::Missing(format!(
            "{path} at the base commit {} is not valid ({}; `git show {}:{path} | fixlane \
             config check` shows them)",
            short(base),
            plural::count(errors.errors.len(), "problem", "problems"),
            short(base)
        )),
    }
}

/// The policy an emergency lane runs under, and why the run must be refused (empty when it
/// may go on): what the working tree changes against the base (committed or not, since a
/// run executes the working tree) may not include the policy or a critical gate's script.
pub fn for_emergency_lane(
    context: &Context,
    head: Config,
    base: BasePolicy,
    lane: &fixlane_core::LaneName,
) -> Result<(Config, Vec<String>), Failure> {
    let path = config_in_repo(context).unwrap_or_default();
    let (config, base) = match base {
        BasePolicy::Found { base, config } => {
            // The texts differ (an unchanged policy is `Same`), so say whose rules apply.
            eprintln!(
                "note: this emergency-lane run is judged by {path} as committed at the base {}, \
                 not by the working tree's version",
                short(&base)
            );
            (*config, base)
        }
        BasePolicy::Same { base } => (head, base),
        BasePolicy::Missing(why) => {
            return Ok((
                head,
                vec![format!(
                    "an emergency lane runs under the policy of the base commit, and {why}; the \
                     emergency lane fails closed"
                )],
            ));
        }
    };
    let touched = context.repo.worktree_changes(&base)?;
    let refusals = policy_change::emergency_refusals(&config, lane, &path, &touched);
    Ok((config, refusals))
}

/// The config an emergency action outside a run (`check-commit`, an emergency's canary) is
/// judged by, and that commit: the base's (see `Bases::policy`), which is the commit's own
/// once the fix is on the default branch. `Err` (a refusal, exit 1) when there is none.
pub fn for_emergency_action(
    context: &Context,
    rev: &str,
    acting: &str,
) -> Result<(Config, Option<String>), Failure> {
    let base = context.repo.bases(rev)?.policy;
    match at_base(context, base.as_deref(), BaseText::Unread) {
        BasePolicy::Found { base, config } => Ok((*config, Some(base))),
        // Not produced from unread text; read as committed all the same.
        BasePolicy::Same { base } => Ok((context.load_config()?, Some(base))),
        BasePolicy::Missing(why) => Err(Failure::failed(anyhow::anyhow!(
            "{acting} is refused: an emergency is judged by the policy of the base commit, and \
             {why}"
        ))),
    }
}

/// The weakenings of the working tree's policy against the base, for the normal lane.
pub fn weakenings(base: &BasePolicy, head: &Config) -> Vec<Weakening> {
    base.config()
        .map(|base| policy_change::weakenings(base, head))
        .unwrap_or_default()
}

/// The lines shown with a normal-lane run that weakens the policy.
pub fn weakening_lines(base: &BasePolicy, weakenings: &[Weakening]) -> Vec<String> {
    let from = match base {
        BasePolicy::Found { base, .. } | BasePolicy::Same { base } => short(base).to_owned(),
        BasePolicy::Missing(_) => "the base".to_owned(),
    };
    let mut lines = vec![format!(
        "policy: this change weakens the policy of the base commit {from} in {} (logged in the \
         audit log):",
        plural::count(weakenings.len(), "place", "places")
    )];
    lines.extend(
        weakenings
            .iter()
            .map(|weakening| format!("  - {weakening}")),
    );
    lines
}
