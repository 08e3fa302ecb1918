//! Process groups on Unix: a command started as the leader of its own group, and the group
//! ended as a whole, so that nothing a gate or a deploy action started in the background
//! outlives it.

use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use tokio::process::{Child, Command};

/// How often to look whether a group's stragglers left after its leader exited on SIGTERM.
const STRAGGLER_CHECK: Duration = Duration::from_millis(20);

/// Makes `command` start as the leader of a new process group, so that everything it starts
/// lands in that group too and can be ended with it.
pub fn in_new_group(command: &mut Command) -> &mut Command {
    command.process_group(0)
}

/// The process group a child started through [`in_new_group`] leads: its id is the child's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group(Pid);

impl Group {
    /// The group `leader` leads; `None` once tokio has reaped the leader and forgotten its id.
    pub fn of(leader: &Child) -> Option<Group> {
        leader
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .and_then(Pid::from_raw)
            .map(Group)
    }

    /// Whether any process is still in the group; a zombie not yet reaped counts.
    pub fn has_members(self) -> bool {
        test_kill_process_group(self.0).is_ok()
    }

    /// Ends the group: SIGTERM to every member, then SIGKILL to whatever is left once `grace`
    /// has passed, then `leader` reaped so it leaves no zombie. A group that exits on SIGTERM
    /// is never sent SIGKILL, however long it takes within the grace; a member that ignores
    /// SIGTERM (a leader, or a grandchild outliving its leader) is killed when the grace ends.
    pub async fn kill(self, leader: &mut Child, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        // A group already empty (its leader exited and was waited for) gets no signal.
        if self.has_members() {
            // ESRCH only means the group went meanwhile.
            let _ = kill_process_group(self.0, Signal::TERM);
            let _ = tokio::time::timeout_at(deadline, leader.wait()).await;
            // The leader went, but a grandchild may ignore SIGTERM or take its time to clean
            // up; look until the grace runs out. A leader still there at the deadline skips
            // this: the grace is over.
            while self.has_members() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(STRAGGLER_CHECK).await;
            }
            if self.has_members() {
                self.kill_now();
            }
        }
        // After SIGKILL (or with the leader already reaped) this returns at once.
        let _ = leader.wait().await;
    }

    /// SIGKILL to every member at once, for where nothing can be awaited (a `Drop`).
    pub fn kill_now(self) {
        // ESRCH only means the group is already gone.
        let _ = kill_process_group(self.0, Signal::KILL);
    }
}

/// Kills a process group with SIGKILL when dropped while still armed: a command whose future
/// is dropped mid-way (a sample abandoned because another check already decided a rollback)
/// must not leave its group running unsupervised.
#[derive(Debug)]
pub struct KillOnDrop(Option<Group>);

impl KillOnDrop {
    pub fn new(group: Option<Group>) -> Self {
        KillOnDrop(group)
    }

    /// The group was ended (or waited for) properly; dropping the guard does nothing now.
    pub fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(group) = self.0.take() {
            group.kill_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Stdio;
    use std::time::Instant;

    use super::*;

    /// Polls until `path` exists: the command has set its traps and is ready for the signal.
    async fn wait_for_file(path: &Path) {
        let waited = tokio::time::timeout(Duration::from_secs(10), async {
            while !path.exists() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "{} never appeared", path.display());
    }

    fn start(script: &str, workdir: &Path) -> (Child, Group) {
        let mut command = Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(script)
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        let child = in_new_group(&mut command).spawn().unwrap();
        let group = Group::of(&child).unwrap();
        (child, group)
    }

    /// Whether `pid` has ended: gone, or a zombie its new parent has yet to reap.
    fn ended(pid: &str) -> bool {
        let state =
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        state.is_empty() || state.contains(") Z ")
    }

    #[tokio::test]
    async fn a_grandchild_ignoring_sigterm_is_killed_once_the_grace_is_over() {
        let directory = tempfile::tempdir().unwrap();
        // The shell dies on SIGTERM; the sleep it left in the background ignores it.
        let (mut leader, group) = start(
            "(trap '' TERM; exec sleep 60) & echo $! > pid; touch ready; wait",
            directory.path(),
        );
        wait_for_file(&directory.path().join("ready")).await;
        let pid = std::fs::read_to_string(directory.path().join("pid")).unwrap();

        let grace = Duration::from_millis(300);
        let started = Instant::now();
        group.kill(&mut leader, grace).await;

        // It outlived SIGTERM, so only SIGKILL at the end of the grace could end it.
        assert!(started.elapsed() >= grace);
        assert!(
            leader.try_wait().unwrap().is_some(),
            "the leader was reaped"
        );
        let gone = tokio::time::timeout(Duration::from_secs(10), async {
            while !ended(&pid) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(gone.is_ok(), "the sleep ignoring SIGTERM survived");
    }

    #[tokio::test]
    async fn a_group_that_exits_on_sigterm_is_not_killed_early() {
        let directory = tempfile::tempdir().unwrap();
        // The shell dies on SIGTERM at once; its background child takes a moment to clean up
        // and then exits by itself. SIGKILL sent as soon as the shell went would cut it short.
        let (mut leader, group) = start(
            "(trap 'sleep 0.3; echo cleaned > cleaned; exit 0' TERM; touch ready; \
             while :; do sleep 0.05; done) & wait",
            directory.path(),
        );
        wait_for_file(&directory.path().join("ready")).await;

        let grace = Duration::from_mins(1);
        let started = Instant::now();
        group.kill(&mut leader, grace).await;

        assert_eq!(
            std::fs::read_to_string(directory.path().join("cleaned")).unwrap(),
            "cleaned\n",
            "the cleanup was cut short"
        );
        // Done as soon as the group was empty, not at the end of the grace.
        assert!(started.elapsed() < grace);
        assert!(!group.has_members());
        assert!(
            leader.try_wait().unwrap().is_some(),
            "the leader was reaped"
        );
    }

    #[tokio::test]
    async fn an_empty_group_is_only_reaped() {
        let directory = tempfile::tempdir().unwrap();
        let (mut leader, group) = start("exit 0", directory.path());
        let status = leader.wait().await.unwrap();
        assert!(status.success());
        // Nothing to signal: this must return at once, not at the end of an hour's grace.
        let killed = tokio::time::timeout(
            Duration::from_secs(10),
            group.kill(&mut leader, Duration::from_hours(1)),
        );
        assert!(killed.await.is_ok());
    }
}
