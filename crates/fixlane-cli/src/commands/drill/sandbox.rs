//! The drill's sandbox: a scratch git repository with a small checkout service's pipeline, its
//! own store, and the way each step runs in it — `fixlane` itself, as a person would type it,
//! with its output indented under the step — and checks its exit code against the promise.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The sandbox's `fixlane.toml`; `{SCRAPE}` becomes the simulated service's URL.
const CONFIG: &str = r#"# A game day's sandbox, written by `fixlane drill`: every emergency declared here is a drill.

[project]
name = "checkout-drill"

[people.alice]
roles = ["sre-lead"]
[people.bob]
roles = ["engineer"]
[people.carol]
roles = ["platform-lead"]
[people.dave]
roles = ["eng-manager"]

[gates.lint]
run = "echo 'lint: no warnings'"
tier = "required"
lanes.hotfix = "skip"

[gates.build]
run = "echo 'build: checkout compiled'"
tier = "critical"
kind = "build"

[gates.unit]
run = "echo 'unit: 412 tests passed'"
tier = "required"
needs = ["build"]
lanes.hotfix = { run = "echo 'unit (short): the 38 tests of the changed package passed'" }

[gates.integration]
run = "echo 'integration: 57 scenarios passed'"
tier = "required"
needs = ["build"]
lanes.hotfix = "skip"

[gates.scan-critical]
run = "echo 'scan: no critical findings'"
tier = "critical"

[lanes.hotfix]
branches = ["hotfix/**"]
emergency = true
max_diff_lines = 20

[emergency]
severities = ["P0"]
cleanup_within = "24h"
postmortem_within = "48h"
audit_review_within = "7d"
backfill_within = "24h"
canary_profile = "drill"

[emergency.categories.incident]
approvers = [["sre-lead"], ["platform-lead"]]
may_bypass = ["eval"]

[deploy]
set_weight = "echo \"weight $FIXLANE_WEIGHT $FIXLANE_STEP\" > .git/fixlane-drill-deploy"
promote = "echo promoted > .git/fixlane-drill-deploy"
rollback = "echo rolled-back > .git/fixlane-drill-deploy"
rollback_check = "test -d .git"

[canary]
profile = "drill"
interval = "1s"
failure_limit = 3

[canary.profiles.drill]
steps = [{ weight = 10, bake = "2s" }, { weight = 50, bake = "2s" }, { weight = 100, bake = "2s" }]

[[canary.checks]]
name = "error-rate"
scrape = "{SCRAPE}"
numerator = 'drill_errors_total{version="fix"}'
denominator = 'drill_requests_total{version="fix"}'
max = 0.01
"#;

/// The service's code before and after the fix.
const CHECKOUT_BEFORE: &str =
    "//! Checkout: calls the payment gateway.\npub const GATEWAY_TIMEOUT_SECONDS: u64 = 5;\n";
const CHECKOUT_AFTER: &str = "//! Checkout: calls the payment gateway.\n// The gateway answers in up to 8 s since its upgrade.\npub const GATEWAY_TIMEOUT_SECONDS: u64 = 10;\n";

/// The file the `[deploy]` actions write, relative to the repository.
pub const DEPLOY_STATE: &str = ".git/fixlane-drill-deploy";

/// Why the sandbox could not be made or a step could not be started at all.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not {doing}: {source}")]
    Io {
        doing: String,
        source: std::io::Error,
    },
    #[error("`git {command}` failed in the sandbox: {stderr}")]
    Git { command: String, stderr: String },
}

fn io(doing: impl Into<String>) -> impl FnOnce(std::io::Error) -> SandboxError {
    let doing = doing.into();
    move |source| SandboxError::Io { doing, source }
}

/// A scratch repository and the fixlane binary that runs in it.
#[derive(Debug)]
pub struct Sandbox {
    pub repo: PathBuf,
    fixlane: PathBuf,
}

impl Sandbox {
    /// A new repository under `dir` with the checkout pipeline committed on `main`, its canary
    /// check scraping `scrape`.
    pub fn create(dir: &Path, scrape: &str) -> Result<Self, SandboxError> {
        let repo = dir.join("checkout");
        std::fs::create_dir_all(repo.join("src")).map_err(io("create the sandbox"))?;
        let fixlane = std::env::current_exe().map_err(io("find the fixlane binary"))?;
        let sandbox = Self { repo, fixlane };
        sandbox.write("fixlane.toml", &CONFIG.replace("{SCRAPE}", scrape))?;
        sandbox.write("src/checkout.rs", CHECKOUT_BEFORE)?;
        sandbox.git(&["init", "--quiet", "--initial-branch=main"])?;
        sandbox.git(&["config", "user.email", "bob@example.com"])?;
        sandbox.git(&["config", "user.name", "Bob"])?;
        sandbox.git(&["add", "--all"])?;
        sandbox.git(&[
            "commit",
            "--quiet",
            "-m",
            "checkout: the service and its pipeline",
        ])?;
        Ok(sandbox)
    }

    fn write(&self, path: &str, text: &str) -> Result<(), SandboxError> {
        std::fs::write(self.repo.join(path), text).map_err(io(format!("write {path}")))
    }

    /// The fix, committed on its hotfix branch with the incident and its approver named.
    pub fn commit_fix(&self, branch: &str, message: &str) -> Result<(), SandboxError> {
        self.git(&["checkout", "--quiet", "-b", branch])?;
        self.write("src/checkout.rs", CHECKOUT_AFTER)?;
        self.git(&["commit", "--quiet", "-am", message])
    }

    /// The fix merged into `main`, as its pull request would be.
    pub fn merge(&self, branch: &str, message: &str) -> Result<(), SandboxError> {
        self.git(&["checkout", "--quiet", "main"])?;
        self.git(&["merge", "--quiet", "--no-ff", "-m", message, branch])
    }

    /// Runs git in the sandbox, with no configuration but the sandbox's own (a signing or hook
    /// setting of this machine must not change the rehearsal).
    fn git(&self, arguments: &[&str]) -> Result<(), SandboxError> {
        let output = isolated(Command::new("git"))
            .args(arguments)
            .current_dir(&self.repo)
            .stdin(Stdio::null())
            .output()
            .map_err(io("run git (is it installed?)"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(SandboxError::Git {
                command: arguments.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    /// Runs `fixlane ARGUMENTS` in the sandbox as a person would type it: prints the command,
    /// streams its output indented under it, and returns its exit code.
    pub fn fixlane(&self, arguments: &[String]) -> Result<i32, SandboxError> {
        println!("   $ fixlane {}", shown(arguments));
        let mut child = isolated(Command::new(&self.fixlane))
            .args(arguments)
            .current_dir(&self.repo)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io("start fixlane in the sandbox"))?;
        let stderr = child.stderr.take().map(|mut stderr| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            })
        });
        if let Some(stdout) = child.stdout.take() {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                println!("     {line}");
            }
        }
        let errors = stderr
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        for line in errors.lines() {
            println!("     {line}");
        }
        let status = child
            .wait()
            .map_err(io("wait for fixlane in the sandbox"))?;
        // A signal has no code; 128 + the signal would need the platform's types, and any
        // non-zero value reads as "not as promised" anyway.
        Ok(status.code().unwrap_or(-1))
    }
}

/// A command that sees none of this machine's git configuration and none of the variables
/// that would point fixlane at another store, person or server.
fn isolated(mut command: Command) -> Command {
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("FIXLANE_DB")
        .env_remove("FIXLANE_USER")
        .env_remove("FIXLANE_SERVER")
        .env_remove("FIXLANE_TOKEN")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    command
}

/// The arguments as a person would type them: quoted when they hold a space. (They are the
/// drill's own words, never a user's, so quoting is enough.)
fn shown(arguments: &[String]) -> String {
    arguments
        .iter()
        .map(|argument| {
            if argument.contains(' ') {
                format!("\"{argument}\"")
            } else {
                argument.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
