//! Reading audio files (WAV, FLAC, MP3) for the CLI, tests and benchmarks.
//!
//! Owns: container/codec decoding to per-channel `f32`, and encoding such
//! audio into the byte formats a telephony platform sends. Not on the
//! server's data path.

use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::codec::{linear_to_alaw, linear_to_ulaw};
use crate::proto::AudioEncoding;

/// Decoded audio: one `Vec` per channel.
#[derive(Debug, Clone)]
pub struct AudioClip {
    pub sample_rate: u32,
    pub channels: Vec<Vec<f32>>,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a supported audio file (WAV, FLAC or MP3): {reason}")]
    Format { path: String, reason: String },
}

impl AudioClip {
    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / self.sample_rate as f64
    }

    /// Reads and fully decodes an audio file.
    ///
    /// # Errors
    /// Unreadable file or unsupported format.
    pub fn read(path: &Path) -> Result<Self, FileError> {
        let p = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|source| FileError::Open {
            path: p.clone(),
            source,
        })?;
        let fmt_err = |e: SymError| FileError::Format {
            path: p.clone(),
            reason: e.to_string(),
        };
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                mss,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .map_err(fmt_err)?;
        let mut format = probed.format;
        let track = format.default_track().ok_or_else(|| FileError::Format {
            path: p.clone(),
            reason: "no audio track".into(),
        })?;
        let track_id = track.id;
        let mut decoder = symphonia::default::get_codecs()
            .make(&track.codec_params, &DecoderOptions::default())
            .map_err(fmt_err)?;
        let mut rate = track.codec_params.sample_rate.unwrap_or(0);
        let mut channels: Vec<Vec<f32>> = Vec::new();
        loop {
            let packet = match format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(SymError::ResetRequired) => break,
                Err(e) => return Err(fmt_err(e)),
            };
            if packet.track_id() != track_id {
                continue;
            }
            let decoded = match decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(_)) => continue, // skip a corrupt frame, as players do
                Err(e) => return Err(fmt_err(e)),
            };
            let spec = *decoded.spec();
            rate = spec.rate;
            let n = spec.channels.count();
            if channels.is_empty() {
                channels = vec![Vec::new(); n];
            }
            let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
            buf.copy_interleaved_ref(decoded);
            for (i, s) in buf.samples().iter().enumerate() {
                channels[i % n].push(*s);
            }
        }
        if channels.is_empty() || rate == 0 {
            return Err(FileError::Format {
                path: p,
                reason: "no audio decoded".into(),
            });
        }
        Ok(Self {
            sample_rate: rate,
            channels,
        })
    }

    /// Encodes as interleaved bytes in a telephony encoding.
    pub fn encode(&self, encoding: AudioEncoding) -> Vec<u8> {
        let n = self.frames();
        let ch = self.channels.len();
        let width = if encoding == AudioEncoding::Linear16 {
            2
        } else {
            1
        };
        let mut out = Vec::with_capacity(n * ch * width);
        for i in 0..n {
            for c in &self.channels {
                let s = (c[i].clamp(-1.0, 1.0) * 32767.0).round() as i16;
                match encoding {
                    AudioEncoding::Mulaw => out.push(linear_to_ulaw(s)),
                    AudioEncoding::Alaw => out.push(linear_to_alaw(s)),
                    _ => out.extend_from_slice(&s.to_le_bytes()),
                }
            }
        }
        out
    }

    /// Resamples every channel to `rate` (offline, whole clip).
    ///
    /// # Errors
    /// Unsupported rate pair.
    pub fn resampled(&self, rate: u32) -> Result<Self, super::resample::ResampleError> {
        if rate == self.sample_rate {
            return Ok(self.clone());
        }
        let channels = self
            .channels
            .iter()
            .map(|c| super::resample::resample_offline(c, self.sample_rate, rate))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            sample_rate: rate,
            channels,
        })
    }

    /// Mixes all channels down to one.
    pub fn mono(&self) -> Self {
        let n = self.frames();
        let k = self.channels.len() as f32;
        let mixed = (0..n)
            .map(|i| self.channels.iter().map(|c| c[i]).sum::<f32>() / k)
            .collect();
        Self {
            sample_rate: self.sample_rate,
            channels: vec![mixed],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_flac_and_mp3_of_the_same_speech_agree() {
        let assets = crate::testkit::assets_dir();
        let wav = AudioClip::read(&assets.join("audio/whisper_cpp/jfk.wav")).unwrap();
        let flac = AudioClip::read(&assets.join("audio/openai_whisper/jfk.flac")).unwrap();
        let mp3 = AudioClip::read(&assets.join("audio/whisper_cpp/jfk.mp3")).unwrap();
        assert_eq!(wav.sample_rate, 16_000);
        for c in [&flac, &mp3] {
            assert!(
                (c.seconds() - wav.seconds()).abs() < 0.2,
                "{} s vs {} s",
                c.seconds(),
                wav.seconds()
            );
            let rms = |x: &AudioClip| {
                let m = x.mono();
                (m.channels[0].iter().map(|v| v * v).sum::<f32>() / m.frames() as f32).sqrt()
            };
            assert!((rms(c) / rms(&wav) - 1.0).abs() < 0.2, "levels differ");
        }
    }

    #[test]
    fn not_audio_is_a_named_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.wav");
        std::fs::write(&p, b"this is not audio").unwrap();
        let e = AudioClip::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("notes.wav") && e.contains("not a supported audio file"),
            "{e}"
        );
    }

    #[test]
    fn encodings_round_trip() {
        let clip = AudioClip {
            sample_rate: 8000,
            channels: vec![vec![0.5, -0.25], vec![0.0, 0.125]],
        };
        let lin = clip.encode(AudioEncoding::Linear16);
        assert_eq!(lin.len(), 8);
        assert_eq!(i16::from_le_bytes([lin[0], lin[1]]), 16384);
        assert_eq!(clip.encode(AudioEncoding::Mulaw).len(), 4);
    }
}
