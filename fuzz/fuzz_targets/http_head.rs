//! The head of a request on a telephony listener: any bytes are sorted into
//! a plain GET or an upgrade to replay, within the head limit.
#![no_main]
use callsense::ingress::plain_http::{read_request, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    futures::executor::block_on(async {
        match read_request(data).await {
            Ok(Request::Get { path, .. }) => {
                assert!(["/health", "/healthz", "/metrics"].contains(&path.as_str()));
            }
            Ok(Request::Upgrade(_)) | Err(_) => {}
        }
    });
});
