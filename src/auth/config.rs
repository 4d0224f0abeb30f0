//! `[auth]`, `[tenant_defaults]` and `[tenants.<name>]`: who may connect,
//! as which tenant, and what each tenant's calls may use.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// Longest tenant name, in bytes (as a call's `tenant`).
pub const MAX_TENANT_LEN: usize = crate::calls::MAX_ID_LEN;
/// Most API keys in force at once (config and file together).
pub const MAX_KEYS: usize = 10_000;
/// Largest keys file read, in bytes.
pub const MAX_KEYS_FILE_BYTES: u64 = 4 << 20;

/// Whether clients must present a credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// A credential is checked when one is presented (and binds the call to
    /// its tenant); a client without one is let in and names its tenant
    /// itself. For development and for migrating to keys.
    #[default]
    Optional,
    /// Every front door (gRPC, the telephony listeners, the board and its
    /// JSON feed) refuses a client without a valid credential. Health stays
    /// open.
    Required,
}

/// Who may use a service that is not a call (server reflection, metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exposure {
    /// Anyone who reaches the port.
    Open,
    /// Clients with a valid credential (a key or client certificate;
    /// metrics need a key with the `metrics` scope).
    Authenticated,
    /// Not served.
    Off,
}

/// What a key may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Stream calls and analyse texts (gRPC, telephony listeners).
    Calls,
    /// Read the supervisor board and its JSON feed.
    Board,
    /// Read `/metrics`.
    Metrics,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Calls => "calls",
            Self::Board => "board",
            Self::Metrics => "metrics",
        }
    }
}

fn default_scopes() -> Vec<Scope> {
    vec![Scope::Calls]
}

/// One API key: clients send `authorization: Bearer <key>`; only the
/// key's SHA-256 is stored.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// Names the key in logs and the audit log (never the key itself).
    pub id: String,
    /// The tenant the key stands for; `"*"`: any tenant the client names
    /// (a platform serving many tenants with one key).
    pub tenant: String,
    /// Hex SHA-256 of the key (`callsense keys new` prints both).
    pub sha256: String,
    /// What the key may do; default `["calls"]`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<Scope>,
    /// RFC 3339 time after which the key no longer works.
    #[serde(default)]
    pub expires: Option<String>,
    /// A revoked key is refused with a message saying so (keep it listed
    /// while clients may still send it; deleting the entry refuses it too).
    #[serde(default)]
    pub revoked: bool,
}

impl std::fmt::Debug for ApiKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyConfig")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("scopes", &self.scopes)
            .field("expires", &self.expires)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

/// The subject field of a client certificate that names its tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertField {
    /// Common name (CN).
    #[default]
    Cn,
    /// Organization (O).
    O,
    /// Organizational unit (OU).
    Ou,
}

/// Mutual TLS on the gRPC port and the TLS telephony listeners.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MtlsConfig {
    /// PEM bundle of the CAs that issue client certificates.
    pub client_ca: PathBuf,
    /// Which subject field holds the tenant.
    #[serde(default)]
    pub tenant_from: CertField,
    /// Refuse a TLS handshake without a client certificate (otherwise a
    /// client may present an API key instead).
    #[serde(default)]
    pub required: bool,
}

/// `[auth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// Keys written in the config (kept also when `keys_file` is set).
    pub keys: Vec<ApiKeyConfig>,
    /// TOML file of `[[key]]` entries (same fields), re-read when it changes
    /// (checked every `reload_interval_ms`, and at once on SIGHUP): keys are
    /// added, rotated and revoked without a restart. An invalid file is
    /// refused and the keys in force stay.
    pub keys_file: Option<PathBuf>,
    pub reload_interval_ms: u64,
    /// gRPC server reflection.
    pub reflection: Exposure,
    /// `/metrics` on the telephony listeners and the board.
    pub metrics: Exposure,
    /// Client certificates; unset: none asked for.
    pub mtls: Option<MtlsConfig>,
    /// JSON-lines audit log: who connected, was refused, started a call,
    /// changed keys or ran an operator command, and when (never
    /// transcripts or secrets). Unset: off.
    pub audit_log: Option<PathBuf>,
    /// The audit log is renamed to `<file>.1` past this size (one old file
    /// is kept).
    pub audit_max_bytes: u64,
    /// Refusals written to the audit log per second at most; beyond it they
    /// are counted and one line says how many were left out (a client
    /// hammering with bad keys cannot fill the disk).
    pub audit_max_denials_per_s: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::Optional,
            keys: Vec::new(),
            keys_file: None,
            reload_interval_ms: 2000,
            reflection: Exposure::Authenticated,
            metrics: Exposure::Open,
            mtls: None,
            audit_log: None,
            audit_max_bytes: 64 << 20,
            audit_max_denials_per_s: 50,
        }
    }
}

/// A keys file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    #[serde(default, rename = "key")]
    pub keys: Vec<ApiKeyConfig>,
}

/// `[tenant_defaults]`: the limits of a tenant without a table of its own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantDefaults {
    /// Calls at once per tenant; 0: only `server.max_concurrent_calls`.
    pub max_concurrent_calls: usize,
    /// New calls per minute per tenant (a bucket holding 10 s worth, at
    /// least 1); 0: no limit.
    pub calls_per_minute: u32,
    /// AnalyzeText texts per minute per tenant; 0: no limit.
    pub texts_per_minute: u32,
}

/// `[tenants.<name>]`: one tenant's limits and what its calls use. Unset
/// keys take `[tenant_defaults]` (limits) or "everything" (sinks, context).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenantConfig {
    pub max_concurrent_calls: Option<usize>,
    pub calls_per_minute: Option<u32>,
    pub texts_per_minute: Option<u32>,
    /// Names of the `[[connect.sinks]]` its events go to; unset: every sink.
    pub sinks: Option<Vec<String>>,
    /// Look the customer up in the CRM on call start (`connect.context`).
    pub context: Option<bool>,
    /// URL prefixes a call's `callsense.callback_url` must start with;
    /// unset: whatever the webhook sinks allow. A call naming another URL
    /// is refused (PERMISSION_DENIED), not silently redirected.
    pub callback_prefixes: Option<Vec<String>>,
}

/// `[tenants.<name>]` tables by name.
pub type TenantsConfig = BTreeMap<String, TenantConfig>;

impl AuthConfig {
    /// Checks the section (keys are checked as they load).
    ///
    /// # Errors
    /// A message naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        if !(100..=3_600_000).contains(&self.reload_interval_ms) {
            return Err("auth.reload_interval_ms must be in [100, 3600000]".into());
        }
        if self.audit_max_bytes < 4096 {
            return Err("auth.audit_max_bytes must be ≥ 4096".into());
        }
        if self.audit_max_denials_per_s == 0 {
            return Err("auth.audit_max_denials_per_s must be ≥ 1".into());
        }
        if self.mode == AuthMode::Required
            && self.keys.is_empty()
            && self.keys_file.is_none()
            && self.mtls.is_none()
        {
            return Err("auth.mode = \"required\" but no credential can be valid: add [[auth.keys]], auth.keys_file or [auth.mtls]".into());
        }
        Ok(())
    }
}

/// Checks tenant tables against the sinks that exist.
///
/// # Errors
/// A message naming the tenant and key at fault.
pub fn validate_tenants(
    defaults: &TenantDefaults,
    tenants: &TenantsConfig,
    sinks: &[String],
) -> Result<(), String> {
    const MAX: u32 = 1_000_000;
    if defaults.calls_per_minute > MAX || defaults.texts_per_minute > MAX {
        return Err(format!(
            "tenant_defaults: calls_per_minute and texts_per_minute must be ≤ {MAX}"
        ));
    }
    for (name, t) in tenants {
        let bad = |m: String| Err(format!("tenants.{name}: {m}"));
        if name.is_empty() || name.len() > MAX_TENANT_LEN || name == "*" {
            return bad(format!(
                "a tenant name is 1–{MAX_TENANT_LEN} bytes and not \"*\""
            ));
        }
        if t.calls_per_minute.is_some_and(|v| v > MAX)
            || t.texts_per_minute.is_some_and(|v| v > MAX)
        {
            return bad(format!(
                "calls_per_minute and texts_per_minute must be ≤ {MAX}"
            ));
        }
        for s in t.sinks.iter().flatten() {
            if !sinks.contains(s) {
                return bad(format!(
                    "sinks names {s:?}, which is not a [[connect.sinks]] name ({})",
                    if sinks.is_empty() {
                        "none is configured".to_string()
                    } else {
                        sinks.join(", ")
                    }
                ));
            }
        }
        for p in t.callback_prefixes.iter().flatten() {
            crate::config::check_http_url(p)
                .map_err(|e| format!("tenants.{name}.callback_prefixes {p:?}: {e}"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_auth_needs_a_credential_source() {
        let read = |t: &str| toml::from_str::<AuthConfig>(t).unwrap().validate();
        assert!(read("mode = \"required\"")
            .unwrap_err()
            .contains("no credential can be valid"));
        read("mode = \"required\"\nkeys_file = \"k.toml\"").unwrap();
        read("").unwrap();
        assert!(read("reload_interval_ms = 5").is_err());
        assert!(toml::from_str::<AuthConfig>("mode = \"on\"").is_err());
        assert!(
            toml::from_str::<AuthConfig>(
                "[[keys]]\nid = \"a\"\ntenant = \"t\"\nsha256 = \"x\"\nscope = [\"calls\"]"
            )
            .is_err(),
            "unknown keys are errors"
        );
    }

    #[test]
    fn tenant_tables_name_existing_sinks_and_urls() {
        let sinks = vec!["crm".to_string()];
        let read = |t: &str| {
            let v: TenantsConfig = toml::from_str(t).unwrap();
            validate_tenants(&TenantDefaults::default(), &v, &sinks)
        };
        read("[acme]\nsinks = [\"crm\"]\nmax_concurrent_calls = 2").unwrap();
        let e = read("[acme]\nsinks = [\"crn\"]").unwrap_err();
        assert!(e.contains("tenants.acme: sinks names \"crn\""), "{e}");
        let e = read("[acme]\ncallback_prefixes = [\"ftp://x\"]").unwrap_err();
        assert!(e.contains("tenants.acme.callback_prefixes"), "{e}");
        let e = read("[\"*\"]\ncontext = false").unwrap_err();
        assert!(e.contains("not \"*\""), "{e}");
    }
}
