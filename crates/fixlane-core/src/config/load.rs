//! Reading `fixlane.toml` into the model, collecting every error with its line and column.

use crate::config::model::Config;

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

/// All the problems of one file, in source order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} has {} error(s)", file, errors.len())]
pub struct ConfigErrors {
    pub file: String,
    pub source_text: String,
    pub errors: Vec<ConfigError>,
}

/// Parses and validates a whole config.
pub fn parse(source: &str, file: &str) -> Result<Config, ConfigErrors> {
    let _ = source;
    Err(ConfigErrors {
        file: file.to_owned(),
        source_text: source.to_owned(),
        errors: Vec::new(),
    })
}
