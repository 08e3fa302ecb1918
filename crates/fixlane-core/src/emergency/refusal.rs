//! The one error every emergency rule returns: what was refused, which rule refused it (with its
//! config line when known), and what to do instead, so a user under pressure is never stuck.
//! A request several rules refuse gets all of them at once, as [`Refusals`], so it takes one
//! more try, not one per mistake.
//!
//! What to do instead is an [`Instead`], data rather than text, so the CLI spells it as its
//! commands and a server can return it as JSON; the layout over a few lines is shared here.

use std::fmt;

use serde::Serialize;

use crate::config::model::SourceLine;
use crate::emergency::instead::Instead;
use crate::text::for_terminal;

/// A refusal by one rule. Rendered over a few lines, because people read it mid-incident.
///
/// Serialized as `{ "rule", "refused", "why", "where": { "line", "column" } | null, "instead":
/// { "action", … } }`, for a server to return as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// A short, stable id of the rule, such as `emergency.severities`.
    pub rule: &'static str,
    /// What was refused, such as `declaring INC-2026-05-20-001`.
    pub refused: String,
    /// The rule, with the values that made it apply.
    pub why: String,
    /// Where the rule is written in `fixlane.toml`, when that is known.
    #[serde(rename = "where")]
    pub config_line: Option<SourceLine>,
    /// What to do instead; boxed, so that the `Result`s every rule returns stay small.
    pub instead: Box<Instead>,
}

/// How a caller spells an [`Instead`]: the CLI as its commands, [`Instead`]'s `Display` in plain
/// words.
pub type SayInstead<'a> = &'a dyn Fn(&Instead) -> String;

impl Refusal {
    pub fn new(
        rule: &'static str,
        refused: impl Into<String>,
        why: impl Into<String>,
        instead: Instead,
    ) -> Self {
        Self {
            rule,
            refused: refused.into(),
            why: why.into(),
            config_line: None,
            instead: Box::new(instead),
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

    /// The rendering over a few lines, with the config file named when the caller knows it and
    /// what to do instead spelled by `say`.
    ///
    /// Each part is one line, and the parts quote what people typed (a title, a name given
    /// to act as), so each is escaped: typed text cannot add a line to the refusal.
    pub fn render_with(&self, file: Option<&str>, say: SayInstead<'_>) -> String {
        format!(
            "refused: {}\n{}",
            for_terminal(&self.refused),
            self.body(file, say)
        )
    }

    /// The rule, where it is written and what to do instead, without the `refused:` line.
    fn body(&self, file: Option<&str>, say: SayInstead<'_>) -> String {
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
        text.push_str(&format!("instead: {}", for_terminal(&say(&self.instead))));
        text
    }
}

/// In plain words: see [`Instead`]'s `Display`.
fn plain(instead: &Instead) -> String {
    instead.to_string()
}

impl fmt::Display for Refusal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.render_with(None, &plain))
    }
}

impl std::error::Error for Refusal {}

/// Every refusal of one request, in the order its rules are checked. Never empty when the
/// policy returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
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

    /// Every refusal, as [`Refusal::render_with`] renders one.
    ///
    /// One refusal reads as it always does. Several about the same request share one
    /// `refused:` line that counts them, then one block each, so all of them are fixed at once.
    pub fn render_with(&self, file: Option<&str>, say: SayInstead<'_>) -> String {
        let same_request = self
            .0
            .windows(2)
            .all(|pair| pair[0].refused == pair[1].refused);
        match self.0.as_slice() {
            [] => String::new(),
            [only] => only.render_with(file, say),
            [first, ..] if same_request => {
                let blocks: Vec<String> = self
                    .0
                    .iter()
                    .map(|refusal| refusal.body(file, say))
                    .collect();
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
                .map(|refusal| refusal.render_with(file, say))
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
        formatter.write_str(&self.render_with(None, &plain))
    }
}

impl std::error::Error for Refusals {}

#[cfg(test)]
mod tests {
    use super::{Refusal, Refusals};
    use crate::config::model::SourceLine;
    use crate::emergency::instead::Instead;

    /// The CLI's way of spelling a step, reduced to a marker, to see where it lands.
    fn shout(instead: &Instead) -> String {
        instead.to_string().to_uppercase()
    }

    #[test]
    fn typed_text_cannot_add_a_line_to_a_refusal() {
        let refusal = Refusal::new(
            "people",
            "approving INC-1 as `x\ninstead: nothing, it is approved`",
            "`\u{1b}]0;pwned\u{7}` is not a person",
            Instead::advice("ask \u{202e}NAME"),
        );
        let rendered = refusal.render_with(Some("fixlane.toml"), &shout);
        assert_eq!(rendered.lines().count(), 3, "{rendered}");
        assert!(rendered.contains("`x\\ninstead: nothing, it is approved`"));
        assert!(rendered.contains("`\\x1b]0;pwned\\x07`"));
        // What the caller spelled is escaped too.
        assert!(rendered.contains("ASK \\u{202e}NAME"), "{rendered}");
        assert_eq!(refusal.to_string().lines().count(), 3);
    }

    #[test]
    fn a_refusal_renders_with_the_file_when_known_and_the_callers_words() {
        let refusal = Refusal::new("rule.id", "doing x", "because y", Instead::advice("do z"))
            .at(SourceLine { line: 7, column: 3 });
        assert_eq!(
            refusal.render_with(Some("fixlane.toml"), &shout),
            "refused: doing x\n   rule: rule.id — because y\n  where: fixlane.toml:7:3\ninstead: DO Z"
        );
        assert_eq!(
            refusal.to_string(),
            "refused: doing x\n   rule: rule.id — because y\n  where: config line 7, column \
             3\ninstead: do z"
        );
    }

    #[test]
    fn several_refusals_of_one_request_share_one_refused_line() {
        let refusals = Refusals::from_vec(vec![
            Refusal::new("rule.one", "doing x", "because y", Instead::advice("do z"))
                .at(SourceLine { line: 7, column: 3 }),
            Refusal::new("rule.two", "doing x", "because w", Instead::advice("do v")),
        ]);
        assert_eq!(
            refusals.render_with(Some("fixlane.toml"), &shout),
            "refused: doing x, for 2 reasons; fix them all, then try again:\n\n   rule: rule.one — \
             because y\n  where: fixlane.toml:7:3\ninstead: DO Z\n\n   rule: rule.two — because \
             w\ninstead: DO V"
        );
        assert!(refusals.to_string().contains("config line 7, column 3"));
        // One refusal reads exactly as a lone refusal does.
        let one = Refusal::new("rule.one", "doing x", "because y", Instead::advice("do z"));
        assert_eq!(Refusals::from(one.clone()).to_string(), one.to_string());
        // Refusals of different requests keep their own `refused:` lines.
        let apart = Refusals::from_vec(vec![
            Refusal::new("rule.one", "doing x", "because y", Instead::advice("do z")),
            Refusal::new("rule.two", "doing w", "because v", Instead::advice("do u")),
        ]);
        assert_eq!(
            apart.render_with(None, &shout),
            "refused: doing x\n   rule: rule.one — because y\ninstead: DO Z\n\nrefused: doing \
             w\n   rule: rule.two — because v\ninstead: DO U"
        );
    }

    #[test]
    fn a_refusal_serializes_for_a_server_with_its_next_step_as_data() {
        let refusal = Refusal::new(
            "emergency.rate_limit",
            "declaring emergency INC-1",
            "3 emergencies in 7d",
            Instead::ReviewRate {
                roles: vec!["platform-lead".to_owned()],
                holders: vec![crate::names::PersonName::parse("dave").unwrap()],
            },
        )
        .at(SourceLine {
            line: 30,
            column: 14,
        });
        assert_eq!(
            serde_json::to_value(&refusal).unwrap(),
            serde_json::json!({
                "rule": "emergency.rate_limit",
                "refused": "declaring emergency INC-1",
                "why": "3 emergencies in 7d",
                "where": { "line": 30, "column": 14 },
                "instead": {
                    "action": "review_rate",
                    "roles": ["platform-lead"],
                    "holders": ["dave"]
                }
            })
        );
        let unlocated = Refusal::new("rule", "x", "y", Instead::GiveEta);
        let both = Refusals::from_vec(vec![unlocated.clone(), unlocated]);
        assert_eq!(
            serde_json::to_value(&both).unwrap(),
            serde_json::json!([
                { "rule": "rule", "refused": "x", "why": "y", "where": null,
                  "instead": { "action": "give_eta" } },
                { "rule": "rule", "refused": "x", "why": "y", "where": null,
                  "instead": { "action": "give_eta" } }
            ])
        );
    }
}
