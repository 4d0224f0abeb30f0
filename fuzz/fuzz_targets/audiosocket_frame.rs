//! Asterisk AudioSocket frames: any byte stream reads as frames, ends, or
//! is refused, never reading past the payload limit.
#![no_main]
use callsense::ingress::audiosocket::protocol::read_frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = data;
    futures::executor::block_on(async {
        for _ in 0..10_000 {
            match read_frame(&mut r, 8192).await {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    });
});
