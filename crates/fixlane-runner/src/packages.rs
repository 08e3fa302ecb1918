//! Which packages a change touches, for `FIXLANE_CHANGED_PACKAGES`: Cargo workspace members, Go
//! packages and npm workspaces, read from their manifests.
//!
//! Best effort by design: a manifest that cannot be read adds no packages rather than failing
//! the run, because the gate still runs and the list only narrows what it tests.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// How deep a `**` in a workspace glob may reach, so a pathological tree cannot stall a run.
const DEEPEST_MEMBER: usize = 8;

/// Directories never holding workspace members worth finding, and often huge.
const NEVER_DESCEND: [&str; 3] = ["node_modules", "target", "vendor"];

/// A package: its directory (repository-relative, `""` for the root) and its name.
#[derive(Debug, Clone)]
struct Package {
    directory: String,
    name: String,
}

/// The packages containing `changed_files` (repository-relative), sorted and deduplicated.
pub fn changed_packages(root: &Path, changed_files: &[String]) -> Vec<String> {
    let mut names = BTreeSet::new();
    for packages in [cargo_packages(root), npm_packages(root)] {
        for file in changed_files {
            if let Some(package) = deepest_containing(&packages, file) {
                names.insert(package.name.clone());
            }
        }
    }
    names.extend(go_packages(root, changed_files));
    names.into_iter().collect()
}

fn normalize(path: &str) -> String {
    let trimmed = path.trim_start_matches("./").trim_end_matches('/');
    if trimmed == "." {
        String::new()
    } else {
        trimmed.to_owned()
    }
}

fn contains(directory: &str, file: &str) -> bool {
    directory.is_empty()
        || file
            .strip_prefix(directory)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn deepest_containing<'a>(packages: &'a [Package], file: &str) -> Option<&'a Package> {
    let file = normalize(file);
    packages
        .iter()
        .filter(|package| contains(&package.directory, &file))
        .max_by_key(|package| package.directory.len())
}

fn read_toml(path: &Path) -> Option<toml::Table> {
    let text = std::fs::read_to_string(path).ok()?;
    toml::from_str(&text).ok()
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
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

fn cargo_package_name(manifest: &toml::Table) -> Option<String> {
    manifest
        .get("package")?
        .get("name")?
        .as_str()
        .map(str::to_owned)
}

fn cargo_packages(root: &Path) -> Vec<Package> {
    let Some(manifest) = read_toml(&root.join("Cargo.toml")) else {
        return Vec::new();
    };
    let mut packages = Vec::new();
    // A root `[package]` is a member of its own workspace, and the whole of a single-crate repo.
    if let Some(name) = cargo_package_name(&manifest) {
        packages.push(Package {
            directory: String::new(),
            name,
        });
    }
    if let Some(workspace) = manifest.get("workspace") {
        let members = strings(workspace.get("members"));
        let excluded = strings(workspace.get("exclude"));
        for directory in expand(root, &members, &excluded) {
            let Some(member) = read_toml(&root.join(&directory).join("Cargo.toml")) else {
                continue;
            };
            if let Some(name) = cargo_package_name(&member) {
                packages.push(Package { directory, name });
            }
        }
    }
    packages
}

fn npm_packages(root: &Path) -> Vec<Package> {
    let Some(manifest) = read_json(&root.join("package.json")) else {
        return Vec::new();
    };
    // npm and pnpm-style arrays, or yarn's `{ "packages": [...] }`.
    let workspaces = manifest.get("workspaces");
    let list = workspaces
        .and_then(serde_json::Value::as_array)
        .or_else(|| {
            workspaces
                .and_then(|value| value.get("packages"))
                .and_then(serde_json::Value::as_array)
        });
    let name_of = |value: &serde_json::Value| {
        value
            .get("name")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let Some(list) = list else {
        // A single-package repository: the root package is the one.
        return name_of(&manifest)
            .map(|name| {
                vec![Package {
                    directory: String::new(),
                    name,
                }]
            })
            .unwrap_or_default();
    };
    let mut included = Vec::new();
    let mut excluded = Vec::new();
    for pattern in list.iter().filter_map(serde_json::Value::as_str) {
        match pattern.strip_prefix('!') {
            Some(negated) => excluded.push(negated.to_owned()),
            None => included.push(pattern.to_owned()),
        }
    }
    expand(root, &included, &excluded)
        .into_iter()
        .filter_map(|directory| {
            let name = name_of(&read_json(&root.join(&directory).join("package.json"))?)?;
            Some(Package { directory, name })
        })
        .collect()
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
            let path = if directory.is_empty() {
                name
            } else {
                format!("{directory}/{name}")
            };
            if include.is_match(&path) && !exclude.is_match(&path) {
                found.push(path.clone());
            }
            stack.push((path, level + 1));
        }
    }
    found.sort();
    found
}

/// `module` from a `go.mod`, which may be quoted or followed by a comment.
fn go_module(go_mod: &str) -> Option<String> {
    go_mod.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("module")?;
        if !rest.starts_with([' ', '\t', '"']) {
            return None;
        }
        let rest = rest.split("//").next()?.trim().trim_matches('"');
        (!rest.is_empty()).then(|| rest.to_owned())
    })
}

/// Each changed `.go` file's package: its nearest `go.mod`'s module plus the file's directory
/// below it.
fn go_packages(root: &Path, changed_files: &[String]) -> Vec<String> {
    // Directory → the module declared there, if any; each go.mod is read once.
    let mut modules: HashMap<String, Option<String>> = HashMap::new();
    let mut packages = Vec::new();
    for file in changed_files {
        let file = normalize(file);
        let is_go = Path::new(&file)
            .extension()
            .is_some_and(|extension| extension == "go");
        if !is_go {
            continue;
        }
        let file_directory = file.rsplit_once('/').map_or("", |(directory, _)| directory);
        let mut candidate = file_directory;
        loop {
            let module = modules
                .entry(candidate.to_owned())
                .or_insert_with(|| {
                    let go_mod = root.join(candidate).join("go.mod");
                    std::fs::read_to_string(go_mod)
                        .ok()
                        .and_then(|text| go_module(&text))
                })
                .clone();
            if let Some(module) = module {
                let below = file_directory
                    .strip_prefix(candidate)
                    .unwrap_or_default()
                    .trim_start_matches('/');
                packages.push(if below.is_empty() {
                    module
                } else {
                    format!("{module}/{below}")
                });
                break;
            }
            if candidate.is_empty() {
                break;
            }
            candidate = candidate.rsplit_once('/').map_or("", |(parent, _)| parent);
        }
    }
    packages
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

    #[test]
    fn containment_is_by_whole_directory() {
        assert!(contains("crates/a", "crates/a/src/lib.rs"));
        assert!(!contains("crates/a", "crates/ab/src/lib.rs"));
        assert!(contains("", "README.md"));
    }
}
