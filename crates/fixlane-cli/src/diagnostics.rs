//! Rendering config errors for people: every error, with its line, the source under it, and help.
//!
//! miette is kept to this one module so its rendering can be swapped without touching commands.

use std::io::IsTerminal;

use fixlane_core::config::{ConfigError, ConfigErrors};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

fn handler() -> GraphicalReportHandler {
    let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme).with_width(100)
}

/// The one-line form: `file:line:column: expected …, found …`.
pub fn headline(error: &ConfigError) -> String {
    format!(
        "{}:{}:{}: expected {}, found {}",
        error.file, error.line, error.column, error.expected, error.found
    )
}

/// Every error of a config, rendered with its source snippet, then a count.
pub fn render_config_errors(errors: &ConfigErrors) -> String {
    let handler = handler();
    let mut out = String::new();
    for error in &errors.errors {
        let mut diagnostic = MietteDiagnostic::new(headline(error)).with_labels([LabeledSpan::at(
            error.span.clone(),
            format!("found {}", error.found),
        )]);
        if let Some(help) = &error.help {
            diagnostic = diagnostic.with_help(help.clone());
        }
        let report = miette::Report::new(diagnostic).with_source_code(NamedSource::new(
            errors.file.clone(),
            errors.source_text.clone(),
        ));
        if handler.render_report(&mut out, report.as_ref()).is_err() {
            out.push_str(&headline(error));
            out.push('\n');
        }
        out.push('\n');
    }
    let count = errors.errors.len();
    out.push_str(&format!(
        "{}: {count} error{} — fix {} and run `fixlane config check` again\n",
        errors.file,
        if count == 1 { "" } else { "s" },
        if count == 1 { "it" } else { "them" },
    ));
    out
}
