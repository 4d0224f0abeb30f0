//! Audio decoding and channel split: any bytes, cut into chunks anywhere,
//! decode to exactly one sample per channel per whole frame, in [-1, 1].
#![no_main]
use callsense::audio::Decoder;
use callsense::proto::AudioEncoding;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let encoding = match head % 3 {
        0 => AudioEncoding::Linear16,
        1 => AudioEncoding::Mulaw,
        _ => AudioEncoding::Alaw,
    };
    let channels = 1 + usize::from(head >> 7);
    let cut = usize::from((head >> 2) & 0x1f) + 1;
    let mut d = Decoder::new(encoding, channels).unwrap();
    let mut out = vec![Vec::new(); channels];
    for chunk in rest.chunks(cut) {
        d.decode(chunk, &mut out);
    }
    let width = if encoding == AudioEncoding::Linear16 {
        2
    } else {
        1
    };
    let frames = rest.len() / (width * channels);
    for ch in &out {
        assert_eq!(ch.len(), frames);
        assert!(ch.iter().all(|s| (-1.0..=1.0).contains(s)));
    }
    assert_eq!(d.finish().is_ok(), rest.len() % (width * channels) == 0);
});
