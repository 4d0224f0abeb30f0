//! Joining separately delivered call legs into one interleaved stream.
//!
//! Owns: [`Interleaver`], which places each leg's audio at its timestamp
//! (gaps filled with the codec's silence, late or repeated audio dropped),
//! and emits interleaved frames as far as every leg has arrived. A leg that
//! stops sending (a muted agent, a dropped track) holds the others back by at
//! most `max_lead` samples: past that it is filled with silence, so buffering
//! per call is bounded whatever the platform sends.

use std::collections::VecDeque;

/// Largest jump forward a timestamp may make, in samples per leg (10 s at
/// 8 kHz): a platform's clock does not skip that far within a call, so a
/// larger one is bad input, not a gap to fill.
pub const MAX_GAP_SAMPLES: u64 = 80_000;

/// What [`Interleaver::push`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterleaveError {
    #[error("leg {0} does not exist")]
    NoSuchLeg(usize),
    #[error("audio of {len} bytes is not a whole number of {width}-byte samples")]
    PartialSample { len: usize, width: usize },
    #[error(
        "timestamp jumps {gap} samples ahead of the leg's audio (more than {MAX_GAP_SAMPLES})"
    )]
    Jump { gap: u64 },
}

/// Counts an interleaver keeps (for metrics and logs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterleaveStats {
    /// Samples of silence put in for missing audio (gaps, a lagging leg).
    pub filled: u64,
    /// Samples dropped because audio for that time had already arrived.
    pub dropped: u64,
}

#[derive(Debug, Default)]
struct Leg {
    /// Samples received and not yet emitted, from `emitted` on.
    pending: VecDeque<u8>,
    /// Position after the last sample received (= emitted + pending).
    end: u64,
}

/// Interleaves `legs` mono legs of `width`-byte samples into frames.
#[derive(Debug)]
pub struct Interleaver {
    legs: Vec<Leg>,
    width: usize,
    /// One sample of silence in the legs' encoding.
    silence: Vec<u8>,
    max_lead: u64,
    /// Samples per leg already emitted.
    emitted: u64,
    stats: InterleaveStats,
}

impl Interleaver {
    /// `silence` is one sample of silence (its length is the sample width);
    /// a leg may run `max_lead` samples ahead of the slowest before the
    /// slowest is filled.
    pub fn new(legs: usize, silence: &[u8], max_lead: u64) -> Self {
        Self {
            legs: (0..legs.max(1)).map(|_| Leg::default()).collect(),
            width: silence.len().max(1),
            silence: silence.to_vec(),
            max_lead,
            emitted: 0,
            stats: InterleaveStats::default(),
        }
    }

    /// Adds `audio` to `leg`, starting at sample `at` (`None`: right after
    /// the leg's last audio).
    ///
    /// # Errors
    /// No such leg, a partial sample, or a jump past [`MAX_GAP_SAMPLES`].
    pub fn push(
        &mut self,
        leg: usize,
        at: Option<u64>,
        audio: &[u8],
    ) -> Result<(), InterleaveError> {
        let width = self.width;
        if !audio.len().is_multiple_of(width) {
            return Err(InterleaveError::PartialSample {
                len: audio.len(),
                width,
            });
        }
        let l = self
            .legs
            .get_mut(leg)
            .ok_or(InterleaveError::NoSuchLeg(leg))?;
        let at = at.unwrap_or(l.end);
        let mut audio = audio;
        if at > l.end {
            let gap = at - l.end;
            if gap > MAX_GAP_SAMPLES {
                return Err(InterleaveError::Jump { gap });
            }
            extend_silence(&mut l.pending, &self.silence, gap);
            l.end = at;
            self.stats.filled += gap;
        } else if at < l.end {
            // Audio for time already covered (a repeat, or after a fill).
            let overlap = ((l.end - at) as usize * width).min(audio.len());
            self.stats.dropped += (overlap / width) as u64;
            audio = &audio[overlap..];
        }
        l.pending.extend(audio);
        l.end += (audio.len() / width) as u64;
        Ok(())
    }

    /// Appends to `out` every frame all legs have reached (filling a leg
    /// that lags more than `max_lead` behind the furthest).
    pub fn drain(&mut self, out: &mut Vec<u8>) {
        let furthest = self.legs.iter().map(|l| l.end).max().unwrap_or(0);
        let floor = furthest.saturating_sub(self.max_lead);
        self.fill_to(floor);
        let ready = self.legs.iter().map(|l| l.end).min().unwrap_or(0);
        self.emit_to(ready, out);
    }

    /// Appends everything left, the shorter legs filled to the longest.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let furthest = self.legs.iter().map(|l| l.end).max().unwrap_or(0);
        self.fill_to(furthest);
        self.emit_to(furthest, out);
    }

    /// Samples per leg emitted so far.
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    pub fn stats(&self) -> InterleaveStats {
        self.stats
    }

    fn fill_to(&mut self, pos: u64) {
        for l in &mut self.legs {
            if l.end < pos {
                let n = pos - l.end;
                extend_silence(&mut l.pending, &self.silence, n);
                l.end = pos;
                self.stats.filled += n;
            }
        }
    }

    fn emit_to(&mut self, pos: u64, out: &mut Vec<u8>) {
        let n = pos.saturating_sub(self.emitted) as usize;
        if n == 0 {
            return;
        }
        let (w, bytes) = (self.width, n * self.width);
        out.reserve(bytes * self.legs.len());
        let legs: Vec<&[u8]> = self
            .legs
            .iter_mut()
            .map(|l| &l.pending.make_contiguous()[..bytes])
            .collect();
        for i in (0..bytes).step_by(w) {
            for leg in &legs {
                out.extend_from_slice(&leg[i..i + w]);
            }
        }
        for l in &mut self.legs {
            l.pending.drain(..bytes);
        }
        self.emitted = pos;
    }
}

/// Appends `samples` samples of `silence` (one sample's bytes).
fn extend_silence(buf: &mut VecDeque<u8>, silence: &[u8], samples: u64) {
    buf.extend(
        silence
            .iter()
            .copied()
            .cycle()
            .take(samples as usize * silence.len()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIL: u8 = 0xFF;

    #[test]
    fn two_legs_interleave_sample_by_sample_as_far_as_both_have_come() {
        let mut i = Interleaver::new(2, &[SIL], 100);
        let mut out = Vec::new();
        i.push(0, Some(0), &[1, 2, 3]).unwrap();
        i.drain(&mut out);
        assert!(out.is_empty(), "leg 1 has sent nothing yet");
        i.push(1, Some(0), &[9, 8]).unwrap();
        i.drain(&mut out);
        assert_eq!(out, [1, 9, 2, 8]);
        i.push(1, None, &[7]).unwrap();
        i.drain(&mut out);
        assert_eq!(out, [1, 9, 2, 8, 3, 7]);
        assert_eq!(i.emitted(), 3);
        assert_eq!(i.stats(), InterleaveStats::default());
    }

    #[test]
    fn gaps_are_silence_repeats_are_dropped_and_finish_pads() {
        let mut i = Interleaver::new(2, &[SIL], 100);
        let mut out = Vec::new();
        i.push(0, Some(0), &[1, 2]).unwrap();
        i.push(0, Some(4), &[5]).unwrap(); // samples 2, 3 lost
        i.push(1, Some(0), &[9, 9, 9]).unwrap();
        i.push(1, Some(1), &[6, 6, 8]).unwrap(); // 1, 2 again; 3 is new
        i.finish(&mut out);
        assert_eq!(out, [1, 9, 2, 9, SIL, 9, SIL, 8, 5, SIL]);
        assert_eq!(
            i.stats(),
            InterleaveStats {
                filled: 3,
                dropped: 2
            }
        );
    }

    #[test]
    fn a_silent_leg_holds_the_other_back_by_at_most_max_lead() {
        let mut i = Interleaver::new(2, &[0, 0], 4);
        let mut out = Vec::new();
        i.push(0, None, &[1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0])
            .unwrap(); // 6 samples
        i.drain(&mut out);
        // Leg 1 never sends: 6 − 4 = 2 samples go out, leg 1 as silence.
        assert_eq!(out, [1, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(i.stats().filled, 2);
    }

    #[test]
    fn bad_audio_is_refused_and_changes_nothing() {
        let mut i = Interleaver::new(1, &[0, 0], 10);
        assert_eq!(
            i.push(0, None, &[1, 2, 3]),
            Err(InterleaveError::PartialSample { len: 3, width: 2 })
        );
        assert_eq!(i.push(2, None, &[1, 2]), Err(InterleaveError::NoSuchLeg(2)));
        assert_eq!(
            i.push(0, Some(MAX_GAP_SAMPLES + 1), &[1, 2]),
            Err(InterleaveError::Jump {
                gap: MAX_GAP_SAMPLES + 1
            })
        );
        let mut out = Vec::new();
        i.push(0, Some(0), &[7, 0]).unwrap();
        i.finish(&mut out);
        assert_eq!(out, [7, 0]);
    }
}
