//! The one error every emergency rule returns: what was refused, which rule refused it (with its
//! config line when known), and what to do instead, so a user under pressure is never stuck.

use std::fmt;

use crate::config::model::SourceLine;
use crate::text::for_terminal;

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
    ///
    /// Each part is one line, and the parts quote what people typed (a title, a name given
    /// with `--as`), so each is escaped: typed text cannot add a line to the refusal.
    pub fn render_with_file(&self, file: &str) -> String {
        let mut text = format!("refused: {}\n", for_terminal(&self.refused));
        text.push_str(&format!(
            "   rule: {} — {}\n",
            self.rule,
            for_terminal(&self.why)
        ));
        if let Some(line) = self.config_line {
            text.push_str(&format!(
                "  where: {}:{}:{}\n",
                for_terminal(file),
                line.line,
                line.column
            ));
        }
        text.push_str(&format!("instead: {}", for_terminal(&self.instead)));
        text
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(formatter, "refused: {}", for_terminal(&self.refused))?;
        writeln!(
            formatter,
            "   rule: {} — {}",
            self.rule,
            for_terminal(&self.why)
        )?;
        if let Some(line) = self.config_line {
            writeln!(
                formatter,
                "  where: config line {}, column {}",
                line.line, line.column
            )?;
        }
        write!(formatter, "instead: {}", for_terminal(&self.instead))
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::Refusal;

    #[test]
    fn typed_text_cannot_add_a_line_to_a_refusal() {
        let refusal = Refusal::new(
            "people",
            "approving INC-1 as `x\ninstead: nothing, it is approved`",
            "`\u{1b}]0;pwned\u{7}` is not a person",
            "pass --as \u{202e}NAME",
        );
        let rendered = refusal.render_with_file("fixlane.toml");
        assert_eq!(rendered.lines().count(), 3, "{rendered}");
        assert!(rendered.contains("`x\\ninstead: nothing, it is approved`"));
        assert!(rendered.contains("`\\x1b]0;pwned\\x07`"));
        assert!(rendered.contains("--as \\u{202e}NAME"));
        assert_eq!(refusal.to_string().lines().count(), 3);
    }
}
