//! The documented exit codes, and the error type that carries one to `main`.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success; verdict `green` or `ready` |
//! | 1    | verdict `blocked`, or a check that failed (e.g. `audit verify`) |
//! | 2    | the command could not do its job: bad config, bad arguments, store or git error |
//! | 3    | verdict `waiting` |
//! | 130  | interrupted (Ctrl-C) |

pub const SUCCESS: i32 = 0;
pub const FAILED: i32 = 1;
pub const ERROR: i32 = 2;
pub const INTERRUPTED: i32 = 130;

/// A command's outcome when it did not succeed: what to print and which code to exit with.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub error: anyhow::Error,
}

impl Failure {
    /// The command could not do its job (exit 2).
    pub fn error(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ERROR,
            error: error.into(),
        }
    }

    /// A check failed (exit 1).
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: FAILED,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::error(error)
    }
}

pub type CommandResult = Result<i32, Failure>;
