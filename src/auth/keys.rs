//! API keys: the set in force, looked up by the SHA-256 of what a client
//! sends, and reloaded from `auth.keys_file` while the engine runs.
//!
//! Owns: parsing and checking key entries (id, tenant, hash, scopes,
//! expiry), the lookup, and the reload (a broken file keeps the keys in
//! force). Keys are never stored or logged, only their hashes and ids.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use parking_lot::{Mutex, RwLock};
use sha2::{Digest, Sha256};

use super::config::{ApiKeyConfig, KeysFile, Scope, MAX_KEYS, MAX_KEYS_FILE_BYTES, MAX_TENANT_LEN};
use super::{AuthError, Principal, TenantScope};

/// Prefix of keys `callsense keys new` makes (any string works as a key;
/// the prefix lets secret scanners find leaked ones).
pub const KEY_PREFIX: &str = "csk_";
/// Longest bearer token looked at, in bytes.
pub const MAX_TOKEN_LEN: usize = 512;

/// One key in force.
#[derive(Debug, Clone)]
struct Key {
    id: Arc<str>,
    tenant: TenantScope,
    scopes: Vec<Scope>,
    /// Unix milliseconds after which it is refused.
    expires_ms: Option<u64>,
    revoked: bool,
}

/// The keys in force, by hash.
#[derive(Debug, Default)]
struct KeySet {
    by_hash: HashMap<[u8; 32], Key>,
}

impl KeySet {
    fn build<'a>(entries: impl IntoIterator<Item = &'a ApiKeyConfig>) -> Result<Self, String> {
        let mut by_hash = HashMap::new();
        let mut ids = std::collections::HashSet::new();
        for e in entries {
            let id = e.id.trim();
            if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
                return Err(format!(
                    "key id {:?} must be 1–128 printable characters",
                    e.id
                ));
            }
            let at = |m: String| format!("key {id:?}: {m}");
            if !ids.insert(id.to_string()) {
                return Err(at("the id is used twice".into()));
            }
            let tenant = match e.tenant.as_str() {
                "*" => TenantScope::Any,
                "" => return Err(at("tenant is empty (\"*\" for any tenant)".into())),
                t if t.len() > MAX_TENANT_LEN => {
                    return Err(at(format!("tenant is longer than {MAX_TENANT_LEN} bytes")))
                }
                t => TenantScope::One(t.to_string()),
            };
            let mut hash = [0u8; 32];
            hex::decode_to_slice(e.sha256.trim(), &mut hash)
                .map_err(|_| at("sha256 must be 64 hex digits (the key's SHA-256)".into()))?;
            if e.scopes.is_empty() {
                return Err(at("scopes is empty".into()));
            }
            let expires_ms = match &e.expires {
                Some(t) => Some(
                    chrono::DateTime::parse_from_rfc3339(t)
                        .map_err(|err| at(format!("expires {t:?} is not RFC 3339: {err}")))?
                        .timestamp_millis()
                        .max(0) as u64,
                ),
                None => None,
            };
            let key = Key {
                id: Arc::from(id),
                tenant,
                scopes: e.scopes.clone(),
                expires_ms,
                revoked: e.revoked,
            };
            if by_hash.insert(hash, key).is_some() {
                return Err(at("the same key (hash) is listed twice".into()));
            }
        }
        if by_hash.len() > MAX_KEYS {
            return Err(format!("{} keys; at most {MAX_KEYS}", by_hash.len()));
        }
        Ok(Self { by_hash })
    }
}

/// The keys in force: those in the config plus those in the keys file.
pub struct KeyStore {
    inline: Vec<ApiKeyConfig>,
    file: Option<PathBuf>,
    current: RwLock<Arc<KeySet>>,
    /// Modification time and length of the file last read.
    seen: Mutex<Option<(SystemTime, u64)>>,
}

/// What a reload did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reloaded {
    Unchanged,
    /// The file was read; this many keys are in force.
    Keys(usize),
}

impl KeyStore {
    /// The config's keys and the file's.
    ///
    /// # Errors
    /// A key entry is invalid or the file cannot be read: the engine does
    /// not start with keys it cannot check.
    pub fn new(inline: &[ApiKeyConfig], file: Option<&Path>) -> Result<Self, String> {
        let store = Self {
            inline: inline.to_vec(),
            file: file.map(Path::to_path_buf),
            current: RwLock::new(Arc::new(KeySet::default())),
            seen: Mutex::new(None),
        };
        store.reload(true)?;
        Ok(store)
    }

    /// Keys in force.
    pub fn len(&self) -> usize {
        self.current.read().by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Re-reads the keys file if `force` or it changed.
    ///
    /// # Errors
    /// The file is unreadable or invalid; the keys in force stay.
    pub fn reload(&self, force: bool) -> Result<Reloaded, String> {
        let from_file = match &self.file {
            Some(path) => {
                let stamp = std::fs::metadata(path)
                    .map_err(|e| format!("auth.keys_file {}: {e}", path.display()))?;
                let stamp = (
                    stamp.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    stamp.len(),
                );
                {
                    let mut seen = self.seen.lock();
                    if !force && *seen == Some(stamp) {
                        return Ok(Reloaded::Unchanged);
                    }
                    *seen = Some(stamp); // a broken file is read again only once it changes
                }
                if stamp.1 > MAX_KEYS_FILE_BYTES {
                    return Err(format!(
                        "auth.keys_file {} is {} bytes; at most {MAX_KEYS_FILE_BYTES}",
                        path.display(),
                        stamp.1
                    ));
                }
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("auth.keys_file {}: {e}", path.display()))?;
                let parsed: KeysFile = toml::from_str(&text)
                    .map_err(|e| format!("auth.keys_file {}: {e}", path.display()))?;
                parsed.keys
            }
            None if !force => return Ok(Reloaded::Unchanged),
            None => Vec::new(),
        };
        let set =
            KeySet::build(self.inline.iter().chain(&from_file)).map_err(|e| match &self.file {
                Some(p) => format!("auth.keys_file {} (with auth.keys): {e}", p.display()),
                None => format!("auth.keys: {e}"),
            })?;
        let n = set.by_hash.len();
        *self.current.write() = Arc::new(set);
        Ok(Reloaded::Keys(n))
    }

    /// The principal of a bearer token, checked for `scope` at `now_ms`.
    ///
    /// # Errors
    /// Unknown, revoked or expired key, or one without `scope`.
    pub fn check(&self, token: &str, scope: Scope, now_ms: u64) -> Result<Principal, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::unauthenticated("unknown API key", "unknown_key"));
        }
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let set = Arc::clone(&self.current.read());
        let Some(key) = set.by_hash.get(&hash) else {
            return Err(AuthError::unauthenticated("unknown API key", "unknown_key"));
        };
        if key.revoked {
            return Err(AuthError::unauthenticated(
                format!("API key {:?} was revoked", &*key.id),
                "revoked_key",
            )
            .by(format!("key:{}", key.id)));
        }
        if key.expires_ms.is_some_and(|t| now_ms >= t) {
            return Err(AuthError::unauthenticated(
                format!("API key {:?} has expired", &*key.id),
                "expired_key",
            )
            .by(format!("key:{}", key.id)));
        }
        if !key.scopes.contains(&scope) {
            return Err(AuthError::permission_denied(
                format!(
                    "API key {:?} is not allowed to {} (scope {:?} missing)",
                    &*key.id,
                    match scope {
                        Scope::Calls => "stream calls",
                        Scope::Board => "read the supervisor board",
                        Scope::Metrics => "read metrics",
                    },
                    scope.as_str()
                ),
                "scope",
            )
            .by(format!("key:{}", key.id)));
        }
        Ok(Principal {
            tenant: key.tenant.clone(),
            actor: format!("key:{}", key.id),
        })
    }
}

/// A new random key and its hash, for `callsense keys new`.
pub fn new_key() -> (String, String) {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    let key = format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hex::encode(Sha256::digest(key.as_bytes()));
    (key, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, tenant: &str, key: &str) -> ApiKeyConfig {
        ApiKeyConfig {
            id: id.into(),
            tenant: tenant.into(),
            sha256: hex::encode(Sha256::digest(key.as_bytes())),
            scopes: vec![Scope::Calls],
            expires: None,
            revoked: false,
        }
    }

    #[test]
    fn keys_resolve_to_their_tenant_and_refusals_say_why() {
        let mut revoked = entry("old", "acme", "k-old");
        revoked.revoked = true;
        let mut expired = entry("exp", "acme", "k-exp");
        expired.expires = Some("2020-01-01T00:00:00Z".into());
        let store = KeyStore::new(
            &[
                entry("a1", "acme", "k-acme"),
                entry("any", "*", "k-any"),
                revoked,
                expired,
            ],
            None,
        )
        .unwrap();
        let now = 1_800_000_000_000;
        let p = store.check("k-acme", Scope::Calls, now).unwrap();
        assert_eq!(p.tenant, TenantScope::One("acme".into()));
        assert_eq!(p.actor, "key:a1");
        assert_eq!(
            store.check("k-any", Scope::Calls, now).unwrap().tenant,
            TenantScope::Any
        );
        let e = store.check("k-wrong", Scope::Calls, now).unwrap_err();
        assert_eq!(
            (e.reason, e.message.as_str()),
            ("unknown_key", "unknown API key")
        );
        let e = store.check("k-old", Scope::Calls, now).unwrap_err();
        assert!(e.message.contains("\"old\" was revoked"), "{}", e.message);
        let e = store.check("k-exp", Scope::Calls, now).unwrap_err();
        assert!(e.message.contains("has expired"), "{}", e.message);
        let e = store.check("k-acme", Scope::Board, now).unwrap_err();
        assert!(
            e.message.contains("scope \"board\" missing"),
            "{}",
            e.message
        );
        assert!(store.check(&"x".repeat(600), Scope::Calls, now).is_err());
    }

    #[test]
    fn bad_entries_are_refused_with_their_id() {
        let mut bad = entry("b", "acme", "k");
        bad.sha256 = "abc".into();
        let e = KeyStore::new(&[bad], None).err().unwrap();
        assert!(e.contains("key \"b\": sha256 must be 64 hex digits"), "{e}");
        let e = KeyStore::new(&[entry("d", "acme", "k"), entry("d", "x", "k2")], None)
            .err()
            .unwrap();
        assert!(e.contains("used twice"), "{e}");
        let e = KeyStore::new(&[entry("e", "", "k")], None).err().unwrap();
        assert!(e.contains("tenant is empty"), "{e}");
    }

    #[test]
    fn the_file_reloads_rotations_and_revocations_and_keeps_keys_on_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        let line = |e: &ApiKeyConfig, revoked: bool| {
            format!(
                "[[key]]\nid = \"{}\"\ntenant = \"{}\"\nsha256 = \"{}\"\nrevoked = {revoked}\n",
                e.id, e.tenant, e.sha256
            )
        };
        let (k1, k2) = (entry("k1", "acme", "one"), entry("k2", "acme", "two"));
        std::fs::write(&path, line(&k1, false)).unwrap();
        let store = KeyStore::new(&[], Some(&path)).unwrap();
        let now = 1;
        assert!(store.check("one", Scope::Calls, now).is_ok());
        assert_eq!(store.reload(false).unwrap(), Reloaded::Unchanged);
        // Rotation: both valid at once.
        std::fs::write(&path, line(&k1, false) + &line(&k2, false)).unwrap();
        assert_eq!(store.reload(true).unwrap(), Reloaded::Keys(2));
        assert!(store.check("one", Scope::Calls, now).is_ok());
        assert!(store.check("two", Scope::Calls, now).is_ok());
        // Revocation.
        std::fs::write(&path, line(&k1, true) + &line(&k2, false)).unwrap();
        store.reload(true).unwrap();
        assert_eq!(
            store.check("one", Scope::Calls, now).unwrap_err().reason,
            "revoked_key"
        );
        // A broken file keeps the keys in force.
        std::fs::write(&path, "[[key]]\nid = 1").unwrap();
        assert!(store.reload(true).is_err());
        assert!(store.check("two", Scope::Calls, now).is_ok());
    }

    #[test]
    fn new_keys_are_random_and_match_their_hash() {
        let (k, h) = new_key();
        assert!(k.starts_with(KEY_PREFIX) && k.len() > 40);
        assert_eq!(hex::encode(Sha256::digest(k.as_bytes())), h);
        assert_ne!(new_key().0, k);
    }
}
