//! What a gRPC client sends: any bytes as a StreamCallRequest, checked as
//! the first request (a CallConfig) and as a later one.
#![no_main]
use callsense::config::Config;
use callsense::proto::stream_call_request::StreamingRequest;
use callsense::proto::StreamCallRequest;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = StreamCallRequest::decode(data) else {
        return;
    };
    if let Some(StreamingRequest::Config(c)) = &req.streaming_request {
        let config = Config::default();
        if let Ok(v) = callsense::server::validate_config(c, &config) {
            assert!(!v.spec.call_id.is_empty());
            assert!(v.bytes_per_frame > 0);
        }
    }
    let _ = callsense::server::validate_inbound(req);
});
