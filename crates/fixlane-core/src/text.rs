//! Showing text that people typed (titles, reasons, compensations, notes, branch names) and
//! text that programs printed (a failing gate's output) without letting it take over the
//! screen or the document it is shown in.
//!
//! Such text is stored and exported verbatim; only its human renderings go through here. A
//! newline in a title could forge a `state:` line under it, an escape sequence could recolour
//! the terminal or set its title, and a bidi override could make `approved` read backwards, so
//! every such character is written as a visible escape instead: `\n`, `\x1b`, `\u{202e}`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `character` must not reach a terminal or a document as it is: the control
/// characters (C0, DEL, C1), the Unicode bidi controls, and the line and paragraph separators.
pub fn is_hazard(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// The visible form of a hazard: `\n`, `\r`, `\t`, `\x1b` below U+0080, `\u{202e}` above.
fn push_escape(out: &mut String, character: char) {
    match character {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        _ if u32::from(character) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", u32::from(character));
        }
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(character));
        }
    }
}

/// `text` with every hazard that `keep` does not keep shown as an escape; borrowed when
/// there is none.
fn escape_with(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|character| is_hazard(character) && !keep(character))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if is_hazard(character) && !keep(character) {
            push_escape(&mut out, character);
        } else {
            out.push(character);
        }
    }
    Cow::Owned(out)
}

/// One line of user text for a terminal: every control, bidi and separator character shown as
/// an escape, so the text stays on its line and cannot change the terminal.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    escape_with(text, |_| false)
}

/// Text of several lines for a terminal (an error message): line breaks kept, every other
/// hazard shown as an escape.
pub fn for_terminal_lines(text: &str) -> Cow<'_, str> {
    escape_with(text, |character| character == '\n')
}

/// One line of a program's output (a failing gate's log tail) for a terminal: colour codes
/// (`ESC [ … m`) are dropped, since tools print them and they carry no text; tabs are kept;
/// every other hazard, including the rest of the escape sequences, is shown as an escape.
pub fn for_terminal_output(line: &str) -> Cow<'_, str> {
    if !line.contains('\u{1b}') {
        return escape_with(line, |character| character == '\t');
    }
    let mut kept = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('\u{1b}') {
        kept.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        if let Some(length) = colour_code_length(after) {
            rest = &after[length..];
        } else {
            kept.push('\u{1b}');
            rest = after;
        }
    }
    kept.push_str(rest);
    Cow::Owned(escape_with(&kept, |character| character == '\t').into_owned())
}

/// The length of `[0;31m` style colour parameters after an ESC, when that is what follows.
fn colour_code_length(after_escape: &str) -> Option<usize> {
    let parameters = after_escape.strip_prefix('[')?;
    let length = parameters
        .bytes()
        .take_while(|byte| byte.is_ascii_digit() || *byte == b';')
        .count();
    (parameters.as_bytes().get(length) == Some(&b'm')).then_some(length + 2)
}

/// The ASCII punctuation that means something in Markdown anywhere in a line: emphasis, code,
/// links, HTML, entities, tables, strikethrough, and the escape character itself.
const MARKDOWN_INLINE: [char; 11] = ['\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&'];

/// User text for Markdown, inline or in a table cell: hazards escaped as for a terminal, then
/// every character with a Markdown meaning backslash-escaped, and a start that would open a
/// heading, quote, list or rule neutralised, so the text reads as written and cannot end its
/// cell or its line.
pub fn for_markdown(text: &str) -> Cow<'_, str> {
    let visible = for_terminal(text);
    let needs_escape = visible
        .chars()
        .any(|character| MARKDOWN_INLINE.contains(&character))
        || block_start_length(&visible).is_some();
    if !needs_escape {
        return visible;
    }
    let mut out = String::with_capacity(visible.len() + 8);
    let leading = visible.len() - visible.trim_start_matches(' ').len();
    out.push_str(&visible[..leading]);
    let body = &visible[leading..];
    let marker = block_start_length(&visible).unwrap_or(0);
    for (index, character) in body.char_indices() {
        // The last character of a block marker (`#`, `>`, `-`, `1.`) is escaped, which turns
        // the marker into text.
        let ends_marker = marker > 0 && index + character.len_utf8() == marker;
        if MARKDOWN_INLINE.contains(&character) || ends_marker {
            out.push('\\');
        }
        out.push(character);
    }
    Cow::Owned(out)
}

/// How many bytes (after leading spaces) open a Markdown block when `text` starts a line:
/// `#`, `>`, `-`, `+`, `*`, `=`, or digits followed by `.` or `)`.
fn block_start_length(text: &str) -> Option<usize> {
    let body = text.trim_start_matches(' ');
    let first = body.chars().next()?;
    if matches!(first, '#' | '>' | '-' | '+' | '*' | '=') {
        return Some(1);
    }
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    match body.as_bytes().get(digits) {
        Some(b'.' | b')') if digits > 0 => Some(digits + 1),
        _ => None,
    }
}

/// User text as a Markdown code span outside tables: hazards escaped, and a fence of backticks
/// longer than any run inside, so a backtick in the text cannot close the span early.
pub fn markdown_code(text: &str) -> String {
    let visible = for_terminal(text);
    if visible.is_empty() {
        // Two backticks alone are not an empty span but two backticks.
        return "` `".to_owned();
    }
    let mut longest = 0;
    let mut run = 0;
    for character in visible.chars() {
        if character == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    // A space on each side keeps a backtick at either end from joining the fence; Markdown
    // removes one space from each side again.
    let pad = if visible.starts_with('`') || visible.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{visible}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for text in ["fix checkout 500s", "café — naïve ✓ 👨‍👩‍👧", ""] {
            assert!(matches!(for_terminal(text), Cow::Borrowed(_)));
            assert_eq!(for_terminal(text), text);
        }
    }

    #[test]
    fn controls_escapes_and_bidi_are_shown_as_escapes() {
        assert_eq!(
            for_terminal("a\nstate: closed\r\tb"),
            "a\\nstate: closed\\r\\tb"
        );
        assert_eq!(
            for_terminal("\u{1b}[31mred\u{1b}]0;pwned\u{7}"),
            "\\x1b[31mred\\x1b]0;pwned\\x07"
        );
        assert_eq!(for_terminal("\u{7f}\u{85}\u{9b}"), "\\x7f\\u{85}\\u{9b}");
        assert_eq!(
            for_terminal("\u{202e}devorppa\u{202c} \u{2066}x\u{2069} \u{200e}\u{200f}\u{61c}"),
            "\\u{202e}devorppa\\u{202c} \\u{2066}x\\u{2069} \\u{200e}\\u{200f}\\u{61c}"
        );
        assert_eq!(for_terminal("a\u{2028}b\u{2029}"), "a\\u{2028}b\\u{2029}");
    }

    #[test]
    fn several_lines_keep_their_breaks_only() {
        assert_eq!(
            for_terminal_lines("refused: x\n   rule: \u{1b}]0;t\u{7}\r"),
            "refused: x\n   rule: \\x1b]0;t\\x07\\r"
        );
    }

    #[test]
    fn program_output_loses_its_colours_and_keeps_its_tabs() {
        assert_eq!(
            for_terminal_output("\u{1b}[1;31merror\u{1b}[0m:\tfailed"),
            "error:\tfailed"
        );
        assert_eq!(
            for_terminal_output("\u{1b}]0;pwned\u{7}\u{1b}[2Jdone\r"),
            "\\x1b]0;pwned\\x07\\x1b[2Jdone\\r"
        );
        assert_eq!(for_terminal_output("\u{1b}[31"), "\\x1b[31");
    }

    #[test]
    fn markdown_text_cannot_break_its_cell_or_open_a_block() {
        assert_eq!(
            for_markdown("30 min | customers `failing`"),
            "30 min \\| customers \\`failing\\`"
        );
        assert_eq!(for_markdown("# heading"), "\\# heading");
        assert_eq!(for_markdown("  > quote"), "  \\> quote");
        assert_eq!(for_markdown("12. item"), "12\\. item");
        assert_eq!(for_markdown("- item"), "\\- item");
        assert_eq!(
            for_markdown("[x](javascript:1) <b> &#8238; a\\b"),
            "\\[x\\](javascript:1) \\<b\\> \\&#8238; a\\\\b"
        );
        assert_eq!(for_markdown("line\nbreak"), "line\\\\nbreak");
        assert!(matches!(for_markdown("plain 3.5 words"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_code_span_outgrows_the_backticks_inside() {
        assert_eq!(markdown_code("hotfix/INC-1-a"), "`hotfix/INC-1-a`");
        assert_eq!(markdown_code("a`b``c"), "```a`b``c```");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        assert_eq!(markdown_code("a\nb"), "`a\\nb`");
        assert_eq!(markdown_code(""), "` `");
    }

    /// Any text, weighted towards the characters that matter here.
    fn hostile() -> impl Strategy<Value = String> {
        let interesting = prop_oneof![
            Just('\n'),
            Just('\r'),
            Just('\t'),
            Just('\u{1b}'),
            Just('\u{7}'),
            Just('\u{7f}'),
            Just('\u{85}'),
            Just('\u{9b}'),
            Just('\u{202e}'),
            Just('\u{2066}'),
            Just('\u{200f}'),
            Just('\u{61c}'),
            Just('\u{2028}'),
            Just('|'),
            Just('`'),
            Just('\\'),
            Just('#'),
            Just('>'),
            Just('['),
            Just('&'),
            Just(' '),
            Just('1'),
            Just('.'),
            Just('m'),
            Just(';'),
        ];
        prop::collection::vec(prop_oneof![interesting, any::<char>()], 0..40)
            .prop_map(|characters| characters.into_iter().collect())
    }

    /// Whether the character at byte `index` of `text` is preceded by an odd run of
    /// backslashes, that is, escaped.
    fn escaped(text: &str, index: usize) -> bool {
        text[..index]
            .bytes()
            .rev()
            .take_while(|byte| *byte == b'\\')
            .count()
            % 2
            == 1
    }

    proptest! {
        #[test]
        fn terminal_text_never_holds_a_hazard(text in hostile()) {
            let shown = for_terminal(&text);
            prop_assert!(!shown.chars().any(is_hazard), "{shown:?}");
            let lines = for_terminal_lines(&text);
            prop_assert!(!lines.chars().any(|c| is_hazard(c) && c != '\n'), "{lines:?}");
            prop_assert_eq!(lines.matches('\n').count(), text.matches('\n').count());
            let output = for_terminal_output(&text);
            prop_assert!(!output.chars().any(|c| is_hazard(c) && c != '\t'), "{output:?}");
        }

        #[test]
        fn text_without_hazards_is_shown_as_it_is(text in any::<String>()) {
            prop_assume!(!text.chars().any(is_hazard));
            prop_assert_eq!(for_terminal(&text), text.as_str());
        }

        #[test]
        fn markdown_text_holds_no_hazard_and_no_unescaped_syntax(text in hostile()) {
            let shown = for_markdown(&text);
            prop_assert!(!shown.chars().any(is_hazard), "{shown:?}");
            for (index, character) in shown.char_indices() {
                if MARKDOWN_INLINE.contains(&character) && character != '\\' {
                    prop_assert!(escaped(&shown, index), "{character:?} at {index} in {shown:?}");
                }
            }
            prop_assert_eq!(block_start_length(&shown), None, "{:?}", shown);
        }

        #[test]
        fn a_code_span_is_never_closed_early(text in hostile()) {
            let span = markdown_code(&text);
            prop_assert!(!span.chars().any(is_hazard));
            let fence = span.bytes().take_while(|byte| *byte == b'`').count();
            let inner = &span[fence..span.len() - fence];
            prop_assert!(!inner.contains(&"`".repeat(fence)), "{span:?}");
            prop_assert!(span.ends_with(&"`".repeat(fence)));
        }
    }
}
