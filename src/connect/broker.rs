//! NATS JetStream transport for deployments with several engine nodes.
//!
//! Owns: the engine side ([`Publisher`]: each event is published to the
//! stream with `Nats-Msg-Id` = its key and acknowledged to the client only
//! after JetStream's PubAck, so the broker de-duplicates re-publishes
//! within its window) and the `callsense connector` side ([`relay`]: a
//! durable pull consumer shared by every connector process, so they split
//! the work and scale out; each message is appended to the process's own
//! outbox and only then acked, after which the outbox's sink workers
//! deliver it as in the embedded setup). A process that dies before acking
//! gets its messages redelivered to another.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, context::Publish, AckKind};
use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::watch;

use super::event::Event;
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("NATS {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("JetStream stream {stream}: {reason}")]
    Stream { stream: String, reason: String },
    #[error("JetStream publish of {key}: {reason}")]
    Publish { key: String, reason: String },
    #[error("JetStream consumer {consumer}: {reason}")]
    Consumer { consumer: String, reason: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerConfig {
    /// NATS server URL(s), comma-separated.
    pub url: String,
    /// Token, if the server requires one (`env:NAME` reads the environment).
    pub token: Option<Secret>,
    /// JetStream stream holding the events (created if missing).
    pub stream: String,
    /// Events are published on `{subject_prefix}.{kind}`.
    pub subject_prefix: String,
    /// JetStream de-duplicates re-published keys within this window.
    pub duplicate_window_s: u64,
    /// Stream retention by age (0: unlimited).
    pub max_age_s: u64,
    /// Durable consumer shared by every `callsense connector` process.
    pub consumer: String,
    /// Messages fetched per pull.
    pub fetch_batch: usize,
    /// Longest a pull waits for messages.
    pub fetch_wait_ms: u64,
    /// Messages delivered but not yet acked, per consumer (all processes).
    pub max_ack_pending: i64,
    /// A message not acked this long is redelivered (process died).
    pub ack_wait_s: u64,
    /// Longest wait for a publish acknowledgement.
    pub publish_timeout_ms: u64,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            token: None,
            stream: "CALLSENSE_EVENTS".into(),
            subject_prefix: "callsense.events".into(),
            duplicate_window_s: 600,
            max_age_s: 7 * 24 * 3600,
            consumer: "callsense-connector".into(),
            fetch_batch: 256,
            fetch_wait_ms: 1000,
            max_ack_pending: 20_000,
            ack_wait_s: 30,
            publish_timeout_ms: 5000,
        }
    }
}

impl BrokerConfig {
    /// # Errors
    /// A message naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !name_ok(&self.stream) || !name_ok(&self.consumer) {
            return Err("connect.broker.stream and consumer must be [A-Za-z0-9_-]+".into());
        }
        if self.subject_prefix.is_empty() || self.subject_prefix.contains(['*', '>', ' ']) {
            return Err(
                "connect.broker.subject_prefix must be a plain subject (no wildcards or spaces)"
                    .into(),
            );
        }
        if self.fetch_batch == 0
            || self.fetch_batch > 10_000
            || self.max_ack_pending < self.fetch_batch as i64
        {
            return Err(
                "connect.broker.fetch_batch must be in [1, 10000] and ≤ max_ack_pending".into(),
            );
        }
        if self.duplicate_window_s == 0 || self.ack_wait_s == 0 || self.publish_timeout_ms == 0 {
            return Err(
                "connect.broker.duplicate_window_s, ack_wait_s and publish_timeout_ms must be ≥ 1"
                    .into(),
            );
        }
        Ok(())
    }
}

async fn context(c: &BrokerConfig) -> Result<jetstream::Context, BrokerError> {
    let err = |reason: String| BrokerError::Connect {
        url: c.url.clone(),
        reason,
    };
    let mut opts = async_nats::ConnectOptions::new()
        .name("callsense")
        .connection_timeout(Duration::from_secs(5));
    if let Some(t) = &c.token {
        opts = opts.token(t.resolve().map_err(err)?);
    }
    let client = opts
        .connect(c.url.as_str())
        .await
        .map_err(|e| err(e.to_string()))?;
    let mut js = jetstream::new(client);
    js.set_timeout(Duration::from_millis(c.publish_timeout_ms));
    js.get_or_create_stream(jetstream::stream::Config {
        name: c.stream.clone(),
        subjects: vec![format!("{}.>", c.subject_prefix)],
        duplicate_window: Duration::from_secs(c.duplicate_window_s),
        max_age: Duration::from_secs(c.max_age_s),
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| BrokerError::Stream {
        stream: c.stream.clone(),
        reason: e.to_string(),
    })?;
    Ok(js)
}

/// The engine's side: publishes events and waits for JetStream to store them.
pub struct Publisher {
    js: jetstream::Context,
    prefix: String,
}

impl Publisher {
    /// Connects and makes sure the stream exists.
    ///
    /// # Errors
    /// The server is unreachable or the stream cannot be created.
    pub async fn connect(c: &BrokerConfig) -> Result<Self, BrokerError> {
        Ok(Self {
            js: context(c).await?,
            prefix: c.subject_prefix.clone(),
        })
    }

    /// Publishes one event; returns once JetStream has stored it (or had it
    /// already: a duplicate key inside the window is acknowledged, not stored twice).
    ///
    /// # Errors
    /// No acknowledgement (server down, timeout, stream refused).
    pub async fn publish(&self, event: &Event) -> Result<(), BrokerError> {
        let err = |reason: String| BrokerError::Publish {
            key: event.key.clone(),
            reason,
        };
        let payload = serde_json::to_vec(event).map_err(|e| err(e.to_string()))?;
        let ack = self
            .js
            .send_publish(
                format!("{}.{}", self.prefix, event.kind.as_str()),
                Publish::build()
                    .payload(payload.into())
                    .message_id(&event.key),
            )
            .await
            .map_err(|e| err(e.to_string()))?;
        ack.await.map_err(|e| err(e.to_string()))?;
        Ok(())
    }
}

/// Where relayed events are kept for delivery: in `callsense connector`,
/// the connector's outbox (fanned out to the sinks that take each kind).
pub trait EventStore: Send + Sync + 'static {
    /// Persists `event` durably before returning `Ok` (the message is then
    /// acknowledged to the broker).
    fn store(
        &self,
        event: Event,
    ) -> impl std::future::Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send;
}

/// The connector process's side: moves events from the shared consumer into
/// `store` until `shutdown` turns true.
///
/// # Errors
/// The consumer cannot be created. Transient errors while running are
/// logged and retried.
pub async fn relay<S: EventStore>(
    c: &BrokerConfig,
    store: Arc<S>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), BrokerError> {
    let js = context(c).await?;
    let cerr = |reason: String| BrokerError::Consumer {
        consumer: c.consumer.clone(),
        reason,
    };
    let stream = js
        .get_stream(&c.stream)
        .await
        .map_err(|e| BrokerError::Stream {
            stream: c.stream.clone(),
            reason: e.to_string(),
        })?;
    let consumer = stream
        .get_or_create_consumer(
            &c.consumer,
            pull::Config {
                durable_name: Some(c.consumer.clone()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(c.ack_wait_s),
                max_ack_pending: c.max_ack_pending,
                filter_subject: format!("{}.>", c.subject_prefix),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| cerr(e.to_string()))?;
    tracing::info!(stream = %c.stream, consumer = %c.consumer, "Relaying events from JetStream to the outbox");
    while !*shutdown.borrow() {
        let batch = consumer
            .fetch()
            .max_messages(c.fetch_batch)
            .expires(Duration::from_millis(c.fetch_wait_ms))
            .messages()
            .await;
        let mut messages = match batch {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "JetStream fetch failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        };
        while let Some(msg) = messages.next().await {
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "JetStream message error");
                    break;
                }
            };
            match serde_json::from_slice::<Event>(&msg.payload) {
                Ok(event) => match store.store(event).await {
                    Ok(()) => {
                        if let Err(e) = msg.ack().await {
                            tracing::warn!(error = %e, "Ack failed; the message will be redelivered (its key de-duplicates)");
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "Outbox append failed; message left for redelivery");
                        let _ = msg
                            .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                            .await;
                    }
                },
                Err(e) => {
                    tracing::error!(subject = %msg.subject, error = %e, "Unreadable event on the stream; terminated");
                    let _ = msg.ack_with(AckKind::Term).await;
                }
            }
        }
    }
    Ok(())
}
