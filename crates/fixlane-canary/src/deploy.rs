//! The `[deploy]` actions: `set_weight`, `promote`, `rollback` and `rollback_check`, each a
//! `/bin/sh -c` in its own process group with a timeout. What they act on (weight, incident,
//! revision, step, profile) reaches them only as `FIXLANE_*` environment variables, never
//! spliced into the command text, so an incident title full of `$(…)` cannot run.

use std::path::PathBuf;
use std::time::Duration;

use fixlane_core::config::model::Deploy;
use fixlane_process::Cancel;

use crate::process::{self, Finished, Shell};

/// Which action to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SetWeight,
    Promote,
    Rollback,
    RollbackCheck,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::SetWeight => "set_weight",
            Action::Promote => "promote",
            Action::Rollback => "rollback",
            Action::RollbackCheck => "rollback_check",
        }
    }

    fn command(self, deploy: &Deploy) -> &str {
        match self {
            Action::SetWeight => &deploy.set_weight,
            Action::Promote => &deploy.promote,
            Action::Rollback => &deploy.rollback,
            Action::RollbackCheck => &deploy.rollback_check,
        }
    }
}

/// What every action of one canary shares.
#[derive(Debug, Clone)]
pub struct DeployContext {
    pub deploy: Deploy,
    /// `FIXLANE_INCIDENT`, when the canary belongs to an emergency.
    pub incident: Option<String>,
    /// `FIXLANE_REV`: the revision being rolled out.
    pub rev: String,
    /// `FIXLANE_PROFILE`.
    pub profile: String,
    /// Where the actions run; the current directory when `None`.
    pub workdir: Option<PathBuf>,
    /// How long one action may take before its group is killed and it counts as failed.
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
}

/// Where the canary is when an action runs: `FIXLANE_STEP` and `FIXLANE_WEIGHT`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Position {
    /// 1-based; 0 before the first step.
    pub step: usize,
    /// The weight set (or being set); 0 before the first step.
    pub weight: u8,
}

impl DeployContext {
    /// The environment an action sees on top of the inherited one.
    pub fn environment(&self, position: Position) -> Vec<(String, String)> {
        vec![
            ("FIXLANE_WEIGHT".to_owned(), position.weight.to_string()),
            ("FIXLANE_STEP".to_owned(), position.step.to_string()),
            (
                "FIXLANE_INCIDENT".to_owned(),
                self.incident.clone().unwrap_or_default(),
            ),
            ("FIXLANE_REV".to_owned(), self.rev.clone()),
            ("FIXLANE_PROFILE".to_owned(), self.profile.clone()),
        ]
    }

    /// Runs one action to its end; `cancel` kills it early.
    pub async fn run(&self, action: Action, position: Position, cancel: Cancel) -> Finished {
        let shell = Shell {
            command: action.command(&self.deploy).to_owned(),
            env: self.environment(position),
            workdir: self.workdir.clone(),
            timeout: self.timeout,
            kill_grace: self.kill_grace,
        };
        process::run(&shell, cancel).await
    }
}
