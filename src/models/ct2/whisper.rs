//! Mapping a CTranslate2 `WhisperSpec` onto whisper.cpp's tensors.
//!
//! Owns: deriving the hyperparameters from the tensors' shapes, the name
//! mapping (CTranslate2 `encoder/layer_0/self_attention/linear_0` → OpenAI
//! `encoder.blocks.0.attn.{query,key,value}`, …), splitting CTranslate2's
//! fused projections back apart, and each tensor's storage type and order —
//! the same order and types as whisper.cpp's own `convert-pt-to-ggml.py`
//! gives them, so the output is what whisper.cpp expects.
//!
//! Must not: parse bytes (that is [`super::reader`] and [`super::ggml`]).
//!
//! CTranslate2 fuses query, key and value of self-attention into one
//! `linear_0` (and key, value of cross-attention into `linear_1`). OpenAI's
//! key projection has no bias: the fused key bias must be zero and is dropped.

use std::io::{Read, Seek, Write};

use super::ggml::{GgmlWriter, Hparams, Storage, FTYPE_BF16, FTYPE_F16, FTYPE_Q8_0};
use super::reader::{Ct2File, Tensor};
use super::{mel, vocab, ConvertError, Summary};

/// The spec this mapping understands.
pub const SPEC: &str = "WhisperSpec";
/// FFT size and sample rate of Whisper's front end.
const N_FFT: usize = 400;
const SAMPLE_RATE: u32 = 16_000;
/// Most encoder or decoder layers accepted.
const MAX_LAYERS: usize = 256;

/// How the weight matrices (projections, MLPs, the token embedding) are
/// stored; the convolutions stay float16 and the rest float32 either way,
/// as whisper.cpp's loader expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    F16,
    /// ggml `Q8_0`: about half the size, and whisper.cpp's CPU matrix
    /// products on it are faster (README, "Quantized weights").
    Q8_0,
    /// bfloat16: the float16 weights with 3 bits less mantissa; on CPUs
    /// with AVX512-BF16 whisper.cpp's matrix products run on them
    /// natively, faster than on float16 (README, "bfloat16 weights").
    Bf16,
}

impl Weights {
    fn storage(self) -> Storage {
        match self {
            Weights::F16 => Storage::F16,
            Weights::Q8_0 => Storage::Q8_0,
            Weights::Bf16 => Storage::Bf16,
        }
    }

    fn ftype(self) -> usize {
        match self {
            Weights::F16 => FTYPE_F16,
            Weights::Q8_0 => FTYPE_Q8_0,
            Weights::Bf16 => FTYPE_BF16,
        }
    }
}

/// Converts an opened model and its `tokenizer.json` text into a ggml file.
///
/// # Errors
/// Wrong spec, quantized or unsupported data types, missing or misshapen
/// tensors, a bad tokenizer, I/O.
pub fn convert<R: Read + Seek, W: Write>(
    model: &mut Ct2File<R>,
    tokenizer_json: &str,
    out: W,
    weights: Weights,
) -> Result<(W, Summary), ConvertError> {
    if model.spec != SPEC {
        return Err(ConvertError::Spec(model.spec.clone()));
    }
    if let Some(scale) = model.names().find(|n| n.ends_with("weight_scale")) {
        return Err(ConvertError::Quantized {
            name: scale.to_owned(),
            dtype: model.var(scale)?.dtype,
        });
    }
    let hp = Hparams {
        ftype: weights.ftype(),
        ..hparams(model)?
    };
    let tokens = vocab::ordinary_tokens(tokenizer_json)?;
    if tokens.len() > hp.n_vocab {
        return Err(ConvertError::Tokenizer(format!(
            "{} ordinary tokens but the embedding has {} rows",
            tokens.len(),
            hp.n_vocab
        )));
    }
    let filters = mel::slaney_filterbank(hp.n_mels, N_FFT, SAMPLE_RATE);
    let writer = GgmlWriter::new(out, &hp, &filters, &tokens)?;
    let mut m = Mapper {
        model,
        writer,
        matrix: weights.storage(),
    };
    m.encoder(hp.n_audio_layer)?;
    m.decoder(hp.n_text_layer)?;
    let (out, tensors) = m.writer.finish()?;
    Ok((
        out,
        Summary {
            hparams: hp,
            tensors,
            tokens: tokens.len(),
        },
    ))
}

/// Hyperparameters from the shapes (and the two head-count scalars).
fn hparams<R: Read + Seek>(model: &mut Ct2File<R>) -> Result<Hparams, ConvertError> {
    let conv1 = dims(model, "encoder/conv1/weight", 3)?;
    let audio_pos = dims(model, "encoder/position_encodings/encodings", 2)?;
    let text_pos = dims(model, "decoder/position_encodings/encodings", 2)?;
    let embed = dims(model, "decoder/embeddings/weight", 2)?;
    let heads = |model: &mut Ct2File<R>, name: &str| -> Result<usize, ConvertError> {
        let n = model.read_int(name)?;
        usize::try_from(n)
            .ok()
            .filter(|&h| h > 0)
            .ok_or_else(|| ConvertError::Format(format!("`{name}` is {n}")))
    };
    Ok(Hparams {
        n_vocab: embed[0],
        n_audio_ctx: audio_pos[0],
        n_audio_state: conv1[0],
        n_audio_head: heads(model, "encoder/num_heads")?,
        n_audio_layer: count_layers(model, "encoder")?,
        n_text_ctx: text_pos[0],
        n_text_state: embed[1],
        n_text_head: heads(model, "decoder/num_heads")?,
        n_text_layer: count_layers(model, "decoder")?,
        n_mels: conv1[1],
        ftype: FTYPE_F16,
    })
}

fn dims<R: Read + Seek>(
    model: &Ct2File<R>,
    name: &str,
    rank: usize,
) -> Result<Vec<usize>, ConvertError> {
    let shape = &model.var(name)?.shape;
    if shape.len() != rank || shape.contains(&0) {
        return Err(ConvertError::Shape {
            name: name.into(),
            shape: shape.clone(),
            expected: format!("{rank} non-zero dimensions"),
        });
    }
    Ok(shape.clone())
}

/// One more than the highest `<stack>/layer_N/` index.
fn count_layers<R: Read + Seek>(model: &Ct2File<R>, stack: &str) -> Result<usize, ConvertError> {
    let prefix = format!("{stack}/layer_");
    let n = model
        .names()
        .filter_map(|n| {
            n.strip_prefix(&prefix)?
                .split('/')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .max()
        .map_or(0, |i| i + 1);
    if n == 0 || n > MAX_LAYERS {
        return Err(ConvertError::Format(format!(
            "{n} {stack} layers (expected 1 to {MAX_LAYERS})"
        )));
    }
    Ok(n)
}

/// Reads CTranslate2 variables and writes them under whisper.cpp's names.
struct Mapper<'a, R, W: Write> {
    model: &'a mut Ct2File<R>,
    writer: GgmlWriter<W>,
    /// Storage of the weight matrices.
    matrix: Storage,
}

impl<R: Read + Seek, W: Write> Mapper<'_, R, W> {
    fn encoder(&mut self, layers: usize) -> Result<(), ConvertError> {
        for conv in ["conv1", "conv2"] {
            let w = self.model.read_f32(&format!("encoder/{conv}/weight"))?;
            self.put(&format!("encoder.{conv}.weight"), &w, Storage::F16)?;
            // whisper.cpp wants the conv bias as a [n, 1] column
            let mut b = self.model.read_f32(&format!("encoder/{conv}/bias"))?;
            b.shape.push(1);
            self.put(&format!("encoder.{conv}.bias"), &b, Storage::F32)?;
        }
        self.copy(
            "encoder/position_encodings/encodings",
            "encoder.positional_embedding",
            Storage::F32,
        )?;
        for i in 0..layers {
            let (src, dst) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
            self.self_attention(&src, &dst)?;
            self.ffn(&src, &dst)?;
        }
        self.norm("encoder/layer_norm", "encoder.ln_post")
    }

    fn decoder(&mut self, layers: usize) -> Result<(), ConvertError> {
        self.copy(
            "decoder/position_encodings/encodings",
            "decoder.positional_embedding",
            Storage::F32,
        )?;
        self.copy(
            "decoder/embeddings/weight",
            "decoder.token_embedding.weight",
            self.matrix,
        )?;
        for i in 0..layers {
            let (src, dst) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
            self.self_attention(&src, &dst)?;
            let (a, x) = (format!("{src}/attention"), format!("{dst}.cross_attn"));
            self.linear(&format!("{a}/linear_0"), &format!("{x}.query"))?;
            self.fused(
                &format!("{a}/linear_1"),
                &[&format!("{x}.key"), &format!("{x}.value")],
            )?;
            self.linear(&format!("{a}/linear_2"), &format!("{x}.out"))?;
            self.norm(&format!("{a}/layer_norm"), &format!("{x}_ln"))?;
            self.ffn(&src, &dst)?;
        }
        self.norm("decoder/layer_norm", "decoder.ln")
    }

    fn self_attention(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        let (a, x) = (format!("{src}/self_attention"), format!("{dst}.attn"));
        let qkv = [
            format!("{x}.query"),
            format!("{x}.key"),
            format!("{x}.value"),
        ];
        self.fused(&format!("{a}/linear_0"), &[&qkv[0], &qkv[1], &qkv[2]])?;
        self.linear(&format!("{a}/linear_1"), &format!("{x}.out"))?;
        self.norm(&format!("{a}/layer_norm"), &format!("{x}_ln"))
    }

    fn ffn(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        self.linear(&format!("{src}/ffn/linear_0"), &format!("{dst}.mlp.0"))?;
        self.linear(&format!("{src}/ffn/linear_1"), &format!("{dst}.mlp.2"))?;
        self.norm(&format!("{src}/ffn/layer_norm"), &format!("{dst}.mlp_ln"))
    }

    /// A fused projection split into equal row blocks, one per output
    /// (weight, then bias, per block). A block named `*.key` keeps no bias;
    /// its bias must be zero.
    fn fused(&mut self, src: &str, dsts: &[&str]) -> Result<(), ConvertError> {
        let weights = split_rows(
            self.model.read_f32(&format!("{src}/weight"))?,
            dsts.len(),
            src,
        )?;
        let biases = split_rows(
            self.model.read_f32(&format!("{src}/bias"))?,
            dsts.len(),
            src,
        )?;
        for ((dst, w), b) in dsts.iter().zip(weights).zip(biases) {
            self.put(&format!("{dst}.weight"), &w, self.matrix)?;
            if dst.ends_with(".key") {
                if b.data.iter().any(|&v| v != 0.0) {
                    return Err(ConvertError::KeyBias(format!("{src}/bias")));
                }
            } else {
                self.put(&format!("{dst}.bias"), &b, Storage::F32)?;
            }
        }
        Ok(())
    }

    fn linear(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        self.copy(
            &format!("{src}/weight"),
            &format!("{dst}.weight"),
            self.matrix,
        )?;
        self.copy(&format!("{src}/bias"), &format!("{dst}.bias"), Storage::F32)
    }

    fn norm(&mut self, src: &str, dst: &str) -> Result<(), ConvertError> {
        self.copy(
            &format!("{src}/gamma"),
            &format!("{dst}.weight"),
            Storage::F32,
        )?;
        self.copy(&format!("{src}/beta"), &format!("{dst}.bias"), Storage::F32)
    }

    fn copy(&mut self, src: &str, dst: &str, storage: Storage) -> Result<(), ConvertError> {
        let t = self.model.read_f32(src)?;
        self.put(dst, &t, storage)
    }

    fn put(&mut self, name: &str, t: &Tensor, storage: Storage) -> Result<(), ConvertError> {
        self.writer.tensor(name, &t.shape, &t.data, storage)
    }
}

/// Splits a tensor into `n` equal blocks of rows (its first dimension).
fn split_rows(t: Tensor, n: usize, name: &str) -> Result<Vec<Tensor>, ConvertError> {
    let rows = t.shape.first().copied().unwrap_or(0);
    if n == 0 || t.data.is_empty() || rows % n != 0 {
        return Err(ConvertError::Shape {
            name: name.into(),
            shape: t.shape,
            expected: format!("rows divisible into {n} blocks"),
        });
    }
    let mut shape = t.shape.clone();
    shape[0] = rows / n;
    let block = t.data.len() / n;
    Ok(t.data
        .chunks(block)
        .map(|c| Tensor {
            shape: shape.clone(),
            data: c.to_vec(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::models::ct2::testmodel::{
        as_is, parse_ggml, tiny_whisper, Ct2Builder, TinySpec, TINY,
    };

    fn convert_bytes(model: Vec<u8>, tokenizer: &str) -> Result<Vec<u8>, ConvertError> {
        let mut f = Ct2File::parse(Cursor::new(model))?;
        convert(&mut f, tokenizer, Vec::new(), Weights::F16).map(|(out, _)| out)
    }

    fn tiny(edit: &dyn Fn(&str, &mut Vec<f32>) -> bool) -> (Vec<u8>, String) {
        let (b, tok) = tiny_whisper(TINY, edit);
        (b.finish(), tok)
    }

    #[test]
    fn tiny_model_round_trips_with_hparams_names_shapes_and_types() {
        let (model, tok) = tiny(&as_is);
        let mut f = Ct2File::parse(Cursor::new(model)).unwrap();
        let (out, summary) = convert(&mut f, &tok, Vec::new(), Weights::F16).unwrap();
        let g = parse_ggml(&out);
        // n_vocab, audio ctx/state/head/layer, text ctx/state/head/layer, mels, ftype
        assert_eq!(g.hparams, [6, 6, 4, 2, 2, 5, 4, 2, 1, 3, 1]);
        assert_eq!(g.mel_dims, (3, 201));
        assert_eq!(g.mel, mel::slaney_filterbank(3, 400, 16_000));
        assert_eq!(
            g.vocab,
            vec![b"!".to_vec(), b"\"".to_vec(), b"#".to_vec(), b"$".to_vec()]
        );
        // 11 top-level, 15 per encoder block, 24 per decoder block
        assert_eq!(g.tensors.len(), 11 + 2 * 15 + 24);
        assert_eq!(summary.tensors, g.tensors.len());
        let names: Vec<&str> = g.tensors.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names[..12],
            [
                "encoder.conv1.weight",
                "encoder.conv1.bias",
                "encoder.conv2.weight",
                "encoder.conv2.bias",
                "encoder.positional_embedding",
                "encoder.blocks.0.attn.query.weight",
                "encoder.blocks.0.attn.query.bias",
                "encoder.blocks.0.attn.key.weight",
                "encoder.blocks.0.attn.value.weight",
                "encoder.blocks.0.attn.value.bias",
                "encoder.blocks.0.attn.out.weight",
                "encoder.blocks.0.attn.out.bias",
            ]
        );
        assert_eq!(names.last(), Some(&"decoder.ln.bias"));
        assert!(!names.iter().any(|n| n.ends_with("key.bias")));
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a name written twice");

        let t = |name: &str| &g.tensors.iter().find(|(n, _)| n == name).unwrap().1;
        let conv1 = t("encoder.conv1.weight");
        assert_eq!((conv1.shape.as_slice(), conv1.f16), (&[4, 3, 3][..], true));
        let conv_bias = t("encoder.conv1.bias");
        assert_eq!(
            (conv_bias.shape.as_slice(), conv_bias.f16),
            (&[4, 1][..], false)
        );
        assert_eq!(t("encoder.positional_embedding").shape, vec![6, 4]);
        assert!(!t("decoder.positional_embedding").f16);
        let embed = t("decoder.token_embedding.weight");
        assert_eq!((embed.shape.as_slice(), embed.f16), (&[6, 4][..], true));
        assert!(!t("decoder.blocks.0.cross_attn_ln.weight").f16);
        let mlp = t("decoder.blocks.0.mlp.2.weight");
        assert_eq!((mlp.shape.as_slice(), mlp.f16), (&[4, 8][..], true));

        // Split blocks carry the right rows: value = the last third of the
        // fused weight (float16 in, float16 out: exact) and of the float32
        // bias (kept as float32).
        let fused = f
            .read_f32("encoder/layer_1/self_attention/linear_0/weight")
            .unwrap();
        assert_eq!(
            t("encoder.blocks.1.attn.value.weight").data,
            fused.data[32..]
        );
        assert_eq!(
            t("encoder.blocks.1.attn.query.weight").data,
            fused.data[..16]
        );
        let kv_bias = f
            .read_f32("decoder/layer_0/attention/linear_1/bias")
            .unwrap();
        let value_bias = t("decoder.blocks.0.cross_attn.value.bias");
        assert_eq!(
            (value_bias.data.as_slice(), value_bias.f16),
            (&kv_bias.data[4..], false)
        );
        assert_eq!(
            t("decoder.blocks.0.cross_attn.key.weight").shape,
            vec![4, 4]
        );
    }

    #[test]
    fn float32_weights_are_rounded_to_float16() {
        let v = 1.0 + 2f32.powi(-12); // not a float16: rounds to 1.0
        let (mut b, tok) = tiny_whisper(TINY, &|n, _| n != "decoder/layer_0/ffn/linear_0/weight");
        b.f32("decoder/layer_0/ffn/linear_0/weight", &[8, 4], &[v; 32]);
        let g = parse_ggml(&convert_bytes(b.finish(), &tok).unwrap());
        let w = &g
            .tensors
            .iter()
            .find(|(n, _)| n == "decoder.blocks.0.mlp.0.weight")
            .unwrap()
            .1;
        assert!(w.f16);
        assert_eq!(w.data, vec![1.0; 32]);
    }

    #[test]
    fn a_missing_tensor_is_named() {
        let gone = "decoder/layer_0/attention/linear_2/weight";
        let (model, tok) = tiny(&|n, _| n != gone);
        let e = convert_bytes(model, &tok).unwrap_err();
        assert!(matches!(&e, ConvertError::Missing(n) if n == gone), "{e}");
        assert!(e.to_string().contains(gone));
    }

    #[test]
    fn wrong_spec_nonzero_key_bias_and_quantized_models_are_refused() {
        let (model, tok) = tiny(&as_is);
        let mut other = Ct2Builder::new("TransformerSpec");
        other.f32("x", &[1], &[0.0]);
        let e = convert_bytes(other.finish(), &tok).unwrap_err().to_string();
        assert!(e.contains("TransformerSpec"), "{e}");

        let key = "encoder/layer_0/self_attention/linear_0/bias";
        let (bad_key, _) = tiny(&|n, d| {
            if n == key {
                d.fill(0.25);
            }
            true
        });
        let e = convert_bytes(bad_key, &tok).unwrap_err();
        assert!(matches!(&e, ConvertError::KeyBias(n) if n == key), "{e}");

        let (mut q, _) = tiny_whisper(TINY, &as_is);
        q.f32("encoder/layer_0/ffn/linear_0/weight_scale", &[8], &[1.0; 8]);
        let e = convert_bytes(q.finish(), &tok).unwrap_err().to_string();
        assert!(
            e.contains("quantized CTranslate2 models are not supported"),
            "{e}"
        );

        assert!(convert_bytes(model, &tok).is_ok());
    }

    #[test]
    fn a_truncated_model_is_reported() {
        let (model, tok) = tiny(&as_is);
        for keep in [model.len() - 1, model.len() / 2, 40] {
            let e = convert_bytes(model[..keep].to_vec(), &tok).unwrap_err();
            assert!(matches!(e, ConvertError::Truncated { .. }), "{keep}: {e}");
        }
    }

    #[test]
    fn q8_0_weights_quantize_the_matrices_only() {
        // rows of 32 values: the smallest width Q8_0 takes
        let spec = TinySpec { d: 32, ..TINY };
        let (b, tok) = tiny_whisper(spec, &as_is);
        let mut f = Ct2File::parse(Cursor::new(b.finish())).unwrap();
        let (out, _) = convert(&mut f, &tok, Vec::new(), Weights::Q8_0).unwrap();
        let mut f = Ct2File::parse(Cursor::new(tiny_whisper(spec, &as_is).0.finish())).unwrap();
        let (plain, _) = convert(&mut f, &tok, Vec::new(), Weights::F16).unwrap();
        let (g, p) = (parse_ggml(&out), parse_ggml(&plain));
        assert_eq!(g.hparams[10], 2007, "GGML_FTYPE_MOSTLY_Q8_0 + version 2");
        assert_eq!(g.tensors.len(), p.tensors.len());
        let t = |g: &'_ super::super::testmodel::Ggml, n: &str| {
            g.tensors
                .iter()
                .find(|(name, _)| name == n)
                .unwrap()
                .1
                .clone()
        };
        for name in [
            "decoder.token_embedding.weight",
            "encoder.blocks.0.attn.query.weight",
            "decoder.blocks.0.cross_attn.value.weight",
            "decoder.blocks.0.mlp.2.weight",
        ] {
            let (q, f) = (t(&g, name), t(&p, name));
            assert!(q.q8_0 && !q.f16, "{name}");
            assert_eq!(q.shape, f.shape, "{name}");
            let amax = f.data.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (a, b) in q.data.iter().zip(&f.data) {
                assert!((a - b).abs() <= amax / 127.0, "{name}: {a} vs {b}");
            }
        }
        for name in ["encoder.conv1.weight", "encoder.conv2.weight"] {
            assert!(t(&g, name).f16, "{name} stays float16");
        }
        for name in [
            "encoder.positional_embedding",
            "decoder.blocks.0.mlp.2.bias",
        ] {
            let x = t(&g, name);
            assert!(!x.f16 && !x.q8_0, "{name} stays float32");
        }
    }

    #[test]
    fn bf16_weights_store_the_matrices_only_within_bfloat16_rounding() {
        let convert_as = |w| {
            let (b, tok) = tiny_whisper(TINY, &as_is);
            let mut f = Ct2File::parse(Cursor::new(b.finish())).unwrap();
            parse_ggml(&convert(&mut f, &tok, Vec::new(), w).unwrap().0)
        };
        let (g, p) = (convert_as(Weights::Bf16), convert_as(Weights::F16));
        assert_eq!(g.hparams[10], 24, "GGML_FTYPE_MOSTLY_BF16");
        assert_eq!(g.tensors.len(), p.tensors.len());
        for ((name, b), (_, f)) in g.tensors.iter().zip(&p.tensors) {
            assert_eq!(b.shape, f.shape, "{name}");
            if name.contains("conv") {
                assert!(!b.bf16 && b.f16 == f.f16, "{name} stays as it was");
                assert_eq!(b.data, f.data, "{name}");
            } else if f.f16 {
                assert!(b.bf16, "{name} is a matrix: bfloat16");
                for (x, y) in b.data.iter().zip(&f.data) {
                    // 8 bits of mantissa: within half a step, 2^-8 relative
                    assert!(
                        (x - y).abs() <= y.abs() / 256.0 + 1e-30,
                        "{name}: {x} vs {y}"
                    );
                }
            } else {
                assert!(!b.bf16 && !b.f16, "{name} stays float32");
                assert_eq!(b.data, f.data, "{name}");
            }
        }
    }
}
