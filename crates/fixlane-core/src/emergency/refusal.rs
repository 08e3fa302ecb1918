//! The one error every emergency rule returns: what was refused, which rule refused it (with its
//! config line when known), and what to do instead, so a user under pressure is never stuck.
//! A request several rules refuse gets all of them at once, as [`Refusals`], so it takes one
//! more try, not one per mistake.

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

    /// The same refusal, pointing at where its rule is written when that is known (a setting
    /// left at its default is written nowhere).
    #[must_use]
    pub fn at_line(mut self, line: Option<SourceLine>) -> Self {
        if line.is_some() {
            self.config_line = line;
        }
        self
    }

    /// The rendering with the config file named, for callers that know it.
    ///
    /// Each part is one line, and the parts quote what people typed (a title, a name given
    /// with `--as`), so each is escaped: typed text cannot add a line to the refusal.
    pub fn render_with_file(&self, file: &str) -> String {
        format!(
            "refused: {}\n{}",
            for_terminal(&self.refused),
            self.body(Some(file))
        )
    }

    /// The rule, where it is written and what to do instead, without the `refused:` line.
    fn body(&self, file: Option<&str>) -> String {
        let mut text = format!("   rule: {} — {}\n", self.rule, for_terminal(&self.why));
        if let Some(line) = self.config_line {
            match file {
                Some(file) => {
                    text.push_str(&format!(
                        "  where: {}:{}:{}\n",
                        for_terminal(file),
                        line.line,
                        line.column
                    ));
                }
                None => text.push_str(&format!(
                    "  where: config line {}, column {}\n",
                    line.line, line.column
                )),
            }
        }
        text.push_str(&format!("instead: {}", for_terminal(&self.instead)));
        text
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "refused: {}\n{}",
            for_terminal(&self.refused),
            self.body(None)
        )
    }
}

impl std::error::Error for Refusal {}

/// Every refusal of one request, in the order its rules are checked. Never empty when the
/// policy returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusals(Vec<Refusal>);

impl Refusals {
    /// The refusals collected while checking one request.
    pub(crate) fn from_vec(refusals: Vec<Refusal>) -> Self {
        Self(refusals)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Refusal> {
        self.0.iter()
    }

    /// The rules that refused, in order.
    pub fn rules(&self) -> Vec<&'static str> {
        self.0.iter().map(|refusal| refusal.rule).collect()
    }

    pub fn into_vec(self) -> Vec<Refusal> {
        self.0
    }

    /// The rendering with the config file named, for callers that know it.
    pub fn render_with_file(&self, file: &str) -> String {
        self.render(Some(file))
    }

    /// One refusal reads as it always does. Several about the same request share one
    /// `refused:` line that counts them, then one block each, so all of them are fixed at once.
    fn render(&self, file: Option<&str>) -> String {
        let same_request = self
            .0
            .windows(2)
            .all(|pair| pair[0].refused == pair[1].refused);
        match self.0.as_slice() {
            [] => String::new(),
            [only] => format!(
                "refused: {}\n{}",
                for_terminal(&only.refused),
                only.body(file)
            ),
            [first, ..] if same_request => {
                let blocks: Vec<String> = self.0.iter().map(|refusal| refusal.body(file)).collect();
                format!(
                    "refused: {}, for {} reasons; fix them all, then try again:\n\n{}",
                    for_terminal(&first.refused),
                    self.0.len(),
                    blocks.join("\n\n")
                )
            }
            _ => self
                .0
                .iter()
                .map(|refusal| {
                    format!(
                        "refused: {}\n{}",
                        for_terminal(&refusal.refused),
                        refusal.body(file)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n\n"),
        }
    }
}

impl From<Refusal> for Refusals {
    fn from(refusal: Refusal) -> Self {
        Self(vec![refusal])
    }
}

impl<'a> IntoIterator for &'a Refusals {
    type Item = &'a Refusal;
    type IntoIter = std::slice::Iter<'a, Refusal>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Refusals {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.render(None))
    }
}

impl std::error::Error for Refusals {}

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
