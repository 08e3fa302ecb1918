//! Finding the repository around a directory without starting git, for the plain cases: a
//! working tree whose `.git` is a directory, or a file pointing at a linked worktree's git
//! directory (`gitdir: …`, with its `commondir`).
//!
//! `git rev-parse` is a process on the way to every run's first gate (a millisecond or two of
//! a core that the config's parsing is competing for). Anything unusual — `GIT_DIR` and its
//! kin in the environment, a bare repository, a `core.worktree` or `core.bare` setting, a
//! directory owned by someone else (git's `safe.directory`), a filesystem boundary, a start
//! inside a git directory — is left to git itself, so the answer is always the one git gives.

use std::path::{Path, PathBuf};

/// Variables that change where git looks; any of them set leaves discovery to git.
pub(super) const GIT_ENVIRONMENT: [&str; 7] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
];

/// The working tree's root and the git common directory around `start` (absolute, as
/// `git rev-parse --path-format=absolute --show-toplevel --git-common-dir` prints them), or
/// `None` when this is a case for git to answer.
pub(super) fn discover(start: &Path) -> Option<(PathBuf, PathBuf)> {
    use std::os::unix::fs::MetadataExt as _;
    if GIT_ENVIRONMENT
        .iter()
        .any(|name| std::env::var_os(name).is_some())
    {
        return None;
    }
    // git reports the physical path, symbolic links resolved.
    let start = std::fs::canonicalize(start).ok()?;
    let device = std::fs::metadata(&start).ok()?.dev();
    let user = rustix::process::geteuid().as_raw();
    for directory in start.ancestors() {
        if directory.file_name().is_some_and(|name| name == ".git") {
            // Inside a git directory: no working tree, git says what that means.
            return None;
        }
        let metadata = std::fs::metadata(directory).ok()?;
        if metadata.dev() != device {
            // git stops at a filesystem boundary unless told otherwise.
            return None;
        }
        if looks_like_git_directory(directory) {
            // A bare repository (or a working tree's git directory) right here.
            return None;
        }
        let dot_git = directory.join(".git");
        let Ok(found) = std::fs::metadata(&dot_git) else {
            continue;
        };
        let git_directory = if found.is_dir() {
            dot_git
        } else if found.is_file() {
            linked(directory, &std::fs::read_to_string(&dot_git).ok()?)?
        } else {
            return None;
        };
        let common = match std::fs::read_to_string(git_directory.join("commondir")) {
            Ok(text) => git_directory.join(single_line(&text)?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => git_directory.clone(),
            Err(_) => return None,
        };
        let common = std::fs::canonicalize(common).ok()?;
        // A linked worktree's git directory has its own HEAD (and config); objects and refs are
        // shared. In a plain repository both are one directory, looked at once.
        let linked_worktree = std::fs::canonicalize(&git_directory).ok()? != common;
        if !looks_like_git_directory(&common)
            || (linked_worktree && !git_directory.join("HEAD").is_file())
        {
            return None;
        }
        // safe.directory: git refuses a repository owned by another user unless configured.
        if std::fs::metadata(&common).ok()?.uid() != user || metadata.uid() != user {
            return None;
        }
        if sets_worktree_or_bare(&common)
            || (linked_worktree && sets_worktree_or_bare(&git_directory))
        {
            return None;
        }
        return Some((directory.to_path_buf(), common));
    }
    None
}

/// What git checks before it takes a directory for a git directory: `HEAD`, `objects` and
/// `refs`.
fn looks_like_git_directory(directory: &Path) -> bool {
    directory.join("HEAD").is_file()
        && directory.join("objects").is_dir()
        && directory.join("refs").is_dir()
}

/// The git directory a `.git` file names (`gitdir: PATH`, relative to the file's directory).
fn linked(directory: &Path, text: &str) -> Option<PathBuf> {
    let target = single_line(text)?.strip_prefix("gitdir: ")?;
    std::fs::canonicalize(directory.join(target)).ok()
}

/// The one line of a small git file, without its line end; `None` for anything else.
fn single_line(text: &str) -> Option<&str> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    (!line.is_empty() && !line.contains('\n')).then_some(line)
}

/// Whether the config in `directory` may say where the working tree is (`core.worktree`),
/// that there is none (`core.bare = true`), or pull other files in (`[include]`): a case for
/// git. A config that cannot be read is one too.
fn sets_worktree_or_bare(directory: &Path) -> bool {
    let text = match std::fs::read_to_string(directory.join("config")) {
        Ok(text) => text.to_ascii_lowercase(),
        Err(error) => return error.kind() != std::io::ErrorKind::NotFound,
    };
    text.contains("worktree")
        || text.contains("include")
        || text.lines().any(|line| {
            let line: String = line.chars().filter(|c| !c.is_whitespace()).collect();
            line.starts_with("bare=") && !line.starts_with("bare=false")
        })
}

#[cfg(test)]
mod tests {
    use super::{linked, single_line};

    #[test]
    fn a_git_file_names_its_directory_on_one_line() {
        assert_eq!(single_line("gitdir: ../x\n"), Some("gitdir: ../x"));
        assert_eq!(single_line("a\nb\n"), None);
        assert_eq!(single_line("\n"), None);
        let dir = std::env::temp_dir();
        assert_eq!(linked(&dir, "not a gitdir line\n"), None);
    }
}
