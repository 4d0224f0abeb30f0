//! Endpointing: one channel's 16 kHz audio in, utterances out.
//!
//! Owns: framing for the VAD, the energy gate, hysteresis, minimum speech,
//! end-of-utterance silence, splitting of long monologues at a pause,
//! padding, interim snapshots and the final flush. It keeps only the audio of
//! the utterance in progress plus the pre-speech padding. It must not know
//! about calls, codecs or recognisers.

use super::vad::{VadError, VoiceDetector};
use crate::config::AudioConfig;

/// Samples per millisecond at the engine's 16 kHz.
pub(super) const SAMPLES_PER_MS: u64 = 16;

/// Endpointing parameters in samples (derived from [`AudioConfig`]).
#[derive(Debug, Clone)]
pub struct EndpointParams {
    pub threshold: f32,
    pub continue_threshold: f32,
    pub energy_floor_dbfs: f32,
    pub min_speech: u64,
    pub end_silence: u64,
    pub max_utterance: u64,
    /// Audio without speech after which the VAD's state is reset (`None`: never).
    pub vad_reset: Option<u64>,
    /// Audio kept after the speech.
    pub pad: u64,
    /// Audio kept before the speech.
    pub lead_pad: u64,
    /// `None`: no interim snapshots.
    pub interim_interval: Option<u64>,
    /// Silence after which an early snapshot of the utterance goes out
    /// (never before `pad`); `None`: none.
    pub early: Option<u64>,
}

/// Leading padding when `audio.lead_pad_ms` is unset and no model chose
/// one (the engine sets it from its Whisper model at load).
pub const DEFAULT_LEAD_PAD_MS: u32 = 400;

impl EndpointParams {
    pub fn from_config(a: &AudioConfig, interim: bool) -> Self {
        Self {
            threshold: a.vad_threshold,
            continue_threshold: a.vad_threshold - a.vad_hysteresis,
            energy_floor_dbfs: a.energy_floor_dbfs,
            min_speech: a.min_speech_ms as u64 * SAMPLES_PER_MS,
            end_silence: a.end_silence_ms as u64 * SAMPLES_PER_MS,
            max_utterance: a.max_utterance_ms as u64 * SAMPLES_PER_MS,
            vad_reset: (a.vad_reset_ms > 0).then(|| a.vad_reset_ms as u64 * SAMPLES_PER_MS),
            pad: a.pad_ms as u64 * SAMPLES_PER_MS,
            lead_pad: u64::from(a.lead_pad_ms.unwrap_or(DEFAULT_LEAD_PAD_MS)) * SAMPLES_PER_MS,
            interim_interval: interim.then_some(a.interim_interval_ms as u64 * SAMPLES_PER_MS),
            early: (a.early_decode_ms > 0).then(|| a.early_decode_ms as u64 * SAMPLES_PER_MS),
        }
    }
}

/// A stretch of speech. Sample positions count from the channel's first
/// sample at 16 kHz (so `/ 16` gives call-time milliseconds).
#[derive(Debug, Clone)]
pub struct Segment {
    /// First sample of speech (unpadded).
    pub start: u64,
    /// One past the last sample of speech (unpadded).
    pub end: u64,
    /// Padded audio for the recogniser.
    pub audio: Vec<f32>,
    /// The sample `audio[0]` was taken at (`start` minus the leading padding).
    pub audio_start: u64,
    /// Where the endpointer was when it decided (`decided_at - end` is the
    /// trailing silence it waited for).
    pub decided_at: u64,
    /// False for interim snapshots of speech still in progress.
    pub is_final: bool,
    /// An early snapshot: taken `early` into the silence after the speech,
    /// with exactly the audio the final will have if speech does not resume
    /// (same `start`, `end` and samples). Not final.
    pub early: bool,
}

impl Segment {
    /// What identifies a segment's audio within its channel: a final with
    /// the key of an early snapshot carries the same samples.
    pub fn audio_key(&self) -> (u64, u64, usize) {
        (self.start, self.end, self.audio.len())
    }

    pub fn start_ms(&self) -> u32 {
        (self.start / SAMPLES_PER_MS) as u32
    }
    pub fn end_ms(&self) -> u32 {
        (self.end / SAMPLES_PER_MS) as u32
    }
}

#[derive(Debug, Clone, Copy)]
enum State {
    Silence,
    Speech {
        start: u64,
        last_speech_end: u64,
        speech_samples: u64,
        silence_run: u64,
        /// Start of the run of weak frames (below `threshold`) in progress.
        pause_start: Option<u64>,
        /// The longest weak run centred in the utterance's second half so far
        /// (`[start, end)`; the later of equals): where a long monologue is split.
        best_pause: Option<(u64, u64)>,
        last_interim: u64,
        /// An early snapshot went out for the current silence run.
        early_sent: bool,
    },
}

/// The endpointer for one channel.
pub struct Endpointer {
    p: EndpointParams,
    vad: Box<dyn VoiceDetector>,
    frame: usize,
    /// Samples received but not yet a whole frame.
    pending: Vec<f32>,
    /// Audio from `buf_start` up to `pos`: padding plus the utterance in progress.
    buf: Vec<f32>,
    buf_start: u64,
    /// Absolute position of the next frame.
    pos: u64,
    state: State,
    /// Audio without speech since the VAD's state was last fresh.
    quiet: u64,
}

impl Endpointer {
    pub fn new(p: EndpointParams, vad: Box<dyn VoiceDetector>) -> Self {
        let frame = vad.frame_len();
        Self {
            p,
            vad,
            frame,
            pending: Vec::with_capacity(frame * 2),
            buf: Vec::new(),
            buf_start: 0,
            pos: 0,
            state: State::Silence,
            quiet: 0,
        }
    }

    /// Samples consumed so far (whole frames).
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Where the utterance in progress started (absolute sample), if any.
    pub fn speech_start(&self) -> Option<u64> {
        match self.state {
            State::Speech { start, .. } => Some(start),
            State::Silence => None,
        }
    }

    /// Whether an utterance is in progress.
    pub fn in_speech(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// Feeds samples; completed utterances (and interim snapshots) go to `out`.
    ///
    /// # Errors
    /// The VAD model failed.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<Segment>) -> Result<(), VadError> {
        // Frames are read in place from `pending` (moved out while stepping).
        let mut pending = std::mem::take(&mut self.pending);
        pending.extend_from_slice(samples);
        let mut start = 0;
        let mut result = Ok(());
        while pending.len() - start >= self.frame {
            if let Err(e) = self.step(&pending[start..start + self.frame], out) {
                result = Err(e);
                break;
            }
            start += self.frame;
        }
        pending.drain(..start);
        self.pending = pending;
        result
    }

    /// Ends the stream: the partial frame is padded with silence and an
    /// utterance in progress is emitted without waiting for silence.
    ///
    /// # Errors
    /// The VAD model failed.
    pub fn finish(&mut self, out: &mut Vec<Segment>) -> Result<(), VadError> {
        if !self.pending.is_empty() {
            let mut frame = std::mem::take(&mut self.pending);
            frame.resize(self.frame, 0.0);
            self.step(&frame, out)?;
        }
        if let State::Speech {
            start,
            last_speech_end,
            speech_samples,
            ..
        } = self.state
        {
            self.emit(start, last_speech_end, speech_samples, out);
        }
        self.state = State::Silence;
        Ok(())
    }

    fn step(&mut self, frame: &[f32], out: &mut Vec<Segment>) -> Result<(), VadError> {
        let prob = self.speech_probability(frame)?;
        self.buf.extend_from_slice(frame);
        let frame_start = self.pos;
        self.pos += self.frame as u64;
        let now = self.pos;
        match self.state {
            State::Silence => {
                if prob >= self.p.threshold {
                    self.state = State::Speech {
                        start: frame_start,
                        last_speech_end: now,
                        speech_samples: self.frame as u64,
                        silence_run: 0,
                        pause_start: None,
                        best_pause: None,
                        last_interim: frame_start,
                        early_sent: false,
                    };
                } else {
                    self.trim_to(now.saturating_sub(self.p.lead_pad));
                }
            }
            State::Speech { .. } => self.speech_frame(prob, frame_start, now, out),
        }
        Ok(())
    }

    /// The frame's speech probability (0 below the energy floor, without
    /// running the VAD), and the VAD's reset after `vad_reset` of quiet.
    fn speech_probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
        let loud = rms_dbfs(frame) >= self.p.energy_floor_dbfs;
        let prob = if loud {
            self.vad.probability(frame)?
        } else {
            0.0
        };
        if prob >= self.p.continue_threshold {
            self.quiet = 0;
        } else {
            self.quiet += self.frame as u64;
            if self.p.vad_reset.is_some_and(|r| self.quiet >= r) {
                self.vad.reset();
                self.quiet = 0;
            }
        }
        Ok(prob)
    }

    /// One frame inside an utterance: updates its counters, then ends it
    /// (enough silence), splits it (too long), or sends an early or interim
    /// snapshot.
    fn speech_frame(&mut self, prob: f32, frame_start: u64, now: u64, out: &mut Vec<Segment>) {
        let f = self.frame as u64;
        let State::Speech {
            start,
            last_speech_end,
            speech_samples,
            silence_run,
            pause_start,
            best_pause,
            last_interim,
            early_sent,
        } = &mut self.state
        else {
            return;
        };
        if prob >= self.p.continue_threshold {
            *last_speech_end = now;
            *silence_run = 0;
            *early_sent = false;
        } else {
            *silence_run += f;
        }
        if prob >= self.p.threshold {
            *speech_samples += f;
            *pause_start = None;
        } else {
            let run = (*pause_start.get_or_insert(frame_start), now);
            let second_half = (run.0 + run.1) / 2 > *start + self.p.max_utterance / 2;
            if second_half && best_pause.is_none_or(|(a, b)| run.1 - run.0 >= b - a) {
                *best_pause = Some(run);
            }
        }
        let (s, lse, sp, sil, pause, pause_now) = (
            *start,
            *last_speech_end,
            *speech_samples,
            *silence_run,
            *best_pause,
            *pause_start,
        );
        if sil >= self.p.end_silence {
            self.emit(s, lse, sp, out);
            self.state = State::Silence;
            self.trim_to(now.saturating_sub(self.p.lead_pad));
        } else if now - s >= self.p.max_utterance {
            self.split_monologue(s, sp, pause, pause_now, now, out);
        } else if self.p.early.is_some_and(|e| sil >= e.max(self.p.pad))
            && !*early_sent
            && sp >= self.p.min_speech
            && lse > s
        {
            *early_sent = true;
            let mut seg = self.snapshot(s, lse, lse + self.p.pad, now, false);
            seg.early = true;
            out.push(seg);
        } else if let Some(every) = self.p.interim_interval {
            if now - *last_interim >= every && sp >= self.p.min_speech {
                *last_interim = now;
                out.push(self.snapshot(s, lse, lse + self.p.pad, now, false));
            }
        }
    }

    /// Splits a monologue at `max_utterance` in the middle of the longest
    /// pause in its second half, each part padded only with that pause's
    /// audio (not the other part's speech); with no pause, hard at `now`.
    fn split_monologue(
        &mut self,
        start: u64,
        speech_samples: u64,
        pause: Option<(u64, u64)>,
        pause_now: Option<u64>,
        now: u64,
        out: &mut Vec<Segment>,
    ) {
        let (cut, to, from) = match pause {
            Some((a, b)) => {
                let cut = (a + b) / 2;
                (
                    cut,
                    (cut + self.p.pad).min(b),
                    cut.saturating_sub(self.p.pad).max(a),
                )
            }
            None => (now, now, now.saturating_sub(self.p.pad)),
        };
        self.emit_to(start, cut, to, speech_samples, out);
        self.state = State::Speech {
            start: cut,
            last_speech_end: now,
            speech_samples: now - cut,
            silence_run: 0,
            pause_start: pause_now.map(|p| p.max(cut)),
            best_pause: None,
            last_interim: cut,
            early_sent: false,
        };
        self.trim_to(from);
    }

    fn emit(&mut self, start: u64, end: u64, speech_samples: u64, out: &mut Vec<Segment>) {
        self.emit_to(start, end, end + self.p.pad, speech_samples, out);
    }

    /// Emits `[start, end)` with its audio running to `audio_to` (padding).
    fn emit_to(
        &mut self,
        start: u64,
        end: u64,
        audio_to: u64,
        speech: u64,
        out: &mut Vec<Segment>,
    ) {
        if speech >= self.p.min_speech && end > start {
            out.push(self.snapshot(start, end, audio_to, self.pos, true));
        }
    }

    fn snapshot(
        &self,
        start: u64,
        end: u64,
        audio_to: u64,
        decided_at: u64,
        is_final: bool,
    ) -> Segment {
        let from = start.saturating_sub(self.p.lead_pad).max(self.buf_start);
        let to = audio_to.min(self.pos);
        let audio =
            self.buf[(from - self.buf_start) as usize..(to - self.buf_start) as usize].to_vec();
        Segment {
            start,
            end,
            audio,
            audio_start: from,
            decided_at,
            is_final,
            early: false,
        }
    }

    /// Drops buffered audio before absolute position `keep_from`.
    fn trim_to(&mut self, keep_from: u64) {
        if keep_from > self.buf_start {
            let n = ((keep_from - self.buf_start) as usize).min(self.buf.len());
            self.buf.drain(..n);
            self.buf_start += n as u64;
        }
    }
}

/// RMS level of `x` in dB relative to full scale (−120 for digital silence).
pub fn rms_dbfs(x: &[f32]) -> f32 {
    if x.is_empty() {
        return -120.0;
    }
    let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
    if ms <= 1e-12 {
        -120.0
    } else {
        10.0 * ms.log10() + 3.0103 // a full-scale sine reads 0 dBFS
    }
}

/// Frames of [`speech_level_dbfs`]: 20 ms at 16 kHz.
const LEVEL_FRAME: usize = 320;
/// Frames more than this far under the loudest frame are pauses, not speech,
/// in [`speech_level_dbfs`].
const LEVEL_GATE_DB: f32 = 25.0;
/// Frames under this level never count as speech in [`speech_level_dbfs`].
const LEVEL_FLOOR_DBFS: f32 = -70.0;

/// Active speech level of `x` (16 kHz) in dBFS: the mean power of its 20 ms
/// frames within 25 dB of the loudest one (a simplified ITU-T P.56), so
/// the pauses inside a turn do not lower it. −120 when nothing qualifies.
pub fn speech_level_dbfs(x: &[f32]) -> f32 {
    let powers: Vec<f32> = x
        .chunks(LEVEL_FRAME)
        .filter(|f| f.len() == LEVEL_FRAME || x.len() < LEVEL_FRAME)
        .map(|f| f.iter().map(|v| v * v).sum::<f32>() / f.len() as f32)
        .collect();
    let Some(loudest) = powers.iter().copied().reduce(f32::max) else {
        return -120.0;
    };
    let floor = loudest.max(1e-12) * 10f32.powf(-LEVEL_GATE_DB / 10.0);
    let abs_floor = 10f32.powf((LEVEL_FLOOR_DBFS - 3.0103) / 10.0);
    let active: Vec<f32> = powers
        .into_iter()
        .filter(|&p| p >= floor && p >= abs_floor)
        .collect();
    if active.is_empty() {
        return -120.0;
    }
    let mean = active.iter().sum::<f32>() / active.len() as f32;
    10.0 * mean.log10() + 3.0103
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_level_ignores_pauses_and_reads_a_sine_right() {
        let tone = |amp: f32, n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| amp * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 16_000.0).sin())
                .collect()
        };
        // A −20 dBFS tone: 0.1 amplitude.
        let level = speech_level_dbfs(&tone(0.1, 16_000));
        assert!((level + 20.0).abs() < 0.2, "{level}");
        // The same tone with a second of near-silence inside reads the same.
        let mut with_pause = tone(0.1, 8_000);
        with_pause.extend(std::iter::repeat_n(0.0001, 16_000));
        with_pause.extend(tone(0.1, 8_000));
        let paused = speech_level_dbfs(&with_pause);
        assert!((paused + 20.0).abs() < 0.2, "{paused}");
        // Plain RMS reads 3 dB lower (half the time is silent).
        assert!(rms_dbfs(&with_pause) < -22.5);
        assert_eq!(speech_level_dbfs(&[]), -120.0);
        assert_eq!(speech_level_dbfs(&vec![0.0; 3200]), -120.0);
    }

    /// A scripted detector: frames whose mean absolute value exceeds 0.05 are speech.
    struct Loudness;
    impl VoiceDetector for Loudness {
        fn frame_len(&self) -> usize {
            320 // 20 ms
        }
        fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
            let m = frame.iter().map(|v| v.abs()).sum::<f32>() / frame.len() as f32;
            Ok(if m > 0.05 { 0.9 } else { 0.1 })
        }
        fn reset(&mut self) {}
    }

    /// The defaults without early snapshots (tested on their own below).
    fn params() -> EndpointParams {
        let mut p = EndpointParams::from_config(&AudioConfig::default(), false);
        p.early = None;
        p
    }

    /// Builds audio from (ms, loud?) runs.
    fn script(runs: &[(u64, bool)]) -> Vec<f32> {
        let mut v = Vec::new();
        for &(ms, loud) in runs {
            let n = (ms * SAMPLES_PER_MS) as usize;
            v.extend((0..n).map(|i| {
                if loud {
                    0.3 * ((i as f32) * 0.3).sin().signum()
                } else {
                    0.0
                }
            }));
        }
        v
    }

    fn run(p: EndpointParams, audio: &[f32], chunk: usize) -> Vec<Segment> {
        let mut e = Endpointer::new(p, Box::new(Loudness));
        let mut out = Vec::new();
        for c in audio.chunks(chunk) {
            e.push(c, &mut out).unwrap();
        }
        e.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn two_utterances_with_exact_boundaries_and_padding() {
        let audio = script(&[
            (1000, false),
            (1500, true),
            (800, false),
            (700, true),
            (2000, false),
        ]);
        let segs = run(params(), &audio, 160);
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[0].start_ms(), segs[0].end_ms()), (1000, 2500));
        assert_eq!((segs[1].start_ms(), segs[1].end_ms()), (3300, 4000));
        // 400 ms of padding before, 200 ms after.
        assert_eq!(
            segs[0].audio.len() as u64,
            (400 + 1500 + 200) * SAMPLES_PER_MS
        );
        assert_eq!(segs[0].audio_start, 600 * SAMPLES_PER_MS);
        // Decided after 500 ms of silence.
        assert_eq!(segs[0].decided_at, (2500 + 500) * SAMPLES_PER_MS);
        assert!(segs.iter().all(|s| s.is_final));
    }

    #[test]
    fn a_pause_shorter_than_end_silence_does_not_split() {
        let audio = script(&[
            (500, false),
            (1000, true),
            (400, false),
            (1000, true),
            (1000, false),
        ]);
        let segs = run(params(), &audio, 333);
        assert_eq!(segs.len(), 1);
        assert_eq!((segs[0].start_ms(), segs[0].end_ms()), (500, 2900));
    }

    #[test]
    fn short_blips_are_dropped() {
        let audio = script(&[
            (500, false),
            (100, true),
            (1000, false),
            (60, true),
            (1000, false),
        ]);
        assert!(run(params(), &audio, 320).is_empty());
    }

    #[test]
    fn long_monologue_split_at_a_pause_and_nothing_lost() {
        let mut p = params();
        p.max_utterance = 5000 * SAMPLES_PER_MS;
        // 4 s speech, 200 ms breath, 4 s speech: over the 5 s cap.
        let audio = script(&[
            (200, false),
            (4000, true),
            (200, false),
            (4000, true),
            (1000, false),
        ]);
        let segs = run(p, &audio, 160);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert_eq!(segs[0].start_ms(), 200);
        // Cut in the middle of the breath, and the second part starts where the first ended.
        assert!(
            (4280..=4320).contains(&segs[0].end_ms()),
            "cut at {}",
            segs[0].end_ms()
        );
        assert_eq!(segs[1].start, segs[0].end);
        assert_eq!(segs[1].end_ms(), 8400);
        // Each part's padding is the breath's audio, never the other part's speech.
        assert_eq!(segs[0].audio.len() as u64, 4400 * SAMPLES_PER_MS);
        assert_eq!(
            segs[1].audio.len() as u64,
            (8400 + 200 - 4200) * SAMPLES_PER_MS
        );
    }

    #[test]
    fn long_monologue_split_at_its_longest_pause_not_its_latest_dip() {
        let mut p = params();
        p.max_utterance = 5000 * SAMPLES_PER_MS;
        // A 300 ms pause at 3.2 s, then a 60 ms dip at 4.5 s, before the 5 s cap.
        let audio = script(&[
            (200, false),
            (3000, true),
            (300, false),
            (1000, true),
            (60, false),
            (2000, true),
            (1000, false),
        ]);
        let segs = run(p, &audio, 160);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert!(
            (3340..=3360).contains(&segs[0].end_ms()),
            "cut at {}",
            segs[0].end_ms()
        );
        assert_eq!(segs[1].start, segs[0].end);
        assert_eq!(segs[1].end_ms(), 6560);
    }

    #[test]
    fn monologue_without_pause_is_hard_cut_at_max() {
        let mut p = params();
        p.max_utterance = 3000 * SAMPLES_PER_MS;
        let audio = script(&[(7000, true), (1000, false)]);
        let segs = run(p, &audio, 160);
        assert_eq!(segs.len(), 3);
        assert!(segs
            .iter()
            .all(|s| s.end - s.start <= 3000 * SAMPLES_PER_MS));
        assert_eq!(segs[2].end_ms(), 7000);
    }

    #[test]
    fn speech_running_into_end_of_stream_is_flushed() {
        let audio = script(&[(300, false), (1200, true)]);
        let segs = run(params(), &audio, 100);
        assert_eq!(segs.len(), 1);
        assert_eq!((segs[0].start_ms(), segs[0].end_ms()), (300, 1500));
    }

    #[test]
    fn an_early_snapshot_carries_exactly_the_final_audio() {
        let p = EndpointParams::from_config(&AudioConfig::default(), false);
        let audio = script(&[(1000, false), (1500, true), (2000, false)]);
        let segs = run(p, &audio, 160);
        assert_eq!(segs.len(), 2, "{segs:?}");
        let (early, fin) = (&segs[0], &segs[1]);
        assert!(early.early && !early.is_final && fin.is_final && !fin.early);
        // 200 ms into the silence (the default), 300 ms before the endpoint.
        assert_eq!(early.decided_at, (2500 + 200) * SAMPLES_PER_MS);
        assert_eq!(fin.decided_at, (2500 + 500) * SAMPLES_PER_MS);
        assert_eq!(fin.audio_key(), early.audio_key());
        assert_eq!(early.audio, fin.audio);
    }

    #[test]
    fn speech_resuming_after_an_early_snapshot_makes_a_new_one() {
        let mut p = EndpointParams::from_config(&AudioConfig::default(), false);
        p.early = Some(100 * SAMPLES_PER_MS); // below the padding: waits for it
        let audio = script(&[
            (500, false),
            (1000, true),
            (300, false), // early snapshot, then speech resumes
            (800, true),
            (1000, false),
        ]);
        let segs = run(p, &audio, 160);
        let early: Vec<_> = segs.iter().filter(|s| s.early).collect();
        let fin: Vec<_> = segs.iter().filter(|s| s.is_final).collect();
        assert_eq!((early.len(), fin.len()), (2, 1), "{segs:?}");
        assert_eq!(early[0].decided_at, (1500 + 200) * SAMPLES_PER_MS);
        assert_ne!(fin[0].audio_key(), early[0].audio_key());
        assert_eq!(fin[0].audio_key(), early[1].audio_key());
        assert_eq!(early[1].audio, fin[0].audio);
    }

    #[test]
    fn interim_snapshots_while_speaking() {
        let mut p = EndpointParams::from_config(&AudioConfig::default(), true);
        p.early = None;
        let audio = script(&[(200, false), (3500, true), (1000, false)]);
        let segs = run(p, &audio, 160);
        let interim = segs.iter().filter(|s| !s.is_final).count();
        assert_eq!(interim, 3, "one per second of speech");
        assert_eq!(segs.iter().filter(|s| s.is_final).count(), 1);
    }

    #[test]
    fn a_vad_that_goes_deaf_on_long_noise_is_reset_and_hears_speech_again() {
        /// Hears loud frames until it has seen 4 s of quiet ones in a row
        /// since its last reset (Silero's state on a long noisy line).
        struct Drifts {
            quiet_frames: usize,
        }
        impl VoiceDetector for Drifts {
            fn frame_len(&self) -> usize {
                320
            }
            fn probability(&mut self, frame: &[f32]) -> Result<f32, VadError> {
                let loud = frame.iter().map(|v| v.abs()).sum::<f32>() / frame.len() as f32 > 0.05;
                if !loud {
                    self.quiet_frames += 1;
                }
                Ok(if loud && self.quiet_frames < 200 {
                    0.9
                } else {
                    0.1
                })
            }
            fn reset(&mut self) {
                self.quiet_frames = 0;
            }
        }
        // Line noise above the energy gate, so the VAD runs on every frame.
        let noise = |ms: u64| -> Vec<f32> {
            (0..ms * SAMPLES_PER_MS)
                .map(|i| if i % 2 == 0 { 0.01 } else { -0.01 })
                .collect()
        };
        let mut audio = noise(500);
        audio.extend(script(&[(1000, true)]));
        audio.extend(noise(10_000));
        audio.extend(script(&[(1000, true)]));
        audio.extend(noise(1000));
        let run_with = |p: EndpointParams| {
            let mut e = Endpointer::new(p, Box::new(Drifts { quiet_frames: 0 }));
            let mut out = Vec::new();
            e.push(&audio, &mut out).unwrap();
            e.finish(&mut out).unwrap();
            out.iter()
                .filter(|s| s.is_final)
                .map(Segment::start_ms)
                .collect::<Vec<_>>()
        };
        let mut p = params();
        assert_eq!(run_with(p.clone()), vec![500, 11_500]);
        p.vad_reset = None;
        assert_eq!(
            run_with(p),
            vec![500],
            "without resets the second sentence is lost"
        );
    }

    #[test]
    fn silence_is_gated_without_running_the_vad() {
        struct Panics;
        impl VoiceDetector for Panics {
            fn frame_len(&self) -> usize {
                512
            }
            fn probability(&mut self, _: &[f32]) -> Result<f32, VadError> {
                panic!("VAD ran on digital silence")
            }
            fn reset(&mut self) {}
        }
        let mut e = Endpointer::new(params(), Box::new(Panics));
        let mut out = Vec::new();
        e.push(&vec![0.0; 16000], &mut out).unwrap();
        e.finish(&mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn dbfs_of_full_scale_sine_is_zero() {
        let x: Vec<f32> = (0..16000).map(|i| (i as f32 * 0.1).sin()).collect();
        assert!(rms_dbfs(&x).abs() < 0.1);
    }
}
