//! Personal-data masking for transcripts, before any text leaves the engine.
//!
//! Owns the detection and rewriting of payment card numbers, Chinese resident
//! ID numbers, phone numbers, e-mail addresses and spoken digit runs in the
//! text Whisper writes from phone calls: English or simplified Mandarin, often
//! lowercase and unpunctuated, with numbers written as digits ("4532 0151 …"),
//! as words ("four five three two …", "幺三八 …") or a mix of both. Every
//! string that goes to a CRM, webhook, broker or log passes through
//! [`Masker::mask`] first.
//!
//! It must not change anything outside a detected span (the rest of the text
//! is kept byte for byte), must not keep or log the unmasked text, and must
//! never leave a detected span's full digit string in its output. It does not
//! decide *which* strings are masked: the call loop masks every final
//! transcript once, for the rules and the CRM connector alike, whether or
//! not a connector runs; the connector masks what it builds itself.
//!
//! How numbers are found: the text is cut into *units* (a written digit group,
//! a spoken digit word or Mandarin digit character, "double/triple X", a
//! trailing `X` check character); units joined by short separators (spaces,
//! hyphens, commas) form a *run*. A run whose digits make a card, ID or phone
//! number is masked as that kind; written digit groups are only joined by a
//! single space or hyphen, so no part of a longer written number is ever
//! masked as a card. A run with spoken words that is none of these is masked
//! as [`PiiKind::SpokenDigits`] when it is long enough.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// How a detected span is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskStyle {
    /// Keep what an agent may see: the last 4 card digits, the first 3 and
    /// last 4 of an ID or mobile number, the first letter of an e-mail.
    #[default]
    Partial,
    /// Replace each span with `[REDACTED]`.
    Redact,
    /// Replace each span with a tag naming its kind: `[CARD]`, `[CN_ID]`,
    /// `[PHONE]`, `[EMAIL]`, `[NUMBER]`.
    Tag,
}

/// A kind of personal data the masker detects, in priority order (a longer
/// span wins an overlap; between equally long spans the earlier kind wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// Payment card number: 13–19 digits passing the Luhn check.
    Card,
    /// Chinese resident ID number: 17 digits and a check character
    /// (see [`cn_id_valid`]).
    CnId,
    /// Chinese mobile number (optionally `+86`/`86`/`0086`) or a
    /// `+`-prefixed E.164 number.
    Phone,
    /// E-mail address, written (`a@b.com`) or spoken (`a at b dot com`).
    Email,
    /// Any other run of spoken digits at least
    /// [`PiiConfig::spoken_min_digits`] long.
    SpokenDigits,
}

impl PiiKind {
    fn tag(self) -> &'static str {
        match self {
            PiiKind::Card => "[CARD]",
            PiiKind::CnId => "[CN_ID]",
            PiiKind::Phone => "[PHONE]",
            PiiKind::Email => "[EMAIL]",
            PiiKind::SpokenDigits => "[NUMBER]",
        }
    }
}

/// Which detectors run and how their spans are rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiConfig {
    /// How detected spans are rewritten; default `partial`.
    pub style: MaskStyle,
    /// Which detectors run; default all five. Spoken digit words are only
    /// read when `spoken_digits` is listed; a spoken card, ID or phone number
    /// is then reported as its own kind when that kind is listed too.
    pub kinds: Vec<PiiKind>,
    /// A run of spoken digits this long that is not a card, ID or phone
    /// number is still masked (as `[NUMBER]`); default 6. Shorter runs ("the
    /// one I bought", "第一次") are left alone.
    pub spoken_min_digits: usize,
}

impl Default for PiiConfig {
    fn default() -> Self {
        Self {
            style: MaskStyle::Partial,
            kinds: vec![
                PiiKind::Card,
                PiiKind::CnId,
                PiiKind::Phone,
                PiiKind::Email,
                PiiKind::SpokenDigits,
            ],
            spoken_min_digits: 6,
        }
    }
}

/// The result of [`Masker::mask`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// The text with every detected span rewritten.
    pub text: String,
    /// One entry per masked span, in text order.
    pub found: Vec<PiiKind>,
}

/// Detects and masks personal data; build once from config and reuse.
#[derive(Debug, Clone)]
pub struct Masker {
    style: MaskStyle,
    enabled: [bool; 5],
    spoken_min_digits: usize,
    email: Regex,
    spoken_email: Regex,
}

/// Written addresses: `local@domain.tld`.
const EMAIL_PATTERN: &str = r"[A-Za-z0-9_.%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}";

/// Spoken addresses as Whisper writes them: "john dot smith at gmail dot com".
/// The `end` group is the character after the TLD word (or the end of text).
const SPOKEN_EMAIL_PATTERN: &str = r"(?i)(?P<local>[a-z0-9]+(?: +(?:dot|underscore) +[a-z0-9]+)*) +at +(?:[a-z0-9]+ +dot +)+(?:com|net|org|cn|co|uk|io|edu|gov|de|fr)(?P<end>[^a-z0-9]|$)";

/// One-word "local parts" that are ordinary speech ("I work at acme dot com").
const SPOKEN_EMAIL_STOPWORDS: &str = "am and are be contact email here her him is it mail me or \
    reach still that them there this us was were work works worked you";

impl Masker {
    /// Builds a masker from config; the patterns are compiled here, once.
    pub fn new(config: &PiiConfig) -> Self {
        let mut enabled = [false; 5];
        for kind in &config.kinds {
            enabled[*kind as usize] = true;
        }
        Self {
            style: config.style,
            enabled,
            spoken_min_digits: config.spoken_min_digits,
            // Constant patterns, checked by a unit test; never built from input.
            email: Regex::new(EMAIL_PATTERN).expect("constant e-mail pattern compiles"),
            spoken_email: Regex::new(SPOKEN_EMAIL_PATTERN)
                .expect("constant spoken e-mail pattern compiles"),
        }
    }

    /// Masks every enabled kind; returns the text and what was found.
    pub fn mask(&self, text: &str) -> Masked {
        let mut candidates = Vec::new();
        let email = PiiKind::Email as usize;
        let numeric = self
            .enabled
            .iter()
            .enumerate()
            .any(|(i, on)| *on && i != email);
        if numeric {
            let units = tokenize(text, self.on(PiiKind::SpokenDigits));
            for run in runs(text, &units) {
                self.evaluate(text, &units[run], &mut candidates);
            }
        }
        if self.on(PiiKind::Email) {
            self.emails(text, &mut candidates);
        }

        // Longest first, then by kind priority; keep those that fit.
        candidates.sort_by_key(|c| (std::cmp::Reverse(c.end - c.start), c.kind, c.start));
        let mut chosen: BTreeMap<usize, Candidate> = BTreeMap::new();
        for c in candidates {
            let overlaps = chosen
                .range(..c.end)
                .next_back()
                .is_some_and(|(_, prev)| prev.end > c.start);
            if !overlaps {
                chosen.insert(c.start, c);
            }
        }

        let mut out = String::with_capacity(text.len());
        let mut found = Vec::with_capacity(chosen.len());
        let mut pos = 0;
        for c in chosen.into_values() {
            out.push_str(&text[pos..c.start]);
            match self.style {
                MaskStyle::Partial => out.push_str(&c.partial),
                MaskStyle::Redact => out.push_str("[REDACTED]"),
                MaskStyle::Tag => out.push_str(c.kind.tag()),
            }
            found.push(c.kind);
            pos = c.end;
        }
        out.push_str(&text[pos..]);
        Masked { text: out, found }
    }

    fn on(&self, kind: PiiKind) -> bool {
        self.enabled[kind as usize]
    }

    /// Masks one run: as a whole if it is a card/ID/phone number, else its
    /// written groups that are, else (with spoken words) as spoken digits.
    fn evaluate(&self, text: &str, units: &[Unit], out: &mut Vec<Candidate>) {
        if units.is_empty() {
            return;
        }
        let spoken = units.iter().any(Unit::is_spoken);
        let segments = written_segments(text, units);
        let one_segment = segments.len() == 1 && segments[0] == (0..units.len());
        // Written groups only join loosely (", ") when no bare comma (a
        // thousands separator) sits between them.
        if spoken || one_segment || !bare_comma_between_written(text, units) {
            if let Some(c) = self.classify(text, units) {
                out.push(c);
                return;
            }
        }
        if !one_segment {
            let mut from = 0;
            for seg in &segments {
                if let Some(c) = self.classify(text, &units[seg.clone()]) {
                    self.evaluate(text, &units[from..seg.start], out);
                    out.push(c);
                    from = seg.end;
                }
            }
            if from > 0 {
                self.evaluate(text, &units[from..], out);
                return;
            }
        }
        // A stray spoken word at either end ("… five six seven eight one
        // more time") should not hide a phone or card number.
        let n = units.len();
        for (front, back) in [(0, 1), (1, 0), (1, 1)] {
            let trimmable =
                (front == 0 || units[0].is_spoken()) && (back == 0 || units[n - 1].is_spoken());
            if spoken && n > front + back && trimmable {
                if let Some(c) = self.classify(text, &units[front..n - back]) {
                    self.evaluate(text, &units[..front], out);
                    out.push(c);
                    self.evaluate(text, &units[n - back..], out);
                    return;
                }
            }
        }
        // Spoken digits: at least two of them must come from words, so a
        // written number next to "one" ("order 12345678 one of them") is not.
        let from_words: usize = units
            .iter()
            .filter(|u| u.is_spoken())
            .map(|u| u.symbols.len())
            .sum();
        let body = match units.split_last() {
            Some((x, body)) if x.kind == UnitKind::CheckX => body,
            _ => units,
        };
        let digits: usize = body.iter().map(|u| u.symbols.len()).sum();
        if from_words >= 2 && digits >= self.spoken_min_digits && self.on(PiiKind::SpokenDigits) {
            if let (Some(first), Some(last)) = (body.first(), body.last()) {
                let partial = "[NUMBER]".to_string();
                let kind = PiiKind::SpokenDigits;
                out.push(Candidate::new(first.start, last.end, kind, partial));
            }
        }
    }

    /// A card/ID/phone candidate covering `units` (less a trailing `X` that
    /// does not complete an ID), or `None`.
    fn classify(&self, text: &str, units: &[Unit]) -> Option<Candidate> {
        let last = units.last()?;
        let symbols: Vec<u8> = units.iter().flat_map(|u| u.symbols.clone()).collect();
        if last.kind == UnitKind::CheckX {
            if self.on(PiiKind::CnId) && cn_id_valid_bytes(&symbols) {
                return Some(candidate(text, units, &symbols, PiiKind::CnId, 3));
            }
            return self.classify(text, &units[..units.len() - 1]);
        }
        let (kind, head) = self.kind_of(&symbols, units[0].plus)?;
        Some(candidate(text, units, &symbols, kind, head))
    }

    /// What a digit string (`+`-prefixed or not) is, and how many of its
    /// leading digits `Partial` keeps.
    fn kind_of(&self, d: &[u8], plus: bool) -> Option<(PiiKind, usize)> {
        if let Some(head) = phone_head(d, plus).filter(|_| self.on(PiiKind::Phone)) {
            return Some((PiiKind::Phone, head));
        }
        if plus {
            return None;
        }
        if self.on(PiiKind::CnId) && cn_id_valid_bytes(d) {
            return Some((PiiKind::CnId, 3));
        }
        let values: Vec<u8> = d.iter().map(|b| b.wrapping_sub(b'0')).collect();
        let card = (13..=19).contains(&d.len()) && luhn_valid(&values);
        (card && self.on(PiiKind::Card)).then_some((PiiKind::Card, 0))
    }

    fn emails(&self, text: &str, out: &mut Vec<Candidate>) {
        for m in self.email.find_iter(text) {
            let s = m.as_str();
            if let (Some(first), Some(at)) = (s.chars().next(), s.find('@')) {
                let partial = format!("{first}***{}", &s[at..]);
                out.push(Candidate::new(m.start(), m.end(), PiiKind::Email, partial));
            }
        }
        for caps in self.spoken_email.captures_iter(text) {
            let (Some(local), Some(end)) = (caps.name("local"), caps.name("end")) else {
                continue;
            };
            let word = local.as_str();
            if SPOKEN_EMAIL_STOPWORDS
                .split_whitespace()
                .any(|w| w.eq_ignore_ascii_case(word))
            {
                continue;
            }
            if let Some(first) = word.chars().next() {
                let partial = format!("{first}***{}", &text[local.end()..end.start()]);
                let kind = PiiKind::Email;
                out.push(Candidate::new(local.start(), end.start(), kind, partial));
            }
        }
    }
}

/// Whether `digits` (values 0..=9) pass the Luhn check; false for fewer than
/// two digits or any value above 9.
pub fn luhn_valid(digits: &[u8]) -> bool {
    if digits.len() < 2 || digits.iter().any(|d| *d > 9) {
        return false;
    }
    const DOUBLED: [u8; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            u32::from(if i % 2 == 1 {
                DOUBLED[usize::from(*d)]
            } else {
                *d
            })
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether `id` is a well-formed Chinese resident ID number: 18 characters,
/// 17 digits and a check character (`0`-`9` or `X`/`x`) matching the ISO 7064
/// MOD 11-2 checksum, with a plausible birth date `YYYYMMDD` at characters
/// 7–14 (year 1900–2099, month 1–12, day 1–31).
pub fn cn_id_valid(id: &str) -> bool {
    cn_id_valid_bytes(id.as_bytes())
}

fn cn_id_valid_bytes(id: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if id.len() != 18 || !id[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        id[r]
            .iter()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'))
    };
    let (year, month, day) = (num(6..10), num(10..12), num(12..14));
    if !(1900..=2099).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let sum: u32 = id[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == id[17].to_ascii_uppercase()
}

/// Masks a phone number for display to a role with limited rights:
/// `"13812345678"` → `"138****5678"`, `"+86 138-1234-5678"` →
/// `"+86 138****5678"`, `"+44 7700 900123"` → `"+44******0123"` (`+`, the
/// first 2 digits, one `*` per hidden digit, the last 4). Input that is not a
/// phone number has every digit but the last 4 replaced by `*`.
pub fn mask_phone_for_view(phone: &str) -> String {
    let compact: String = phone
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{3000}'))
        .collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    let d = digits.as_bytes();
    let n = d.len();
    if let Some(head) = phone_head(d, plus).filter(|_| d.iter().all(u8::is_ascii_digit)) {
        let mut out = String::from(if plus { "+" } else { "" });
        for (i, c) in digits.char_indices() {
            if i > 0 && i + 11 == n && head == i + 3 {
                out.push(' '); // after a Chinese mobile number's 86 / 0086 prefix
            }
            out.push(if i < head || i + 4 >= n { c } else { '*' });
        }
        return out;
    }
    let total = phone.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    phone
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen + 4 <= total {
                    return '*';
                }
            }
            c
        })
        .collect()
}

/// A detected span: byte range, kind, and its `Partial` rewrite.
#[derive(Debug, Clone)]
struct Candidate {
    start: usize,
    end: usize,
    kind: PiiKind,
    partial: String,
}

impl Candidate {
    fn new(start: usize, end: usize, kind: PiiKind, partial: String) -> Self {
        Self {
            start,
            end,
            kind,
            partial,
        }
    }
}

/// Builds a card/ID/phone candidate over `units`; `head` symbols and the last
/// 4 are kept in `Partial` style, the rest become `*`. Written-only spans are
/// masked in place (separators and `+` kept); spans with spoken words become
/// the masked digit string.
fn candidate(text: &str, units: &[Unit], symbols: &[u8], kind: PiiKind, head: usize) -> Candidate {
    let n = symbols.len();
    let keep = |i: usize| i < head || i + 4 >= n;
    let start = units.first().map_or(0, |u| u.start);
    let end = units.last().map_or(start, |u| u.end);
    let mut partial = String::with_capacity(end - start);
    if !units.iter().any(Unit::is_spoken) {
        let mut i = 0;
        for ch in text[start..end].chars() {
            if ch.is_ascii_digit() || ch == 'X' || ch == 'x' {
                partial.push(if keep(i) { ch } else { '*' });
                i += 1;
            } else {
                partial.push(ch);
            }
        }
    } else {
        if units[0].plus {
            partial.push('+');
        }
        partial.extend(
            symbols
                .iter()
                .enumerate()
                .map(|(i, b)| if keep(i) { char::from(*b) } else { '*' }),
        );
    }
    Candidate::new(start, end, kind, partial)
}

/// How many leading digits of a phone number `Partial` keeps (the first 3 of
/// a Chinese mobile number after any `86` prefix, else 2 after the `+`), or
/// `None` when `d` is not a phone number.
fn phone_head(d: &[u8], plus: bool) -> Option<usize> {
    let n = d.len();
    if !plus {
        cn_mobile_prefix(d).map(|p| p + 3)
    } else if n == 13 && d.starts_with(b"86") && is_cn_mobile(&d[2..]) {
        Some(5)
    } else {
        ((8..=15).contains(&n) && d[0] != b'0').then_some(2)
    }
}

/// Number of prefix digits (0, 2 for `86`, 4 for `0086`) before a Chinese
/// mobile number that makes up all of `d`.
fn cn_mobile_prefix(d: &[u8]) -> Option<usize> {
    [(0, &b""[..]), (2, &b"86"[..]), (4, &b"0086"[..])]
        .into_iter()
        .find(|(p, prefix)| d.len() == p + 11 && d.starts_with(prefix) && is_cn_mobile(&d[*p..]))
        .map(|(p, _)| p)
}

fn is_cn_mobile(d: &[u8]) -> bool {
    d.len() == 11
        && d[0] == b'1'
        && (b'3'..=b'9').contains(&d[1])
        && d.iter().all(u8::is_ascii_digit)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitKind {
    /// ASCII digits, possibly led by `+`.
    Written,
    /// A spoken digit word, Mandarin digit, or "double/triple X".
    Spoken,
    /// "oh": a zero inside a run, never the start of one.
    Oh,
    /// A lone `X`/`x`: an ID check character, only ever the end of a run.
    CheckX,
}

/// One piece of a number: its byte range and the symbols (`b'0'..=b'9'`,
/// `b'X'`) it stands for.
#[derive(Debug, Clone)]
struct Unit {
    start: usize,
    end: usize,
    kind: UnitKind,
    plus: bool,
    symbols: Vec<u8>,
}

impl Unit {
    fn new(start: usize, end: usize, kind: UnitKind, symbols: Vec<u8>) -> Self {
        let plus = false;
        Self {
            start,
            end,
            kind,
            plus,
            symbols,
        }
    }

    /// Spoken words (including "oh" inside a run) are replaced whole, never
    /// masked in place.
    fn is_spoken(&self) -> bool {
        matches!(self.kind, UnitKind::Spoken | UnitKind::Oh)
    }
}

enum Word {
    Digit(u8),
    Oh,
    Repeat(usize),
}

fn english_word(word: &str) -> Option<Word> {
    const DIGITS: &str = "zero one two three four five six seven eight nine";
    match word.to_ascii_lowercase().as_str() {
        "oh" => Some(Word::Oh),
        "double" => Some(Word::Repeat(2)),
        "triple" => Some(Word::Repeat(3)),
        w => DIGITS
            .split(' ')
            .position(|d| d == w)
            .map(|d| Word::Digit(b'0' + d as u8)),
    }
}

fn mandarin_digit(c: char) -> Option<u8> {
    let d = match c {
        '〇' => 0,
        '幺' => 1,
        '两' => 2,
        _ => "零一二三四五六七八九".chars().position(|m| m == c)?,
    };
    Some(b'0' + d as u8)
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '-' | ',' | '，' | '、' | '\u{3000}')
}

/// Whether two units separated by `gap` belong to the same run.
fn loose_gap(gap: &str) -> bool {
    gap.chars().count() <= 3 && gap.chars().all(is_separator)
}

/// Whether two written units separated by `gap` form one written number.
fn strict_gap(gap: &str) -> bool {
    gap.is_empty() || gap == " " || gap == "-"
}

/// Cuts `text` into number units. Spoken words and Mandarin digits are only
/// read when `spoken` is set. Decimals, versions and IP addresses
/// (`3.14`, `192.168.1.1`) are skipped whole.
fn tokenize(text: &str, spoken: bool) -> Vec<Unit> {
    let bytes = text.as_bytes();
    let mut units: Vec<Unit> = Vec::new();
    let mut repeat: Option<(usize, usize, usize)> = None; // (start, end, times)
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next_is_digit = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        let prev_alnum = i > 0 && bytes[i - 1].is_ascii_alphanumeric();
        if b.is_ascii_digit() || (b == b'+' && next_is_digit && !prev_alnum) {
            let start = i;
            let plus = b == b'+';
            if plus {
                i += 1;
            }
            let mut dotted = false;
            while i < bytes.len() {
                if bytes[i].is_ascii_digit() {
                    i += 1;
                } else if bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    dotted = true;
                    i += 1;
                } else {
                    break;
                }
            }
            if !dotted {
                let symbols = text[start..i].bytes().filter(u8::is_ascii_digit).collect();
                let written = Unit::new(start, i, UnitKind::Written, symbols);
                units.push(Unit { plus, ..written });
            }
            repeat = None;
        } else if b.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word = &text[start..i];
            let pending = repeat.take();
            if word.eq_ignore_ascii_case("x") {
                units.push(Unit::new(start, i, UnitKind::CheckX, vec![b'X']));
                continue;
            }
            if !spoken {
                continue;
            }
            let (kind, symbol) = match english_word(word) {
                Some(Word::Digit(d)) => (UnitKind::Spoken, d),
                Some(Word::Oh) => (UnitKind::Oh, b'0'),
                Some(Word::Repeat(n)) => {
                    repeat = Some((start, i, n));
                    continue;
                }
                None => continue,
            };
            units.push(match pending {
                Some((rs, re, n)) if loose_gap(&text[re..start]) => {
                    Unit::new(rs, i, UnitKind::Spoken, vec![symbol; n])
                }
                _ => Unit::new(start, i, kind, vec![symbol]),
            });
        } else {
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            if spoken {
                if let Some(d) = mandarin_digit(c) {
                    units.push(Unit::new(i, i + c.len_utf8(), UnitKind::Spoken, vec![d]));
                    repeat = None;
                }
            }
            i += c.len_utf8();
        }
    }
    units
}

/// Groups units into runs (ranges of `units`). A `+` number only starts a
/// run, an `X` only ends one, "oh" never starts one.
fn runs(text: &str, units: &[Unit]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, u) in units.iter().enumerate() {
        if start.is_some() {
            let prev = &units[i - 1];
            if !u.plus && prev.kind != UnitKind::CheckX && loose_gap(&text[prev.end..u.start]) {
                continue;
            }
        }
        if let Some(s) = start.take() {
            out.push(s..i);
        }
        if !matches!(u.kind, UnitKind::Oh | UnitKind::CheckX) {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(s..units.len());
    }
    out
}

/// The written numbers inside a run: maximal ranges of written units joined
/// by a single space or hyphen, with a directly following `X`.
fn written_segments(text: &str, units: &[Unit]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < units.len() {
        if units[i].kind != UnitKind::Written {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < units.len()
            && matches!(units[i].kind, UnitKind::Written | UnitKind::CheckX)
            && !units[i].plus
            && strict_gap(&text[units[i - 1].end..units[i].start])
        {
            i += 1;
            if units[i - 1].kind == UnitKind::CheckX {
                break;
            }
        }
        out.push(start..i);
    }
    out
}

/// Whether two written units in the run are joined by a bare comma ("1,299").
fn bare_comma_between_written(text: &str, units: &[Unit]) -> bool {
    units.windows(2).any(|w| {
        w[0].kind == UnitKind::Written
            && w[1].kind == UnitKind::Written
            && &text[w[0].end..w[1].start] == ","
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CARD: &str = "4532015112830366";
    const ID: &str = "11010519491231002X";

    fn masker(style: MaskStyle) -> Masker {
        Masker::new(&PiiConfig {
            style,
            ..PiiConfig::default()
        })
    }

    fn partial(text: &str) -> Masked {
        masker(MaskStyle::Partial).mask(text)
    }

    fn unchanged(text: &str) {
        let m = partial(text);
        assert_eq!(m.text, text, "changed: {text:?}");
        assert!(m.found.is_empty(), "found {:?} in {text:?}", m.found);
    }

    #[test]
    fn patterns_compile_and_config_defaults() {
        let m = Masker::new(&PiiConfig::default());
        assert_eq!(m.enabled, [true; 5]);
        let c: PiiConfig = serde_json::from_str("{}").expect("empty config");
        assert_eq!(c, PiiConfig::default());
        let c: PiiConfig = serde_json::from_str(
            r#"{"style":"tag","kinds":["card","cn_id"],"spoken_min_digits":8}"#,
        )
        .expect("config");
        assert_eq!(c.style, MaskStyle::Tag);
        assert_eq!(c.kinds, vec![PiiKind::Card, PiiKind::CnId]);
        assert!(serde_json::from_str::<PiiConfig>(r#"{"stlye":"tag"}"#).is_err());
        assert_eq!(
            serde_json::to_string(&PiiKind::SpokenDigits).expect("json"),
            r#""spoken_digits""#
        );
    }

    #[test]
    fn luhn() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<_>>();
        assert!(luhn_valid(&digits(CARD)));
        assert!(luhn_valid(&digits("378282246310005")));
        assert!(!luhn_valid(&digits("4532015112830367")));
        assert!(!luhn_valid(&[0]));
        assert!(!luhn_valid(&[]));
        assert!(!luhn_valid(&[1, 10, 8]));
    }

    #[test]
    fn cn_id() {
        assert!(cn_id_valid(ID));
        assert!(cn_id_valid("11010519491231002x"));
        assert!(cn_id_valid("310115198511204566"));
        assert!(!cn_id_valid("110105194912310021"), "wrong check char");
        assert!(!cn_id_valid("110105194913310020"), "month 13");
        assert!(!cn_id_valid("110105180012310020"), "year 1800");
        assert!(!cn_id_valid("11010519491231002"), "17 chars");
        assert!(!cn_id_valid("1101051949123100X2"));
        assert!(!cn_id_valid("一一〇一〇五一九四九一二三一〇〇二X"));
    }

    #[test]
    fn written_cards_in_every_form() {
        for (text, want) in [
            (
                "my card number is 4532015112830366 thanks",
                "my card number is ************0366 thanks",
            ),
            (
                "it's 4532 0151 1283 0366 expiry 04 27",
                "it's **** **** **** 0366 expiry 04 27",
            ),
            ("4532-0151-1283-0366", "****-****-****-0366"),
            (
                "um 4 5 3 2 0 1 5 1 1 2 8 3 0 3 6 6 ok",
                "um * * * * * * * * * * * * 0 3 6 6 ok",
            ),
            ("amex 3782 822463 10005.", "amex **** ****** *0005."),
            ("卡号是4532015112830366对吧", "卡号是************0366对吧"),
        ] {
            let m = partial(text);
            assert_eq!(m.text, want);
            assert_eq!(m.found, vec![PiiKind::Card]);
        }
        assert_eq!(
            masker(MaskStyle::Redact)
                .mask("card 4532 0151 1283 0366 ok")
                .text,
            "card [REDACTED] ok"
        );
        assert_eq!(
            masker(MaskStyle::Tag)
                .mask("card 4532 0151 1283 0366 ok")
                .text,
            "card [CARD] ok"
        );
    }

    #[test]
    fn numbers_that_are_not_cards() {
        unchanged("order number 12345678 shipped in 2024");
        unchanged("the card 4532015112830367 was declined"); // fails Luhn
        unchanged("it costs $1,299.99 or 1,234,567,890,123 points");
        unchanged("on 2024-05-12 at 10:30 and 3.14159265358979");
        unchanged("ref 45320151128303660000 please"); // 20 digits: never part of it
        unchanged("ref 4532 0151 1283 0366 7 please"); // longer separated run
        unchanged("the one i bought came on the 3rd");
        unchanged("我第一次打电话，一个订单，两个问题，价格是一百二十元");
        unchanged("ip 192.168.1.100 version 1.2.3");
        // Separated from other numbers by more than a single space: still a card.
        let m = partial("cards 4532 0151 1283 0366, 4111 1111 1111 1111");
        assert_eq!(m.text, "cards **** **** **** 0366, **** **** **** 1111");
        assert_eq!(m.found, vec![PiiKind::Card, PiiKind::Card]);
    }

    #[test]
    fn cn_ids() {
        let m = partial("我的身份证号是11010519491231002X谢谢");
        assert_eq!(m.text, "我的身份证号是110***********002X谢谢");
        assert_eq!(m.found, vec![PiiKind::CnId]);
        assert_eq!(
            partial("id 110105 19491231 002X ok").text,
            "id 110*** ******** 002X ok"
        );
        assert_eq!(
            partial("id 310115198511204566").text,
            "id 310***********4566"
        );
        assert_eq!(
            masker(MaskStyle::Tag).mask("id 11010519491231002x.").text,
            "id [CN_ID]."
        );
        unchanged("id 110105194912310021 ok"); // wrong check char, and fails Luhn
        unchanged("id 11010519491231002Y ok");
    }

    #[test]
    fn phones() {
        for (text, want) in [
            (
                "call me on 13812345678 tomorrow",
                "call me on 138****5678 tomorrow",
            ),
            ("电话是138 1234 5678。", "电话是138 **** 5678。"),
            ("+86 138-1234-5678", "+86 138-****-5678"),
            ("0086 13812345678", "0086 138****5678"),
            ("8613812345678", "86138****5678"),
            (
                "uk number +44 7700 900123 ok",
                "uk number +44 **** **0123 ok",
            ),
            ("us +1 415 555 2671", "us +1 4** *** 2671"),
        ] {
            let m = partial(text);
            assert_eq!(m.text, want, "{text}");
            assert_eq!(m.found, vec![PiiKind::Phone], "{text}");
        }
        assert_eq!(
            masker(MaskStyle::Tag).mask("ring 13812345678").text,
            "ring [PHONE]"
        );
        unchanged("number 138123456789 is too long");
        unchanged("number 12812345678 is not a mobile");
        unchanged("2+2 is 4 and +1234 is short");
    }

    #[test]
    fn emails() {
        let m = partial("email me at John.Smith@example.co.uk or 13812345678@163.com");
        assert_eq!(m.text, "email me at J***@example.co.uk or 1***@163.com");
        assert_eq!(m.found, vec![PiiKind::Email, PiiKind::Email]);
        assert_eq!(
            partial("我的邮箱是li_na@qq.com。").text,
            "我的邮箱是l***@qq.com。"
        );
        let m = partial("it's john dot smith at gmail dot com thanks");
        assert_eq!(m.text, "it's j*** at gmail dot com thanks");
        assert_eq!(m.found, vec![PiiKind::Email]);
        assert_eq!(
            partial("Mary underscore Lee at Company dot co dot uk.").text,
            "M*** at Company dot co dot uk."
        );
        assert_eq!(masker(MaskStyle::Redact).mask("a@b.io").text, "[REDACTED]");
        assert_eq!(
            masker(MaskStyle::Tag).mask("x john at acme dot org").text,
            "x [EMAIL]"
        );
        unchanged("i work at acme dot com and i'm at home");
        unchanged("meet me at the office dot community hall");
        unchanged("look at this dot it's at the top");
    }

    #[test]
    fn spoken_english_numbers() {
        let m = partial("my card is four five three two zero one five one one two eight three zero three six six ok");
        assert_eq!(m.text, "my card is ************0366 ok");
        assert_eq!(m.found, vec![PiiKind::Card]);
        let m = partial("number is one three eight, one two three four, five six seven eight");
        assert_eq!(m.text, "number is 138****5678");
        assert_eq!(m.found, vec![PiiKind::Phone]);
        let m = partial("it's one triple three double oh four five six seven eight");
        assert_eq!(m.text, "it's 133****5678"); // 1 333 00 45678 ... = 13330045678
        let m = partial("Account Two Four Six Eight Oh One Three please");
        assert_eq!(m.text, "Account [NUMBER] please");
        assert_eq!(m.found, vec![PiiKind::SpokenDigits]);
        assert_eq!(
            masker(MaskStyle::Tag)
                .mask("pin is one two three four five six")
                .text,
            "pin is [NUMBER]"
        );
        unchanged("oh one more thing, the one i bought, two or three of them");
        unchanged("double check the five items");
        unchanged("order 12345678 one of them broke");
        let m = partial(
            "my number is one three eight one two three four five six seven eight one more time",
        );
        assert_eq!(m.text, "my number is 138****5678 one more time");
        assert_eq!(m.found, vec![PiiKind::Phone]);
        // Mixed words and digits form one run.
        let m = partial("four five 3 2 0151 1283 zero three six six");
        assert_eq!(m.text, "************0366");
        assert_eq!(m.found, vec![PiiKind::Card]);
        // A written card next to spoken words is still a card.
        let m = partial("card 4532 0151 1283 0366, one two three four five six seven");
        assert_eq!(m.text, "card **** **** **** 0366, [NUMBER]");
        assert_eq!(m.found, vec![PiiKind::Card, PiiKind::SpokenDigits]);
    }

    #[test]
    fn spoken_mandarin_numbers() {
        for text in [
            "我的手机是一三八 一二三四 五六七八谢谢",
            "我的手机是幺三八幺二三四五六七八谢谢",
            "我的手机是一三八，一二三四，五六七八谢谢",
        ] {
            let m = partial(text);
            assert_eq!(m.text, "我的手机是138****5678谢谢", "{text}");
            assert_eq!(m.found, vec![PiiKind::Phone]);
        }
        let m = partial("身份证一一〇一〇五一九四九一二三一〇〇二X");
        assert_eq!(m.text, "身份证110***********002X");
        assert_eq!(m.found, vec![PiiKind::CnId]);
        let m = masker(MaskStyle::Tag).mask("订单号是五五六六七七八八，好的");
        assert_eq!(m.text, "订单号是[NUMBER]，好的");
        unchanged("第一次来，买了两三个，一共五六百块");
    }

    #[test]
    fn config_limits_detectors() {
        let cfg = PiiConfig {
            kinds: vec![PiiKind::Email],
            ..PiiConfig::default()
        };
        let m = Masker::new(&cfg)
            .mask("card 4532015112830366 mail a@b.com one two three four five six");
        assert_eq!(
            m.text,
            "card 4532015112830366 mail a***@b.com one two three four five six"
        );
        let cfg = PiiConfig {
            kinds: vec![PiiKind::Card],
            ..PiiConfig::default()
        };
        let m = Masker::new(&cfg).mask("13812345678 and four five three two zero one five one one two eight three zero three six six");
        assert_eq!(
            m.found,
            Vec::<PiiKind>::new(),
            "spoken words are read only with spoken_digits"
        );
        let cfg = PiiConfig {
            spoken_min_digits: 3,
            ..PiiConfig::default()
        };
        assert_eq!(
            Masker::new(&cfg).mask("room one two three").text,
            "room [NUMBER]"
        );
        let cfg = PiiConfig {
            kinds: vec![PiiKind::SpokenDigits],
            ..PiiConfig::default()
        };
        let m = Masker::new(&cfg).mask("one three eight one two three four five six seven eight");
        assert_eq!(
            m.found,
            vec![PiiKind::SpokenDigits],
            "phone detector off: still masked as digits"
        );
    }

    #[test]
    fn many_spans_in_order_and_text_kept() {
        let text = "你好 card 4532015112830366，电话 13812345678, mail a.b@c.cn — 好的 😀";
        let m = partial(text);
        assert_eq!(
            m.text,
            "你好 card ************0366，电话 138****5678, mail a***@c.cn — 好的 😀"
        );
        assert_eq!(m.found, vec![PiiKind::Card, PiiKind::Phone, PiiKind::Email]);
    }

    #[test]
    fn view_masking() {
        assert_eq!(mask_phone_for_view("13812345678"), "138****5678");
        assert_eq!(
            mask_phone_for_view(" +86 138-1234-5678 "),
            "+86 138****5678"
        );
        assert_eq!(mask_phone_for_view("+44 7700 900123"), "+44******0123");
        assert_eq!(mask_phone_for_view("+1 (415) 555-2671"), "+14*****2671");
        assert_eq!(mask_phone_for_view("ext 12345"), "ext *2345");
        assert_eq!(mask_phone_for_view("123"), "123");
        assert_eq!(mask_phone_for_view("电话"), "电话");
    }

    // ---- property tests ----

    fn word() -> impl Strategy<Value = String> {
        "[a-z]{2,8}".prop_filter("not a number word", |w| {
            english_word(w).is_none() && !matches!(w.as_str(), "at" | "dot" | "underscore")
        })
    }

    fn card_body() -> impl Strategy<Value = Vec<u8>> {
        let prefix = prop_oneof![
            Just(vec![4]),
            (1u8..=5).prop_map(|d| vec![5, d]),
            Just(vec![3, 4]),
            Just(vec![3, 7]),
            Just(vec![6, 2]),
        ];
        (prefix, 13usize..=19, proptest::collection::vec(0u8..=9, 19)).prop_map(
            |(mut d, len, fill)| {
                d.extend_from_slice(&fill[..len - 1 - d.len()]);
                d
            },
        )
    }

    fn with_check(mut body: Vec<u8>) -> Vec<u8> {
        let check = (0..=9).find(|c| {
            let mut v = body.clone();
            v.push(*c);
            luhn_valid(&v)
        });
        body.push(check.unwrap_or(0));
        body
    }

    fn digits_str(d: &[u8]) -> String {
        d.iter().map(|v| char::from(b'0' + v)).collect()
    }

    /// Joins digits with a separator ("", " ", "-") chosen per gap.
    fn separated(d: &str, seps: &[u8]) -> String {
        let mut out = String::new();
        for (i, c) in d.chars().enumerate() {
            if i > 0 {
                out.push_str(["", "", " ", "-"][usize::from(seps[i % seps.len()] % 4)]);
            }
            out.push(c);
        }
        out
    }

    fn cn_ids_any() -> impl Strategy<Value = String> {
        (
            0u32..1_000_000,
            1900u32..=2099,
            1u32..=12,
            1u32..=28,
            0u32..1000,
        )
            .prop_map(|(region, y, m, d, seq)| {
                let body = format!("{region:06}{y:04}{m:02}{d:02}{seq:03}");
                let check = (0..11u8)
                    .map(|i| if i == 10 { 'X' } else { char::from(b'0' + i) })
                    .find(|c| cn_id_valid(&format!("{body}{c}")));
                format!("{body}{}", check.unwrap_or('?'))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn valid_cards_are_masked(body in card_body(), seps in proptest::collection::vec(0u8..4, 1..20),
                                  before in word(), after in word()) {
            let number = digits_str(&with_check(body));
            prop_assume!(!cn_id_valid(&number));
            let text = format!("{before} {} {after}", separated(&number, &seps));
            let m = partial(&text);
            let flat = m.text.replace([' ', '-'], "");
            prop_assert!(!flat.contains(&number), "{text} -> {}", m.text);
            prop_assert!(m.found.contains(&PiiKind::Card), "{text} -> {:?}", m.found);
            prop_assert!(flat.contains(&number[number.len() - 4..]));
            let tagged = masker(MaskStyle::Tag).mask(&text);
            prop_assert!(!tagged.text.replace([' ', '-'], "").contains(&number));
        }

        #[test]
        fn invalid_cards_are_not_cards(body in card_body(), before in word(), after in word()) {
            let mut d = with_check(body);
            let last = d.len() - 1;
            d[last] = (d[last] + 1) % 10;
            let text = format!("{before} {} {after}", digits_str(&d));
            prop_assert!(!partial(&text).found.contains(&PiiKind::Card));
        }

        #[test]
        fn cn_ids_are_masked(id in cn_ids_any(), spaced in any::<bool>(), wrong in 1u8..11, before in word()) {
            let shown = if spaced { format!("{} {} {}", &id[..6], &id[6..14], &id[14..]) } else { id.clone() };
            let m = partial(&format!("{before} {shown} 谢谢"));
            prop_assert_eq!(&m.found, &vec![PiiKind::CnId]);
            prop_assert!(!m.text.replace(' ', "").contains(&id));
            let chars = b"0123456789X";
            let pos = chars.iter().position(|c| *c == id.as_bytes()[17]).unwrap_or(0);
            let bad = format!("{}{}", &id[..17], char::from(chars[(pos + usize::from(wrong)) % 11]));
            let m = partial(&format!("{before} {bad} ok"));
            prop_assert!(!m.found.contains(&PiiKind::CnId), "{bad}");
        }

        #[test]
        fn cn_mobiles_are_masked(second in 3u8..=9, rest in proptest::collection::vec(0u8..=9, 9),
                                 prefix in prop_oneof![Just(""), Just("+86 "), Just("86"), Just("0086 ")],
                                 seps in proptest::collection::vec(0u8..4, 1..12), before in word()) {
            let mut d = vec![1, second];
            d.extend(rest);
            let number = digits_str(&d);
            let text = format!("{before} {prefix}{} 好", separated(&number, &seps));
            let m = partial(&text);
            prop_assert_eq!(&m.found, &vec![PiiKind::Phone], "{}", text);
            prop_assert!(!m.text.replace([' ', '-'], "").contains(&number));
        }

        #[test]
        fn never_panics_and_leaves_plain_text(text in "\\PC{0,80}", plain in "[a-zA-Z .,!?'你好谢的是我\\-]{0,80}") {
            let _ = partial(&text);
            let _ = masker(MaskStyle::Tag).mask(&text);
            let has_number_word = plain
                .split(|c: char| !c.is_ascii_alphabetic())
                .any(|w| english_word(w).is_some() || w.eq_ignore_ascii_case("at") || w.eq_ignore_ascii_case("x"));
            if !has_number_word {
                prop_assert_eq!(partial(&plain).text, plain);
            }
        }
    }
}
