//! Live conversation analytics: the measures Contact Lens computes after a
//! call (talk and non-talk time, overtalk and interruptions, talk speed,
//! loudness, a −5…+5 sentiment trend), computed while the call runs, and
//! phrase matching for script-adherence rules.
//!
//! `meter` keeps one call's timeline and computes [`CallMetrics`]; `phrase`
//! matches transcripts against a rule's phrases; [`facts`] is the one JSON
//! shape of the measures that rules (`call.*`, `agent.*`, `customer.*`) and
//! the CRM sinks (`metrics.*` in call summaries) both read.
//! Must not: run models or touch audio; the call loop feeds it turns.

mod config;
mod meter;
mod phrase;

pub use config::AnalyticsConfig;
pub use meter::{ConversationMeter, Turn};
pub use phrase::{MatchKind, PhraseMatch, PhraseMatcher, MAX_PHRASES, MAX_PHRASE_BYTES};

use serde_json::{json, Map, Value};

use crate::proto::{CallMetrics, RoleMetrics, SentimentDirection, SpeakerRole};

/// Turn points in live `CallMetrics` messages.
pub const LIVE_TURN_POINTS: usize = 64;
/// Turn points in the summary's `CallMetrics`.
pub const SUMMARY_TURN_POINTS: usize = 512;

/// The measures as rules and sinks see them.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureFacts {
    /// Call-wide: `call.non_talk_ms`, `call.interruptions.agent`, …
    pub call: Map<String, Value>,
    /// `agent.*`: the first agent channel (zeros without one).
    pub agent: Map<String, Value>,
    /// `customer.*`: the first customer channel, else the first of unknown
    /// role (zeros without one).
    pub customer: Map<String, Value>,
}

pub fn direction_str(d: i32) -> &'static str {
    match SentimentDirection::try_from(d) {
        Ok(SentimentDirection::Improving) => "improving",
        Ok(SentimentDirection::Declining) => "declining",
        _ => "steady",
    }
}

fn round(x: f32, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (f64::from(x) * k).round() / k
}

fn role_facts(r: Option<&RoleMetrics>) -> Map<String, Value> {
    let d = RoleMetrics::default();
    let r = r.unwrap_or(&d);
    let v = json!({
        "talk_ms": r.talk_ms,
        "talk_ratio": round(r.talk_ratio, 3),
        "interruptions": r.interruptions,
        "words": r.words,
        "talk_speed_wpm": round(r.talk_speed_wpm, 1),
        "loudness_dbfs": round(r.loudness_dbfs, 1),
        "talk_speed_change_pct": round(r.talk_speed_change_pct, 1),
        "loudness_change_db": round(r.loudness_change_db, 1),
        "baseline_ready": r.baseline_ready,
        "sentiment_trend": round(r.sentiment_trend, 2),
        "sentiment_direction": direction_str(r.sentiment_direction),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The measures' facts: call-wide and per role.
pub fn facts(m: &CallMetrics) -> MeasureFacts {
    let first = |roles: &[SpeakerRole]| {
        roles
            .iter()
            .find_map(|&want| m.roles.iter().find(|r| r.role == want as i32))
    };
    let agent = first(&[SpeakerRole::Agent]);
    let customer = first(&[SpeakerRole::Customer, SpeakerRole::RoleUnknown]);
    let call = json!({
        "position_ms": m.position_ms,
        "non_talk_ms": m.non_talk_ms,
        "longest_silence_ms": m.longest_silence_ms,
        "hold_count": m.hold_count,
        "hold_ms": m.hold_ms,
        "overtalk_count": m.overtalk_count,
        "overtalk_ms": m.overtalk_ms,
        "interruptions": {
            "agent": agent.map_or(0, |r| r.interruptions),
            "customer": customer.map_or(0, |r| r.interruptions),
        },
        "talk_ratio": {
            "agent": round(agent.map_or(0.0, |r| r.talk_ratio), 3),
            "customer": round(customer.map_or(0.0, |r| r.talk_ratio), 3),
        },
        "sentiment_trend": round(m.sentiment_trend, 2),
        "sentiment_direction": direction_str(m.sentiment_direction),
    });
    MeasureFacts {
        call: match call {
            Value::Object(c) => c,
            _ => Map::new(),
        },
        agent: role_facts(agent),
        customer: role_facts(customer),
    }
}

impl MeasureFacts {
    /// The sinks' `metrics` object: call-wide fields plus `agent` and
    /// `customer` objects.
    pub fn to_sink_value(&self) -> Value {
        let mut m = self.call.clone();
        m.insert("agent".into(), Value::Object(self.agent.clone()));
        m.insert("customer".into(), Value::Object(self.customer.clone()));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_name_roles_and_directions() {
        let m = CallMetrics {
            non_talk_ms: 31_000,
            sentiment_trend: -2.345,
            sentiment_direction: SentimentDirection::Declining as i32,
            roles: vec![
                RoleMetrics {
                    channel: 0,
                    role: SpeakerRole::Agent as i32,
                    interruptions: 3,
                    talk_speed_wpm: 150.04,
                    ..Default::default()
                },
                RoleMetrics {
                    channel: 1,
                    role: SpeakerRole::RoleUnknown as i32,
                    interruptions: 1,
                    talk_speed_wpm: 195.0,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let f = facts(&m);
        assert_eq!(f.call["non_talk_ms"], 31_000);
        assert_eq!(f.call["interruptions"]["agent"], 3);
        assert_eq!(f.call["interruptions"]["customer"], 1);
        assert_eq!(f.call["sentiment_trend"], -2.35);
        assert_eq!(f.call["sentiment_direction"], "declining");
        assert_eq!(f.agent["talk_speed_wpm"], 150.0);
        assert_eq!(f.customer["talk_speed_wpm"], 195.0);
        let sink = f.to_sink_value();
        assert_eq!(sink["customer"]["interruptions"], 1);
        // No agent channel: zeros, so rules still evaluate.
        let f = facts(&CallMetrics::default());
        assert_eq!(f.agent["interruptions"], 0);
        assert_eq!(f.agent["sentiment_direction"], "steady");
    }
}
