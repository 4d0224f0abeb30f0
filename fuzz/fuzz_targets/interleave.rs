//! Joining legs that arrive separately (AudioSocket, Twilio tracks): any
//! sequence of pushes at any offsets never panics, and what comes out is
//! whole frames.
#![no_main]
use callsense::ingress::Interleaver;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut j = Interleaver::new(2, &[0, 0], 400);
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 4 {
        let (op, tail) = rest.split_at(4);
        let leg = usize::from(op[0] % 3);
        let at = (op[1] & 1 == 1).then(|| u64::from(u16::from_le_bytes([op[2], op[3]])) * 8);
        let n = usize::from(op[1] >> 1).min(tail.len());
        let _ = j.push(leg, at, &tail[..n]);
        j.drain(&mut out);
        rest = &tail[n..];
    }
    j.finish(&mut out);
    assert_eq!(out.len() % 4, 0, "whole stereo 16-bit frames");
});
