//! Metrics of the telephony listeners, labelled by protocol.

use metrics::{Counter, Gauge};
use tokio_tungstenite::tungstenite::http::StatusCode;

use crate::telemetry::Telemetry;

/// One listener's series.
#[derive(Clone)]
pub struct IngressMetrics {
    telemetry: Telemetry,
    protocol: &'static str,
    open: Gauge,
    /// Calls started from this listener.
    pub calls: Counter,
    /// Streams ended by the engine for bad input (the protocol's error sent).
    pub bad_streams: Counter,
    /// Samples of silence put in for missing audio (gaps, a silent track).
    pub filled_samples: Counter,
}

impl IngressMetrics {
    pub fn new(telemetry: &Telemetry, protocol: &'static str) -> Self {
        let l = [("protocol", protocol)];
        Self {
            telemetry: telemetry.clone(),
            protocol,
            open: telemetry.gauge(
                "callsense_ingress_connections",
                "Telephony connections open, per protocol.",
                &l,
            ),
            calls: telemetry.counter(
                "callsense_ingress_calls_total",
                "Calls started from a telephony listener, per protocol.",
                &l,
            ),
            bad_streams: telemetry.counter(
                "callsense_ingress_bad_streams_total",
                "Telephony streams ended for bad input (the protocol's error was sent), per protocol.",
                &l,
            ),
            filled_samples: telemetry.counter(
                "callsense_ingress_filled_samples_total",
                "Samples of silence put in where a track's audio was missing (gaps, a silent track).",
                &l,
            ),
        }
    }

    /// Counts an upgrade refused with `status`.
    pub fn refused(&self, status: StatusCode) {
        self.telemetry
            .counter(
                "callsense_ingress_refused_total",
                "Telephony upgrades refused, per protocol and HTTP status.",
                &[("protocol", self.protocol), ("status", status.as_str())],
            )
            .increment(1);
    }

    /// The whole Prometheus exposition (the listener serves its own part).
    pub fn render(&self) -> String {
        self.telemetry.render()
    }

    /// Counts an open connection until the guard drops.
    pub fn open(&self) -> OpenConnection {
        self.open.increment(1.0);
        OpenConnection(self.open.clone())
    }
}

/// See [`IngressMetrics::open`].
pub struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}
