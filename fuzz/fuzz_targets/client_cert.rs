//! Client certificates (mutual TLS): any DER bytes name a tenant or are
//! refused.
#![no_main]
use callsense::auth::cert::tenant_of;
use callsense::auth::CertField;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for f in [CertField::Cn, CertField::O, CertField::Ou] {
        if let Ok(t) = tenant_of(data, f) {
            assert!(!t.is_empty() && t != "*");
        }
    }
});
