//! Reading a CTranslate2 `model.bin` (binary format version 6).
//!
//! Owns: parsing the variable index (names, shapes, data types, where each
//! variable's bytes lie), resolving aliases, and decoding one variable at a
//! time into `f32` or an integer scalar. The index is read once; tensor bytes
//! are read on demand, so a model is never held in memory whole.
//!
//! Must not: know what the variables mean (that is [`super::whisper`]), or
//! trust any length in the file before checking it against the file's size.
//!
//! Layout (little-endian): `u32` version, string spec name, `u32` revision,
//! `u32` variable count, then per variable: string name, `u8` rank, `rank` ×
//! `u32` dims, `u8` dtype, `u32` byte count, the bytes; then `u32` alias
//! count and per alias two strings (alias, target). A string is a `u16`
//! length followed by that many bytes, the last of them NUL.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Seek, SeekFrom};

use super::ConvertError;

/// The only binary format version this reader accepts.
pub const BINARY_VERSION: u32 = 6;
/// Most variables a model may declare.
const MAX_VARIABLES: u32 = 1 << 16;
/// Most aliases a model may declare.
const MAX_ALIASES: u32 = 1 << 16;
/// Highest tensor rank accepted.
const MAX_RANK: u8 = 8;

/// Element type of a variable, as CTranslate2 numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::BF16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::BF16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::F32 => "float32",
            Self::I8 => "int8",
            Self::I16 => "int16",
            Self::I32 => "int32",
            Self::F16 => "float16",
            Self::BF16 => "bfloat16",
        })
    }
}

/// One variable's entry in the index.
#[derive(Debug, Clone)]
pub struct Variable {
    pub shape: Vec<usize>,
    pub dtype: DType,
    offset: u64,
    nbytes: usize,
}

/// A decoded floating-point tensor (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// An opened `model.bin`: its index, and the source to read tensors from.
#[derive(Debug)]
pub struct Ct2File<R> {
    src: R,
    /// The spec name, e.g. `WhisperSpec`.
    pub spec: String,
    pub revision: u32,
    vars: HashMap<String, Variable>,
    aliases: HashMap<String, String>,
}

impl<R: Read + Seek> Ct2File<R> {
    /// Parses the index, checking every length against the source's size.
    ///
    /// # Errors
    /// [`ConvertError::Truncated`], [`ConvertError::Version`],
    /// [`ConvertError::Format`], [`ConvertError::UnknownDtype`],
    /// [`ConvertError::Read`].
    pub fn parse(mut src: R) -> Result<Self, ConvertError> {
        let len = src.seek(SeekFrom::End(0)).map_err(ConvertError::Read)?;
        src.seek(SeekFrom::Start(0)).map_err(ConvertError::Read)?;
        let mut cur = Cursor { src, len };
        let version = cur.u32("the format version")?;
        if version != BINARY_VERSION {
            return Err(ConvertError::Version(version));
        }
        let spec = cur.string("the spec name")?;
        let revision = cur.u32("the spec revision")?;
        let count = cur.u32("the variable count")?;
        if count > MAX_VARIABLES {
            return Err(ConvertError::Format(format!(
                "{count} variables (at most {MAX_VARIABLES})"
            )));
        }
        let mut vars = HashMap::with_capacity(count as usize);
        for _ in 0..count {
            let name = cur.string("a variable name")?;
            let var = cur.variable(&name)?;
            if vars.insert(name.clone(), var).is_some() {
                return Err(ConvertError::Format(format!("variable `{name}` twice")));
            }
        }
        let n_aliases = cur.u32("the alias count")?;
        if n_aliases > MAX_ALIASES {
            return Err(ConvertError::Format(format!(
                "{n_aliases} aliases (at most {MAX_ALIASES})"
            )));
        }
        let mut aliases = HashMap::new();
        for _ in 0..n_aliases {
            let alias = cur.string("an alias")?;
            let target = cur.string("an alias target")?;
            aliases.insert(alias, target);
        }
        Ok(Self {
            src: cur.src,
            spec,
            revision,
            vars,
            aliases,
        })
    }

    /// Names of all variables (aliases not included), in no set order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.keys().map(String::as_str)
    }

    /// The variable called `name`, following one alias if `name` is one.
    ///
    /// # Errors
    /// [`ConvertError::Missing`].
    pub fn var(&self, name: &str) -> Result<&Variable, ConvertError> {
        let target = self.aliases.get(name).map_or(name, String::as_str);
        self.vars
            .get(target)
            .ok_or_else(|| ConvertError::Missing(name.into()))
    }

    /// Reads a floating-point variable as `f32` (float16 widened exactly).
    ///
    /// # Errors
    /// Missing variable; integer (quantized) or bfloat16 data
    /// ([`ConvertError::Quantized`], [`ConvertError::Dtype`]); I/O.
    pub fn read_f32(&mut self, name: &str) -> Result<Tensor, ConvertError> {
        let var = self.var(name)?.clone();
        let bytes = self.bytes(&var)?;
        let data = match var.dtype {
            DType::F32 => bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            DType::F16 => bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            DType::I8 | DType::I16 => {
                return Err(ConvertError::Quantized {
                    name: name.into(),
                    dtype: var.dtype,
                })
            }
            DType::I32 | DType::BF16 => {
                return Err(ConvertError::Dtype {
                    name: name.into(),
                    dtype: var.dtype,
                })
            }
        };
        Ok(Tensor {
            shape: var.shape,
            data,
        })
    }

    /// Reads an integer scalar (a rank-0 or one-element variable).
    ///
    /// # Errors
    /// Missing variable, not an integer scalar, I/O.
    pub fn read_int(&mut self, name: &str) -> Result<i64, ConvertError> {
        let var = self.var(name)?.clone();
        if var.shape.iter().product::<usize>() != 1 {
            return Err(ConvertError::Shape {
                name: name.into(),
                shape: var.shape,
                expected: "a scalar".into(),
            });
        }
        let b = self.bytes(&var)?;
        Ok(match (var.dtype, b.as_slice()) {
            (DType::I8, &[x]) => i64::from(x as i8),
            (DType::I16, &[x, y]) => i64::from(i16::from_le_bytes([x, y])),
            (DType::I32, &[x, y, z, w]) => i64::from(i32::from_le_bytes([x, y, z, w])),
            (dtype, _) => {
                return Err(ConvertError::Dtype {
                    name: name.into(),
                    dtype,
                })
            }
        })
    }

    fn bytes(&mut self, var: &Variable) -> Result<Vec<u8>, ConvertError> {
        self.src
            .seek(SeekFrom::Start(var.offset))
            .map_err(ConvertError::Read)?;
        let mut buf = vec![0u8; var.nbytes];
        self.src.read_exact(&mut buf).map_err(ConvertError::Read)?;
        Ok(buf)
    }
}

/// Sequential reads of the index, each checked against the source's size.
struct Cursor<R> {
    src: R,
    len: u64,
}

impl<R: Read + Seek> Cursor<R> {
    fn pos(&mut self) -> Result<u64, ConvertError> {
        self.src.stream_position().map_err(ConvertError::Read)
    }

    /// Fails with [`ConvertError::Truncated`] unless `n` more bytes exist.
    fn need(&mut self, n: u64, what: &str) -> Result<u64, ConvertError> {
        let at = self.pos()?;
        if at.checked_add(n).is_none_or(|end| end > self.len) {
            return Err(ConvertError::Truncated {
                what: what.into(),
                needed: n,
                offset: at,
                len: self.len,
            });
        }
        Ok(at)
    }

    fn take<const N: usize>(&mut self, what: &str) -> Result<[u8; N], ConvertError> {
        self.need(N as u64, what)?;
        let mut b = [0u8; N];
        self.src.read_exact(&mut b).map_err(ConvertError::Read)?;
        Ok(b)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ConvertError> {
        Ok(self.take::<1>(what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, ConvertError> {
        Ok(u32::from_le_bytes(self.take(what)?))
    }

    fn string(&mut self, what: &str) -> Result<String, ConvertError> {
        let n = u16::from_le_bytes(self.take(what)?);
        self.need(u64::from(n), what)?;
        let mut b = vec![0u8; usize::from(n)];
        self.src.read_exact(&mut b).map_err(ConvertError::Read)?;
        if b.pop() != Some(0) {
            return Err(ConvertError::Format(format!(
                "{what} is not NUL-terminated"
            )));
        }
        String::from_utf8(b).map_err(|_| ConvertError::Format(format!("{what} is not UTF-8")))
    }

    fn variable(&mut self, name: &str) -> Result<Variable, ConvertError> {
        let rank = self.u8(name)?;
        if rank > MAX_RANK {
            return Err(ConvertError::Format(format!(
                "`{name}` has rank {rank} (at most {MAX_RANK})"
            )));
        }
        let shape = (0..rank)
            .map(|_| self.u32(name).map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let id = self.u8(name)?;
        let dtype = DType::from_id(id).ok_or_else(|| ConvertError::UnknownDtype {
            name: name.into(),
            id,
        })?;
        let nbytes = self.u32(name)? as usize;
        let expected = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d));
        if expected != Some(nbytes) {
            return Err(ConvertError::Format(format!(
                "`{name}`: {nbytes} bytes for shape {shape:?} of {dtype}"
            )));
        }
        let offset = self.need(nbytes as u64, name)?;
        self.src
            .seek(SeekFrom::Current(nbytes as i64))
            .map_err(ConvertError::Read)?;
        Ok(Variable {
            shape,
            dtype,
            offset,
            nbytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ct2::testmodel::Ct2Builder;

    fn parse(bytes: Vec<u8>) -> Result<Ct2File<std::io::Cursor<Vec<u8>>>, ConvertError> {
        Ct2File::parse(std::io::Cursor::new(bytes))
    }

    #[test]
    fn reads_float_int_and_alias_variables() {
        let mut b = Ct2Builder::new("WhisperSpec");
        b.f16("a/weight", &[2, 2], &[1.0, -2.5, 0.5, 65504.0]);
        b.f32("a/bias", &[2], &[0.25, -1.0]);
        b.raw("heads", &[], 2, &7i16.to_le_bytes());
        b.alias("b/weight", "a/weight");
        let mut f = parse(b.finish()).unwrap();
        assert_eq!(f.spec, "WhisperSpec");
        let w = f.read_f32("b/weight").unwrap();
        assert_eq!(w.shape, vec![2, 2]);
        assert_eq!(w.data, vec![1.0, -2.5, 0.5, 65504.0]);
        assert_eq!(f.read_f32("a/bias").unwrap().data, vec![0.25, -1.0]);
        assert_eq!(f.read_int("heads").unwrap(), 7);
        assert!(matches!(f.read_f32("nope"), Err(ConvertError::Missing(n)) if n == "nope"));
    }

    #[test]
    fn integer_and_bfloat16_weights_are_rejected_by_name() {
        let mut b = Ct2Builder::new("WhisperSpec");
        b.raw("q/weight", &[2], 1, &[1, 2]);
        b.raw("h/weight", &[1], 5, &[0, 0x3f]);
        let mut f = parse(b.finish()).unwrap();
        let e = f.read_f32("q/weight").unwrap_err();
        assert!(matches!(e, ConvertError::Quantized { .. }), "{e}");
        assert!(e
            .to_string()
            .contains("quantized CTranslate2 models are not supported"));
        let e = f.read_f32("h/weight").unwrap_err().to_string();
        assert!(e.contains("h/weight") && e.contains("bfloat16"), "{e}");
    }

    #[test]
    fn unknown_dtype_wrong_version_and_bad_lengths_are_errors() {
        let mut b = Ct2Builder::new("WhisperSpec");
        b.raw("x", &[1], 9, &[0]);
        let e = parse(b.finish()).unwrap_err();
        assert!(matches!(e, ConvertError::UnknownDtype { id: 9, .. }), "{e}");

        let mut bytes = Ct2Builder::new("WhisperSpec").finish();
        bytes[0] = 5;
        assert!(matches!(parse(bytes), Err(ConvertError::Version(5))));

        // 3 bytes declared for a 2-element float16 tensor
        let mut b = Ct2Builder::new("WhisperSpec");
        b.raw("x", &[2], 4, &[0, 0, 0]);
        let e = parse(b.finish()).unwrap_err().to_string();
        assert!(e.contains("3 bytes for shape [2]"), "{e}");
    }

    #[test]
    fn truncation_anywhere_is_reported_not_panicked() {
        let mut b = Ct2Builder::new("WhisperSpec");
        b.f32("a", &[3], &[1.0, 2.0, 3.0]);
        b.alias("b", "a");
        let full = b.finish();
        assert!(parse(full.clone()).is_ok());
        for cut in 0..full.len() {
            let e = parse(full[..cut].to_vec()).err();
            assert!(
                matches!(e, Some(ConvertError::Truncated { .. })),
                "cut at {cut}: {e:?}"
            );
        }
        let e = parse(full[..30].to_vec()).unwrap_err().to_string();
        assert!(e.contains("truncated"), "{e}");
    }
}
