//! Languages as Whisper knows them.
//!
//! Owns: [`Language`] (one of the languages in whisper.cpp's table, by its
//! ISO 639-1 code) and [`LanguageHint`] (`"auto"` or a language), parsed
//! once where text comes in — the config file, a call's `language_code` —
//! so that nothing downstream handles a language as a free string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// A language the recogniser knows ("en", "zh", …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Language {
    id: i32,
    code: &'static str,
}

/// A code that is not a language Whisper knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a language the recogniser knows (e.g. \"en\", \"zh\", or \"auto\")")]
pub struct UnknownLanguage(pub String);

impl Language {
    /// English.
    pub const fn english() -> Self {
        Self { id: 0, code: "en" }
    }

    /// A language by its code; a BCP-47 tag counts by its primary subtag
    /// ("en-US" → en, "zh_CN" → zh), case-insensitive.
    ///
    /// # Errors
    /// Not one of Whisper's languages (or "auto", which is a
    /// [`LanguageHint`], not a language).
    pub fn parse(tag: &str) -> Result<Self, UnknownLanguage> {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        // Only letters reach whisper.cpp (a NUL byte would not survive the
        // C string; found by fuzz/fuzz_targets/grpc_request.rs).
        if primary.is_empty()
            || primary.len() > 8
            || !primary.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return Err(UnknownLanguage(tag.trim().to_string()));
        }
        whisper_rs::get_lang_id(&primary)
            .and_then(Self::from_id)
            .ok_or_else(|| UnknownLanguage(tag.trim().to_string()))
    }

    /// The language with whisper.cpp's id `id`.
    pub fn from_id(id: i32) -> Option<Self> {
        whisper_rs::get_lang_str(id).map(|code| Self { id, code })
    }

    /// ISO 639-1 code, as Whisper spells it.
    pub fn code(self) -> &'static str {
        self.code
    }

    /// whisper.cpp's id.
    pub fn id(self) -> i32 {
        self.id
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl FromStr for Language {
    type Err = UnknownLanguage;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What to transcribe in: a fixed language, or detect it ("auto").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LanguageHint {
    /// Detect it (multilingual models; English-only models hear English).
    #[default]
    Auto,
    Fixed(Language),
}

impl LanguageHint {
    /// "" or "auto" (any case) → `Auto`; otherwise [`Language::parse`].
    ///
    /// # Errors
    /// Not "auto" and not a language Whisper knows.
    pub fn parse(tag: &str) -> Result<Self, UnknownLanguage> {
        let t = tag.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("auto") {
            Ok(Self::Auto)
        } else {
            Language::parse(t).map(Self::Fixed)
        }
    }

    /// The fixed language, if any.
    pub fn fixed(self) -> Option<Language> {
        match self {
            Self::Auto => None,
            Self::Fixed(l) => Some(l),
        }
    }
}

impl fmt::Display for LanguageHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Fixed(l) => l.fmt(f),
        }
    }
}

impl<'de> Deserialize<'de> for LanguageHint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_by_their_primary_subtag() {
        assert_eq!(Language::parse("en-US").unwrap().code(), "en");
        assert_eq!(Language::parse(" zh_CN ").unwrap().code(), "zh");
        assert_eq!(
            Language::parse("ZH").unwrap(),
            Language::parse("zh").unwrap()
        );
        assert_eq!(Language::parse("en").unwrap(), Language::english());
        assert_eq!(Language::parse("xx"), Err(UnknownLanguage("xx".into())));
        assert!(
            Language::parse("auto").is_err(),
            "auto is a hint, not a language"
        );
    }

    #[test]
    fn tags_with_other_than_letters_are_refused_not_passed_to_whisper() {
        // Regression: fuzz/fuzz_targets/grpc_request.rs found a NUL byte
        // in config.language_code panicking in whisper-rs.
        for bad in ["e\0n", "\0", "en\0-US", "1a", "é", &"a".repeat(40)] {
            assert!(Language::parse(bad).is_err(), "{bad:?}");
            assert!(LanguageHint::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hints_are_auto_or_a_known_language() {
        assert_eq!(LanguageHint::parse("").unwrap(), LanguageHint::Auto);
        assert_eq!(LanguageHint::parse("AUTO").unwrap(), LanguageHint::Auto);
        let zh = LanguageHint::parse("zh-TW").unwrap();
        assert_eq!(zh.fixed().map(Language::code), Some("zh"));
        assert_eq!(zh.to_string(), "zh");
        let e = LanguageHint::parse("klingon").unwrap_err().to_string();
        assert!(e.contains("\"klingon\" is not a language"), "{e}");
    }

    #[test]
    fn config_values_are_checked_when_read() {
        #[derive(Deserialize)]
        struct C {
            language: LanguageHint,
            languages: Vec<Language>,
        }
        let c: C = toml::from_str("language = \"auto\"\nlanguages = [\"en\", \"zh\"]").unwrap();
        assert_eq!(c.language, LanguageHint::Auto);
        assert_eq!(
            c.languages.iter().map(|l| l.code()).collect::<Vec<_>>(),
            ["en", "zh"]
        );
        let e = toml::from_str::<C>("language = \"en\"\nlanguages = [\"en\", \"qq\"]")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("\"qq\" is not a language"), "{e}");
    }
}
