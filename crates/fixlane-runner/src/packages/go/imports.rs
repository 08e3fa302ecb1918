//! Reading a Go file's import declarations from its first bytes: they all come right after the
//! package clause, so reading stops at the first other declaration, and says when the text it
//! was given ended before that (the caller then reads on).

use std::ops::Range;

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

/// Where the text of a string literal (`"…"` or `` `…` ``) at `at` lies, and where the literal
/// ends.
fn string(bytes: &[u8], at: usize) -> Option<(Range<usize>, usize)> {
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
        // Never closed: not an import anyone could build, or the text was cut short.
        return None;
    }
    Some((start..end, end + 1))
}

/// One import spec at `at`: an optional name, then the path.
fn import_spec(bytes: &[u8], at: usize) -> Option<(Range<usize>, usize)> {
    let (name, after) = word(bytes, at);
    let at = if name.is_empty() {
        at
    } else {
        skip_space(bytes, after)
    };
    string(bytes, at)
}

/// Whether the word that stopped the reading says the imports are over: a word that runs to
/// the end of the text may be the start of `import` cut short, so it says nothing yet.
fn ends_imports(bytes: &[u8], keyword: &[u8], after: usize) -> bool {
    !keyword.is_empty() && after < bytes.len()
}

/// The import paths in `bytes`, as ranges of it, into `found` (cleared first); and whether
/// reading stopped at a word that is not an import (so the rest of the file holds none). When
/// it did not, the text may have been cut short and more of the file is worth reading.
pub(super) fn imports_of(bytes: &[u8], found: &mut Vec<Range<usize>>) -> bool {
    found.clear();
    let mut at = skip_space(bytes, 0);
    let (keyword, after) = word(bytes, at);
    if keyword != b"package" {
        return ends_imports(bytes, keyword, after);
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
            return ends_imports(bytes, keyword, after);
        }
        at = skip_space(bytes, after);
        if bytes.get(at) == Some(&b'(') {
            at += 1;
            loop {
                at = skip_space(bytes, at);
                match bytes.get(at) {
                    None => return false,
                    Some(b')') => {
                        at += 1;
                        break;
                    }
                    Some(b';') => at += 1,
                    Some(_) => {
                        let Some((path, after)) = import_spec(bytes, at) else {
                            return false;
                        };
                        found.push(path);
                        at = after;
                    }
                }
            }
        } else {
            let Some((path, after)) = import_spec(bytes, at) else {
                return false;
            };
            found.push(path);
            at = after;
        }
    }
}

/// The import paths of a Go file's text.
#[cfg(test)]
pub(super) fn imports(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    imports_of(source.as_bytes(), &mut found);
    found
        .into_iter()
        .map(|range| source[range].to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn text_cut_inside_a_word_is_not_taken_for_the_end_of_the_imports() {
        let mut found = Vec::new();
        // `imp` may be the first letters of `import`, `pack` of `package`, `fu` of `func`.
        for cut in [
            "package x\nimport \"a\"\nimp",
            "pack",
            "package x\n\nfu",
            "package x\nimport \"a\"\n// a comment cut sh",
            "package x\nimport \"a\"\n/",
        ] {
            assert!(!imports_of(cut.as_bytes(), &mut found), "{cut:?}");
        }
        // A word at the very end may go on; followed by anything, it ends them.
        assert!(!imports_of(b"package x\nimport \"a\"\nfunc", &mut found));
        assert!(imports_of(b"package x\nimport \"a\"\nfunc ", &mut found));
        assert_eq!(found, vec![18..19]);
        assert!(imports_of(b"package x\nvar(", &mut found));
        assert!(found.is_empty());
    }
}
