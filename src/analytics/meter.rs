//! The live conversation measures of one call: talk and non-talk time,
//! overtalk and interruptions, talk speed, loudness and their change
//! against the speaker's start of call, and the smoothed sentiment trend.
//!
//! Owns: the call's timeline (final turns, speech still being transcribed,
//! speech in progress) and computing [`CallMetrics`] from it. Everything is
//! recomputed from the timeline on each snapshot (a few microseconds for a
//! long call), so finals that arrive out of order change nothing.
//! Must not: touch audio or run models — turns arrive already transcribed,
//! classified and measured (their speech level comes from the front end).

use std::collections::BTreeMap;

use super::AnalyticsConfig;
use crate::audio::Progress;
use crate::classify::weight::{is_backchannel, sentiment_weight, spoken_words};
use crate::proto::{
    CallMetrics, RoleMetrics, SentimentDirection, SpeakerRole, TurnPoint, UtteranceResult,
};

/// Longest turn the front end emits (`audio.max_utterance_ms` is at most
/// 30 s): how far back an interrupted turn can have started.
const MAX_TURN_MS: u32 = 30_000;
/// Scored turns over which the trend's direction is read.
const DIRECTION_TURNS: usize = 3;
/// Speech levels under this are "no level" (digital silence).
const NO_LEVEL_DBFS: f32 = -100.0;
/// Sentiment scores (−1…1) are shown on Contact Lens's −5…+5 scale.
const SCALE: f32 = 5.0;

/// One final turn, as the measures need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub seq: u32,
    pub channel: usize,
    pub start_ms: u32,
    pub end_ms: u32,
    pub words: u32,
    /// [`sentiment_weight`]: 0 for a back-channel.
    pub weight: f32,
    pub backchannel: bool,
    /// P(positive) − P(negative), −1…1; `None` when not classified.
    pub score: Option<f32>,
    /// Active speech level, dBFS.
    pub level_dbfs: f32,
}

impl Turn {
    /// The measures' view of a final result; `level_dbfs` from the front end.
    pub fn from_result(r: &UtteranceResult, level_dbfs: f32) -> Self {
        Self {
            seq: r.seq,
            channel: r.channel as usize,
            start_ms: r.start_ms,
            end_ms: r.end_ms.max(r.start_ms),
            words: spoken_words(&r.transcript),
            weight: sentiment_weight(&r.transcript),
            backchannel: is_backchannel(&r.transcript),
            score: r.sentiment.as_ref().map(|s| s.score),
            level_dbfs,
        }
    }

    fn ms(&self) -> u32 {
        self.end_ms - self.start_ms
    }
}

/// One call's timeline and measures.
pub struct ConversationMeter {
    cfg: AnalyticsConfig,
    call_id: String,
    roles: Vec<SpeakerRole>,
    position_ms: u32,
    speaking_since: Vec<Option<u32>>,
    /// Finals being transcribed: (channel, seq) → (start, end).
    pending: BTreeMap<(usize, u32), (u32, u32)>,
    /// Final turns per channel, by start.
    turns: Vec<Vec<Turn>>,
    changed: bool,
}

/// Per channel results of the trend pass.
struct Trend {
    /// The trend after each turn of the channel (by start), for points.
    after: Vec<f32>,
    value: f32,
    direction: SentimentDirection,
}

impl ConversationMeter {
    pub fn new(call_id: String, roles: Vec<SpeakerRole>, cfg: AnalyticsConfig) -> Self {
        let n = roles.len();
        Self {
            cfg,
            call_id,
            roles,
            position_ms: 0,
            speaking_since: vec![None; n],
            pending: BTreeMap::new(),
            turns: vec![Vec::new(); n],
            changed: false,
        }
    }

    /// The front end's position and who is speaking.
    pub fn progress(&mut self, p: &Progress) {
        let pos = p.position_ms.min(u64::from(u32::MAX)) as u32;
        if pos != self.position_ms || p.speaking_since_ms != self.speaking_since {
            self.changed = true;
        }
        self.position_ms = self.position_ms.max(pos);
        if p.speaking_since_ms.len() == self.speaking_since.len() {
            self.speaking_since.clone_from(&p.speaking_since_ms);
        }
    }

    /// A final utterance went to Whisper: its span counts as talk until
    /// [`Self::speech_done`] says what it was.
    pub fn speech_pending(&mut self, channel: usize, seq: u32, start_ms: u32, end_ms: u32) {
        if channel < self.turns.len() {
            self.pending
                .insert((channel, seq), (start_ms, end_ms.max(start_ms)));
            self.changed = true;
        }
    }

    /// A pending final was transcribed (`Some`) or rejected as no speech.
    pub fn speech_done(&mut self, channel: usize, seq: u32, turn: Option<Turn>) {
        self.pending.remove(&(channel, seq));
        self.changed = true;
        if let Some(t) = turn {
            self.add_turn(t);
        }
    }

    /// Adds a final turn directly (tests, replays).
    pub fn add_turn(&mut self, t: Turn) {
        let Some(list) = self.turns.get_mut(t.channel) else {
            return;
        };
        self.position_ms = self.position_ms.max(t.end_ms);
        let at = list.partition_point(|x| (x.start_ms, x.seq) <= (t.start_ms, t.seq));
        list.insert(at, t);
        self.changed = true;
    }

    /// Whether anything changed since the last call (then resets).
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    pub fn position_ms(&self) -> u32 {
        self.position_ms
    }

    /// Call time before which every turn is final: speech in progress and
    /// finals being transcribed hold it back.
    pub fn settled_ms(&self) -> u32 {
        let open = self.speaking_since.iter().flatten().copied();
        let pending = self.pending.values().map(|&(s, _)| s);
        open.chain(pending).fold(self.position_ms, u32::min)
    }

    /// Each channel's speech as merged intervals within `[0, position]`.
    fn speech(&self) -> Vec<Vec<(u32, u32)>> {
        let pos = self.position_ms;
        (0..self.turns.len())
            .map(|ch| {
                let mut v: Vec<(u32, u32)> = self.turns[ch]
                    .iter()
                    .map(|t| (t.start_ms, t.end_ms))
                    .chain(
                        self.pending
                            .range((ch, 0)..=(ch, u32::MAX))
                            .map(|(_, &span)| span),
                    )
                    .chain(self.speaking_since[ch].map(|s| (s, pos)))
                    .map(|(a, b)| (a.min(pos), b.min(pos)))
                    .filter(|(a, b)| b > a)
                    .collect();
                merge(&mut v);
                v
            })
            .collect()
    }

    /// Turns of `channel` that started inside another channel's turn, by at
    /// least `min_overtalk_ms` before it ended, and went on after it.
    fn interruptions(&self, channel: usize) -> u32 {
        let min = self.cfg.min_overtalk_ms;
        let mut n = 0;
        for b in self.turns[channel].iter().filter(|t| !t.backchannel) {
            let interrupted = self
                .turns
                .iter()
                .enumerate()
                .filter(|&(ch, _)| ch != channel)
                .any(|(_, other)| {
                    let upto = other.partition_point(|a| a.start_ms < b.start_ms);
                    other[..upto]
                        .iter()
                        .rev()
                        .take_while(|a| a.start_ms + MAX_TURN_MS >= b.start_ms)
                        .any(|a| {
                            !a.backchannel
                                && a.end_ms >= b.start_ms.saturating_add(min)
                                && b.end_ms > a.end_ms
                        })
                });
            n += u32::from(interrupted);
        }
        n
    }

    fn trend(&self, channel: usize) -> Trend {
        let (alpha, thr) = (self.cfg.trend_alpha, self.cfg.direction_threshold);
        let mut value: Option<f32> = None;
        let mut history = Vec::new();
        let mut after = Vec::with_capacity(self.turns[channel].len());
        for t in &self.turns[channel] {
            if let Some(score) = t.score.filter(|_| t.weight > 0.0) {
                let s = score * SCALE;
                let v = match value {
                    None => s,
                    Some(v) => v + alpha * t.weight * (s - v),
                };
                value = Some(v);
                history.push(v);
            }
            after.push(value.unwrap_or(0.0));
        }
        let direction = match history.len() {
            0 | 1 => SentimentDirection::Steady,
            n => {
                let d = history[n - 1] - history[n.saturating_sub(1 + DIRECTION_TURNS)];
                if d >= thr {
                    SentimentDirection::Improving
                } else if d <= -thr {
                    SentimentDirection::Declining
                } else {
                    SentimentDirection::Steady
                }
            }
        };
        Trend {
            after,
            value: value.unwrap_or(0.0),
            direction,
        }
    }

    /// The channel whose trend is the call's: the first customer channel,
    /// else the first of unknown role, else channel 0.
    fn customer_channel(&self) -> usize {
        let find = |r: SpeakerRole| self.roles.iter().position(|&x| x == r);
        find(SpeakerRole::Customer)
            .or_else(|| find(SpeakerRole::RoleUnknown))
            .unwrap_or(0)
    }

    /// The measures now, with at most `max_points` turn points.
    pub fn snapshot(&self, max_points: usize) -> CallMetrics {
        let pos = self.position_ms;
        let speech = self.speech();
        let (mut non_talk, mut longest, mut hold_count, mut hold_ms) = (0u32, 0u32, 0u32, 0u32);
        for (a, b) in gaps(&speech, pos) {
            let d = b - a;
            non_talk += d;
            longest = longest.max(d);
            if d >= self.cfg.hold_min_ms {
                hold_count += 1;
                hold_ms += d;
            }
        }
        let (mut overtalk_count, mut overtalk_ms) = (0u32, 0u32);
        for (a, b) in overlaps(&speech) {
            if b - a >= self.cfg.min_overtalk_ms.max(1) {
                overtalk_count += 1;
                overtalk_ms += b - a;
            }
        }
        let trends: Vec<Trend> = (0..self.turns.len()).map(|ch| self.trend(ch)).collect();
        let roles = (0..self.turns.len())
            .map(|ch| self.role_metrics(ch, &speech[ch], &trends[ch]))
            .collect();
        let cust = self.customer_channel();
        let mut points: Vec<TurnPoint> = self
            .turns
            .iter()
            .zip(&trends)
            .flat_map(|(list, trend)| list.iter().zip(&trend.after))
            .map(|(t, &trend)| TurnPoint {
                seq: t.seq,
                channel: t.channel as u32,
                role: self.role(t.channel) as i32,
                start_ms: t.start_ms,
                end_ms: t.end_ms,
                sentiment: t.score.map_or(0.0, |s| s * SCALE),
                trend,
                weight: t.weight,
                loudness_dbfs: t.level_dbfs,
                talk_speed_wpm: wpm(t.words, t.ms()),
            })
            .collect();
        points.sort_by_key(|p| (p.start_ms, p.channel, p.seq));
        let skip = points.len().saturating_sub(max_points);
        points.drain(..skip);
        CallMetrics {
            call_id: self.call_id.clone(),
            position_ms: pos,
            non_talk_ms: non_talk,
            longest_silence_ms: longest,
            hold_count,
            hold_ms,
            overtalk_count,
            overtalk_ms,
            roles,
            sentiment_trend: trends.get(cust).map_or(0.0, |t| t.value),
            sentiment_direction: trends
                .get(cust)
                .map_or(SentimentDirection::Steady, |t| t.direction)
                as i32,
            turns: points,
        }
    }

    fn role(&self, channel: usize) -> SpeakerRole {
        self.roles
            .get(channel)
            .copied()
            .unwrap_or(SpeakerRole::RoleUnknown)
    }

    fn role_metrics(&self, ch: usize, speech: &[(u32, u32)], trend: &Trend) -> RoleMetrics {
        let talk: u32 = speech.iter().map(|(a, b)| b - a).sum();
        let turns = &self.turns[ch];
        let words: u32 = turns.iter().map(|t| t.words).sum();
        let spoken: u32 = turns.iter().map(Turn::ms).sum();
        let sentences: Vec<&Turn> = turns.iter().filter(|t| !t.backchannel).collect();
        // Baseline: the first `baseline_ms` of sentences; recent: the last
        // `recent_ms` of the rest.
        let (mut base_end, mut acc) = (0, 0u32);
        while base_end < sentences.len() && acc < self.cfg.baseline_ms {
            acc += sentences[base_end].ms();
            base_end += 1;
        }
        let base_full = acc >= self.cfg.baseline_ms;
        let (mut recent_start, mut racc) = (sentences.len(), 0u32);
        while recent_start > base_end && racc < self.cfg.recent_ms {
            recent_start -= 1;
            racc += sentences[recent_start].ms();
        }
        let ready = base_full && racc >= self.cfg.recent_ms;
        let (speed_change, level_change) = if ready {
            let (base, recent) = (&sentences[..base_end], &sentences[recent_start..]);
            let (bw, rw) = (window_wpm(base), window_wpm(recent));
            let speed = if bw > 0.0 {
                (rw / bw - 1.0) * 100.0
            } else {
                0.0
            };
            let level = match (
                level_of(base.iter().copied()),
                level_of(recent.iter().copied()),
            ) {
                (Some(b), Some(r)) => r - b,
                _ => 0.0,
            };
            (speed, level)
        } else {
            (0.0, 0.0)
        };
        RoleMetrics {
            channel: ch as u32,
            role: self.role(ch) as i32,
            talk_ms: talk,
            talk_ratio: if self.position_ms == 0 {
                0.0
            } else {
                talk as f32 / self.position_ms as f32
            },
            interruptions: self.interruptions(ch),
            words,
            talk_speed_wpm: wpm(words, spoken),
            loudness_dbfs: level_of(turns.iter()).unwrap_or(-120.0),
            talk_speed_change_pct: speed_change,
            loudness_change_db: level_change,
            baseline_ready: ready,
            sentiment_trend: trend.value,
            sentiment_direction: trend.direction as i32,
        }
    }
}

fn wpm(words: u32, ms: u32) -> f32 {
    if ms == 0 {
        0.0
    } else {
        words as f32 * 60_000.0 / ms as f32
    }
}

fn window_wpm(turns: &[&Turn]) -> f32 {
    wpm(
        turns.iter().map(|t| t.words).sum(),
        turns.iter().map(|t| t.ms()).sum(),
    )
}

/// Duration-weighted mean speech level of turns that have one.
fn level_of<'a>(turns: impl Iterator<Item = &'a Turn>) -> Option<f32> {
    let (mut sum, mut ms) = (0f64, 0f64);
    for t in turns.filter(|t| t.level_dbfs > NO_LEVEL_DBFS && t.ms() > 0) {
        sum += f64::from(t.level_dbfs) * f64::from(t.ms());
        ms += f64::from(t.ms());
    }
    (ms > 0.0).then(|| (sum / ms) as f32)
}

/// Sorts and merges overlapping or touching intervals in place.
fn merge(v: &mut Vec<(u32, u32)>) {
    v.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(v.len());
    for &(a, b) in v.iter() {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    *v = out;
}

/// Stretches of `[0, position)` where no channel speaks.
fn gaps(speech: &[Vec<(u32, u32)>], position: u32) -> Vec<(u32, u32)> {
    let mut all: Vec<(u32, u32)> = speech.iter().flatten().copied().collect();
    merge(&mut all);
    let mut out = Vec::new();
    let mut at = 0;
    for (a, b) in all {
        if a > at {
            out.push((at, a));
        }
        at = at.max(b);
    }
    if position > at {
        out.push((at, position));
    }
    out
}

/// Stretches where two or more channels speak at once.
fn overlaps(speech: &[Vec<(u32, u32)>]) -> Vec<(u32, u32)> {
    // Ends sort before starts at the same moment: touching turns do not overlap.
    let mut edges: Vec<(u32, i32)> = speech
        .iter()
        .flatten()
        .flat_map(|&(a, b)| [(a, 1), (b, -1)])
        .collect();
    edges.sort_unstable();
    let (mut depth, mut since, mut out) = (0, 0, Vec::new());
    for (t, d) in edges {
        let before = depth;
        depth += d;
        if before < 2 && depth >= 2 {
            since = t;
        } else if before >= 2 && depth < 2 && t > since {
            out.push((since, t));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(channel: usize, seq: u32, start: u32, end: u32, text: &str, score: f32) -> Turn {
        let r = UtteranceResult {
            seq,
            channel: channel as u32,
            start_ms: start,
            end_ms: end,
            transcript: text.into(),
            is_final: true,
            sentiment: Some(crate::proto::Sentiment {
                score,
                ..Default::default()
            }),
            ..Default::default()
        };
        Turn::from_result(&r, -20.0)
    }

    fn meter() -> ConversationMeter {
        ConversationMeter::new(
            "c".into(),
            vec![SpeakerRole::Agent, SpeakerRole::Customer],
            AnalyticsConfig::default(),
        )
    }

    fn at(pos: u64, speaking: [Option<u32>; 2]) -> Progress {
        Progress {
            position_ms: pos,
            speaking_since_ms: speaking.to_vec(),
        }
    }

    const SENTENCE: &str = "I have been waiting for my refund for three weeks now";

    #[test]
    fn talk_non_talk_silences_and_holds_on_a_constructed_timeline() {
        let mut m = meter();
        // Agent 1–4 s, customer 4.5–9 s, 25 s of silence (a hold), agent 34–36 s.
        m.add_turn(turn(0, 1, 1000, 4000, SENTENCE, 0.0));
        m.add_turn(turn(1, 2, 4500, 9000, SENTENCE, 0.0));
        m.add_turn(turn(0, 3, 34_000, 36_000, SENTENCE, 0.0));
        m.progress(&at(40_000, [None, None]));
        let s = m.snapshot(64);
        assert_eq!(s.position_ms, 40_000);
        assert_eq!(s.roles[0].talk_ms, 5000);
        assert_eq!(s.roles[1].talk_ms, 4500);
        // Silence: 0–1, 4–4.5, 9–34, 36–40 s.
        assert_eq!(s.non_talk_ms, 1000 + 500 + 25_000 + 4000);
        assert_eq!(s.longest_silence_ms, 25_000);
        assert_eq!((s.hold_count, s.hold_ms), (1, 25_000));
        assert_eq!((s.overtalk_count, s.overtalk_ms), (0, 0));
        assert!((s.roles[0].talk_ratio - 0.125).abs() < 1e-6);
        assert_eq!(s.roles[0].interruptions + s.roles[1].interruptions, 0);
    }

    #[test]
    fn overtalk_and_who_interrupted_whom() {
        let mut m = meter();
        // Agent speaks 0–10 s; the customer cuts in at 8 s and goes on to 14 s:
        // 2 s overtalk, one interruption by the customer.
        m.add_turn(turn(0, 1, 0, 10_000, SENTENCE, 0.0));
        m.add_turn(turn(1, 2, 8000, 14_000, SENTENCE, -0.5));
        // An "uh-huh" inside the customer's turn: overtalk, but no interruption.
        m.add_turn(turn(0, 3, 11_000, 11_500, "Uh-huh.", 0.0));
        // The agent starts 100 ms before the customer stops (under
        // min_overtalk_ms): neither overtalk nor interruption.
        m.add_turn(turn(0, 4, 13_900, 18_000, SENTENCE, 0.0));
        // The customer starts inside the agent's turn but stops first: overtalk only.
        m.add_turn(turn(1, 5, 15_000, 16_000, SENTENCE, 0.0));
        let s = m.snapshot(64);
        assert_eq!(s.overtalk_count, 3, "{s:?}");
        assert_eq!(s.overtalk_ms, 2000 + 500 + 1000);
        assert_eq!(s.roles[0].interruptions, 0);
        assert_eq!(s.roles[1].interruptions, 1);
        // Talk never double counts a channel's own overlaps.
        assert_eq!(s.roles[0].talk_ms, 10_000 + 500 + 4100);
    }

    #[test]
    fn speech_in_progress_and_being_transcribed_counts_as_talk_and_holds_the_settled_point() {
        let mut m = meter();
        m.add_turn(turn(0, 1, 0, 2000, SENTENCE, 0.0));
        // The customer has been speaking since 5 s; the agent's 3–4 s turn is at Whisper.
        m.speech_pending(0, 2, 3000, 4000);
        m.progress(&at(9000, [None, Some(5000)]));
        let s = m.snapshot(64);
        assert_eq!(s.non_talk_ms, 1000 + 1000, "2–3 s and 4–5 s");
        assert_eq!(s.roles[1].talk_ms, 4000);
        assert_eq!(m.settled_ms(), 3000);
        // Whisper heard nothing in the agent's turn: it becomes silence.
        m.speech_done(0, 2, None);
        assert_eq!(m.snapshot(64).non_talk_ms, 3000);
        assert_eq!(m.settled_ms(), 5000);
        m.progress(&at(10_000, [None, None]));
        m.speech_pending(1, 3, 5000, 9500);
        m.speech_done(1, 3, Some(turn(1, 3, 5000, 9500, SENTENCE, 0.0)));
        assert_eq!(m.settled_ms(), 10_000);
        let s = m.snapshot(64);
        assert_eq!(s.non_talk_ms, 3000 + 500);
        assert!(m.take_changed());
        assert!(!m.take_changed());
    }

    #[test]
    fn talk_speed_loudness_and_their_change_against_the_start_of_call() {
        let cfg = AnalyticsConfig {
            baseline_ms: 6000,
            recent_ms: 6000,
            ..Default::default()
        };
        let mut m = ConversationMeter::new("c".into(), vec![SpeakerRole::Customer], cfg);
        // Baseline: 2 × 3 s turns of 6 words at −30 dBFS = 120 wpm.
        let six = "one two three four five six";
        let twelve = "one two three four five six seven eight nine ten eleven twelve";
        let t = |m: &mut ConversationMeter, seq: u32, start: u32, text: &str, level: f32| {
            let mut x = turn(0, seq, start, start + 3000, text, 0.0);
            x.level_dbfs = level;
            m.add_turn(x);
        };
        t(&mut m, 1, 0, six, -30.0);
        t(&mut m, 2, 4000, six, -30.0);
        t(&mut m, 3, 7500, "Okay.", -10.0); // back-channel: not in either window
        let s = m.snapshot(64);
        assert!(!s.roles[0].baseline_ready);
        assert_eq!(s.roles[0].talk_speed_change_pct, 0.0);
        // Then faster and louder: 2 × 3 s of 12 words at −24 dBFS = 240 wpm.
        t(&mut m, 4, 9000, twelve, -24.0);
        t(&mut m, 5, 13_000, twelve, -24.0);
        let s = m.snapshot(64);
        let r = &s.roles[0];
        assert!(r.baseline_ready);
        assert!((r.talk_speed_change_pct - 100.0).abs() < 0.01, "{r:?}");
        assert!((r.loudness_change_db - 6.0).abs() < 0.01, "{r:?}");
        assert_eq!(r.words, 6 + 6 + 1 + 12 + 12);
        assert!((r.talk_speed_wpm - 37.0 * 60_000.0 / 15_000.0).abs() < 0.01);
        // Duration-weighted: 6 s at −30, 3 s at −10, 6 s at −24.
        assert!((r.loudness_dbfs - (-30.0 * 6.0 - 10.0 * 3.0 - 24.0 * 6.0) / 15.0).abs() < 0.01);
    }

    #[test]
    fn sentiment_trend_is_smoothed_on_five_points_and_ignores_backchannels() {
        let mut m = meter();
        m.add_turn(turn(1, 1, 0, 2000, SENTENCE, 0.2)); // +1
        m.add_turn(turn(1, 2, 3000, 5000, SENTENCE, -0.8)); // −4
        let s = m.snapshot(64);
        // 1 + 0.4 × (−4 − 1) = −1
        assert!(
            (s.sentiment_trend + 1.0).abs() < 1e-5,
            "{}",
            s.sentiment_trend
        );
        assert_eq!(s.sentiment_direction, SentimentDirection::Declining as i32);
        // Back-channels (scored neutral by the classifier) change nothing.
        for (i, text) in ["Okay.", "嗯", "uh-huh"].into_iter().enumerate() {
            m.add_turn(turn(
                1,
                3 + i as u32,
                6000 + i as u32 * 1000,
                6500 + i as u32 * 1000,
                text,
                0.0,
            ));
        }
        let s2 = m.snapshot(64);
        assert_eq!(s2.sentiment_trend, s.sentiment_trend);
        // Agent turns are the agent's trend, not the customer's.
        m.add_turn(turn(0, 9, 10_000, 12_000, SENTENCE, 0.9));
        let s3 = m.snapshot(64);
        assert_eq!(s3.sentiment_trend, s.sentiment_trend);
        assert!((s3.roles[0].sentiment_trend - 4.5).abs() < 1e-5);
        // Recovery: three positive sentences turn the direction round.
        for i in 0..3 {
            m.add_turn(turn(
                1,
                20 + i,
                13_000 + i * 3000,
                15_000 + i * 3000,
                SENTENCE,
                0.8,
            ));
        }
        let s4 = m.snapshot(4);
        assert_eq!(s4.sentiment_direction, SentimentDirection::Improving as i32);
        assert!(s4.sentiment_trend > 1.0);
        // Points: the last 4 turns by start, each with its channel's trend.
        assert_eq!(s4.turns.len(), 4);
        assert_eq!(s4.turns[0].seq, 9);
        assert_eq!(s4.turns[3].trend, s4.sentiment_trend);
        assert!((s4.turns[3].sentiment - 4.0).abs() < 1e-5);
    }

    #[test]
    fn finals_out_of_order_give_the_same_measures() {
        let turns = [
            turn(0, 1, 0, 3000, SENTENCE, 0.1),
            turn(1, 2, 2500, 6000, SENTENCE, -0.6),
            turn(0, 3, 6500, 8000, SENTENCE, 0.3),
            turn(1, 4, 7000, 12_000, SENTENCE, -0.9),
        ];
        let mut a = meter();
        let mut b = meter();
        for t in &turns {
            a.add_turn(t.clone());
        }
        for t in turns.iter().rev() {
            b.add_turn(t.clone());
        }
        assert_eq!(a.snapshot(64), b.snapshot(64));
    }
}
