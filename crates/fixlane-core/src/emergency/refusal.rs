//! The one error every emergency rule returns: what was refused, which rule refused it (with its
//! config line when known), and what to do instead, so a user under pressure is never stuck.

use std::fmt;

use crate::config::model::SourceLine;

/// A refusal by one rule. Rendered over a few lines, because people read it mid-incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// A short, stable id of the rule, such as `emergency.severities`.
    pub rule: &'static str,
    /// What was refused, such as `declaring INC-2026-05-20-001`.
    pub refused: String,
    /// The rule, with the values that made it apply.
    pub why: String,
    /// Where the rule is written in `fixlane.toml`, when that is known.
    pub config_line: Option<SourceLine>,
    /// What to do instead.
    pub instead: String,
}

impl Refusal {
    pub fn new(
        rule: &'static str,
        refused: impl Into<String>,
        why: impl Into<String>,
        instead: impl Into<String>,
    ) -> Self {
        Self {
            rule,
            refused: refused.into(),
            why: why.into(),
            config_line: None,
            instead: instead.into(),
        }
    }

    /// The same refusal, pointing at where its rule is written.
    #[must_use]
    pub fn at(mut self, line: SourceLine) -> Self {
        self.config_line = Some(line);
        self
    }

    /// The rendering with the config file named, for callers that know it.
    pub fn render_with_file(&self, file: &str) -> String {
        let mut text = format!("refused: {}\n", self.refused);
        text.push_str(&format!("   rule: {} — {}\n", self.rule, self.why));
        if let Some(line) = self.config_line {
            text.push_str(&format!("  where: {file}:{}:{}\n", line.line, line.column));
        }
        text.push_str(&format!("instead: {}", self.instead));
        text
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(formatter, "refused: {}", self.refused)?;
        writeln!(formatter, "   rule: {} — {}", self.rule, self.why)?;
        if let Some(line) = self.config_line {
            writeln!(
                formatter,
                "  where: config line {}, column {}",
                line.line, line.column
            )?;
        }
        write!(formatter, "instead: {}", self.instead)
    }
}

impl std::error::Error for Refusal {}
