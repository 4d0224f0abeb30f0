//! Language routing: which classifier model gets a text.
//!
//! The engine holds one [`Batcher`] per model directory; each model declares
//! its languages in `labels.json`. Per text, the router weighs two signals:
//! the language it was told (Whisper's detected language for an utterance,
//! else the call's `language_code`; `TextInput.language_code` for
//! AnalyzeText) and the script the text is actually written in (Han
//! characters vs Latin words). Rules, in order:
//!
//! 1. A hinted language some model serves wins, unless the text is clearly
//!    (≥ [`CLEAR_SHARE`]) in another served language's script — Whisper can
//!    mislabel a short utterance, but the classifier reads the text.
//! 2. Otherwise the text's dominant script picks the model; if the hint was
//!    a language no model serves (French text on an English model), the
//!    result is flagged `fallback`, visible in results and metrics.
//! 3. Otherwise (no letters, no served language) the first model configured,
//!    flagged `fallback` when the language was known but unserved.
//!
//! Mixed text (the minority script holds ≥ [`MIXED_SHARE`] of the weight, e.g.
//! "我的 iPhone 又坏了 I want a refund") goes to the dominant script's model
//! and is flagged `mixed`, never silently.

use std::sync::Arc;

use super::batcher::{Batcher, Classified, ClassifyError};
use super::model::{ModelError, Prediction, TextModel};

/// Share of the text's weight above which its script overrides the hint.
pub const CLEAR_SHARE: f32 = 0.8;
/// Minority-script share from which a text counts as mixed.
pub const MIXED_SHARE: f32 = 0.2;
/// Weight of one Latin word relative to one Han character (a Han character
/// is about one syllable; an English word about one and a half).
const LATIN_WORD_WEIGHT: f32 = 1.5;

/// How a text was routed.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Index into [`Classifiers::models`].
    pub model: usize,
    /// The language the text was classified as (primary subtag, e.g. "zh").
    pub language: String,
    /// Both scripts hold a real share of the text.
    pub mixed: bool,
    /// No model serves the text's language; the first model was used.
    pub fallback: bool,
}

/// A classification and the route it took.
#[derive(Debug, Clone)]
pub struct Routed {
    pub classified: Classified,
    pub route: Route,
    pub model_id: Arc<str>,
}

/// Script weights of a text.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScriptMix {
    pub han: f32,
    pub latin: f32,
}

impl ScriptMix {
    pub fn of(text: &str) -> Self {
        let mut mix = Self::default();
        let mut in_word = false;
        for c in text.chars() {
            if is_han(c) {
                mix.han += 1.0;
                in_word = false;
            } else if c.is_ascii_alphabetic() || (c.is_alphabetic() && (c as u32) < 0x0250) {
                if !in_word {
                    mix.latin += LATIN_WORD_WEIGHT;
                }
                in_word = true;
            } else {
                in_word = c == '\'' && in_word;
            }
        }
        mix
    }

    fn total(&self) -> f32 {
        self.han + self.latin
    }

    /// ("zh" | "en", its share of the weight), or None without letters.
    pub fn dominant(&self) -> Option<(&'static str, f32)> {
        let t = self.total();
        if t == 0.0 {
            return None;
        }
        Some(if self.han >= self.latin {
            ("zh", self.han / t)
        } else {
            ("en", self.latin / t)
        })
    }

    pub fn is_mixed(&self) -> bool {
        let t = self.total();
        t > 0.0 && self.han.min(self.latin) / t >= MIXED_SHARE
    }
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0xF900..=0xFAFF)
}

/// "en-US" → "en", "zh_CN" → "zh", "" / "auto" → None.
pub fn primary_language(code: &str) -> Option<String> {
    let p = code
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (!p.is_empty() && p != "auto").then_some(p)
}

/// Every loaded classifier model, routed by language.
#[derive(Clone)]
pub struct Classifiers {
    models: Vec<Batcher>,
    /// Each model's languages, gathered once (routing runs per utterance).
    langs: Vec<Vec<String>>,
}

impl Classifiers {
    /// The first model is the fallback.
    ///
    /// # Panics
    /// With no model at all (configuration validation rules it out).
    pub fn new(models: Vec<Batcher>) -> Self {
        assert!(!models.is_empty(), "at least one classifier model");
        let langs = models.iter().map(|m| m.languages().to_vec()).collect();
        Self { models, langs }
    }

    pub fn models(&self) -> &[Batcher] {
        &self.models
    }

    /// The fallback model's id.
    pub fn default_model_id(&self) -> &str {
        self.models[0].model_id()
    }

    /// Texts admitted to any model and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.models.iter().map(Batcher::in_flight).sum()
    }

    /// Picks the model for `text` given a language `hint` (any BCP-47 form).
    pub fn route(&self, text: &str, hint: Option<&str>) -> Route {
        route_among(&self.langs, text, hint)
    }

    /// Classifies `text` on its routed model, waiting for room.
    ///
    /// # Errors
    /// The classifier shut down, or the model failed.
    pub async fn classify(
        &self,
        text: String,
        hint: Option<&str>,
    ) -> Result<Routed, ClassifyError> {
        let route = self.route(&text, hint);
        let m = &self.models[route.model];
        Ok(routed(m, route, m.classify(text).await?))
    }

    /// Classifies `text` on its routed model if there is room now.
    ///
    /// # Errors
    /// [`ClassifyError::Overloaded`] when that model's queue is full.
    pub async fn try_classify(
        &self,
        text: String,
        hint: Option<&str>,
    ) -> Result<Routed, ClassifyError> {
        let route = self.route(&text, hint);
        let m = &self.models[route.model];
        Ok(routed(m, route, m.try_classify(text).await?))
    }
}

fn routed(model: &Batcher, route: Route, classified: Classified) -> Routed {
    Routed {
        classified,
        model_id: model.model_id_arc(),
        route,
    }
}

/// The same routing over models owned by the calling thread, for offline
/// tools (`analyze-text`, `eval`).
pub struct ModelSet {
    models: Vec<TextModel>,
}

impl ModelSet {
    /// The first model is the fallback.
    ///
    /// # Panics
    /// With no model at all.
    pub fn new(models: Vec<TextModel>) -> Self {
        assert!(!models.is_empty(), "at least one classifier model");
        Self { models }
    }

    pub fn models(&self) -> &[TextModel] {
        &self.models
    }

    /// Routes each `(text, language hint)` and classifies it on its model,
    /// one batch per model; results in input order.
    ///
    /// # Errors
    /// Tokenisation or inference failed.
    pub fn classify(
        &mut self,
        items: &[(&str, Option<&str>)],
    ) -> Result<Vec<(Prediction, Route)>, ModelError> {
        let langs: Vec<&[String]> = self
            .models
            .iter()
            .map(|m| m.spec().languages.as_slice())
            .collect(); // once per batch, not per text
        let routes: Vec<Route> = items
            .iter()
            .map(|(t, h)| route_among(&langs, t, *h))
            .collect();
        let mut out: Vec<Option<Prediction>> = vec![None; items.len()];
        for (m, model) in self.models.iter_mut().enumerate() {
            let idx: Vec<usize> = (0..items.len()).filter(|&i| routes[i].model == m).collect();
            if idx.is_empty() {
                continue;
            }
            let texts: Vec<&str> = idx.iter().map(|&i| items[i].0).collect();
            for (i, p) in idx.into_iter().zip(model.classify(&texts)?) {
                out[i] = Some(p);
            }
        }
        Ok(out
            .into_iter()
            .zip(routes)
            .map(|(p, r)| (p.expect("every text routed to a model"), r))
            .collect())
    }
}

/// The routing rules (module docs) over models declaring `langs`; the
/// first is the fallback.
pub fn route_among<L: AsRef<[String]>>(langs: &[L], text: &str, hint: Option<&str>) -> Route {
    let serving = |lang: &str| {
        langs
            .iter()
            .position(|ls| ls.as_ref().iter().any(|l| l == lang))
    };
    let mix = ScriptMix::of(text);
    let mixed = mix.is_mixed();
    let hint = hint.and_then(primary_language);
    let script = mix.dominant();
    let pick = |lang: &str, model: usize| Route {
        model,
        language: lang.to_string(),
        mixed,
        fallback: false,
    };
    if let Some(h) = hint.as_deref() {
        if let Some(m) = serving(h) {
            if let Some((s, share)) = script {
                if s != h && share >= CLEAR_SHARE {
                    if let Some(ms) = serving(s) {
                        return pick(s, ms);
                    }
                }
            }
            return pick(h, m);
        }
    }
    // A hinted language no model serves: the script's model is the best
    // guess, flagged (e.g. French text on the English model).
    let unserved_hint = hint.as_deref().filter(|h| serving(h).is_none());
    if let Some((s, _)) = script {
        if let Some(m) = serving(s) {
            return Route {
                model: m,
                language: unserved_hint.unwrap_or(s).to_string(),
                mixed,
                fallback: unserved_hint.is_some(),
            };
        }
    }
    let language = hint
        .or_else(|| script.map(|(s, _)| s.to_string()))
        .or_else(|| langs.first().and_then(|ls| ls.as_ref().first().cloned()))
        .unwrap_or_default();
    Route {
        model: 0,
        fallback: serving(&language).is_none(),
        language,
        mixed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_mix_counts_han_chars_and_latin_words() {
        let m = ScriptMix::of("我想退款");
        assert_eq!(
            m,
            ScriptMix {
                han: 4.0,
                latin: 0.0
            }
        );
        let m = ScriptMix::of("I don't want it, 123!");
        assert_eq!(m.han, 0.0);
        assert_eq!(m.latin, 4.0 * LATIN_WORD_WEIGHT);
        assert_eq!(ScriptMix::of("1234 5678 ...").dominant(), None);
    }

    #[test]
    fn mixed_needs_a_real_minority_share() {
        // one product name in a Chinese sentence is not "mixed"
        assert!(!ScriptMix::of("我的iPhone屏幕又碎了这是第三次了").is_mixed());
        let m = ScriptMix::of("我想要 refund please 退款 now");
        assert!(m.is_mixed());
        // 5 Han characters outweigh 3 English words (4.5)
        assert_eq!(m.dominant().unwrap().0, "zh");
        assert_eq!(
            ScriptMix::of("I want a 退款 please").dominant().unwrap().0,
            "en"
        );
    }

    fn langs() -> Vec<Vec<String>> {
        vec![vec!["en".into()], vec!["zh".into()]]
    }

    fn route(text: &str, hint: Option<&str>) -> Route {
        let l = langs();
        let refs: Vec<&[String]> = l.iter().map(Vec::as_slice).collect();
        route_among(&refs, text, hint)
    }

    #[test]
    fn hint_picks_the_model_when_the_text_agrees_or_is_ambiguous() {
        let r = route("我要取消我的套餐", Some("zh-CN"));
        assert_eq!(
            (r.model, r.language.as_str(), r.mixed, r.fallback),
            (1, "zh", false, false)
        );
        // digits only: nothing to read, the hint decides
        assert_eq!(route("1 2 3 4", Some("zh")).model, 1);
        assert_eq!(route("1 2 3 4", Some("en")).model, 0);
    }

    #[test]
    fn clear_script_overrides_a_wrong_hint() {
        let r = route("我的手机屏幕又坏了", Some("en"));
        assert_eq!((r.model, r.language.as_str()), (1, "zh"));
        let r = route("cancel my account now", Some("zh"));
        assert_eq!((r.model, r.language.as_str()), (0, "en"));
    }

    #[test]
    fn without_a_hint_the_script_decides() {
        assert_eq!(route("退款", None).model, 1);
        assert_eq!(route("refund", Some("auto")).model, 0);
    }

    #[test]
    fn mixed_text_is_flagged_and_goes_to_the_hinted_model() {
        let r = route("我想要 refund please 退款 now", Some("en"));
        assert!(r.mixed);
        assert_eq!(r.model, 0, "mixed, not clearly Chinese: the hint stands");
        let r = route("我想要 refund please 退款 now", None);
        assert!(r.mixed);
        assert_eq!(r.model, 1);
    }

    #[test]
    fn unserved_language_falls_back_visibly() {
        let r = route("je veux annuler", Some("fr"));
        assert_eq!((r.model, r.language.as_str(), r.fallback), (0, "fr", true));
        let r = route("12 34", None);
        assert_eq!((r.model, r.language.as_str(), r.fallback), (0, "en", false));
        // a single-language deployment: Chinese text goes to the English model, flagged
        let only_en = [vec!["en".to_string()]];
        let refs: Vec<&[String]> = only_en.iter().map(Vec::as_slice).collect();
        let r = route_among(&refs, "我要退款", None);
        assert_eq!((r.model, r.language.as_str(), r.fallback), (0, "zh", true));
    }

    #[test]
    fn primary_subtags() {
        assert_eq!(primary_language("zh-CN").as_deref(), Some("zh"));
        assert_eq!(primary_language("EN_us").as_deref(), Some("en"));
        assert_eq!(primary_language("auto"), None);
        assert_eq!(primary_language(""), None);
    }
}
