//! Connector metrics per sink, in the Prometheus text format.
//!
//! Owns: counters of events recorded, deliveries delivered, retried,
//! dead-lettered and sinks disabled, and the event-final → CRM-acknowledged
//! latency histogram per sink (realtime half only).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::mapping::Part;
use super::outbox::Delivery;
use crate::pipeline::metrics::Histogram;

/// Picks one counter of a sink.
type Counter = fn(&SinkMetrics) -> &AtomicU64;

#[derive(Default)]
pub struct SinkMetrics {
    pub delivered: AtomicU64,
    pub retried: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub disabled: AtomicU64,
    /// Event final → sink acknowledged, realtime deliveries.
    pub latency: Histogram,
}

/// All connector counters; sinks are fixed at start.
#[derive(Default)]
pub struct ConnectMetrics {
    pub events_recorded: AtomicU64,
    pub record_errors: AtomicU64,
    pub sinks: BTreeMap<String, SinkMetrics>,
}

impl ConnectMetrics {
    pub fn new(sinks: impl IntoIterator<Item = String>) -> Self {
        Self {
            sinks: sinks
                .into_iter()
                .map(|s| (s, SinkMetrics::default()))
                .collect(),
            ..Self::default()
        }
    }

    fn sink(&self, name: &str) -> Option<&SinkMetrics> {
        self.sinks.get(name)
    }

    pub fn delivered(&self, sink: &str, d: &Delivery, now_ms: u64) {
        if let Some(m) = self.sink(sink) {
            m.delivered.fetch_add(1, Ordering::Relaxed);
            if d.part == Part::Core {
                m.latency
                    .observe_ms(now_ms.saturating_sub(d.event.occurred_at_ms) as f32);
            }
        }
    }
    pub fn retried(&self, sink: &str) {
        if let Some(m) = self.sink(sink) {
            m.retried.fetch_add(1, Ordering::Relaxed);
        }
    }
    pub fn dead_lettered(&self, sink: &str) {
        if let Some(m) = self.sink(sink) {
            m.dead_lettered.fetch_add(1, Ordering::Relaxed);
        }
    }
    pub fn disabled(&self, sink: &str) {
        if let Some(m) = self.sink(sink) {
            m.disabled.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Prometheus text; `pending` is the outbox's current backlog.
    pub fn render(&self, pending: Option<u64>, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP callsense_connect_events_total Events persisted to the outbox.\n# TYPE callsense_connect_events_total counter\ncallsense_connect_events_total {}",
            self.events_recorded.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP callsense_connect_record_errors_total Events the outbox could not persist.\n# TYPE callsense_connect_record_errors_total counter\ncallsense_connect_record_errors_total {}",
            self.record_errors.load(Ordering::Relaxed)
        );
        if let Some(pending) = pending {
            let _ = writeln!(
                out,
                "# HELP callsense_outbox_pending Deliveries waiting in the outbox.\n# TYPE callsense_outbox_pending gauge\ncallsense_outbox_pending {pending}"
            );
        }
        let series: [(&str, &str, Counter); 4] = [
            (
                "callsense_connect_delivered_total",
                "Deliveries a sink acknowledged.",
                |m| &m.delivered,
            ),
            (
                "callsense_connect_retries_total",
                "Delivery attempts that failed and will be retried.",
                |m| &m.retried,
            ),
            (
                "callsense_connect_dead_letters_total",
                "Deliveries refused for good (dead-letter table).",
                |m| &m.dead_lettered,
            ),
            (
                "callsense_connect_sink_disabled_total",
                "Times a sink was disabled (webhook 410).",
                |m| &m.disabled,
            ),
        ];
        for (name, help, get) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (sink, m) in &self.sinks {
                let _ = writeln!(
                    out,
                    "{name}{{sink=\"{sink}\"}} {}",
                    get(m).load(Ordering::Relaxed)
                );
            }
        }
        let name = "callsense_connect_delivery_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} From an event becoming final to the sink acknowledging it (realtime fields).\n# TYPE {name} histogram"
        );
        for (sink, m) in &self.sinks {
            m.latency
                .render_series(name, &format!("sink=\"{sink}\""), out);
        }
    }
}
