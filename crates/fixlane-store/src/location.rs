//! `StoreLocation`: where the store is, parsed once from `--db`/`FIXLANE_DB`, and shown only with
//! its passwords hidden.
//!
//! A `PostgreSQL` URL may carry a password (`postgres://user:PASSWORD@host/db` or
//! `?password=PASSWORD`). The raw text is kept private here and every way of showing a location
//! (`Display`, `Debug`, the errors that name it) goes through [`redact`], so no message, log line
//! or JSON can print the password by accident.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::error::StoreError;

/// What stands in for a hidden password.
const HIDDEN: &str = "***";

/// Where a store lives: a `SQLite` file or a `PostgreSQL` database.
///
/// `Display` and `Debug` never show a password; the connection details stay inside the crate.
#[derive(Clone)]
pub struct StoreLocation(Kind);

#[derive(Clone)]
enum Kind {
    Sqlite(PathBuf),
    Postgres {
        /// The parsed connection options (they hold the password: never shown).
        options: Box<PgConnectOptions>,
        /// The URL as shown, its passwords replaced.
        shown: String,
        /// Every password the URL carries, raw and percent-decoded, to scrub driver messages.
        secrets: Vec<String>,
    },
}

impl StoreLocation {
    /// Understands `postgres://…` or `postgresql://…` as a `PostgreSQL` database, and
    /// `sqlite://PATH`, `sqlite:PATH` or a plain filesystem path as a `SQLite` file.
    pub fn parse(location: &str) -> Result<Self, StoreError> {
        let trimmed = location.trim();
        let bad = |reason: String| StoreError::BadLocation {
            location: redact(location),
            reason,
        };
        if trimmed.is_empty() {
            return Err(bad("the location is empty".to_owned()));
        }
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            let secrets = secrets(trimmed);
            let options = PgConnectOptions::from_str(trimmed)
                .map_err(|source| bad(scrub(&secrets, &source.to_string())))?;
            return Ok(Self(Kind::Postgres {
                options: Box::new(options),
                shown: redact(trimmed),
                secrets,
            }));
        }
        let path = trimmed
            .strip_prefix("sqlite://")
            .or_else(|| trimmed.strip_prefix("sqlite:"))
            .unwrap_or(trimmed);
        if path.is_empty() || path.starts_with(":memory:") {
            return Err(bad("a SQLite store needs a file path".to_owned()));
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(bad(format!("`{scheme}://` is not a supported database")));
        }
        Ok(Self::sqlite(path))
    }

    /// A `SQLite` file at `path`.
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        Self(Kind::Sqlite(path.into()))
    }

    /// `"sqlite"` or `"postgres"`, for messages.
    pub fn kind(&self) -> &'static str {
        match &self.0 {
            Kind::Sqlite(_) => "sqlite",
            Kind::Postgres { .. } => "postgres",
        }
    }

    /// The file of a `SQLite` store.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.0 {
            Kind::Sqlite(path) => Some(path),
            Kind::Postgres { .. } => None,
        }
    }

    /// The connection options of a `PostgreSQL` store.
    pub(crate) fn postgres_options(&self) -> Option<&PgConnectOptions> {
        match &self.0 {
            Kind::Postgres { options, .. } => Some(options),
            Kind::Sqlite(_) => None,
        }
    }

    /// `text` (a driver's message) with every password of this location hidden, in case the
    /// driver ever echoes one.
    pub(crate) fn scrub(&self, text: &str) -> String {
        match &self.0 {
            Kind::Postgres { secrets, .. } => scrub(secrets, text),
            Kind::Sqlite(_) => text.to_owned(),
        }
    }
}

impl FromStr for StoreLocation {
    type Err = StoreError;

    fn from_str(location: &str) -> Result<Self, StoreError> {
        Self::parse(location)
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Sqlite(path) => write!(formatter, "{}", path.display()),
            Kind::Postgres { shown, .. } => formatter.write_str(shown),
        }
    }
}

/// The same text as `Display`: a derived `Debug` would print the connection options, password
/// included.
impl fmt::Debug for StoreLocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("StoreLocation")
            .field(&self.to_string())
            .finish()
    }
}

/// A database URL with its passwords hidden: the one in the user part (`user:***@host`) and any
/// query parameter whose name contains `password` (`?password=***`).
///
/// Text that the driver would not read the way its author meant is hidden more widely: when it
/// is not a URL, or an `@` comes after the host (a password with an unescaped `/`, `?` or `#`),
/// everything between `://` and the last `@` but the user name is hidden.
pub fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return redact_query(text);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at_after_authority = rest.rfind('@').is_some_and(|at| at > authority_end);
    if !at_after_authority && let Ok(mut url) = sqlx_url(text) {
        if url.password().is_some() {
            // Cannot fail: a URL with a password has a host.
            let _ = url.set_password(Some(HIDDEN));
        }
        if url.query_pairs().any(|(key, _)| is_password_key(&key)) {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(key, value)| {
                    let value = if is_password_key(&key) {
                        HIDDEN.to_owned()
                    } else {
                        value.into_owned()
                    };
                    (key.into_owned(), value)
                })
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        return url.to_string();
    }
    let rest = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{HIDDEN}@{host}"),
            None => rest.to_owned(),
        },
        None => rest.to_owned(),
    };
    redact_query(&format!("{scheme}://{rest}"))
}

/// Hides the values of `password`-like parameters in `…?key=value&…` text that is not a URL.
fn redact_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (index, part) in text.split_inclusive(['?', '&', ';']).enumerate() {
        match part.split_once('=') {
            Some((key, _)) if index > 0 && is_password_key(&percent_decode(key)) => {
                out.push_str(key);
                out.push('=');
                out.push_str(HIDDEN);
                if let Some(separator) = part.chars().last().filter(|c| "?&;".contains(*c)) {
                    out.push(separator);
                }
            }
            _ => out.push_str(part),
        }
    }
    out
}

/// `password`, `sslpassword` and the like, in any case.
fn is_password_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("password")
}

/// Every password in a URL, as written and percent-decoded, for [`scrub`].
fn secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(url) = sqlx_url(text) {
        if let Some(password) = url.password() {
            found.push(password.to_owned());
            found.push(percent_decode(password));
        }
        for (key, value) in url.query_pairs() {
            if is_password_key(&key) {
                found.push(value.into_owned());
            }
        }
    }
    found.retain(|secret| !secret.is_empty());
    found.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    found.dedup();
    found
}

fn scrub(secrets: &[String], text: &str) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret.as_str(), HIDDEN)
    })
}

/// The URL parser the `PostgreSQL` driver reads `postgres://` URLs with.
fn sqlx_url(text: &str) -> Result<url::Url, url::ParseError> {
    url::Url::parse(text.trim())
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| text.to_owned(), |(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_the_user_part_are_hidden() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db?sslmode=disable"),
            "postgres://u:***@h:5432/db?sslmode=disable"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            redact("postgresql://u:p%40ss@h/db"),
            "postgresql://u:***@h/db"
        );
    }

    #[test]
    fn password_parameters_are_hidden() {
        assert_eq!(
            redact("postgres://u@h/db?sslmode=disable&password=hunter2"),
            "postgres://u@h/db?sslmode=disable&password=***"
        );
        assert_eq!(
            redact("postgres://h/db?PassWord=hunter2&user=u"),
            "postgres://h/db?PassWord=***&user=u"
        );
        assert_eq!(
            redact("postgres://h/db?sslpassword=hunter2"),
            "postgres://h/db?sslpassword=***"
        );
        // An escaped key is still the driver's `password`.
        assert!(!redact("postgres://h/db?pass%77ord=hunter2").contains("hunter2"));
    }

    #[test]
    fn text_that_is_not_a_url_is_hidden_widely() {
        for text in [
            "postgres://u:123?ter2@h/db",
            "postgres://u:p@s/hunter2@h/db",
            "postgres://u:hun/ter2@h/db",
            "postgres://u:hun?ter2@h/db",
            "postgres://u:hun#ter2@h/db",
            "postgres://u:hunter2@h:notaport/db",
            "postgres://u:hun ter2@h/db",
            "mysql://u:hunter2@h/db",
            "postgres://h:x/db?password=hunter2",
            "postgres://h:x/db?a=b&pass%77ord=hunter2",
        ] {
            let shown = redact(text);
            assert!(!shown.contains("hunter2"), "{text} → {shown}");
            assert!(!shown.contains("ter2"), "{text} → {shown}");
        }
        assert_eq!(redact("mysql://u:pw@h/db"), "mysql://u:***@h/db");
    }

    #[test]
    fn a_location_never_shows_its_password() {
        for text in [
            "postgres://postgres:hunter2@127.0.0.1:5432/no_such_db",
            "postgres://postgres@127.0.0.1:5432/db?password=hunter2",
        ] {
            let location = StoreLocation::parse(text).unwrap();
            assert_eq!(location.kind(), "postgres");
            assert!(!location.to_string().contains("hunter2"), "{location}");
            assert!(!format!("{location:?}").contains("hunter2"), "{location:?}");
            assert!(!format!("{location:#?}").contains("hunter2"));
            assert_eq!(
                location.scrub("the server said hunter2"),
                "the server said ***"
            );
        }
        let error = StoreLocation::parse("postgres://u:hunter2@h:notaport/db").unwrap_err();
        assert!(matches!(error, StoreError::BadLocation { .. }), "{error}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
    }

    #[test]
    fn file_locations_are_understood() {
        for (text, path) in [
            ("sqlite:///tmp/a.db", "/tmp/a.db"),
            ("sqlite:a.db", "a.db"),
            (" /tmp/b.db ", "/tmp/b.db"),
        ] {
            let location = StoreLocation::parse(text).unwrap();
            assert_eq!(location.sqlite_path(), Some(Path::new(path)));
            assert_eq!(location.to_string(), path);
        }
        for bad in ["", "  ", "sqlite::memory:", "sqlite:", "mysql://u:pw@h/db"] {
            let error = StoreLocation::parse(bad).unwrap_err();
            assert!(matches!(error, StoreError::BadLocation { .. }), "{error}");
            assert!(!error.to_string().contains("pw@"), "{error}");
        }
    }
}
