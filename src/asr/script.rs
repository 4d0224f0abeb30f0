//! The Chinese script of transcripts.
//!
//! Owns: writing Whisper's Mandarin in simplified characters. Whisper often
//! writes traditional forms (換 for 换) even for mainland speech; the
//! Mandarin classifier and most CRMs expect simplified text. Conversion is
//! OpenCC's traditional → simplified, phrase-aware (ferrous-opencc, its
//! dictionaries compiled into the binary), built once per process.

use std::sync::OnceLock;

use ferrous_opencc::{config::BuiltinConfig, OpenCC};

fn converter() -> Option<&'static OpenCC> {
    static T2S: OnceLock<Option<OpenCC>> = OnceLock::new();
    T2S.get_or_init(|| match OpenCC::from_config(BuiltinConfig::T2s) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "Chinese script conversion unavailable: transcripts keep Whisper's characters");
            None
        }
    })
    .as_ref()
}

/// `text` with traditional Chinese characters written in simplified form;
/// everything else unchanged.
pub fn to_simplified(text: &str) -> String {
    if !text.chars().any(super::repetition::is_cjk) {
        return text.to_string();
    }
    converter().map_or_else(|| text.to_string(), |c| c.convert(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_characters_become_simplified() {
        assert_eq!(to_simplified("換一首歌"), "换一首歌");
        assert_eq!(to_simplified("我想把賬戶註銷掉"), "我想把账户注销掉");
        assert_eq!(
            to_simplified("甚至出现交易几乎停止的情况"),
            "甚至出现交易几乎停止的情况"
        );
        assert_eq!(
            to_simplified("Cancel my plan, 謝謝"),
            "Cancel my plan, 谢谢"
        );
        assert_eq!(to_simplified("no Chinese here"), "no Chinese here");
    }
}
