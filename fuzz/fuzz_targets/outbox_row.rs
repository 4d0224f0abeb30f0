//! Stored outbox rows: any payload text and part name either reads back as
//! an event or is refused (the worker dead-letters it), never a panic.
#![no_main]
use callsense::connect::{Event, Part};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (part, payload) = text.split_once('\n').unwrap_or(("core", text));
    let _ = Part::parse(part);
    if let Ok(e) = serde_json::from_str::<Event>(payload) {
        let back = serde_json::to_string(&e).unwrap();
        let again: Event = serde_json::from_str(&back).unwrap();
        assert_eq!(again, e, "a stored event round-trips");
    }
});
