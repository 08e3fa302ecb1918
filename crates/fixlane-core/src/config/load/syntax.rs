//! TOML syntax errors as config errors: each at its place, in the loader's words.
//!
//! One of them comes without a place: the TOML parser refuses a key of more than 80 dotted
//! parts (its guard against runaway nesting) with no span, which would put the error at line 1,
//! column 1. A scan of the raw text finds every dotted key and how many parts it has, skipping
//! strings and comments, so that error points at the key that was too deep.

use toml::de::Error as TomlError;

use super::reader::{self, Reader, Span};

/// The most dotted parts the TOML parser accepts in one key.
const TOML_KEY_PARTS: usize = 80;

/// Records each syntax error; returns the lines they are on, so the semantic checks can leave
/// those lines alone.
pub(super) fn report(reader: &mut Reader<'_>, source: &str, errors: &[TomlError]) -> Vec<usize> {
    if errors.is_empty() {
        // The usual case: no scan of the text at all.
        return Vec::new();
    }
    let mut too_deep = dotted_runs(source)
        .into_iter()
        .filter(|run| run.parts > TOML_KEY_PARTS);
    let mut lines = Vec::new();
    for error in errors {
        let message = error.message().trim();
        let Some(span) = error.span() else {
            // The only error without a place is a key too deep; should another ever come,
            // it is still reported, at the top of the file.
            if let Some(run) = too_deep.next() {
                lines.push(reader.position(run.span.start).line);
                reader.error(
                    run.span,
                    format!("a key of at most {TOML_KEY_PARTS} dotted parts"),
                    format!("a key of {} dotted parts", run.parts),
                    Some(
                        "no fixlane setting is more than five parts deep (like `gates.build.lanes.hotfix.scope`): remove this key"
                            .to_owned(),
                    ),
                );
            } else {
                lines.push(1);
                reader.error(
                    0..0,
                    "valid TOML",
                    "a problem the TOML parser could not place",
                    Some(format!("{message} (TOML syntax)")),
                );
            }
            continue;
        };
        lines.push(reader.position(span.start).line);
        let (problem, expected) = match message.split_once(", expected ") {
            Some((problem, expected)) => (problem.to_owned(), expected.to_owned()),
            None => (message.to_owned(), "valid TOML".to_owned()),
        };
        let written = source
            .get(span.clone())
            .and_then(|text| text.lines().next())
            .map(reader::shorten)
            .unwrap_or_default();
        let found = if written.trim().is_empty() {
            if span.start >= source.len() {
                "the end of the file".to_owned()
            } else {
                "the end of the line".to_owned()
            }
        } else {
            format!("`{written}`")
        };
        reader.error(
            span,
            expected,
            found,
            Some(format!("{problem} (TOML syntax)")),
        );
    }
    lines
}

/// Where a run of dotted parts (`a.b."c"`) is written, and how many parts it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DottedRun {
    pub(super) span: Span,
    pub(super) parts: usize,
}

/// Each run of `part.part.…` outside comments, in source order. A part is a bare word or a
/// quoted string; values are scanned too (`1.5` is a run of two), which is harmless since
/// only runs far deeper than any fixlane key are of interest.
pub(super) fn dotted_runs(source: &str) -> Vec<DottedRun> {
    let bytes = source.as_bytes();
    let mut runs = Vec::new();
    // The current run: where it starts, its parts, where its last part ends, and whether a
    // dot was seen after that part (so the next part continues it).
    let mut current: Option<(usize, usize, usize, bool)> = None;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        let part_end = match byte {
            b'"' | b'\'' => Some(string_end(bytes, index)),
            _ if is_bare(byte) => {
                let mut end = index;
                while end < bytes.len() && is_bare(bytes[end]) {
                    end += 1;
                }
                Some(end)
            }
            _ => None,
        };
        if let Some(end) = part_end {
            current = match current {
                Some((start, parts, _, true)) => Some((start, parts + 1, end, false)),
                Some((start, parts, last, false)) => {
                    runs.push(DottedRun {
                        span: start..last,
                        parts,
                    });
                    Some((index, 1, end, false))
                }
                None => Some((index, 1, end, false)),
            };
            index = end;
            continue;
        }
        match (byte, &mut current) {
            (b'.', Some((_, _, _, dotted @ false))) => *dotted = true,
            (b' ' | b'\t', _) => {}
            _ => {
                if let Some((start, parts, last, _)) = current.take() {
                    runs.push(DottedRun {
                        span: start..last,
                        parts,
                    });
                }
                if byte == b'#' {
                    while index < bytes.len() && bytes[index] != b'\n' {
                        index += 1;
                    }
                    continue;
                }
            }
        }
        index += 1;
    }
    if let Some((start, parts, last, _)) = current {
        runs.push(DottedRun {
            span: start..last,
            parts,
        });
    }
    runs
}

/// The letters of a bare key (and of numbers, dates and booleans, which are scanned alike).
fn is_bare(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'+' | b':')
}

/// The index just past the string opening at `start`: basic or literal, one line or three
/// quotes. An unterminated string ends at the end of its line (one-line) or of the file.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let triple = bytes.get(start..start + 3) == Some(&[quote, quote, quote][..]);
    let mut index = start + if triple { 3 } else { 1 };
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'\\' && quote == b'"' {
            index += 2;
            continue;
        }
        if byte == b'\n' && !triple {
            return index;
        }
        if byte == quote {
            if !triple {
                return index + 1;
            }
            if bytes.get(index..index + 3) == Some(&[quote, quote, quote][..]) {
                // Up to two more quotes may close the string as part of its content.
                let mut end = index + 3;
                while end < bytes.len() && end < index + 5 && bytes[end] == quote {
                    end += 1;
                }
                return end;
            }
        }
        index += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::{DottedRun, dotted_runs};

    fn parts(source: &str) -> Vec<(String, usize)> {
        dotted_runs(source)
            .into_iter()
            .map(|DottedRun { span, parts }| (source[span].to_owned(), parts))
            .collect()
    }

    #[test]
    fn keys_values_and_headers_are_runs_and_strings_and_comments_are_skipped() {
        assert_eq!(
            parts("a.b . \"c.d\".'e' = 1.5 # x.y.z\n[t . u]\nv = \"\"\"\nw.x\"\"\"\n"),
            vec![
                ("a.b . \"c.d\".'e'".to_owned(), 4),
                ("1.5".to_owned(), 2),
                ("t . u".to_owned(), 2),
                ("v".to_owned(), 1),
                ("\"\"\"\nw.x\"\"\"".to_owned(), 1),
            ]
        );
    }

    #[test]
    fn escaped_quotes_stay_inside_their_string() {
        assert_eq!(
            parts("k = \"a\\\".b\"\n"),
            vec![("k".to_owned(), 1), ("\"a\\\".b\"".to_owned(), 1)]
        );
    }
}
