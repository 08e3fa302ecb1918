//! The branch checked out and the default-branch candidates read from the ref files
//! themselves, for the plain case, instead of a `git for-each-ref` process on the way to the
//! first gate (about 1.5 ms of the time to the first gate on a 1 000-gate config, measured).
//!
//! Plain means: the repository's own `.git` directory (not a linked worktree), refs kept as
//! files (loose, or in `packed-refs`; not `reftable`), no `GIT_*` variable that changes where
//! refs are, and every file read holding what git writes there. Anything else — a ref that is
//! neither an object id nor `ref: …`, a symbolic ref more than a few levels deep, a file that
//! is a symbolic link, a read that fails other than by the file's absence — is left to git, so
//! the answer is always git's.

use std::path::Path;

/// What changes which refs git sees besides what changes where it looks (see `discover`).
const GIT_NAMESPACE: &str = "GIT_NAMESPACE";

/// How many symbolic refs are followed before the answer is left to git (git's own limit is
/// five).
const MAX_DEPTH: usize = 5;

/// The branch `HEAD` names and the listing `for-each-ref` would print for `candidates` (`name
/// id symref short` per existing one, by name), or `None` to ask git.
pub(super) fn read(root: &Path, candidates: &[&str]) -> Option<(Option<String>, String)> {
    if super::discover::GIT_ENVIRONMENT
        .iter()
        .chain([&GIT_NAMESPACE])
        .any(|name| std::env::var_os(name).is_some())
    {
        return None;
    }
    let git_dir = root.join(".git");
    if !std::fs::symlink_metadata(&git_dir).ok()?.is_dir() {
        return None;
    }
    answer(&git_dir, candidates).ok()
}

/// The answer is git's to give: something here is not as git writes it in the plain case.
struct LeaveToGit;

/// [`read`] in the repository's `.git` directory.
fn answer(git_dir: &Path, candidates: &[&str]) -> Result<(Option<String>, String), LeaveToGit> {
    // A reftable repository keeps its refs elsewhere, and says so in its config.
    if std::fs::symlink_metadata(git_dir.join("reftable")).is_ok()
        || text(&git_dir.join("config"))?
            .unwrap_or_default()
            .to_ascii_lowercase()
            .contains("refstorage")
    {
        return Err(LeaveToGit);
    }
    let packed = text(&git_dir.join("packed-refs"))?.unwrap_or_default();
    let refs = Refs {
        git_dir,
        packed: &packed,
    };
    let head = text(&git_dir.join("HEAD"))?.ok_or(LeaveToGit)?;
    let head = head.strip_suffix('\n').unwrap_or(&head);
    let branch = if let Some(target) = head.strip_prefix("ref: ") {
        let name = target.strip_prefix("refs/heads/").ok_or(LeaveToGit)?;
        // An unborn branch is not listed by git either.
        refs.resolve(target, 0)?.map(|_| name.to_owned())
    } else {
        object_id(head)?;
        None
    };
    let mut lines = Vec::new();
    for candidate in candidates {
        let Some((id, symref)) = refs.resolve(candidate, 0)? else {
            continue;
        };
        let symref = symref.unwrap_or_default();
        lines.push(format!("{candidate} {id} {symref} {}\n", short(&symref)));
    }
    // git lists them by name.
    lines.sort();
    Ok((branch, lines.concat()))
}

/// The ref files of one repository.
struct Refs<'a> {
    git_dir: &'a Path,
    packed: &'a str,
}

impl Refs<'_> {
    /// The object `name` names and, when it is symbolic, the ref it points at; `None` when
    /// there is no such ref (or it points at none).
    fn resolve(
        &self,
        name: &str,
        depth: usize,
    ) -> Result<Option<(String, Option<String>)>, LeaveToGit> {
        if depth > MAX_DEPTH || !name.starts_with("refs/") || name.contains("..") {
            return Err(LeaveToGit);
        }
        let Some(content) = text(&self.git_dir.join(name))? else {
            return Ok(self.packed(name)?.map(|id| (id, None)));
        };
        let content = content.strip_suffix('\n').unwrap_or(&content);
        match content.strip_prefix("ref: ") {
            Some(target) => Ok(self
                .resolve(target, depth + 1)?
                .map(|(id, _)| (id, Some(target.to_owned())))),
            None => Ok(Some((object_id(content)?.to_owned(), None))),
        }
    }

    /// The id `packed-refs` gives `name`, if any.
    fn packed(&self, name: &str) -> Result<Option<String>, LeaveToGit> {
        let listed = self
            .packed
            .lines()
            .filter(|line| !line.starts_with('#') && !line.starts_with('^'))
            .find_map(|line| line.split_once(' ').filter(|(_, listed)| *listed == name));
        match listed {
            Some((id, _)) => Ok(Some(object_id(id)?.to_owned())),
            None => Ok(None),
        }
    }
}

/// `text` when it is an object id (40 or 64 lowercase hex digits).
fn object_id(text: &str) -> Result<&str, LeaveToGit> {
    ((text.len() == 40 || text.len() == 64)
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)))
    .then_some(text)
    .ok_or(LeaveToGit)
}

/// A ref's short name as `%(symref:short)` prints it.
fn short(name: &str) -> &str {
    ["refs/heads/", "refs/tags/", "refs/remotes/"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name)
}

/// A file's text, `None` when there is no such file; left to git when it cannot be read
/// otherwise, is a symbolic link (git has its own rules for those), is not a file, or is not
/// UTF-8.
fn text(path: &Path) -> Result<Option<String>, LeaveToGit> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if !metadata.is_file() => return Err(LeaveToGit),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err(LeaveToGit),
    }
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) => Err(LeaveToGit),
    }
}

#[cfg(test)]
mod tests {
    use super::{object_id, read, short};

    /// The plain case is answered here, without git; a reftable repository is left to git.
    /// (That the answer is git's own is `tests/git.rs`'s concern; here the files are written
    /// as git writes them.)
    #[test]
    fn a_plain_repository_is_answered_and_a_reftable_one_is_left_to_git() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        let id = "0123456789abcdef0123456789abcdef01234567";
        std::fs::create_dir_all(root.join(".git/refs/heads")).unwrap();
        std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(root.join(".git/refs/heads/main"), format!("{id}\n")).unwrap();
        let candidates = super::super::snapshot::CANDIDATES;
        assert_eq!(
            read(root, &candidates),
            Some((Some("main".to_owned()), format!("refs/heads/main {id}  \n")))
        );
        // A ref that is a symbolic link follows git's own rules: left to git.
        std::fs::rename(
            root.join(".git/refs/heads/main"),
            root.join(".git/main-ref"),
        )
        .unwrap();
        std::os::unix::fs::symlink("../../main-ref", root.join(".git/refs/heads/main")).unwrap();
        assert_eq!(read(root, &candidates), None);
        std::fs::remove_file(root.join(".git/refs/heads/main")).unwrap();
        std::fs::rename(
            root.join(".git/main-ref"),
            root.join(".git/refs/heads/main"),
        )
        .unwrap();
        assert!(read(root, &candidates).is_some());
        std::fs::create_dir(root.join(".git/reftable")).unwrap();
        assert_eq!(read(root, &candidates), None);
    }

    #[test]
    fn short_names_are_the_ones_git_prints() {
        assert_eq!(short("refs/remotes/origin/main"), "origin/main");
        assert_eq!(short("refs/heads/main"), "main");
        assert_eq!(short(""), "");
    }

    #[test]
    fn only_full_lowercase_ids_are_ids() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(object_id(id).ok(), Some(id));
        assert!(object_id(&id.to_uppercase()).is_err());
        assert!(object_id(&id[1..]).is_err());
        assert!(object_id("ref: refs/heads/main").is_err());
    }
}
