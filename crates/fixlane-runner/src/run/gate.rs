//! One gate's process: `sh -c` in its own process group, output straight into its log file,
//! and the whole group killed (TERM, grace, KILL) on timeout or cancel.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use fixlane_core::event::Outcome;
use fixlane_process::{Cancel, Group, in_new_group};
use tokio::process::Command;

/// How much of the end of a log is read for the tail, so a huge log costs nothing extra.
const TAIL_BYTES: u64 = 64 * 1024;

/// Everything one gate task needs, owned, so the task shares nothing with the scheduler.
pub(super) struct GateJob {
    pub index: usize,
    pub command: String,
    /// The gate's whole environment: the child inherits nothing else.
    pub env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    pub workdir: PathBuf,
    pub log_path: PathBuf,
    pub timeout: Option<Duration>,
    pub kill_grace: Duration,
    pub tail_lines: usize,
}

/// The one message a gate task sends back.
pub(super) struct GateDone {
    pub index: usize,
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub duration: Duration,
    pub tail: Vec<String>,
    pub log: Option<PathBuf>,
}

enum Ending {
    Exited(ExitStatus),
    WaitFailed(std::io::Error),
    TimedOut,
    Cancelled,
}

pub(super) async fn run_gate(job: GateJob, mut cancel: Cancel) -> GateDone {
    let started = Instant::now();
    let failed_to_start = |message: String, log: Option<PathBuf>| GateDone {
        index: job.index,
        outcome: Outcome::Failed,
        exit_code: None,
        duration: started.elapsed(),
        tail: vec![message],
        log,
    };

    let log = match File::create(&job.log_path) {
        Ok(file) => file,
        Err(error) => {
            return failed_to_start(
                format!(
                    "fixlane: could not create the log file {}: {error}",
                    job.log_path.display()
                ),
                None,
            );
        }
    };
    let spawn = |direct: Option<(&Path, &[&str])>| -> std::io::Result<tokio::process::Child> {
        let mut command = if let Some((program, arguments)) = direct {
            let mut command = Command::new(program);
            command.args(arguments);
            command
        } else {
            // An absolute path: a PATH lookup costs several failed execs per gate.
            let mut command = Command::new("/bin/sh");
            command.arg("-c").arg(&job.command);
            command
        };
        in_new_group(&mut command)
            .current_dir(&job.workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log.try_clone()?))
            .env_clear()
            .envs(job.env.iter().map(|(key, value)| (key, value)));
        // Spawning drops the command, and with it our copies of the log descriptors: only the
        // gate's processes hold them afterwards.
        command.spawn()
    };
    // Like make, a command that is only words runs without a shell in between; a script with
    // no `#!` line (ENOEXEC) still gets the shell, as `sh -c` would have given it.
    let direct = direct_argv(&job.command).and_then(|argv| {
        let program = find_program(argv[0], &job.workdir, &job.env)?;
        Some((program, argv))
    });
    let spawned = match direct
        .as_ref()
        .map(|(program, argv)| spawn(Some((program.as_path(), &argv[1..]))))
    {
        Some(Err(error)) if error.raw_os_error() == Some(8) => spawn(None),
        Some(result) => result,
        None => spawn(None),
    };
    drop(log);
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            return failed_to_start(
                format!(
                    "fixlane: could not start `{}` in {}: {error}",
                    job.command,
                    job.workdir.display()
                ),
                Some(job.log_path.clone()),
            );
        }
    };
    let group = Group::of(&child);

    let ending = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => Ending::Exited(status),
            Err(error) => Ending::WaitFailed(error),
        },
        () = sleep_or_forever(job.timeout) => Ending::TimedOut,
        () = cancel.cancelled() => Ending::Cancelled,
    };

    let (outcome, exit_code) = match ending {
        Ending::Exited(status) => {
            let outcome = if status.success() {
                Outcome::Passed
            } else {
                Outcome::Failed
            };
            (outcome, status.code())
        }
        Ending::TimedOut | Ending::Cancelled | Ending::WaitFailed(_) => {
            if let Some(group) = group {
                group.kill(&mut child, job.kill_grace).await;
            }
            let outcome = match ending {
                Ending::TimedOut => Outcome::TimedOut,
                Ending::Cancelled => Outcome::Cancelled,
                _ => Outcome::Failed,
            };
            (outcome, None)
        }
    };
    let duration = started.elapsed();
    // Only a gate that did not pass has its tail shown; a passing one keeps the read off the
    // path to its dependents.
    let mut tail = if outcome == Outcome::Passed {
        Vec::new()
    } else {
        read_tail(&job.log_path, job.tail_lines)
    };
    match ending {
        Ending::TimedOut => tail.push(format!(
            "fixlane: timed out after {}s; the gate's process group was killed",
            job.timeout.unwrap_or(duration).as_secs()
        )),
        Ending::Cancelled => {
            tail.push("fixlane: cancelled; the gate's process group was killed".to_owned());
        }
        Ending::WaitFailed(ref error) => tail.push(format!(
            "fixlane: could not wait for the gate's shell ({error}); its process group was killed"
        )),
        Ending::Exited(_) => {}
    }
    GateDone {
        index: job.index,
        outcome,
        exit_code,
        duration,
        tail,
        log: Some(job.log_path),
    }
}

/// Where a program named without a `/` lives, searched in the gate's own `PATH`. Resolving it
/// here lets the spawn use `posix_spawn`; a lookup left to `Command` with a changed environment
/// would fork the whole runner first. `None` leaves the command to the shell, which then says
/// "not found" as it always would.
fn find_program(
    name: &str,
    workdir: &Path,
    env: &[(std::ffi::OsString, std::ffi::OsString)],
) -> Option<PathBuf> {
    if name.contains('/') {
        // Absolute here too: a relative program with a working directory also costs a fork.
        return Some(workdir.join(name));
    }
    let path = env
        .iter()
        .find(|(key, _)| key == "PATH")
        .map(|(_, value)| value)?;
    crate::program::find_executable(name, path)
}

/// The words of a command that needs no shell: nothing a shell would expand, quote, redirect,
/// chain or glob, no variable assignment, and a first word that is a program rather than a
/// shell keyword or builtin that only makes sense inside the shell (`cd`, `export`, `exit`…).
/// Anything else goes through `/bin/sh -c` unchanged.
pub(super) fn direct_argv(command: &str) -> Option<Vec<&str>> {
    const SHELL_ONLY: [&str; 30] = [
        "!", ".", ":", "[[", "alias", "break", "case", "cd", "command", "continue", "do", "done",
        "elif", "else", "esac", "eval", "exec", "exit", "export", "fi", "for", "function", "if",
        "readonly", "return", "set", "shift", "source", "trap", "unset",
    ];
    let plain = command.bytes().all(|byte| {
        byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b' ' | b'-' | b'_' | b'.' | b'/' | b',' | b'+' | b'@' | b'%' | b':'
            )
    });
    if !plain {
        return None;
    }
    let words: Vec<&str> = command.split(' ').filter(|word| !word.is_empty()).collect();
    let first = words.first()?;
    if SHELL_ONLY.contains(first) || first.contains(':') {
        return None;
    }
    Some(words)
}

async fn sleep_or_forever(timeout: Option<Duration>) {
    match timeout {
        Some(timeout) => tokio::time::sleep(timeout).await,
        None => std::future::pending().await,
    }
}

/// The last `lines` lines of the log, reading at most its last `TAIL_BYTES`.
fn read_tail(path: &Path, lines: usize) -> Vec<String> {
    if lines == 0 {
        return Vec::new();
    }
    let Ok(mut file) = File::open(path) else {
        return Vec::new();
    };
    let length = file.metadata().map_or(0, |metadata| metadata.len());
    let start = length.saturating_sub(TAIL_BYTES);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if file.take(TAIL_BYTES).read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut all: Vec<&str> = text.lines().collect();
    if start > 0 && !all.is_empty() {
        // The first line was cut by the window.
        all.remove(0);
    }
    let from = all.len().saturating_sub(lines);
    all[from..].iter().map(|line| (*line).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::direct_argv;

    #[test]
    fn plain_words_run_without_a_shell() {
        assert_eq!(direct_argv("true"), Some(vec!["true"]));
        assert_eq!(
            direct_argv("cargo test --workspace --lib"),
            Some(vec!["cargo", "test", "--workspace", "--lib"])
        );
        assert_eq!(
            direct_argv("./scripts/gate unit --short"),
            Some(vec!["./scripts/gate", "unit", "--short"])
        );
    }

    #[test]
    fn anything_a_shell_would_interpret_goes_through_the_shell() {
        for command in [
            "echo \"$FIXLANE_BRANCH\"",
            "echo $HOME",
            "a && b",
            "a; b",
            "a | b",
            "a > out",
            "ls *.rs",
            "FOO=1 make",
            "cd sub",
            "exit 3",
            "export A",
            "`id`",
            "echo 'quoted'",
            "a\nb",
            "~/bin/tool",
            "",
            "   ",
        ] {
            assert_eq!(direct_argv(command), None, "{command:?}");
        }
    }

    use super::*;

    #[test]
    fn tail_keeps_the_last_lines_of_a_large_log() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("gate.log");
        let text = (0..20_000)
            .map(|line| format!("line {line}"))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, text).unwrap();
        assert_eq!(
            read_tail(&path, 3),
            vec!["line 19997", "line 19998", "line 19999"]
        );
        assert!(read_tail(&path, 0).is_empty());
    }
}
