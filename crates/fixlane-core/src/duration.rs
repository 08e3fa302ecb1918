//! Durations as users write them in `fixlane.toml`: `90s`, `10m`, `24h`, `7d`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A whole number of seconds, written with one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Duration {
    seconds: u64,
}

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{value}` is not a duration: {why}; write a whole number and one unit, like `90s`, `10m`, `24h` or `7d`"
)]
pub struct DurationError {
    pub value: String,
    pub why: &'static str,
}

impl Duration {
    pub const fn from_seconds(seconds: u64) -> Self {
        Self { seconds }
    }

    pub const fn as_seconds(self) -> u64 {
        self.seconds
    }

    pub const fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.seconds)
    }

    /// Parses `90s`, `10m`, `24h`, `7d`.
    pub fn parse(value: &str) -> Result<Self, DurationError> {
        let error = |why| DurationError {
            value: value.to_owned(),
            why,
        };
        let trimmed = value.trim();
        let split = trimmed
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| error("the unit is missing"))?;
        let (number, unit) = trimmed.split_at(split);
        if number.is_empty() {
            return Err(error("the number is missing"));
        }
        let number: u64 = number
            .parse()
            .map_err(|_| error("the number is too large"))?;
        let multiplier = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(error("the unit must be one of s, m, h, d")),
        };
        let seconds = number
            .checked_mul(multiplier)
            .ok_or_else(|| error("the number is too large"))?;
        if seconds == 0 {
            return Err(error("a duration must be longer than zero"));
        }
        Ok(Self { seconds })
    }
}

impl FromStr for Duration {
    type Err = DurationError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl TryFrom<String> for Duration {
    type Error = DurationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Duration> for String {
    fn from(value: Duration) -> Self {
        value.to_string()
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.seconds;
        if seconds.is_multiple_of(86_400) {
            write!(formatter, "{}d", seconds / 86_400)
        } else if seconds.is_multiple_of(3_600) {
            write!(formatter, "{}h", seconds / 3_600)
        } else if seconds.is_multiple_of(60) {
            write!(formatter, "{}m", seconds / 60)
        } else {
            write!(formatter, "{seconds}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(Duration::parse("90s").unwrap().as_seconds(), 90);
        assert_eq!(Duration::parse("10m").unwrap().as_seconds(), 600);
        assert_eq!(Duration::parse("24h").unwrap().as_seconds(), 86_400);
        assert_eq!(Duration::parse("7d").unwrap().as_seconds(), 604_800);
    }

    #[test]
    fn refuses_malformed_values() {
        for bad in ["", "10", "m", "10w", "0s", "1.5h", "99999999999999999999d"] {
            assert!(Duration::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn displays_in_the_largest_whole_unit() {
        assert_eq!(Duration::parse("120s").unwrap().to_string(), "2m");
        assert_eq!(Duration::parse("90s").unwrap().to_string(), "90s");
        assert_eq!(Duration::parse("48h").unwrap().to_string(), "2d");
    }
}
