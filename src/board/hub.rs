//! The board's state and its one fan-out: every call's view, kept from the
//! same events the gRPC stream carries, and a broadcast of changes that
//! every viewer reads at its own pace.
//!
//! Owns: the calls on the board (active, and finished ones for
//! `ended_retention_s`), each with its customer context, latest measures,
//! transcript (masked) and alerts, all bounded; the broadcast of changes,
//! each serialised once. Publishing never waits: a viewer that falls more
//! than `viewer_buffer` events behind gets a fresh snapshot instead.
//! Must not: block a call (a short mutex section per event, no I/O).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::UiConfig;
use crate::connect::event::{now_ms, role_str, sentiment_str, CallIdentity};
use crate::proto::{CallAccepted, CallMetrics, CallSummary, RuleAlert, UtteranceResult};

/// Customer trend points kept per call for the sparkline.
const SPARK_POINTS: usize = 40;

/// One change, for the viewers of `tenant`.
#[derive(Debug)]
pub struct Published {
    pub tenant: String,
    /// SSE event name: `call`, `turn` or `alert`.
    pub kind: &'static str,
    /// The event's JSON.
    pub data: String,
}

struct CallView {
    identity: CallIdentity,
    started_at_ms: u64,
    ended_at_ms: Option<u64>,
    outcome: String,
    agent: String,
    customer: Value,
    roles: Vec<&'static str>,
    metrics: Value,
    spark: Vec<f32>,
    last_intent: String,
    alerts: VecDeque<Value>,
    turns: VecDeque<Value>,
    summary: Value,
}

impl CallView {
    /// Everything but the transcript and the alert list.
    fn head(&self) -> Value {
        json!({
            "call_id": self.identity.call_id,
            "tenant": self.identity.tenant,
            "customer_id": self.identity.customer_id,
            "status": if self.ended_at_ms.is_some() { "ended" } else { "active" },
            "outcome": self.outcome,
            "agent": self.agent,
            "started_at_ms": self.started_at_ms,
            "ended_at_ms": self.ended_at_ms,
            "customer": self.customer,
            "roles": self.roles,
            "metrics": self.metrics,
            "spark": self.spark,
            "last_intent": self.last_intent,
            "alert_count": self.alerts.len(),
            "last_alert": self.alerts.back(),
            "summary": self.summary,
        })
    }

    fn full(&self) -> Value {
        let mut v = self.head();
        v["turns"] = Value::Array(self.turns.iter().cloned().collect());
        v["alerts"] = Value::Array(self.alerts.iter().cloned().collect());
        v
    }

    /// Sort key: active before ended, open alerts first, worst trend first.
    fn need(&self) -> (bool, std::cmp::Reverse<usize>, i64) {
        let trend = self.metrics["sentiment_trend"].as_f64().unwrap_or(0.0);
        (
            self.ended_at_ms.is_some(),
            std::cmp::Reverse(self.alerts.len()),
            (trend * 1000.0) as i64,
        )
    }
}

/// The supervisor board's state and fan-out.
pub struct Board {
    cfg: UiConfig,
    calls: Mutex<HashMap<(String, String), CallView>>,
    tx: broadcast::Sender<Arc<Published>>,
}

impl Board {
    pub fn new(cfg: UiConfig) -> Self {
        let (tx, _) = broadcast::channel(cfg.viewer_buffer);
        Self {
            cfg,
            calls: Mutex::new(HashMap::new()),
            tx,
        }
    }

    pub fn config(&self) -> &UiConfig {
        &self.cfg
    }

    /// A viewer's feed of changes (all tenants; the viewer filters).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }

    fn publish(&self, tenant: &str, kind: &'static str, data: Value) {
        // No viewers is not an error.
        let _ = self.tx.send(Arc::new(Published {
            tenant: tenant.to_string(),
            kind,
            data: data.to_string(),
        }));
    }

    /// Applies `f` to a call's view and publishes its head (and `extra`).
    fn update(
        &self,
        call: &CallIdentity,
        f: impl FnOnce(&mut CallView) -> Option<(&'static str, Value)>,
    ) {
        let (head, extra) = {
            let mut calls = self.calls.lock();
            let Some(view) = calls.get_mut(&(call.tenant.clone(), call.call_id.clone())) else {
                return;
            };
            let extra = f(view);
            (view.head(), extra)
        };
        if let Some((kind, data)) = extra {
            self.publish(&call.tenant, kind, data);
        }
        self.publish(&call.tenant, "call", head);
    }

    /// A call was accepted; `agent` is "" when the platform did not say.
    pub fn call_started(
        &self,
        call: &CallIdentity,
        accepted: &CallAccepted,
        roles: Vec<&'static str>,
        agent: &str,
    ) {
        let customer = accepted.customer.as_ref().map_or(Value::Null, |c| {
            json!({
                "tier": c.tier,
                "risk_tags": c.risk_tags,
                "routing_priority": c.routing.as_ref().map(|r| r.priority.clone()),
                "found": c.status == crate::proto::ContextStatus::Found as i32,
            })
        });
        let view = CallView {
            identity: call.clone(),
            started_at_ms: now_ms(),
            ended_at_ms: None,
            outcome: String::new(),
            agent: agent.to_string(),
            customer,
            roles,
            metrics: Value::Null,
            spark: Vec::new(),
            last_intent: String::new(),
            alerts: VecDeque::new(),
            turns: VecDeque::new(),
            summary: Value::Null,
        };
        let head = view.head();
        {
            let mut calls = self.calls.lock();
            self.prune(&mut calls);
            if calls.len() >= self.cfg.max_calls {
                tracing::warn!(call_id = %call.call_id, limit = self.cfg.max_calls, "Board full: call not shown");
                return;
            }
            calls.insert((call.tenant.clone(), call.call_id.clone()), view);
        }
        self.publish(&call.tenant, "call", head);
    }

    /// A final result, with its transcript as masked for the CRM.
    pub fn turn(&self, call: &CallIdentity, r: &UtteranceResult, masked: &str) {
        let max = self.cfg.max_turns_per_call;
        self.update(call, |v| {
            let turn = json!({
                "seq": r.seq,
                "channel": r.channel,
                "role": role_str(r.role),
                "start_ms": r.start_ms,
                "end_ms": r.end_ms,
                "text": masked,
                "sentiment": r.sentiment.as_ref().map(|s| sentiment_str(s.label)),
                "score5": r.sentiment.as_ref().map(|s| (f64::from(s.score) * 50.0).round() / 10.0),
                "intent": r.intent.as_ref().map(|i| i.label.clone()),
            });
            if let Some(i) = r
                .intent
                .as_ref()
                .filter(|i| !i.low_confidence && i.label != "other")
            {
                v.last_intent.clone_from(&i.label);
            }
            if v.turns.len() >= max {
                v.turns.pop_front();
            }
            v.turns.push_back(turn.clone());
            Some(("turn", json!({"call_id": call.call_id, "turn": turn})))
        });
    }

    pub fn alert(&self, call: &CallIdentity, a: &RuleAlert) {
        let max = self.cfg.max_alerts_per_call;
        self.update(call, |v| {
            let alert = json!({
                "rule": a.rule, "seq": a.seq, "message": a.message, "severity": a.severity,
                "actions": a.actions, "evidence": a.evidence, "at_ms": now_ms(),
            });
            if v.alerts.len() >= max {
                v.alerts.pop_front();
            }
            v.alerts.push_back(alert.clone());
            Some(("alert", json!({"call_id": call.call_id, "alert": alert})))
        });
    }

    pub fn metrics(&self, call: &CallIdentity, m: &CallMetrics) {
        self.update(call, |v| {
            v.metrics = metrics_view(m);
            let cust: Vec<f32> = m
                .turns
                .iter()
                .filter(|p| p.weight > 0.0 && Some(p.role) == customer_role(m))
                .map(|p| p.trend)
                .collect();
            if !cust.is_empty() {
                v.spark = cust[cust.len().saturating_sub(SPARK_POINTS)..].to_vec();
            }
            None
        });
    }

    /// The call's summary (its last measures in it).
    pub fn summary(&self, call: &CallIdentity, s: &CallSummary) {
        self.update(call, |v| {
            if let Some(m) = &s.metrics {
                v.metrics = metrics_view(m);
            }
            v.summary = json!({
                "utterances": s.utterances,
                "duration_ms": s.duration_ms,
                "intents": s.intents.iter().map(|i| json!({"label": i.label, "count": i.count})).collect::<Vec<_>>(),
            });
            None
        });
    }

    /// The platform named the call's agent (its disposition).
    pub fn agent(&self, call: &CallIdentity, agent: &str) {
        if agent.is_empty() {
            return;
        }
        self.update(call, |v| {
            v.agent = agent.to_string();
            None
        });
    }

    /// The call ended: `outcome` is "completed", or why it failed.
    pub fn ended(&self, call: &CallIdentity, outcome: &str) {
        self.update(call, |v| {
            if v.ended_at_ms.is_none() {
                v.ended_at_ms = Some(now_ms());
                v.outcome = outcome.to_string();
            }
            None
        });
    }

    /// The calls `tenant` may see ("*": all), by need, without transcripts.
    pub fn snapshot(&self, tenant: &str) -> Vec<Value> {
        let mut calls = self.calls.lock();
        self.prune(&mut calls);
        let mut views: Vec<&CallView> = calls
            .values()
            .filter(|v| tenant == "*" || v.identity.tenant == tenant)
            .collect();
        views.sort_by_key(|v| v.need());
        views.into_iter().map(CallView::head).collect()
    }

    /// One call with its transcript and alerts, if `tenant` may see it.
    pub fn call(&self, tenant: &str, call_id: &str) -> Option<Value> {
        let calls = self.calls.lock();
        calls
            .iter()
            .find(|((t, id), _)| id == call_id && (tenant == "*" || t == tenant))
            .map(|(_, v)| v.full())
    }

    /// Drops finished calls past their retention or over the count.
    fn prune(&self, calls: &mut HashMap<(String, String), CallView>) {
        let now = now_ms();
        let keep_ms = self.cfg.ended_retention_s * 1000;
        calls.retain(|_, v| {
            v.ended_at_ms
                .is_none_or(|e| now.saturating_sub(e) < keep_ms)
        });
        let mut ended: Vec<(u64, (String, String))> = calls
            .iter()
            .filter_map(|(k, v)| v.ended_at_ms.map(|e| (e, k.clone())))
            .collect();
        if ended.len() > self.cfg.max_ended_calls {
            ended.sort_unstable();
            for (_, k) in &ended[..ended.len() - self.cfg.max_ended_calls] {
                calls.remove(k);
            }
        }
    }
}

fn customer_role(m: &CallMetrics) -> Option<i32> {
    use crate::proto::SpeakerRole;
    [SpeakerRole::Customer, SpeakerRole::RoleUnknown]
        .into_iter()
        .map(|r| r as i32)
        .find(|r| m.roles.iter().any(|x| x.role == *r))
}

/// The measures a board row and the call panel show.
fn metrics_view(m: &CallMetrics) -> Value {
    crate::analytics::facts(m).to_sink_value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Intent, Sentiment, SentimentLabel, SpeakerRole};

    fn id(tenant: &str, call: &str) -> CallIdentity {
        CallIdentity {
            call_id: call.into(),
            tenant: tenant.into(),
            ..Default::default()
        }
    }

    fn board(max_turns: usize) -> Board {
        Board::new(UiConfig {
            max_turns_per_call: max_turns,
            viewer_buffer: 4,
            ..Default::default()
        })
    }

    #[test]
    fn tenants_see_only_their_calls_sorted_by_need() {
        let b = board(10);
        for (t, c) in [("acme", "a1"), ("acme", "a2"), ("globex", "g1")] {
            b.call_started(
                &id(t, c),
                &CallAccepted::default(),
                vec!["agent", "customer"],
                "",
            );
        }
        b.alert(
            &id("acme", "a2"),
            &RuleAlert {
                rule: "r".into(),
                ..Default::default()
            },
        );
        b.ended(&id("acme", "a1"), "completed");
        let acme = b.snapshot("acme");
        let ids: Vec<&str> = acme
            .iter()
            .map(|v| v["call_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["a2", "a1"], "alerts first, ended last");
        assert_eq!(acme[1]["status"], "ended");
        assert_eq!(b.snapshot("globex").len(), 1);
        assert_eq!(b.snapshot("*").len(), 3);
        assert!(b.call("globex", "a1").is_none());
        assert!(b.call("acme", "a1").is_some());
    }

    #[test]
    fn turns_are_bounded_and_slow_viewers_lag_instead_of_blocking() {
        let b = board(2);
        let mut rx = b.subscribe();
        let c = id("acme", "c");
        b.call_started(
            &c,
            &CallAccepted::default(),
            vec!["agent", "customer"],
            "a-7",
        );
        for seq in 1..=5 {
            let r = UtteranceResult {
                seq,
                role: SpeakerRole::Customer as i32,
                is_final: true,
                sentiment: Some(Sentiment {
                    label: SentimentLabel::Negative as i32,
                    score: -0.62,
                    probabilities: None,
                }),
                intent: Some(Intent {
                    label: "cancel_service".into(),
                    ..Default::default()
                }),
                ..Default::default()
            };
            b.turn(&c, &r, "my card is [CARD]");
        }
        let v = b.call("acme", "c").unwrap();
        let turns = v["turns"].as_array().unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[1]["seq"], 5);
        assert_eq!(turns[1]["score5"], -3.1);
        assert_eq!(turns[1]["text"], "my card is [CARD]");
        assert_eq!(v["last_intent"], "cancel_service");
        assert_eq!(v["agent"], "a-7");
        b.agent(&c, "a-9");
        assert_eq!(b.call("acme", "c").unwrap()["agent"], "a-9");
        // 11 events into a buffer of 4: the viewer is told it lagged.
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
    }

    #[test]
    fn finished_calls_go_after_their_retention_or_over_the_count() {
        let b = Board::new(UiConfig {
            max_ended_calls: 1,
            ..Default::default()
        });
        for c in ["x", "y"] {
            b.call_started(&id("t", c), &CallAccepted::default(), vec![], "");
            b.ended(&id("t", c), "completed");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let left = b.snapshot("t");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["call_id"], "y");
        let gone = Board::new(UiConfig {
            ended_retention_s: 0,
            ..Default::default()
        });
        gone.call_started(&id("t", "z"), &CallAccepted::default(), vec![], "");
        gone.ended(&id("t", "z"), "completed");
        assert!(gone.snapshot("t").is_empty());
    }
}
