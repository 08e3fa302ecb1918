//! git's first answers about `HEAD`, asked from the moment the process starts: `fixlane run`
//! almost always runs at the repository's root on `HEAD`, and the two git processes of a
//! snapshot are on the way to the first gate, as is the parsing of the command line that would
//! otherwise come before them. Used only when the run asks exactly that question (`HEAD`, the
//! root's `fixlane.toml`, this repository); otherwise git is asked as always.

use std::path::PathBuf;

use fixlane_runner::git::{GitCli, GitError, Repository as _, Snapshot};

use crate::settings::ROOT_CONFIG;

/// The repository's root and git's snapshot of `HEAD` there, being read.
type Answer = Option<(PathBuf, Result<Snapshot, GitError>)>;

pub struct EarlySnapshot(std::thread::JoinHandle<Answer>);

impl EarlySnapshot {
    /// Starts asking on a thread of its own, when the current directory is a repository's
    /// root.
    pub fn start() -> Option<Self> {
        let directory = std::env::current_dir().ok()?;
        let asking = std::thread::Builder::new()
            .name("fixlane-git".to_owned())
            .spawn(move || {
                let repo = GitCli::discover(&directory).ok()?;
                // Started below the root, `fixlane.toml` here is not the root's.
                if repo.root() != directory {
                    return None;
                }
                let snapshot = repo.snapshot("HEAD", Some(ROOT_CONFIG));
                Some((repo.root().to_path_buf(), snapshot))
            })
            .ok()?;
        Some(Self(asking))
    }

    /// The snapshot, when it answers the run's question: `rev` is `HEAD`, the file is the root's
    /// `fixlane.toml`, in the repository at `root`.
    pub fn answer(
        self,
        root: &std::path::Path,
        rev: &str,
        file: Option<&str>,
    ) -> Option<Result<Snapshot, GitError>> {
        if rev != "HEAD" || file != Some(ROOT_CONFIG) {
            return None;
        }
        let (early_root, snapshot) = self.0.join().ok()??;
        (early_root == root).then_some(snapshot)
    }
}
