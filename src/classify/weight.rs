//! How much one turn's sentiment counts in a call's running figures.
//!
//! A supervisor reads a call's sentiment from its turns. A back-channel
//! ("okay", "uh-huh", "嗯", "好的") carries no opinion: the classifier calls
//! it neutral, and counted like a sentence it would pull an angry call's
//! mean towards zero and break a run of negative turns. So back-channels
//! weigh nothing, and other turns weigh by how much they say, up to a full
//! sentence's worth ([`FULL_WEIGHT_WORDS`] English words, or
//! [`FULL_WEIGHT_HAN`] Chinese characters).
//!
//! Owns: the back-channel lists and the weight. Used by the call summary and
//! the rules' call facts.

/// English words at which a turn counts fully.
pub const FULL_WEIGHT_WORDS: usize = 4;
/// Chinese characters at which a turn counts fully.
pub const FULL_WEIGHT_HAN: usize = 6;

/// Turns (after lower-casing and dropping punctuation) that only keep the
/// conversation going.
const BACKCHANNELS_EN: &[&str] = &[
    "ok",
    "okay",
    "k",
    "yeah",
    "yes",
    "yep",
    "yup",
    "ya",
    "no",
    "nope",
    "uh huh",
    "uh-huh",
    "mhm",
    "mm",
    "mmm",
    "mm hmm",
    "mm-hmm",
    "hmm",
    "hm",
    "right",
    "sure",
    "alright",
    "all right",
    "i see",
    "got it",
    "go on",
    "go ahead",
    "uh",
    "um",
    "ah",
    "oh",
    "hello",
    "hi",
    "hey",
    "okay okay",
    "yeah yeah",
    "right right",
    "yes yes",
    "okay yeah",
    "yeah okay",
    "oh okay",
    "ok ok",
    "uh yeah",
    "um okay",
    "mm okay",
    "sure sure",
    "oh right",
    "i see okay",
];
const BACKCHANNELS_ZH: &[&str] = &[
    "嗯",
    "嗯嗯",
    "嗯嗯嗯",
    "啊",
    "哦",
    "哦哦",
    "噢",
    "喔",
    "呃",
    "额",
    "唉",
    "好",
    "好的",
    "好好",
    "好好好",
    "好吧",
    "行",
    "行行",
    "可以",
    "对",
    "对对",
    "对对对",
    "对的",
    "是",
    "是的",
    "是是",
    "喂",
    "喂你好",
    "你好",
    "明白",
    "知道了",
    "了解",
    "嗯好",
    "嗯好的",
    "嗯对",
    "哦好",
    "哦这样啊",
    "这样啊",
    "是吗",
    "然后呢",
];

pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// The turn with punctuation and case folded away, words single-spaced.
pub(crate) fn normalise(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' || c == '-' {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True for a turn that only keeps the conversation going.
pub fn is_backchannel(text: &str) -> bool {
    let n = normalise(text);
    if n.is_empty() {
        return true;
    }
    BACKCHANNELS_EN.contains(&n.as_str()) || BACKCHANNELS_ZH.contains(&n.replace(' ', "").as_str())
}

/// Words spoken in a turn, for talk speed: each Han character counts as one
/// word, other words are whitespace-separated runs of letters or digits.
pub fn spoken_words(text: &str) -> u32 {
    let n = normalise(text);
    let han = n.chars().filter(|&c| is_han(c)).count();
    let words = n
        .split_whitespace()
        .filter(|w| w.chars().any(|c| c.is_alphanumeric() && !is_han(c)))
        .count();
    (han + words) as u32
}

/// Weight in [0, 1] of a turn's sentiment in call-level figures: 0 for a
/// back-channel, else how much of a full sentence it says.
pub fn sentiment_weight(text: &str) -> f32 {
    if is_backchannel(text) {
        return 0.0;
    }
    let n = normalise(text);
    let han = n.chars().filter(|&c| is_han(c)).count();
    let words = n
        .split_whitespace()
        .filter(|w| !w.chars().any(is_han))
        .count();
    let share = han as f32 / FULL_WEIGHT_HAN as f32 + words as f32 / FULL_WEIGHT_WORDS as f32;
    share.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_words_count_words_and_han_characters() {
        assert_eq!(spoken_words("I'd like to cancel, please."), 5);
        assert_eq!(spoken_words("我要退款"), 4);
        assert_eq!(spoken_words("我的 iPhone 坏了"), 5);
        assert_eq!(spoken_words(" — ... "), 0);
    }

    #[test]
    fn backchannels_weigh_nothing() {
        for t in [
            "Okay.",
            "uh-huh",
            "Mm-hmm.",
            "Yeah, yeah.",
            "嗯",
            "好的。",
            "对对对",
            "嗯，好的",
            "",
        ] {
            assert!(is_backchannel(t), "{t:?}");
            assert_eq!(sentiment_weight(t), 0.0, "{t:?}");
        }
    }

    #[test]
    fn sentences_weigh_fully_and_fragments_partly() {
        for t in [
            "I've been waiting three weeks for this refund.",
            "我等了三个星期了还没退款",
            "这个APP老是闪退",
        ] {
            assert_eq!(sentiment_weight(t), 1.0, "{t:?}");
        }
        let w = sentiment_weight("still nothing");
        assert!(w > 0.0 && w < 1.0, "{w}");
        let w = sentiment_weight("不行");
        assert!(w > 0.0 && w < 1.0, "{w}");
        // A complaint that starts with "okay" is not a back-channel.
        assert_eq!(sentiment_weight("Okay, but this is the third time."), 1.0);
    }
}
