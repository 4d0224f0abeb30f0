//! Connector metrics per sink, registered in the engine's [`Telemetry`].
//!
//! Owns: counters of events recorded, deliveries delivered, retried,
//! dead-lettered and sinks disabled, the outbox backlog, and the event-final
//! → CRM-acknowledged latency histogram per sink (realtime half only).

use std::collections::BTreeMap;

use metrics::{Counter, Gauge, Histogram};

use super::mapping::Part;
use super::outbox::Delivery;
use crate::telemetry::{ObserveMs, Telemetry};

/// One sink's series (label `sink`).
pub struct SinkMetrics {
    pub delivered: Counter,
    pub retried: Counter,
    pub dead_lettered: Counter,
    pub disabled: Counter,
    /// Event final → sink acknowledged, realtime deliveries.
    pub latency: Histogram,
}

impl SinkMetrics {
    fn new(t: &Telemetry, sink: &str) -> Self {
        let l = [("sink", sink)];
        Self {
            delivered: t.counter(
                "callsense_connect_delivered_total",
                "Deliveries a sink acknowledged.",
                &l,
            ),
            retried: t.counter(
                "callsense_connect_retries_total",
                "Delivery attempts that failed and will be retried.",
                &l,
            ),
            dead_lettered: t.counter(
                "callsense_connect_dead_letters_total",
                "Deliveries refused for good (dead-letter table).",
                &l,
            ),
            disabled: t.counter(
                "callsense_connect_sink_disabled_total",
                "Times a sink was disabled (webhook 410).",
                &l,
            ),
            latency: t.histogram(
                "callsense_connect_delivery_latency_seconds",
                "From an event becoming final to the sink acknowledging it (realtime fields).",
                &l,
            ),
        }
    }
}

/// All connector series; sinks are fixed at start.
pub struct ConnectMetrics {
    pub events_recorded: Counter,
    pub record_errors: Counter,
    /// Deliveries waiting in the outbox (set by [`super::Connector::refresh_metrics`]).
    pub outbox_pending: Option<Gauge>,
    /// Steps of the system clock the outbox adjusted for.
    pub clock_jumps: Option<Counter>,
    pub sinks: BTreeMap<String, SinkMetrics>,
}

impl ConnectMetrics {
    /// Registers the connector's series for `sinks` in `t`; the backlog gauge
    /// only when there is an outbox.
    pub fn new(t: &Telemetry, sinks: &[String], outbox: bool) -> Self {
        Self {
            events_recorded: t.counter(
                "callsense_connect_events_total",
                "Events persisted to the outbox.",
                &[],
            ),
            record_errors: t.counter(
                "callsense_connect_record_errors_total",
                "Events the outbox could not persist.",
                &[],
            ),
            outbox_pending: outbox.then(|| {
                t.gauge(
                    "callsense_outbox_pending",
                    "Deliveries waiting in the outbox.",
                    &[],
                )
            }),
            clock_jumps: outbox.then(|| {
                t.counter(
                    "callsense_outbox_clock_jumps_total",
                    "Steps of the system clock (≥ 1 s) the outbox moved its schedule for.",
                    &[],
                )
            }),
            sinks: sinks
                .iter()
                .map(|s| (s.clone(), SinkMetrics::new(t, s)))
                .collect(),
        }
    }

    fn sink(&self, name: &str) -> Option<&SinkMetrics> {
        self.sinks.get(name)
    }

    pub fn delivered(&self, sink: &str, d: &Delivery, now_ms: u64) {
        if let Some(m) = self.sink(sink) {
            m.delivered.increment(1);
            if d.part == Part::Core {
                m.latency
                    .observe_ms(now_ms.saturating_sub(d.event.occurred_at_ms) as f32);
            }
        }
    }
    pub fn retried(&self, sink: &str) {
        if let Some(m) = self.sink(sink) {
            m.retried.increment(1);
        }
    }
    pub fn dead_lettered(&self, sink: &str) {
        if let Some(m) = self.sink(sink) {
            m.dead_lettered.increment(1);
        }
    }
    pub fn disabled(&self, sink: &str) {
        if let Some(m) = self.sink(sink) {
            m.disabled.increment(1);
        }
    }
}
