//! The validated configuration: what the rest of fixlane reads after `fixlane.toml` parsed cleanly.
//!
//! Nothing here is optional by accident: defaults are filled in by the loader, and every
//! cross-reference (needs, lanes, categories) has been checked.

use indexmap::IndexMap;
use serde::Serialize;

use crate::duration::Duration;
use crate::emergency::naming::IdPattern;
use crate::names::{GateName, LaneName, PersonName};

/// Where something was written, for messages that point back at the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct SourceLine {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A whole `fixlane.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The file it was read from, as given (for messages).
    pub file: String,
    pub project: Project,
    pub people: IndexMap<PersonName, Person>,
    /// Gates in the order they were written.
    pub gates: IndexMap<GateName, Gate>,
    /// The lanes declared under `[lanes]`; `normal` is implicit and never listed here.
    pub lanes: IndexMap<LaneName, Lane>,
    pub emergency: EmergencyPolicy,
    pub windows: Option<Windows>,
    pub deploy: Option<Deploy>,
    pub canary: Option<Canary>,
    /// Where the team hears about what fixlane does; no webhooks when absent.
    pub notify: Notify,
}

/// `[notify]`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Notify {
    pub webhooks: Vec<Webhook>,
}

/// One `[[notify.webhooks]]` entry.
#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub target: WebhookTarget,
    /// The events it hears, without repeats (every event when the file names none).
    pub events: Vec<crate::notify::WebhookEvent>,
    /// The variable holding its Standard Webhooks signing secret.
    pub secret_env: Option<String>,
}

/// Where a webhook is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookTarget {
    /// A URL written in the file.
    Url(String),
    /// The variable holding the URL (a Slack webhook URL is a secret).
    Env(String),
}

impl Webhook {
    /// What identifies this webhook across runs and replicas, without revealing its URL (which
    /// may be a secret): the variable's name, or a hash of the URL written in the file.
    pub fn key(&self) -> String {
        use sha2::Digest as _;
        match &self.target {
            WebhookTarget::Env(name) => format!("env:{name}"),
            WebhookTarget::Url(url) => {
                let digest = sha2::Sha256::digest(url.as_bytes());
                format!("url:{}", &hex::encode(digest)[..16])
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub name: String,
    /// Repository-relative globs whose change selects every package (`FIXLANE_CHANGED_PACKAGES`),
    /// beside the built-in lockfiles, toolchain files and root manifests.
    pub global_inputs: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub roles: Vec<String>,
    pub email: Option<String>,
}

/// How much a gate matters. The seeds' "absolutely-required" is `Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Never skipped, never bypassed, in any lane.
    Critical,
    /// Runs in every lane unless an approved emergency lane skips it (and records the debt).
    Required,
    /// May run after the verdict; its failure does not block.
    Optional,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Critical => "critical",
            Tier::Required => "required",
            Tier::Optional => "optional",
        }
    }

    /// The tier [`Tier::as_str`] names, for text read back (a store column).
    pub fn parse(text: &str) -> Option<Self> {
        [Tier::Critical, Tier::Required, Tier::Optional]
            .into_iter()
            .find(|tier| tier.as_str() == text)
    }
}

/// What a gate does, which decides what windows and freezes apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum GateKind {
    #[default]
    Check,
    Build,
    Deploy,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub name: GateName,
    pub run: String,
    pub tier: Tier,
    pub needs: Vec<GateName>,
    pub timeout: Option<Duration>,
    /// Globs (relative to the repository root) that `scope = "changed"` matches against.
    pub inputs: Vec<String>,
    /// Extra environment for the command, verbatim.
    pub env: IndexMap<String, String>,
    pub kind: GateKind,
    /// What each lane does differently; a lane not listed runs the gate as written.
    pub lanes: IndexMap<LaneName, LaneVariant>,
    pub source: SourceLine,
}

/// How one lane changes one gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum LaneVariant {
    /// `lanes.hotfix = "skip"`: not run in that lane (refused for critical gates).
    Skip,
    /// `lanes.hotfix = { run = "…", scope = "changed" }`.
    Variant { run: Option<String>, scope: Scope },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    All,
    /// Run only when a changed file matches the gate's `inputs`.
    Changed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    pub name: LaneName,
    /// Globs over branch names, `**` crossing `/`.
    pub branches: Vec<String>,
    pub labels: Vec<String>,
    /// An emergency lane skips required gates, so its runs need an approved emergency change.
    pub emergency: bool,
    pub max_diff_lines: Option<u32>,
    pub source: SourceLine,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmergencyPolicy {
    pub severities: Vec<String>,
    /// How incident ids look, e.g. `INC-YYYY-MM-DD-NNN`: parsed when the config is read.
    pub id_pattern: IdPattern,
    pub cleanup_within: Duration,
    pub postmortem_within: Duration,
    pub audit_review_within: Duration,
    pub backfill_within: Duration,
    pub rate_limit: Option<RateLimit>,
    pub author_limit: Option<RateLimit>,
    pub rate_review_roles: Vec<String>,
    /// Refuse a declaration while follow-ups are overdue, until a rate review (else it warns).
    pub overdue_blocks: bool,
    pub canary_profile: String,
    pub categories: IndexMap<String, Category>,
    /// Where the settings a declaration's refusals cite were written.
    pub lines: EmergencyLines,
}

/// Where a few `[emergency]` settings were written, for refusals that point back at them;
/// `None` for a setting left at its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct EmergencyLines {
    pub severities: Option<SourceLine>,
    pub id_pattern: Option<SourceLine>,
    pub rate_limit: Option<SourceLine>,
    pub overdue_blocks: Option<SourceLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    pub max: u32,
    pub within: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub name: String,
    /// Every group must be satisfied by a distinct person holding any role of the group.
    pub approvers: Vec<Vec<String>>,
    pub may_bypass: Vec<BypassElement>,
    pub source: SourceLine,
}

/// A discipline element an emergency may bypass.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum BypassElement {
    Eval,
    Canary,
    Window,
    Freeze,
}

impl BypassElement {
    pub const ALL: [BypassElement; 4] = [
        BypassElement::Eval,
        BypassElement::Canary,
        BypassElement::Window,
        BypassElement::Freeze,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BypassElement::Eval => "eval",
            BypassElement::Canary => "canary",
            BypassElement::Window => "window",
            BypassElement::Freeze => "freeze",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Windows {
    /// An IANA zone name; resolved against the time-zone database by the caller.
    pub timezone: String,
    pub change: Vec<ChangeWindow>,
    pub freezes: Vec<Freeze>,
}

/// `"Mon-Thu 09:00-17:00"`: a run of weekdays and a local time range.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeWindow {
    pub text: String,
    /// Monday = 0 … Sunday = 6, inclusive.
    pub days: Vec<u8>,
    pub start: jiff::civil::Time,
    pub end: jiff::civil::Time,
    pub source: SourceLine,
}

#[derive(Debug, Clone, Serialize)]
pub struct Freeze {
    pub from: jiff::civil::Date,
    /// Inclusive.
    pub to: jiff::civil::Date,
    pub reason: String,
    pub source: SourceLine,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deploy {
    pub set_weight: String,
    pub promote: String,
    pub rollback: String,
    pub rollback_check: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Canary {
    pub prometheus: Option<String>,
    pub profile: String,
    pub interval: Duration,
    pub failure_limit: u32,
    pub profiles: IndexMap<String, CanaryProfile>,
    pub checks: Vec<CanaryCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CanaryProfile {
    pub steps: Vec<CanaryStep>,
    /// Approver groups this profile needs on top of the category's.
    pub requires: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CanaryStep {
    /// Percent, 1–100.
    pub weight: u8,
    pub bake: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct CanaryCheck {
    pub name: String,
    pub source: MetricSource,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// Where a check's number comes from.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MetricSource {
    /// An instant query against `canary.prometheus`.
    Query { query: String },
    /// A direct scrape: the ratio of two counters' increase between scrapes.
    Scrape {
        url: String,
        numerator: String,
        denominator: String,
    },
    /// A command that prints one number.
    Command { run: String },
}

impl Config {
    /// Every lane name a run may use: `normal` first, then the declared ones.
    pub fn lane_names(&self) -> impl Iterator<Item = LaneName> + '_ {
        std::iter::once(LaneName::normal()).chain(self.lanes.keys().cloned())
    }

    /// The lane definition, or `None` for `normal` (which has no settings).
    pub fn lane(&self, name: &LaneName) -> Option<&Lane> {
        self.lanes.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_parse_what_they_print() {
        for tier in [Tier::Critical, Tier::Required, Tier::Optional] {
            assert_eq!(Tier::parse(tier.as_str()), Some(tier));
        }
        assert_eq!(Tier::parse("vital"), None);
        assert_eq!(Tier::parse("Critical"), None);
    }
}
