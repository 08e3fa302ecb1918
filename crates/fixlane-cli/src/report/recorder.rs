//! The store's recorder (`crate::record`) as a reporter: each event is handed to its channel,
//! and the run's end closes the channel so the recorder writes what is left and returns.

use fixlane_core::RunEvent;
use tokio::sync::{mpsc, oneshot};

use super::Reporter;

pub struct RecorderFeed {
    /// `None` once finished.
    sender: Option<mpsc::UnboundedSender<RunEvent>>,
    /// Told when the first event comes (see [`RecorderFeed::telling_first_event`]).
    first_event: Option<oneshot::Sender<()>>,
}

impl RecorderFeed {
    pub fn new(sender: mpsc::UnboundedSender<RunEvent>) -> Self {
        Self {
            sender: Some(sender),
            first_event: None,
        }
    }

    /// Also tells `first_event` when the first event comes (or the feed finishes without
    /// one): the recorder's cue to begin.
    pub fn telling_first_event(self, first_event: oneshot::Sender<()>) -> Self {
        Self {
            first_event: Some(first_event),
            ..self
        }
    }
}

impl Reporter for RecorderFeed {
    fn event(&mut self, event: &RunEvent) {
        if let Some(first_event) = self.first_event.take() {
            let _ = first_event.send(());
        }
        if let Some(sender) = &self.sender {
            // The recorder only stops early when the store failed; the run is cancelled then.
            let _ = sender.send(event.clone());
        }
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        self.first_event = None;
        self.sender = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn the_recorder_gets_every_event_in_order_then_the_end_of_the_run() {
        let (sender, mut receiver) = mpsc::unbounded_channel();
        let mut feed = RecorderFeed::new(sender);
        let events = fixtures::run();
        for event in &events {
            feed.event(event);
        }
        let mut forwarded = Vec::new();
        while let Ok(event) = receiver.try_recv() {
            forwarded.push(event);
        }
        assert_eq!(forwarded, events);
        assert!(!receiver.is_closed(), "open until the run is finished");
        feed.finish().unwrap();
        assert!(receiver.is_closed());
        // Nothing is sent after the end.
        feed.event(&events[0]);
        assert!(receiver.try_recv().is_err());
    }
}
