//! The end-of-call summary, accumulated from final results.

use std::collections::HashMap;

use crate::proto::{
    CallSummary, IntentCount, RoleSummary, Sentiment, SpeakerRole, UtteranceResult,
};

#[derive(Default)]
struct ChannelTotals {
    utterances: u32,
    talk_ms: u64,
    /// Σ weight × score and Σ weight over scored turns (`classify::weight`:
    /// back-channels weigh nothing).
    score_sum: f64,
    weight_sum: f64,
    last: Option<(u32, Sentiment)>,
}

/// Accumulates final utterance results for [`CallSummary`].
pub struct SummaryBuilder {
    call_id: String,
    roles: Vec<SpeakerRole>,
    channels: Vec<ChannelTotals>,
    /// label → (count, count per role)
    intents: HashMap<String, (u32, HashMap<i32, u32>)>,
    utterances: u32,
}

impl SummaryBuilder {
    pub fn new(call_id: String, roles: Vec<SpeakerRole>) -> Self {
        let channels = roles.iter().map(|_| ChannelTotals::default()).collect();
        Self {
            call_id,
            roles,
            channels,
            intents: HashMap::new(),
            utterances: 0,
        }
    }

    /// Adds a final result (interim results are ignored).
    pub fn add(&mut self, r: &UtteranceResult) {
        if !r.is_final {
            return;
        }
        let Some(ch) = self.channels.get_mut(r.channel as usize) else {
            return;
        };
        self.utterances += 1;
        ch.utterances += 1;
        ch.talk_ms += u64::from(r.end_ms.saturating_sub(r.start_ms));
        let weight = f64::from(crate::classify::weight::sentiment_weight(&r.transcript));
        if let Some(s) = r.sentiment.as_ref().filter(|_| weight > 0.0) {
            ch.score_sum += weight * f64::from(s.score);
            ch.weight_sum += weight;
            if ch.last.as_ref().is_none_or(|(end, _)| r.end_ms >= *end) {
                ch.last = Some((r.end_ms, *s));
            }
        }
        if let Some(i) = &r.intent {
            let e = self.intents.entry(i.label.clone()).or_default();
            e.0 += 1;
            *e.1.entry(r.role).or_default() += 1;
        }
    }

    pub fn build(self, duration_ms: u64) -> CallSummary {
        let roles = self
            .channels
            .into_iter()
            .enumerate()
            .map(|(i, c)| RoleSummary {
                channel: i as u32,
                role: self.roles[i] as i32,
                utterances: c.utterances,
                talk_time_ms: c.talk_ms.min(u64::from(u32::MAX)) as u32,
                mean_sentiment_score: if c.weight_sum == 0.0 {
                    0.0
                } else {
                    (c.score_sum / c.weight_sum) as f32
                },
                last_sentiment: c.last.map(|(_, s)| s),
            })
            .collect();
        let mut intents: Vec<IntentCount> = self
            .intents
            .into_iter()
            .map(|(label, (count, by_role))| {
                let role = by_role
                    .into_iter()
                    .max_by_key(|&(r, n)| (n, -r))
                    .map_or(0, |(r, _)| r);
                IntentCount { label, count, role }
            })
            .collect();
        intents.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
        CallSummary {
            call_id: self.call_id,
            utterances: self.utterances,
            duration_ms: duration_ms.min(u64::from(u32::MAX)) as u32,
            roles,
            intents,
            metrics: None, // the call loop's measures
            events_not_recorded: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Intent, SentimentLabel};

    fn result(
        channel: u32,
        role: SpeakerRole,
        start: u32,
        end: u32,
        score: f32,
        intent: &str,
    ) -> UtteranceResult {
        UtteranceResult {
            channel,
            role: role as i32,
            start_ms: start,
            end_ms: end,
            is_final: true,
            transcript: "I would like this sorted out today please.".into(),
            sentiment: Some(Sentiment {
                label: SentimentLabel::Neutral as i32,
                score,
                probabilities: None,
            }),
            intent: Some(Intent {
                label: intent.into(),
                confidence: 0.9,
                top: vec![],
                low_confidence: false,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn per_role_means_last_sentiment_and_intents() {
        let mut b =
            SummaryBuilder::new("c1".into(), vec![SpeakerRole::Agent, SpeakerRole::Customer]);
        b.add(&result(
            1,
            SpeakerRole::Customer,
            5000,
            7000,
            -0.8,
            "cancel_service",
        ));
        b.add(&result(
            1,
            SpeakerRole::Customer,
            1000,
            2000,
            -0.2,
            "complaint",
        )); // arrives late
        b.add(&result(0, SpeakerRole::Agent, 2500, 4000, 0.4, "other"));
        b.add(&result(
            1,
            SpeakerRole::Customer,
            9000,
            9500,
            0.6,
            "cancel_service",
        ));
        let mut interim = result(1, SpeakerRole::Customer, 9600, 9900, 1.0, "gratitude");
        interim.is_final = false;
        b.add(&interim);
        let s = b.build(10_000);
        assert_eq!(s.utterances, 4);
        let cust = &s.roles[1];
        assert_eq!(cust.utterances, 3);
        assert_eq!(cust.talk_time_ms, 3500);
        assert!((cust.mean_sentiment_score - (-0.8 - 0.2 + 0.6) / 3.0).abs() < 1e-6);
        assert_eq!(cust.last_sentiment.as_ref().unwrap().score, 0.6);
        assert_eq!(s.intents[0].label, "cancel_service");
        assert_eq!(s.intents[0].count, 2);
        assert_eq!(s.intents[0].role, SpeakerRole::Customer as i32);
        assert!(s.intents.iter().all(|i| i.label != "gratitude"));
    }

    #[test]
    fn backchannels_neither_dilute_the_mean_nor_become_the_last_sentiment() {
        let mut b =
            SummaryBuilder::new("c1".into(), vec![SpeakerRole::Agent, SpeakerRole::Customer]);
        b.add(&result(
            1,
            SpeakerRole::Customer,
            0,
            3000,
            -0.8,
            "complaint",
        ));
        for (i, text) in ["Okay.", "uh-huh", "嗯"].into_iter().enumerate() {
            let mut r = result(
                1,
                SpeakerRole::Customer,
                4000 + i as u32 * 1000,
                4500,
                0.0,
                "other",
            );
            r.transcript = text.into();
            b.add(&r);
        }
        let s = b.build(10_000);
        let cust = &s.roles[1];
        assert_eq!(cust.utterances, 4);
        assert!(
            (cust.mean_sentiment_score + 0.8).abs() < 1e-6,
            "{}",
            cust.mean_sentiment_score
        );
        assert_eq!(cust.last_sentiment.as_ref().unwrap().score, -0.8);
    }
}
