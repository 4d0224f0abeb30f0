//! Engine metrics: counters and latency histograms in atomics, rendered in
//! the Prometheus text format by `server::metrics`.
//!
//! Owns: what is counted and the histogram buckets. Recording is a few
//! relaxed atomic adds: cheap enough for every utterance.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the latency buckets, in milliseconds.
pub const BUCKETS_MS: [f64; 14] = [
    5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 300.0, 500.0, 750.0, 1000.0, 1500.0, 2500.0, 5000.0,
    10000.0,
];

/// A fixed-bucket histogram.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS_MS.len()],
    count: AtomicU64,
    /// Sum in microseconds (integer atomics).
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe_ms(&self, ms: f32) {
        let ms = f64::from(ms.max(0.0));
        if let Some(i) = BUCKETS_MS.iter().position(|&b| ms <= b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add((ms * 1000.0) as u64, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        self.render_series(name, "", out);
    }

    /// The series lines only (no HELP/TYPE), with extra `labels`
    /// (e.g. `sink="crm"`; empty for none).
    pub fn render_series(&self, name: &str, labels: &str, out: &mut String) {
        use std::fmt::Write;
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, c) in BUCKETS_MS.iter().zip(&self.buckets) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{}\"}} {cumulative}",
                b / 1000.0
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(
            out,
            "{name}_sum{braces} {}",
            self.sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Everything the engine counts.
#[derive(Default)]
pub struct Metrics {
    pub calls_started: AtomicU64,
    pub calls_completed: AtomicU64,
    pub calls_rejected: AtomicU64,
    pub calls_failed_invalid: AtomicU64,
    pub calls_failed_other: AtomicU64,
    pub calls_cancelled: AtomicU64,
    pub audio_bytes: AtomicU64,
    pub utterances_final: AtomicU64,
    pub utterances_interim: AtomicU64,
    /// Segments the recogniser judged non-speech or empty.
    pub utterances_dropped: AtomicU64,
    /// Utterances decoded a second time because the first decode looped.
    pub asr_redecoded: AtomicU64,
    /// Utterances whose repeats were cut after the second decode.
    pub asr_loops_collapsed: AtomicU64,
    /// Early decodes started (an idle worker took an utterance before its endpoint).
    pub asr_early_started: AtomicU64,
    /// Finals that used their early decode (speech did not resume).
    pub asr_early_used: AtomicU64,
    /// Early decodes stopped because the speaker went on.
    pub asr_early_cancelled: AtomicU64,
    /// Utterances decoded after their speaker's previous audio (a turn the
    /// endpointer cut at a pause).
    pub asr_with_context: AtomicU64,
    /// Utterances decoded without that context because other calls' finals
    /// were waiting for a recogniser.
    pub asr_context_skipped: AtomicU64,
    /// Decodes that also ran on idle workers' threads.
    pub asr_wide_decodes: AtomicU64,
    /// Texts classified through AnalyzeText (calls' utterances are not
    /// counted here).
    pub texts_analyzed: AtomicU64,
    /// Texts (utterances and AnalyzeText) that mixed Han and Latin scripts.
    pub classified_mixed_language: AtomicU64,
    /// Texts in a language no loaded classifier model serves.
    pub classified_language_fallback: AtomicU64,
    pub end_of_speech_to_emit: Histogram,
    pub asr_queued: Histogram,
    pub asr: Histogram,
    pub classify: Histogram,
}

impl Metrics {
    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text; `gauges` are current values (name, help, value).
    pub fn render(&self, gauges: &[(&str, &str, u64)]) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(8192);
        let counters: [(&str, &str, &AtomicU64); 21] = [
            (
                "callsense_calls_started_total",
                "Calls accepted.",
                &self.calls_started,
            ),
            (
                "callsense_calls_completed_total",
                "Calls that ended with a summary.",
                &self.calls_completed,
            ),
            (
                "callsense_calls_rejected_total",
                "Calls refused at the concurrency limit.",
                &self.calls_rejected,
            ),
            (
                "callsense_calls_invalid_total",
                "Calls ended by INVALID_ARGUMENT.",
                &self.calls_failed_invalid,
            ),
            (
                "callsense_calls_failed_total",
                "Calls ended by another server error.",
                &self.calls_failed_other,
            ),
            (
                "callsense_calls_cancelled_total",
                "Calls whose client went away.",
                &self.calls_cancelled,
            ),
            (
                "callsense_audio_bytes_total",
                "Audio bytes received.",
                &self.audio_bytes,
            ),
            (
                "callsense_utterances_total",
                "Final utterance results sent.",
                &self.utterances_final,
            ),
            (
                "callsense_interim_results_total",
                "Interim results sent.",
                &self.utterances_interim,
            ),
            (
                "callsense_utterances_dropped_total",
                "Segments the recogniser found no speech in.",
                &self.utterances_dropped,
            ),
            (
                "callsense_asr_redecoded_total",
                "Utterances decoded again with a wider window because the first decode looped.",
                &self.asr_redecoded,
            ),
            (
                "callsense_asr_loops_collapsed_total",
                "Utterances whose repeated words were cut to one copy.",
                &self.asr_loops_collapsed,
            ),
            (
                "callsense_asr_early_decodes_total",
                "Utterances an idle Whisper worker started decoding before their endpoint.",
                &self.asr_early_started,
            ),
            (
                "callsense_asr_early_decodes_used_total",
                "Final results that reused their early decode (the speaker did not resume).",
                &self.asr_early_used,
            ),
            (
                "callsense_asr_early_decodes_cancelled_total",
                "Early decodes stopped (queued or running) because the speaker went on.",
                &self.asr_early_cancelled,
            ),
            (
                "callsense_asr_context_decodes_total",
                "Utterances decoded after the same speaker's previous audio (a turn cut at a pause); only their own words kept.",
                &self.asr_with_context,
            ),
            (
                "callsense_asr_context_skipped_total",
                "Utterances decoded without their speaker's previous audio because other calls' finals were waiting.",
                &self.asr_context_skipped,
            ),
            (
                "callsense_asr_wide_decodes_total",
                "Decodes (finals and early decodes) that also ran on idle workers' threads (asr.lend_idle_threads).",
                &self.asr_wide_decodes,
            ),
            (
                "callsense_texts_analyzed_total",
                "Texts classified through AnalyzeText.",
                &self.texts_analyzed,
            ),
            (
                "callsense_classified_mixed_language_total",
                "Texts classified that mix Chinese characters and Latin words.",
                &self.classified_mixed_language,
            ),
            (
                "callsense_classified_language_fallback_total",
                "Texts in a language no classifier model serves (the closest model was used).",
                &self.classified_language_fallback,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.load(Ordering::Relaxed)
            );
        }
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        self.end_of_speech_to_emit.render(
            "callsense_end_of_speech_to_result_seconds",
            "From the end of speech to the result being sent (real-time streams).",
            &mut out,
        );
        self.asr_queued.render(
            "callsense_asr_queue_seconds",
            "Wait for a free recogniser.",
            &mut out,
        );
        self.asr.render(
            "callsense_asr_seconds",
            "Speech recognition per utterance.",
            &mut out,
        );
        self.classify.render(
            "callsense_classify_seconds",
            "Classification per text, batching included.",
            &mut out,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_renders() {
        let m = Metrics::default();
        for ms in [3.0, 40.0, 40.0, 20000.0] {
            m.asr.observe_ms(ms);
        }
        Metrics::inc(&m.calls_started);
        let text = m.render(&[("callsense_calls_active", "Calls in progress.", 2)]);
        assert!(text.contains("callsense_asr_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("callsense_asr_seconds_bucket{le=\"0.05\"} 3"));
        assert!(text.contains("callsense_asr_seconds_bucket{le=\"+Inf\"} 4"));
        assert!(text.contains("callsense_calls_started_total 1"));
        assert!(text.contains("callsense_calls_active 2"));
    }
}
