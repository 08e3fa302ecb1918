//! Who runs a run, recorded at its start, so a later reader can tell a run that is still going
//! from one whose runner was killed (SIGKILL, a crash, a reboot) and will never finish.
//!
//! A process is named by its host, the host's boot, its pid and its start time: a pid alone
//! is reused, and a reboot restarts both pids and start times.

use serde::{Deserialize, Serialize};

/// The process running a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerIdentity {
    pub host: String,
    /// The kernel's boot id, when it is known.
    pub boot: Option<String>,
    pub pid: u32,
    /// The process's start time in clock ticks since boot (`/proc/PID/stat`), when known.
    pub started: Option<String>,
}

/// Whether a recorded runner is still there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// Its process (or its whole boot) is gone: the run will never finish.
    Gone,
    /// It ran on another host, or this system cannot tell.
    Unknown,
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn host_name() -> String {
    read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| read_trimmed("/etc/hostname"))
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// Field 22 of `/proc/PID/stat`, counted after the command name, which may hold spaces and
/// parentheses and so ends at the last `)`.
fn start_ticks(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19).map(str::to_owned)
}

impl RunnerIdentity {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            host: host_name(),
            boot: read_trimmed("/proc/sys/kernel/random/boot_id"),
            pid,
            started: start_ticks(pid),
        }
    }

    /// Whether this runner still runs, as far as this machine can tell.
    pub fn liveness(&self) -> Liveness {
        let here = Self::current();
        if self.host != here.host {
            return Liveness::Unknown;
        }
        if self.boot.is_some() && here.boot.is_some() && self.boot != here.boot {
            return Liveness::Gone;
        }
        let Some(recorded) = &self.started else {
            return Liveness::Unknown;
        };
        match start_ticks(self.pid) {
            Some(now) if &now == recorded => Liveness::Alive,
            // The pid is free, or taken by a process that started later.
            Some(_) => Liveness::Gone,
            None if std::path::Path::new("/proc/self/stat").exists() => Liveness::Gone,
            None => Liveness::Unknown,
        }
    }

    /// `pid 1234 on host`, for messages.
    pub fn describe(&self) -> String {
        format!("pid {} on {}", self.pid, self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive() {
        let me = RunnerIdentity::current();
        assert!(me.started.is_some(), "Linux exposes /proc/self/stat");
        assert_eq!(me.liveness(), Liveness::Alive);
    }

    #[test]
    fn a_reused_pid_or_another_boot_is_gone_and_another_host_unknown() {
        let me = RunnerIdentity::current();
        let reused = RunnerIdentity {
            started: Some("1".to_owned()),
            ..me.clone()
        };
        assert_eq!(reused.liveness(), Liveness::Gone);
        let rebooted = RunnerIdentity {
            boot: Some("another-boot".to_owned()),
            ..me.clone()
        };
        assert_eq!(rebooted.liveness(), Liveness::Gone);
        let elsewhere = RunnerIdentity {
            host: format!("{}-elsewhere", me.host),
            ..me
        };
        assert_eq!(elsewhere.liveness(), Liveness::Unknown);
    }

    #[test]
    fn an_exited_child_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let started = start_ticks(pid);
        child.wait().unwrap();
        let identity = RunnerIdentity {
            pid,
            started: started.or(Some("0".to_owned())),
            ..RunnerIdentity::current()
        };
        assert_eq!(identity.liveness(), Liveness::Gone);
    }
}
