//! What a run asks git before its first gate, in as few processes as git allows: one
//! `cat-file --batch` for the commit, its parent and a file in it, one
//! `for-each-ref` for the branch checked out and the default-branch candidates — both at once,
//! and the latter read from the ref files instead in the plain case (see `refs`).
//!
//! Each git process costs about a millisecond of a core, and a run used to start eight of them
//! in four rounds before its first gate.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};

use super::{GitError, describe, git_binary, text};

/// The default branches a change is compared with, in the order they are tried.
pub(super) const CANDIDATES: [&str; 3] = [
    "refs/remotes/origin/HEAD",
    "refs/heads/main",
    "refs/heads/master",
];

/// A file as a commit has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAt {
    /// Its text.
    Found(String),
    /// The commit has no such file.
    Absent,
    /// It could not be read (not asked for, not UTF-8, git failed).
    Unread,
}

/// One look at the repository (see [`super::GitCli::snapshot`]).
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The full id of the commit asked about.
    pub commit: String,
    /// Its first parent; `None` for a root commit (or one a shallow clone cut off).
    pub parent: Option<String>,
    /// The branch checked out, `None` on a detached HEAD.
    pub branch: Option<String>,
    /// The file asked for, as the commit has it.
    pub file: FileAt,
    /// `for-each-ref` lines for the [`CANDIDATES`] that exist: `refname object symref`.
    pub(super) listing: String,
}

impl Snapshot {
    /// The default-branch candidates that exist, one `refname object symref short` line each,
    /// as `for-each-ref` prints them (read from the ref files in the plain case).
    pub fn default_branch_lines(&self) -> &str {
        &self.listing
    }
}

fn spawn_error(args: &[&str]) -> impl FnOnce(std::io::Error) -> GitError + use<> {
    let command = args.join(" ");
    move |source| GitError::Spawn { command, source }
}

fn command(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(git_binary());
    command
        .arg("-c")
        .arg("core.quotepath=off")
        .args(args)
        .current_dir(root)
        .env("LC_ALL", "C")
        .env("GIT_PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0");
    command
}

/// The branch and default-branch lines: `for-each-ref` with the root ref `HEAD` among the
/// refs it lists (git 2.46 and later); an older git is asked with `symbolic-ref` beside it.
fn refs(root: &Path) -> Result<(Option<String>, String), GitError> {
    let format = "--format=%(refname) %(objectname) %(symref) %(symref:short)";
    let mut args = vec!["for-each-ref", "--include-root-refs", format, "HEAD"];
    args.extend(CANDIDATES);
    let output = command(root, &args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(spawn_error(&args))?;
    if output.status.success() {
        let listing = text(&output.stdout);
        let mut branch = None;
        let mut rest = String::new();
        for line in listing.lines() {
            if let Some(head) = line.strip_prefix("HEAD ") {
                // `HEAD <object> <symref> <short>`: no symref on a detached HEAD.
                let mut fields = head.split(' ');
                let (_, symref, short) = (fields.next(), fields.next(), fields.next());
                if symref.is_some_and(|symref| !symref.is_empty()) {
                    branch = short.filter(|short| !short.is_empty()).map(str::to_owned);
                }
            } else {
                rest.push_str(line);
                rest.push('\n');
            }
        }
        return Ok((branch, rest));
    }
    // An older git: the listing without HEAD, and the branch from `symbolic-ref`.
    let mut args = vec!["for-each-ref", format];
    args.extend(CANDIDATES);
    let (listing, branch) = std::thread::scope(|scope| {
        let branch = scope.spawn(|| {
            let args = ["symbolic-ref", "--quiet", "--short", "HEAD"];
            command(root, &args)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .map_err(spawn_error(&args))
        });
        let listing = command(root, &args)
            .stdin(Stdio::null())
            .output()
            .map_err(spawn_error(&args));
        (listing, branch.join())
    });
    let listing = listing?;
    if !listing.status.success() {
        return Err(GitError::Failed {
            command: args.join(" "),
            status: listing.status.to_string(),
            stderr: String::from_utf8_lossy(&listing.stderr).trim().to_owned(),
        });
    }
    let branch = branch.map_err(|_| GitError::Unexpected {
        command: "symbolic-ref --quiet --short HEAD".to_owned(),
        why: "the thread asking it stopped".to_owned(),
    })??;
    let branch = branch
        .status
        .success()
        .then(|| text(&branch.stdout))
        .filter(|branch| !branch.is_empty());
    Ok((branch, text(&listing.stdout)))
}

/// An object as `cat-file --batch` shows it: its id, its type and its content.
type Object = (String, String, Vec<u8>);

/// `git cat-file --batch` asked for `names` all at once (one round trip: the questions are
/// written, then the answers read): for each, its id, type and content, or `None` when it names
/// no object. A name holding a newline cannot be asked and has no answer.
fn batch(root: &Path, names: &[String]) -> Result<Vec<Option<Object>>, GitError> {
    const BATCH: [&str; 2] = ["cat-file", "--batch"];
    let unexpected = |why: String| GitError::Unexpected {
        command: BATCH.join(" "),
        why,
    };
    let mut child = command(root, &BATCH)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(spawn_error(&BATCH))?;
    let (Some(mut input), Some(output)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(unexpected("its pipes were not set up".to_owned()));
    };
    let mut questions = String::new();
    for name in names.iter().filter(|name| !name.contains('\n')) {
        questions.push_str(name);
        questions.push('\n');
    }
    // The questions are a few lines, far less than a pipe holds: writing them all before
    // reading cannot block.
    let written = input.write_all(questions.as_bytes());
    drop(input);
    let mut output = BufReader::new(output);
    let mut answers = Vec::with_capacity(names.len());
    let mut read = || -> std::io::Result<Option<Object>> {
        let mut header = String::new();
        output.read_line(&mut header)?;
        let header = header.trim_end_matches('\n');
        let mut fields = header.rsplitn(3, ' ');
        let (Some(size), Some(kind), Some(id)) = (fields.next(), fields.next(), fields.next())
        else {
            // `<name> missing`, `<name> ambiguous`: no such object.
            return Ok(None);
        };
        let Ok(size) = size.parse::<usize>() else {
            return Ok(None);
        };
        let mut content = vec![0; size + 1];
        output.read_exact(&mut content)?;
        content.pop();
        Ok(Some((id.to_owned(), kind.to_owned(), content)))
    };
    let mut failure = written.err();
    for name in names {
        if name.contains('\n') {
            answers.push(None);
            continue;
        }
        match read() {
            Ok(answer) => answers.push(answer),
            Err(error) => {
                failure.get_or_insert(error);
                break;
            }
        }
    }
    let _ = child.wait();
    match failure {
        Some(error) => Err(unexpected(error.to_string())),
        None => Ok(answers),
    }
}

/// The commit `rev` names, its first parent, and `file` in it; `None` when `rev` names no
/// commit here (the caller asks `rev-parse`, whose error says why).
fn commit_and_file(
    root: &Path,
    rev: &str,
    file: Option<&str>,
) -> Result<Option<(String, Option<String>, FileAt)>, GitError> {
    // The parent is asked of git rather than read from the commit's header: a shallow clone's
    // boundary names a parent it does not have.
    let mut names = vec![format!("{rev}^{{commit}}"), format!("{rev}~1^{{commit}}")];
    if let Some(path) = file {
        names.push(format!("{rev}:{path}"));
    }
    let mut answers = batch(root, &names)?.into_iter();
    let Some((commit, kind, _)) = answers.next().flatten() else {
        return Ok(None);
    };
    if kind != "commit" {
        return Ok(None);
    }
    let parent = answers.next().flatten().map(|(parent, _, _)| parent);
    let file = match (file, answers.next()) {
        (Some(_), Some(Some((_, kind, content)))) if kind == "blob" => {
            String::from_utf8(content).map_or(FileAt::Unread, FileAt::Found)
        }
        (Some(_), Some(None)) => FileAt::Absent,
        // Not asked, a tree or worse, or no answer at all.
        _ => FileAt::Unread,
    };
    Ok(Some((commit, parent, file)))
}

/// See [`super::GitCli::snapshot`].
pub(super) fn snapshot(
    root: &Path,
    rev: &str,
    file: Option<&str>,
    refs_from_files: bool,
) -> Result<Option<Snapshot>, GitError> {
    let (found, refs) = std::thread::scope(|scope| {
        let refs = scope.spawn(move || {
            refs_from_files
                .then(|| super::refs::read(root, &CANDIDATES))
                .flatten()
                .map_or_else(|| refs(root), Ok)
        });
        (commit_and_file(root, rev, file), refs.join())
    });
    let refs = refs.map_err(|_| GitError::Unexpected {
        command: describe(&[std::ffi::OsStr::new("for-each-ref")]),
        why: "the thread asking it stopped".to_owned(),
    })?;
    let Some((commit, parent, file)) = found? else {
        return Ok(None);
    };
    let (branch, listing) = refs?;
    Ok(Some(Snapshot {
        commit,
        parent,
        branch,
        file,
        listing,
    }))
}
