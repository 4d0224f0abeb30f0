//! API keys: any keys file loads or is refused with the key named; any
//! `authorization` value is a principal or a refusal.
#![no_main]
use callsense::auth::config::KeysFile;
use callsense::auth::{bearer_token, KeyStore, Scope};
use libfuzzer_sys::fuzz_target;
use sha2::Digest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (file, header) = text.split_once("\n--\n").unwrap_or((text, "Bearer k"));
    let keys = toml::from_str::<KeysFile>(file)
        .map(|f| f.keys)
        .unwrap_or_default();
    let store = KeyStore::new(&keys, None)
        .or_else(|_| KeyStore::new(&[], None))
        .unwrap();
    if let Ok(token) = bearer_token(header) {
        if let Ok(p) = store.check(token, Scope::Calls, 0) {
            let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
            assert!(
                keys.iter()
                    .any(|k| k.sha256.trim().eq_ignore_ascii_case(&hash)),
                "{p:?}"
            );
        }
    }
});
