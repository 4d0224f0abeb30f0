//! The connector as the engine sees it: record an event, durably; the
//! workers do the rest.
//!
//! Owns: PII masking of events, fan-out of each event to the sinks that map
//! its kind (a realtime row now and, when the sink has batch fields, a
//! detail row due at the sink's next batch window), the worker tasks, and
//! their shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::broker::{BrokerError, Publisher};
use super::config::ConnectConfig;
use super::event::{CallIdentity, Event, EventKind};
use super::mapping::Part;
use super::metrics::ConnectMetrics;
use super::outbox::{NewDelivery, OpenOptions, Outbox, OutboxError};
use super::retry::Backoff;
use super::sinks::{Sink, SinkError};
use super::worker::{self, WorkerSetup};
use crate::pii::{Masked, Masker};
use crate::proto::{CallDisposition, CallSummary, UtteranceResult};
use crate::telemetry::Telemetry;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("{0}")]
    Config(String),
}

/// Why an event could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

/// What this process does with events (not a speaker's role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The engine: record events (to the broker if one is configured, else
    /// to the local outbox and its sinks).
    Engine,
    /// `callsense connector`: move events from the broker into the local
    /// outbox and deliver them to the sinks.
    Relay,
}

/// Which event kinds a sink takes, and whether each has batch fields.
struct SinkRoute {
    sink: String,
    kinds: HashMap<EventKind, bool>,
    batch_interval_ms: u64,
}

/// The sinks of tenants whose `[tenants.<name>]` table names them; other
/// tenants' events go to every sink that maps them.
#[derive(Debug, Clone, Default)]
pub struct TenantSinks(HashMap<String, std::collections::HashSet<String>>);

impl TenantSinks {
    pub fn from_config(tenants: &crate::auth::TenantsConfig) -> Self {
        Self(
            tenants
                .iter()
                .filter_map(|(name, t)| {
                    t.sinks
                        .as_ref()
                        .map(|s| (name.clone(), s.iter().cloned().collect()))
                })
                .collect(),
        )
    }

    /// Whether `tenant`'s events go to `sink`.
    pub fn allows(&self, tenant: &str, sink: &str) -> bool {
        self.0.get(tenant).is_none_or(|s| s.contains(sink))
    }
}

pub struct Connector {
    outbox: Option<Outbox>,
    tenant_sinks: TenantSinks,
    publisher: Option<Publisher>,
    masker: Masker,
    persist_unmasked: bool,
    routes: Vec<SinkRoute>,
    pub metrics: Arc<ConnectMetrics>,
    stop: watch::Sender<bool>,
    workers: parking_lot::Mutex<Option<JoinSet<()>>>,
}

impl Connector {
    /// Starts the connector for `role` on the current tokio runtime: the
    /// broker publisher (engine with `connect.broker`), or the outbox with
    /// every sink's workers. `None` when the engine has nothing to record.
    ///
    /// # Errors
    /// The broker is unreachable, the outbox cannot be opened or a sink
    /// cannot be built.
    pub async fn start(
        config: &ConnectConfig,
        mode: Mode,
        telemetry: &Telemetry,
    ) -> Result<Option<Arc<Self>>, ConnectError> {
        Self::start_for_tenants(config, mode, telemetry, TenantSinks::default()).await
    }

    /// [`Connector::start`] with each tenant's events going only to its
    /// sinks (`[tenants.<name>] sinks`).
    ///
    /// # Errors
    /// As [`Connector::start`].
    pub async fn start_for_tenants(
        config: &ConnectConfig,
        mode: Mode,
        telemetry: &Telemetry,
        tenant_sinks: TenantSinks,
    ) -> Result<Option<Arc<Self>>, ConnectError> {
        let (stop, _) = watch::channel(false);
        if mode == Mode::Engine {
            if let Some(b) = &config.broker {
                let publisher = Publisher::connect(b).await?;
                tracing::info!(url = %b.url, stream = %b.stream, "Events go to NATS JetStream; `callsense connector` delivers them");
                return Ok(Some(Arc::new(Self {
                    outbox: None,
                    tenant_sinks,
                    publisher: Some(publisher),
                    masker: Masker::new(&config.privacy.masking),
                    persist_unmasked: config.privacy.persist_unmasked,
                    routes: Vec::new(),
                    metrics: Arc::new(ConnectMetrics::new(telemetry, &[], false)),
                    stop,
                    workers: parking_lot::Mutex::new(None),
                })));
            }
        }
        if config.sinks.is_empty() {
            if mode == Mode::Relay {
                return Err(ConnectError::Config(
                    "callsense connector needs at least one [[connect.sinks]] entry".into(),
                ));
            }
            return Ok(None);
        }
        let names: Vec<String> = config.sinks.iter().map(|s| s.name.clone()).collect();
        let outbox = Outbox::open_with(
            &config.outbox,
            &names,
            OpenOptions::delivering(config.schedule_horizon_ms()),
        )?;
        let metrics = Arc::new(ConnectMetrics::new(telemetry, &names, true));
        let stop_rx = stop.subscribe();
        let mut workers = JoinSet::new();
        let mut routes = Vec::new();
        for s in &config.sinks {
            let sink = Arc::new(Sink::build(s)?);
            let setup = Arc::new(WorkerSetup {
                name: s.name.clone(),
                sink,
                outbox: outbox.clone(),
                backoff: Backoff::new(&config.retry),
                max_batch: s.max_batch,
                max_age_ms: config.retry.max_age_s * 1000,
                poll: Duration::from_millis(config.outbox.poll_interval_ms),
                metrics: Arc::clone(&metrics),
            });
            for _ in 0..s.workers {
                workers.spawn(worker::run(Arc::clone(&setup), stop_rx.clone()));
            }
            routes.push(SinkRoute {
                sink: s.name.clone(),
                kinds: s
                    .records
                    .iter()
                    .map(|(k, m)| (*k, m.has_batch_fields()))
                    .collect(),
                batch_interval_ms: s.batch_interval_s * 1000,
            });
            tracing::info!(sink = %s.name, kind = s.kind.as_str(), workers = s.workers, "Connector sink started");
        }
        Ok(Some(Arc::new(Self {
            outbox: Some(outbox),
            tenant_sinks,
            publisher: None,
            masker: Masker::new(&config.privacy.masking),
            persist_unmasked: config.privacy.persist_unmasked,
            routes,
            metrics,
            stop,
            workers: parking_lot::Mutex::new(Some(workers)),
        })))
    }

    /// The masker every outgoing text passes through.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// The local outbox (`None` on an engine that publishes to a broker).
    pub fn outbox(&self) -> Option<&Outbox> {
        self.outbox.as_ref()
    }

    /// Records a final utterance for every sink that maps it, masking its
    /// transcript.
    ///
    /// # Errors
    /// The outbox could not persist it; nothing was acknowledged.
    pub async fn record_utterance(
        &self,
        call: &CallIdentity,
        r: &UtteranceResult,
    ) -> Result<(), RecordError> {
        self.record_masked_utterance(call, r, &self.masker.mask(&r.transcript))
            .await
    }

    /// Like [`Connector::record_utterance`], with the transcript already
    /// masked by [`Connector::masker`] (the call loop masks once for the
    /// event and the rules).
    ///
    /// # Errors
    /// The outbox could not persist it; nothing was acknowledged.
    pub async fn record_masked_utterance(
        &self,
        call: &CallIdentity,
        r: &UtteranceResult,
        masked: &Masked,
    ) -> Result<(), RecordError> {
        self.record(Event::utterance(call, r, masked, self.persist_unmasked))
            .await
    }

    /// Records a call summary for every sink that maps it.
    ///
    /// # Errors
    /// The outbox could not persist it.
    pub async fn record_summary(
        &self,
        call: &CallIdentity,
        s: &CallSummary,
        disposition: Option<&CallDisposition>,
    ) -> Result<(), RecordError> {
        self.record(Event::call_summary(call, s, disposition)).await
    }

    /// Persists one event (to the broker, or for every local sink that maps
    /// its kind); returns once it is durable.
    ///
    /// # Errors
    /// The outbox or the broker could not persist it.
    pub async fn record(&self, event: Event) -> Result<(), RecordError> {
        let result = match (&self.publisher, &self.outbox) {
            (Some(p), _) => p.publish(&event).await.map_err(RecordError::from),
            (None, Some(outbox)) => self.append(outbox, event).await.map_err(RecordError::from),
            (None, None) => Ok(()),
        };
        let counter = if result.is_ok() {
            &self.metrics.events_recorded
        } else {
            &self.metrics.record_errors
        };
        counter.increment(1);
        result
    }

    async fn append(&self, outbox: &Outbox, event: Event) -> Result<(), OutboxError> {
        let event = Arc::new(event);
        let now = outbox.now_ms();
        let mut rows = Vec::new();
        for r in &self.routes {
            let Some(&has_batch) = r.kinds.get(&event.kind) else {
                continue;
            };
            if !self.tenant_sinks.allows(&event.call.tenant, &r.sink) {
                continue;
            }
            rows.push(NewDelivery {
                sink: r.sink.clone(),
                part: Part::Core,
                delay_ms: 0,
                event: Arc::clone(&event),
            });
            if has_batch {
                let window = r.batch_interval_ms.max(1);
                // The next window boundary.
                let delay_ms = window - now % window;
                rows.push(NewDelivery {
                    sink: r.sink.clone(),
                    part: Part::Detail,
                    delay_ms,
                    event: Arc::clone(&event),
                });
            }
        }
        outbox.append(rows).await
    }

    /// Brings the gauges up to date (the outbox backlog).
    pub fn refresh_metrics(&self) {
        if let (Some(g), Some(o)) = (&self.metrics.outbox_pending, &self.outbox) {
            g.set(o.pending() as f64);
        }
        if let (Some(c), Some(o)) = (&self.metrics.clock_jumps, &self.outbox) {
            c.absolute(o.clock_jumps());
        }
    }

    /// Stops the workers after their current batch, waiting at most `grace`.
    /// Undelivered events stay in the outbox for the next start.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.stop.send(true);
        let Some(mut workers) = self.workers.lock().take() else {
            return;
        };
        if tokio::time::timeout(grace, async {
            while workers.join_next().await.is_some() {}
        })
        .await
        .is_err()
        {
            tracing::warn!("Connector workers still busy after the grace period; stopping them");
            workers.abort_all();
        }
    }
}

impl super::broker::EventStore for Connector {
    async fn store(&self, event: Event) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.record(event).await?)
    }
}
