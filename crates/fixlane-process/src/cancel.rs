//! The one cancellation token: a `watch` channel's receiver that turns `true` on Ctrl-C.

use tokio::sync::watch;

/// Whether to stop: set by the caller (Ctrl-C, or a run that can no longer be recorded) and
/// read by every task that has something to stop. Cloning it is cheap; every clone sees the
/// same value.
#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<bool>);

impl Cancel {
    /// A token that never cancels, for work nothing may interrupt (a rollback, a sample).
    pub fn never() -> Self {
        // With its sender gone at once, the value stays `false` for good.
        let (_, receiver) = watch::channel(false);
        Cancel(receiver)
    }

    /// Whether cancel has been asked for by now.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancel is asked for; never, if its sender goes away without asking, so a
    /// caller that drops its sender does not cancel everything by accident.
    pub async fn cancelled(&mut self) {
        if self.0.wait_for(|value| *value).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl From<watch::Receiver<bool>> for Cancel {
    fn from(receiver: watch::Receiver<bool>) -> Self {
        Cancel(receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_once_cancel_is_asked_for() {
        let (sender, receiver) = watch::channel(false);
        let mut cancel = Cancel::from(receiver);
        assert!(!cancel.is_cancelled());
        let waiter = tokio::spawn(async move {
            cancel.cancelled().await;
            cancel.is_cancelled()
        });
        let _ = sender.send(true);
        assert!(matches!(waiter.await, Ok(true)));
    }

    #[tokio::test]
    async fn a_dropped_sender_is_not_a_cancel() {
        let (sender, receiver) = watch::channel(false);
        drop(sender);
        for mut cancel in [Cancel::from(receiver), Cancel::never()] {
            // `cancelled` is polled first; it must still be pending when the yield is done.
            tokio::select! {
                biased;
                () = cancel.cancelled() => panic!("a dropped sender counted as a cancel"),
                () = tokio::task::yield_now() => {}
            }
            assert!(!cancel.is_cancelled());
        }
    }
}
