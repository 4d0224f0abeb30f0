//! What the decoder reads before each utterance: the call's vocabulary and
//! what the same channel said just before.
//!
//! Owns: per call and channel, the last final transcript and where it ended,
//! and joining it with the vocabulary into one bounded prompt. A speaker who
//! pauses mid-sentence ("and so my fellow Americans … ask not what your
//! country can do for you") is cut into utterances by the endpointer; with
//! the previous words as context Whisper carries the sentence on instead of
//! guessing at a fragment. Only recent text is used (a short gap), and only
//! the end of it. It must not know about audio or the recogniser.

use std::sync::Arc;

use parking_lot::Mutex;

/// The channel's last final transcript.
#[derive(Debug, Clone)]
struct Previous {
    end_ms: u32,
    text: String,
}

/// Prompts for one call's utterances.
#[derive(Debug)]
pub struct CallPrompts {
    vocabulary: Option<Arc<str>>,
    previous: Mutex<Vec<Option<Previous>>>,
    /// Longest gap between the previous final's end and an utterance's start
    /// for the previous text to be used (0: never).
    max_gap_ms: u32,
    /// Characters of previous text kept (its end).
    max_chars: usize,
}

impl CallPrompts {
    pub fn new(
        vocabulary: Option<Arc<str>>,
        channels: usize,
        max_gap_ms: u32,
        max_chars: usize,
    ) -> Self {
        Self {
            vocabulary,
            previous: Mutex::new(vec![None; channels]),
            max_gap_ms,
            max_chars,
        }
    }

    /// The prompt for an utterance of `channel` starting at `start_ms`.
    pub fn for_utterance(&self, channel: usize, start_ms: u32) -> Option<Arc<str>> {
        let previous = self
            .previous
            .lock()
            .get(channel)
            .cloned()
            .flatten()
            .filter(|p| {
                self.max_gap_ms > 0
                    && start_ms >= p.end_ms
                    && start_ms - p.end_ms <= self.max_gap_ms
            });
        match (&self.vocabulary, previous) {
            (v, None) => v.clone(),
            (None, Some(p)) => Some(Arc::from(tail(&p.text, self.max_chars))),
            (Some(v), Some(p)) => {
                Some(Arc::from(format!("{v}. {}", tail(&p.text, self.max_chars))))
            }
        }
    }

    /// Records a final transcript of `channel` that ended at `end_ms` (a
    /// later one replaces it; an earlier one, finishing late, does not).
    pub fn record_final(&self, channel: usize, end_ms: u32, text: &str) {
        let mut all = self.previous.lock();
        if let Some(slot) = all.get_mut(channel) {
            if slot.as_ref().is_none_or(|p| p.end_ms <= end_ms) {
                *slot = Some(Previous {
                    end_ms,
                    text: text.to_string(),
                });
            }
        }
    }
}

/// The last `max_chars` characters of `text`, from a word boundary.
fn tail(text: &str, max_chars: usize) -> &str {
    let n = text.chars().count();
    if n <= max_chars {
        return text;
    }
    let (cut, _) = text.char_indices().nth(n - max_chars).unwrap_or((0, ' '));
    let rest = &text[cut..];
    match rest.find(char::is_whitespace) {
        Some(i) if !rest[..i].chars().any(crate::asr::repetition::is_cjk) => rest[i..].trim_start(),
        _ => rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_text_of_the_same_channel_is_the_prompt() {
        let p = CallPrompts::new(None, 2, 3000, 200);
        assert_eq!(p.for_utterance(0, 1000), None);
        p.record_final(0, 2700, "and so my fellow Americans.");
        assert_eq!(
            p.for_utterance(0, 3800).as_deref(),
            Some("and so my fellow Americans.")
        );
        assert_eq!(
            p.for_utterance(1, 3800),
            None,
            "the other channel's words are not context"
        );
        assert_eq!(p.for_utterance(0, 6000), None, "too long ago");
        // A final that finishes after a later one does not replace it.
        p.record_final(0, 5000, "ask not");
        p.record_final(0, 2700, "and so my fellow Americans.");
        assert_eq!(p.for_utterance(0, 5500).as_deref(), Some("ask not"));
    }

    #[test]
    fn vocabulary_comes_first_and_old_text_is_cut_at_a_word() {
        let p = CallPrompts::new(Some(Arc::from("Acme Fibre, Premium Plus")), 1, 3000, 12);
        assert_eq!(
            p.for_utterance(0, 0).as_deref(),
            Some("Acme Fibre, Premium Plus")
        );
        p.record_final(0, 100, "I would like to upgrade my plan");
        assert_eq!(
            p.for_utterance(0, 200).as_deref(),
            Some("Acme Fibre, Premium Plus. my plan")
        );
        let off = CallPrompts::new(None, 1, 0, 200);
        off.record_final(0, 100, "hello");
        assert_eq!(off.for_utterance(0, 200), None);
        assert_eq!(tail("我想把账户注销掉", 3), "注销掉");
    }
}
