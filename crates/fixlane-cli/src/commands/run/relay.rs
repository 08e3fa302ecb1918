//! Handing a run's events to its reporters while it runs. The store's recorder hears every
//! event as it happens; the views (terminal, plain, JSON, the table, `JUnit`, Markdown) hear
//! what the store has recorded: no passing verdict before the run's start is recorded, and the
//! run's end only once it is recorded. A verdict that could not be written is not a verdict.

use fixlane_core::{RunEvent, Verdict};
use fixlane_runner::RunHandle;
use tokio::sync::watch;

use crate::report::Reporter;

/// Whether the event says the change may merge.
fn is_passing(event: &RunEvent) -> bool {
    matches!(
        event,
        RunEvent::VerdictChanged {
            verdict: Verdict::Ready | Verdict::Green,
            ..
        }
    )
}

/// Views fed only what the store has recorded.
pub struct WhenRecorded<R> {
    views: R,
    /// The recorder's answer: is the run's start recorded (`None` until it knows)?
    started: watch::Receiver<Option<bool>>,
    /// The start is known not to be recorded: no passing verdict is shown.
    unrecorded: bool,
    /// The run's end, held until it is recorded.
    finished: Option<RunEvent>,
}

impl<R: Reporter> WhenRecorded<R> {
    pub fn new(views: R, started: watch::Receiver<Option<bool>>) -> Self {
        Self {
            views,
            started,
            unrecorded: false,
            finished: None,
        }
    }

    /// Waits until the store has said whether the run's start is recorded: normally long since,
    /// so this waits only when the store is slow to answer. Before a passing verdict.
    async fn wait_for_start(&mut self) {
        if !self.unrecorded {
            // A recorder that stopped without answering leaves `None`: not recorded.
            let _ = self.started.wait_for(Option::is_some).await;
        }
    }

    /// The run's end is recorded, so it is shown.
    pub fn recorded(&mut self) {
        if let Some(event) = self.finished.take() {
            self.views.event(&event);
        }
    }
}

impl<R: Reporter> Reporter for WhenRecorded<R> {
    fn event(&mut self, event: &RunEvent) {
        let passing = is_passing(event);
        if passing && !self.unrecorded {
            self.unrecorded = *self.started.borrow() != Some(true);
        }
        if matches!(event, RunEvent::RunFinished { .. }) {
            self.finished = Some(event.clone());
        } else if !(passing && self.unrecorded) {
            self.views.event(event);
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.views.finish()
    }
}

/// What the command itself needs of the events, whether or not they were shown.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Relayed {
    /// The verdict the run ended with; `None` when it never finished.
    pub verdict: Option<Verdict>,
    /// When the change was first safe to merge.
    pub ready_at: Option<jiff::Timestamp>,
}

/// Hands every event of `run` to the recorder and to the views, until the run has sent its
/// last; then finishes the recorder, so it records what is left and returns.
pub async fn relay(
    run: &mut RunHandle,
    recorder: &mut impl Reporter,
    views: &mut WhenRecorded<impl Reporter>,
) -> anyhow::Result<Relayed> {
    let mut relayed = Relayed::default();
    while let Some(event) = run.next_event().await {
        if is_passing(&event) {
            views.wait_for_start().await;
        }
        match &event {
            RunEvent::RunFinished { verdict, .. } => relayed.verdict = Some(*verdict),
            RunEvent::VerdictChanged { at, .. }
                if is_passing(&event) && relayed.ready_at.is_none() =>
            {
                relayed.ready_at = Some(*at);
            }
            _ => {}
        }
        views.event(&event);
        recorder.event(&event);
    }
    recorder.finish()?;
    Ok(relayed)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use super::*;
    use crate::report::fixtures;

    /// The verdicts a view was shown, and whether the run's end was among them.
    #[derive(Clone, Default)]
    struct Shown(Rc<RefCell<Vec<String>>>);

    impl Reporter for Shown {
        fn event(&mut self, event: &RunEvent) {
            let seen = match event {
                RunEvent::VerdictChanged { verdict, .. } => format!("verdict {}", verdict.as_str()),
                RunEvent::RunFinished { verdict, .. } => format!("finished {}", verdict.as_str()),
                RunEvent::GateFinished { gate, .. } => format!("gate {gate}"),
                _ => return,
            };
            self.0.borrow_mut().push(seen);
        }
    }

    impl Shown {
        fn seen(&self) -> Vec<String> {
            self.0.borrow().clone()
        }
    }

    fn feed(views: &mut WhenRecorded<Shown>, events: &[RunEvent]) {
        for event in events {
            views.event(event);
        }
    }

    #[test]
    fn with_its_start_recorded_a_run_shows_all_and_its_end_once_recorded() {
        let shown = Shown::default();
        let (_store, started) = watch::channel(Some(true));
        let mut views = WhenRecorded::new(shown.clone(), started);
        feed(&mut views, &fixtures::green());
        assert_eq!(
            shown.seen(),
            ["verdict waiting", "gate build", "verdict green"]
        );
        views.recorded();
        views.finish().unwrap();
        assert_eq!(
            shown.seen().last().map(String::as_str),
            Some("finished green")
        );
    }

    #[test]
    fn with_its_start_not_recorded_no_passing_verdict_and_no_end_is_shown() {
        let shown = Shown::default();
        let (_store, started) = watch::channel(Some(false));
        let mut views = WhenRecorded::new(shown.clone(), started);
        feed(&mut views, &fixtures::green());
        views.finish().unwrap();
        assert_eq!(shown.seen(), ["verdict waiting", "gate build"]);
    }

    #[test]
    fn a_recorder_that_never_answered_recorded_nothing() {
        let shown = Shown::default();
        let (store, started) = watch::channel(None);
        drop(store);
        let mut views = WhenRecorded::new(shown.clone(), started);
        feed(&mut views, &fixtures::green());
        assert_eq!(shown.seen(), ["verdict waiting", "gate build"]);
    }

    #[test]
    fn a_passing_verdict_waits_for_the_stores_answer() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let (store, started) = watch::channel(None);
        let mut views = WhenRecorded::new(Shown::default(), started);
        runtime.block_on(async {
            // Polled once, at once: no answer yet, so it is still waiting.
            let early = tokio::time::timeout(Duration::ZERO, views.wait_for_start()).await;
            assert!(early.is_err(), "it did not wait");
            store.send(Some(true)).unwrap();
            views.wait_for_start().await;
        });
        assert_eq!(*views.started.borrow(), Some(true));
    }
}
