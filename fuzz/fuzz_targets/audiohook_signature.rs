//! HTTP message signature headers of an AudioHook upgrade: any
//! Signature-Input and Signature values parse or are refused.
#![no_main]
use callsense::ingress::audiohook::signature::{parse_input, parse_signature};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (input, sig) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(i) = parse_input(input) {
        let _ = i.serialized();
    }
    let _ = parse_signature(sig, "sig1");
});
