//! Go packages and their imports: each directory with `.go` files under a module is a package
//! named by the module path and the directory; its imports (tests' too, since a test that
//! imports a changed package must run again) are read from each file's import declarations.
//!
//! The modules are the root's `go.mod`, those a `go.work` uses, those nested inside them, and
//! the nearest `go.mod` above each changed file.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use fixlane_core::affected::{Ecosystem, GoModule, Package, Workspace};

use super::{read_manifest, relative};

/// Directories the go tool itself ignores, and the usual huge ones.
fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('_')
        || matches!(name, "testdata" | "vendor" | "node_modules" | "target")
}

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

/// Skips spaces and comments from `at`; returns where the next token starts.
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    loop {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if bytes[at..].starts_with(b"//") {
            while at < bytes.len() && bytes[at] != b'\n' {
                at += 1;
            }
        } else if bytes[at..].starts_with(b"/*") {
            at += 2;
            while at < bytes.len() && !bytes[at..].starts_with(b"*/") {
                at += 1;
            }
            at = (at + 2).min(bytes.len());
        } else {
            return at;
        }
    }
}

/// A word (identifier, `_` or `.`) at `at`, and where it ends.
fn word(bytes: &[u8], at: usize) -> (&[u8], usize) {
    let mut end = at;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
        end += 1;
    }
    if end == at && bytes.get(at) == Some(&b'.') {
        end += 1;
    }
    (&bytes[at..end], end)
}

/// A string literal (`"…"` or `` `…` ``) at `at`, and where it ends.
fn string(bytes: &[u8], at: usize) -> Option<(String, usize)> {
    let quote = *bytes.get(at)?;
    if quote != b'"' && quote != b'`' {
        return None;
    }
    let start = at + 1;
    let mut end = start;
    while end < bytes.len() && bytes[end] != quote {
        end += if bytes[end] == b'\\' && quote == b'"' {
            2
        } else {
            1
        };
    }
    if end >= bytes.len() {
        // Never closed: not an import anyone could build.
        return None;
    }
    let text = String::from_utf8_lossy(&bytes[start..end]).into_owned();
    Some((text, end + 1))
}

/// One import spec at `at`: an optional name, then the path.
fn import_spec(bytes: &[u8], at: usize) -> Option<(String, usize)> {
    let (name, after) = word(bytes, at);
    let at = if name.is_empty() {
        at
    } else {
        skip_space(bytes, after)
    };
    string(bytes, at)
}

/// The import paths of a Go file: its import declarations, which all come right after the
/// package clause, so reading stops at the first other declaration.
#[cfg(test)]
pub(super) fn imports(source: &str) -> Vec<String> {
    imports_of(source.as_bytes()).0
}

/// The import paths in `bytes`, and whether reading stopped at a word that is not an import
/// (so the rest of the file holds none): when it did not, the text may have been cut short.
fn imports_of(bytes: &[u8]) -> (Vec<String>, bool) {
    let mut found = Vec::new();
    let mut at = skip_space(bytes, 0);
    let (keyword, after) = word(bytes, at);
    if keyword != b"package" {
        return (found, !keyword.is_empty());
    }
    let (_, after) = word(bytes, skip_space(bytes, after));
    at = after;
    loop {
        at = skip_space(bytes, at);
        if bytes.get(at) == Some(&b';') {
            at += 1;
            continue;
        }
        let (keyword, after) = word(bytes, at);
        if keyword != b"import" {
            return (found, !keyword.is_empty());
        }
        at = skip_space(bytes, after);
        if bytes.get(at) == Some(&b'(') {
            at += 1;
            loop {
                at = skip_space(bytes, at);
                match bytes.get(at) {
                    None => return (found, false),
                    Some(b')') => {
                        at += 1;
                        break;
                    }
                    Some(b';') => at += 1,
                    Some(_) => {
                        let Some((path, after)) = import_spec(bytes, at) else {
                            return (found, false);
                        };
                        found.push(path);
                        at = after;
                    }
                }
            }
        } else {
            let Some((path, after)) = import_spec(bytes, at) else {
                return (found, false);
            };
            found.push(path);
            at = after;
        }
    }
}

/// How much of a Go file is read first: its imports are at the top, and a whole file is read
/// only when they go on past this.
const HEAD_BYTES: usize = 8 * 1024;

/// The imports of the Go file at `path`, reading its head into `buffer` and the rest only when
/// the imports go on past it.
fn file_imports(path: &Path, buffer: &mut [u8]) -> Result<Vec<String>, String> {
    use std::io::Read as _;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        // A file that vanished meanwhile imports nothing.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.to_string()),
    };
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error.to_string()),
        }
    }
    let (found, complete) = imports_of(&buffer[..filled]);
    if complete || filled < buffer.len() {
        return Ok(found);
    }
    let mut whole = buffer[..filled].to_vec();
    file.read_to_end(&mut whole)
        .map_err(|error| error.to_string())?;
    Ok(imports_of(&whole).0)
}

/// The imports of every file in `files`, in the same order, read on a few threads: thousands
/// of small reads are most of a large module's cost.
fn read_imports(root: &Path, files: &[String]) -> Vec<Result<Vec<String>, String>> {
    /// Below this many files a thread costs more than it saves.
    const PER_THREAD: usize = 256;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4)
        .min(files.len().div_ceil(PER_THREAD))
        .max(1);
    let chunk = files.len().div_ceil(threads).max(1);
    let read_chunk = |chunk: &[String]| {
        let mut buffer = vec![0_u8; HEAD_BYTES];
        chunk
            .iter()
            .map(|file| file_imports(&root.join(file), &mut buffer))
            .collect::<Vec<_>>()
    };
    if threads == 1 {
        return read_chunk(files);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || read_chunk(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| vec![Err("its reader stopped".to_owned())])
            })
            .collect()
    })
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

/// Reads every module reachable from the root, a `go.work` and the changed files: their
/// packages and the imports between them.
pub(super) fn read_go(root: &Path, changed_files: &[String], workspace: &mut Workspace) {
    let mut pending: Vec<String> = module_directories(root, changed_files, workspace)
        .into_iter()
        .collect();
    let mut modules: BTreeMap<String, String> = BTreeMap::new();
    // Package directory → its module's directory, and the imports of its files.
    let mut packages: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    // Each Go file's package directory and path, read once the walk is done.
    let mut go_files: Vec<(String, String)> = Vec::new();
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
            let Ok(entries) = std::fs::read_dir(root.join(&directory)) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let path = relative(&directory, &name);
                if kind.is_dir() {
                    if ignored(&name) {
                        continue;
                    }
                    if root.join(&path).join("go.mod").is_file() {
                        // A nested module: read on its own.
                        pending.push(path);
                    } else {
                        stack.push(path);
                    }
                } else if Path::new(&name)
                    .extension()
                    .is_some_and(|extension| extension == "go")
                    && !name.starts_with(['.', '_'])
                {
                    packages
                        .entry(directory.clone())
                        .or_insert_with(|| (module_directory.clone(), BTreeSet::new()));
                    go_files.push((directory.clone(), path));
                }
            }
        }
    }
    // Who imports whom matters only when a Go package changed: a `.go` file, or a file of a
    // package's own directory or its testdata. Reading every Go file is most of a large
    // module's cost, so a change elsewhere (docs, CI, `go.sum`, which selects everything
    // anyway) lists the packages without it.
    let touched = changed_files.iter().any(|file| {
        let file = fixlane_core::affected::normalize(file);
        let owner = match file.find("/testdata/") {
            Some(at) => &file[..at],
            None => file.rsplit_once('/').map_or("", |(directory, _)| directory),
        };
        Path::new(&file)
            .extension()
            .is_some_and(|extension| extension == "go")
            || packages.contains_key(owner)
    });
    if !touched {
        go_files.clear();
    }
    let paths: Vec<String> = go_files.iter().map(|(_, path)| path.clone()).collect();
    for ((directory, path), imported) in go_files.into_iter().zip(read_imports(root, &paths)) {
        match imported {
            Ok(imported) => {
                if let Some((_, imports)) = packages.get_mut(&directory) {
                    imports.extend(imported);
                }
            }
            // A Go file is its package's manifest of dependencies: unread, it fails closed.
            Err(why) => workspace
                .unreadable
                .push(fixlane_core::affected::Unreadable { path, why }),
        }
    }
    for (directory, (module_directory, imports)) in packages {
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
        workspace.packages.push(Package {
            ecosystem: Ecosystem::Go,
            name,
            directory,
            // Imports of the standard library and of other modules name no package here and
            // are left for the core to ignore.
            needs: imports.into_iter().collect(),
        });
    }
    workspace.go_modules.extend(
        modules
            .into_iter()
            .map(|(directory, path)| GoModule { directory, path }),
    );
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
    fn reads_import_declarations_and_stops_at_the_first_other() {
        let source = r#"// Package pay pays.
//go:build linux

/* a block
   comment */
package pay // trailing

import "fmt"
import m "example.com/svc/internal/money"
import (
	"strings"
	_ "embed" // for templates
	. "example.com/svc/internal/dot"
	raw `example.com/svc/internal/raw`
	"C"
)

import "example.com/svc/late"

func f() { _ = "example.com/svc/not/an/import" }

import "example.com/after/func"
"#;
        assert_eq!(
            imports(source),
            [
                "fmt",
                "example.com/svc/internal/money",
                "strings",
                "embed",
                "example.com/svc/internal/dot",
                "example.com/svc/internal/raw",
                "C",
                "example.com/svc/late",
            ]
        );
        assert!(imports("package x\n").is_empty());
        assert!(imports("not go at all").is_empty());
        assert_eq!(
            imports("package x; import \"a\"; import (\"b\"; \"c\")"),
            ["a", "b", "c"]
        );
        // Truncated text ends the reading, never the run.
        assert_eq!(imports("package x\nimport (\n\"a\"\n\"b"), ["a"]);
        assert!(imports("package x\nimport /* never closed").is_empty());
    }

    #[test]
    fn imports_past_the_first_read_are_found_and_many_files_read_alike() {
        let directory = tempfile::tempdir().unwrap();
        let long_comment = format!("// {}\n", "x".repeat(HEAD_BYTES));
        std::fs::write(
            directory.path().join("long.go"),
            format!("{long_comment}package long\n\nimport \"example.com/far\"\n"),
        )
        .unwrap();
        let mut names = vec!["long.go".to_owned(), "missing.go".to_owned()];
        for index in 0..600 {
            let name = format!("f{index}.go");
            std::fs::write(
                directory.path().join(&name),
                format!("package f\n\nimport \"example.com/p{index}\"\n"),
            )
            .unwrap();
            names.push(name);
        }
        let found = read_imports(directory.path(), &names);
        assert_eq!(found.len(), names.len());
        assert_eq!(found[0], Ok(vec!["example.com/far".to_owned()]));
        assert_eq!(found[1], Ok(Vec::new()));
        for (index, imports) in found[2..].iter().enumerate() {
            assert_eq!(imports, &Ok(vec![format!("example.com/p{index}")]));
        }
    }

    #[test]
    fn go_work_uses_both_forms() {
        assert_eq!(
            go_work_uses("go 1.22\n\nuse ./api\nuse (\n\t./svc // main\n\t\"./tools\"\n)\n"),
            ["./api", "./svc", "./tools"]
        );
    }
}
