//! One metrics layer: the `metrics` facade over a Prometheus registry.
//!
//! Owns: the registry each engine records into (its own, not the process's
//! global recorder, so several engines in one process — the tests — count
//! apart), the histogram buckets, registering a series with its help text,
//! and the `/metrics` listener (metrics-exporter-prometheus). Components
//! register their series once at start and keep the handles; recording is
//! an atomic add.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use metrics::{
    Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, SharedString,
};
use metrics_exporter_prometheus::{
    ExporterFuture, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Upper bounds of the latency buckets, in seconds (5 ms to 10 s).
pub const BUCKETS_S: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0,
];

static METADATA: Metadata<'static> = Metadata::new("callsense", Level::INFO, None);

/// Why the metrics layer could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("server.metrics_listen {addr:?} is not a listen address: {reason}")]
    Address { addr: String, reason: String },
    #[error("cannot listen for metrics on {addr}: {reason}")]
    Listen { addr: String, reason: String },
}

/// A Prometheus registry to record into; cheap to clone.
#[derive(Clone)]
pub struct Telemetry {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl Default for Telemetry {
    /// A registry served nowhere (read it with [`Telemetry::render`]).
    fn default() -> Self {
        Self::from_recorder(builder().build_recorder())
    }
}

fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets(&BUCKETS_S)
        .expect("the bucket list is not empty")
}

impl Telemetry {
    fn from_recorder(recorder: PrometheusRecorder) -> Self {
        let handle = recorder.handle();
        Self {
            recorder: Arc::new(recorder),
            handle,
        }
    }

    /// A registry served over HTTP at `listen` (every path but `/health`
    /// answers with the metrics); run the returned future to serve.
    ///
    /// # Errors
    /// `listen` is not an address, or cannot be bound.
    pub fn serve(listen: &str) -> Result<(Self, ExporterFuture), TelemetryError> {
        let addr: SocketAddr = listen
            .to_socket_addrs()
            .map_err(|e| TelemetryError::Address {
                addr: listen.into(),
                reason: e.to_string(),
            })?
            .next()
            .ok_or_else(|| TelemetryError::Address {
                addr: listen.into(),
                reason: "it resolves to no address".into(),
            })?;
        let (recorder, exporter) =
            builder()
                .with_http_listener(addr)
                .build()
                .map_err(|e| TelemetryError::Listen {
                    addr: listen.into(),
                    reason: e.to_string(),
                })?;
        Ok((Self::from_recorder(recorder), exporter))
    }

    /// A counter named `name` (with `labels`), described by `help`.
    pub fn counter(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Counter {
        self.recorder.describe_counter(
            KeyName::from_const_str(name),
            None,
            SharedString::const_str(help),
        );
        self.recorder
            .register_counter(&key(name, labels), &METADATA)
    }

    /// A gauge named `name` (with `labels`), described by `help`.
    pub fn gauge(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Gauge {
        self.recorder.describe_gauge(
            KeyName::from_const_str(name),
            None,
            SharedString::const_str(help),
        );
        self.recorder.register_gauge(&key(name, labels), &METADATA)
    }

    /// A histogram in seconds over [`BUCKETS_S`] named `name` (with `labels`).
    pub fn histogram(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Histogram {
        self.recorder.describe_histogram(
            KeyName::from_const_str(name),
            None,
            SharedString::const_str(help),
        );
        self.recorder
            .register_histogram(&key(name, labels), &METADATA)
    }

    /// Every series in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds recorded histogram samples into their buckets (bounds memory
    /// between scrapes; rendering does it too).
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    if labels.is_empty() {
        Key::from_static_name(name)
    } else {
        Key::from_parts(
            name,
            labels
                .iter()
                .map(|(k, v)| Label::new(*k, v.to_string()))
                .collect::<Vec<_>>(),
        )
    }
}

/// Records a latency given in milliseconds into a histogram in seconds.
pub trait ObserveMs {
    fn observe_ms(&self, ms: f32);
}

impl ObserveMs for Histogram {
    fn observe_ms(&self, ms: f32) {
        self.record(f64::from(ms.max(0.0)) / 1000.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_render_with_help_labels_and_buckets() {
        let t = Telemetry::default();
        let c = t.counter("callsense_x_total", "Xs seen.", &[]);
        let _zero = t.counter("callsense_zero_total", "Never seen.", &[]);
        let s = t.counter("callsense_sent_total", "Sent.", &[("sink", "crm")]);
        let h = t.histogram("callsense_asr_seconds", "ASR.", &[]);
        let g = t.gauge("callsense_calls_active", "Calls.", &[]);
        c.increment(2);
        s.increment(1);
        g.set(3.0);
        for ms in [3.0, 40.0, 40.0, 20_000.0] {
            h.observe_ms(ms);
        }
        let text = t.render();
        for want in [
            "# HELP callsense_x_total Xs seen.\n# TYPE callsense_x_total counter\ncallsense_x_total 2\n",
            "callsense_zero_total 0\n",
            "callsense_sent_total{sink=\"crm\"} 1\n",
            "callsense_calls_active 3\n",
            "callsense_asr_seconds_bucket{le=\"0.005\"} 1\n",
            "callsense_asr_seconds_bucket{le=\"0.05\"} 3\n",
            "callsense_asr_seconds_bucket{le=\"+Inf\"} 4\n",
            "callsense_asr_seconds_count 4\n",
        ] {
            assert!(text.contains(want), "{want:?} missing from:\n{text}");
        }
        // Another registry counts apart.
        assert!(!Telemetry::default().render().contains("callsense_x_total"));
    }

    #[test]
    fn a_bad_listen_address_is_named() {
        let e = Telemetry::serve("not an address").err().unwrap();
        assert!(e.to_string().contains("\"not an address\""), "{e}");
    }
}
