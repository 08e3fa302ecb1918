//! Incident ids and hotfix branch names: the team's id pattern (digit placeholders, not a
//! regex), parsed once when the config is read, an example id for refusals, and the branch a
//! declaration works on.

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use crate::names::{IncidentId, NameError};

/// Branch names stay short enough for every forge and terminal.
const BRANCH_MAX: usize = 80;

/// `hotfix/<ID>-<slug of the title>`, at most 80 characters, with only `[a-z0-9-]` in the slug:
/// the branch name ends up in shells and URLs, so nothing of the title's punctuation survives.
pub fn branch_name(id: &IncidentId, title: &str) -> String {
    let prefix = format!("hotfix/{id}-");
    let room = BRANCH_MAX.saturating_sub(prefix.len());
    let full = slugify(title);
    let slug = if full.len() > room {
        // The slug is ASCII, so byte positions are character positions.
        let cut = &full[..room];
        let whole_words = if full.as_bytes().get(room) == Some(&b'-') {
            cut
        } else {
            match cut.rfind('-') {
                Some(boundary) if boundary > 0 => &cut[..boundary],
                _ => cut,
            }
        };
        whole_words.trim_end_matches('-').to_owned()
    } else {
        full
    };
    // A title of only symbols still gives a branch that says what it is.
    let slug = if slug.is_empty() {
        "fix"
    } else {
        slug.as_str()
    };
    if room < slug.len() {
        // Only an id close to the name limit leaves no room at all.
        return format!("hotfix/{id}");
    }
    format!("{prefix}{slug}")
}

pub(super) fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    for character in title.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// One character of an id pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Stands for itself.
    Literal(char),
    /// Stands for one digit: of the year (`Y`), month (`M`), day (`D`) or a number (`N`).
    Digit(char),
}

/// A team's incident id pattern, parsed once (not a regex): in a run of letters made only of
/// `Y`, `M`, `D` and `N`, each letter stands for one digit; every other character, including
/// any letter of a run with other letters, stands for itself. So the `N` of `INC` is a literal
/// while `NNN` is three digits.
///
/// Built only by [`IdPattern::parse`] (or the default), which refuses a pattern whose ids could
/// never be incident ids, so every id that matches is one (see [`IdPattern::incident_id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPattern {
    text: String,
    slots: Vec<Slot>,
}

/// The pattern `emergency.id_pattern` has when the config does not set it.
pub const DEFAULT_ID_PATTERN: &str = "INC-YYYY-MM-DD-NNN";

/// Why a pattern cannot describe incident ids: every id it matches would be refused as a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdPatternError {
    #[error("the id pattern is empty")]
    Empty,
    #[error(
        "the id pattern `{pattern}` has the character {character:?}, which no incident id may \
         have; ids use letters, digits, `-`, `_` and `.`"
    )]
    BadCharacter { pattern: String, character: char },
    #[error(
        "the id pattern `{pattern}` is {length} characters long, and an incident id has at most \
         {max}"
    )]
    TooLong {
        pattern: String,
        length: usize,
        max: usize,
    },
}

/// The date an id carries, as its digits read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdDate {
    /// A calendar date.
    Valid(jiff::civil::Date),
    /// Digits that name no day, such as month 13, as `YYYY-MM-DD`.
    Invalid { year: i64, month: i64, day: i64 },
}

impl Default for IdPattern {
    fn default() -> Self {
        Self::read(DEFAULT_ID_PATTERN)
    }
}

/// Serialized as written, as the config has it.
impl Serialize for IdPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// A pattern compares equal to the text it was written as.
impl PartialEq<&str> for IdPattern {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl IdPattern {
    /// The pattern `pattern` describes, refused when no id of its form could be an incident id.
    pub fn parse(pattern: &str) -> Result<Self, IdPatternError> {
        let parsed = Self::read(pattern);
        // Every id of the pattern has its literals and its length, and digits elsewhere, so
        // they are all usable names exactly when one of them is.
        match IncidentId::parse(&parsed.example(Timestamp::UNIX_EPOCH)) {
            Ok(_) => Ok(parsed),
            Err(NameError::Empty { .. }) => Err(IdPatternError::Empty),
            Err(NameError::BadCharacter { character, .. }) => Err(IdPatternError::BadCharacter {
                pattern: pattern.to_owned(),
                character,
            }),
            Err(NameError::TooLong { max, .. }) => Err(IdPatternError::TooLong {
                pattern: pattern.to_owned(),
                length: parsed.slots.len(),
                max,
            }),
        }
    }

    /// The slots of `pattern`, whatever its characters.
    fn read(pattern: &str) -> Self {
        let characters: Vec<char> = pattern.chars().collect();
        let mut slots = Vec::with_capacity(characters.len());
        let mut index = 0;
        while let Some(&character) = characters.get(index) {
            if character.is_ascii_alphabetic() {
                let run: Vec<char> = characters[index..]
                    .iter()
                    .copied()
                    .take_while(char::is_ascii_alphabetic)
                    .collect();
                let placeholder = run
                    .iter()
                    .all(|letter| matches!(letter, 'Y' | 'M' | 'D' | 'N'));
                index += run.len();
                slots.extend(run.into_iter().map(|letter| {
                    if placeholder {
                        Slot::Digit(letter)
                    } else {
                        Slot::Literal(letter)
                    }
                }));
            } else {
                slots.push(Slot::Literal(character));
                index += 1;
            }
        }
        Self {
            text: pattern.to_owned(),
            slots,
        }
    }

    /// The pattern as written in the config.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The incident id `id` is, when it has the pattern's form.
    pub fn incident_id(&self, id: &str) -> Option<IncidentId> {
        if !self.matches(id) {
            return None;
        }
        // Cannot fail for a parsed pattern; `None` (no match) is the answer if it ever did.
        IncidentId::parse(id).ok()
    }

    /// Whether `id` has the pattern's form.
    pub fn matches(&self, id: &str) -> bool {
        self.slots.len() == id.chars().count()
            && self
                .slots
                .iter()
                .zip(id.chars())
                .all(|(slot, character)| match *slot {
                    Slot::Digit(_) => character.is_ascii_digit(),
                    Slot::Literal(expected) => expected == character,
                })
    }

    /// An id of this pattern dated `now` (UTC): `INC-2026-05-20-001` for the default.
    pub fn example(&self, now: Timestamp) -> String {
        let date = jiff::tz::TimeZone::UTC.to_datetime(now).date();
        let mut example = String::with_capacity(self.text.len());
        let mut index = 0;
        while let Some(&slot) = self.slots.get(index) {
            let run = self.slots[index..]
                .iter()
                .take_while(|&&next| next == slot)
                .count();
            let value = match slot {
                Slot::Digit('Y') => i64::from(date.year()),
                Slot::Digit('M') => i64::from(date.month()),
                Slot::Digit('D') => i64::from(date.day()),
                Slot::Digit(_) => 1,
                Slot::Literal(character) => {
                    example.extend(std::iter::repeat_n(character, run));
                    index += run;
                    continue;
                }
            };
            let digits = format!("{value:0run$}");
            // A run shorter than the value keeps its last digits (`YY` gives `26`).
            example.push_str(&digits[digits.len().saturating_sub(run)..]);
            index += run;
        }
        example
    }

    /// The date `id` carries, when the pattern has year, month and day digits and `id` matches
    /// it. A two-digit year is read in this century.
    pub fn date(&self, id: &str) -> Option<IdDate> {
        if !self.matches(id) {
            return None;
        }
        let digits = |letter: char| -> Option<(i64, usize)> {
            let written: String = self
                .slots
                .iter()
                .zip(id.chars())
                .filter(|(slot, _)| **slot == Slot::Digit(letter))
                .map(|(_, character)| character)
                .collect();
            let value = written.parse::<i64>().ok()?;
            Some((value, written.len()))
        };
        let (year, year_digits) = digits('Y')?;
        let (month, _) = digits('M')?;
        let (day, _) = digits('D')?;
        let year = if year_digits <= 2 { 2000 + year } else { year };
        let date = i16::try_from(year).ok().and_then(|year| {
            let month = i8::try_from(month).ok()?;
            let day = i8::try_from(day).ok()?;
            jiff::civil::Date::new(year, month, day).ok()
        });
        Some(match date {
            Some(date) => IdDate::Valid(date),
            None => IdDate::Invalid { year, month, day },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emergency::test_support::{NOW, at};

    fn id(text: &str) -> IncidentId {
        IncidentId::parse(text).unwrap()
    }

    fn matches_id_pattern(pattern: &str, id: &str) -> bool {
        IdPattern::parse(pattern).unwrap().matches(id)
    }

    fn example_id(pattern: &str, now: Timestamp) -> String {
        IdPattern::parse(pattern).unwrap().example(now)
    }

    #[test]
    fn the_id_pattern_has_digit_placeholders_and_literals() {
        assert!(matches_id_pattern(
            "INC-YYYY-MM-DD-NNN",
            "INC-2026-05-20-001"
        ));
        assert!(!matches_id_pattern(
            "INC-YYYY-MM-DD-NNN",
            "INC-2026-05-20-01"
        ));
        assert!(!matches_id_pattern(
            "INC-YYYY-MM-DD-NNN",
            "INC-2026-05-20-0011"
        ));
        assert!(!matches_id_pattern(
            "INC-YYYY-MM-DD-NNN",
            "inc-2026-05-20-001"
        ));
        assert!(!matches_id_pattern(
            "INC-YYYY-MM-DD-NNN",
            "INC-2026-05-2x-001"
        ));
        assert!(!matches_id_pattern(
            "INC-YYYY-MM-DD-NNN",
            "INC.2026-05-20-001"
        ));
        // Not a regex: `.` is a literal, and so are letters in a word like `INC` or `SEV`.
        assert!(matches_id_pattern("SEV.N_", "SEV.7_"));
        assert!(!matches_id_pattern("SEV.N_", "SEVx7_"));
        assert!(!matches_id_pattern("SEV.N_", "5EV.7_"));
        assert!(matches_id_pattern("DNS-NN", "DNS-42"));
        assert!(!matches_id_pattern("DNS-NN", "123-42"));
        assert!(matches_id_pattern("YYYYMMDD-N", "20260520-1"));
        assert_eq!(
            example_id("INC-YYYY-MM-DD-NNN", at(NOW)),
            "INC-2026-05-20-001"
        );
        assert_eq!(example_id("OPS-YY-NNNN", at(NOW)), "OPS-26-0001");
        assert_eq!(IdPattern::default(), "INC-YYYY-MM-DD-NNN");
        assert_eq!(
            IdPattern::parse("INC-YYYY-MM-DD-NNN"),
            Ok(IdPattern::default())
        );
    }

    #[test]
    fn a_pattern_whose_ids_could_not_be_incident_ids_does_not_parse() {
        // A `*` or a space would be a literal of every id, and no incident id may have one.
        assert_eq!(
            IdPattern::parse("SEV.N*"),
            Err(IdPatternError::BadCharacter {
                pattern: "SEV.N*".to_owned(),
                character: '*'
            })
        );
        assert!(matches!(
            IdPattern::parse("INC $(NNN)"),
            Err(IdPatternError::BadCharacter { character: ' ', .. })
        ));
        assert_eq!(IdPattern::parse(""), Err(IdPatternError::Empty));
        assert_eq!(
            IdPattern::parse(&"N".repeat(65)),
            Err(IdPatternError::TooLong {
                pattern: "N".repeat(65),
                length: 65,
                max: 64
            })
        );
        assert!(IdPattern::parse(&"N".repeat(64)).is_ok());
        // Whatever matches a pattern that parsed is an incident id.
        let pattern = IdPattern::parse("OPS_YY.NNN").unwrap();
        assert_eq!(pattern.incident_id("OPS_26.042"), Some(id("OPS_26.042")));
        assert_eq!(pattern.incident_id("OPS_26.42"), None);
    }
}
