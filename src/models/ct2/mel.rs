//! The Slaney-style mel filterbank Whisper's front end uses.
//!
//! Owns: computing the `n_mels × (n_fft/2 + 1)` triangular filters with
//! Slaney area normalisation (librosa's `filters.mel` defaults: linear below
//! 1 kHz, logarithmic above), in `f64` and rounded once to `f32`, step for
//! step as numpy computes it, so the bytes equal the reference converter's.
//!
//! Must not: depend on the model; every input is a parameter.

/// Hz per mel below the linear/log break.
const F_SP: f64 = 200.0 / 3.0;
/// Where the scale turns logarithmic, in Hz.
const MIN_LOG_HZ: f64 = 1000.0;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    let min_log_mel = MIN_LOG_HZ / F_SP;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz.max(1e-10) / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    let min_log_mel = MIN_LOG_HZ / F_SP;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (log_step() * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// `numpy.maximum` / `numpy.minimum` on non-NaN input: on a tie the second
/// operand wins, which decides the sign of a zero (the first weight of the
/// first band is `-0.0` in the reference, and byte identity is the test).
fn np_max(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

fn np_min(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else {
        b
    }
}

/// `n` evenly spaced points from `start` to `stop` inclusive, as
/// `numpy.linspace` computes them (`i * step + start`, last point exact).
fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n < 2 {
        return vec![start; n];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * step + start).collect();
    v[n - 1] = stop;
    v
}

/// Filters for `n_mels` bands over an `n_fft`-point FFT at `sample_rate`,
/// row-major (`n_mels` rows of `n_fft / 2 + 1`).
pub fn slaney_filterbank(n_mels: usize, n_fft: usize, sample_rate: u32) -> Vec<f32> {
    let nyquist = f64::from(sample_rate) / 2.0;
    let fft_hz = linspace(0.0, nyquist, n_fft / 2 + 1);
    let band_hz: Vec<f64> = linspace(hz_to_mel(0.0), hz_to_mel(nyquist), n_mels + 2)
        .into_iter()
        .map(mel_to_hz)
        .collect();
    let mut out = Vec::with_capacity(n_mels * fft_hz.len());
    for w in band_hz.windows(3).take(n_mels) {
        let (lo, mid, hi) = (w[0], w[1], w[2]);
        let enorm = 2.0 / (hi - lo);
        out.extend(fft_hz.iter().map(|&f| {
            let rising = -(lo - f) / (mid - lo);
            let falling = (hi - f) / (hi - mid);
            (np_max(0.0, np_min(rising, falling)) * enorm) as f32
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whisper_filterbank_has_shape_unit_area_and_known_values() {
        let fb = slaney_filterbank(80, 400, 16000);
        assert_eq!(fb.len(), 80 * 201);
        // The first band starts at 0 Hz: bin 0 is its lower edge (a negative
        // zero, as numpy leaves it), bin 1 (40 Hz) is on its slope.
        assert_eq!(fb[0].to_bits(), (-0.0f32).to_bits());
        assert!(fb[1] > 0.0);
        // Slaney normalisation divides by each band's width, so the wide top
        // band's weights are far smaller than the narrow bottom one's.
        let row = |r: usize| &fb[r * 201..(r + 1) * 201];
        let peak = |r: usize| row(r).iter().copied().fold(0f32, f32::max);
        assert!(peak(0) > 5.0 * peak(79), "{} {}", peak(0), peak(79));
        // Every band has some non-zero weight and none is negative.
        for r in 0..80 {
            assert!(row(r).iter().all(|&w| w >= 0.0));
            assert!(row(r).iter().any(|&w| w > 0.0), "band {r} empty");
        }
        // Bits of three weights in the reference converter's output.
        assert_eq!(fb[1].to_bits(), 0x3ccb_aca4, "{:e}", fb[1]);
        assert_eq!(fb[79 * 201 + 199].to_bits(), 0x39eb_476b);
        assert_eq!(fb[79 * 201 + 200].to_bits(), 0, "last bin of the top band");
    }
}
