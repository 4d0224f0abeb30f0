//! Phrase matching for script-adherence and compliance rules: does a
//! transcript contain one of a rule's phrases — exactly, by pattern, or
//! nearly (Whisper's spelling of a phrase varies)?
//!
//! Owns: the text normalisation all three kinds share and the matching.
//! Must not: decide when a rule fires (windows, roles and deadlines are
//! [`crate::rules`]').

use serde::Deserialize;

use crate::classify::weight::{is_han, normalise};

/// Most phrases in one rule.
pub const MAX_PHRASES: usize = 32;
/// Longest phrase or pattern, in bytes.
pub const MAX_PHRASE_BYTES: usize = 256;
/// Most words in a fuzzy phrase (each Han character is a word).
const MAX_FUZZY_WORDS: usize = 32;
/// Compiled size limit of one pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// How a phrase is compared with a transcript. Both are lower-cased first,
/// punctuation becomes spaces, and words are single-spaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The phrase's words appear in this order, next to each other.
    #[default]
    Exact,
    /// A regular expression (Rust `regex` syntax, linear time) found
    /// anywhere in the normalised transcript.
    Pattern,
    /// Some run of the transcript's words is within `min_similarity` of the
    /// phrase (1 − edit distance / length, by characters).
    Fuzzy,
}

/// What matched.
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseMatch {
    /// Index of the phrase in the rule.
    pub phrase: usize,
    /// The transcript's words that matched.
    pub said: String,
    /// 1 for exact and pattern matches.
    pub similarity: f32,
}

enum Compiled {
    Words(Vec<String>),
    Regex(regex::Regex),
}

/// A rule's phrases, ready to match.
pub struct PhraseMatcher {
    kind: MatchKind,
    phrases: Vec<Compiled>,
    min_similarity: f32,
}

impl std::fmt::Debug for PhraseMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhraseMatcher")
            .field("kind", &self.kind)
            .field("phrases", &self.phrases.len())
            .finish()
    }
}

/// The transcript's words: normalised, each Han character a word of its own.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in normalise(text).split_whitespace() {
        let mut run = String::new();
        for c in w.chars() {
            if is_han(c) {
                if !run.is_empty() {
                    out.push(std::mem::take(&mut run));
                }
                out.push(c.to_string());
            } else {
                run.push(c);
            }
        }
        if !run.is_empty() {
            out.push(run);
        }
    }
    out
}

/// Text of a run of words: Han characters joined without spaces.
fn join(words: &[String]) -> String {
    let mut s = String::new();
    for (i, w) in words.iter().enumerate() {
        let han = |x: &str| x.chars().next().is_some_and(is_han);
        if i > 0 && !(han(w) && han(&words[i - 1])) {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}

/// Levenshtein distance between two strings, by characters.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

impl PhraseMatcher {
    /// # Errors
    /// No phrases, too many or too long, a phrase with no words, a pattern
    /// that does not compile, or `min_similarity` outside (0, 1].
    pub fn new(kind: MatchKind, phrases: &[String], min_similarity: f32) -> Result<Self, String> {
        if phrases.is_empty() || phrases.len() > MAX_PHRASES {
            return Err(format!("1 to {MAX_PHRASES} phrases"));
        }
        if !(min_similarity > 0.0 && min_similarity <= 1.0) {
            return Err("min_similarity must be in (0, 1]".into());
        }
        let mut compiled = Vec::with_capacity(phrases.len());
        for p in phrases {
            if p.len() > MAX_PHRASE_BYTES {
                return Err(format!(
                    "phrase {p:?} is longer than {MAX_PHRASE_BYTES} bytes"
                ));
            }
            compiled.push(match kind {
                MatchKind::Pattern => Compiled::Regex(
                    regex::RegexBuilder::new(p)
                        .case_insensitive(true)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| format!("pattern {p:?} does not compile: {e}"))?,
                ),
                MatchKind::Exact | MatchKind::Fuzzy => {
                    let w = words(p);
                    if w.is_empty() {
                        return Err(format!("phrase {p:?} has no words"));
                    }
                    if kind == MatchKind::Fuzzy && w.len() > MAX_FUZZY_WORDS {
                        return Err(format!(
                            "fuzzy phrase {p:?} has more than {MAX_FUZZY_WORDS} words"
                        ));
                    }
                    Compiled::Words(w)
                }
            });
        }
        Ok(Self {
            kind,
            phrases: compiled,
            min_similarity,
        })
    }

    /// The first phrase (in the rule's order) the transcript contains.
    pub fn find(&self, transcript: &str) -> Option<PhraseMatch> {
        let said = words(transcript);
        let text = normalise(transcript);
        self.phrases.iter().enumerate().find_map(|(i, p)| match p {
            Compiled::Regex(re) => re.find(&text).map(|m| PhraseMatch {
                phrase: i,
                said: m.as_str().to_string(),
                similarity: 1.0,
            }),
            Compiled::Words(w) if self.kind == MatchKind::Exact => said
                .windows(w.len())
                .find(|win| *win == w.as_slice())
                .map(|win| PhraseMatch {
                    phrase: i,
                    said: join(win),
                    similarity: 1.0,
                }),
            Compiled::Words(w) => self.fuzzy(i, w, &said),
        })
    }

    /// The run of `said` (phrase length ± 1 words) closest to `phrase`, if
    /// within `min_similarity`.
    fn fuzzy(&self, index: usize, phrase: &[String], said: &[String]) -> Option<PhraseMatch> {
        let target: Vec<char> = join(phrase).chars().collect();
        let mut best: Option<(f32, &[String])> = None;
        let n = phrase.len();
        for len in n.saturating_sub(1).max(1)..=n + 1 {
            for win in said.windows(len) {
                let cand: Vec<char> = join(win).chars().collect();
                let longest = target.len().max(cand.len()).max(1);
                let sim = 1.0 - edit_distance(&target, &cand) as f32 / longest as f32;
                if best.is_none_or(|(b, _)| sim > b) {
                    best = Some((sim, win));
                }
            }
        }
        best.filter(|(sim, _)| *sim >= self.min_similarity)
            .map(|(similarity, win)| PhraseMatch {
                phrase: index,
                said: join(win),
                similarity,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(kind: MatchKind, phrases: &[&str]) -> PhraseMatcher {
        let p: Vec<String> = phrases.iter().map(|s| s.to_string()).collect();
        PhraseMatcher::new(kind, &p, 0.8).unwrap()
    }

    #[test]
    fn exact_matches_whole_words_in_order_regardless_of_case_and_punctuation() {
        let e = m(MatchKind::Exact, &["this call is recorded", "退款"]);
        let hit = e.find("Hi, this call is RECORDED for quality.").unwrap();
        assert_eq!(
            (hit.phrase, hit.said.as_str()),
            (0, "this call is recorded")
        );
        assert!(e.find("this call is being recorded").is_none());
        assert!(e.find("this call isn't recorded").is_none());
        assert!(e.find("recordedthis call is").is_none());
        let zh = e.find("我想要退款，谢谢").unwrap();
        assert_eq!((zh.phrase, zh.said.as_str()), (1, "退款"));
    }

    #[test]
    fn patterns_search_the_normalised_transcript() {
        let p = m(MatchKind::Pattern, &[r"\b(guarantee|promise)\b.*\brefund"]);
        let hit = p.find("I PROMISE, you'll get a full refund.").unwrap();
        assert_eq!(hit.said, "promise you'll get a full refund");
        assert!(p.find("Refunds take five days.").is_none());
        let bad = PhraseMatcher::new(MatchKind::Pattern, &["(unclosed".into()], 0.8);
        assert!(bad.unwrap_err().contains("does not compile"));
    }

    #[test]
    fn fuzzy_tolerates_whisper_spelling_but_not_other_words() {
        let f = m(
            MatchKind::Fuzzy,
            &["this call may be recorded for training"],
        );
        let hit = f
            .find("Thanks for calling. This call maybe recorded for trainings purposes.")
            .unwrap();
        assert!(hit.similarity >= 0.8 && hit.similarity < 1.0, "{hit:?}");
        assert!(hit.said.starts_with("this call maybe recorded"), "{hit:?}");
        assert!(f.find("Your bill may be higher this month.").is_none());
        let zh = m(MatchKind::Fuzzy, &["本次通话可能会被录音"]);
        assert!(zh.find("您好，本次通话可能被录音。").is_some());
        assert!(zh.find("您好，请问有什么可以帮您").is_none());
    }

    #[test]
    fn bad_phrase_lists_are_refused() {
        assert!(PhraseMatcher::new(MatchKind::Exact, &[], 0.8).is_err());
        assert!(PhraseMatcher::new(MatchKind::Exact, &["...".into()], 0.8).is_err());
        assert!(PhraseMatcher::new(MatchKind::Fuzzy, &["a".into()], 0.0).is_err());
        assert!(PhraseMatcher::new(MatchKind::Exact, &["x".repeat(300)], 0.8).is_err());
    }

    #[test]
    fn edit_distance_is_levenshtein() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&c("kitten"), &c("sitting")), 3);
        assert_eq!(edit_distance(&c(""), &c("abc")), 3);
        assert_eq!(edit_distance(&c("退款"), &c("退货")), 1);
    }
}
