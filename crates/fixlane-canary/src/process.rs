//! One shell command: `/bin/sh -c` in its own process group, values only through its
//! environment, output captured, and the whole group killed (TERM, grace, KILL) on timeout,
//! on cancel, and after the shell exits so no background straggler outlives its action.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fixlane_process::{Cancel, Group, KillOnDrop, in_new_group};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// The most output kept per stream: the end is what explains a failure.
const KEEP_BYTES: usize = 64 * 1024;

/// How many lines of output a failure reports.
pub const TAIL_LINES: usize = 20;

/// A command to run and how.
#[derive(Debug, Clone)]
pub struct Shell {
    pub command: String,
    /// Added to the inherited environment; the command text is never rewritten.
    pub env: Vec<(String, String)>,
    pub workdir: Option<PathBuf>,
    pub timeout: Duration,
    pub kill_grace: Duration,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Exited(Option<i32>),
    TimedOut,
    Cancelled,
    /// It could not be started or waited for.
    Failed(String),
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Finished {
    pub ending: Ending,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.ending == Ending::Exited(Some(0))
    }

    /// The last lines of stdout and stderr, then why it failed when it did not exit 0.
    pub fn tail(&self) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for stream in [&self.stdout, &self.stderr] {
            let text = String::from_utf8_lossy(stream);
            lines.extend(text.lines().map(str::to_owned));
        }
        let from = lines.len().saturating_sub(TAIL_LINES);
        let mut tail = lines.split_off(from);
        if let Some(why) = self.why() {
            tail.push(why);
        }
        tail
    }

    /// Why it did not succeed, in words, or `None` when it exited 0.
    pub fn why(&self) -> Option<String> {
        match &self.ending {
            Ending::Exited(Some(0)) => None,
            Ending::Exited(Some(code)) => Some(format!("exited with status {code}")),
            Ending::Exited(None) => Some("killed by a signal".to_owned()),
            Ending::TimedOut => Some("timed out; its process group was killed".to_owned()),
            Ending::Cancelled => Some("cancelled; its process group was killed".to_owned()),
            Ending::Failed(why) => Some(why.clone()),
        }
    }
}

/// Runs `shell`; `cancel` ends it early with `Ending::Cancelled`.
pub async fn run(shell: &Shell, mut cancel: Cancel) -> Finished {
    // An absolute path: no PATH search, and no other `sh` can be slipped in.
    let mut command = Command::new("/bin/sh");
    in_new_group(&mut command)
        .arg("-c")
        .arg(&shell.command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // The shell itself is reaped by tokio if this future is dropped.
        .kill_on_drop(true)
        .envs(shell.env.iter().map(|(key, value)| (key, value)));
    if let Some(workdir) = &shell.workdir {
        command.current_dir(workdir);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            return Finished {
                ending: Ending::Failed(format!("could not start `/bin/sh -c`: {error}")),
                stdout: Vec::new(),
                stderr: Vec::new(),
            };
        }
    };
    let group = Group::of(&child);
    // If this future is dropped mid-way (a sample abandoned because another check already
    // decided a rollback), the group must not live on unsupervised.
    let mut guard = KillOnDrop::new(group);
    let stdout = child
        .stdout
        .take()
        .map(|pipe| tokio::spawn(read_capped(pipe)));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| tokio::spawn(read_capped(pipe)));

    let ending = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => Ending::Exited(status.code()),
            Err(error) => Ending::Failed(format!("could not wait for `/bin/sh -c`: {error}")),
        },
        () = tokio::time::sleep(shell.timeout) => Ending::TimedOut,
        () = cancel.cancelled() => Ending::Cancelled,
    };
    // Always end the group: a background process left by the action would hold the output
    // pipes open (the readers would never finish) and outlive the action it belongs to.
    if let Some(group) = group {
        group.kill(&mut child, shell.kill_grace).await;
    }
    guard.disarm();
    Finished {
        ending,
        stdout: joined(stdout).await,
        stderr: joined(stderr).await,
    }
}

async fn joined(reader: Option<tokio::task::JoinHandle<Vec<u8>>>) -> Vec<u8> {
    match reader {
        Some(handle) => handle.await.unwrap_or_default(),
        None => Vec::new(),
    }
}

/// Reads a stream to its end, keeping only its last `KEEP_BYTES`.
async fn read_capped(mut pipe: impl AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buffer = [0_u8; 8192];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(count) => {
                kept.extend_from_slice(&buffer[..count]);
                if kept.len() > KEEP_BYTES {
                    let excess = kept.len() - KEEP_BYTES;
                    kept.drain(..excess);
                }
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(command: &str, timeout: Duration) -> Shell {
        Shell {
            command: command.to_owned(),
            env: vec![(
                "FIXLANE_WEIGHT".to_owned(),
                "$(touch /tmp/nope); 10".to_owned(),
            )],
            workdir: None,
            timeout,
            kill_grace: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn values_arrive_as_environment_only() {
        let finished = run(
            &shell("printf '%s' \"$FIXLANE_WEIGHT\"", Duration::from_secs(5)),
            Cancel::never(),
        )
        .await;
        assert!(finished.success());
        assert_eq!(finished.stdout, b"$(touch /tmp/nope); 10");
    }

    #[tokio::test]
    async fn a_background_straggler_does_not_hang_the_action() {
        let started = std::time::Instant::now();
        let finished = run(
            &shell("sleep 30 & echo started", Duration::from_secs(5)),
            Cancel::never(),
        )
        .await;
        assert!(finished.success());
        assert_eq!(finished.stdout, b"started\n");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_group() {
        let finished = run(
            &shell("sleep 30; echo never", Duration::from_millis(200)),
            Cancel::never(),
        )
        .await;
        assert_eq!(finished.ending, Ending::TimedOut);
        assert!(finished.tail().last().unwrap().contains("timed out"));
    }

    #[tokio::test]
    async fn a_failure_reports_its_tail_and_status() {
        let finished = run(
            &shell("echo out; echo err >&2; exit 3", Duration::from_secs(5)),
            Cancel::never(),
        )
        .await;
        assert!(!finished.success());
        assert_eq!(finished.tail(), vec!["out", "err", "exited with status 3"]);
    }

    #[tokio::test]
    async fn an_abandoned_command_takes_its_group_with_it() {
        let directory = tempfile::tempdir().unwrap();
        let pid_file = directory.path().join("pid");
        let command = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
        let abandoned = tokio::time::timeout(
            Duration::from_millis(300),
            run(&shell(&command, Duration::from_mins(1)), Cancel::never()),
        )
        .await;
        assert!(abandoned.is_err());
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Give the kernel a moment to deliver SIGKILL, then the sleeper must be gone (or a
        // zombie awaiting its reaper, which `kill(pid, 0)` still sees; so look at /proc).
        tokio::time::sleep(Duration::from_millis(100)).await;
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        assert!(
            state.is_empty() || state.contains(") Z "),
            "the background sleep survived: {state}"
        );
    }
}
