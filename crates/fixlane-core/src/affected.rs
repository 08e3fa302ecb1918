//! Which packages a change affects: the packages holding a changed file, every package that
//! depends on one of them (transitively), and every package at all when a global input changed
//! or a manifest could not be read.
//!
//! Pure: the runner reads the manifests into a [`Workspace`] and hands it over with the changed
//! files; the rules that decide what a monorepo user may trust live here, where they are tested
//! on plain values. Failing closed is the rule throughout: when in doubt, more packages.

use std::collections::{BTreeSet, HashMap};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// Whose manifests a package was read from: names are matched within one ecosystem only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// A Cargo workspace member: owns every file under its directory.
    Cargo,
    /// A Go package: owns the files of its own directory only (a subdirectory is another
    /// package), and its `testdata`.
    Go,
    /// An npm, pnpm or yarn workspace: owns every file under its directory.
    Npm,
}

/// One package of the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: Ecosystem,
    /// What `FIXLANE_CHANGED_PACKAGES` names it: the crate's, the npm package's name, or the Go
    /// import path.
    pub name: String,
    /// Repository-relative, `""` for the root.
    pub directory: String,
    /// The names of the packages of the same ecosystem it depends on (others are ignored).
    pub needs: Vec<String>,
}

/// A Go module: where its `go.mod` is and the module path it declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoModule {
    /// Repository-relative, `""` for the root.
    pub directory: String,
    pub path: String,
}

/// A manifest that exists but could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Repository-relative.
    pub path: String,
    pub why: String,
}

/// The workspace as its manifests describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workspace {
    pub packages: Vec<Package>,
    pub go_modules: Vec<GoModule>,
    pub unreadable: Vec<Unreadable>,
}

/// The packages a change affects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// The packages holding a changed file, sorted.
    pub direct: Vec<String>,
    /// Every other affected package, sorted: those depending on a direct one, transitively, or
    /// all the rest when [`Affected::everything`] says why.
    pub dependents: Vec<String>,
    /// Why every package is selected, when it is: a global input changed, or a manifest could
    /// not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub everything: Option<String>,
    /// What a person should hear about how this was found (a manifest that could not be read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Affected {
    /// The direct packages and their dependents, sorted: `FIXLANE_CHANGED_PACKAGES`.
    pub fn all(&self) -> Vec<String> {
        let mut all: BTreeSet<&str> = self.direct.iter().map(String::as_str).collect();
        all.extend(self.dependents.iter().map(String::as_str));
        all.into_iter().map(str::to_owned).collect()
    }
}

/// Files whose change may affect any package, wherever they are: lockfiles and toolchain pins.
const GLOBAL_ANYWHERE: [(&str, &str); 17] = [
    ("Cargo.lock", "a lockfile"),
    ("go.sum", "a lockfile"),
    ("go.work.sum", "a lockfile"),
    ("package-lock.json", "a lockfile"),
    ("npm-shrinkwrap.json", "a lockfile"),
    ("pnpm-lock.yaml", "a lockfile"),
    ("yarn.lock", "a lockfile"),
    ("bun.lock", "a lockfile"),
    ("bun.lockb", "a lockfile"),
    ("go.mod", "a Go module's manifest and toolchain"),
    ("go.work", "the Go workspace"),
    ("rust-toolchain", "a toolchain file"),
    ("rust-toolchain.toml", "a toolchain file"),
    (".nvmrc", "a toolchain file"),
    (".node-version", "a toolchain file"),
    (".tool-versions", "a toolchain file"),
    (".go-version", "a toolchain file"),
];

/// Files whose change may affect any package when they are at the repository's root.
const GLOBAL_AT_ROOT: [(&str, &str); 7] = [
    ("Cargo.toml", "the root manifest"),
    ("package.json", "the root manifest"),
    ("pnpm-workspace.yaml", "the root manifest"),
    (".cargo/config.toml", "Cargo's configuration"),
    (".cargo/config", "Cargo's configuration"),
    (".npmrc", "npm's configuration"),
    (".yarnrc.yml", "yarn's configuration"),
];

/// What counts as a global input: the built-in lockfiles, toolchain files and root manifests,
/// the config file, and the globs of `[project] global_inputs`.
#[derive(Debug, Clone)]
pub struct GlobalInputs {
    config_file: String,
    patterns: Vec<String>,
    matcher: GlobSet,
}

impl GlobalInputs {
    /// `config_file` is the config's repository-relative path (`fixlane.toml` when `None`);
    /// `patterns` are `[project] global_inputs`, which the loader has checked parse.
    pub fn new(config_file: Option<&str>, patterns: &[String]) -> Result<Self, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            builder.add(Glob::new(pattern)?);
        }
        Ok(Self {
            config_file: config_file.unwrap_or("fixlane.toml").to_owned(),
            patterns: patterns.to_vec(),
            matcher: builder.build()?,
        })
    }

    /// The built-in global inputs and `fixlane.toml`, nothing declared.
    pub fn builtin() -> Self {
        Self {
            config_file: "fixlane.toml".to_owned(),
            patterns: Vec::new(),
            matcher: GlobSet::empty(),
        }
    }

    /// Why a change to `file` (repository-relative) selects every package, or `None`.
    pub fn why(&self, file: &str) -> Option<String> {
        let file = normalize(file);
        let name = file.rsplit('/').next().unwrap_or(&file);
        if file == self.config_file || file == "fixlane.toml" {
            return Some(format!("`{file}` changed: the config is a global input"));
        }
        if let Some((_, what)) = GLOBAL_ANYWHERE.iter().find(|(known, _)| *known == name) {
            return Some(format!("`{file}` changed: {what} is a global input"));
        }
        if let Some((_, what)) = GLOBAL_AT_ROOT.iter().find(|(known, _)| *known == file) {
            return Some(format!("`{file}` changed: {what} is a global input"));
        }
        if !self.matcher.is_match(&file) {
            return None;
        }
        let matched = self.matcher.matches(&file);
        let first = matched.first()?;
        Some(format!(
            "`{file}` changed: it matches `{}` in [project] global_inputs",
            self.patterns[*first]
        ))
    }
}

/// `./a/b/` → `a/b`; `.` → `""`.
pub fn normalize(path: &str) -> String {
    let trimmed = path.trim_start_matches("./").trim_end_matches('/');
    if trimmed == "." {
        String::new()
    } else {
        trimmed.to_owned()
    }
}

/// Whether `file` is under `directory` (whole path components; `""` holds everything).
pub fn contains(directory: &str, file: &str) -> bool {
    directory.is_empty()
        || file
            .strip_prefix(directory)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// The Go package a changed file belongs to: a `.go` file's directory under its nearest module,
/// or a known Go package's own file (an embedded asset) or its `testdata`.
fn go_package(
    workspace: &Workspace,
    go_directories: &HashMap<&str, usize>,
    file: &str,
) -> Option<String> {
    // Everything under `testdata` belongs to the package above it.
    let owner = match file.find("/testdata/") {
        Some(at) => &file[..at],
        None if file.starts_with("testdata/") => "",
        None => parent(file),
    };
    // Go's own rule, case and all: `X.GO` is not a Go file.
    let is_go = std::path::Path::new(file)
        .extension()
        .is_some_and(|extension| extension == "go")
        && !file.contains("/testdata/");
    if !is_go {
        return go_directories
            .get(owner)
            .map(|index| workspace.packages[*index].name.clone());
    }
    let module = workspace
        .go_modules
        .iter()
        .filter(|module| module.directory == owner || contains(&module.directory, owner))
        .max_by_key(|module| module.directory.len())?;
    let below = owner
        .strip_prefix(module.directory.as_str())
        .unwrap_or_default()
        .trim_start_matches('/');
    Some(if below.is_empty() {
        module.path.clone()
    } else {
        format!("{}/{below}", module.path)
    })
}

/// Each package's index by its name within its ecosystem; where two share a name, the last.
fn names(packages: &[Package]) -> HashMap<(Ecosystem, &str), usize> {
    packages
        .iter()
        .enumerate()
        .map(|(index, package)| ((package.ecosystem, package.name.as_str()), index))
        .collect()
}

/// The packages holding the changed files.
struct Direct {
    /// Indices of known packages.
    known: BTreeSet<usize>,
    /// The names of Go packages a change names that the walk did not find (a package whose
    /// last file was deleted).
    unknown: BTreeSet<String>,
    /// Why every package is selected, when a changed file is a global input.
    everything: Option<String>,
}

/// The packages holding `changed_files`, and (when `globals` are given) whether one of them is
/// a global input.
fn direct(
    workspace: &Workspace,
    by_name: &HashMap<(Ecosystem, &str), usize>,
    changed_files: &[String],
    globals: Option<&GlobalInputs>,
) -> Direct {
    let packages = &workspace.packages;
    let go_directories: HashMap<&str, usize> = packages
        .iter()
        .enumerate()
        .filter(|(_, package)| package.ecosystem == Ecosystem::Go)
        .map(|(index, package)| (package.directory.as_str(), index))
        .collect();
    let mut found = Direct {
        known: BTreeSet::new(),
        unknown: BTreeSet::new(),
        everything: None,
    };
    for file in changed_files {
        let file = normalize(file);
        if found.everything.is_none() {
            found.everything = globals.and_then(|globals| globals.why(&file));
        }
        for ecosystem in [Ecosystem::Cargo, Ecosystem::Npm] {
            if let Some((index, _)) = packages
                .iter()
                .enumerate()
                .filter(|(_, package)| package.ecosystem == ecosystem)
                .filter(|(_, package)| contains(&package.directory, &file))
                .max_by_key(|(_, package)| package.directory.len())
            {
                found.known.insert(index);
            }
        }
        if let Some(name) = go_package(workspace, &go_directories, &file) {
            match by_name.get(&(Ecosystem::Go, name.as_str())) {
                Some(&index) => {
                    found.known.insert(index);
                }
                None => {
                    found.unknown.insert(name);
                }
            }
        }
    }
    found
}

/// The known Go packages holding `changed_files`, by index into `workspace.packages`, exactly
/// as [`affected`] starts from them: a reader of Go imports needs no more of a package's
/// imports once it is known to depend on one of these, since more cannot change the answer.
pub fn changed_go_packages(workspace: &Workspace, changed_files: &[String]) -> Vec<usize> {
    let by_name = names(&workspace.packages);
    direct(workspace, &by_name, changed_files, None)
        .known
        .into_iter()
        .filter(|index| workspace.packages[*index].ecosystem == Ecosystem::Go)
        .collect()
}

/// The packages `changed_files` (repository-relative) affect in `workspace`.
pub fn affected(
    workspace: &Workspace,
    changed_files: &[String],
    globals: &GlobalInputs,
) -> Affected {
    let packages = &workspace.packages;
    let by_name = names(packages);
    let Direct {
        known: direct,
        unknown,
        mut everything,
    } = direct(workspace, &by_name, changed_files, Some(globals));
    let mut warnings = Vec::new();
    // In path order, whatever order the manifests were read in: the first names the reason.
    let mut unreadable: Vec<&Unreadable> = workspace.unreadable.iter().collect();
    unreadable.sort_by(|left, right| left.path.cmp(&right.path));
    unreadable.dedup_by(|left, right| left.path == right.path);
    for unreadable in unreadable {
        warnings.push(format!(
            "`{}` could not be read ({}), so every package is selected",
            unreadable.path, unreadable.why
        ));
        if everything.is_none() {
            everything = Some(format!("`{}` could not be read", unreadable.path));
        }
    }

    let start: Vec<usize> = direct.iter().copied().collect();
    let selected: Vec<bool> = if everything.is_some() {
        vec![true; packages.len()]
    } else {
        with_dependents(&dependents_of(packages, &by_name), &start)
    };
    let mut direct_names: BTreeSet<String> = unknown;
    direct_names.extend(direct.iter().map(|index| packages[*index].name.clone()));
    let dependents: BTreeSet<String> = packages
        .iter()
        .zip(&selected)
        .filter(|(package, selected)| **selected && !direct_names.contains(&package.name))
        .map(|(package, _)| package.name.clone())
        .collect();
    Affected {
        direct: direct_names.into_iter().collect(),
        dependents: dependents.into_iter().collect(),
        everything,
        warnings,
    }
}

/// Every package of `workspace`, for a run that cannot or will not narrow (the changes are
/// unknown, or it is a full run): `why` says which.
pub fn every_package(workspace: &Workspace, why: String) -> Affected {
    let mut all = affected(workspace, &[], &GlobalInputs::builtin());
    all.dependents = workspace
        .packages
        .iter()
        .map(|package| package.name.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    all.everything = Some(why);
    all
}

/// For each package, the packages that need it (by index), from the `needs` names.
fn dependents_of(
    packages: &[Package],
    by_name: &HashMap<(Ecosystem, &str), usize>,
) -> Vec<Vec<usize>> {
    let mut dependents = vec![Vec::new(); packages.len()];
    for (index, package) in packages.iter().enumerate() {
        for need in &package.needs {
            if let Some(&needed) = by_name.get(&(package.ecosystem, need.as_str()))
                && needed != index
            {
                dependents[needed].push(index);
            }
        }
    }
    dependents
}

/// Which packages `start` reaches through `dependents`, `start` included: the transitive
/// dependents. A walk with a seen mark, so a cycle (Go forbids them, npm allows them) ends.
pub fn with_dependents(dependents: &[Vec<usize>], start: &[usize]) -> Vec<bool> {
    let mut seen = vec![false; dependents.len()];
    let mut stack: Vec<usize> = Vec::with_capacity(start.len());
    for &index in start {
        if index < seen.len() && !seen[index] {
            seen[index] = true;
            stack.push(index);
        }
    }
    while let Some(index) = stack.pop() {
        for &dependent in &dependents[index] {
            if !seen[dependent] {
                seen[dependent] = true;
                stack.push(dependent);
            }
        }
    }
    seen
}

#[cfg(test)]
#[path = "affected_tests.rs"]
mod tests;
