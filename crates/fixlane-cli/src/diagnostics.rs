//! Rendering config errors for people: every error, with its line, the source under it, and help.
//!
//! miette is kept to this one module so its rendering can be swapped without touching commands.
//! A snippet is drawn only when it can be drawn well: a line too long to show (minified or
//! generated text, a runaway string) gets the plain `file:line:column: message` form instead,
//! and so does any error the renderer itself runs into, so a config can never crash fixlane.

use std::io::IsTerminal;
use std::panic::{self, AssertUnwindSafe};

use fixlane_core::config::{ConfigError, ConfigErrors};
use fixlane_core::text::{for_terminal, is_hazard};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

/// The longest source line drawn under an error, in columns. Wider lines would wrap into an
/// unreadable block, and miette cannot pad past 65 535 columns at all.
const MAX_DRAWN_COLUMNS: usize = 400;

/// Errors shown one by one; past these a file is more likely the wrong file than a config with
/// that many mistakes, and drawing them all would take minutes.
const MAX_SHOWN_ERRORS: usize = 50;

/// Lines of context miette draws above and below the error's own lines.
const CONTEXT_LINES: usize = 1;

/// Columns a tab takes in the drawing.
const TAB_WIDTH: usize = 4;

fn handler() -> GraphicalReportHandler {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(CONTEXT_LINES)
        .tab_width(TAB_WIDTH)
}

/// The one-line form: `file:line:column: expected …, found …`. What was found quotes the
/// file, which any commit can change, so it is escaped like any typed text.
pub fn headline(error: &ConfigError) -> String {
    format!(
        "{}:{}:{}: expected {}, found {}",
        for_terminal(&error.file),
        error.line,
        error.column,
        for_terminal(&error.expected),
        for_terminal(&error.found)
    )
}

/// One error without its source: the headline and, indented under it, the help.
pub fn render_plain_error(error: &ConfigError) -> String {
    match &error.help {
        Some(help) => format!("{}\n  help: {}\n", headline(error), for_terminal(help)),
        None => format!("{}\n", headline(error)),
    }
}

/// Whether every line miette would draw for `span` (its own lines and their context) is short
/// enough to draw, and holds nothing that would act on the terminal (miette draws source lines
/// as they are).
fn drawable(source: &str, span: &std::ops::Range<usize>) -> bool {
    if span.start > span.end || span.end > source.len() {
        return false;
    }
    let first = source[..span.start].matches('\n').count();
    let last = first + source[span.start..span.end].matches('\n').count();
    source
        .split('\n')
        .enumerate()
        .skip(first.saturating_sub(CONTEXT_LINES))
        .take(last + CONTEXT_LINES + 1 - first.saturating_sub(CONTEXT_LINES))
        .all(|(_, line)| {
            let columns: usize = line
                .chars()
                .map(|character| if character == '\t' { TAB_WIDTH } else { 1 })
                .sum();
            let harmless = !line
                .trim_end_matches('\r')
                .chars()
                .any(|character| is_hazard(character) && character != '\t');
            columns <= MAX_DRAWN_COLUMNS && harmless
        })
}

/// One error with its snippet, or `None` when the snippet cannot be drawn.
fn render_snippet(
    handler: &GraphicalReportHandler,
    errors: &ConfigErrors,
    error: &ConfigError,
) -> Option<String> {
    if !drawable(&errors.source_text, &error.span) {
        return None;
    }
    let mut diagnostic = MietteDiagnostic::new(headline(error)).with_labels([LabeledSpan::at(
        error.span.clone(),
        format!("found {}", for_terminal(&error.found)),
    )]);
    if let Some(help) = &error.help {
        diagnostic = diagnostic.with_help(for_terminal(help).into_owned());
    }
    let report = miette::Report::new(diagnostic).with_source_code(NamedSource::new(
        for_terminal(&errors.file),
        errors.source_text.clone(),
    ));
    // The check above keeps miette inside the inputs it handles; should it still fail on some
    // input nobody foresaw, the error is shown plainly rather than fixlane stopping on a panic.
    // The panic hook is muted meanwhile so no backtrace is printed over the plain form.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let rendered = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut out = String::new();
        handler
            .render_report(&mut out, report.as_ref())
            .is_ok()
            .then_some(out)
    }));
    panic::set_hook(hook);
    rendered.ok().flatten()
}

/// Every error of a config, rendered with its source snippet, then a count.
pub fn render_config_errors(errors: &ConfigErrors) -> String {
    let handler = handler();
    let file = for_terminal(&errors.file);
    let mut out = String::new();
    for error in errors.errors.iter().take(MAX_SHOWN_ERRORS) {
        match render_snippet(&handler, errors, error) {
            Some(snippet) => out.push_str(&snippet),
            None => out.push_str(&render_plain_error(error)),
        }
        out.push('\n');
    }
    let count = errors.errors.len();
    if count > MAX_SHOWN_ERRORS {
        out.push_str(&format!(
            "{file}: {} more errors are not shown; fix the ones above first\n",
            count - MAX_SHOWN_ERRORS
        ));
    }
    out.push_str(&format!(
        "{file}: {count} error{} — fix {} and run `fixlane config check` again\n",
        if count == 1 { "" } else { "s" },
        if count == 1 { "it" } else { "them" },
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::drawable;

    #[test]
    fn short_lines_are_drawn_and_long_ones_around_the_error_are_not() {
        let long = "a".repeat(500);
        let source = format!("one\ntwo\nthree\n{long}\nfive\n");
        // `one`: its context is `two`.
        assert!(drawable(&source, &(0..3)));
        // `three`: its context includes the long line.
        assert!(!drawable(&source, &(8..13)));
        // `five`: preceded by the long line.
        let five = source.find("five").unwrap_or_default();
        assert!(!drawable(&source, &(five..five + 4)));
        // A span outside the text cannot be drawn.
        assert!(!drawable(&source, &(0..source.len() + 1)));
    }

    #[test]
    fn a_line_with_an_escape_sequence_is_not_drawn() {
        assert!(!drawable("a = \"\u{1b}]0;pwned\u{7}\"\nb = 1\n", &(0..1)));
        assert!(!drawable("a = 1\nb = \"\u{202e}x\"\n", &(0..1)));
        assert!(drawable("a = 1\r\nb = \"\tx\"\r\n", &(0..1)));
    }

    #[test]
    fn tabs_count_as_the_columns_they_take() {
        let source = "\t".repeat(150);
        assert!(!drawable(&source, &(0..1)));
    }
}
