//! Go packages and their imports: each directory with `.go` files under a module is a package
//! named by the module path and the directory; its imports (tests' too, since a test that
//! imports a changed package must run again) are read from each file's import declarations
//! (`imports`), by descriptors relative to each directory (`files`), and only as far as they
//! can change what a change affects (see `read_needs`).
//!
//! The modules are the root's `go.mod`, those a `go.work` uses, those nested inside them, and
//! the nearest `go.mod` above each changed file.

mod files;
mod imports;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;

use fixlane_core::affected::{self, Ecosystem, GoModule, Package, Unreadable, Workspace};

use self::files::{Found, Names, Reader};
use super::{read_manifest, relative};

/// `module` from a `go.mod`, which may be quoted or followed by a comment.
pub(super) fn go_module(go_mod: &str) -> Option<String> {
    go_mod.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("module")?;
        if !rest.starts_with([' ', '\t', '"']) {
            return None;
        }
        let rest = rest.split("//").next()?.trim().trim_matches('"');
        (!rest.is_empty()).then(|| rest.to_owned())
    })
}

/// The directories a `go.work` uses, block or line form.
fn go_work_uses(go_work: &str) -> Vec<String> {
    let mut uses = Vec::new();
    let mut in_block = false;
    for line in go_work.lines() {
        let line = line.split("//").next().unwrap_or_default().trim();
        if in_block {
            if line.starts_with(')') {
                in_block = false;
            } else if !line.is_empty() {
                uses.push(line.trim_matches('"').to_owned());
            }
        } else if let Some(rest) = line.strip_prefix("use") {
            let rest = rest.trim();
            if rest == "(" {
                in_block = true;
            } else if !rest.is_empty() {
                uses.push(rest.trim_matches('"').to_owned());
            }
        }
    }
    uses
}

/// The module directories to read: the root's, a `go.work`'s, and the nearest above each
/// changed file.
fn module_directories(
    root: &Path,
    changed_files: &[String],
    workspace: &mut Workspace,
) -> BTreeSet<String> {
    let mut directories = BTreeSet::new();
    if root.join("go.mod").is_file() {
        directories.insert(String::new());
    }
    if let Some(uses) = read_manifest(root, "go.work", |text| Ok(go_work_uses(text)), workspace) {
        directories.extend(uses.iter().filter_map(|path| super::join("", path)));
    }
    // Directory → whether it holds a go.mod; each asked once.
    let mut has_go_mod: HashMap<String, bool> = HashMap::new();
    for file in changed_files {
        let file = fixlane_core::affected::normalize(file);
        let mut candidate = file.rsplit_once('/').map_or("", |(directory, _)| directory);
        loop {
            let found = *has_go_mod
                .entry(candidate.to_owned())
                .or_insert_with(|| root.join(candidate).join("go.mod").is_file());
            if found {
                directories.insert(candidate.to_owned());
                break;
            }
            if candidate.is_empty() {
                break;
            }
            candidate = candidate.rsplit_once('/').map_or("", |(parent, _)| parent);
        }
    }
    directories
}

/// Every module reachable from the root, a `go.work` and the changed files (directory → module
/// path), and each directory with Go files in them (→ its module's directory and the files).
fn walk(
    root: &Path,
    changed_files: &[String],
    workspace: &mut Workspace,
) -> (BTreeMap<String, String>, BTreeMap<String, (String, Names)>) {
    let mut pending: Vec<String> = module_directories(root, changed_files, workspace)
        .into_iter()
        .collect();
    let mut modules: BTreeMap<String, String> = BTreeMap::new();
    let mut packages: BTreeMap<String, (String, Names)> = BTreeMap::new();
    let mut buffer = Vec::new();
    while let Some(module_directory) = pending.pop() {
        if modules.contains_key(&module_directory) {
            continue;
        }
        let go_mod = relative(&module_directory, "go.mod");
        let Some(path) = read_manifest(
            root,
            &go_mod,
            |text| go_module(text).ok_or_else(|| "it has no `module` line".to_owned()),
            workspace,
        ) else {
            continue;
        };
        modules.insert(module_directory.clone(), path);
        let mut stack = vec![module_directory.clone()];
        while let Some(directory) = stack.pop() {
            let listing = match files::list(&root.join(&directory), &mut buffer) {
                Ok(Some(listing)) => listing,
                Ok(None) => continue,
                // Packages may be in it, depending on a changed one: it fails closed, like a
                // manifest that cannot be read.
                Err(error) => {
                    workspace.unreadable.push(Unreadable {
                        path: if directory.is_empty() {
                            ".".to_owned()
                        } else {
                            directory
                        },
                        why: error.to_string(),
                    });
                    continue;
                }
            };
            if listing.go_mod && directory != module_directory {
                // A nested module: read on its own.
                pending.push(directory);
                continue;
            }
            stack.extend(
                listing
                    .directories
                    .iter()
                    .map(|name| relative(&directory, name)),
            );
            if listing.go_files.len() > 0 {
                match packages.entry(directory) {
                    Entry::Vacant(entry) => {
                        entry.insert((module_directory.clone(), listing.go_files));
                    }
                    Entry::Occupied(mut entry) => entry.get_mut().1.append(&listing.go_files),
                }
            }
        }
    }
    (modules, packages)
}

/// Some of one package's files, to read on one thread.
#[derive(Debug, Clone)]
struct Task {
    package: usize,
    files: Range<usize>,
}

/// `tasks` cut into groups of about `per_group` files each, a task split where it must be.
fn split(tasks: &[Task], per_group: usize) -> Vec<Vec<Task>> {
    let per_group = per_group.max(1);
    let mut groups: Vec<Vec<Task>> = vec![Vec::new()];
    let mut room = per_group;
    for task in tasks {
        let mut start = task.files.start;
        while start < task.files.end {
            if room == 0 {
                groups.push(Vec::new());
                room = per_group;
            }
            let end = (start + room).min(task.files.end);
            if let Some(group) = groups.last_mut() {
                group.push(Task {
                    package: task.package,
                    files: start..end,
                });
            }
            room -= end - start;
            start = end;
        }
    }
    groups
}

/// What `tasks` find, each task's in its order, read on a few threads: thousands of small reads
/// are most of a large module's cost.
fn read_tasks(
    root: &Path,
    packages: &[Package],
    files: &[Names],
    tasks: &[Task],
    cores: usize,
) -> Vec<(usize, Found)> {
    /// Below this many files a thread costs more than it saves.
    const PER_THREAD: usize = 256;
    let total: usize = tasks.iter().map(|task| task.files.len()).sum();
    let threads = cores.clamp(1, 4).min(total.div_ceil(PER_THREAD)).max(1);
    let read_group = |group: &[Task]| {
        let mut reader = Reader::new();
        group
            .iter()
            .map(|task| {
                let mut found = Found::default();
                reader.read(
                    &root.join(&packages[task.package].directory),
                    &files[task.package],
                    task.files.clone(),
                    &mut found,
                );
                (task.package, found)
            })
            .collect::<Vec<_>>()
    };
    if threads == 1 {
        return read_group(tasks);
    }
    let groups = split(tasks, total.div_ceil(threads));
    std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .map(|group| (group, scope.spawn(|| read_group(group))))
            .collect();
        handles
            .into_iter()
            .flat_map(|(group, handle)| {
                handle.join().unwrap_or_else(|_| {
                    // Its files are unread, and fail closed.
                    group
                        .iter()
                        .map(|task| {
                            let unreadable = task
                                .files
                                .clone()
                                .map(|file| (file, "its reader stopped".to_owned()))
                                .collect();
                            (
                                task.package,
                                Found {
                                    unreadable,
                                    ..Found::default()
                                },
                            )
                        })
                        .collect()
                })
            })
            .collect()
    })
}

/// Each package's imports, read only as far as they can change what a change to the `direct`
/// packages affects. A package's imports only ever make it a dependent, so once one of its
/// files imports a package known to be affected, its other files are left unread; a package
/// that is not a dependent has every file read, as it must to be sure. Files are read in
/// rounds, a few more of each undecided package's each round (1, 2, 4, …), so a package is
/// decided by its first files when it can be, and which files are read never depends on the
/// threads' timing. A file that is read and cannot be goes to `unreadable` (every package is
/// then selected); one left unread, its package already selected, cannot change the answer.
fn read_needs(
    root: &Path,
    packages: &[Package],
    files: &[Names],
    direct: &[usize],
    unreadable: &mut Vec<Unreadable>,
) -> Vec<BTreeSet<String>> {
    let count = packages.len();
    let mut imports = vec![BTreeSet::new(); count];
    if direct.is_empty() {
        // No Go package changed: nobody's imports matter.
        return imports;
    }
    // By name as the core resolves a need: where two packages share one, the last.
    let index: HashMap<&str, usize> = packages
        .iter()
        .enumerate()
        .map(|(at, package)| (package.name.as_str(), at))
        .collect();
    let mut affected = vec![false; count];
    for &package in direct {
        if let Some(mark) = affected.get_mut(package) {
            *mark = true;
        }
    }
    let mut importers: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut read = vec![0_usize; count];
    // Asked once: it reads the cgroup's files each time.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut round = 1_usize;
    loop {
        let mut tasks = Vec::new();
        for package in 0..count {
            let start = read[package];
            if affected[package] || start == files[package].len() {
                continue;
            }
            read[package] = (start + round).min(files[package].len());
            tasks.push(Task {
                package,
                files: start..read[package],
            });
        }
        if tasks.is_empty() {
            break;
        }
        let mut reached = Vec::new();
        for (package, found) in read_tasks(root, packages, files, &tasks, cores) {
            unreadable.extend(found.unreadable.into_iter().map(|(file, why)| Unreadable {
                path: relative(&packages[package].directory, files[package].text(file)),
                why,
            }));
            for path in found.imports {
                if imports[package].contains(&path) {
                    continue;
                }
                if let Some(&needed) = index.get(path.as_str())
                    && needed != package
                {
                    importers[needed].push(package);
                    if affected[needed] {
                        reached.push(package);
                    }
                }
                imports[package].insert(path);
            }
        }
        // The newly affected, and whoever imports them, transitively.
        while let Some(package) = reached.pop() {
            if !affected[package] {
                affected[package] = true;
                reached.extend(importers[package].iter().copied());
            }
        }
        round = round.saturating_mul(2);
    }
    imports
}

/// Reads every module reachable from the root, a `go.work` and the changed files: their
/// packages, and the imports between them as far as they decide what `changed_files` affect
/// (see `read_needs`): a package already known to depend on a changed one may list only some
/// of its imports.
pub(super) fn read_go(root: &Path, changed_files: &[String], workspace: &mut Workspace) {
    let (modules, walked) = walk(root, changed_files, workspace);
    let mut packages = Vec::with_capacity(walked.len());
    let mut files = Vec::with_capacity(walked.len());
    for (directory, (module_directory, names)) in walked {
        let Some(module) = modules.get(&module_directory) else {
            continue;
        };
        let below = directory
            .strip_prefix(module_directory.as_str())
            .unwrap_or_default()
            .trim_start_matches('/');
        let name = if below.is_empty() {
            module.clone()
        } else {
            format!("{module}/{below}")
        };
        packages.push(Package {
            ecosystem: Ecosystem::Go,
            name,
            directory,
            needs: Vec::new(),
        });
        files.push(names);
    }
    let mut view = Workspace {
        packages,
        go_modules: modules
            .into_iter()
            .map(|(directory, path)| GoModule { directory, path })
            .collect(),
        unreadable: Vec::new(),
    };
    // The packages the core will start from, found by its own rules.
    let direct = affected::changed_go_packages(&view, changed_files);
    let imports = read_needs(root, &view.packages, &files, &direct, &mut view.unreadable);
    for (package, imports) in view.packages.iter_mut().zip(imports) {
        // Imports of the standard library and of other modules name no package here and are
        // left for the core to ignore.
        package.needs = imports.into_iter().collect();
    }
    workspace.packages.append(&mut view.packages);
    workspace.go_modules.append(&mut view.go_modules);
    workspace.unreadable.append(&mut view.unreadable);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_module_lines() {
        assert_eq!(
            go_module("// c\nmodule example.com/svc // x\n\ngo 1.22\n").as_deref(),
            Some("example.com/svc")
        );
        assert_eq!(
            go_module("module \"example.com/q\"\n").as_deref(),
            Some("example.com/q")
        );
        assert_eq!(go_module("modules x\n"), None);
    }

    /// `names` as a package's file list.
    fn names(names: &[&str]) -> Names {
        let mut list = Names::default();
        for name in names {
            let name = std::ffi::CString::new(*name).unwrap();
            list.push(&name);
        }
        list
    }

    #[test]
    fn imports_past_the_head_and_cut_at_its_end_are_found_and_a_vanished_file_imports_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        let long_comment = format!("// {}\n", "x".repeat(files::HEAD_BYTES));
        std::fs::write(
            root.join("long.go"),
            format!("{long_comment}package long\n\nimport \"example.com/far\"\n"),
        )
        .unwrap();
        // The head ends inside the word `import`: it must not be taken for another word.
        let head = "package cut\n\nimport \"example.com/near\"\n";
        let padding = format!(
            "/* {} */\n",
            "y".repeat(files::HEAD_BYTES - head.len() - 10)
        );
        let cut = format!("{head}{padding}import \"example.com/cut\"\n\nfunc F() {{}}\n");
        assert_eq!(&cut[files::HEAD_BYTES - 3..files::HEAD_BYTES], "imp");
        std::fs::write(root.join("cut.go"), &cut).unwrap();
        // Imports only, no declaration after them: the file's end ends them.
        std::fs::write(
            root.join("bare.go"),
            "package bare\nimport \"example.com/bare\"",
        )
        .unwrap();
        let list = names(&["long.go", "missing.go", "cut.go", "bare.go"]);
        let mut reader = Reader::new();
        let mut found = Found::default();
        reader.read(root, &list, 0..list.len(), &mut found);
        assert!(found.unreadable.is_empty(), "{:?}", found.unreadable);
        assert_eq!(
            found.imports.into_iter().collect::<Vec<_>>(),
            [
                "example.com/bare",
                "example.com/cut",
                "example.com/far",
                "example.com/near",
            ]
        );
        // A directory that vanished takes its files with it.
        let mut found = Found::default();
        reader.read(&root.join("gone"), &list, 0..list.len(), &mut found);
        assert!(found.imports.is_empty() && found.unreadable.is_empty());
    }

    #[test]
    fn a_go_file_that_cannot_be_read_is_unreadable_and_a_fifo_does_not_wait() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        std::os::unix::fs::symlink(root, root.join("dir.go")).unwrap();
        let fifo = root.join("fifo.go");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::write(
            root.join("ok.go"),
            "package ok\nimport \"example.com/ok\"\n",
        )
        .unwrap();
        let list = names(&["dir.go", "fifo.go", "ok.go"]);
        let mut found = Found::default();
        Reader::new().read(root, &list, 0..list.len(), &mut found);
        assert_eq!(found.unreadable.len(), 1, "{:?}", found.unreadable);
        assert_eq!(found.unreadable[0].0, 0);
        assert!(
            found.unreadable[0].1.contains("directory"),
            "{:?}",
            found.unreadable
        );
        assert_eq!(
            found.imports.into_iter().collect::<Vec<_>>(),
            ["example.com/ok"]
        );
    }

    #[test]
    fn tasks_split_into_groups_of_about_the_same_size() {
        let tasks = [
            Task {
                package: 0,
                files: 0..5,
            },
            Task {
                package: 1,
                files: 2..3,
            },
            Task {
                package: 2,
                files: 0..4,
            },
        ];
        let groups: Vec<Vec<(usize, Range<usize>)>> = split(&tasks, 4)
            .into_iter()
            .map(|group| {
                group
                    .into_iter()
                    .map(|task| (task.package, task.files))
                    .collect()
            })
            .collect();
        assert_eq!(
            groups,
            [
                vec![(0, 0..4)],
                vec![(0, 4..5), (1, 2..3), (2, 0..2)],
                vec![(2, 2..4)],
            ]
        );
    }

    /// A small pseudo-random sequence, so a test's cases are the same on every run.
    struct Sequence(u64);

    impl Sequence {
        fn below(&mut self, bound: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(self.0 >> 33).unwrap() % bound
        }
    }

    /// The affected packages of `changed` with every file's imports read.
    fn affected_reading_everything(
        root: &Path,
        changed: &[String],
    ) -> fixlane_core::affected::Affected {
        let mut workspace = Workspace::default();
        read_go(root, changed, &mut workspace);
        for package in &mut workspace.packages {
            let mut all = BTreeSet::new();
            for entry in std::fs::read_dir(root.join(&package.directory)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|extension| extension == "go") {
                    all.extend(imports::imports(&std::fs::read_to_string(path).unwrap()));
                }
            }
            package.needs = all.into_iter().collect();
        }
        affected::affected(&workspace, changed, &affected::GlobalInputs::builtin())
    }

    #[test]
    fn reading_only_what_decides_selects_what_reading_everything_does() {
        let mut sequence = Sequence(7);
        for case in 0..40 {
            let directory = tempfile::tempdir().unwrap();
            let root = directory.path();
            std::fs::write(root.join("go.mod"), "module example.com/m\n").unwrap();
            let packages = 2 + sequence.below(10);
            for package in 0..packages {
                std::fs::create_dir(root.join(format!("p{package}"))).unwrap();
                // Up to 40 files, so a package may be decided in any of several rounds.
                for file in 0..=sequence.below(40) {
                    let mut imports = String::from("import (\n\t\"fmt\"\n");
                    // Mostly imports of nothing here, now and then of another package (a
                    // cycle too: the reading must end anyway).
                    if sequence.below(6) == 0 {
                        let other = sequence.below(packages);
                        imports.push_str(&format!("\t\"example.com/m/p{other}\"\n"));
                    }
                    imports.push_str(")\n");
                    std::fs::write(
                        root.join(format!("p{package}/f{file}.go")),
                        format!("package p{package}\n\n{imports}\nfunc F() {{}}\n"),
                    )
                    .unwrap();
                }
            }
            let changed = vec![format!("p{}/f0.go", sequence.below(packages))];
            let mut workspace = Workspace::default();
            read_go(root, &changed, &mut workspace);
            let lazily =
                affected::affected(&workspace, &changed, &affected::GlobalInputs::builtin());
            assert_eq!(
                lazily,
                affected_reading_everything(root, &changed),
                "case {case}"
            );
        }
    }

    /// A package in `directory` of ten files named like Go files, the first of the walk's order
    /// importing `import` and the others links to a directory: unreadable, and were one read,
    /// every package would be selected.
    fn decided_by_its_first_file(root: &Path, directory: &str, import: &str) {
        let at = root.join(directory);
        std::fs::create_dir_all(&at).unwrap();
        for file in 0..10 {
            std::os::unix::fs::symlink(root, at.join(format!("f{file}.go"))).unwrap();
        }
        let first = files::list(&at, &mut Vec::new())
            .unwrap()
            .unwrap()
            .go_files
            .text(0)
            .to_owned();
        std::fs::remove_file(at.join(&first)).unwrap();
        std::fs::write(
            at.join(&first),
            format!("package {directory}\n\nimport \"{import}\"\n\nfunc F() {{}}\n"),
        )
        .unwrap();
        let listing = files::list(&at, &mut Vec::new()).unwrap().unwrap();
        assert_eq!(listing.go_files.text(0), first, "the walk's order holds");
        assert_eq!(listing.go_files.len(), 10);
    }

    #[test]
    fn a_package_known_to_be_affected_has_its_other_files_left_unread() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path();
        std::fs::write(root.join("go.mod"), "module example.com/m\n").unwrap();
        std::fs::create_dir_all(root.join("base")).unwrap();
        std::fs::write(root.join("base/base.go"), "package base\n").unwrap();
        // `app` is read before `mid` in each round, so it is decided only once `mid` is: the
        // dependents are followed through imports already read.
        decided_by_its_first_file(root, "mid", "example.com/m/base");
        decided_by_its_first_file(root, "app", "example.com/m/mid");
        let mut workspace = Workspace::default();
        let changed = vec!["base/base.go".to_owned()];
        read_go(root, &changed, &mut workspace);
        assert!(
            workspace.unreadable.is_empty(),
            "{:?}",
            workspace.unreadable
        );
        let needs: Vec<(&str, &[String])> = workspace
            .packages
            .iter()
            .map(|package| (package.name.as_str(), package.needs.as_slice()))
            .collect();
        assert_eq!(
            needs,
            [
                ("example.com/m/app", &["example.com/m/mid".to_owned()][..]),
                ("example.com/m/base", &[][..]),
                ("example.com/m/mid", &["example.com/m/base".to_owned()][..]),
            ]
        );
        // A change elsewhere leaves them undecided: every file is read, and those that cannot
        // be fail closed.
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::fs::write(root.join("other/other.go"), "package other\n").unwrap();
        let mut workspace = Workspace::default();
        read_go(root, &["other/other.go".to_owned()], &mut workspace);
        assert_eq!(workspace.unreadable.len(), 18, "{:?}", workspace.unreadable);
    }

    #[test]
    fn go_work_uses_both_forms() {
        assert_eq!(
            go_work_uses("go 1.22\n\nuse ./api\nuse (\n\t./svc // main\n\t\"./tools\"\n)\n"),
            ["./api", "./svc", "./tools"]
        );
    }
}
