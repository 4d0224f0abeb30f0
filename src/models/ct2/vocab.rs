//! The text vocabulary a ggml Whisper file carries, from `tokenizer.json`.
//!
//! Owns: reading a Hugging Face `tokenizer.json` (byte-level BPE) and
//! turning the ordinary tokens — every id below `<|endoftext|>` — back into
//! the raw bytes they stand for. whisper.cpp names the special tokens itself,
//! so they are not written.
//!
//! Must not: load the file unbounded or trust it to be complete: every id
//! below `<|endoftext|>` must be present and decodable.

use std::collections::HashMap;

use serde::Deserialize;

use super::ConvertError;

/// Largest `tokenizer.json` read (Whisper's are 2–4 MB).
pub const MAX_TOKENIZER_BYTES: u64 = 64 << 20;
/// Most ordinary tokens accepted.
const MAX_TOKENS: u32 = 1 << 20;
const END_OF_TEXT: &str = "<|endoftext|>";

#[derive(Deserialize)]
struct TokenizerJson {
    model: BpeModel,
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
}

#[derive(Deserialize)]
struct BpeModel {
    vocab: HashMap<String, u32>,
}

#[derive(Deserialize)]
struct AddedToken {
    id: u32,
    content: String,
}

/// Maps GPT-2's printable stand-in characters back to bytes: printable
/// Latin-1 bytes stand for themselves, the other 68 bytes for U+0100 onwards
/// in byte order.
struct ByteDecoder {
    /// Indexed by code point (all are below U+0144).
    table: [Option<u8>; 0x144],
}

impl ByteDecoder {
    fn new() -> Self {
        let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        let mut table = [None; 0x144];
        let mut next = 0x100;
        for b in 0..=255u8 {
            if printable(b) {
                table[usize::from(b)] = Some(b);
            } else {
                table[next] = Some(b);
                next += 1;
            }
        }
        Self { table }
    }

    fn decode(&self, token: &str) -> Option<Vec<u8>> {
        token
            .chars()
            .map(|c| self.table.get(c as usize).copied().flatten())
            .collect()
    }
}

/// The ordinary tokens of `tokenizer_json`, as bytes, indexed by id.
///
/// # Errors
/// [`ConvertError::Tokenizer`]: malformed JSON, no `<|endoftext|>`, a
/// missing id, or a token that is not byte-level BPE.
pub fn ordinary_tokens(tokenizer_json: &str) -> Result<Vec<Vec<u8>>, ConvertError> {
    let tj: TokenizerJson =
        serde_json::from_str(tokenizer_json).map_err(|e| ConvertError::Tokenizer(e.to_string()))?;
    let eot = tj
        .added_tokens
        .iter()
        .find(|t| t.content == END_OF_TEXT)
        .map(|t| t.id)
        .or_else(|| tj.model.vocab.get(END_OF_TEXT).copied())
        .ok_or_else(|| ConvertError::Tokenizer(format!("no {END_OF_TEXT} token")))?;
    if eot > MAX_TOKENS {
        return Err(ConvertError::Tokenizer(format!(
            "{END_OF_TEXT} is id {eot} (at most {MAX_TOKENS} tokens)"
        )));
    }
    let mut by_id: Vec<Option<&str>> = vec![None; eot as usize];
    for (text, &id) in &tj.model.vocab {
        if let Some(slot) = by_id.get_mut(id as usize) {
            *slot = Some(text.as_str());
        }
    }
    let bytes = ByteDecoder::new();
    by_id
        .into_iter()
        .enumerate()
        .map(|(id, text)| {
            let text = text.ok_or_else(|| {
                ConvertError::Tokenizer(format!("no token with id {id} (below {END_OF_TEXT})"))
            })?;
            bytes.decode(text).ok_or_else(|| {
                ConvertError::Tokenizer(format!("token {id} ({text:?}) is not byte-level BPE"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode_to_raw_bytes_up_to_end_of_text() {
        // "Ġ" is a space, "Ċ" a newline; "Ã©" is é's two UTF-8 bytes.
        let json = r#"{"model":{"type":"BPE","vocab":{"!":0,"Ġthe":1,"Ċ":2,"Ã©":3,"<|endoftext|>":4,"x":5}},
            "added_tokens":[{"id":4,"content":"<|endoftext|>","special":true}]}"#;
        let v = ordinary_tokens(json).unwrap();
        assert_eq!(
            v,
            vec![
                b"!".to_vec(),
                b" the".to_vec(),
                b"\n".to_vec(),
                "é".as_bytes().to_vec()
            ]
        );
    }

    #[test]
    fn every_byte_has_one_stand_in() {
        let d = ByteDecoder::new();
        let mut seen: Vec<u8> = d.table.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..=255).collect::<Vec<u8>>());
    }

    #[test]
    fn gaps_and_foreign_characters_are_errors() {
        let gap = r#"{"model":{"vocab":{"a":0,"c":2}},"added_tokens":[{"id":3,"content":"<|endoftext|>"}]}"#;
        let e = ordinary_tokens(gap).unwrap_err().to_string();
        assert!(e.contains("id 1"), "{e}");
        let foreign =
            r#"{"model":{"vocab":{"中":0}},"added_tokens":[{"id":1,"content":"<|endoftext|>"}]}"#;
        let e = ordinary_tokens(foreign).unwrap_err().to_string();
        assert!(e.contains("not byte-level"), "{e}");
        let no_eot = r#"{"model":{"vocab":{"a":0}}}"#;
        assert!(ordinary_tokens(no_eot).is_err());
    }
}
