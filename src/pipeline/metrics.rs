//! Engine metrics: the counters and latency histograms a call records,
//! registered once in the engine's [`Telemetry`] registry.
//!
//! Owns: what is counted, under which Prometheus name and help text.
//! Recording is an atomic add on a registered handle: cheap enough for every
//! utterance.

use metrics::{Counter, Histogram};

use crate::telemetry::Telemetry;

/// Everything the engine counts.
pub struct Metrics {
    pub calls_started: Counter,
    pub calls_completed: Counter,
    pub calls_rejected: Counter,
    pub calls_failed_invalid: Counter,
    pub calls_failed_other: Counter,
    pub calls_cancelled: Counter,
    /// Calls whose client sent nothing for `server.idle_timeout_s`.
    pub calls_idle_ended: Counter,
    pub audio_bytes: Counter,
    pub utterances_final: Counter,
    pub utterances_interim: Counter,
    /// Segments the recogniser judged non-speech or empty.
    pub utterances_dropped: Counter,
    /// Utterances decoded a second time because the first decode looped.
    pub asr_redecoded: Counter,
    /// Utterances whose repeats were cut after the second decode.
    pub asr_loops_collapsed: Counter,
    /// First decodes ended where they started to loop (`asr.stop_loops`).
    pub asr_loops_stopped: Counter,
    /// Early decodes started (an idle worker took an utterance before its endpoint).
    pub asr_early_started: Counter,
    /// Finals that used their early decode (speech did not resume).
    pub asr_early_used: Counter,
    /// Early decodes stopped because the speaker went on.
    pub asr_early_cancelled: Counter,
    /// Utterances decoded after their speaker's previous audio (a turn the
    /// endpointer cut at a pause).
    pub asr_with_context: Counter,
    /// Utterances decoded without that context because other calls' finals
    /// were waiting for a recogniser.
    pub asr_context_skipped: Counter,
    /// Decodes that also ran on idle workers' threads.
    pub asr_wide_decodes: Counter,
    /// Texts classified through AnalyzeText (calls' utterances are not
    /// counted here).
    pub texts_analyzed: Counter,
    /// Texts (utterances and AnalyzeText) that mixed Han and Latin scripts.
    pub classified_mixed_language: Counter,
    /// Texts in a language no loaded classifier model serves.
    pub classified_language_fallback: Counter,
    pub end_of_speech_to_emit: Histogram,
    pub asr_queued: Histogram,
    pub asr: Histogram,
    pub classify: Histogram,
}

impl Metrics {
    /// Registers every series in `t`.
    pub fn new(t: &Telemetry) -> Self {
        Self {
            calls_started: t.counter(
                "callsense_calls_started_total",
                "Calls accepted.",
                &[],
            ),
            calls_completed: t.counter(
                "callsense_calls_completed_total",
                "Calls that ended with a summary.",
                &[],
            ),
            calls_rejected: t.counter(
                "callsense_calls_rejected_total",
                "Calls refused at the concurrency limit.",
                &[],
            ),
            calls_failed_invalid: t.counter(
                "callsense_calls_invalid_total",
                "Calls ended by INVALID_ARGUMENT.",
                &[],
            ),
            calls_failed_other: t.counter(
                "callsense_calls_failed_total",
                "Calls ended by another server error.",
                &[],
            ),
            calls_idle_ended: t.counter(
                "callsense_calls_idle_ended_total",
                "Calls ended because the client sent nothing for server.idle_timeout_s (their audio so far was kept).",
                &[],
            ),
            calls_cancelled: t.counter(
                "callsense_calls_cancelled_total",
                "Calls whose client went away.",
                &[],
            ),
            audio_bytes: t.counter(
                "callsense_audio_bytes_total",
                "Audio bytes received.",
                &[],
            ),
            utterances_final: t.counter(
                "callsense_utterances_total",
                "Final utterance results sent.",
                &[],
            ),
            utterances_interim: t.counter(
                "callsense_interim_results_total",
                "Interim results sent.",
                &[],
            ),
            utterances_dropped: t.counter(
                "callsense_utterances_dropped_total",
                "Segments the recogniser found no speech in.",
                &[],
            ),
            asr_redecoded: t.counter(
                "callsense_asr_redecoded_total",
                "Utterances decoded again with a wider window because the first decode looped.",
                &[],
            ),
            asr_loops_collapsed: t.counter(
                "callsense_asr_loops_collapsed_total",
                "Utterances whose repeated words were cut to one copy.",
                &[],
            ),
            asr_loops_stopped: t.counter(
                "callsense_asr_loops_stopped_total",
                "Decodes ended where they started saying their words again (asr.stop_loops).",
                &[],
            ),
            asr_early_started: t.counter(
                "callsense_asr_early_decodes_total",
                "Utterances an idle Whisper worker started decoding before their endpoint.",
                &[],
            ),
            asr_early_used: t.counter(
                "callsense_asr_early_decodes_used_total",
                "Final results that reused their early decode (the speaker did not resume).",
                &[],
            ),
            asr_early_cancelled: t.counter(
                "callsense_asr_early_decodes_cancelled_total",
                "Early decodes stopped (queued or running) because the speaker went on.",
                &[],
            ),
            asr_with_context: t.counter(
                "callsense_asr_context_decodes_total",
                "Utterances decoded after the same speaker's previous audio (a turn cut at a pause); only their own words kept.",
                &[],
            ),
            asr_context_skipped: t.counter(
                "callsense_asr_context_skipped_total",
                "Utterances decoded without their speaker's previous audio because other calls' finals were waiting.",
                &[],
            ),
            asr_wide_decodes: t.counter(
                "callsense_asr_wide_decodes_total",
                "Decodes (finals and early decodes) that also ran on idle workers' threads (asr.lend_idle_threads).",
                &[],
            ),
            texts_analyzed: t.counter(
                "callsense_texts_analyzed_total",
                "Texts classified through AnalyzeText.",
                &[],
            ),
            classified_mixed_language: t.counter(
                "callsense_classified_mixed_language_total",
                "Texts classified that mix Chinese characters and Latin words.",
                &[],
            ),
            classified_language_fallback: t.counter(
                "callsense_classified_language_fallback_total",
                "Texts in a language no classifier model serves (the closest model was used).",
                &[],
            ),
            end_of_speech_to_emit: t.histogram(
                "callsense_end_of_speech_to_result_seconds",
                "From the end of speech to the result being sent (real-time streams).",
                &[],
            ),
            asr_queued: t.histogram(
                "callsense_asr_queue_seconds",
                "Wait for a free recogniser.",
                &[],
            ),
            asr: t.histogram(
                "callsense_asr_seconds",
                "Speech recognition per utterance.",
                &[],
            ),
            classify: t.histogram(
                "callsense_classify_seconds",
                "Classification per text, batching included.",
                &[],
            ),
        }
    }
}
