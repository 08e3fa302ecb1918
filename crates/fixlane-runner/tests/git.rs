//! `GitCli` against real repositories: odd file names, shallow clones, worktrees, detached HEAD.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside `#[test]` functions are test code too, and fail loudly"
)]

use std::path::Path;
use std::process::Command;

use fixlane_runner::git::{FileAt, FileChange, GitCli, Repository};

fn git(directory: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(directory)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn commit_file(directory: &Path, file: &str, contents: &[u8], message: &str) -> String {
    let path = directory.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
    git(directory, &["add", "--", file]);
    git(directory, &["commit", "-q", "-m", message]);
    git(directory, &["rev-parse", "HEAD"])
}

/// A linked worktree of `repository` on a new branch `feature`, in a directory of its own (kept
/// while the first value lives).
fn linked_worktree(repository: &Path) -> (tempfile::TempDir, std::path::PathBuf) {
    let worktrees = tempfile::tempdir().unwrap();
    let worktree = worktrees.path().join("wt");
    git(
        repository,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "feature",
            worktree.to_str().unwrap(),
        ],
    );
    (worktrees, worktree)
}

/// A repository on `main` with two commits; returns it and the two commit ids.
fn repository() -> (tempfile::TempDir, String, String) {
    let directory = tempfile::tempdir().unwrap();
    git(directory.path(), &["init", "-q", "-b", "main"]);
    git(
        directory.path(),
        &["config", "user.email", "dev@example.com"],
    );
    let first = commit_file(directory.path(), "README.md", b"hello\n", "first");
    let second = commit_file(
        directory.path(),
        "src/lib.rs",
        b"fn a() {}\n",
        "second\n\nbody",
    );
    (directory, first, second)
}

fn canonical(path: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(path).unwrap()
}

#[test]
fn changed_files_with_odd_names_come_back_verbatim() {
    let (directory, _, _) = repository();
    let root = directory.path();
    let base = git(root, &["rev-parse", "HEAD"]);
    let names = [
        "with space.txt",
        "ünïcödé/файл.txt",
        "tab\there.txt",
        "new\nline.txt",
        "quote\"and\\back.txt",
        "-dash.txt",
    ];
    for name in names {
        std::fs::create_dir_all(root.join(name).parent().unwrap()).unwrap();
        std::fs::write(root.join(name), "x\n").unwrap();
    }
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "odd names"]);
    let repository = GitCli::discover(root).unwrap();
    let mut changed = repository.changed_files(&base, "HEAD").unwrap();
    changed.sort();
    let mut expected: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    expected.sort();
    assert_eq!(changed, expected);
}

#[test]
fn numstat_counts_lines_and_marks_binaries_and_renames() {
    let (directory, _, _) = repository();
    let root = directory.path();
    let base = git(root, &["rev-parse", "HEAD"]);
    std::fs::write(root.join("src/lib.rs"), "fn a() {}\nfn b() {}\nfn c() {}\n").unwrap();
    std::fs::write(root.join("image.bin"), [0_u8, 1, 2, 0, 255]).unwrap();
    git(root, &["mv", "README.md", "read me.md"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "more"]);
    let repository = GitCli::discover(root).unwrap();
    let mut changes = repository.numstat(&base, "HEAD").unwrap();
    changes.sort_by(|left, right| left.path.cmp(&right.path));
    assert_eq!(
        changes,
        [
            FileChange {
                added: None,
                removed: None,
                path: "image.bin".to_owned()
            },
            FileChange {
                added: Some(0),
                removed: Some(0),
                path: "read me.md".to_owned()
            },
            FileChange {
                added: Some(2),
                removed: Some(0),
                path: "src/lib.rs".to_owned()
            },
        ]
    );
}

#[test]
fn resolves_revisions_branches_messages_and_email() {
    let (directory, first, second) = repository();
    let nested = directory.path().join("src");
    let repository = GitCli::discover(&nested).unwrap();
    assert_eq!(canonical(repository.root()), canonical(directory.path()));
    assert_eq!(
        canonical(repository.fixlane_dir().parent().unwrap()).join("fixlane"),
        canonical(&directory.path().join(".git")).join("fixlane")
    );
    assert_eq!(repository.resolve("HEAD").unwrap(), second);
    assert_eq!(repository.resolve("HEAD~1").unwrap(), first);
    let error = repository.resolve("no-such-rev").unwrap_err().to_string();
    assert!(error.contains("rev-parse"), "{error}");
    assert!(repository.resolve("--help").is_err());
    assert_eq!(
        repository.current_branch().unwrap().as_deref(),
        Some("main")
    );
    assert_eq!(repository.commit_message("HEAD").unwrap(), "second\n\nbody");
    assert_eq!(repository.user_email().as_deref(), Some("dev@example.com"));
    assert_eq!(
        repository.changed_files(&first, &second).unwrap(),
        ["src/lib.rs"]
    );

    git(directory.path(), &["checkout", "-q", "--detach"]);
    assert_eq!(repository.current_branch().unwrap(), None);
}

#[test]
fn default_base_is_the_merge_base_or_the_parent() {
    let (directory, first, second) = repository();
    let root = directory.path();
    let repository = GitCli::discover(root).unwrap();
    // On main itself: the parent.
    assert_eq!(
        repository.default_base("HEAD").unwrap(),
        Some(first.clone())
    );

    git(root, &["checkout", "-q", "-b", "hotfix/INC-1-fix"]);
    commit_file(root, "src/fix.rs", b"fix\n", "fix one");
    commit_file(root, "src/fix.rs", b"fix two\n", "fix two");
    git(root, &["checkout", "-q", "main"]);
    commit_file(root, "src/main-moved.rs", b"later\n", "main moves on");
    git(root, &["checkout", "-q", "hotfix/INC-1-fix"]);
    assert_eq!(repository.default_base("HEAD").unwrap(), Some(second));
    let mut changed = repository
        .changed_files(&repository.default_base("HEAD").unwrap().unwrap(), "HEAD")
        .unwrap();
    changed.sort();
    assert_eq!(changed, ["src/fix.rs"]);

    // A root commit has no base.
    assert_eq!(repository.default_base(&first).unwrap(), None);
}

#[test]
fn a_shallow_clone_has_no_base_and_still_resolves() {
    let (directory, _, second) = repository();
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", directory.path().display());
    git(
        clones.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let shallow = clones.path().join("shallow");
    let repository = GitCli::discover(&shallow).unwrap();
    assert_eq!(repository.resolve("HEAD").unwrap(), second);
    assert_eq!(repository.default_base("HEAD").unwrap(), None);
    assert_eq!(
        repository.current_branch().unwrap().as_deref(),
        Some("main")
    );
}

#[test]
fn a_worktree_shares_the_fixlane_directory_of_its_repository() {
    let (directory, _, second) = repository();
    let (_worktrees, worktree) = linked_worktree(directory.path());
    let repository = GitCli::discover(&worktree).unwrap();
    assert_eq!(canonical(repository.root()), canonical(&worktree));
    let fixlane_dir = repository.fixlane_dir();
    assert_eq!(fixlane_dir.file_name().unwrap(), "fixlane");
    assert_eq!(
        canonical(fixlane_dir.parent().unwrap()),
        canonical(&directory.path().join(".git"))
    );
    assert_eq!(
        repository.current_branch().unwrap().as_deref(),
        Some("feature")
    );
    assert_eq!(repository.resolve("HEAD").unwrap(), second);
    commit_file(&worktree, "wt.txt", b"x\n", "in the worktree");
    assert_eq!(
        repository.changed_files(&second, "HEAD").unwrap(),
        ["wt.txt"]
    );
    assert_eq!(repository.default_base("HEAD").unwrap(), Some(second));
}

#[test]
fn discover_outside_a_repository_says_which_command_failed() {
    let directory = tempfile::tempdir().unwrap();
    let error = GitCli::discover(directory.path()).unwrap_err().to_string();
    assert!(error.contains("git rev-parse"), "{error}");
    assert!(
        error.to_lowercase().contains("not a git repository"),
        "{error}"
    );
}

#[test]
fn file_at_reads_a_commits_file_and_says_none_when_it_is_missing() {
    let (directory, first, second) = repository();
    let repo = GitCli::discover(directory.path()).unwrap();
    assert_eq!(
        repo.file_at(&second, "src/lib.rs").unwrap().as_deref(),
        Some("fn a() {}\n")
    );
    assert_eq!(repo.file_at(&first, "src/lib.rs").unwrap(), None);
    // A path that tries to read as an option is just a missing file.
    assert_eq!(repo.file_at(&first, "--output=x").unwrap(), None);
}

#[test]
fn worktree_changes_include_uncommitted_edits() {
    let (directory, first, _) = repository();
    let repo = GitCli::discover(directory.path()).unwrap();
    std::fs::write(
        directory.path().join("README.md"),
        "edited, not committed\n",
    )
    .unwrap();
    let mut changed = repo.worktree_changes(&first).unwrap();
    changed.sort();
    assert_eq!(changed, vec!["README.md", "src/lib.rs"]);
}

#[test]
fn a_commit_on_main_judges_itself_but_a_one_branch_clone_does_not() {
    let (directory, _, second) = repository();
    let repo = GitCli::discover(directory.path()).unwrap();
    let on_main = repo.bases("HEAD").unwrap();
    assert_eq!(on_main.policy.as_deref(), Some(second.as_str()));
    assert_ne!(on_main.compare.as_deref(), Some(second.as_str()));
    assert_eq!(on_main.compare_with, None, "on main the base is the parent");

    git(directory.path(), &["switch", "-q", "-c", "hotfix/INC-1-x"]);
    let fix = commit_file(directory.path(), "src/lib.rs", b"fn b() {}\n", "fix");
    let on_branch = repo.bases("HEAD").unwrap();
    assert_eq!(on_branch.policy.as_deref(), Some(second.as_str()));
    assert_eq!(on_branch.compare.as_deref(), Some(second.as_str()));
    assert_eq!(on_branch.compare_with.as_deref(), Some("main"));

    // A clone of the hotfix branch alone: its origin/HEAD is the branch itself.
    let clone = tempfile::tempdir().unwrap();
    let source = format!("file://{}", directory.path().display());
    git(
        clone.path(),
        &[
            "clone",
            "-q",
            "--single-branch",
            "--branch",
            "hotfix/INC-1-x",
            &source,
            "repo",
        ],
    );
    let cloned = GitCli::discover(&clone.path().join("repo")).unwrap();
    let bases = cloned.bases("HEAD").unwrap();
    assert_ne!(
        bases.policy.as_deref(),
        Some(fix.as_str()),
        "the fix judged itself"
    );
}

#[test]
fn a_squash_merge_is_found_by_the_incident_id_in_its_message() {
    let (directory, _, _) = repository();
    let repo = GitCli::discover(directory.path()).unwrap();
    assert!(!repo.history_mentions("HEAD", "INC-2026-05-20-001").unwrap());
    commit_file(
        directory.path(),
        "src/fix.rs",
        b"fn fixed() {}\n",
        "hotfix(payments): squash of the fix\n\nINC-2026-05-20-001\napprover: @carol",
    );
    assert!(repo.history_mentions("HEAD", "INC-2026-05-20-001").unwrap());
    // Fixed text, not a pattern: a dot does not match any character.
    assert!(!repo.history_mentions("HEAD", "INC-2026-05-20.001").unwrap());
    assert!(
        !repo
            .history_mentions("HEAD~1", "INC-2026-05-20-001")
            .unwrap()
    );
}

#[test]
fn one_snapshot_answers_the_commit_its_parent_the_branch_and_a_file_in_it() {
    let (directory, first, second) = repository();
    commit_file(directory.path(), "fixlane.toml", b"[project]\n", "config");
    let third = git(directory.path(), &["rev-parse", "HEAD"]);
    let repo = GitCli::discover(directory.path()).unwrap();

    let snapshot = repo.snapshot("HEAD", Some("fixlane.toml")).unwrap();
    assert_eq!(snapshot.commit, third);
    assert_eq!(snapshot.parent.as_deref(), Some(second.as_str()));
    assert_eq!(snapshot.branch.as_deref(), Some("main"));
    assert_eq!(snapshot.file, FileAt::Found("[project]\n".to_owned()));
    // As `bases` has always said: on main, the commit is its own policy, compared with its parent.
    let bases = repo.bases_of(&snapshot).unwrap();
    assert_eq!(bases.policy.as_deref(), Some(third.as_str()));
    assert_eq!(bases.compare.as_deref(), Some(second.as_str()));

    let root = repo.snapshot(&first, Some("fixlane.toml")).unwrap();
    assert_eq!((root.parent, root.file), (None, FileAt::Absent));

    git(directory.path(), &["checkout", "-q", "--detach", &second]);
    let detached = repo.snapshot("HEAD", None).unwrap();
    assert_eq!((detached.branch, detached.file), (None, FileAt::Unread));
    assert_eq!(detached.commit, second);

    let error = repo.snapshot("no-such-rev", None).unwrap_err();
    assert!(error.to_string().contains("no-such-rev"), "{error}");
}

#[test]
fn the_quick_repository_look_agrees_with_git_everywhere_it_answers() {
    let (directory, _, _) = repository();
    let root = directory.path();
    std::fs::create_dir_all(root.join("a/b/c")).unwrap();
    // A linked worktree (a `.git` file and a `commondir`), a nested repository, a symbolic
    // link into the tree, a git directory and a config that moves the working tree.
    let (_worktrees, worktree) = linked_worktree(root);
    std::fs::create_dir_all(worktree.join("deep/er")).unwrap();
    let nested = root.join("vendor/inner");
    std::fs::create_dir_all(&nested).unwrap();
    git(&nested, &["init", "-q", "-b", "main"]);
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("link");
    std::os::unix::fs::symlink(root.join("a/b"), &link).unwrap();
    let moved = tempfile::tempdir().unwrap();
    git(moved.path(), &["init", "-q", "-b", "main"]);
    let elsewhere = tempfile::tempdir().unwrap();
    git(
        moved.path(),
        &[
            "config",
            "core.worktree",
            elsewhere.path().to_str().unwrap(),
        ],
    );
    for start in [
        root.to_path_buf(),
        root.join("a/b/c"),
        worktree.clone(),
        worktree.join("deep/er"),
        nested.clone(),
        link.clone(),
        root.join(".git"),
        moved.path().to_path_buf(),
    ] {
        let quick = GitCli::discover(&start);
        let slow = GitCli::discover_with_git(&start);
        match (quick, slow) {
            (Ok(quick), Ok(slow)) => {
                assert_eq!(quick.root(), slow.root(), "{}", start.display());
                assert_eq!(
                    quick.fixlane_dir(),
                    slow.fixlane_dir(),
                    "{}",
                    start.display()
                );
            }
            (Err(_), Err(_)) => {}
            (quick, slow) => panic!(
                "{}: the quick look says {:?}, git says {:?}",
                start.display(),
                quick.map(|repository| repository.root().to_path_buf()),
                slow.map(|repository| repository.root().to_path_buf())
            ),
        }
    }
    // Each was answered, by one or the other: the worktree's root is the worktree.
    assert_eq!(
        GitCli::discover(&worktree.join("deep/er")).unwrap().root(),
        std::fs::canonicalize(&worktree).unwrap()
    );
    assert_eq!(
        GitCli::discover(&nested).unwrap().root(),
        std::fs::canonicalize(&nested).unwrap()
    );
}

/// The branch and the default branches as the ref files say them, against `for-each-ref`, in
/// each state a repository's refs are commonly in: loose, packed, a remote's symbolic `HEAD`,
/// a dangling one, a detached `HEAD`, `master` instead of `main`, and a ref git must answer
/// (a broken loose ref file).
#[test]
fn the_ref_files_are_read_as_git_lists_them() {
    let (directory, first, second) = repository();
    let root = directory.path();
    let repo = GitCli::discover(root).unwrap();
    let agree = |state: &str| {
        let quick = repo.snapshot("HEAD", Some("README.md")).unwrap();
        let slow = repo.snapshot_with_git("HEAD", Some("README.md")).unwrap();
        assert_eq!(quick.branch, slow.branch, "{state}");
        assert_eq!(
            quick.default_branch_lines(),
            slow.default_branch_lines(),
            "{state}"
        );
        assert_eq!(quick.commit, slow.commit, "{state}");
        assert_eq!(
            repo.bases_of(&quick).unwrap(),
            repo.bases_of(&slow).unwrap(),
            "{state}"
        );
        quick
    };
    let loose = agree("loose refs");
    assert_eq!(loose.branch.as_deref(), Some("main"));
    assert!(
        loose
            .default_branch_lines()
            .contains(&format!("refs/heads/main {second}"))
    );

    git(root, &["update-ref", "refs/remotes/origin/main", &first]);
    git(
        root,
        &[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
        ],
    );
    let remote = agree("a remote's symbolic HEAD");
    assert!(remote.default_branch_lines().contains(&format!(
        "refs/remotes/origin/HEAD {first} refs/remotes/origin/main origin/main"
    )));

    git(root, &["pack-refs", "--all"]);
    assert!(!root.join(".git/refs/heads/main").exists());
    agree("packed refs");

    // Loose over packed: a ref moved after packing.
    git(root, &["update-ref", "refs/heads/main", &first]);
    git(root, &["update-ref", "refs/heads/main", &second]);
    agree("a loose ref over its packed one");

    git(root, &["update-ref", "-d", "refs/remotes/origin/main"]);
    agree("a dangling symbolic ref");

    git(root, &["checkout", "-q", "--detach", &first]);
    let detached = agree("a detached HEAD");
    assert_eq!(detached.branch, None);

    git(root, &["checkout", "-q", "-b", "master"]);
    git(root, &["branch", "-q", "-D", "main"]);
    agree("master, no main");

    // Not what git writes: left to git, which still answers.
    std::fs::write(root.join(".git/refs/heads/main"), "not an id\n").unwrap();
    let broken = repo.snapshot("HEAD", Some("README.md")).unwrap();
    assert_eq!(broken.branch.as_deref(), Some("master"));
}
