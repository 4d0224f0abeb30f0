//! Twilio Media Streams messages: any text parses or is refused; a `start`
//! becomes a call or a field error; media joins without panicking.
#![no_main]
use callsense::ingress::twilio::{new_call, parse, CallMapping, MediaJoin, Message};
use callsense::ingress::Side;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let map = CallMapping {
        inbound: Side::Customer,
        outbound: Side::Agent,
        tenant: String::new(),
        language: "auto".into(),
        interim_results: false,
    };
    let mut join: Option<MediaJoin> = None;
    let mut out = Vec::new();
    for line in text.lines() {
        match parse(line) {
            Ok(Message::Start { start: s, .. }) => {
                if let Ok((call, media)) = new_call(&s, &map) {
                    let _ = call.validate(&callsense::config::Config::default());
                    join = Some(MediaJoin::new(&media, 500));
                }
            }
            Ok(Message::Media { media: m }) => {
                if let Some(j) = join.as_mut() {
                    let _ = j.push(&m, &mut out);
                }
            }
            _ => {}
        }
    }
    if let Some(j) = join.as_mut() {
        j.finish(&mut out);
    }
});
