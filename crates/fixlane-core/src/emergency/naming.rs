//! Incident ids and hotfix branch names: the team's id pattern (digit placeholders, not a
//! regex), an example id for refusals, and the branch a declaration works on.

use jiff::Timestamp;

use crate::names::IncidentId;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPattern {
    text: String,
    slots: Vec<Slot>,
}

/// The date an id carries, as its digits read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdDate {
    /// A calendar date.
    Valid(jiff::civil::Date),
    /// Digits that name no day, such as month 13, as `YYYY-MM-DD`.
    Invalid { year: i64, month: i64, day: i64 },
}

impl IdPattern {
    pub fn parse(pattern: &str) -> Self {
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

/// Whether `id` matches `pattern`; see [`IdPattern`].
pub fn matches_id_pattern(pattern: &str, id: &str) -> bool {
    IdPattern::parse(pattern).matches(id)
}

/// An id that matches `pattern`, dated `now` (UTC); see [`IdPattern::example`].
pub fn example_id(pattern: &str, now: Timestamp) -> String {
    IdPattern::parse(pattern).example(now)
}
