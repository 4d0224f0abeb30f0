//! G.711 μ-law / A-law and LINEAR16 decoding, plus de-interleaving of
//! multi-channel frames into one `f32` stream per channel.
//!
//! Owns: byte → sample conversion only. It must not resample, buffer across
//! calls or allocate per sample; a [`Decoder`] keeps the one partial frame a
//! chunk may end in, so chunk boundaries can fall anywhere.

use crate::proto::AudioEncoding;

/// Decodes one G.711 μ-law byte to a 16-bit linear sample (ITU-T G.711).
pub fn ulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = u & 0x0F;
    let magnitude = ((((mantissa as i32) << 3) + 0x84) << exponent) - 0x84;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Decodes one G.711 A-law byte to a 16-bit linear sample (ITU-T G.711).
pub fn alaw_to_linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let sign = a & 0x80;
    let exponent = (a >> 4) & 0x07;
    let mantissa = (a & 0x0F) as i32;
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    };
    if sign != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// Encodes a 16-bit linear sample as G.711 μ-law (used to simulate telephony
/// audio in the CLI, tests and benchmarks). Follows the reference
/// implementation: quantise to 14 bits, bias 33, clip at 8159.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    const CLIP: i32 = 8159;
    const BIAS: i32 = 33;
    let mut pcm = (sample as i32) >> 2;
    let mask: u8 = if pcm < 0 {
        pcm = -pcm;
        0x7F
    } else {
        0xFF
    };
    pcm = pcm.min(CLIP) + BIAS;
    // Segment: position of the highest set bit above bit 5 (pcm ≥ 33 > 0x20).
    let seg = (31 - pcm.leading_zeros() as i32 - 5).max(0);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let uval = ((seg << 4) | ((pcm >> (seg + 1)) & 0x0F)) as u8;
    uval ^ mask
}

/// Encodes a 16-bit linear sample as G.711 A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 3; // 13-bit magnitude domain
    let mask = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let code = if pcm < 32 {
        (pcm >> 1) as u8
    } else {
        let exponent = (31 - (pcm as u32).leading_zeros()) as i32 - 4; // 1..=7
        if exponent > 7 {
            0x7F
        } else {
            ((exponent << 4) | ((pcm >> exponent) & 0x0F)) as u8
        }
    };
    code ^ mask
}

/// Why a chunk of audio bytes could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    #[error("unsupported audio encoding {0:?}")]
    Unsupported(i32),
    #[error("LINEAR16 audio must hold whole 16-bit samples, but the stream ended inside a sample ({0} stray byte(s))")]
    PartialSample(usize),
    #[error("audio ended inside a frame: {0} byte(s) of an incomplete {1}-channel frame")]
    PartialFrame(usize, usize),
}

/// Streaming decoder: bytes of interleaved frames in, one `f32` stream per
/// channel out (samples in [-1, 1)). Chunks may split a frame anywhere; the
/// incomplete tail is carried to the next chunk.
#[derive(Debug)]
pub struct Decoder {
    encoding: AudioEncoding,
    channels: usize,
    bytes_per_frame: usize,
    carry: Vec<u8>,
    frames_decoded: u64,
}

impl Decoder {
    /// # Errors
    /// [`CodecError::Unsupported`] for `ENCODING_UNSPECIFIED`.
    pub fn new(encoding: AudioEncoding, channels: usize) -> Result<Self, CodecError> {
        let bytes_per_sample = match encoding {
            AudioEncoding::Linear16 => 2,
            AudioEncoding::Mulaw | AudioEncoding::Alaw => 1,
            AudioEncoding::EncodingUnspecified => {
                return Err(CodecError::Unsupported(encoding as i32))
            }
        };
        Ok(Self {
            encoding,
            channels,
            bytes_per_frame: bytes_per_sample * channels,
            carry: Vec::with_capacity(bytes_per_sample * channels),
            frames_decoded: 0,
        })
    }

    /// Frames (samples per channel) decoded so far.
    pub fn frames_decoded(&self) -> u64 {
        self.frames_decoded
    }

    /// Decodes `bytes`, appending each channel's samples to `out[ch]`.
    pub fn decode(&mut self, mut bytes: &[u8], out: &mut [Vec<f32>]) {
        debug_assert_eq!(out.len(), self.channels);
        if !self.carry.is_empty() {
            let need = self.bytes_per_frame - self.carry.len();
            let take = need.min(bytes.len());
            self.carry.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.carry.len() < self.bytes_per_frame {
                return;
            }
            let frame = std::mem::take(&mut self.carry);
            self.decode_frames(&frame, out);
            self.carry = frame;
            self.carry.clear();
        }
        let whole = bytes.len() / self.bytes_per_frame * self.bytes_per_frame;
        self.decode_frames(&bytes[..whole], out);
        self.carry.extend_from_slice(&bytes[whole..]);
    }

    /// Ends the stream.
    ///
    /// # Errors
    /// The stream stopped inside a sample or frame: those bytes cannot be audio.
    pub fn finish(&mut self) -> Result<(), CodecError> {
        let stray = self.carry.len();
        self.carry.clear();
        match stray {
            0 => Ok(()),
            n if self.encoding == AudioEncoding::Linear16 && n % 2 == 1 => {
                Err(CodecError::PartialSample(n))
            }
            n => Err(CodecError::PartialFrame(n, self.channels)),
        }
    }

    fn decode_frames(&mut self, bytes: &[u8], out: &mut [Vec<f32>]) {
        const SCALE: f32 = 1.0 / 32768.0;
        let channels = self.channels;
        match self.encoding {
            AudioEncoding::Linear16 => {
                for (i, s) in bytes.chunks_exact(2).enumerate() {
                    out[i % channels].push(i16::from_le_bytes([s[0], s[1]]) as f32 * SCALE);
                }
            }
            AudioEncoding::Mulaw => {
                for (i, &b) in bytes.iter().enumerate() {
                    out[i % channels].push(ULAW_TABLE[b as usize] as f32 * SCALE);
                }
            }
            AudioEncoding::Alaw => {
                for (i, &b) in bytes.iter().enumerate() {
                    out[i % channels].push(ALAW_TABLE[b as usize] as f32 * SCALE);
                }
            }
            AudioEncoding::EncodingUnspecified => unreachable!("rejected in Decoder::new"),
        }
        self.frames_decoded += (bytes.len() / self.bytes_per_frame) as u64;
    }
}

static ULAW_TABLE: std::sync::LazyLock<[i16; 256]> =
    std::sync::LazyLock::new(|| build(ulaw_to_linear));
static ALAW_TABLE: std::sync::LazyLock<[i16; 256]> =
    std::sync::LazyLock::new(|| build(alaw_to_linear));

fn build(f: fn(u8) -> i16) -> [i16; 256] {
    std::array::from_fn(|c| f(c as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Reference {
        ulaw_decode: Vec<i16>,
        alaw_decode: Vec<i16>,
        encode_inputs_step: usize,
        ulaw_encode: Vec<u8>,
        alaw_encode: Vec<u8>,
    }

    fn reference() -> Reference {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/g711_reference.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn encode_inputs(step: usize) -> Vec<i16> {
        let mut xs: Vec<i16> = (-32768i32..32768).step_by(step).map(|x| x as i16).collect();
        xs.push(i16::MAX);
        xs
    }

    #[test]
    fn decoders_match_reference_tables() {
        let r = reference();
        for c in 0..=255u8 {
            assert_eq!(
                ulaw_to_linear(c),
                r.ulaw_decode[c as usize],
                "μ-law code {c:#04x}"
            );
            assert_eq!(
                alaw_to_linear(c),
                r.alaw_decode[c as usize],
                "A-law code {c:#04x}"
            );
        }
    }

    #[test]
    fn encoders_match_reference() {
        let r = reference();
        let xs = encode_inputs(r.encode_inputs_step);
        assert_eq!(xs.len(), r.ulaw_encode.len());
        for (i, &x) in xs.iter().enumerate() {
            assert_eq!(linear_to_ulaw(x), r.ulaw_encode[i], "μ-law encode {x}");
            assert_eq!(linear_to_alaw(x), r.alaw_encode[i], "A-law encode {x}");
        }
    }

    #[test]
    fn stereo_split_across_arbitrary_chunks() {
        // 3 frames of stereo LINEAR16: L = 1000, 2000, 3000; R = -1, -2, -3.
        let mut bytes = Vec::new();
        for i in 1..=3i16 {
            bytes.extend_from_slice(&(i * 1000).to_le_bytes());
            bytes.extend_from_slice(&(-i).to_le_bytes());
        }
        for split in 0..bytes.len() {
            let mut d = Decoder::new(AudioEncoding::Linear16, 2).unwrap();
            let mut out = vec![Vec::new(), Vec::new()];
            d.decode(&bytes[..split], &mut out);
            d.decode(&bytes[split..], &mut out);
            d.finish().unwrap();
            let l: Vec<i32> = out[0]
                .iter()
                .map(|s| (s * 32768.0).round() as i32)
                .collect();
            let r: Vec<i32> = out[1]
                .iter()
                .map(|s| (s * 32768.0).round() as i32)
                .collect();
            assert_eq!(l, vec![1000, 2000, 3000], "split at {split}");
            assert_eq!(r, vec![-1, -2, -3], "split at {split}");
        }
    }

    #[test]
    fn odd_linear16_tail_is_an_error() {
        let mut d = Decoder::new(AudioEncoding::Linear16, 1).unwrap();
        let mut out = vec![Vec::new()];
        d.decode(&[1, 2, 3], &mut out);
        assert_eq!(out[0].len(), 1);
        assert_eq!(d.finish(), Err(CodecError::PartialSample(1)));
    }

    #[test]
    fn unspecified_encoding_rejected() {
        assert!(Decoder::new(AudioEncoding::EncodingUnspecified, 1).is_err());
    }
}
