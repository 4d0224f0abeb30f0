//! Writing whisper.cpp's (legacy, non-GGUF) ggml model file.
//!
//! Owns: the byte layout — magic, the eleven hyperparameters, the mel
//! filterbank, the vocabulary, then tensor records — the float16 rounding
//! (round to nearest, ties to even, as numpy and whisper.cpp's own
//! converter do), bfloat16 (the upper half of a float32, rounded to
//! nearest, ties to even, as ggml's `ggml_compute_fp32_to_bf16`) and
//! ggml's `Q8_0` blocks (per 32 values one float16 scale
//! `max|x| / 127` and 32 signed bytes `round(x / scale)`, as ggml's
//! reference `quantize_row_q8_0` writes them). All integers are
//! little-endian `i32`.
//!
//! Must not: decide names, shapes or types of tensors (the caller does), or
//! write a value that does not fit its field.

use std::io::Write;

use half::slice::HalfFloatSliceExt;

use super::ConvertError;

/// `"ggml"` read as a little-endian `u32`.
pub const GGML_MAGIC: u32 = 0x6767_6d6c;
/// Values converted per float16 batch.
const F16_BATCH: usize = 1 << 14;
/// Values per `Q8_0` block (ggml's `QK8_0`).
pub const Q8_0_BLOCK: usize = 32;
/// `Hparams::ftype` of a float16 file.
pub const FTYPE_F16: usize = 1;
/// `Hparams::ftype` of a file whose matrices are `Q8_0`: ggml's
/// `GGML_FTYPE_MOSTLY_Q8_0` (7) plus its quantization format version (2)
/// times 1000, as whisper.cpp's `quantize` writes it.
pub const FTYPE_Q8_0: usize = 7 + 2 * 1000;
/// `Hparams::ftype` of a file whose matrices are bfloat16: ggml's
/// `GGML_FTYPE_MOSTLY_BF16`.
pub const FTYPE_BF16: usize = 24;

/// whisper.cpp's hyperparameters, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
    /// How the large tensors are stored: [`FTYPE_F16`], [`FTYPE_BF16`] or
    /// [`FTYPE_Q8_0`].
    pub ftype: usize,
}

impl Hparams {
    fn fields(&self) -> [usize; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }
}

/// How a tensor's elements are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    F32,
    F16,
    /// bfloat16: float32's exponent range with 8 bits of mantissa.
    Bf16,
    /// 8-bit blocks of [`Q8_0_BLOCK`] values with a float16 scale; rows
    /// (the innermost dimension) must be whole blocks.
    Q8_0,
}

impl Storage {
    /// ggml's type id in a tensor record.
    fn ggml_type(self) -> usize {
        match self {
            Storage::F32 => 0,
            Storage::F16 => 1,
            Storage::Q8_0 => 8,
            Storage::Bf16 => 30,
        }
    }
}

/// `v` as bfloat16 bits: rounded to nearest, ties to even; a NaN stays a
/// (quiet) NaN.
fn bf16_bits(v: f32) -> u16 {
    let u = v.to_bits();
    if v.is_nan() {
        return ((u >> 16) | 64) as u16;
    }
    ((u + (0x7fff + ((u >> 16) & 1))) >> 16) as u16
}

/// Appends `data` (whole blocks) as ggml `Q8_0` blocks: float16 scale, then
/// 32 signed bytes.
fn quantize_q8_0(data: &[f32], out: &mut Vec<u8>) {
    debug_assert!(data.len().is_multiple_of(Q8_0_BLOCK));
    for block in data.chunks_exact(Q8_0_BLOCK) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
        // `round` is ties away from zero, as C's `roundf` in ggml
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
}

/// A ggml file being written: the header first, then any number of tensors.
pub struct GgmlWriter<W: Write> {
    out: W,
    tensors: usize,
    f16_buf: Vec<half::f16>,
}

fn i32_field(v: usize, what: &str) -> Result<[u8; 4], ConvertError> {
    i32::try_from(v)
        .map(i32::to_le_bytes)
        .map_err(|_| ConvertError::TooLarge(format!("{what} = {v}")))
}

impl<W: Write> GgmlWriter<W> {
    /// Writes the header: hyperparameters, mel filters (`n_mels` rows of
    /// `mel.len() / n_mels`), and the vocabulary.
    ///
    /// # Errors
    /// I/O ([`ConvertError::Write`]); a value too large for its field; a
    /// filterbank that is not `n_mels` whole rows.
    pub fn new(
        mut out: W,
        hp: &Hparams,
        mel: &[f32],
        vocab: &[Vec<u8>],
    ) -> Result<Self, ConvertError> {
        let mut head = Vec::with_capacity(64 + mel.len() * 4);
        head.extend_from_slice(&GGML_MAGIC.to_le_bytes());
        for (i, v) in hp.fields().into_iter().enumerate() {
            head.extend_from_slice(&i32_field(v, &format!("hyperparameter {i}"))?);
        }
        if hp.n_mels == 0 || !mel.len().is_multiple_of(hp.n_mels) {
            return Err(ConvertError::Format(format!(
                "{} mel weights do not make {} rows",
                mel.len(),
                hp.n_mels
            )));
        }
        head.extend_from_slice(&i32_field(hp.n_mels, "mel rows")?);
        head.extend_from_slice(&i32_field(mel.len() / hp.n_mels, "mel columns")?);
        for w in mel {
            head.extend_from_slice(&w.to_le_bytes());
        }
        head.extend_from_slice(&i32_field(vocab.len(), "vocabulary size")?);
        for token in vocab {
            head.extend_from_slice(&i32_field(token.len(), "token length")?);
            head.extend_from_slice(token);
        }
        out.write_all(&head).map_err(ConvertError::Write)?;
        Ok(Self {
            out,
            tensors: 0,
            f16_buf: Vec::new(),
        })
    }

    /// Appends one tensor. `shape` is row-major (outermost first), as in
    /// PyTorch; ggml's dimensions are written innermost first.
    ///
    /// # Errors
    /// I/O; `data` not matching `shape`; a dimension too large.
    pub fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        data: &[f32],
        storage: Storage,
    ) -> Result<(), ConvertError> {
        if shape.iter().product::<usize>() != data.len() {
            return Err(ConvertError::Shape {
                name: name.into(),
                shape: shape.to_vec(),
                expected: format!("{} elements", data.len()),
            });
        }
        let row = shape.last().copied().unwrap_or(0);
        if storage == Storage::Q8_0 && (row == 0 || !row.is_multiple_of(Q8_0_BLOCK)) {
            return Err(ConvertError::Shape {
                name: name.into(),
                shape: shape.to_vec(),
                expected: format!("rows of a multiple of {Q8_0_BLOCK} values for Q8_0"),
            });
        }
        let mut head = Vec::with_capacity(12 + 4 * shape.len() + name.len());
        head.extend_from_slice(&i32_field(shape.len(), name)?);
        head.extend_from_slice(&i32_field(name.len(), name)?);
        head.extend_from_slice(&i32_field(storage.ggml_type(), name)?);
        for &d in shape.iter().rev() {
            head.extend_from_slice(&i32_field(d, name)?);
        }
        head.extend_from_slice(name.as_bytes());
        self.out.write_all(&head).map_err(ConvertError::Write)?;
        match storage {
            Storage::F32 => {
                let bytes: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
                self.out.write_all(&bytes).map_err(ConvertError::Write)?;
            }
            Storage::F16 => {
                let mut bytes = Vec::with_capacity(2 * F16_BATCH);
                for chunk in data.chunks(F16_BATCH) {
                    self.f16_buf.resize(chunk.len(), half::f16::ZERO);
                    self.f16_buf.convert_from_f32_slice(chunk);
                    bytes.clear();
                    bytes.extend(self.f16_buf.iter().flat_map(|h| h.to_le_bytes()));
                    self.out.write_all(&bytes).map_err(ConvertError::Write)?;
                }
            }
            Storage::Bf16 => {
                let mut bytes = Vec::with_capacity(2 * F16_BATCH);
                for chunk in data.chunks(F16_BATCH) {
                    bytes.clear();
                    bytes.extend(chunk.iter().flat_map(|&v| bf16_bits(v).to_le_bytes()));
                    self.out.write_all(&bytes).map_err(ConvertError::Write)?;
                }
            }
            Storage::Q8_0 => {
                let mut bytes = Vec::new();
                for chunk in data.chunks(F16_BATCH) {
                    bytes.clear();
                    quantize_q8_0(chunk, &mut bytes);
                    self.out.write_all(&bytes).map_err(ConvertError::Write)?;
                }
            }
        }
        self.tensors += 1;
        Ok(())
    }

    /// Flushes and returns the sink and the number of tensors written.
    ///
    /// # Errors
    /// I/O.
    pub fn finish(mut self) -> Result<(W, usize), ConvertError> {
        self.out.flush().map_err(ConvertError::Write)?;
        Ok((self.out, self.tensors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size 1 except `n_mels`.
    fn hparams(n_mels: usize) -> Hparams {
        Hparams {
            n_vocab: 1,
            n_audio_ctx: 1,
            n_audio_state: 1,
            n_audio_head: 1,
            n_audio_layer: 1,
            n_text_ctx: 1,
            n_text_state: 1,
            n_text_head: 1,
            n_text_layer: 1,
            n_mels,
            ftype: 1,
        }
    }

    #[test]
    fn float16_rounds_to_nearest_even() {
        // 1 + 2^-11 is halfway between 1 and the next f16 (1 + 2^-10): ties go
        // to the even one, 1.0; 1 + 3·2^-11 goes up to 1 + 2^-9.
        let hp = hparams(1);
        let mut w = GgmlWriter::new(Vec::new(), &hp, &[0.5], &[b"a".to_vec()]).unwrap();
        let tie = 1.0 + 2f32.powi(-11);
        let up = 1.0 + 3.0 * 2f32.powi(-11);
        w.tensor("t", &[1, 3], &[tie, up, 65520.0], Storage::F16)
            .unwrap();
        let (bytes, n) = w.finish().unwrap();
        assert_eq!(n, 1);
        // magic, 11 hparams, mel dims + 1 weight, vocab count + 1 token of 1 byte
        let header = 4 + 44 + 8 + 4 + 4 + 4 + 1;
        let t = &bytes[header..];
        let ints: Vec<i32> = t[..20]
            .chunks(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(
            ints,
            vec![2, 1, 1, 3, 1],
            "n_dims, name_len, ftype, ne0, ne1"
        );
        assert_eq!(&t[20..21], b"t");
        let halves: Vec<u16> = t[21..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        // 65520 is past f16's largest finite value by half a step: infinity.
        assert_eq!(halves, vec![0x3c00, 0x3c02, 0x7c00]);
    }

    #[test]
    fn bfloat16_rounds_to_nearest_even() {
        // 1 + 2^-8 is halfway between 1 and the next bfloat16 (1 + 2^-7):
        // ties go to the even one; 1 + 3·2^-8 goes up to 1 + 2^-6; a value
        // past the largest bfloat16 by more than half a step is infinity.
        assert_eq!(bf16_bits(1.0 + 2f32.powi(-8)), 0x3f80);
        assert_eq!(bf16_bits(1.0 + 3.0 * 2f32.powi(-8)), 0x3f82);
        assert_eq!(bf16_bits(-2.0), 0xc000);
        assert_eq!(bf16_bits(f32::MAX), 0x7f80);
        assert!(f32::from_bits(u32::from(bf16_bits(f32::NAN)) << 16).is_nan());
        let hp = hparams(1);
        let mut w = GgmlWriter::new(Vec::new(), &hp, &[0.5], &[b"a".to_vec()]).unwrap();
        w.tensor("t", &[1, 2], &[1.0, -2.0], Storage::Bf16).unwrap();
        let (bytes, _) = w.finish().unwrap();
        let header = 4 + 44 + 8 + 4 + 4 + 4 + 1;
        let t = &bytes[header..];
        assert_eq!(&t[8..12], &30i32.to_le_bytes(), "GGML_TYPE_BF16");
        assert_eq!(&t[21..], &[0x80, 0x3f, 0x00, 0xc0]);
    }

    #[test]
    fn mel_rows_and_data_must_match_their_shapes() {
        let e = GgmlWriter::new(Vec::new(), &hparams(2), &[0.0; 3], &[]).err();
        assert!(e.is_some_and(|e| e.to_string().contains("3 mel weights")));
        let hp = hparams(1);
        let mut w = GgmlWriter::new(Vec::new(), &hp, &[0.0], &[]).unwrap();
        let e = w.tensor("x", &[2, 2], &[1.0], Storage::F32).unwrap_err();
        assert!(e.to_string().contains("`x`"), "{e}");
    }

    #[test]
    fn q8_0_blocks_hold_a_scale_and_rounded_bytes() {
        let hp = hparams(1);
        let mut w = GgmlWriter::new(Vec::new(), &hp, &[0.5], &[b"a".to_vec()]).unwrap();
        // one row of two blocks: a ramp up to 2.54 (scale 0.02) and zeros
        let mut row: Vec<f32> = (0..32).map(|i| i as f32 * 0.0819).collect();
        row[31] = -2.54;
        row.extend([0.0; 32]);
        w.tensor("q", &[1, 64], &row, Storage::Q8_0).unwrap();
        let e = w
            .tensor("bad", &[2, 16], &[0.0; 32], Storage::Q8_0)
            .unwrap_err();
        assert!(e.to_string().contains("multiple of 32"), "{e}");
        let (bytes, _) = w.finish().unwrap();
        let t = &bytes[4 + 44 + 8 + 4 + 4 + 4 + 1..];
        assert_eq!(
            i32::from_le_bytes([t[8], t[9], t[10], t[11]]),
            8,
            "GGML_TYPE_Q8_0"
        );
        let data = &t[21..];
        assert_eq!(data.len(), 2 * 34);
        let d = half::f16::from_le_bytes([data[0], data[1]]).to_f32();
        assert!((d - 0.02).abs() < 1e-5, "{d}");
        let q: Vec<i8> = data[2..34].iter().map(|&b| b as i8).collect();
        assert_eq!(q[31], -127);
        for (i, &v) in q.iter().enumerate().take(31) {
            assert!(
                (f32::from(v) * d - row[i]).abs() <= d / 2.0 + 1e-4,
                "{i}: {v}"
            );
        }
        // an all-zero block: scale 0, bytes 0
        assert!(data[34..].iter().all(|&b| b == 0));
    }
}
