//! Rules inside one call: the facts the call has gathered so far, rule
//! evaluation after each final utterance and at the end, and what a fired
//! rule causes (action events for the CRM, `RuleAlert`s for the client).
//!
//! Owns: the per-call facts (`call.*` in rules, with the live measures
//! from [`crate::analytics`]; `agent.*` and `customer.*`), the per-call
//! cool-down and phrase state, and turning fired rules into events and
//! alerts. The rules themselves live in [`crate::rules`].

use serde_json::{json, Value};

use super::engine::Engine;
use crate::analytics::MeasureFacts;
use crate::connect::event::{now_ms, role_str, sentiment_str, CallIdentity, Event, EventKind};
use crate::proto::{CallMetrics, RuleAlert, SpeakerRole, UtteranceResult};
use crate::rules::{Action, CallRuleState, Facts, FiredRule, PhraseTurn, Trigger};

/// A call's running facts and rule state.
pub struct CallRules {
    context: CallIdentity,
    customer: Value,
    state: CallRuleState,
    utterances: u32,
    customer_utterances: u32,
    /// Σ weight × score over the customer's turns (`classify::weight`).
    customer_score_sum: f32,
    customer_weight_sum: f32,
    negative_streak: u32,
    last_customer_sentiment: &'static str,
    intents: Vec<String>,
    last_end_ms: u32,
    service_result: String,
    transfer_reason: String,
    /// Action events the outbox refused.
    pub not_recorded: u32,
}

impl CallRules {
    /// `customer`: the CRM profile fetched at call start (`{}` if none).
    pub fn new(context: CallIdentity, customer: Value) -> Self {
        Self {
            state: CallRuleState::for_tenant(&context.tenant),
            context,
            customer,
            utterances: 0,
            customer_utterances: 0,
            customer_score_sum: 0.0,
            customer_weight_sum: 0.0,
            negative_streak: 0,
            last_customer_sentiment: "",
            intents: Vec::new(),
            last_end_ms: 0,
            service_result: String::new(),
            transfer_reason: String::new(),
            not_recorded: 0,
        }
    }

    /// The platform's disposition: `call.service_result` and `call.transfer_reason` in call-end rules.
    pub fn set_disposition(&mut self, d: &crate::proto::CallDisposition) {
        self.service_result = d.service_result.clone();
        self.transfer_reason = d.transfer_reason.clone();
    }

    /// `call`, `agent` and `customer` as rules see them, with `m`'s measures.
    fn facts_with(&self, m: &CallMetrics) -> (Value, Value, Value) {
        let MeasureFacts {
            call: measures,
            agent,
            customer,
        } = crate::analytics::facts(m);
        let mut call = self.call_facts();
        if let Value::Object(c) = &mut call {
            c.extend(measures);
        }
        let mut profile = self.customer.clone();
        match &mut profile {
            Value::Object(p) => p.extend(customer),
            other => *other = Value::Object(customer),
        }
        (call, Value::Object(agent), profile)
    }

    fn call_facts(&self) -> Value {
        let mean = if self.customer_weight_sum == 0.0 {
            0.0
        } else {
            self.customer_score_sum / self.customer_weight_sum
        };
        json!({
            "call_id": self.context.call_id,
            "tenant": self.context.tenant,
            "customer_id": self.context.customer_id,
            "utterances": self.utterances,
            "customer_utterances": self.customer_utterances,
            "negative_streak": self.negative_streak,
            "customer_mean_score": mean,
            "last_customer_sentiment": self.last_customer_sentiment,
            "intents": self.intents,
            "duration_ms": self.last_end_ms,
            "service_result": self.service_result,
            "transfer_reason": self.transfer_reason,
        })
    }

    /// Updates the call facts with a final result; returns its sentiment
    /// label, score and intent label as rules see them.
    fn record(&mut self, r: &UtteranceResult) -> (&'static str, f32, String) {
        self.utterances += 1;
        self.last_end_ms = self.last_end_ms.max(r.end_ms);
        let is_customer =
            r.role == SpeakerRole::Customer as i32 || r.role == SpeakerRole::RoleUnknown as i32;
        let sentiment = r
            .sentiment
            .as_ref()
            .map(|s| sentiment_str(s.label))
            .unwrap_or("");
        let score = r.sentiment.as_ref().map_or(0.0, |s| s.score);
        let intent = r
            .intent
            .as_ref()
            .map(|i| i.label.clone())
            .unwrap_or_default();
        // Back-channels ("okay", "嗯") weigh nothing: they neither pull the
        // mean towards neutral nor break a run of negative turns.
        let weight = crate::classify::weight::sentiment_weight(&r.transcript);
        if is_customer {
            self.customer_utterances += 1;
            if weight > 0.0 && !sentiment.is_empty() {
                self.customer_score_sum += weight * score;
                self.customer_weight_sum += weight;
                self.last_customer_sentiment = sentiment;
                self.negative_streak = if sentiment == "negative" {
                    self.negative_streak + 1
                } else {
                    0
                };
            }
            if !intent.is_empty() && !self.intents.contains(&intent) {
                self.intents.push(intent.clone());
            }
        }
        (sentiment, score, intent)
    }

    /// After a final result: updates the facts, evaluates `utterance` rules
    /// and phrase rules, records their actions and returns the alerts to
    /// send. `transcript` is the result's transcript as rules see it
    /// (personal data masked); `m` the measures with this turn.
    pub async fn on_final(
        &mut self,
        engine: &Engine,
        r: &UtteranceResult,
        transcript: String,
        m: &CallMetrics,
    ) -> Vec<RuleAlert> {
        let (sentiment, score, intent) = self.record(r);
        let Some(rules) = engine.rules.as_ref().filter(|r| !r.current().is_empty()) else {
            return Vec::new();
        };
        let role = role_str(r.role);
        let mut fired = rules.on_phrase_turn(
            &PhraseTurn {
                seq: r.seq,
                role,
                start_ms: r.start_ms,
                transcript: &transcript,
            },
            &mut self.state,
            now_ms(),
        );
        let utterance = json!({
            "seq": r.seq, "channel": r.channel, "role": role, "transcript": transcript,
            "language": r.language_code, "sentiment": sentiment, "score": score, "intent": intent,
            "intent_confidence": r.intent.as_ref().map_or(0.0, |i| i.confidence),
            "intent_low_confidence": r.intent.as_ref().is_some_and(|i| i.low_confidence),
            "start_ms": r.start_ms, "end_ms": r.end_ms,
        });
        let (call, agent, customer) = self.facts_with(m);
        let facts = Facts {
            utterance: Some(&utterance),
            call: &call,
            agent: &agent,
            customer: &customer,
        };
        let mut on_utterance =
            rules.evaluate(Trigger::Utterance, &facts, &mut self.state, now_ms());
        on_utterance.append(&mut fired);
        self.act(engine, r.seq, on_utterance).await
    }

    /// The live measures were refreshed: evaluates `metrics` rules, and
    /// judges required phrases whose window closed before `settled_ms`.
    pub async fn on_metrics(
        &mut self,
        engine: &Engine,
        m: &CallMetrics,
        settled_ms: u32,
    ) -> Vec<RuleAlert> {
        let Some(rules) = engine.rules.as_ref().filter(|r| !r.current().is_empty()) else {
            return Vec::new();
        };
        let now = now_ms();
        let mut fired = self.evaluate_without_utterance(rules, Trigger::Metrics, m, now);
        fired.extend(rules.judge_required(settled_ms, false, &mut self.state, now));
        self.act(engine, 0, fired).await
    }

    /// At the end of the call: judges every required phrase still open,
    /// then evaluates `call_end` rules over the final measures.
    pub async fn on_end(&mut self, engine: &Engine, m: &CallMetrics) -> Vec<RuleAlert> {
        let Some(rules) = engine.rules.as_ref().filter(|r| !r.current().is_empty()) else {
            return Vec::new();
        };
        let now = now_ms();
        let mut fired = rules.judge_required(m.position_ms, true, &mut self.state, now);
        fired.extend(self.evaluate_without_utterance(rules, Trigger::CallEnd, m, now));
        self.act(engine, 0, fired).await
    }

    /// Evaluates `trigger`'s rules over the call facts and `m`'s measures.
    fn evaluate_without_utterance(
        &mut self,
        rules: &crate::rules::Rules,
        trigger: Trigger,
        m: &CallMetrics,
        now: u64,
    ) -> Vec<FiredRule> {
        let (call, agent, customer) = self.facts_with(m);
        let facts = Facts {
            utterance: None,
            call: &call,
            agent: &agent,
            customer: &customer,
        };
        rules.evaluate(trigger, &facts, &mut self.state, now)
    }

    /// Records one action event per action and builds the alerts.
    async fn act(&mut self, engine: &Engine, seq: u32, fired: Vec<FiredRule>) -> Vec<RuleAlert> {
        let mut alerts = Vec::new();
        for f in fired {
            tracing::info!(call_id = %self.context.call_id, rule = %f.rule, seq, "Rule fired");
            let mut summary = Vec::new();
            for (i, a) in f.actions.iter().enumerate() {
                summary.push(match a {
                    Action::Tag { value } => format!("tag:{value}"),
                    Action::Task { subject, .. } => format!("task:{subject}"),
                    Action::AssignOwner { owner } => format!("assign_owner:{owner}"),
                    Action::Coupon { code, .. } => format!("coupon:{code}"),
                    Action::Alert { .. } => continue,
                });
                if let Some(c) = &engine.connector {
                    let mut data = serde_json::to_value(a).unwrap_or(Value::Null);
                    if let (Value::Object(m), Action::Task { due_in_hours, .. }) = (&mut data, a) {
                        let due = now_ms() + u64::from(*due_in_hours) * 3_600_000;
                        m.insert(
                            "due_at".into(),
                            json!(crate::connect::mapping::rfc3339_utc(due)),
                        );
                    }
                    if let Value::Object(m) = &mut data {
                        m.insert("rule".into(), json!(f.rule));
                        m.insert("seq".into(), json!(seq));
                        if !f.evidence.is_empty() {
                            m.insert("evidence".into(), json!(f.evidence));
                        }
                        m.insert(
                            "action".into(),
                            m.get("type").cloned().unwrap_or(Value::Null),
                        );
                    }
                    let event = Event {
                        key: format!("{}:{seq}:action:{}:{i}", self.context.call_id, f.rule),
                        kind: EventKind::Action,
                        call: self.context.clone(),
                        occurred_at_ms: now_ms(),
                        data,
                    };
                    if let Err(e) = c.record(event).await {
                        self.not_recorded += 1;
                        tracing::error!(call_id = %self.context.call_id, rule = %f.rule, error = %e, "Rule action not recorded");
                    }
                }
            }
            for a in &f.actions {
                if let Action::Alert { message, severity } = a {
                    alerts.push(RuleAlert {
                        call_id: self.context.call_id.clone(),
                        rule: f.rule.clone(),
                        seq,
                        message: message.clone(),
                        severity: severity.as_str().into(),
                        actions: summary.clone(),
                        evidence: f.evidence.clone(),
                    });
                }
            }
        }
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Sentiment, SentimentLabel};

    fn customer(text: &str, label: SentimentLabel, score: f32) -> UtteranceResult {
        UtteranceResult {
            role: SpeakerRole::Customer as i32,
            is_final: true,
            transcript: text.into(),
            sentiment: Some(Sentiment {
                label: label as i32,
                score,
                probabilities: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn backchannels_keep_the_negative_streak_and_the_mean() {
        let mut c = CallRules::new(CallIdentity::default(), json!({}));
        c.record(&customer(
            "This is the third time I'm calling.",
            SentimentLabel::Negative,
            -0.8,
        ));
        c.record(&customer("Okay.", SentimentLabel::Neutral, 0.0));
        c.record(&customer("嗯", SentimentLabel::Neutral, 0.0));
        c.record(&customer(
            "And nobody called me back.",
            SentimentLabel::Negative,
            -0.6,
        ));
        let facts = c.call_facts();
        assert_eq!(facts["negative_streak"], 2);
        assert_eq!(facts["customer_utterances"], 4);
        assert_eq!(facts["last_customer_sentiment"], "negative");
        let mean = facts["customer_mean_score"].as_f64().unwrap();
        assert!((mean + 0.7).abs() < 1e-6, "{mean}");
        // A sentence that is neutral does end the streak.
        c.record(&customer(
            "Can you check my account please?",
            SentimentLabel::Neutral,
            0.0,
        ));
        assert_eq!(c.call_facts()["negative_streak"], 0);
    }
}
