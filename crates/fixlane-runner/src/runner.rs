//! The runner's own runtime, and a run started beside it: a caller drives gates without building
//! an async runtime of its own.
//!
//! A run needs a runtime for its process waits, timeouts and cancel. Its caller often has async
//! work of its own beside the gates (recording the run in a store, showing it), so [`Runner`]
//! lends a runtime to that work ([`Runner::block_on`]), and the gates run on a thread of their
//! own with a runtime of their own: nothing the caller does with an event (a line written, a
//! store's answer handled) stands between a gate's end and the start of the next one. Both
//! runtimes are single-threaded. The gates' thread is started, and its runtime built, when the
//! [`Runner`] is made, so a caller that makes it while it waits for the config and git pays
//! neither on the way to the first gate.

use std::future::Future;
use std::sync::Arc;

use fixlane_core::event::RunEvent;
use fixlane_core::plan::Plan;
use fixlane_core::verdict::EmergencyStanding;
use fixlane_process::Cancel;
use tokio::sync::{mpsc, oneshot};

use crate::run::{self, RunError, RunSettings, RunSummary};

/// What the gates' thread is handed: the run, to drive on the runtime it built (or the error
/// building it gave).
type GatesJob = Box<dyn FnOnce(Result<&tokio::runtime::Runtime, RunError>) + Send>;

/// The caller's runtime, and the starter of runs beside it.
pub struct Runner {
    runtime: tokio::runtime::Runtime,
    /// The gates' thread, already started and waiting for the first run; taken by it. A later
    /// run (or a thread that could not start) gets a thread of its own.
    waiting: std::sync::Mutex<Option<std::sync::mpsc::Sender<GatesJob>>>,
}

impl Runner {
    /// Builds the caller's runtime, and starts the gates' thread, which builds its own and
    /// waits for the run. The caller's is a current-thread one: what it runs waits on a store
    /// or the run's events, one thing at a time.
    pub fn new() -> Result<Self, RunError> {
        let runtime = current_thread_runtime()?;
        Ok(Self {
            runtime,
            waiting: std::sync::Mutex::new(spawn_gates_thread()),
        })
    }

    /// Runs the caller's own async work to its end; the gates [`start`]ed progress meanwhile on
    /// their own thread.
    ///
    /// [`start`]: Runner::start
    pub fn block_on<F: Future>(&self, work: F) -> F::Output {
        self.runtime.block_on(work)
    }

    /// Starts the plan's gates on their own thread and returns at once; setting `cancel` stops
    /// them. A caller that keeps the plan passes an `Arc` of it: a plan of a thousand gates is
    /// not copied on the way to the first one.
    pub fn start(
        &self,
        plan: impl Into<Arc<Plan>>,
        settings: RunSettings,
        emergency: Option<EmergencyStanding>,
        cancel: impl Into<Cancel>,
    ) -> RunHandle {
        let (sender, events) = mpsc::unbounded_channel();
        let cancel = cancel.into();
        let plan: Arc<Plan> = plan.into();
        let (done_sender, done) = oneshot::channel();
        let job: GatesJob = Box::new(move |runtime| {
            let result = runtime.and_then(|runtime| {
                runtime
                    .block_on(async { run::run(&plan, settings, emergency, sender, cancel).await })
            });
            let _ = done_sender.send(result);
        });
        let waiting = self
            .waiting
            .lock()
            .ok()
            .and_then(|mut waiting| waiting.take());
        // A thread that went away hands the job back, and it gets a thread of its own.
        let job = match waiting {
            Some(thread) => match thread.send(job) {
                Ok(()) => None,
                Err(std::sync::mpsc::SendError(job)) => Some(job),
            },
            None => Some(job),
        };
        let failed = job.and_then(|job| {
            std::thread::Builder::new()
                .name("fixlane-gates".to_owned())
                .spawn(move || drive(job, current_thread_runtime()))
                .err()
                .map(|source| RunError::Thread { source })
        });
        RunHandle {
            events,
            done,
            failed,
        }
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

/// A single-threaded runtime with its I/O and time drivers.
fn current_thread_runtime() -> Result<tokio::runtime::Runtime, RunError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| RunError::Runtime { source })
}

/// Runs the job on the gates' thread, on `runtime` or with the error building it gave.
fn drive(job: GatesJob, runtime: Result<tokio::runtime::Runtime, RunError>) {
    match runtime {
        Ok(runtime) => job(Ok(&runtime)),
        Err(error) => job(Err(error)),
    }
}

/// Starts the gates' thread: it builds its runtime at once, then waits for the run and drives
/// it there; it ends without one when the [`Runner`] goes away. `None` when no thread could
/// start (the run then tries again, and says why if it cannot).
fn spawn_gates_thread() -> Option<std::sync::mpsc::Sender<GatesJob>> {
    let (sender, jobs) = std::sync::mpsc::channel::<GatesJob>();
    std::thread::Builder::new()
        .name("fixlane-gates".to_owned())
        .spawn(move || {
            let runtime = current_thread_runtime();
            if let Ok(job) = jobs.recv() {
                drive(job, runtime);
            }
        })
        .ok()
        .map(|_| sender)
}

/// A run in progress: its events as they happen, then how it ended.
pub struct RunHandle {
    events: mpsc::UnboundedReceiver<RunEvent>,
    done: oneshot::Receiver<Result<RunSummary, RunError>>,
    /// The gates' thread could not start.
    failed: Option<RunError>,
}

impl RunHandle {
    /// The next event; `None` once the run has sent its last (`RunFinished`, unless it failed
    /// to start).
    pub async fn next_event(&mut self) -> Option<RunEvent> {
        self.events.recv().await
    }

    /// Waits for the run's end: its summary, or why it could not run.
    pub async fn finish(self) -> Result<RunSummary, RunError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        self.done.await.map_err(|_| RunError::Stopped)?
    }
}
