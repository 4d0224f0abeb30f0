//! Rules files (CEL expressions, phrase rules, actions): any text loads or
//! is refused with the rule named; a loaded set evaluates on a fact set.
#![no_main]
use callsense::rules::{CallRuleState, Facts, PhraseTurn, RuleSet, Rules, Trigger};
use callsense::telemetry::Telemetry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = RuleSet::parse(text) else {
        return;
    };
    let rules = Rules::from_set(set, None, &Telemetry::default());
    let u = serde_json::json!({"transcript": "I want to cancel", "intent": "cancel_service", "sentiment": "negative", "score": -0.8});
    let c =
        serde_json::json!({"call_id": "c", "tenant": "t", "utterances": 3, "non_talk_ms": 1000});
    let facts = Facts {
        utterance: Some(&u),
        call: &c,
        agent: &c,
        customer: &c,
    };
    let mut state = CallRuleState::for_tenant("t");
    for t in [Trigger::Utterance, Trigger::Metrics, Trigger::CallEnd] {
        let _ = rules.evaluate(t, &facts, &mut state, 1000);
    }
    let turn = PhraseTurn {
        seq: 1,
        role: "agent",
        start_ms: 0,
        transcript: "this call may be recorded",
    };
    let _ = rules.on_phrase_turn(&turn, &mut state, 1000);
    let _ = rules.judge_required(60_000, true, &mut state, 1000);
});
