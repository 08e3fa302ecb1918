//! The primitives the loader walks a spanned TOML tree with: typed reads that record a located
//! error instead of stopping, so one pass over the file finds every mistake.

use std::ops::Range;

use toml::Spanned;
use toml::de::DeValue;

use super::ConfigError;
use crate::config::model::SourceLine;
use crate::duration::Duration;

pub(super) type Value<'i> = Spanned<DeValue<'i>>;
pub(super) type Span = Range<usize>;

/// Collects errors against one source text.
pub(super) struct Reader<'s> {
    file: &'s str,
    source: &'s str,
    line_starts: Vec<usize>,
    pub(super) errors: Vec<ConfigError>,
}

/// One entry of a table whose keys the user chooses (gate names, lane names, …).
pub(super) struct Entry<'t, 'i> {
    pub(super) key: &'t str,
    pub(super) key_span: Span,
    pub(super) value: &'t Value<'i>,
}

/// The known keys of a table whose unknown keys were already reported.
pub(super) struct Fields<'t, 'i> {
    path: String,
    /// Where a missing key is reported: the table's header or inline braces.
    at: Span,
    entries: Vec<Entry<'t, 'i>>,
}

// Shared with the emergency refusals, so both suggest the same way.
pub(super) use crate::suggest::did_you_mean;

/// `a`, `b` or `c`, for messages listing choices.
pub(super) fn choices(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    match quoted.as_slice() {
        [] => "nothing".to_owned(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The first line of `text`, cut to a few words, for quoting what was written in a message.
pub(super) fn shorten(text: &str) -> String {
    const LIMIT: usize = 40;
    let single_line = text.lines().next().unwrap_or_default();
    if single_line.chars().count() > LIMIT || single_line.len() < text.len() {
        let cut: String = single_line.chars().take(LIMIT).collect();
        format!("{cut}…")
    } else {
        single_line.to_owned()
    }
}

/// `text` cut to `limit` characters. Messages quote what was written (a key, a value, a path of
/// keys), and one line of a config can be any length; an error must stay readable.
fn bounded(text: String, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text;
    }
    let mut cut: String = text.chars().take(limit).collect();
    cut.push('…');
    // Keep a quoted value looking quoted.
    if text.ends_with('`') {
        cut.push('`');
    }
    cut
}

impl<'s> Reader<'s> {
    pub(super) fn new(file: &'s str, source: &'s str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        Self {
            file,
            source,
            line_starts,
            errors: Vec::new(),
        }
    }

    /// 1-based line and character column of a byte offset.
    pub(super) fn position(&self, offset: usize) -> SourceLine {
        let offset = offset.min(self.source.len());
        let line_index = self
            .line_starts
            .partition_point(|start| *start <= offset)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let column = self
            .source
            .get(line_start..offset)
            .map_or(offset - line_start, |text| text.chars().count());
        SourceLine {
            line: line_index + 1,
            column: column + 1,
        }
    }

    pub(super) fn error(
        &mut self,
        span: Span,
        expected: impl Into<String>,
        found: impl Into<String>,
        help: Option<String>,
    ) {
        let position = self.position(span.start);
        self.errors.push(ConfigError {
            file: self.file.to_owned(),
            line: position.line,
            column: position.column,
            span,
            expected: bounded(expected.into(), 300),
            found: bounded(found.into(), 160),
            help: help.map(|help| bounded(help, 600)),
        });
    }

    /// What a value is, for "found …": its type and its text as written.
    pub(super) fn describe(&self, value: &Value<'_>) -> String {
        let written = self
            .source
            .get(value.span())
            .map(shorten)
            .unwrap_or_default();
        match value.get_ref() {
            DeValue::Table(_) => "a table".to_owned(),
            DeValue::Array(_) => "an array".to_owned(),
            other if written.is_empty() => other.type_str().to_owned(),
            other => format!("{} `{written}`", other.type_str()),
        }
    }

    fn wrong_type(&mut self, value: &Value<'_>, expected: &str, path: &str) {
        let found = self.describe(value);
        self.error(
            value.span(),
            format!("{expected} for `{path}`"),
            found,
            None,
        );
    }

    /// A table with a fixed set of keys; the others are reported, with a close match if any.
    pub(super) fn table<'t, 'i>(
        &mut self,
        value: &'t Value<'i>,
        path: &str,
        known: &[&str],
    ) -> Option<Fields<'t, 'i>> {
        let entries = self.entries(value, path)?;
        let mut kept = Vec::with_capacity(entries.len());
        for entry in entries {
            if known.contains(&entry.key) {
                kept.push(entry);
            } else {
                let help = did_you_mean(entry.key, known.iter().copied()).unwrap_or_else(|| {
                    if path.is_empty() {
                        format!("remove it; the top-level keys are {}", choices(known))
                    } else {
                        format!("remove it; the keys of `{path}` are {}", choices(known))
                    }
                });
                let path_display = if path.is_empty() {
                    "the top level".to_owned()
                } else {
                    format!("`{path}`")
                };
                self.error(
                    entry.key_span.clone(),
                    format!("a known key in {path_display}"),
                    format!("unknown key `{}`", entry.key),
                    Some(help),
                );
            }
        }
        Some(Fields {
            path: path.to_owned(),
            at: value.span(),
            entries: kept,
        })
    }

    /// A table whose keys are names the user chooses, in the order they were written.
    pub(super) fn entries<'t, 'i>(
        &mut self,
        value: &'t Value<'i>,
        path: &str,
    ) -> Option<Vec<Entry<'t, 'i>>> {
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(value, "a table", path);
            return None;
        };
        let mut entries: Vec<Entry<'t, 'i>> = table
            .iter()
            .map(|(key, value)| Entry {
                key: key.get_ref().as_ref(),
                key_span: key.span(),
                value,
            })
            .collect();
        // The parser's map may be sorted by name; users expect the order they wrote.
        entries.sort_by_key(|entry| entry.key_span.start);
        Some(entries)
    }

    pub(super) fn string(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        if let DeValue::String(text) = value.get_ref() {
            Some(text.to_string())
        } else {
            self.wrong_type(value, "a string", path);
            None
        }
    }

    /// A string with something in it other than spaces.
    pub(super) fn text(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        let text = self.string(value, path)?;
        if text.trim().is_empty() {
            self.error(
                value.span(),
                format!("a non-empty string for `{path}`"),
                "an empty string",
                None,
            );
            return None;
        }
        Some(text)
    }

    pub(super) fn boolean(&mut self, value: &Value<'_>, path: &str) -> Option<bool> {
        if let DeValue::Boolean(flag) = value.get_ref() {
            Some(*flag)
        } else {
            self.wrong_type(value, "`true` or `false`", path);
            None
        }
    }

    pub(super) fn integer(&mut self, value: &Value<'_>, path: &str) -> Option<i64> {
        if let DeValue::Integer(integer) = value.get_ref()
            && let Ok(number) = i64::from_str_radix(integer.as_str(), integer.radix())
        {
            return Some(number);
        }
        self.wrong_type(value, "an integer", path);
        None
    }

    /// An integer in `minimum..=maximum`, converted to the model's type.
    pub(super) fn integer_in<T: TryFrom<i64>>(
        &mut self,
        value: &Value<'_>,
        path: &str,
        minimum: i64,
        maximum: i64,
    ) -> Option<T> {
        let number = self.integer(value, path)?;
        if (minimum..=maximum).contains(&number)
            && let Ok(converted) = T::try_from(number)
        {
            return Some(converted);
        }
        let expected = if maximum >= i64::from(u32::MAX) {
            format!("an integer of at least {minimum} for `{path}`")
        } else {
            format!("an integer from {minimum} to {maximum} for `{path}`")
        };
        self.error(value.span(), expected, number.to_string(), None);
        None
    }

    /// A float or an integer.
    pub(super) fn number(&mut self, value: &Value<'_>, path: &str) -> Option<f64> {
        let parsed = match value.get_ref() {
            DeValue::Float(float) => float.as_str().parse::<f64>().ok(),
            #[expect(
                clippy::cast_precision_loss,
                reason = "thresholds are far below 2^52, where f64 holds every integer exactly"
            )]
            DeValue::Integer(integer) => i64::from_str_radix(integer.as_str(), integer.radix())
                .ok()
                .map(|number| number as f64),
            _ => None,
        };
        match parsed {
            Some(number) if number.is_finite() => Some(number),
            _ => {
                self.wrong_type(value, "a finite number", path);
                None
            }
        }
    }

    pub(super) fn duration(&mut self, value: &Value<'_>, path: &str) -> Option<Duration> {
        let text = self.string(value, path)?;
        match Duration::parse(&text) {
            Ok(duration) => Some(duration),
            Err(error) => {
                self.error(
                    value.span(),
                    format!("a duration like `90s`, `10m`, `24h` or `7d` for `{path}`"),
                    format!("`{text}` ({})", error.why),
                    Some("write a whole number and one unit: s, m, h or d".to_owned()),
                );
                None
            }
        }
    }

    pub(super) fn array<'t, 'i>(
        &mut self,
        value: &'t Value<'i>,
        path: &str,
    ) -> Option<&'t [Value<'i>]> {
        if let DeValue::Array(array) = value.get_ref() {
            Some(array)
        } else {
            self.wrong_type(value, "an array", path);
            None
        }
    }

    /// An array of strings, each kept with its span for later checks.
    pub(super) fn strings(
        &mut self,
        value: &Value<'_>,
        path: &str,
    ) -> Option<Vec<Spanned<String>>> {
        let items = self.array(value, path)?;
        let mut strings = Vec::with_capacity(items.len());
        let mut complete = true;
        for item in items {
            match self.text(item, path) {
                Some(text) => strings.push(Spanned::new(item.span(), text)),
                None => complete = false,
            }
        }
        complete.then_some(strings)
    }

    /// One of a fixed set of words; returns its index in `options`.
    pub(super) fn one_of(
        &mut self,
        value: &Value<'_>,
        path: &str,
        options: &[&str],
    ) -> Option<usize> {
        let text = self.string(value, path)?;
        if let Some(index) = options.iter().position(|option| *option == text) {
            return Some(index);
        }
        let help = did_you_mean(&text, options.iter().copied());
        self.error(
            value.span(),
            format!("{} for `{path}`", choices(options)),
            format!("`{text}`"),
            help,
        );
        None
    }
}

impl<'t, 'i> Fields<'t, 'i> {
    pub(super) fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries
            .iter()
            .find(|entry| entry.key == key)
            .map(|entry| entry.value)
    }

    pub(super) fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|entry| entry.key == key)
            .map(|entry| entry.key_span.clone())
    }

    /// The dotted path of one of this table's keys, for messages.
    pub(super) fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Where this table was written.
    pub(super) fn span(&self) -> Span {
        self.at.clone()
    }

    /// A key that must be present; its absence is reported at the table.
    pub(super) fn require(
        &self,
        reader: &mut Reader<'_>,
        key: &str,
        what: &str,
    ) -> Option<&'t Value<'i>> {
        let value = self.get(key);
        if value.is_none() {
            let table = if self.path.is_empty() {
                "the file".to_owned()
            } else {
                format!("`{}`", self.path)
            };
            reader.error(
                self.at.clone(),
                format!("`{key}` ({what}) in {table}"),
                format!("no `{key}`"),
                Some(format!("add `{key} = …` to {table}")),
            );
        }
        value
    }
}
