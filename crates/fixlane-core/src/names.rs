//! Newtypes for the names a user writes: gates, lanes, people and incident ids.
//!
//! Each is built only by `parse`, so code that holds one knows it is well formed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{kind} name is empty")]
    Empty { kind: &'static str },
    #[error(
        "{kind} name `{value}` has the character {character:?}; use letters, digits, `-`, `_` and `.`"
    )]
    BadCharacter {
        kind: &'static str,
        value: String,
        character: char,
    },
    #[error("{kind} name `{value}` is longer than {max} characters")]
    TooLong {
        kind: &'static str,
        value: String,
        max: usize,
    },
}

fn check_name(kind: &'static str, value: &str, max: usize) -> Result<(), NameError> {
    if value.is_empty() {
        return Err(NameError::Empty { kind });
    }
    if value.chars().count() > max {
        return Err(NameError::TooLong {
            kind,
            value: value.to_owned(),
            max,
        });
    }
    if let Some(character) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(NameError::BadCharacter {
            kind,
            value: value.to_owned(),
            character,
        });
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Builds the name, refusing empty, overlong or oddly spelled ones.
            pub fn parse(value: &str) -> Result<Self, NameError> {
                check_name($kind, value, $max)?;
                Ok(Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// The name of a gate, the key under `[gates.NAME]`.
    GateName,
    "gate",
    64
);
name_type!(
    /// The name of a lane: `normal`, or a key under `[lanes.NAME]`.
    LaneName,
    "lane",
    64
);
name_type!(
    /// The name of a person under `[people.NAME]`.
    PersonName,
    "person",
    64
);
name_type!(
    /// An incident id such as `INC-2026-05-20-001`.
    IncidentId,
    "incident",
    64
);

impl LaneName {
    /// The lane every run falls back to: all gates, no emergency.
    pub fn normal() -> Self {
        Self("normal".to_owned())
    }

    pub fn is_normal(&self) -> bool {
        self.0 == "normal"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_names() {
        assert_eq!(
            GateName::parse("scan-critical").unwrap().as_str(),
            "scan-critical"
        );
        assert_eq!(
            IncidentId::parse("INC-2026-05-20-001").unwrap().to_string(),
            "INC-2026-05-20-001"
        );
    }

    #[test]
    fn refuses_shell_metacharacters() {
        let error = IncidentId::parse("INC-1$(touch x)").unwrap_err();
        assert!(matches!(
            error,
            NameError::BadCharacter { character: '$', .. }
        ));
        assert!(GateName::parse("").is_err());
        assert!(GateName::parse(&"a".repeat(65)).is_err());
    }
}
