//! Genesys AudioHook messages: any sequence of text messages is checked
//! (sequence numbers, types, parameters) without panicking.
#![no_main]
use callsense::ingress::audiohook::protocol::{
    choose_media, new_call, ClientMessage, Mapping, Sequence,
};
use callsense::ingress::Side;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut seq = Sequence::new("8d1b3c0e-2f5a-4c1e-9d7b-0a6f5e4d3c2b");
    for line in text.lines() {
        if let Ok(ClientMessage::Open(open)) = seq.receive(line) {
            if let Some(media) = choose_media(&open.media) {
                let map = Mapping {
                    external: Side::Customer,
                    internal: Side::Agent,
                    tenant: "t".into(),
                    language: "auto".into(),
                    interim_results: false,
                };
                let call = new_call(&open, &media, &map);
                let _ = call.validate(&callsense::config::Config::default());
            }
        }
        let _ = seq.is_close(line);
    }
});
