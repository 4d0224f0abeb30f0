//! Catching Whisper's loops: text that says the same run of words again
//! right after itself ("The horizon seems extremely distant. The horizon
//! seems extremely distant. …"), or more text than the audio could hold.
//!
//! Owns: splitting a transcript into comparable units (words; each Chinese,
//! Japanese or Korean character on its own), finding a run that repeats
//! back to back, and collapsing such runs to one copy. Pure text functions:
//! the decoder (`whisper.rs`) decides what to do about a loop.

use std::ops::Range;

/// Longest run of units looked for (a sentence of ~40 words).
const MAX_RUN: usize = 48;
/// A run of at least this many units, said once and then started again up
/// to the end of the text for at least this many units (and a third of the
/// run), is a loop cut short by the token budget.
const MIN_RESTARTED_RUN: usize = 6;

/// What a unit of text is compared as, and where it sits in the text.
#[derive(Debug, Clone)]
struct Unit {
    /// Lower case, letters and digits only.
    key: String,
    /// Byte range of the unit in the original text.
    span: Range<usize>,
    cjk: bool,
}

/// Whether `c` is written without spaces between words (Han, kana, Hangul).
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}' // kana
        | '\u{3400}'..='\u{4dbf}' // Han extension A
        | '\u{4e00}'..='\u{9fff}' // Han
        | '\u{f900}'..='\u{faff}' // Han compatibility
        | '\u{ac00}'..='\u{d7af}' // Hangul
    )
}

fn units(text: &str) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut word: Option<Unit> = None;
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        if is_cjk(c) {
            out.extend(word.take());
            out.push(Unit {
                key: c.to_string(),
                span: i..end,
                cjk: true,
            });
        } else if c.is_alphanumeric() || c == '\'' {
            let w = word.get_or_insert_with(|| Unit {
                key: String::new(),
                span: i..i,
                cjk: false,
            });
            w.key.extend(c.to_lowercase());
            w.span.end = end;
        } else if c.is_whitespace() {
            out.extend(word.take());
        } else if let Some(w) = word.as_mut() {
            // Punctuation belongs to the word before it ("distant.").
            w.span.end = end;
        } else if let Some(prev) = out.last_mut() {
            prev.span.end = end;
        }
    }
    out.extend(word);
    out.retain(|u| !u.key.is_empty());
    out
}

/// A run of units said `copies` times back to back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeat {
    /// Units in one copy of the run.
    pub run: usize,
    pub copies: usize,
    /// Byte range of the copies before the last one: cutting it leaves one
    /// copy, with the punctuation that follows it.
    pub cut: Range<usize>,
    /// Byte range of an unfinished copy after the last one that runs to the
    /// end of the text (a loop stopped by the token budget), if any.
    pub tail: Option<Range<usize>>,
}

/// How many back-to-back copies of a run of `len` units make a loop. People
/// do repeat themselves ("no no no", "thank you thank you", "对对对"), so
/// short runs need more copies than long ones.
fn copies_for_loop(len: usize, cjk: bool) -> usize {
    match (len, cjk) {
        (1, false) => 6,
        (2, false) => 3,
        (_, false) => 2,
        (1, true) => 8,
        (2, true) => 4,
        (3, true) => 3,
        (_, true) => 2,
    }
}

/// The first loop in `text`, preferring the shortest run at each position
/// (so "okay okay okay …" is one word said many times, not three words said
/// twice).
pub fn find_loop(text: &str) -> Option<Repeat> {
    find_repeat(text, &units(text), true)
}

/// Whether `text`, a decode still running, has already said a run of
/// words again back to back as often as [`find_loop`] calls a loop. Its
/// last unit is left out (the next token may still extend that word), and
/// a long run merely started again is not enough (the speaker may go on
/// differently): whatever this finds in the text so far, [`find_loop`]
/// finds in the finished text too.
pub fn said_again_so_far(text: &str) -> bool {
    let mut u = units(text);
    if u.pop().is_none() || u.len() < 2 {
        return false;
    }
    let end = u.last().map_or(0, |x| x.span.end);
    find_repeat(&text[..end], &u, false).is_some()
}

/// The first repeat among units `u` of `text`; with `restarts`, also a
/// long run said once and started again up to the end of the text.
fn find_repeat(text: &str, u: &[Unit], restarts: bool) -> Option<Repeat> {
    for start in 0..u.len() {
        // Up to half the rest for runs said twice; longer for a run started
        // again (its second copy is shorter).
        let longest = MAX_RUN.min(u.len() - start - 1);
        for len in 1..=longest {
            let same = |a: usize, b: usize| (0..len).all(|k| u[a + k].key == u[b + k].key);
            let mut copies = 1;
            while start + (copies + 1) * len <= u.len() && same(start, start + copies * len) {
                copies += 1;
            }
            let cjk = u[start..start + len].iter().all(|x| x.cjk);
            if copies < copies_for_loop(len, cjk) {
                // A long run said once and started again until the token
                // budget stopped it ("If the reader will excuse me, I will
                // say nothing … If the reader will excuse me, I will say").
                let after = start + len;
                let partial = u.len() - after;
                let restarted = restarts
                    && copies == 1
                    && len >= MIN_RESTARTED_RUN
                    && partial >= MIN_RESTARTED_RUN.max(len / 3)
                    && partial < len
                    && (0..partial).all(|k| {
                        let (again, first) = (&u[after + k].key, &u[start + k].key);
                        // The budget may stop it inside its last word.
                        again == first || (k + 1 == partial && first.starts_with(again.as_str()))
                    });
                if restarted {
                    return Some(Repeat {
                        run: len,
                        copies: 1,
                        cut: u[start].span.start..u[start].span.start,
                        tail: Some(u[after].span.start..text.len()),
                    });
                }
                continue;
            }
            let last = start + (copies - 1) * len;
            let after = start + copies * len;
            let partial = u.len() - after;
            let tail = (partial > 0
                && partial < len
                && (0..partial).all(|k| u[after + k].key == u[start + k].key))
            .then(|| u[after].span.start..text.len());
            return Some(Repeat {
                run: len,
                copies,
                cut: u[start].span.start..u[last].span.start,
                tail,
            });
        }
    }
    None
}

/// `text` with every loop cut to one copy.
pub fn collapse_loops(text: &str) -> String {
    let mut text = text.to_string();
    // Each pass removes one loop; a transcript holds few.
    for _ in 0..16 {
        let Some(r) = find_loop(&text) else { break };
        if let Some(t) = r.tail {
            text.truncate(t.start);
        }
        text.replace_range(r.cut, "");
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Comparable units (words, or CJK characters) in `text`.
#[cfg(test)]
fn unit_count(text: &str) -> usize {
    units(text).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_said_again_is_a_loop_and_collapses_to_one() {
        let t = "The horizon seems extremely distant. The horizon seems extremely distant. The horizon seems extremely distant.";
        let r = find_loop(t).unwrap();
        assert_eq!((r.run, r.copies, r.tail), (5, 3, None));
        assert_eq!(collapse_loops(t), "The horizon seems extremely distant.");
        // Stopped by the token budget in the middle of a copy.
        let t = "What joy there is in living. What joy there is in living. What joy";
        assert_eq!(find_loop(t).unwrap().copies, 2);
        assert_eq!(collapse_loops(t), "What joy there is in living.");
        let t = "and so my fellow Americans and so my fellow Americans, ask not";
        assert_eq!(collapse_loops(t), "and so my fellow Americans, ask not");
    }

    #[test]
    fn a_long_sentence_started_again_up_to_the_budget_is_cut() {
        let t = "If the reader will excuse me, I will say nothing of my antecedents, nor of the circumstances. If the reader will excuse me, I will say nothing of my antecedent";
        let r = find_loop(t).unwrap();
        assert_eq!(r.copies, 1);
        assert_eq!(
            collapse_loops(t),
            "If the reader will excuse me, I will say nothing of my antecedents, nor of the circumstances."
        );
        // A speaker going back to the start of a short phrase is speech.
        for t in [
            "I want to cancel, I want to",
            "can you hear me now can you hear me",
            "the birch canoe slid on the smooth planks the birch canoe",
        ] {
            assert_eq!(find_loop(t), None, "{t}");
        }
    }

    #[test]
    fn chinese_loops_are_found_character_by_character() {
        let t = "換一首歌換一首歌換一首歌";
        let r = find_loop(t).unwrap();
        assert_eq!((r.run, r.copies), (4, 3));
        assert_eq!(collapse_loops(t), "換一首歌");
        assert_eq!(collapse_loops("我要退款。我要退款。"), "我要退款。");
    }

    #[test]
    fn ordinary_repetition_in_speech_is_not_a_loop() {
        for t in [
            "no no no that's not what I asked",
            "thank you thank you so much",
            "I'm sorry, I'm sorry, I didn't catch that",
            "ask not what your country can do for you, ask what you can do for your country",
            "one zero zero zero one nine oh two one oh zero one eight zero three",
            "对对对，就是这个",
            "好的好的，谢谢谢谢",
            "",
        ] {
            assert_eq!(find_loop(t), None, "{t}");
            assert_eq!(
                collapse_loops(t),
                t.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
    }

    #[test]
    fn a_decode_so_far_loops_only_once_a_whole_copy_is_said_again() {
        // the word after the second copy has begun: the loop is there
        assert!(said_again_so_far(
            "At that high level, the air is pure. At that high level, the air is pure. At"
        ));
        // the last word may still grow ("pure" → "purely"): not yet
        assert!(!said_again_so_far(
            "At that high level, the air is pure. At that high level, the air is pure"
        ));
        // a long run merely started again is how speakers correct themselves
        assert!(!said_again_so_far(
            "please can you tell me what my balance is please can you tell me what"
        ));
        // speech that repeats itself is not a loop
        for t in [
            "no no no that's",
            "thank you thank you so",
            "I'm sorry, I'm sorry, I didn't",
            "对对对，就",
            "",
            "okay",
        ] {
            assert!(!said_again_so_far(t), "{t}");
        }
        assert!(said_again_so_far("換一首歌換一首歌換"));
        // whatever it finds, the finished text holds too
        let t = "and so my fellow Americans and so my fellow Americans and";
        assert!(said_again_so_far(t) && find_loop(t).is_some());
    }

    #[test]
    fn units_count_words_and_cjk_characters() {
        assert_eq!(unit_count("I want to cancel, 现在就注销 please"), 4 + 5 + 1);
        assert_eq!(unit_count(" ... "), 0);
    }

    #[test]
    fn many_copies_of_one_word_are_a_loop() {
        assert!(find_loop("no no no no no no no no").is_some());
        assert_eq!(collapse_loops("okay okay okay okay okay okay okay"), "okay");
    }
}
