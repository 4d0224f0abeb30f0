//! The audio fork's metadata frame: any text becomes a call or an error.
#![no_main]
use callsense::ingress::fork::{new_call, ForkDefaults, Mix};
use callsense::ingress::Side;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let d = ForkDefaults {
        sample_rate: 8000,
        mix: Mix::Stereo,
        caller: Side::Customer,
        callee: Side::Agent,
        tenant: String::new(),
        language: "auto".into(),
        interim_results: false,
    };
    if let Ok(call) = new_call(text, &d) {
        let _ = call.validate(&callsense::config::Config::default());
    }
});
