//! Streaming resampling of one channel to the engine's 16 kHz with rubato.
//!
//! Owns: rate conversion with continuity across chunk boundaries, removal of
//! the resampler's group delay (so output sample `n` lines up with input time
//! `n / 16000`), and the final flush. It must not decode or detect speech.

use rubato::{FftFixedInOut, Resampler};

/// The rate every channel is converted to: what Whisper and the VADs expect.
pub const TARGET_RATE: u32 = 16_000;

/// Input frames handed to rubato per block (≈ 20 ms at 8 kHz).
const BLOCK_MS: usize = 20;

/// Why a resampler could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot resample from {rate} Hz: {reason}")]
pub struct ResampleError {
    rate: u32,
    reason: String,
}

/// Converts an arbitrary-rate mono stream to 16 kHz in chunks of any size.
pub struct StreamResampler {
    inner: Option<Inner>,
}

struct Inner {
    rs: FftFixedInOut<f32>,
    pending: Vec<f32>,
    out_buf: Vec<Vec<f32>>,
    /// Leading output samples still to drop (the filter's delay).
    skip: usize,
    frames_in: u64,
    frames_out: u64,
    in_rate: u64,
    out_rate: u64,
}

impl StreamResampler {
    /// # Errors
    /// If rubato rejects the rate pair.
    pub fn new(input_rate: u32) -> Result<Self, ResampleError> {
        Self::with_rates(input_rate, TARGET_RATE)
    }

    /// A resampler between any two rates (used to simulate telephony audio).
    ///
    /// # Errors
    /// If rubato rejects the rate pair.
    pub fn with_rates(input_rate: u32, output_rate: u32) -> Result<Self, ResampleError> {
        if input_rate == output_rate {
            return Ok(Self { inner: None });
        }
        if input_rate == 0 || output_rate == 0 {
            return Err(ResampleError {
                rate: input_rate,
                reason: "sample rate must be positive".into(),
            });
        }
        let chunk = (input_rate as usize * BLOCK_MS / 1000).max(1);
        let rs = FftFixedInOut::<f32>::new(input_rate as usize, output_rate as usize, chunk, 1)
            .map_err(|e| ResampleError {
                rate: input_rate,
                reason: e.to_string(),
            })?;
        let out_buf = vec![vec![0.0; rs.output_frames_max()]];
        Ok(Self {
            inner: Some(Inner {
                skip: rs.output_delay(),
                pending: Vec::with_capacity(rs.input_frames_max() * 2),
                rs,
                out_buf,
                frames_in: 0,
                frames_out: 0,
                in_rate: input_rate as u64,
                out_rate: output_rate as u64,
            }),
        })
    }

    /// Resamples `input`, appending 16 kHz samples to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        match &mut self.inner {
            None => out.extend_from_slice(input),
            Some(inner) => inner.process(input, out),
        }
    }

    /// Flushes the filter tail: afterwards `out` has received exactly
    /// `round(frames_in × output_rate / input_rate)` samples in total.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        if let Some(inner) = &mut self.inner {
            inner.finish(out);
        }
    }
}

impl Inner {
    fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        self.frames_in += input.len() as u64;
        self.pending.extend_from_slice(input);
        let need = self.rs.input_frames_next();
        let mut start = 0;
        while self.pending.len() - start >= need {
            self.run_block(start, out);
            start += need;
        }
        self.pending.drain(..start);
    }

    fn run_block(&mut self, start: usize, out: &mut Vec<f32>) {
        let need = self.rs.input_frames_next();
        let input = [&self.pending[start..start + need]];
        // Sizes come from the resampler itself, so this cannot fail.
        let (_, produced) = self
            .rs
            .process_into_buffer(&input, &mut self.out_buf, None)
            .expect("resampler buffers sized by the resampler");
        self.emit(produced, out);
    }

    fn emit(&mut self, produced: usize, out: &mut Vec<f32>) {
        let drop = self.skip.min(produced);
        self.skip -= drop;
        let wanted = self.expected_total() - self.frames_out;
        let take = ((produced - drop) as u64).min(wanted) as usize;
        out.extend_from_slice(&self.out_buf[0][drop..drop + take]);
        self.frames_out += take as u64;
    }

    fn expected_total(&self) -> u64 {
        (self.frames_in * self.out_rate + self.in_rate / 2) / self.in_rate
    }

    fn finish(&mut self, out: &mut Vec<f32>) {
        // Feed silence until every expected output sample has come out.
        let need = self.rs.input_frames_next();
        let zeros_needed = need - self.pending.len() % need;
        self.pending.resize(self.pending.len() + zeros_needed, 0.0);
        let mut start = 0;
        loop {
            while self.pending.len() - start < need {
                self.pending.resize(self.pending.len() + need, 0.0);
            }
            self.run_block(start, out);
            start += need;
            if self.frames_out >= self.expected_total() {
                break;
            }
        }
        self.pending.clear();
    }
}

/// Resamples a whole signal at once.
///
/// # Errors
/// If rubato rejects the rate pair.
pub fn resample_offline(x: &[f32], from: u32, to: u32) -> Result<Vec<f32>, ResampleError> {
    let mut rs = StreamResampler::with_rates(from, to)?;
    let mut out = Vec::with_capacity(x.len() * to as usize / from.max(1) as usize + 1);
    rs.process(x, &mut out);
    rs.finish(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f32, amp: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    /// Amplitude and phase of `freq` in `x` (16 kHz) by correlation.
    fn tone(x: &[f32], freq: f32) -> (f32, f32) {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for (i, &v) in x.iter().enumerate() {
            let w = 2.0 * std::f64::consts::PI * freq as f64 * i as f64 / TARGET_RATE as f64;
            s += v as f64 * w.sin();
            c += v as f64 * w.cos();
        }
        let n = x.len() as f64;
        (((s * s + c * c).sqrt() * 2.0 / n) as f32, c.atan2(s) as f32)
    }

    fn run_chunked(rate: u32, input: &[f32], chunks: &[usize]) -> Vec<f32> {
        let mut rs = StreamResampler::new(rate).unwrap();
        let mut out = Vec::new();
        let (mut pos, mut k) = (0, 0);
        while pos < input.len() {
            let n = chunks[k % chunks.len()].min(input.len() - pos);
            rs.process(&input[pos..pos + n], &mut out);
            pos += n;
            k += 1;
        }
        rs.finish(&mut out);
        out
    }

    #[test]
    fn frequency_amplitude_and_length_preserved_for_telephony_rates() {
        for &rate in &[8000u32, 11025, 22050, 44100, 48000, 64000, 96000, 192_000] {
            let n = rate as usize; // one second
            let input = sine(rate, 440.0, 0.5, n);
            let out = run_chunked(rate, &input, &[160]);
            assert_eq!(out.len(), 16000, "rate {rate}");
            // Skip edges (filter ramp) and measure the tone in the middle.
            let (amp, phase) = tone(&out[2000..14000], 440.0);
            assert!((amp - 0.5).abs() < 0.01, "rate {rate}: amplitude {amp}");
            // Group delay removed: the phase matches a sine starting at t=0, to
            // within one output sample.
            let expected_phase = {
                let w = 2.0 * std::f32::consts::PI * 440.0 * 2000.0 / 16000.0;
                w.rem_euclid(2.0 * std::f32::consts::PI)
            };
            let d = (phase - expected_phase).rem_euclid(2.0 * std::f32::consts::PI);
            let d = d.min(2.0 * std::f32::consts::PI - d);
            let offset_samples = d / (2.0 * std::f32::consts::PI * 440.0) * 16000.0;
            assert!(
                offset_samples < 1.0,
                "rate {rate}: output offset by {offset_samples} samples"
            );
        }
    }

    #[test]
    fn arbitrary_chunking_gives_identical_output() {
        let input = sine(8000, 1000.0, 0.3, 8000);
        let reference = run_chunked(8000, &input, &[8000]);
        for chunks in [&[1usize][..], &[7, 13, 160, 1], &[333], &[2, 999]] {
            let out = run_chunked(8000, &input, chunks);
            assert_eq!(out.len(), reference.len(), "chunks {chunks:?}");
            let max_diff = out
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(max_diff < 1e-5, "chunks {chunks:?}: max diff {max_diff}");
        }
    }

    #[test]
    fn content_above_8khz_nyquist_is_removed_when_downsampling() {
        let input = sine(48000, 12000.0, 0.5, 48000);
        let out = run_chunked(48000, &input, &[480]);
        let (amp, _) = tone(&out[2000..14000], 12000.0 - 8000.0);
        let rms = (out[2000..14000].iter().map(|v| v * v).sum::<f32>() / 12000.0).sqrt();
        assert!(rms < 0.01 && amp < 0.01, "aliasing: rms {rms}, amp {amp}");
    }

    #[test]
    fn passthrough_at_16k() {
        let input = sine(16000, 300.0, 0.2, 1234);
        let out = run_chunked(16000, &input, &[100]);
        assert_eq!(out, input);
    }
}
