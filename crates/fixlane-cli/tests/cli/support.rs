//! Sandboxes: a scratch git repository (optionally the example service) and a way to run
//! `fixlane` in it with a clean, predictable environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

pub const FIXLANE: &str = env!("CARGO_BIN_EXE_fixlane");

pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/checkout-service")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub struct Sandbox {
    pub dir: TempDir,
    /// `FIXLANE_DB` for every command, when the store is not the default `SQLite` file.
    pub db: Option<String>,
    /// The moment `fixlane run` evaluates change windows at, unless a test passes `--at`.
    pub at: Option<&'static str>,
}

/// A Wednesday morning in Kolkata: inside the example's `Mon-Thu 09:00-17:00` window and
/// outside its freeze, so runs of the example read the same at any hour the suite runs.
pub const IN_WINDOW: &str = "2026-11-25T10:00:00+05:30";

impl Sandbox {
    /// An empty git repository with one commit.
    pub fn empty() -> Self {
        let sandbox = Self {
            dir: tempfile::tempdir().unwrap(),
            db: None,
            at: None,
        };
        sandbox.git(&["init", "--quiet", "--initial-branch=main"]);
        sandbox.git(&["config", "user.email", "bob@example.com"]);
        sandbox.git(&["config", "user.name", "Bob"]);
        sandbox.git(&["commit", "--quiet", "--allow-empty", "-m", "start"]);
        sandbox
    }

    /// The example checkout-service, committed on `main`.
    pub fn example() -> Self {
        let sandbox = Self {
            dir: tempfile::tempdir().unwrap(),
            db: None,
            at: Some(IN_WINDOW),
        };
        copy_tree(&example_dir(), sandbox.path());
        sandbox.git(&["init", "--quiet", "--initial-branch=main"]);
        sandbox.git(&["config", "user.email", "bob@example.com"]);
        sandbox.git(&["config", "user.name", "Bob"]);
        sandbox.git(&["add", "--all"]);
        sandbox.git(&["commit", "--quiet", "-m", "initial import"]);
        sandbox
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> PathBuf {
        self.path().join(".git/fixlane/fixlane.db")
    }

    pub fn git(&self, arguments: &[&str]) -> String {
        let output = Command::new("git")
            .args(arguments)
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {arguments:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    pub fn write(&self, relative: &str, contents: &str) {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, contents).unwrap();
    }

    /// Commits every change with this message.
    pub fn commit(&self, message: &str) {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "-m", message]);
    }

    /// `fixlane` in this sandbox, as CI would run it, with no inherited FIXLANE_* settings.
    pub fn command(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(FIXLANE);
        command.args(arguments).current_dir(self.path());
        if let (Some(at), Some(&"run")) = (self.at, arguments.first())
            && !arguments.contains(&"--at")
            && !arguments.contains(&"--help")
        {
            command.args(["--at", at]);
        }
        for (key, _) in std::env::vars() {
            if key.starts_with("FIXLANE_") || key.starts_with("EXAMPLE_") {
                command.env_remove(key);
            }
        }
        command.env("CI", "true").env("NO_COLOR", "1");
        if let Some(db) = &self.db {
            command.env("FIXLANE_DB", db);
        }
        command
    }

    pub fn fixlane(&self, arguments: &[&str]) -> Run {
        Run::of(&mut self.command(arguments))
    }
}

/// A finished `fixlane` process.
pub struct Run(pub Output);

impl Run {
    pub fn of(command: &mut Command) -> Run {
        Run(command.output().unwrap())
    }

    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// The JSON Lines of `--json`, parsed.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.stdout()
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}"))
            })
            .collect()
    }

    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// Position of the first event matching `predicate`.
pub fn position(
    events: &[serde_json::Value],
    predicate: impl Fn(&serde_json::Value) -> bool,
) -> Option<usize> {
    events.iter().position(predicate)
}

pub fn is(event: &serde_json::Value, kind: &str, gate: &str) -> bool {
    event["event"] == kind && event["gate"] == gate
}

/// insta settings that hide what changes between runs: times, hashes, run ids, temp paths.
pub fn redactions(sandbox: &Sandbox) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&sandbox.path().to_string_lossy()), "[REPO]");
    settings.add_filter(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[TIME]");
    settings.add_filter(r"\d{8}T\d{6}\.\d{3}Z-\d{5}", "[RUN]");
    settings.add_filter(r"\(\d{4}-\d{2}-\d{2}\)", "([DATE])");
    // Times for people: `2026-12-01 22:14 IST`, in the configured zone.
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} [A-Z][A-Za-z0-9+-]*",
        "[WHEN]",
    );
    settings.add_filter(r"\b[0-9a-f]{40}\b", "[SHA]");
    settings.add_filter(r"\b[0-9a-f]{12}\b", "[SHORT]");
    settings.add_filter(r"\d+\.\ds\b", "[SECS]");
    settings
}

fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for character in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(character) {
            out.push('\\');
        }
        out.push(character);
    }
    out
}

/// Whether a process still runs: gone, or a zombie waiting to be reaped, counts as stopped. Its
/// parent may take a moment to reap it, so this waits up to a few seconds for it to go.
pub fn alive(pid: i32) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let running = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                stat.rsplit(')')
                    .next()
                    .map(|rest| rest.trim_start().starts_with(['R', 'S', 'D', 'T']))
            })
            .unwrap_or(false);
        if !running || std::time::Instant::now() > deadline {
            return running;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A fresh `PostgreSQL` database for one test, dropped at the end; `None` (with a note on stderr
/// that the harness cannot swallow) when `FIXLANE_TEST_POSTGRES_URL` is not set.
pub struct PostgresDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub fn create(test: &str) -> Option<Self> {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let Ok(admin) = std::env::var("FIXLANE_TEST_POSTGRES_URL") else {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("{test}: PostgreSQL half skipped: FIXLANE_TEST_POSTGRES_URL is not set\n")
                    .as_bytes(),
            );
            return None;
        };
        let name = format!(
            "fixlane_cli_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let status = Command::new("psql")
            .args([
                admin.as_str(),
                "-q",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ])
            .status()
            .expect("psql (the PostgreSQL client) to create a test database");
        assert!(status.success(), "could not create {name} on {admin}");
        let prefix = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(prefix, _)| prefix);
        let url = format!("{prefix}/{name}");
        Some(Self { admin, name, url })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                self.admin.as_str(),
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .status();
    }
}
