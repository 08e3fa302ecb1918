//! What fixlane needs to know from git, behind a small trait, read from the `git` binary's
//! machine-readable (`-z`) output.
//!
//! Arguments go to git as an array, never through a shell, and revisions are passed after an
//! `--end-of-options` marker so a revision that starts with `-` cannot turn into an option.

mod discover;
mod refs;
mod snapshot;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use snapshot::{FileAt, Snapshot};

/// One file's line counts between two revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// `None` for a binary file.
    pub added: Option<u64>,
    /// `None` for a binary file.
    pub removed: Option<u64>,
    /// Repository-relative; for a rename, the new path.
    pub path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not run `git {command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`git {command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("`git {command}` printed something unexpected: {why}")]
    Unexpected { command: String, why: String },
}

/// The commits a change is measured against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bases {
    /// What `scope = "changed"` compares with: the merge-base with the default branch, or the
    /// parent of a commit on it (see [`Repository::default_base`]).
    pub compare: Option<String>,
    /// The default branch `compare` is the merge-base with (`origin/HEAD`, `main`, `master`);
    /// `None` when `compare` is the parent (or there is none).
    pub compare_with: Option<String>,
    /// Whose `fixlane.toml` judges an emergency change: the merge-base with the default
    /// branch, or the commit itself when it is on the default branch already (its policy is
    /// the team's); the parent when there is no default branch; `None` when none exists. An
    /// `origin/HEAD` that points at the branch checked out (a one-branch clone) or a detached
    /// HEAD is not taken as the default branch here.
    pub policy: Option<String>,
}

/// The repository questions fixlane asks.
pub trait Repository {
    /// The working tree's top directory.
    fn root(&self) -> &Path;
    /// `<git common dir>/fixlane`: shared by every worktree of the repository.
    fn fixlane_dir(&self) -> PathBuf;
    /// The full commit id of `rev`.
    fn resolve(&self, rev: &str) -> Result<String, GitError>;
    /// The checked-out branch, `None` on a detached HEAD.
    fn current_branch(&self) -> Result<Option<String>, GitError>;
    /// The commit `rev` is compared against: its merge-base with `origin/HEAD`, else `main`, else
    /// `master`, else `rev~1`; `None` when none exists (a root commit, a shallow clone).
    fn default_base(&self, rev: &str) -> Result<Option<String>, GitError>;
    /// Both bases of `rev` at once (see [`Bases`]).
    fn bases(&self, rev: &str) -> Result<Bases, GitError>;
    /// Repository-relative paths that differ between `base` and `rev`.
    fn changed_files(&self, base: &str, rev: &str) -> Result<Vec<String>, GitError>;
    /// `user.email`, when configured.
    fn user_email(&self) -> Option<String>;
    /// The full message of the commit `rev`.
    fn commit_message(&self, rev: &str) -> Result<String, GitError>;
    /// Whether a commit reachable from `rev` has `text` in its message (fixed text, not a
    /// pattern): how a fix merged by hand, even squashed, is found by the incident id it carries.
    fn history_mentions(&self, rev: &str, text: &str) -> Result<bool, GitError>;
    /// Lines added and removed per file between `base` and `rev`.
    fn numstat(&self, base: &str, rev: &str) -> Result<Vec<FileChange>, GitError>;
    /// Creates the branch `name` at HEAD and switches to it.
    fn create_branch(&self, name: &str) -> Result<(), GitError>;
    /// The text of `path` (repository-relative) in the commit `rev`, or `None` when the commit
    /// has no such file.
    fn file_at(&self, rev: &str, path: &str) -> Result<Option<String>, GitError>;
    /// Tracked paths whose working-tree content differs from `base`: committed and uncommitted
    /// changes alike, since a run executes the working tree.
    fn worktree_changes(&self, base: &str) -> Result<Vec<String>, GitError>;
}

fn text_is_empty(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// `Repository` over the `git` command.
#[derive(Debug, Clone)]
pub struct GitCli {
    root: PathBuf,
    common_dir: PathBuf,
}

struct Output {
    stdout: Vec<u8>,
}

fn describe(args: &[&OsStr]) -> String {
    args.iter()
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `git` on `PATH`, found once (see `crate::program` for why a path and not a name).
fn git_binary() -> &'static std::path::Path {
    static GIT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    GIT.get_or_init(|| {
        std::env::var_os("PATH")
            .and_then(|path| crate::program::find_executable("git", &path))
            .unwrap_or_else(|| PathBuf::from("git"))
    })
}

/// Runs git in `directory`; `Ok(Err(..))` is git refusing, for callers that expect that.
fn git_in(directory: &Path, args: &[&OsStr]) -> Result<Result<Output, GitError>, GitError> {
    let output = Command::new(git_binary())
        .arg("-c")
        .arg("core.quotepath=off")
        .args(args)
        .current_dir(directory)
        // Keep git's answers in plain English and free of pagers and prompts.
        .env("LC_ALL", "C")
        .env("GIT_PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| GitError::Spawn {
            command: describe(args),
            source,
        })?;
    if output.status.success() {
        Ok(Ok(Output {
            stdout: output.stdout,
        }))
    } else {
        Ok(Err(GitError::Failed {
            command: describe(args),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        }))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches('\n')
        .to_owned()
}

fn nul_separated(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    bytes
        .split(|byte| *byte == 0)
        .filter(|field| !field.is_empty())
        .map(|field| String::from_utf8_lossy(field).into_owned())
}

impl GitCli {
    /// Finds the repository containing `start`.
    pub fn discover(start: &Path) -> Result<Self, GitError> {
        if let Some((root, common_dir)) = discover::discover(start) {
            return Ok(Self { root, common_dir });
        }
        Self::discover_with_git(start)
    }

    /// [`GitCli::discover`] as git itself answers it, for every case the quick look leaves to
    /// git.
    pub fn discover_with_git(start: &Path) -> Result<Self, GitError> {
        let args = [
            OsStr::new("rev-parse"),
            OsStr::new("--path-format=absolute"),
            OsStr::new("--show-toplevel"),
            OsStr::new("--git-common-dir"),
        ];
        let output = git_in(start, &args)??;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut lines = text.lines();
        let (Some(root), Some(common_dir)) = (lines.next(), lines.next()) else {
            return Err(GitError::Unexpected {
                command: describe(&args),
                why: format!("expected two lines, got {text:?}"),
            });
        };
        Ok(Self {
            root: PathBuf::from(root),
            common_dir: PathBuf::from(common_dir),
        })
    }

    fn git(&self, args: &[&str]) -> Result<Output, GitError> {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        git_in(&self.root, &args)?
    }

    /// Like `git`, but a refusal (e.g. an unknown revision) is `Ok(None)`.
    fn git_maybe(&self, args: &[&str]) -> Result<Option<Output>, GitError> {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        Ok(git_in(&self.root, &args)?.ok())
    }
}

impl GitCli {
    /// What a run needs to know before its first gate, in one round of at most two git
    /// processes: the commit `rev` names, its first parent, the branch checked out, which
    /// default branches exist, and `file` (repository-relative) as the commit has it. The
    /// branch and the default branches are read from the ref files in the plain case.
    pub fn snapshot(&self, rev: &str, file: Option<&str>) -> Result<Snapshot, GitError> {
        self.snapshot_reading_refs(rev, file, true)
    }

    /// [`GitCli::snapshot`] with the refs as git itself lists them, for every case the ref
    /// files are left to git.
    pub fn snapshot_with_git(&self, rev: &str, file: Option<&str>) -> Result<Snapshot, GitError> {
        self.snapshot_reading_refs(rev, file, false)
    }

    fn snapshot_reading_refs(
        &self,
        rev: &str,
        file: Option<&str>,
        refs_from_files: bool,
    ) -> Result<Snapshot, GitError> {
        let file = file.filter(|path| !path.contains('\n'));
        if let Some(snapshot) = snapshot::snapshot(&self.root, rev, file, refs_from_files)? {
            return Ok(snapshot);
        }
        // Not a commit here: `rev-parse` says why in git's words.
        let commit = self.resolve(rev)?;
        Err(GitError::Unexpected {
            command: "cat-file --batch".to_owned(),
            why: format!("`{rev}` resolves to {commit}, which it could not read"),
        })
    }

    /// The bases of the snapshot's commit (see [`Bases`]): a merge-base is asked only when the
    /// commit is not on the default branch itself.
    pub fn bases_of(&self, snapshot: &Snapshot) -> Result<Bases, GitError> {
        let commit = &snapshot.commit;
        let mut policy = None;
        for candidate in snapshot::CANDIDATES {
            let Some((other, symref)) = snapshot.listing.lines().find_map(|line| {
                let mut fields = line.strip_prefix(candidate)?.strip_prefix(' ')?.split(' ');
                let object = fields.next()?;
                Some((
                    object.to_owned(),
                    fields.next().unwrap_or_default().to_owned(),
                ))
            }) else {
                continue;
            };
            // A clone of one branch points `origin/HEAD` at that branch: then it says nothing
            // about the default branch, and a commit on it must not judge itself. A detached
            // HEAD cannot tell them apart, so it counts as that too.
            let names_default = symref.is_empty()
                || snapshot.branch.as_ref().is_some_and(|branch| {
                    symref.strip_prefix("refs/remotes/origin/") != Some(branch.as_str())
                });
            // On `main` itself the merge-base is the commit: compare with its parent instead,
            // and the commit's own policy is the default branch's.
            if other == *commit {
                if names_default {
                    policy.get_or_insert_with(|| commit.clone());
                }
                continue;
            }
            let Some(output) = self.git_maybe(&["merge-base", commit, &other])? else {
                // Unrelated histories or a shallow clone that cuts the common ancestor off.
                continue;
            };
            let base = text(&output.stdout);
            if base == *commit {
                if names_default {
                    policy.get_or_insert_with(|| commit.clone());
                }
            } else if !base.is_empty() {
                return Ok(Bases {
                    policy: Some(policy.unwrap_or_else(|| base.clone())),
                    compare: Some(base),
                    compare_with: Some(
                        candidate
                            .trim_start_matches("refs/remotes/")
                            .trim_start_matches("refs/heads/")
                            .to_owned(),
                    ),
                });
            }
        }
        let compare = snapshot.parent.clone();
        Ok(Bases {
            // With no default branch to stand on, the parent is the nearest reviewed policy.
            policy: policy.or_else(|| compare.clone()),
            compare,
            compare_with: None,
        })
    }
}

impl Repository for GitCli {
    fn root(&self) -> &Path {
        &self.root
    }

    fn fixlane_dir(&self) -> PathBuf {
        self.common_dir.join("fixlane")
    }

    fn resolve(&self, rev: &str) -> Result<String, GitError> {
        let spec = format!("{rev}^{{commit}}");
        let output = self.git(&["rev-parse", "--verify", "--end-of-options", &spec])?;
        Ok(text(&output.stdout))
    }

    fn current_branch(&self) -> Result<Option<String>, GitError> {
        // `symbolic-ref` fails exactly when HEAD is detached.
        Ok(self
            .git_maybe(&["symbolic-ref", "--quiet", "--short", "HEAD"])?
            .map(|output| text(&output.stdout))
            .filter(|branch| !branch.is_empty()))
    }

    fn default_base(&self, rev: &str) -> Result<Option<String>, GitError> {
        Ok(self.bases(rev)?.compare)
    }

    fn bases(&self, rev: &str) -> Result<Bases, GitError> {
        let snapshot = self.snapshot(rev, None)?;
        self.bases_of(&snapshot)
    }

    fn changed_files(&self, base: &str, rev: &str) -> Result<Vec<String>, GitError> {
        let output = self.git(&[
            "diff",
            "--no-ext-diff",
            "--no-renames",
            "--name-only",
            "-z",
            "--end-of-options",
            base,
            rev,
            "--",
        ])?;
        Ok(nul_separated(&output.stdout).collect())
    }

    fn user_email(&self) -> Option<String> {
        self.git_maybe(&["config", "--get", "user.email"])
            .ok()
            .flatten()
            .map(|output| text(&output.stdout))
            .filter(|email| !email.is_empty())
    }

    fn commit_message(&self, rev: &str) -> Result<String, GitError> {
        let commit = self.resolve(rev)?;
        let output = self.git(&["log", "-1", "--format=%B", &commit, "--"])?;
        Ok(text(&output.stdout))
    }

    fn history_mentions(&self, rev: &str, text: &str) -> Result<bool, GitError> {
        let grep = format!("--grep={text}");
        let output = self.git(&[
            "log",
            "-1",
            "--format=%H",
            "--fixed-strings",
            &grep,
            rev,
            "--",
        ])?;
        Ok(!text_is_empty(&output.stdout))
    }

    fn file_at(&self, rev: &str, path: &str) -> Result<Option<String>, GitError> {
        let object = format!("{rev}:{path}");
        // A missing path is git's refusal, not an error: the base may predate the file.
        let Some(output) = self.git_maybe(&["cat-file", "blob", "--end-of-options", &object])?
        else {
            return Ok(None);
        };
        String::from_utf8(output.stdout)
            .map(Some)
            .map_err(|_| GitError::Unexpected {
                command: format!("cat-file blob {object}"),
                why: "the file is not UTF-8 text".to_owned(),
            })
    }

    fn worktree_changes(&self, base: &str) -> Result<Vec<String>, GitError> {
        let output = self.git(&[
            "diff",
            "--no-ext-diff",
            "--no-renames",
            "--name-only",
            "-z",
            "--end-of-options",
            base,
            "--",
        ])?;
        Ok(nul_separated(&output.stdout).collect())
    }

    fn create_branch(&self, name: &str) -> Result<(), GitError> {
        // The name is an argument, never shell text; `--` keeps it from reading as an option.
        self.git(&["switch", "--create", name, "--"]).map(|_| ())
    }

    fn numstat(&self, base: &str, rev: &str) -> Result<Vec<FileChange>, GitError> {
        let args = [
            "diff",
            "--no-ext-diff",
            "--numstat",
            "-z",
            "--end-of-options",
            base,
            rev,
            "--",
        ];
        let output = self.git(&args)?;
        let unexpected = |why: String| GitError::Unexpected {
            command: args.join(" "),
            why,
        };
        // Each record is `added\tremoved\tpath\0`, or for a rename `added\tremoved\t\0old\0new\0`.
        let mut fields = output.stdout.split(|byte| *byte == 0);
        let mut changes = Vec::new();
        while let Some(record) = fields.next() {
            if record.is_empty() {
                continue;
            }
            let record = String::from_utf8_lossy(record);
            let mut parts = record.splitn(3, '\t');
            let (Some(added), Some(removed), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(unexpected(format!("a record without two tabs: {record:?}")));
            };
            let count = |value: &str| -> Result<Option<u64>, GitError> {
                if value == "-" {
                    return Ok(None);
                }
                value
                    .parse()
                    .map(Some)
                    .map_err(|_| unexpected(format!("`{value}` is not a line count")))
            };
            let path = if path.is_empty() {
                let _old = fields.next();
                let new = fields
                    .next()
                    .ok_or_else(|| unexpected("a rename without its new path".to_owned()))?;
                String::from_utf8_lossy(new).into_owned()
            } else {
                path.to_owned()
            };
            changes.push(FileChange {
                added: count(added)?,
                removed: count(removed)?,
                path,
            });
        }
        Ok(changes)
    }
}
