//! Every exit code `fixlane` ends with, in one table, and the error type that carries one to
//! `main`.
//!
//! The codes are the binary's contract with scripts and CI: each is stable once published, and a
//! new meaning gets a new number. They live here, not in `fixlane-core`, because a process exit
//! status belongs to the binary: the core and the coming server speak in verdicts and outcomes,
//! and this table maps those to numbers (see [`ExitCode::for_verdict`] and
//! [`ExitCode::for_canary`]).
//!
//! | code | name               | meaning |
//! |------|--------------------|---------|
//! | 0    | `Success`          | done; verdict `green` or `ready`; a canary promoted |
//! | 1    | `Failed`           | verdict `blocked`; a refusal (a rule said no, and what to do instead); a check that failed (`audit verify` on a broken chain, `verify` outside its bounds, a canary whose rollback path was not ready, so no weight was set) |
//! | 2    | `Error`            | the command could not do its job for any other reason: bad arguments, a git error, a record that cannot be read |
//! | 3    | `Waiting`          | verdict `waiting`: a critical or required gate is still queued or running |
//! | 4    | `RolledBack`       | a canary was rolled back |
//! | 5    | `ConfigInvalid`    | the config could not be read, is too big, or is not valid |
//! | 6    | `StoreUnavailable` | the store could not be opened, reached or written: a location that cannot be understood, a missing or unreadable file, a server that does not answer or refuses the login, a schema from another fixlane, a query the database refused |
//! | 130  | `Interrupted`      | interrupted by Ctrl-C (128 + SIGINT) |
//! | 141  | `ClosedPipe`       | the reader closed the output early, as in `fixlane audit log \| head` (128 + SIGPIPE) |
//!
//! Clap's own usage errors exit 2 as well, before any of this runs.

use fixlane_core::Verdict;
use fixlane_core::canary::CanaryOutcome;
use fixlane_store::StoreError;

/// One documented exit code; [`ExitCode::code`] is its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: done; verdict `green` or `ready`; a canary promoted.
    Success,
    /// 1: verdict `blocked`, a refusal, or a check that failed.
    Failed,
    /// 2: the command could not do its job (anything not named by a code of its own).
    Error,
    /// 3: verdict `waiting`.
    Waiting,
    /// 4: a canary was rolled back.
    RolledBack,
    /// 5: the config could not be read or is not valid.
    ConfigInvalid,
    /// 6: the store could not be opened, reached or written.
    StoreUnavailable,
    /// 130: interrupted by Ctrl-C.
    Interrupted,
    /// 141: the reader closed standard output early.
    ClosedPipe,
}

impl ExitCode {
    /// The number the process exits with.
    pub const fn code(self) -> i32 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failed => 1,
            ExitCode::Error => 2,
            ExitCode::Waiting => 3,
            ExitCode::RolledBack => 4,
            ExitCode::ConfigInvalid => 5,
            ExitCode::StoreUnavailable => 6,
            ExitCode::Interrupted => 130,
            ExitCode::ClosedPipe => 141,
        }
    }

    /// The code of a merge verdict: passing verdicts succeed, `waiting` has its own code so a
    /// script can poll, `blocked` fails.
    pub const fn for_verdict(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Green | Verdict::Ready => ExitCode::Success,
            Verdict::Waiting => ExitCode::Waiting,
            Verdict::Blocked => ExitCode::Failed,
        }
    }

    /// The code of a finished canary. One whose rollback path was not ready never set a weight:
    /// nothing was rolled back, a precondition failed.
    pub const fn for_canary(outcome: CanaryOutcome) -> Self {
        match outcome {
            CanaryOutcome::Promoted => ExitCode::Success,
            CanaryOutcome::RolledBack => ExitCode::RolledBack,
            CanaryOutcome::NotStarted => ExitCode::Failed,
        }
    }

    /// The code of a store error: one that keeps the store from being used at all is
    /// [`ExitCode::StoreUnavailable`]; one about the request or the data in a working store
    /// (a duplicate id, a damaged value) is [`ExitCode::Error`].
    pub const fn for_store(error: &StoreError) -> Self {
        match error {
            StoreError::BadLocation { .. }
            | StoreError::CreateDir { .. }
            | StoreError::OpenSqlite { .. }
            | StoreError::ReadOnlyWal { .. }
            | StoreError::ConnectPostgres { .. }
            | StoreError::Migrate { .. }
            | StoreError::NoStore { .. }
            | StoreError::EmptySqlite { .. }
            | StoreError::NotAStore { .. }
            | StoreError::SchemaOlder { .. }
            | StoreError::SchemaNewer { .. }
            | StoreError::SchemaDamaged { .. }
            | StoreError::SchemaUnreadable { .. }
            | StoreError::Query { .. } => ExitCode::StoreUnavailable,
            StoreError::RunExists { .. }
            | StoreError::EmergencyExists { .. }
            | StoreError::TokenExists { .. }
            | StoreError::UnknownRun { .. }
            | StoreError::CanaryExists { .. }
            | StoreError::UnknownCanary { .. }
            | StoreError::Invalid { .. }
            | StoreError::Corrupt { .. }
            | StoreError::HeadMissing => ExitCode::Error,
        }
    }

    /// The code of an error a command could not recover from: the store's own code when a
    /// store error is among its causes, else [`ExitCode::Error`].
    pub fn for_error(error: &anyhow::Error) -> Self {
        // The application layer wraps store errors transparently, so they are looked for
        // inside it too.
        error
            .chain()
            .find_map(|cause| {
                cause.downcast_ref::<StoreError>().or_else(|| {
                    match cause.downcast_ref::<fixlane_app::AppError>() {
                        Some(fixlane_app::AppError::Store(store)) => Some(store),
                        _ => None,
                    }
                })
            })
            .map_or(ExitCode::Error, ExitCode::for_store)
    }
}

/// A command's outcome when it did not succeed: what to print and which code to exit with.
#[derive(Debug)]
pub struct Failure {
    pub code: ExitCode,
    pub error: anyhow::Error,
}

impl Failure {
    /// The command could not do its job: exit 2, or 6 when the store is what failed.
    pub fn error(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        Self {
            code: ExitCode::for_error(&error),
            error,
        }
    }

    /// A refusal or a check that failed (exit 1).
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ExitCode::Failed,
            error: error.into(),
        }
    }

    /// The config could not be read or is not valid (exit 5).
    pub fn config(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ExitCode::ConfigInvalid,
            error: error.into(),
        }
    }

    /// The store could not be opened, reached or written (exit 6).
    pub fn store(error: impl Into<anyhow::Error>) -> Self {
        Self {
            code: ExitCode::StoreUnavailable,
            error: error.into(),
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::error(error)
    }
}

pub type CommandResult = Result<ExitCode, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The published table: a change to any number shows here, and in the README with it.
    #[test]
    fn every_exit_code_has_its_documented_number() {
        // Adding a code without listing it here fails to compile.
        let listed = |code: ExitCode| match code {
            ExitCode::Success
            | ExitCode::Failed
            | ExitCode::Error
            | ExitCode::Waiting
            | ExitCode::RolledBack
            | ExitCode::ConfigInvalid
            | ExitCode::StoreUnavailable
            | ExitCode::Interrupted
            | ExitCode::ClosedPipe => (code, code.code()),
        };
        let table: Vec<(ExitCode, i32)> = [
            ExitCode::Success,
            ExitCode::Failed,
            ExitCode::Error,
            ExitCode::Waiting,
            ExitCode::RolledBack,
            ExitCode::ConfigInvalid,
            ExitCode::StoreUnavailable,
            ExitCode::Interrupted,
            ExitCode::ClosedPipe,
        ]
        .into_iter()
        .map(listed)
        .collect();
        assert_eq!(
            table,
            [
                (ExitCode::Success, 0),
                (ExitCode::Failed, 1),
                (ExitCode::Error, 2),
                (ExitCode::Waiting, 3),
                (ExitCode::RolledBack, 4),
                (ExitCode::ConfigInvalid, 5),
                (ExitCode::StoreUnavailable, 6),
                (ExitCode::Interrupted, 130),
                (ExitCode::ClosedPipe, 141),
            ]
        );
    }

    #[test]
    fn verdicts_and_canaries_map_to_their_codes() {
        let verdicts: Vec<i32> = [
            Verdict::Green,
            Verdict::Ready,
            Verdict::Waiting,
            Verdict::Blocked,
        ]
        .into_iter()
        .map(|verdict| ExitCode::for_verdict(verdict).code())
        .collect();
        assert_eq!(verdicts, [0, 0, 3, 1]);
        let canaries: Vec<i32> = [
            CanaryOutcome::Promoted,
            CanaryOutcome::RolledBack,
            CanaryOutcome::NotStarted,
        ]
        .into_iter()
        .map(|outcome| ExitCode::for_canary(outcome).code())
        .collect();
        assert_eq!(canaries, [0, 4, 1]);
    }

    #[test]
    fn a_store_error_among_the_causes_gives_the_store_code() {
        let unreachable = StoreError::NoStore {
            location: fixlane_store::StoreLocation::sqlite("/nowhere/fixlane.db"),
        };
        let wrapped = anyhow::Error::from(unreachable).context("the run could not start");
        assert_eq!(Failure::error(wrapped).code, ExitCode::StoreUnavailable);
        let duplicate = StoreError::RunExists {
            run_id: "run-1".into(),
        };
        assert_eq!(Failure::error(duplicate).code, ExitCode::Error);
        assert_eq!(
            Failure::error(anyhow::anyhow!("git failed")).code,
            ExitCode::Error
        );
    }
}
