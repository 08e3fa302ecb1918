//! The workspace as its own manifests describe it, for `FIXLANE_CHANGED_PACKAGES`: Cargo
//! workspace members and their path dependencies, Go packages and their imports (see `go`), npm,
//! pnpm and yarn workspaces and their dependencies on each other.
//!
//! Only reading happens here; which packages a change affects is decided by
//! `fixlane_core::affected`. A manifest that exists but cannot be read is reported as unreadable,
//! never skipped: the core then selects every package (fail closed). Manifests are parsed with
//! the `toml` and `serde_json` crates, never by asking `cargo metadata`, which takes far longer
//! than the run's whole budget to the first gate.

mod go;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use fixlane_core::affected::{
    self, Affected, Ecosystem, GlobalInputs, Package, Unreadable, Workspace, normalize,
};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// How deep a `**` in a workspace glob may reach, so a pathological tree cannot stall a run.
const DEEPEST_MEMBER: usize = 8;

/// Directories never holding workspace members worth finding, and often huge.
const NEVER_DESCEND: [&str; 3] = ["node_modules", "target", "vendor"];

/// Cargo's dependency tables, also found under `[target.'cfg(…)']`.
const CARGO_DEPENDENCY_TABLES: [&str; 3] =
    ["dependencies", "dev-dependencies", "build-dependencies"];

/// npm's dependency fields: each names packages a workspace needs.
const NPM_DEPENDENCY_FIELDS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "optionalDependencies",
];

/// The packages `changed_files` (repository-relative) affect under `root`: the direct ones, their
/// dependents, or every package (see `fixlane_core::affected`).
pub fn affected_packages(
    root: &Path,
    changed_files: &[String],
    globals: &GlobalInputs,
) -> Affected {
    affected::affected(&read_workspace(root, changed_files), changed_files, globals)
}

/// The packages holding `changed_files`, without their dependents, sorted: what a hotfix commit
/// touches itself (one concern per hotfix).
pub fn changed_packages(root: &Path, changed_files: &[String]) -> Vec<String> {
    affected_packages(root, changed_files, &GlobalInputs::builtin()).direct
}

/// Every package under `root` with what it depends on, for finding what `changed_files` affect.
/// `changed_files` lead to the Go modules a change is in, which need not be at the root, and
/// decide how much of each Go package's imports is read: all of a package's that could be a
/// dependent of a changed one, not always all of one already known to be (see `go`).
pub fn read_workspace(root: &Path, changed_files: &[String]) -> Workspace {
    let mut workspace = Workspace::default();
    read_cargo(root, &mut workspace);
    read_npm(root, &mut workspace);
    go::read_go(root, changed_files, &mut workspace);
    workspace
}

/// A file's text: `Ok(None)` when it does not exist, `Err` (why) when it exists but cannot be
/// read.
fn read_text(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error.to_string()),
    }
}

fn relative(directory: &str, file: &str) -> String {
    if directory.is_empty() {
        file.to_owned()
    } else {
        format!("{directory}/{file}")
    }
}

/// A manifest read and parsed: `None` when it does not exist; recorded as unreadable when it
/// cannot be read or parsed.
fn read_manifest<T>(
    root: &Path,
    path: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
    workspace: &mut Workspace,
) -> Option<T> {
    let text = match read_text(&root.join(path)) {
        Ok(Some(text)) => text,
        Ok(None) => return None,
        Err(why) => {
            workspace.unreadable.push(Unreadable {
                path: path.to_owned(),
                why,
            });
            return None;
        }
    };
    match parse(&text) {
        Ok(parsed) => Some(parsed),
        Err(why) => {
            workspace.unreadable.push(Unreadable {
                path: path.to_owned(),
                why,
            });
            None
        }
    }
}

fn parse_toml(text: &str) -> Result<toml::Table, String> {
    toml::from_str(text).map_err(|error| {
        // The parser's message spans several lines with the source quoted; the first says enough.
        error
            .to_string()
            .lines()
            .next()
            .unwrap_or("not TOML")
            .to_owned()
    })
}

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|error| error.to_string())
}

fn strings(value: Option<&toml::Value>) -> Vec<String> {
    value
        .and_then(toml::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(toml::Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `directory` joined with the relative `path`, `.` and `..` resolved; `None` when it leaves
/// the repository (or is absolute: outside it, as far as fixlane can tell).
fn join(directory: &str, path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = directory
        .split('/')
        .filter(|part| !part.is_empty())
        .collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// What a Cargo dependency refers to: a directory (a path dependency) or a package name.
enum CargoDependency {
    Path(String),
    Name(String),
}

/// One member as read, its dependencies not yet resolved to names.
struct CargoMember {
    name: String,
    directory: String,
    dependencies: Vec<CargoDependency>,
}

/// The dependencies of the manifest in `directory`, from every dependency table.
fn cargo_dependencies(
    manifest: &toml::Table,
    directory: &str,
    workspace_paths: &HashMap<String, String>,
) -> Vec<CargoDependency> {
    let mut tables: Vec<&toml::Table> = CARGO_DEPENDENCY_TABLES
        .iter()
        .filter_map(|table| manifest.get(*table)?.as_table())
        .collect();
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            tables.extend(
                CARGO_DEPENDENCY_TABLES
                    .iter()
                    .filter_map(|table| target.get(*table)?.as_table()),
            );
        }
    }
    let mut found = Vec::new();
    for (key, value) in tables.into_iter().flatten() {
        let package = value
            .get("package")
            .and_then(toml::Value::as_str)
            .unwrap_or(key);
        if let Some(path) = value.get("path").and_then(toml::Value::as_str) {
            if let Some(path) = join(directory, path) {
                found.push(CargoDependency::Path(path));
            }
        } else if value.get("workspace").and_then(toml::Value::as_bool) == Some(true)
            && let Some(path) = workspace_paths.get(key)
        {
            found.push(CargoDependency::Path(path.clone()));
        } else {
            // A registry or git dependency named like a member (a `[patch]` may point it at the
            // member): counted, since a dependent too many is safe and one too few is not.
            found.push(CargoDependency::Name(package.to_owned()));
        }
    }
    found
}

fn read_cargo(root: &Path, workspace: &mut Workspace) {
    let Some(manifest) = read_manifest(root, "Cargo.toml", parse_toml, workspace) else {
        return;
    };
    let section = manifest.get("workspace");
    // `[workspace.dependencies]` paths are relative to the root.
    let workspace_paths: HashMap<String, String> = section
        .and_then(|section| section.get("dependencies"))
        .and_then(toml::Value::as_table)
        .map(|dependencies| {
            dependencies
                .iter()
                .filter_map(|(key, value)| {
                    let path = value.get("path")?.as_str()?;
                    Some((key.clone(), join("", path)?))
                })
                .collect()
        })
        .unwrap_or_default();
    let excluded = strings(section.and_then(|section| section.get("exclude")));
    let mut members: Vec<CargoMember> = Vec::new();
    if let Some(name) = manifest
        .get("package")
        .and_then(|package| package.get("name"))
        .and_then(toml::Value::as_str)
    {
        members.push(CargoMember {
            name: name.to_owned(),
            directory: String::new(),
            dependencies: cargo_dependencies(&manifest, "", &workspace_paths),
        });
    }
    let mut pending: Vec<String> = match section {
        Some(section) => expand(root, &strings(section.get("members")), &excluded),
        None => Vec::new(),
    };
    let exclude = glob_set(&excluded);
    let mut seen: BTreeSet<String> = pending.iter().cloned().collect();
    seen.insert(String::new());
    // Path dependencies inside the workspace are members too (Cargo adds them), so each one
    // found is read in turn.
    while let Some(directory) = pending.pop() {
        let path = relative(&directory, "Cargo.toml");
        let Some(member) = read_manifest(root, &path, parse_toml, workspace) else {
            continue;
        };
        let Some(name) = member
            .get("package")
            .and_then(|package| package.get("name"))
            .and_then(toml::Value::as_str)
        else {
            workspace.unreadable.push(Unreadable {
                path,
                why: "it has no `[package]` name".to_owned(),
            });
            continue;
        };
        let dependencies = cargo_dependencies(&member, &directory, &workspace_paths);
        for dependency in &dependencies {
            if let CargoDependency::Path(path) = dependency
                && section.is_some()
                && !exclude.is_match(path)
                && seen.insert(path.clone())
            {
                pending.push(path.clone());
            }
        }
        members.push(CargoMember {
            name: name.to_owned(),
            directory,
            dependencies,
        });
    }
    let name_at: HashMap<&str, &str> = members
        .iter()
        .map(|member| (member.directory.as_str(), member.name.as_str()))
        .collect();
    let packages: Vec<Package> = members
        .iter()
        .map(|member| Package {
            ecosystem: Ecosystem::Cargo,
            name: member.name.clone(),
            directory: member.directory.clone(),
            needs: member
                .dependencies
                .iter()
                .filter_map(|dependency| match dependency {
                    CargoDependency::Path(path) => {
                        name_at.get(path.as_str()).map(|name| (*name).to_owned())
                    }
                    CargoDependency::Name(name) => Some(name.clone()),
                })
                .collect(),
        })
        .collect();
    workspace.packages.extend(packages);
}

fn json_name(manifest: &serde_json::Value) -> Option<String> {
    manifest
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The `packages:` list of a `pnpm-workspace.yaml`, block or flow style: the only key fixlane
/// needs from it, so a few lines of reading rather than a YAML parser.
fn pnpm_packages(text: &str) -> Result<Vec<String>, String> {
    let unquote = |item: &str| {
        let item = item.split(" #").next().unwrap_or(item).trim();
        item.trim_matches(|c| c == '\'' || c == '"').to_owned()
    };
    let mut lines = text.lines();
    let mut found = Vec::new();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("packages:") else {
            continue;
        };
        let rest = rest.split(" #").next().unwrap_or(rest).trim();
        if let Some(flow) = rest.strip_prefix('[') {
            let Some(flow) = flow.strip_suffix(']') else {
                return Err("its `packages:` list does not end on its line".to_owned());
            };
            found.extend(flow.split(',').map(unquote).filter(|item| !item.is_empty()));
            return Ok(found);
        }
        for item in lines.by_ref() {
            let trimmed = item.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if !item.starts_with([' ', '\t', '-']) {
                break;
            }
            let Some(entry) = trimmed.strip_prefix('-') else {
                return Err(format!(
                    "`{trimmed}` is not an item of its `packages:` list"
                ));
            };
            found.push(unquote(entry));
        }
        return Ok(found);
    }
    Ok(found)
}

fn read_npm(root: &Path, workspace: &mut Workspace) {
    let manifest = read_manifest(root, "package.json", parse_json, workspace);
    let pnpm = read_manifest(root, "pnpm-workspace.yaml", pnpm_packages, workspace);
    // npm and pnpm-style arrays, or yarn's `{ "packages": [...] }`; pnpm's own file beside them.
    let listed = manifest.as_ref().and_then(|manifest| {
        let workspaces = manifest.get("workspaces")?;
        workspaces
            .as_array()
            .or_else(|| workspaces.get("packages")?.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
    });
    let patterns: Vec<String> = match (listed, pnpm) {
        (None, None) => {
            // A single-package repository: the root package is the one.
            if let Some(name) = manifest.as_ref().and_then(json_name) {
                workspace.packages.push(Package {
                    ecosystem: Ecosystem::Npm,
                    name,
                    directory: String::new(),
                    needs: Vec::new(),
                });
            }
            return;
        }
        (listed, pnpm) => listed.into_iter().chain(pnpm).flatten().collect(),
    };
    let mut included = Vec::new();
    let mut excluded = Vec::new();
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) => excluded.push(negated.to_owned()),
            None => included.push(pattern),
        }
    }
    for directory in expand(root, &included, &excluded) {
        let path = relative(&directory, "package.json");
        let Some(member) = read_manifest(root, &path, parse_json, workspace) else {
            continue;
        };
        // A workspace without a name cannot be named in the list, nor depended on.
        let Some(name) = json_name(&member) else {
            continue;
        };
        let needs = NPM_DEPENDENCY_FIELDS
            .iter()
            .filter_map(|field| member.get(*field)?.as_object())
            .flat_map(|dependencies| dependencies.keys().cloned())
            .collect();
        workspace.packages.push(Package {
            ecosystem: Ecosystem::Npm,
            name,
            directory,
            needs,
        });
    }
}

fn glob_set(patterns: &[String]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        // A pattern that does not parse selects nothing; the others still count.
        if let Ok(glob) = GlobBuilder::new(&normalize(pattern))
            .literal_separator(true)
            .build()
        {
            builder.add(glob);
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// The directories (repository-relative) matching any of `included` and none of `excluded`.
fn expand(root: &Path, included: &[String], excluded: &[String]) -> Vec<String> {
    let include = glob_set(included);
    let exclude = glob_set(excluded);
    let depth = included
        .iter()
        .map(|pattern| {
            if pattern.contains("**") {
                DEEPEST_MEMBER
            } else {
                normalize(pattern).split('/').count()
            }
        })
        .max()
        .unwrap_or(0);
    let mut found = Vec::new();
    let mut stack = vec![(String::new(), 0_usize)];
    while let Some((directory, level)) = stack.pop() {
        if level >= depth {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(root.join(&directory)) else {
            continue;
        };
        for entry in entries.flatten() {
            if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if name.starts_with('.') || NEVER_DESCEND.contains(&name.as_str()) {
                continue;
            }
            let path = relative(&directory, &name);
            if include.is_match(&path) && !exclude.is_match(&path) {
                found.push(path.clone());
            }
            stack.push((path, level + 1));
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_inside_the_repository_only() {
        assert_eq!(join("crates/a", "../b").as_deref(), Some("crates/b"));
        assert_eq!(
            join("crates/a", "./x/./y/").as_deref(),
            Some("crates/a/x/y")
        );
        assert_eq!(join("", "crates/c").as_deref(), Some("crates/c"));
        assert_eq!(join("a", "../../outside"), None);
        assert_eq!(join("a", "/abs"), None);
    }

    #[test]
    fn pnpm_lists_read_in_block_and_flow_style() {
        let block = "# packages\npackages:\n  - 'packages/*'\n  - \"apps/**\" # apps\n\n  - '!**/test/**'\ncatalog:\n  react: ^18\n";
        assert_eq!(
            pnpm_packages(block).unwrap(),
            ["packages/*", "apps/**", "!**/test/**"]
        );
        assert_eq!(
            pnpm_packages("packages: ['a/*', \"b\"]\n").unwrap(),
            ["a/*", "b"]
        );
        assert!(pnpm_packages("catalog:\n  x: 1\n").unwrap().is_empty());
        assert!(pnpm_packages("packages: ['a/*',\n  'b']\n").is_err());
        assert!(pnpm_packages("packages:\n  a/*\n").is_err());
    }
}
