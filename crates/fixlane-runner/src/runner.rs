//! The runner's own runtime, and a run started on it: a caller drives gates without building an
//! async runtime of its own.
//!
//! A run needs a runtime for its process waits, timeouts and cancel. Its caller often has async
//! work of its own beside the gates (recording the run in a store), so [`Runner`] lends the same
//! runtime to that work ([`Runner::block_on`]): one run starts one runtime and no thread, since
//! every thread started is time before the first gate.

use std::future::Future;
use std::sync::Arc;

use fixlane_core::event::RunEvent;
use fixlane_core::plan::Plan;
use fixlane_core::verdict::EmergencyStanding;
use fixlane_process::Cancel;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::run::{self, RunError, RunSettings, RunSummary};

/// The runtime gates run on.
pub struct Runner {
    runtime: tokio::runtime::Runtime,
}

impl Runner {
    /// Builds the runtime. A current-thread one: the scheduler is one loop and gates are other
    /// processes, so a second core would only cost a thread's start.
    pub fn new() -> Result<Self, RunError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| RunError::Runtime { source })?;
        Ok(Self { runtime })
    }

    /// Runs the caller's own async work on the run's runtime, to its end; what [`start`]ed
    /// meanwhile progresses whenever `work` waits.
    ///
    /// [`start`]: Runner::start
    pub fn block_on<F: Future>(&self, work: F) -> F::Output {
        self.runtime.block_on(work)
    }

    /// Starts the plan's gates and returns at once. They progress while the caller waits in
    /// [`Runner::block_on`] (for the run's next event, say); setting `cancel` stops them. A
    /// caller that keeps the plan passes an `Arc` of it: a plan of a thousand gates is not
    /// copied on the way to the first one.
    pub fn start(
        &self,
        plan: impl Into<Arc<Plan>>,
        settings: RunSettings,
        emergency: Option<EmergencyStanding>,
        cancel: impl Into<Cancel>,
    ) -> RunHandle {
        let (sender, events) = mpsc::unbounded_channel();
        let cancel = cancel.into();
        let plan = plan.into();
        let task = self
            .runtime
            .spawn(async move { run::run(&plan, settings, emergency, sender, cancel).await });
        RunHandle { events, task }
    }

    /// Runs the plan to its end, handing each event to `on_event` as it happens: for a caller
    /// with no async work of its own.
    pub fn run_blocking(
        &self,
        plan: impl Into<Arc<Plan>>,
        settings: RunSettings,
        emergency: Option<EmergencyStanding>,
        cancel: impl Into<Cancel>,
        mut on_event: impl FnMut(RunEvent),
    ) -> Result<RunSummary, RunError> {
        let mut run = self.start(plan, settings, emergency, cancel);
        self.block_on(async {
            while let Some(event) = run.next_event().await {
                on_event(event);
            }
            run.finish().await
        })
    }
}

/// A run in progress: its events as they happen, then how it ended.
pub struct RunHandle {
    events: mpsc::UnboundedReceiver<RunEvent>,
    task: JoinHandle<Result<RunSummary, RunError>>,
}

impl RunHandle {
    /// The next event; `None` once the run has sent its last (`RunFinished`, unless it failed
    /// to start).
    pub async fn next_event(&mut self) -> Option<RunEvent> {
        self.events.recv().await
    }

    /// Waits for the run's end: its summary, or why it could not run.
    pub async fn finish(self) -> Result<RunSummary, RunError> {
        self.task
            .await
            .map_err(|source| RunError::Stopped { source })?
    }
}
