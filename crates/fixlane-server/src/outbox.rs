//! The webhook outbox, drained by every replica in the background: every two seconds each
//! replica claims what is due (claims are leased, and on `PostgreSQL` taken with `FOR UPDATE
//! SKIP LOCKED`, so replicas share the work and never send one delivery twice), sends it, and
//! records the outcome. It never blocks a request: the action committed before its row was
//! drained. Its failures are visible in `/metrics` (`fixlane_webhook_deliveries{state}`).

use std::time::Duration;

use fixlane_notify::DrainOptions;

use crate::context::Context;

/// How often a replica looks for what is due.
const EVERY: Duration = Duration::from_secs(2);

/// Drains until `stop` says so; spawned by [`crate::Server::run`] when webhooks are configured.
pub async fn drain_until(context: Context, mut stop: tokio::sync::watch::Receiver<bool>) {
    let zone = fixlane_app::followups::zone(context.config());
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        let mut options = DrainOptions::new(zone.clone());
        options.budget = Duration::from_millis(1_500);
        crate::SERVER_ACTOR.clone_into(&mut options.actor);
        match fixlane_notify::drain(context.store(), context.config(), &options).await {
            Ok(drained) => {
                if drained.delivered > 0 || drained.overdue_noted > 0 {
                    tracing::info!(
                        delivered = drained.delivered,
                        overdue_noted = drained.overdue_noted,
                        "webhooks delivered"
                    );
                }
                for problem in &drained.problems {
                    tracing::warn!(problem, "webhook");
                }
            }
            Err(error) => tracing::warn!(%error, "the webhook outbox could not be drained"),
        }
    }
}
