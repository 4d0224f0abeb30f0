//! The delivery loop of one sink worker.
//!
//! Owns: claiming due deliveries from the outbox, handing them to the sink,
//! and applying each outcome: delete when delivered, reschedule with backoff
//! (honouring `Retry-After`) when transient, dead-letter when refused or
//! too old, and stop the sink when its endpoint is gone. Waits on the
//! outbox's wake-up (new events) or the poll interval (scheduled batches,
//! retries) when idle. Stops between batches when shutdown is signalled;
//! anything not yet delivered stays in the outbox.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::event::now_ms;
use super::metrics::ConnectMetrics;
use super::outbox::{Delivery, Outbox};
use super::retry::{Backoff, Outcome};
use super::sinks::Sink;

/// What a worker needs; shared by the workers of one sink.
pub struct WorkerSetup {
    pub name: String,
    pub sink: Arc<Sink>,
    pub outbox: Outbox,
    pub backoff: Backoff,
    pub max_batch: usize,
    pub max_age_ms: u64,
    pub poll: Duration,
    pub metrics: Arc<ConnectMetrics>,
}

/// Runs until `shutdown` turns true.
pub async fn run(setup: Arc<WorkerSetup>, mut shutdown: watch::Receiver<bool>) {
    let s = &*setup;
    let wake = s.outbox.wake(&s.name);
    let mut errors = 0u32;
    while !*shutdown.borrow() {
        let batch = match s.outbox.claim(&s.name, s.max_batch).await {
            Ok(b) => {
                errors = 0;
                b
            }
            Err(e) => {
                errors += 1;
                tracing::error!(sink = %s.name, error = %e, "Outbox claim failed");
                tokio::time::sleep(s.backoff.delay(errors, None).max(s.poll)).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::select! {
                () = async { match &wake { Some(w) => w.notified().await, None => std::future::pending().await } } => {}
                () = tokio::time::sleep(s.poll) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        let outcomes = s.sink.deliver(&batch).await;
        if let Err(e) = apply(s, &batch, outcomes).await {
            tracing::error!(sink = %s.name, error = %e, "Outbox update failed; the deliveries stay leased and will be retried");
        }
    }
}

async fn apply(
    s: &WorkerSetup,
    batch: &[Delivery],
    outcomes: Vec<Outcome>,
) -> Result<(), super::outbox::OutboxError> {
    let now = now_ms();
    let mut delivered = Vec::new();
    for (i, (d, o)) in batch.iter().zip(outcomes).enumerate() {
        match o {
            Outcome::Delivered => {
                delivered.push(d.id);
                s.metrics.delivered(&s.name, d, now);
            }
            Outcome::Retry { after, reason } => {
                s.metrics.retried(&s.name);
                // Age in the outbox's time, which clock steps do not move.
                let age = s.outbox.now_ms().saturating_sub(d.created_ms);
                if s.max_age_ms > 0 && age > s.max_age_ms {
                    let why = format!(
                        "gave up after {} attempts over {} s; last error: {reason}",
                        d.attempts + 1,
                        age / 1000
                    );
                    tracing::warn!(sink = %s.name, key = %d.event.key, reason = %why, "Delivery dead-lettered");
                    s.metrics.dead_lettered(&s.name);
                    s.outbox.dead_letter(d.id, why).await?;
                } else {
                    let delay = s.backoff.delay(d.attempts + 1, after);
                    tracing::debug!(sink = %s.name, key = %d.event.key, attempts = d.attempts + 1, delay_ms = delay.as_millis() as u64, reason = %reason, "Delivery will be retried");
                    s.outbox.retry(d.id, delay, reason).await?;
                }
            }
            Outcome::Reject { reason } => {
                tracing::warn!(sink = %s.name, key = %d.event.key, reason = %reason, "Delivery refused; dead-lettered");
                s.metrics.dead_lettered(&s.name);
                s.outbox.dead_letter(d.id, reason).await?;
            }
            Outcome::Disable { reason } => {
                tracing::error!(sink = %s.name, reason = %reason, "Endpoint gone; sink disabled until `callsense outbox enable`");
                s.metrics.disabled(&s.name);
                s.outbox.disable(&s.name, reason).await?;
                let rest: Vec<i64> = batch[i..].iter().map(|d| d.id).collect();
                s.outbox.release(rest).await?;
                break;
            }
        }
    }
    s.outbox.complete(delivered).await
}
