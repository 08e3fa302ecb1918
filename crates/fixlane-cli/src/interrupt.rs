//! Ctrl-C as a cancel signal: running gates are stopped and a canary rolls back, instead of the
//! process dying with work half done.

use tokio::sync::watch;

/// Sets `cancel` on Ctrl-C; the returned task has finished exactly when Ctrl-C was pressed.
pub fn on_ctrl_c(cancel: watch::Sender<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = cancel.send(true);
        }
    })
}
