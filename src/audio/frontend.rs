//! One call's audio front end: bytes in, utterances per channel out.
//!
//! Owns: the chain decode → split channels → resample to 16 kHz → endpoint,
//! and utterance numbering across a call's channels. Synchronous and
//! single-threaded; `pool` decides which thread runs it.

use super::codec::{CodecError, Decoder};
use super::endpoint::{speech_level_dbfs, EndpointParams, Endpointer, Segment, SAMPLES_PER_MS};
use super::resample::{ResampleError, StreamResampler};
use super::vad::{VadError, VoiceDetector};
use crate::proto::AudioEncoding;

/// What a call's audio looks like (validated before it gets here).
#[derive(Debug, Clone)]
pub struct FrontendSetup {
    pub encoding: AudioEncoding,
    pub sample_rate_hz: u32,
    pub channels: usize,
    pub endpoint: EndpointParams,
}

/// Why a call's audio could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(transparent)]
    Resample(#[from] ResampleError),
    #[error(transparent)]
    Vad(#[from] VadError),
}

/// An utterance found on one channel.
#[derive(Debug, Clone)]
pub struct Utterance {
    pub channel: usize,
    /// Per call, from 1, in order of first emission; an interim snapshot and
    /// the final utterance it belongs to share it.
    pub seq: u32,
    pub segment: Segment,
    /// Speech level of a final's unpadded speech ([`speech_level_dbfs`]);
    /// −120 on interim and early snapshots.
    pub level_dbfs: f32,
}

/// Where a call's front end is: how much audio it has heard and which
/// channels are inside an utterance. Sent after the utterances of the same
/// audio, so the receiver's view is consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// Call time heard so far.
    pub position_ms: u64,
    /// Per channel: where the utterance in progress started, in call ms.
    pub speaking_since_ms: Vec<Option<u32>>,
}

/// Progress is reported at least this often in call time, and whenever a
/// channel starts or stops speaking.
const PROGRESS_EVERY_MS: u64 = 500;

struct Channel {
    resampler: StreamResampler,
    endpointer: Endpointer,
    /// Seq of this channel's utterance in progress, once it has been emitted
    /// as an interim snapshot.
    open_seq: Option<u32>,
    /// The speech start last reported in [`Progress`].
    reported_start: Option<u64>,
}

/// Decoder, resamplers and endpointers of one call.
pub struct CallFrontend {
    decoder: Decoder,
    channels: Vec<Channel>,
    decoded: Vec<Vec<f32>>,
    resampled: Vec<f32>,
    segments: Vec<Segment>,
    next_seq: u32,
    rate: u32,
    /// Position of the last [`Progress`] report (`None`: none yet).
    reported_ms: Option<u64>,
}

impl CallFrontend {
    /// # Errors
    /// Unsupported encoding or sample rate.
    pub fn new(
        setup: &FrontendSetup,
        mut make_vad: impl FnMut() -> Box<dyn VoiceDetector>,
    ) -> Result<Self, FrontendError> {
        let decoder = Decoder::new(setup.encoding, setup.channels)?;
        let channels = (0..setup.channels)
            .map(|_| {
                Ok(Channel {
                    resampler: StreamResampler::new(setup.sample_rate_hz)?,
                    endpointer: Endpointer::new(setup.endpoint.clone(), make_vad()),
                    open_seq: None,
                    reported_start: None,
                })
            })
            .collect::<Result<Vec<_>, FrontendError>>()?;
        Ok(Self {
            decoder,
            decoded: vec![Vec::new(); channels.len()],
            channels,
            resampled: Vec::new(),
            segments: Vec::new(),
            next_seq: 1,
            rate: setup.sample_rate_hz,
            reported_ms: None,
        })
    }

    /// Call time received so far, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.decoder.frames_decoded() * 1000 / self.rate as u64
    }

    /// A [`Progress`] report when a channel started or stopped speaking, or
    /// [`PROGRESS_EVERY_MS`] of call time passed since the last one.
    pub fn progress(&mut self) -> Option<Progress> {
        let position_ms = self.duration_ms();
        let mut changed = self
            .reported_ms
            .is_none_or(|r| position_ms >= r + PROGRESS_EVERY_MS);
        for c in &mut self.channels {
            let now = c.endpointer.speech_start();
            changed |= now != c.reported_start;
            c.reported_start = now;
        }
        if !changed {
            return None;
        }
        self.reported_ms = Some(position_ms);
        Some(Progress {
            position_ms,
            speaking_since_ms: self
                .channels
                .iter()
                .map(|c| c.reported_start.map(|s| (s / SAMPLES_PER_MS) as u32))
                .collect(),
        })
    }

    /// Processes one chunk of interleaved audio bytes.
    ///
    /// # Errors
    /// VAD failure.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Utterance>) -> Result<(), FrontendError> {
        self.decoder.decode(bytes, &mut self.decoded);
        for ch in 0..self.channels.len() {
            self.resampled.clear();
            let c = &mut self.channels[ch];
            c.resampler.process(&self.decoded[ch], &mut self.resampled);
            self.decoded[ch].clear();
            c.endpointer.push(&self.resampled, &mut self.segments)?;
            self.collect(ch, out);
        }
        Ok(())
    }

    /// Ends the call: flushes resamplers and endpointers.
    ///
    /// # Errors
    /// The audio ended inside a frame, or VAD failure.
    pub fn finish(&mut self, out: &mut Vec<Utterance>) -> Result<(), FrontendError> {
        let tail = self.decoder.finish();
        for ch in 0..self.channels.len() {
            self.resampled.clear();
            let c = &mut self.channels[ch];
            c.resampler.finish(&mut self.resampled);
            c.endpointer.push(&self.resampled, &mut self.segments)?;
            c.endpointer.finish(&mut self.segments)?;
            self.collect(ch, out);
        }
        tail?;
        Ok(())
    }

    fn collect(&mut self, ch: usize, out: &mut Vec<Utterance>) {
        for segment in self.segments.drain(..) {
            let c = &mut self.channels[ch];
            let seq = *c.open_seq.get_or_insert_with(|| {
                let s = self.next_seq;
                self.next_seq += 1;
                s
            });
            let level_dbfs = if segment.is_final {
                c.open_seq = None;
                let from = segment.start.saturating_sub(segment.audio_start) as usize;
                let to = (segment.end.saturating_sub(segment.audio_start) as usize)
                    .min(segment.audio.len());
                speech_level_dbfs(segment.audio.get(from..to).unwrap_or_default())
            } else {
                -120.0
            };
            out.push(Utterance {
                channel: ch,
                seq,
                segment,
                level_dbfs,
            });
        }
    }
}
