//! Test support: writing small CTranslate2 files and reading ggml files back.
//!
//! Owns: [`Ct2Builder`] (any variables, any bytes — including broken ones),
//! [`tiny_whisper`] (a complete, tiny `WhisperSpec` with a matching
//! `tokenizer.json`), and [`parse_ggml`], an independent reader of the
//! converter's output. Compiled for tests only.

use std::collections::BTreeMap;

/// Writes a CTranslate2 binary-version-6 file, variable by variable.
pub struct Ct2Builder {
    vars: Vec<u8>,
    count: u32,
    aliases: Vec<(String, String)>,
    spec: String,
}

fn string(out: &mut Vec<u8>, s: &str) {
    let n = u16::try_from(s.len() + 1).expect("short test name");
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

impl Ct2Builder {
    pub fn new(spec: &str) -> Self {
        Self {
            vars: Vec::new(),
            count: 0,
            aliases: Vec::new(),
            spec: spec.into(),
        }
    }

    /// A variable with the given dtype id and raw bytes (unchecked).
    pub fn raw(&mut self, name: &str, shape: &[u32], dtype: u8, bytes: &[u8]) {
        string(&mut self.vars, name);
        self.vars
            .push(u8::try_from(shape.len()).expect("small rank"));
        for d in shape {
            self.vars.extend_from_slice(&d.to_le_bytes());
        }
        self.vars.push(dtype);
        let n = u32::try_from(bytes.len()).expect("small tensor");
        self.vars.extend_from_slice(&n.to_le_bytes());
        self.vars.extend_from_slice(bytes);
        self.count += 1;
    }

    pub fn f32(&mut self, name: &str, shape: &[u32], data: &[f32]) {
        let b: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.raw(name, shape, 0, &b);
    }

    pub fn f16(&mut self, name: &str, shape: &[u32], data: &[f32]) {
        let b: Vec<u8> = data
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        self.raw(name, shape, 4, &b);
    }

    pub fn alias(&mut self, alias: &str, target: &str) {
        self.aliases.push((alias.into(), target.into()));
    }

    pub fn finish(self) -> Vec<u8> {
        let mut out = 6u32.to_le_bytes().to_vec();
        string(&mut out, &self.spec);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.vars);
        let n = u32::try_from(self.aliases.len()).expect("few aliases");
        out.extend_from_slice(&n.to_le_bytes());
        for (a, t) in &self.aliases {
            string(&mut out, a);
            string(&mut out, t);
        }
        out
    }
}

/// Sizes of a synthesized model.
#[derive(Debug, Clone, Copy)]
pub struct TinySpec {
    pub d: u32,
    pub heads: i16,
    pub n_mels: u32,
    pub enc_layers: u32,
    pub dec_layers: u32,
    pub audio_ctx: u32,
    pub text_ctx: u32,
    /// Embedding rows; the tokenizer has `n_vocab - 2` ordinary tokens.
    pub n_vocab: u32,
}

pub const TINY: TinySpec = TinySpec {
    d: 4,
    heads: 2,
    n_mels: 3,
    enc_layers: 2,
    dec_layers: 1,
    audio_ctx: 6,
    text_ctx: 5,
    n_vocab: 6,
};

/// An `edit` for [`tiny_whisper`] that changes nothing.
pub fn as_is(_: &str, _: &mut Vec<f32>) -> bool {
    true
}

/// Deterministic, distinct values: `seed + i/64`.
fn ramp(seed: f32, n: usize) -> Vec<f32> {
    (0..n).map(|i| seed + i as f32 / 64.0).collect()
}

/// Fills a [`Ct2Builder`] with distinct float tensors.
struct Synth<'a> {
    b: Ct2Builder,
    seed: f32,
    edit: &'a dyn Fn(&str, &mut Vec<f32>) -> bool,
}

impl Synth<'_> {
    /// Float16, except every `linear_1/bias` which is float32 (so both reader
    /// paths run). Fused key biases are zero, as in real models.
    fn put(&mut self, name: &str, shape: &[u32]) {
        let n = shape.iter().product::<u32>() as usize;
        self.seed += 0.5;
        let mut data = ramp(self.seed, n);
        if name.ends_with("self_attention/linear_0/bias") {
            data[n / 3..2 * n / 3].fill(0.0);
        } else if name.ends_with("/attention/linear_1/bias") {
            data[..n / 2].fill(0.0);
        }
        if !(self.edit)(name, &mut data) {
            return;
        }
        if name.ends_with("linear_1/bias") {
            self.b.f32(name, shape, &data);
        } else {
            self.b.f16(name, shape, &data);
        }
    }

    fn linear(&mut self, p: &str, out: u32, inp: u32) {
        self.put(&format!("{p}/weight"), &[out, inp]);
        self.put(&format!("{p}/bias"), &[out]);
    }

    fn norm(&mut self, p: &str, d: u32) {
        self.put(&format!("{p}/gamma"), &[d]);
        self.put(&format!("{p}/beta"), &[d]);
    }
}

/// A complete tiny `WhisperSpec`, not yet finished (a test may add
/// variables), and its `tokenizer.json`. `edit` sees each float tensor's
/// name and data before it is added, may change the data, and returns
/// `false` to leave the tensor out.
pub fn tiny_whisper(
    s: TinySpec,
    edit: &dyn Fn(&str, &mut Vec<f32>) -> bool,
) -> (Ct2Builder, String) {
    let d = s.d;
    let mut m = Synth {
        b: Ct2Builder::new("WhisperSpec"),
        seed: 0.0,
        edit,
    };
    m.put("encoder/conv1/weight", &[d, s.n_mels, 3]);
    m.put("encoder/conv1/bias", &[d]);
    m.put("encoder/conv2/weight", &[d, d, 3]);
    m.put("encoder/conv2/bias", &[d]);
    m.put("encoder/position_encodings/encodings", &[s.audio_ctx, d]);
    for (stack, layers) in [("encoder", s.enc_layers), ("decoder", s.dec_layers)] {
        for i in 0..layers {
            let p = format!("{stack}/layer_{i}");
            m.linear(&format!("{p}/self_attention/linear_0"), 3 * d, d);
            m.linear(&format!("{p}/self_attention/linear_1"), d, d);
            m.norm(&format!("{p}/self_attention/layer_norm"), d);
            if stack == "decoder" {
                m.linear(&format!("{p}/attention/linear_0"), d, d);
                m.linear(&format!("{p}/attention/linear_1"), 2 * d, d);
                m.linear(&format!("{p}/attention/linear_2"), d, d);
                m.norm(&format!("{p}/attention/layer_norm"), d);
            }
            m.linear(&format!("{p}/ffn/linear_0"), 2 * d, d);
            m.linear(&format!("{p}/ffn/linear_1"), d, 2 * d);
            m.norm(&format!("{p}/ffn/layer_norm"), d);
        }
        m.norm(&format!("{stack}/layer_norm"), d);
        m.b.raw(
            &format!("{stack}/num_heads"),
            &[],
            2,
            &s.heads.to_le_bytes(),
        );
    }
    m.put("decoder/position_encodings/encodings", &[s.text_ctx, d]);
    m.put("decoder/embeddings/weight", &[s.n_vocab, d]);
    m.b.raw("decoder/activation", &[], 1, &[3]);
    m.b.alias("decoder/projection/weight", "decoder/embeddings/weight");
    // ordinary tokens "!", "\"", "#", ...; then two special tokens
    let ordinary = s.n_vocab - 2;
    let mut vocab: BTreeMap<String, u32> = (0..ordinary)
        .map(|i| (char::from(b'!' + i as u8).to_string(), i))
        .collect();
    vocab.insert("Ġa".into(), ordinary + 5); // above <|endoftext|>: not written
    let tokenizer = serde_json::json!({
        "model": { "type": "BPE", "vocab": vocab },
        "added_tokens": [
            { "id": ordinary, "content": "<|endoftext|>", "special": true },
            { "id": ordinary + 1, "content": "<|startoftranscript|>", "special": true },
        ],
    });
    (m.b, tokenizer.to_string())
}

/// One tensor record of a ggml file.
#[derive(Debug, Clone, PartialEq)]
pub struct GgmlTensor {
    /// Row-major (outermost first), as the converter was given it.
    pub shape: Vec<usize>,
    pub f16: bool,
    /// Stored as ggml `Q8_0` blocks (`data` dequantized).
    pub q8_0: bool,
    /// Stored as bfloat16.
    pub bf16: bool,
    pub data: Vec<f32>,
}

/// A ggml file read back.
#[derive(Debug)]
pub struct Ggml {
    pub hparams: [usize; 11],
    pub mel_dims: (usize, usize),
    pub mel: Vec<f32>,
    pub vocab: Vec<Vec<u8>>,
    /// In file order.
    pub tensors: Vec<(String, GgmlTensor)>,
}

/// Sequential little-endian reads over a byte slice.
struct Bytes<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let b = self.b;
        let s = &b[self.at..self.at + n];
        self.at += n;
        s
    }

    fn int(&mut self) -> usize {
        let s = self.take(4);
        usize::try_from(i32::from_le_bytes([s[0], s[1], s[2], s[3]])).expect("non-negative")
    }

    fn f32s(&mut self, n: usize) -> Vec<f32> {
        self.take(4 * n)
            .chunks(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

/// Reads a ggml file; panics on anything malformed (tests only).
pub fn parse_ggml(b: &[u8]) -> Ggml {
    let mut r = Bytes { b, at: 0 };
    assert_eq!(r.take(4), super::ggml::GGML_MAGIC.to_le_bytes());
    let mut hparams = [0usize; 11];
    for h in &mut hparams {
        *h = r.int();
    }
    let (rows, cols) = (r.int(), r.int());
    let mel = r.f32s(rows * cols);
    let n_vocab = r.int();
    let vocab = (0..n_vocab)
        .map(|_| {
            let n = r.int();
            r.take(n).to_vec()
        })
        .collect();
    let mut tensors = Vec::new();
    while r.at < b.len() {
        let (n_dims, name_len, ftype) = (r.int(), r.int(), r.int());
        let mut shape: Vec<usize> = (0..n_dims).map(|_| r.int()).collect();
        shape.reverse();
        let name = String::from_utf8(r.take(name_len).to_vec()).expect("utf-8 name");
        let n: usize = shape.iter().product();
        let data = match ftype {
            1 => r
                .take(2 * n)
                .chunks(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            0 => r.f32s(n),
            8 => r
                .take(n / 32 * 34)
                .chunks(34)
                .flat_map(|b| {
                    let d = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
                    b[2..].iter().map(move |&q| f32::from(q as i8) * d)
                })
                .collect(),
            30 => r
                .take(2 * n)
                .chunks(2)
                .map(|c| f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16))
                .collect(),
            other => panic!("{name}: ftype {other}"),
        };
        let (f16, q8_0, bf16) = (ftype == 1, ftype == 8, ftype == 30);
        tensors.push((
            name,
            GgmlTensor {
                shape,
                f16,
                q8_0,
                bf16,
                data,
            },
        ));
    }
    Ggml {
        hparams,
        mel_dims: (rows, cols),
        mel,
        vocab,
        tensors,
    }
}
