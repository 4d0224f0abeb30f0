//! CRM record mappings (paths, templates, sync modes): any TOML table
//! loads or is refused; a valid one maps a fixed event without panicking.
#![no_main]
use callsense::connect::{CallIdentity, Event, EventKind, Part, RecordMapping};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(m) = toml::from_str::<RecordMapping>(text) else {
        return;
    };
    if m.validate(text.len() % 2 == 0).is_err() {
        return;
    }
    let event = Event {
        key: "c:1:utterance".into(),
        kind: EventKind::Utterance,
        call: CallIdentity {
            call_id: "c".into(),
            tenant: "t".into(),
            customer_id: "x".into(),
            callback_url: None,
        },
        occurred_at_ms: 1_700_000_000_000,
        data: serde_json::json!({"seq": 1, "transcript": "hello", "sentiment": {"label": "positive", "score": 0.9}, "words": [1, 2, 3]}),
    };
    for part in [Part::Core, Part::Detail] {
        let _ = m.apply(&event, part);
    }
});
