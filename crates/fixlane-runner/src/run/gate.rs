//! One gate's process: `sh -c` in its own process group, its output (stdout and stderr through
//! one pipe, in the order written) read as it comes and handed to the run's log writer, and the
//! whole group killed (TERM, grace, KILL) on timeout or cancel.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fixlane_core::event::Outcome;
use fixlane_process::{Cancel, Group, in_new_group};
use tokio::net::unix::pipe;
use tokio::process::Command;

use super::logs::Logs;

/// How much of the end of a gate's output is kept in memory for its tail.
const TAIL_BYTES: usize = 64 * 1024;

/// How much is read from a gate's pipe at once.
const CHUNK: usize = 16 * 1024;

/// Everything one gate task needs, owned, so the task shares nothing with the scheduler but the
/// log writer.
pub(super) struct GateJob {
    pub index: usize,
    pub command: String,
    /// The run's environment (this process's, without fixlane's secrets, with the run's
    /// variables), shared by every gate; the child inherits nothing else.
    pub base_env: Arc<Vec<(OsString, OsString)>>,
    /// The gate's own variables over it (`FIXLANE_GATE`, the gate's `env`), later ones winning.
    pub extra_env: Vec<(OsString, OsString)>,
    /// The gate's working directory.
    pub workdir: PathBuf,
    /// Whether the child changes into `workdir`: not when fixlane already runs there, which
    /// saves a `chdir` in every child.
    pub change_dir: bool,
    /// Programs found on a `PATH` already, shared by the run's gates.
    pub programs: Arc<Programs>,
    pub log_path: PathBuf,
    pub logs: Arc<Logs>,
    pub timeout: Option<Duration>,
    pub kill_grace: Duration,
    pub tail_lines: usize,
}

impl GateJob {
    /// The gate's `PATH`: its own `env`'s, else the run's.
    fn path(&self) -> Option<&OsString> {
        last_path(&self.extra_env).or_else(|| last_path(&self.base_env))
    }
}

/// The last `PATH` set in `env`.
fn last_path(env: &[(OsString, OsString)]) -> Option<&OsString> {
    env.iter()
        .rev()
        .find(|(key, _)| key == "PATH")
        .map(|(_, value)| value)
}

/// The one message a gate task sends back.
pub(super) struct GateDone {
    pub index: usize,
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub duration: Duration,
    pub tail: Vec<String>,
    /// The gate's log file; `None` when it printed nothing (or its output could not be kept).
    pub log: Option<PathBuf>,
}

enum Ending {
    Exited(ExitStatus),
    WaitFailed(std::io::Error),
    TimedOut,
    Cancelled,
}

/// A gate's output as it arrives: the end of it kept for the tail, all of it sent to the log.
struct Output {
    index: usize,
    path: PathBuf,
    logs: Arc<Logs>,
    /// The last bytes seen (at most about twice `TAIL_BYTES`).
    recent: Vec<u8>,
    /// Whether `recent` lost its beginning (so its first line is cut).
    cut: bool,
    /// Anything was printed.
    any: bool,
    /// A chunk could not be handed to the writer.
    lost: bool,
}

impl Output {
    fn take(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.any = true;
        if !self.logs.write(self.index, &self.path, bytes.to_vec()) {
            self.lost = true;
        }
        self.recent.extend_from_slice(bytes);
        if self.recent.len() > 2 * TAIL_BYTES {
            let excess = self.recent.len() - TAIL_BYTES;
            self.recent.drain(..excess);
            self.cut = true;
        }
    }

    /// The last `lines` lines of what was printed.
    fn tail(&self, lines: usize) -> Vec<String> {
        tail_of(&self.recent, self.cut, lines)
    }
}

/// The last `lines` lines of `bytes`, the end of a longer text when `cut`.
fn tail_of(bytes: &[u8], cut: bool, lines: usize) -> Vec<String> {
    if lines == 0 {
        return Vec::new();
    }
    let start = bytes.len().saturating_sub(TAIL_BYTES);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let mut all: Vec<&str> = text.lines().collect();
    if (cut || start > 0) && !all.is_empty() {
        // The first line was cut by the window.
        all.remove(0);
    }
    let from = all.len().saturating_sub(lines);
    all[from..].iter().map(|line| (*line).to_owned()).collect()
}

/// Reads what is in the pipe now, without waiting; `true` at its end (every writer gone, or
/// the pipe failed).
fn drain(receiver: &pipe::Receiver, output: &mut Output, buffer: &mut [u8]) -> bool {
    loop {
        match receiver.try_read(buffer) {
            Ok(0) => return true,
            Ok(read) => output.take(&buffer[..read]),
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return error.kind() != std::io::ErrorKind::WouldBlock,
        }
    }
}

/// A gate's process, started: what [`watch`] follows to its end.
pub(super) struct Launched {
    started: Instant,
    child: tokio::process::Child,
    group: Option<Group>,
    receiver: std::io::Result<pipe::Receiver>,
}

/// Starts the gate's process now, from the scheduler itself rather than from the gate's task,
/// so a gate's start never waits for the scheduler to finish reporting what else is queued.
/// `Err` is the gate's end when it could not start.
pub(super) fn launch(job: &GateJob) -> Result<Launched, GateDone> {
    let started = Instant::now();
    let failed_to_start = |message: String| GateDone {
        index: job.index,
        outcome: Outcome::Failed,
        exit_code: None,
        duration: started.elapsed(),
        tail: vec![message],
        log: None,
    };

    // One pipe for stdout and stderr, so the log keeps them in the order they were written.
    let (reader, writer) = match std::io::pipe() {
        Ok(pair) => pair,
        Err(error) => {
            return Err(failed_to_start(format!(
                "fixlane: could not make a pipe for the gate's output: {error}"
            )));
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
            .stdin(Stdio::null())
            .stdout(Stdio::from(writer.try_clone()?))
            .stderr(Stdio::from(writer.try_clone()?))
            .env_clear()
            .envs(job.base_env.iter().map(|(key, value)| (key, value)))
            .envs(job.extra_env.iter().map(|(key, value)| (key, value)));
        if job.change_dir {
            command.current_dir(&job.workdir);
        }
        // Spawning drops the command, and with it our copies of the pipe's writing end.
        command.spawn()
    };
    let workdir = job.workdir.as_path();
    // Like make, a command that is only words runs without a shell in between; a script with
    // no `#!` line (ENOEXEC) still gets the shell, as `sh -c` would have given it.
    let direct = direct_argv(&job.command).and_then(|argv| {
        let program = find_program(argv[0], workdir, job.path(), &job.programs)?;
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
    // Only the gate's processes hold the writing end now: the pipe ends when they do.
    drop(writer);
    let child = match spawned {
        Ok(child) => child,
        Err(error) => {
            return Err(failed_to_start(format!(
                "fixlane: could not start `{}` in {}: {error}",
                job.command,
                workdir.display()
            )));
        }
    };
    let group = Group::of(&child);
    let receiver = pipe::Receiver::from_owned_fd(reader.into());
    Ok(Launched {
        started,
        child,
        group,
        receiver,
    })
}

/// Follows a launched gate to its end: its output into the log and the tail, its timeout, the
/// run's cancel.
pub(super) async fn watch(job: GateJob, launched: Launched, mut cancel: Cancel) -> GateDone {
    let Launched {
        started,
        mut child,
        group,
        receiver,
    } = launched;
    let mut output = Output {
        index: job.index,
        path: job.log_path.clone(),
        logs: Arc::clone(&job.logs),
        recent: Vec::new(),
        cut: false,
        any: false,
        lost: false,
    };
    let mut buffer = vec![0; CHUNK];
    let mut ended = receiver.is_err();

    let timeout = sleep_or_forever(job.timeout);
    tokio::pin!(timeout);
    let ending = loop {
        tokio::select! {
            status = child.wait() => break match status {
                Ok(status) => Ending::Exited(status),
                Err(error) => Ending::WaitFailed(error),
            },
            readable = readable(receiver.as_ref().ok()), if !ended => {
                ended = match (readable, &receiver) {
                    (Ok(()), Ok(receiver)) => drain(receiver, &mut output, &mut buffer),
                    _ => true,
                };
            },
            () = &mut timeout => break Ending::TimedOut,
            () = cancel.cancelled() => break Ending::Cancelled,
        }
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
    // Everything the gate's own process wrote is in the pipe by now.
    if let (Ok(receiver), false) = (&receiver, ended) {
        ended = drain(receiver, &mut output, &mut buffer);
    }
    if let (Ok(receiver), false) = (receiver, ended) {
        // A process the gate left in the background still holds the pipe: what it prints goes
        // on into the log while the run lasts, and the gate's end does not wait for it.
        let mut late = output.clone_for_late();
        tokio::spawn(async move {
            let mut buffer = vec![0; CHUNK];
            while receiver.readable().await.is_ok() {
                if drain(&receiver, &mut late, &mut buffer) {
                    break;
                }
            }
        });
    }
    let duration = started.elapsed();
    let mut outcome = outcome;
    let mut log = None;
    let mut notes = Vec::new();
    if output.any {
        let kept = if output.lost {
            Err("the log writer is not running".to_owned())
        } else {
            job.logs.close(job.index).await
        };
        match kept {
            Ok(()) => log = Some(job.log_path.clone()),
            // Output that cannot be kept fails the gate: its log is part of its result.
            Err(error) => {
                if outcome == Outcome::Passed {
                    outcome = Outcome::Failed;
                }
                notes.push(format!(
                    "fixlane: the gate's output could not be kept: {error}"
                ));
            }
        }
    }
    // Only a gate that did not pass has its tail shown.
    let mut tail = if outcome == Outcome::Passed {
        Vec::new()
    } else {
        output.tail(job.tail_lines)
    };
    if outcome != Outcome::Passed && !output.any {
        tail.push("fixlane: the gate printed nothing".to_owned());
    }
    tail.extend(notes);
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
        log,
    }
}

impl Output {
    /// The same gate's output, for what comes after its end.
    fn clone_for_late(&self) -> Self {
        Self {
            index: self.index,
            path: self.path.clone(),
            logs: Arc::clone(&self.logs),
            recent: Vec::new(),
            cut: false,
            any: self.any,
            lost: false,
        }
    }
}

async fn readable(receiver: Option<&pipe::Receiver>) -> std::io::Result<()> {
    match receiver {
        Some(receiver) => receiver.readable().await,
        None => std::future::pending().await,
    }
}

/// Programs already looked up on a `PATH`, by `PATH` and name: a run of many gates running the
/// same program searches for it once, not once per gate (a `stat` per directory of `PATH`).
#[derive(Default)]
pub(super) struct Programs(Mutex<HashMap<(OsString, String), Option<PathBuf>>>);

/// Where a program named without a `/` lives, searched in the gate's own `PATH`. Resolving it
/// here lets the spawn use `posix_spawn`; a lookup left to `Command` with a changed environment
/// would fork the whole runner first. `None` leaves the command to the shell, which then says
/// "not found" as it always would.
fn find_program(
    name: &str,
    workdir: &Path,
    path: Option<&OsString>,
    programs: &Programs,
) -> Option<PathBuf> {
    if name.contains('/') {
        // Absolute here too: a relative program with a working directory also costs a fork.
        return Some(workdir.join(name));
    }
    let path = path?;
    let key = (path.clone(), name.to_owned());
    if let Some(found) = programs
        .0
        .lock()
        .ok()
        .and_then(|known| known.get(&key).cloned())
    {
        return found;
    }
    let found = crate::program::find_executable(name, path);
    if let Ok(mut known) = programs.0.lock() {
        known.insert(key, found.clone());
    }
    found
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
    fn tail_keeps_the_last_lines_of_a_large_output() {
        let text = (0..20_000)
            .map(|line| format!("line {line}"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            tail_of(text.as_bytes(), false, 3),
            vec!["line 19997", "line 19998", "line 19999"]
        );
        assert!(tail_of(text.as_bytes(), false, 0).is_empty());
        // The window's first line is cut, so it is never shown as a whole line.
        let window = &text.as_bytes()[text.len() - 24..];
        assert_eq!(tail_of(window, true, 10), vec!["line 19998", "line 19999"]);
        assert_eq!(tail_of(&window[4..], true, 10), vec!["line 19999"]);
    }
}
