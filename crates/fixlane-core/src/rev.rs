//! `Rev`: a commit as git names it (its hexadecimal object id, whole or abbreviated), and the
//! one abbreviation fixlane shows people.
//!
//! A rev is built only by [`Rev::parse`], so code holding one knows it is a commit id and not a
//! branch name or stray text. Shown revs are cut to [`Rev::SHORT`] characters everywhere, by
//! [`Rev::short`] (or [`short`] for a rev still held as text), so one place decides how long.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a text is not a rev.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevError {
    #[error("a commit id is empty")]
    Empty,
    #[error(
        "commit id `{value}` has the character {character:?}; a commit id is hexadecimal (0-9, a-f)"
    )]
    NotHex { value: String, character: char },
    #[error("commit id `{value}` is longer than {max} characters")]
    TooLong { value: String, max: usize },
}

/// A commit id: 1 to 64 hexadecimal digits (a SHA-1 id has 40, a SHA-256 one 64), kept exactly
/// as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rev(String);

impl Rev {
    /// How many characters a shown rev keeps: enough to stay unique in a large repository.
    pub const SHORT: usize = 12;

    /// The longest commit id git writes (SHA-256).
    pub const MAX: usize = 64;

    /// Builds the rev, refusing empty, overlong or non-hexadecimal text.
    pub fn parse(text: &str) -> Result<Self, RevError> {
        if text.is_empty() {
            return Err(RevError::Empty);
        }
        if let Some(character) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(RevError::NotHex {
                value: text.to_owned(),
                character,
            });
        }
        if text.len() > Self::MAX {
            return Err(RevError::TooLong {
                value: text.to_owned(),
                max: Self::MAX,
            });
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The rev as shown: its first [`Rev::SHORT`] characters (all of a shorter one).
    pub fn short(&self) -> &str {
        short(&self.0)
    }

    /// The first `len` characters (all of a shorter rev), for the one place that shows another
    /// length: the 7-character hash a person types to confirm a merge while a gate still runs.
    pub fn abbrev(&self, len: usize) -> &str {
        // Hexadecimal digits are one byte each, so any byte index is a character boundary.
        self.0.get(..len).unwrap_or(&self.0)
    }
}

/// A rev still held as text (a run event's, an emergency record's, a base commit from git) as
/// shown: its first [`Rev::SHORT`] characters, or all of a shorter one. The same cut as
/// [`Rev::short`].
pub fn short(text: &str) -> &str {
    text.get(..Rev::SHORT).unwrap_or(text)
}

impl fmt::Display for Rev {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl TryFrom<String> for Rev {
    type Error = RevError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Rev> for String {
    fn from(value: Rev) -> Self {
        value.0
    }
}

impl AsRef<str> for Rev {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_ids_parse_and_shorten() {
        let full = Rev::parse("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(full.short(), "0123456789ab");
        assert_eq!(full.abbrev(7), "0123456");
        assert_eq!(full.to_string(), full.as_str());
        let brief = Rev::parse("abc").unwrap();
        assert_eq!(brief.short(), "abc");
        assert_eq!(brief.abbrev(7), "abc");
        assert!(Rev::parse(&"f".repeat(64)).is_ok());
    }

    #[test]
    fn branch_names_and_junk_are_refused() {
        assert_eq!(Rev::parse(""), Err(RevError::Empty));
        assert!(matches!(
            Rev::parse("hotfix/INC-1"),
            Err(RevError::NotHex { character: 'h', .. })
        ));
        assert!(matches!(
            Rev::parse("abc; rm -rf /"),
            Err(RevError::NotHex { character: ';', .. })
        ));
        assert!(matches!(
            Rev::parse(&"a".repeat(65)),
            Err(RevError::TooLong { max: 64, .. })
        ));
    }

    #[test]
    fn text_revs_shorten_like_parsed_ones() {
        assert_eq!(short("0123456789abcdef"), "0123456789ab");
        assert_eq!(short("abc"), "abc");
    }

    #[test]
    fn serde_keeps_the_text_and_checks_it() {
        let rev = Rev::parse("abc123").unwrap();
        assert_eq!(serde_json::to_value(&rev).unwrap(), "abc123");
        let back: Rev = serde_json::from_value(serde_json::json!("abc123")).unwrap();
        assert_eq!(back, rev);
        assert!(serde_json::from_value::<Rev>(serde_json::json!("main")).is_err());
    }
}
