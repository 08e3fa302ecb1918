//! The command line, as clap derive types. Raw arguments are resolved once into settings.

#![expect(
    clippy::doc_markdown,
    reason = "doc comments here are `--help` text, printed verbatim: markdown backticks would show"
)]

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// Ship a known fix in minutes without abandoning discipline.
#[derive(Debug, Parser)]
#[command(name = "fixlane", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Run as if started in DIR.
    #[arg(
        short = 'C',
        long = "directory",
        global = true,
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub directory: Option<PathBuf>,
    /// The config file [default: fixlane.toml at the repository root].
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,
    /// The store: a SQLite path, or a postgres:// URL [default: .git/fixlane/fixlane.db].
    #[arg(
        long,
        global = true,
        env = "FIXLANE_DB",
        // The URL may carry a password: --help must not print it.
        hide_env_values = true,
        value_name = "PATH|URL",
        help_heading = "Global options"
    )]
    pub db: Option<String>,
    /// Act as this person [default: git's user.email].
    #[arg(
        long = "as",
        global = true,
        env = "FIXLANE_USER",
        value_name = "PERSON",
        help_heading = "Global options"
    )]
    pub actor: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gates of a lane for a commit and print its verdict.
    Run(RunArgs),
    /// Run inside CI: the lane from the CI's branch and labels, JUnit, and the job summary.
    Ci(CiArgs),
    /// Write a CI workflow generated from fixlane.toml, so the two never drift apart.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Recompute the verdict of a commit from the store.
    Verdict(VerdictArgs),
    /// Check fixlane.toml and list every problem in it.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write a starter fixlane.toml for this repository.
    Init(InitArgs),
    /// Verify, export or read the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Declare an emergency change (after a flag flip and a rollback were ruled out).
    Declare(DeclareArgs),
    /// Approve an emergency change as one of the authorities its category requires.
    Approve(ApproveArgs),
    /// Record a bypassed discipline element with its reason and compensation.
    Bypass(BypassArgs),
    /// Show an emergency change: its record, what is still missing, and its timeline.
    Show(ShowArgs),
    /// List active emergency changes with their clocks.
    List(ListArgs),
    /// Record the team review the emergency rate limit asks for.
    ReviewRate(ReviewRateArgs),
    /// Tell where a moment stands against the change windows and freezes.
    Window(WindowArgs),
    /// Check a hotfix commit: incident id, approver, diff size, one concern.
    CheckCommit(CheckCommitArgs),
    /// Drive a canary: rollback path first, weight steps with metric analysis, automatic rollback.
    Canary(CanaryArgs),
    /// Re-query a symptom check until it stays within bounds for a period; record the recovery.
    Verify(VerifyArgs),
    /// Write the postmortem draft of an emergency: its record, then the hotfix questions and the pipeline-gap checklist.
    Postmortem(PostmortemArgs),
    /// Open an emergency's follow-ups now that its fix is merged (a canary's promotion opens them too).
    Merged(MergedArgs),
    /// Close a follow-up with its evidence: cleanup or postmortem --link, audit-review --notes, regression both.
    Close(CloseArgs),
    /// List every open follow-up across emergencies, overdue first; exit 1 when any is overdue.
    Due(DueArgs),
    /// Run every gate the emergency lane owes, in full with the normal lane's commands, on the merged commit.
    Backfill(BackfillArgs),
    /// How often the emergency lane is used, whether its debt is paid on time, recovery and deploy figures.
    Stats(StatsArgs),
    /// A game day: the whole emergency lifecycle in a scratch sandbox, recorded in this repository's store.
    Drill(DrillArgs),
    /// Run the team server: the JSON API on one shared store, with per-person tokens.
    Serve(ServeArgs),
    /// Issue, list and revoke the per-person tokens of the team server.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Deliver the webhooks of `[[notify.webhooks]]` now, or show how their deliveries stand.
    #[command(subcommand)]
    Notify(NotifyCommand),
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Deliver what is due to every webhook (commands that record do this on their own).
    Deliver {
        /// Judge what is due, and what is overdue, at this time (RFC 3339) instead of now.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Each webhook's deliveries: delivered, pending, retrying, given up, and the last error.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// Rehearse a regression: the fix fails more requests from the canary's second step on, and the canary must roll it back.
    #[arg(long)]
    pub regression: bool,
    /// Keep the sandbox (its repository and store) and print where it is.
    #[arg(long)]
    pub keep: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token for a person under [people]; it is printed once, only its hash is kept.
    Issue {
        /// The person the token acts as.
        person: String,
        /// How long it lives, such as 90d [default: until revoked].
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
    /// List every token: id, person, issued, expires, revoked (never the token itself).
    List {
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke one token by its id, or every token of a person.
    Revoke {
        /// A token id (as `token list` shows it) or a person.
        #[arg(value_name = "ID|PERSON")]
        target: String,
    },
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// How far back to look, a duration such as 90d or 12h.
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub since: String,
    /// Print JSON instead of the text.
    #[arg(long)]
    pub json: bool,
    /// The moment the figures are computed at, RFC 3339 [default: now].
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The emergency whose owed gates to run.
    pub id: String,
    /// The merged commit [default: HEAD].
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// How many gates run at once [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Print JSON Lines events instead of the human view.
    #[arg(long)]
    pub json: bool,
    /// Evaluate change windows and freezes at this moment (RFC 3339) instead of now, as `run --at`.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Append a Markdown summary of the run to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergedArgs {
    /// The emergency whose fix was merged.
    pub id: String,
    /// The merged commit [default: HEAD].
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// When it was merged, RFC 3339 [default: now].
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The emergency.
    pub id: String,
    /// The follow-up: cleanup, postmortem, audit-review or regression.
    pub kind: String,
    /// A link to the normal-lane change, the postmortem, or the regression's fix.
    #[arg(long, value_name = "URL")]
    pub link: Option<String>,
    /// What the review found, or what the regression turned out to be.
    #[arg(long)]
    pub notes: Option<String>,
    /// When it was closed, RFC 3339 [default: now].
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct DueArgs {
    /// Only the follow-ups this person owns.
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// The moment to judge deadlines at, RFC 3339 [default: now].
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct CanaryArgs {
    /// The emergency being deployed; without it, a normal change (`--rev`).
    pub id: Option<String>,
    /// The commit being rolled out [default: HEAD].
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// The canary profile [default: emergency.canary_profile for an emergency, else canary.profile].
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Print JSON Lines events instead of the human view.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PostmortemArgs {
    /// The emergency.
    pub id: String,
    /// Where to write it [default: postmortem-<ID>.md in the repository root].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing draft (it may hold the team's edits).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The emergency whose symptom is verified.
    pub id: String,
    /// The check under [[canary.checks]] that measures the symptom.
    #[arg(long, value_name = "NAME")]
    pub check: String,
    /// How long it must stay within bounds, e.g. 5m.
    #[arg(long = "for", value_name = "DURATION")]
    pub hold: String,
    /// When to give up, e.g. 30m.
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub timeout: String,
    /// Print JSON Lines events instead of the human view.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeclareArgs {
    /// The incident id, e.g. INC-2026-05-20-001.
    pub id: String,
    /// The incident's severity; only `emergency.severities` qualify.
    #[arg(long)]
    pub severity: String,
    /// The emergency category (it decides approvers and what may be bypassed).
    #[arg(long)]
    pub category: String,
    /// What is broken, in one line.
    #[arg(long)]
    pub title: String,
    /// Who opens the cleanup change within the deadline.
    #[arg(long = "cleanup-owner", value_name = "PERSON")]
    pub cleanup_owner: String,
    /// Expected merge time, HH:MM.
    #[arg(long, value_name = "HH:MM")]
    pub eta: Option<String>,
    /// Why a feature-flag flip does not mitigate this.
    #[arg(long = "flag-flip", value_name = "WHY NOT")]
    pub flag_flip: Option<String>,
    /// Why a rollback does not mitigate this.
    #[arg(long, value_name = "WHY NOT")]
    pub rollback: Option<String>,
    /// Also create the hotfix branch and switch to it.
    #[arg(long)]
    pub branch: bool,
    /// Accept an incident id dated more than 7 days from today.
    #[arg(long = "any-date")]
    pub any_date: bool,
    /// Print the record as JSON.
    #[arg(long)]
    pub json: bool,
    /// Declare as of this moment, RFC 3339 (rate limits and overdue follow-ups are judged then) [default: now].
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The incident id.
    pub id: String,
    /// The role you approve as, when you hold several.
    #[arg(long)]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct BypassArgs {
    /// The incident id.
    pub id: String,
    /// What is bypassed: eval, canary, window or freeze.
    pub element: String,
    /// Why it must be bypassed, specifically.
    #[arg(long)]
    pub reason: Option<String>,
    /// What compensates for it.
    #[arg(long)]
    pub compensation: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The incident id.
    pub id: String,
    /// Print the record as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include closed emergencies.
    #[arg(long)]
    pub all: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReviewRateArgs {
    /// What the team concluded about the emergency rate.
    #[arg(long)]
    pub notes: String,
}

#[derive(Debug, Args)]
pub struct WindowArgs {
    /// The moment to evaluate, RFC 3339 (e.g. 2026-11-25T22:00:00+05:30) [default: now].
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckCommitArgs {
    /// The commit [default: HEAD].
    pub rev: Option<String>,
    /// The emergency [default: from the hotfix/<ID>-… branch].
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// Fail, not warn, when the diff exceeds the lane's max_diff_lines.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The lane to run [default: from --label, else the branch, else normal].
    #[arg(long, value_name = "LANE")]
    pub lane: Option<String>,
    /// A pull-request label that selects a lane (repeatable).
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// The commit to run [default: HEAD].
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// The branch name [default: the current branch].
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// What `scope = "changed"` compares against [default: merge-base with the default branch, else REV~1].
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The emergency this run belongs to [default: from a hotfix/<ID>-… branch].
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// How many gates run at once [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Print JSON Lines events instead of the human view.
    #[arg(long)]
    pub json: bool,
    /// Evaluate change windows and freezes at this moment (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Append a Markdown summary of the run to FILE (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Say why each gate was selected, shortened, skipped or owed, before it runs.
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A GitHub Actions workflow routing each lane's branches and labels to `fixlane ci`.
    GithubActions {
        /// Where to write it [default: .github/workflows/fixlane.yml].
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Write nothing; fail when the file differs from what fixlane.toml generates.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Args)]
pub struct CiArgs {
    /// The lane to run [default: from the CI's labels and branch].
    #[arg(long, value_name = "LANE")]
    pub lane: Option<String>,
    /// How many gates run at once [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Where the JUnit report goes.
    #[arg(long, value_name = "FILE", default_value = "fixlane-junit.xml")]
    pub junit: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerdictArgs {
    /// The commit [default: HEAD].
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Only runs of this lane.
    #[arg(long, value_name = "LANE")]
    pub lane: Option<String>,
    /// Accept a `waiting` verdict (a critical gate still running). Give it twice; it is logged.
    #[arg(long = "confirm-while-running", action = ArgAction::Count)]
    pub confirm_while_running: u8,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Report every problem in the config, with file, line and column.
    Check,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing fixlane.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and name the first entry that was altered, removed or reordered.
    Verify,
    /// Write the log as JSON Lines.
    Export {
        /// Write to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the log for people.
    Log {
        /// Only the last N entries.
        #[arg(long, short = 'n', value_name = "N")]
        last: Option<usize>,
    },
}
