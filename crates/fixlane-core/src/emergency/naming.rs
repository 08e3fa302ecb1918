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

/// The pattern's characters, each marked as a digit placeholder or a literal. A run of letters
/// made only of `Y`, `M`, `D` and `N` is placeholders; any other letter makes its whole run
/// literal, so the `N` of `INC` stands for itself while `NNN` stands for three digits.
fn pattern_characters(pattern: &str) -> Vec<(char, bool)> {
    let characters: Vec<char> = pattern.chars().collect();
    let mut marked = Vec::with_capacity(characters.len());
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
            marked.extend(run.into_iter().map(|letter| (letter, placeholder)));
        } else {
            marked.push((character, false));
            index += 1;
        }
    }
    marked
}

/// Whether `id` matches `pattern` (not a regex): in a run of letters made only of `Y`, `M`, `D`
/// and `N`, each letter stands for one digit; every other character stands for itself.
pub fn matches_id_pattern(pattern: &str, id: &str) -> bool {
    let marked = pattern_characters(pattern);
    marked.len() == id.chars().count()
        && marked
            .iter()
            .zip(id.chars())
            .all(|(&(expected, placeholder), character)| {
                if placeholder {
                    character.is_ascii_digit()
                } else {
                    expected == character
                }
            })
}

/// An id that matches `pattern`, dated `now` (UTC): `INC-2026-05-20-001` for the default.
pub fn example_id(pattern: &str, now: Timestamp) -> String {
    let date = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let marked = pattern_characters(pattern);
    let mut example = String::with_capacity(pattern.len());
    let mut index = 0;
    while let Some(&(character, placeholder)) = marked.get(index) {
        let run = marked[index..]
            .iter()
            .take_while(|&&next| next == (character, placeholder))
            .count();
        let value = match (placeholder, character) {
            (true, 'Y') => Some(i64::from(date.year())),
            (true, 'M') => Some(i64::from(date.month())),
            (true, 'D') => Some(i64::from(date.day())),
            (true, _) => Some(1),
            (false, _) => None,
        };
        match value {
            Some(number) => {
                let digits = format!("{number:0run$}");
                // A run shorter than the value keeps its last digits (`YY` gives `26`).
                example.push_str(&digits[digits.len().saturating_sub(run)..]);
            }
            None => example.extend(std::iter::repeat_n(character, run)),
        }
        index += run;
    }
    example
}
