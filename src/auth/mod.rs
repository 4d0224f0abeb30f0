//! Who a client is and which tenant it acts for, on every front door.
//!
//! - `config`: `[auth]`, `[tenant_defaults]`, `[tenants.<name>]`.
//! - `keys`: API keys (`authorization: Bearer …`), by hash, reloaded live.
//! - `cert`: the tenant of a client certificate (mutual TLS).
//! - `tenants`: per-tenant quotas, rates and choices (sinks, CRM context,
//!   callback prefixes).
//! - `audit`: the audit log.
//!
//! A front door turns what a client presented into a [`Principal`] with
//! [`Auth::authenticate`] (or its protocol's own credential: a Twilio
//! signature, an AudioHook key, a fork's Basic user, an AudioSocket network,
//! each of which may name its tenant). The call path then binds the call to
//! the principal's tenant ([`Principal::bind`]): a call naming another
//! tenant is refused, never re-labelled.

pub mod audit;
pub mod cert;
pub mod config;
pub mod keys;
pub mod tenants;

use std::sync::Arc;
use std::time::Duration;

use metrics::Counter;

pub use audit::{Audit, Entry};
pub use config::{
    ApiKeyConfig, AuthConfig, AuthMode, CertField, Exposure, MtlsConfig, Scope, TenantConfig,
    TenantDefaults, TenantsConfig,
};
pub use keys::KeyStore;
pub use tenants::{TenantPermit, Tenants, Throttled};

use crate::config::Config;
use crate::telemetry::Telemetry;

/// The tenant(s) a principal may act for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    One(String),
    /// Any tenant the client names (a platform key, an operator, or no
    /// credential in `optional` mode).
    Any,
}

/// An authenticated (or, in `optional` mode, anonymous) client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: TenantScope,
    /// Who, for logs and the audit log (`key:<id>`, `cert:<tenant>`, …).
    pub actor: String,
}

impl Principal {
    /// A client that presented nothing (`auth.mode = "optional"`).
    pub fn anonymous() -> Self {
        Self {
            tenant: TenantScope::Any,
            actor: "anonymous".into(),
        }
    }

    /// A principal bound to `tenant` by a protocol's own credential.
    pub fn of_tenant(tenant: impl Into<String>, actor: impl Into<String>) -> Self {
        Self {
            tenant: TenantScope::One(tenant.into()),
            actor: actor.into(),
        }
    }

    /// The tenant of a call that names `named` ("" when it names none).
    ///
    /// # Errors
    /// The credential is another tenant's.
    pub fn bind(&self, named: &str) -> Result<String, AuthError> {
        match &self.tenant {
            TenantScope::Any => Ok(named.to_string()),
            TenantScope::One(t) if named.is_empty() || named == t => Ok(t.clone()),
            TenantScope::One(t) => Err(AuthError::permission_denied(
                format!("the credential is tenant {t:?}'s; the call names tenant {named:?}"),
                "tenant_mismatch",
            )
            .by(self.actor.clone())),
        }
    }

    /// The tenant label for logs ("*" for any).
    pub fn tenant_label(&self) -> &str {
        match &self.tenant {
            TenantScope::One(t) => t,
            TenantScope::Any => "*",
        }
    }
}

/// Whether a refusal is about the credential or about what it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No credential, or one that is not valid (gRPC UNAUTHENTICATED, HTTP 401).
    Unauthenticated,
    /// A valid credential for something else (gRPC PERMISSION_DENIED, HTTP 403).
    PermissionDenied,
}

/// A refused client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AuthError {
    pub kind: Denial,
    /// For the client: says what is wrong, never a secret.
    pub message: String,
    /// Short reason for metrics and the audit log (`no_credential`,
    /// `unknown_key`, `revoked_key`, `tenant_mismatch`, …).
    pub reason: &'static str,
    /// The credential's owner, when one was recognised.
    pub actor: String,
}

impl AuthError {
    pub fn unauthenticated(message: impl Into<String>, reason: &'static str) -> Self {
        Self {
            kind: Denial::Unauthenticated,
            message: message.into(),
            reason,
            actor: String::new(),
        }
    }

    pub fn permission_denied(message: impl Into<String>, reason: &'static str) -> Self {
        Self {
            kind: Denial::PermissionDenied,
            message: message.into(),
            reason,
            actor: String::new(),
        }
    }

    pub fn by(mut self, actor: String) -> Self {
        self.actor = actor;
        self
    }

    /// The HTTP status for a refused upgrade or request.
    pub fn http_status(&self) -> u16 {
        match self.kind {
            Denial::Unauthenticated => 401,
            Denial::PermissionDenied => 403,
        }
    }
}

/// A front door, for logs, metrics and the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Grpc,
    Twilio,
    Fork,
    AudioSocket,
    AudioHook,
    Board,
    Metrics,
}

impl Door {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::Twilio => "twilio",
            Self::Fork => "fork",
            Self::AudioSocket => "audiosocket",
            Self::AudioHook => "audiohook",
            Self::Board => "board",
            Self::Metrics => "metrics",
        }
    }

    const ALL: [Self; 7] = [
        Self::Grpc,
        Self::Twilio,
        Self::Fork,
        Self::AudioSocket,
        Self::AudioHook,
        Self::Board,
        Self::Metrics,
    ];
}

/// What a client presented.
#[derive(Debug, Default, Clone, Copy)]
pub struct Presented<'a> {
    /// The `authorization` header or metadata value.
    pub authorization: Option<&'a str>,
    /// The tenant of a verified client certificate, when there was one.
    pub cert_tenant: Option<&'a str>,
}

/// Credentials, tenants and the audit log, shared by every front door.
pub struct Auth {
    mode: AuthMode,
    reflection: Exposure,
    metrics_exposure: Exposure,
    keys: KeyStore,
    mtls: Option<MtlsConfig>,
    reload_interval: Duration,
    pub tenants: Tenants,
    pub audit: Audit,
    denied: Vec<(Door, Counter)>,
    reloads: Counter,
    reload_errors: Counter,
}

impl Auth {
    /// From the engine's config.
    ///
    /// # Errors
    /// A key entry or the keys file is invalid, or the audit log cannot be
    /// opened.
    pub fn new(config: &Config, telemetry: &Telemetry) -> Result<Arc<Self>, String> {
        let a = &config.auth;
        a.validate()?;
        let keys = KeyStore::new(&a.keys, a.keys_file.as_deref())?;
        let audit = Audit::start(
            a.audit_log.as_deref(),
            a.audit_max_bytes,
            a.audit_max_denials_per_s,
            telemetry,
        )?;
        let denied = Door::ALL
            .iter()
            .map(|d| {
                (
                    *d,
                    telemetry.counter(
                        "callsense_auth_denied_total",
                        "Clients refused for their credential or tenant, by front door.",
                        &[("door", d.as_str())],
                    ),
                )
            })
            .collect();
        Ok(Arc::new(Self {
            mode: a.mode,
            reflection: a.reflection,
            metrics_exposure: a.metrics,
            keys,
            mtls: a.mtls.clone(),
            reload_interval: Duration::from_millis(a.reload_interval_ms),
            tenants: Tenants::new(&config.tenant_defaults, &config.tenants, telemetry),
            audit,
            denied,
            reloads: telemetry.counter(
                "callsense_auth_key_reloads_total",
                "Keys files loaded after a change or SIGHUP.",
                &[],
            ),
            reload_errors: telemetry.counter(
                "callsense_auth_key_reload_errors_total",
                "Invalid keys files refused (the keys in force stayed).",
                &[],
            ),
        }))
    }

    /// Whether every client needs a credential.
    pub fn required(&self) -> bool {
        self.mode == AuthMode::Required
    }

    pub fn reflection(&self) -> Exposure {
        self.reflection
    }

    pub fn metrics_exposure(&self) -> Exposure {
        self.metrics_exposure
    }

    /// Mutual TLS settings, when client certificates are asked for.
    pub fn mtls(&self) -> Option<&MtlsConfig> {
        self.mtls.as_ref()
    }

    /// The principal of what a client presented at `door` for `scope`.
    /// `Ok(None)`: nothing was presented and `optional` mode lets the
    /// protocol's own credential (or none) decide.
    ///
    /// # Errors
    /// An invalid key, one without `scope`, a key and a certificate of
    /// different tenants, or nothing presented in `required` mode when
    /// `protocol_credential` is false.
    pub fn authenticate(
        &self,
        _door: Door,
        presented: Presented<'_>,
        scope: Scope,
    ) -> Result<Option<Principal>, AuthError> {
        let bearer = match presented.authorization {
            Some(h) => Some(bearer_token(h)?),
            None => None,
        };
        let from_key = match bearer {
            Some(t) => Some(self.keys.check(t, scope, crate::connect::event::now_ms())?),
            None => None,
        };
        let from_cert = presented
            .cert_tenant
            .map(|t| Principal::of_tenant(t, format!("cert:{t}")));
        match (from_key, from_cert) {
            (Some(k), Some(c)) => {
                if let TenantScope::One(t) = &k.tenant {
                    if c.tenant != k.tenant {
                        return Err(AuthError::permission_denied(
                            format!(
                                "the API key is tenant {t:?}'s; the client certificate is tenant {:?}'s",
                                c.tenant_label()
                            ),
                            "tenant_mismatch",
                        )
                        .by(k.actor));
                    }
                }
                Ok(Some(c))
            }
            (Some(p), None) | (None, Some(p)) => Ok(Some(p)),
            (None, None) => Ok(None),
        }
    }

    /// [`Auth::authenticate`] for a door with no credential of its own:
    /// nothing presented is anonymous in `optional` mode, refused in
    /// `required` mode.
    ///
    /// # Errors
    /// As [`Auth::authenticate`], or no credential in `required` mode.
    pub fn authenticate_or_anonymous(
        &self,
        door: Door,
        presented: Presented<'_>,
        scope: Scope,
    ) -> Result<Principal, AuthError> {
        match self.authenticate(door, presented, scope)? {
            Some(p) => Ok(p),
            None if self.required() => Err(self.missing(door)),
            None => Ok(Principal::anonymous()),
        }
    }

    /// The refusal of a client that presented nothing in `required` mode.
    pub fn missing(&self, door: Door) -> AuthError {
        let how = match door {
            Door::Grpc => "send `authorization: Bearer <API key>` metadata or a client certificate",
            Door::Board => "sign in as a supervisor or send `Authorization: Bearer <API key>`",
            _ => "send `Authorization: Bearer <API key>` or this protocol's own credentials",
        };
        AuthError::unauthenticated(format!("credentials required: {how}"), "no_credential")
    }

    /// Counts and audits a refusal.
    pub fn denied(&self, door: Door, e: &AuthError, peer: impl ToString, action: &str) {
        if let Some((_, c)) = self.denied.iter().find(|(d, _)| *d == door) {
            c.increment(1);
        }
        let actor = if e.actor.is_empty() {
            "unknown".to_string()
        } else {
            e.actor.clone()
        };
        tracing::info!(door = door.as_str(), reason = e.reason, %actor, "Client refused: {}", e.message);
        self.audit.record(
            Entry::new(door.as_str(), action, "denied")
                .actor(actor)
                .peer(peer)
                .detail(format!("{}: {}", e.reason, e.message)),
        );
    }

    /// Re-reads the keys file if it changed (or `force`), logging the outcome.
    pub fn reload_keys(&self, force: bool) {
        match self.keys.reload(force) {
            Ok(keys::Reloaded::Unchanged) => {}
            Ok(keys::Reloaded::Keys(n)) => {
                self.reloads.increment(1);
                tracing::info!(keys = n, "API keys reloaded");
                self.audit.record(
                    Entry::new("engine", "keys.reload", "ok").detail(format!("{n} keys in force")),
                );
            }
            Err(e) => {
                self.reload_errors.increment(1);
                tracing::error!(error = %e, "Keys file refused; the keys in force stay");
                self.audit
                    .record(Entry::new("engine", "keys.reload", "failed").detail(e));
            }
        }
    }

    /// Watches the keys file (every `auth.reload_interval_ms`, and at once
    /// on SIGHUP) until the returned handle is aborted.
    pub fn watch_keys(self: &Arc<Self>) -> tokio::task::AbortHandle {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            loop {
                #[cfg(unix)]
                let force = tokio::select! {
                    () = tokio::time::sleep(me.reload_interval) => false,
                    Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
                };
                #[cfg(not(unix))]
                let force = {
                    tokio::time::sleep(me.reload_interval).await;
                    false
                };
                let m = Arc::clone(&me);
                let _ = tokio::task::spawn_blocking(move || m.reload_keys(force)).await;
            }
        })
        .abort_handle()
    }
}

/// The token of an `authorization: Bearer <token>` value.
///
/// # Errors
/// Another scheme, or an empty token.
pub fn bearer_token(header: &str) -> Result<&str, AuthError> {
    let h = header.trim();
    let token = h
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("bearer "))
        .map(|_| h[7..].trim())
        .ok_or_else(|| {
            AuthError::unauthenticated(
                "authorization must be `Bearer <API key>`",
                "bad_authorization",
            )
        })?;
    if token.is_empty() {
        return Err(AuthError::unauthenticated(
            "authorization: Bearer with an empty key",
            "bad_authorization",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn auth(extra: &str) -> Arc<Auth> {
        let hash = |k: &str| hex::encode(sha2::Sha256::digest(k.as_bytes()));
        let text = format!(
            "[auth]\n{extra}\n[[auth.keys]]\nid = \"a1\"\ntenant = \"acme\"\nsha256 = \"{}\"\n[[auth.keys]]\nid = \"p\"\ntenant = \"*\"\nsha256 = \"{}\"\nscopes = [\"calls\", \"board\"]\n",
            hash("key-acme"),
            hash("key-platform")
        );
        let cfg: Config = toml::from_str(&text).unwrap();
        Auth::new(&cfg, &Telemetry::default()).unwrap()
    }

    fn bearer(k: &str) -> Presented<'_> {
        Presented {
            authorization: Some(k),
            cert_tenant: None,
        }
    }

    #[test]
    fn a_credential_binds_the_call_to_its_tenant() {
        let a = auth("mode = \"required\"");
        let p = a
            .authenticate_or_anonymous(Door::Grpc, bearer("Bearer key-acme"), Scope::Calls)
            .unwrap();
        assert_eq!(p.bind("").unwrap(), "acme");
        assert_eq!(p.bind("acme").unwrap(), "acme");
        let e = p.bind("globex").unwrap_err();
        assert_eq!(
            (e.kind, e.reason),
            (Denial::PermissionDenied, "tenant_mismatch")
        );
        assert!(e
            .message
            .contains("tenant \"acme\"'s; the call names tenant \"globex\""));
        let any = a
            .authenticate_or_anonymous(Door::Grpc, bearer("bearer key-platform"), Scope::Calls)
            .unwrap();
        assert_eq!(any.bind("globex").unwrap(), "globex");
    }

    #[test]
    fn required_mode_refuses_nothing_and_bad_schemes() {
        let a = auth("mode = \"required\"");
        let e = a
            .authenticate_or_anonymous(Door::Grpc, Presented::default(), Scope::Calls)
            .unwrap_err();
        assert_eq!(
            (e.kind, e.reason),
            (Denial::Unauthenticated, "no_credential")
        );
        for bad in ["Basic abc", "Bearer ", "key-acme"] {
            let e = a
                .authenticate_or_anonymous(Door::Grpc, bearer(bad), Scope::Calls)
                .unwrap_err();
            assert_eq!(e.reason, "bad_authorization", "{bad}");
        }
        let e = a
            .authenticate_or_anonymous(Door::Board, bearer("Bearer key-acme"), Scope::Board)
            .unwrap_err();
        assert_eq!(e.kind, Denial::PermissionDenied);
        let optional = auth("");
        assert_eq!(
            optional
                .authenticate_or_anonymous(Door::Grpc, Presented::default(), Scope::Calls)
                .unwrap(),
            Principal::anonymous()
        );
        assert!(
            optional
                .authenticate_or_anonymous(Door::Grpc, bearer("Bearer nope"), Scope::Calls)
                .is_err(),
            "a key presented is checked in optional mode too"
        );
    }

    #[test]
    fn a_key_and_a_certificate_must_agree() {
        let a = auth("");
        let both = |k: &'static str, t: &'static str| Presented {
            authorization: Some(k),
            cert_tenant: Some(t),
        };
        let p = a
            .authenticate(Door::Grpc, both("Bearer key-acme", "acme"), Scope::Calls)
            .unwrap()
            .unwrap();
        assert_eq!(p.tenant, TenantScope::One("acme".into()));
        let e = a
            .authenticate(Door::Grpc, both("Bearer key-acme", "globex"), Scope::Calls)
            .unwrap_err();
        assert_eq!(e.reason, "tenant_mismatch");
        let p = a
            .authenticate(
                Door::Grpc,
                both("Bearer key-platform", "globex"),
                Scope::Calls,
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            p.tenant,
            TenantScope::One("globex".into()),
            "the certificate narrows a platform key"
        );
    }
}
