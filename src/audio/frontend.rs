//! One call's audio front end: bytes in, utterances per channel out.
//!
//! Owns: the chain decode → split channels → resample to 16 kHz → endpoint,
//! and utterance numbering across a call's channels. Synchronous and
//! single-threaded; `pool` decides which thread runs it.

use super::codec::{CodecError, Decoder};
use super::endpoint::{EndpointParams, Endpointer, Segment};
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
}

struct Channel {
    resampler: StreamResampler,
    endpointer: Endpointer,
    /// Seq of this channel's utterance in progress, once it has been emitted
    /// as an interim snapshot.
    open_seq: Option<u32>,
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
        })
    }

    /// Call time received so far, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.decoder.frames_decoded() * 1000 / self.rate as u64
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
            if segment.is_final {
                c.open_seq = None;
            }
            out.push(Utterance {
                channel: ch,
                seq,
                segment,
            });
        }
    }
}
