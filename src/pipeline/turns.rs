//! The audio each channel said just before: context for an utterance that
//! continues its speaker's turn.
//!
//! Owns: per call and channel, the end of the last final utterance's audio
//! and where its speech ended; which utterances are close enough to it to
//! be decoded after it (`asr.context_max_gap_ms`), how much of it they get
//! (`asr.context_max_ms`), and the pause between the two, restored to its
//! real length up to a second. The endpointer cuts a speaker who pauses for longer than
//! its end silence ("and so my fellow Americans … ask not …"); decoded
//! alone, a fragment is guessed at ("is not"), decoded after the words
//! before it, Whisper hears the sentence. Used only from the call's event
//! loop, when the front end emits an utterance — not when its transcript
//! comes back — so an early decode and its final see the same context.

use std::sync::Arc;

use crate::asr::TurnAudio;
use crate::audio::Segment;

/// Samples per millisecond at the engine's 16 kHz.
const SAMPLES_PER_MS: u64 = 16;
/// The longest pause restored between context and utterance: enough for
/// Whisper to hear a pause (and mark it), no more encoder work than that.
const MAX_RESTORED_PAUSE_MS: u64 = 1000;

#[derive(Debug, Clone)]
struct Previous {
    /// Channel sample positions: the last speech sample, one past the audio.
    speech_end: u64,
    audio_end: u64,
    /// The audio up to `audio_end` (its last `max_ms`).
    audio: Arc<[f32]>,
}

/// Context audio per channel for one call.
#[derive(Debug)]
pub struct TurnContext {
    previous: Vec<Option<Previous>>,
    max_gap: u64,
    max_samples: usize,
}

impl TurnContext {
    /// `max_gap_ms` 0 or `max_ms` 0: never any context.
    pub fn new(channels: usize, max_gap_ms: u32, max_ms: u32) -> Self {
        Self {
            previous: vec![None; channels],
            max_gap: u64::from(max_gap_ms) * SAMPLES_PER_MS,
            max_samples: (u64::from(max_ms) * SAMPLES_PER_MS) as usize,
        }
    }

    /// The context for utterance `seg` of `channel`: the previous final's
    /// audio (its last `max_ms`) and the pause since, if its speech ended
    /// at most `max_gap_ms` before `seg`'s began.
    pub fn for_utterance(&self, channel: usize, seg: &Segment) -> Option<TurnAudio> {
        let p = self.previous.get(channel)?.as_ref()?;
        if self.max_samples == 0
            || seg.start < p.speech_end
            || seg.start - p.speech_end > self.max_gap
        {
            return None;
        }
        // The pause as it was: the audio between the two is silence the
        // endpointer did not keep (the paddings may overlap: then none).
        let gap = seg
            .audio_start
            .saturating_sub(p.audio_end)
            .min(MAX_RESTORED_PAUSE_MS * SAMPLES_PER_MS) as usize;
        let mut audio = Vec::with_capacity(p.audio.len() + gap);
        audio.extend_from_slice(&p.audio);
        audio.resize(p.audio.len() + gap, 0.0);
        let from = (p.speech_end + p.audio.len() as u64).saturating_sub(p.audio_end) as usize;
        let to = audio.len() + (seg.start - seg.audio_start) as usize;
        Some(TurnAudio {
            audio: Arc::from(audio),
            silence: (from.min(to), to),
        })
    }

    /// Records final utterance `seg` of `channel`, with `before`, the
    /// context [`TurnContext::for_utterance`] gave it. An utterance that
    /// itself continued the turn passes that context on in front of it (a
    /// digit string read out in groups: the third group is decoded after
    /// the first two).
    pub fn record(&mut self, channel: usize, seg: &Segment, before: Option<&TurnAudio>) {
        if self.max_gap == 0 || self.max_samples == 0 {
            return;
        }
        let Some(slot) = self.previous.get_mut(channel) else {
            return;
        };
        let own = &seg.audio[seg.audio.len().saturating_sub(self.max_samples)..];
        let mut joined = Vec::with_capacity(
            self.max_samples
                .min(own.len() + before.as_ref().map_or(0, |b| b.audio.len())),
        );
        if let Some(b) = before {
            let room = self.max_samples - own.len();
            joined.extend_from_slice(&b.audio[b.audio.len().saturating_sub(room)..]);
        }
        joined.extend_from_slice(own);
        *slot = Some(Previous {
            speech_end: seg.end,
            audio_end: seg.audio_start + seg.audio.len() as u64,
            audio: Arc::from(joined),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = SAMPLES_PER_MS;

    /// A final utterance with speech over `[start_ms, end_ms)`, 400 ms of
    /// audio before it and 200 ms after, every sample `value`.
    fn seg(start_ms: u64, end_ms: u64, value: f32) -> Segment {
        let audio_start = (start_ms * MS).saturating_sub(400 * MS);
        Segment {
            start: start_ms * MS,
            end: end_ms * MS,
            audio: vec![value; ((end_ms + 200) * MS - audio_start) as usize],
            audio_start,
            decided_at: (end_ms + 500) * MS,
            is_final: true,
            early: false,
        }
    }

    /// What the call loop does with a final on channel 0.
    fn emit(t: &mut TurnContext, s: &Segment) {
        let before = t.for_utterance(0, s);
        t.record(0, s, before.as_ref());
    }

    #[test]
    fn context_only_for_the_same_channel_after_a_short_gap() {
        let mut t = TurnContext::new(2, 2000, 6000);
        assert!(t.for_utterance(0, &seg(500, 1000, 1.0)).is_none());
        emit(&mut t, &seg(1000, 3000, 1.0));
        // Speech 3000 → 4500: audio 1000–3200, then 3200–4100 restored as silence.
        let c = t.for_utterance(0, &seg(4500, 5000, 2.0)).unwrap();
        assert_eq!(c.audio.len() as u64, (3200 - 600 + 900) * MS);
        assert_eq!(c.audio[(2600 * MS) as usize - 1], 1.0);
        assert_eq!(c.audio[(2600 * MS) as usize], 0.0);
        // The silence: from the end of speech to the utterance's first word.
        assert_eq!(c.silence, (2400 * MS as usize, (3500 + 400) * MS as usize));
        // A longer pause is restored up to a second.
        let c = t.for_utterance(0, &seg(5000, 5500, 2.0)).unwrap();
        assert_eq!(c.audio.len() as u64, (2600 + 1000) * MS);
        assert_eq!(c.silence, (2400 * MS as usize, (3600 + 400) * MS as usize));
        assert!(
            t.for_utterance(0, &seg(5001, 5500, 2.0)).is_none(),
            "gap over 2 s"
        );
        assert!(
            t.for_utterance(1, &seg(4500, 5000, 2.0)).is_none(),
            "other channel"
        );
        assert!(
            t.for_utterance(0, &seg(2500, 5000, 2.0)).is_none(),
            "starts before it ended"
        );
        assert!(t.for_utterance(7, &seg(4500, 5000, 2.0)).is_none());
    }

    #[test]
    fn overlapping_paddings_are_not_doubled() {
        let mut t = TurnContext::new(1, 2000, 6000);
        emit(&mut t, &seg(1000, 3000, 1.0)); // audio to 3200
        let c = t.for_utterance(0, &seg(3500, 4000, 2.0)).unwrap(); // audio from 3100
        assert_eq!(c.audio.len() as u64, 2600 * MS, "no restored silence");
        // The 100 ms both paddings hold is there twice: 600 ms of silence.
        assert_eq!(c.silence, (2400 * MS as usize, 3000 * MS as usize));
    }

    #[test]
    fn only_the_end_of_a_long_utterance_is_kept() {
        let mut t = TurnContext::new(1, 2000, 1000);
        emit(&mut t, &seg(1000, 4000, 1.0));
        let c = t.for_utterance(0, &seg(4600, 5000, 2.0)).unwrap();
        assert_eq!(c.audio.len() as u64, 1000 * MS);
        assert_eq!(c.silence.0, 800 * MS as usize);
    }

    #[test]
    fn a_continuing_utterance_passes_its_context_on() {
        let mut t = TurnContext::new(1, 2000, 3000);
        emit(&mut t, &seg(1000, 2000, 1.0)); // audio 600–2200
        emit(&mut t, &seg(3000, 3500, 2.0)); // continues: audio 2600–3700
        let c = t.for_utterance(0, &seg(4000, 4200, 3.0)).unwrap();
        assert_eq!(c.audio.len() as u64, 3000 * MS, "capped at max_ms");
        let at = |ms: u64| c.audio[(ms * MS) as usize];
        // The first utterance's end, the restored pause, the second.
        assert_eq!(
            (at(1499), at(1500), at(1899), at(1900)),
            (1.0, 0.0, 0.0, 2.0)
        );
        emit(&mut t, &seg(9000, 9500, 4.0)); // a new turn: 5 s later
        let c = t.for_utterance(0, &seg(10_000, 10_500, 5.0)).unwrap();
        assert!(c.audio.iter().all(|&v| v == 4.0));
    }

    #[test]
    fn off_keeps_nothing() {
        let mut t = TurnContext::new(1, 0, 6000);
        emit(&mut t, &seg(1000, 2000, 1.0));
        assert!(t.for_utterance(0, &seg(2600, 3000, 1.0)).is_none());
    }
}
