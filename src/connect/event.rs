//! Events: the facts the connector carries from a call to the CRM.
//!
//! Owns: turning final results and call summaries into [`Event`]s with a
//! stable idempotency key (`{call_id}:{seq}:{kind}`) and PII masked. The
//! key is the CRM's external id, the webhook id and the broker message id,
//! so at-least-once delivery gives exactly one record per event.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::pii::Masked;
use crate::proto::{CallDisposition, CallSummary, SentimentLabel, SpeakerRole, UtteranceResult};

/// What an event describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// One final utterance: transcript, sentiment, intent.
    Utterance,
    /// The end of a call: totals, intents, the customer's sentiment.
    CallSummary,
    /// An action a rule took (tag, task, owner, coupon).
    Action,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Utterance => "utterance",
            Self::CallSummary => "call_summary",
            Self::Action => "action",
        }
    }
    /// The Standard Webhooks `type` of the event.
    pub fn webhook_type(self) -> &'static str {
        match self {
            Self::Utterance => "utterance.final",
            Self::CallSummary => "call.summary",
            Self::Action => "rule.action",
        }
    }
}

/// The call an event belongs to, as the platform declared it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallIdentity {
    pub call_id: String,
    pub tenant: String,
    pub customer_id: String,
    /// Per-call callback URL from the call's metadata (`callsense.callback_url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

/// One fact to deliver. `data` holds masked text only (unless
/// `connect.privacy.persist_unmasked` says otherwise).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub key: String,
    pub kind: EventKind,
    #[serde(flatten)]
    pub call: CallIdentity,
    /// Unix time the fact became final, in milliseconds.
    pub occurred_at_ms: u64,
    pub data: Value,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `agent`, `customer` or `unknown`.
pub fn role_str(role: i32) -> &'static str {
    match SpeakerRole::try_from(role).unwrap_or(SpeakerRole::RoleUnknown) {
        SpeakerRole::Agent => "agent",
        SpeakerRole::Customer => "customer",
        SpeakerRole::RoleUnknown => "unknown",
    }
}

/// `negative`, `neutral`, `positive` or `unspecified`.
pub fn sentiment_str(label: i32) -> &'static str {
    match SentimentLabel::try_from(label).unwrap_or(SentimentLabel::SentimentUnspecified) {
        SentimentLabel::Negative => "negative",
        SentimentLabel::Neutral => "neutral",
        SentimentLabel::Positive => "positive",
        SentimentLabel::SentimentUnspecified => "unspecified",
    }
}

impl Event {
    /// The key of an event: call, sequence number (0 for call-level events
    /// with no sequence) and kind.
    pub fn key_for(call_id: &str, seq: u32, kind: EventKind) -> String {
        format!("{call_id}:{seq}:{}", kind.as_str())
    }

    /// A final utterance. The transcript is masked; `unmasked` keeps the
    /// original beside it (only when the operator allowed it).
    pub fn utterance(
        call: &CallIdentity,
        r: &UtteranceResult,
        masked: &Masked,
        unmasked: bool,
    ) -> Self {
        let mut data = Map::new();
        data.insert("seq".into(), json!(r.seq));
        data.insert("channel".into(), json!(r.channel));
        data.insert("role".into(), json!(role_str(r.role)));
        data.insert("start_ms".into(), json!(r.start_ms));
        data.insert("end_ms".into(), json!(r.end_ms));
        data.insert("transcript".into(), json!(masked.text));
        if !masked.found.is_empty() {
            let kinds: Vec<_> = masked.found.iter().map(|k| json!(k)).collect();
            data.insert("pii_masked".into(), Value::Array(kinds));
        }
        if unmasked {
            data.insert("transcript_unmasked".into(), json!(r.transcript));
        }
        data.insert("language".into(), json!(r.language_code));
        if let Some(s) = &r.sentiment {
            data.insert(
                "sentiment".into(),
                json!({"label": sentiment_str(s.label), "score": round3(s.score)}),
            );
        }
        if let Some(i) = &r.intent {
            data.insert(
                "intent".into(),
                json!({"label": i.label, "confidence": round3(i.confidence), "low_confidence": i.low_confidence}),
            );
        }
        if let Some(c) = &r.classification {
            data.insert("model".into(), json!(c.model));
        }
        if let Some(t) = &r.timings {
            data.insert(
                "timings".into(),
                json!({"asr_ms": round3(t.asr_ms), "classify_ms": round3(t.classify_ms),
                       "end_of_speech_to_emit_ms": round3(t.end_of_speech_to_emit_ms)}),
            );
        }
        Self {
            key: Self::key_for(&call.call_id, r.seq, EventKind::Utterance),
            kind: EventKind::Utterance,
            call: call.clone(),
            occurred_at_ms: now_ms(),
            data: Value::Object(data),
        }
    }

    /// The end of a call. `customer` facts come from the channels whose role
    /// is CUSTOMER (else every channel).
    pub fn call_summary(
        call: &CallIdentity,
        s: &CallSummary,
        disposition: Option<&CallDisposition>,
    ) -> Self {
        let customer: Vec<_> = s
            .roles
            .iter()
            .filter(|r| r.role == SpeakerRole::Customer as i32)
            .collect();
        let pick = if customer.is_empty() {
            s.roles.iter().collect()
        } else {
            customer
        };
        let utterances: u32 = pick.iter().map(|r| r.utterances).sum();
        let mean = if utterances == 0 {
            0.0
        } else {
            pick.iter()
                .map(|r| r.mean_sentiment_score * r.utterances as f32)
                .sum::<f32>()
                / utterances as f32
        };
        let last = pick
            .iter()
            .rev()
            .find_map(|r| r.last_sentiment.as_ref())
            .map(|l| sentiment_str(l.label));
        let intents: Vec<_> = s
            .intents
            .iter()
            .map(|i| json!({"label": i.label, "count": i.count, "role": role_str(i.role)}))
            .collect();
        let top = s
            .intents
            .iter()
            .find(|i| i.label != "other")
            .or(s.intents.first())
            .map(|i| i.label.clone());
        let d = disposition.cloned().unwrap_or_default();
        let human_requested = s.intents.iter().any(|i| i.label == "request_human");
        let data = json!({
            "service_result": d.service_result,
            "transfer_reason": d.transfer_reason,
            "transferred": !d.transfer_reason.is_empty(),
            "agent_id": d.agent_id,
            "wrap_up_tags": d.tags,
            "human_requested": human_requested,
            "utterances": s.utterances,
            "duration_ms": s.duration_ms,
            "customer_utterances": utterances,
            "customer_sentiment_score": round3(mean),
            "customer_sentiment_label": sentiment_label_for(mean),
            "customer_last_sentiment": last,
            "top_intent": top,
            "intents": intents,
            "metrics": s
                .metrics
                .as_ref()
                .map(|m| crate::analytics::facts(m).to_sink_value()),
        });
        Self {
            key: Self::key_for(&call.call_id, 0, EventKind::CallSummary),
            kind: EventKind::CallSummary,
            call: call.clone(),
            occurred_at_ms: now_ms(),
            data,
        }
    }
}

/// The label a mean score maps to: below −0.25 negative, above 0.25 positive.
pub fn sentiment_label_for(score: f32) -> &'static str {
    if score < -0.25 {
        "negative"
    } else if score > 0.25 {
        "positive"
    } else {
        "neutral"
    }
}

fn round3(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}
