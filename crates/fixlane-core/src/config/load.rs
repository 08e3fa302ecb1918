//! Reading `fixlane.toml` into the model, collecting every error with its line and column.
//!
//! The file is parsed once into a spanned tree (the parser recovers from syntax errors), then
//! each section is walked by hand: a mistake is recorded where it was written and the walk goes
//! on, so `fixlane config check` can list every problem in one go.

mod canary;
mod emergency;
mod gates;
mod notify;
mod reader;
mod syntax;
mod windows;

#[cfg(test)]
mod canary_profile_tests;
#[cfg(test)]
mod id_pattern_tests;
#[cfg(test)]
mod notify_tests;
#[cfg(test)]
mod span_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use indexmap::IndexMap;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::config::model::{self, Config, Person, Project};
use crate::names::PersonName;
use reader::{Reader, Value};

/// One problem in the config, located.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigError {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Byte range in the source, for rendering with the source text.
    pub span: std::ops::Range<usize>,
    /// What was expected, in a few words.
    pub expected: String,
    /// What was found instead.
    pub found: String,
    /// What to do, e.g. a "did you mean".
    pub help: Option<String>,
}

impl fmt::Display for ConfigError {
    /// `file:line:column: expected …, found …` and, on the next line, the help.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}:{}:{}: expected {}, found {}",
            self.file, self.line, self.column, self.expected, self.found
        )?;
        if let Some(help) = &self.help {
            write!(formatter, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// All the problems of one file, in source order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} has {} error(s)", file, errors.len())]
pub struct ConfigErrors {
    pub file: String,
    pub source_text: String,
    pub errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// Every error as plain text, one block per error, for terminals without a fancy renderer.
    pub fn render_plain(&self) -> String {
        let mut text = String::new();
        for error in &self.errors {
            text.push_str(&error.to_string());
            text.push('\n');
        }
        text
    }
}

const SECTIONS: [&str; 9] = [
    "project",
    "people",
    "gates",
    "lanes",
    "emergency",
    "windows",
    "deploy",
    "canary",
    "notify",
];

/// The largest config fixlane reads. A hand-written `fixlane.toml` is a few kilobytes; anything
/// near this is a wrong file or generated data, and reading it whole would only slow every run.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// The refusal of a config of `bytes` bytes, when that is over [`MAX_CONFIG_BYTES`]; `None`
/// when the size is fine.
///
/// Callers that can see a file's size before reading it (the CLI) ask this first, so a huge
/// file is never read; [`parse`] asks it too.
pub fn oversize(file: &str, bytes: u64) -> Option<ConfigError> {
    let limit = MAX_CONFIG_BYTES as u64;
    if bytes <= limit {
        return None;
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "one decimal of mebibytes is all a person reads"
    )]
    let mebibytes = bytes as f64 / limit as f64;
    Some(ConfigError {
        file: file.to_owned(),
        line: 1,
        column: 1,
        span: 0..0,
        expected: format!("a config of at most 1 MiB ({limit} bytes)"),
        found: format!("{mebibytes:.1} MiB ({bytes} bytes)"),
        help: Some(
            "a hand-written config is a few kilobytes: check that this is the right file \
             (or pass --config FILE), and keep generated data out of it"
                .to_owned(),
        ),
    })
}

/// Parses and validates a whole config.
pub fn parse(source: &str, file: &str) -> Result<Config, ConfigErrors> {
    if let Some(error) = oversize(file, source.len() as u64) {
        return Err(ConfigErrors {
            file: file.to_owned(),
            // The text is not kept: nothing in it is shown, and it is over a mebibyte.
            source_text: String::new(),
            errors: vec![error],
        });
    }
    let mut reader = Reader::new(file, source);
    let (document, syntax_errors) = DeTable::parse_recoverable(source);
    let syntax_lines = syntax::report(&mut reader, source, &syntax_errors);
    let syntax_count = reader.errors.len();

    let root = Spanned::new(document.span(), DeValue::Table(document.into_inner()));
    let config = read_config(&mut reader, &root, file);

    let mut errors = reader.errors;
    // After a syntax error the recovered tree holds guesses; a complaint about a guessed value
    // on the same line would only repeat the syntax error in other words.
    let semantic = errors.split_off(syntax_count);
    errors.extend(
        semantic
            .into_iter()
            .filter(|error| !syntax_lines.contains(&error.line)),
    );
    errors.sort_by(|left, right| {
        (left.span.start, left.span.end).cmp(&(right.span.start, right.span.end))
    });
    errors.dedup();
    match config {
        Some(config) if errors.is_empty() => Ok(config),
        _ => Err(ConfigErrors {
            file: file.to_owned(),
            source_text: source.to_owned(),
            errors: if errors.is_empty() {
                // Cannot happen (every failed read records an error), but an empty error list
                // must never be mistaken for success.
                vec![ConfigError {
                    file: file.to_owned(),
                    line: 1,
                    column: 1,
                    span: 0..0,
                    expected: "a valid config".to_owned(),
                    found: "an incomplete one".to_owned(),
                    help: None,
                }]
            } else {
                errors
            },
        }),
    }
}

fn read_config(reader: &mut Reader<'_>, root: &Value<'_>, file: &str) -> Option<Config> {
    let fields = reader.table(root, "", &SECTIONS)?;
    let project = if let Some(value) = fields.get("project") {
        read_project(reader, value)
    } else {
        reader.error(
            0..0,
            "a `[project]` section with `name`",
            "no `[project]` section",
            Some("add `[project]` and `name = \"…\"` at the top of the file".to_owned()),
        );
        None
    };
    let people = fields
        .get("people")
        .map_or_else(|| Some(IndexMap::new()), |value| read_people(reader, value));
    let lanes = fields.get("lanes").map_or_else(
        || Some(IndexMap::new()),
        |value| gates::read_lanes(reader, value),
    );
    let empty_lanes = IndexMap::new();
    let gates = fields.get("gates").map_or_else(
        || Some(IndexMap::new()),
        |value| gates::read_gates(reader, value, lanes.as_ref().unwrap_or(&empty_lanes)),
    );
    let canary = match fields.get("canary") {
        Some(value) => canary::read_canary(reader, value).map(Some),
        None => Some(None),
    };
    let emergency = emergency::read_emergency(
        reader,
        fields.get("emergency"),
        &emergency::CanarySection {
            canary: canary.as_ref().and_then(Option::as_ref),
            value: fields.get("canary"),
        },
        lanes
            .as_ref()
            .and_then(|lanes| lanes.values().find(|lane| lane.emergency)),
    );
    let windows = match fields.get("windows") {
        Some(value) => windows::read_windows(reader, value).map(Some),
        None => Some(None),
    };
    let deploy = match fields.get("deploy") {
        Some(value) => canary::read_deploy(reader, value).map(Some),
        None => Some(None),
    };
    let notify = match fields.get("notify") {
        Some(value) => notify::read_notify(reader, value),
        None => Some(model::Notify::default()),
    };
    Some(Config {
        file: file.to_owned(),
        project: project?,
        people: people?,
        gates: gates?,
        lanes: lanes?,
        emergency: emergency?,
        windows: windows?,
        deploy: deploy?,
        canary: canary?,
        notify: notify?,
    })
}

fn read_project(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Project> {
    let fields = reader.table(value, "project", &["name", "global_inputs"])?;
    let name = fields
        .require(reader, "name", "the project's name")
        .and_then(|name| reader.text(name, "project.name"));
    // Read even when the name is missing, so both mistakes are listed at once.
    let global_inputs = match fields.get("global_inputs") {
        Some(value) => gates::read_inputs(reader, value, "project.global_inputs"),
        None => Some(Vec::new()),
    };
    Some(Project {
        name: name?,
        global_inputs: global_inputs?,
    })
}

fn read_people(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<IndexMap<PersonName, Person>> {
    let entries = reader.entries(value, "people")?;
    let mut people = IndexMap::new();
    let mut complete = true;
    for entry in entries {
        let path = format!("people.{}", entry.key);
        let name = match PersonName::parse(entry.key) {
            Ok(name) => Some(name),
            Err(error) => {
                reader.error(
                    entry.key_span.clone(),
                    "a person's name (letters, digits, `-`, `_`, `.`)",
                    format!("`{}`", entry.key),
                    Some(error.to_string()),
                );
                None
            }
        };
        let person = read_person(reader, entry.value, &path);
        match (name, person) {
            (Some(name), Some(person)) => {
                people.insert(name, person);
            }
            _ => complete = false,
        }
    }
    complete.then_some(people)
}

fn read_person(reader: &mut Reader<'_>, value: &Value<'_>, path: &str) -> Option<Person> {
    let fields = reader.table(value, path, &["roles", "email"])?;
    let roles = fields
        .require(
            reader,
            "roles",
            "the roles this person holds, e.g. [\"sre-lead\"]",
        )
        .and_then(|roles| reader.strings(roles, &fields.path("roles")))
        .map(|roles| roles.into_iter().map(Spanned::into_inner).collect());
    let email = match fields.get("email") {
        Some(value) => match reader.text(value, &fields.path("email")) {
            Some(email) if email.contains('@') => Some(Some(email)),
            Some(email) => {
                reader.error(
                    value.span(),
                    format!("an email address for `{}`", fields.path("email")),
                    format!("`{email}`"),
                    None,
                );
                None
            }
            None => None,
        },
        None => Some(None),
    };
    Some(Person {
        roles: roles?,
        email: email?,
    })
}
