//! `[ingress.*]`: one table per telephony front door.

use serde::Deserialize;

use crate::language::LanguageHint;
use crate::proto::SpeakerRole;
use crate::secret::Secret;

/// Which side of the call a platform's leg or track is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Agent,
    Customer,
}

impl Side {
    pub fn role(self) -> SpeakerRole {
        match self {
            Self::Agent => SpeakerRole::Agent,
            Self::Customer => SpeakerRole::Customer,
        }
    }
}

/// The telephony listeners; none by default (gRPC only).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngressConfig {
    /// Twilio Media Streams (and the same protocol from Telnyx and Exotel).
    pub twilio: Option<TwilioConfig>,
    /// FreeSWITCH `mod_audio_fork` / `mod_audio_stream` and Jambonz `listen`.
    pub fork: Option<ForkConfig>,
    /// Asterisk AudioSocket (TCP, one connection per leg).
    pub audiosocket: Option<AudioSocketConfig>,
    /// Genesys Cloud AudioHook (Monitor).
    pub audiohook: Option<AudioHookConfig>,
}

impl IngressConfig {
    /// # Errors
    /// A listener's setting out of range, with its key.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(t) = &self.twilio {
            t.validate()?;
        }
        if let Some(f) = &self.fork {
            f.validate()?;
        }
        if let Some(a) = &self.audiosocket {
            a.validate()?;
        }
        if let Some(a) = &self.audiohook {
            a.validate()?;
        }
        Ok(())
    }
}

impl IngressConfig {
    /// With `auth.mode = "required"`, every credential a listener accepts
    /// must name the tenant it stands for (API keys and certificates carry
    /// theirs; a Twilio signature, a fork's Basic user, an AudioHook key or
    /// an AudioSocket network say it here).
    ///
    /// # Errors
    /// The listener and credential that names no tenant.
    pub fn validate_auth(&self, required: bool) -> Result<(), String> {
        if !required {
            return Ok(());
        }
        if let Some(t) = &self.twilio {
            if t.tenant.is_empty() {
                if let Some(i) = t.auth_tokens.iter().position(|k| k.tenant().is_empty()) {
                    return Err(format!("auth.mode = \"required\": ingress.twilio.auth_tokens[{i}] names no tenant; write it as {{ token = …, tenant = \"…\" }} or set ingress.twilio.tenant"));
                }
            }
        }
        if let Some(f) = &self.fork {
            if f.tenant.is_empty() {
                if let Some(a) = f.basic_auth.iter().find(|a| a.tenant.is_empty()) {
                    return Err(format!("auth.mode = \"required\": ingress.fork.basic_auth {:?} names no tenant; set its tenant or ingress.fork.tenant", a.username));
                }
            }
        }
        if let Some(a) = &self.audiohook {
            if let Some(i) = a
                .clients
                .iter()
                .position(|c| c.tenant.is_empty() && c.organization_id.is_none())
            {
                return Err(format!("auth.mode = \"required\": ingress.audiohook.clients[{i}] names neither a tenant nor an organization_id"));
            }
        }
        if let Some(a) = &self.audiosocket {
            if a.allow_any || a.tenant.is_empty() {
                return Err("auth.mode = \"required\": AudioSocket carries no credentials, so ingress.audiosocket needs allow_from networks (not allow_any) and the tenant they stand for".into());
            }
        }
        Ok(())
    }
}

/// `[ingress.twilio]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwilioConfig {
    /// Address the WebSocket listener binds. Twilio connects with `wss://`:
    /// set `tls_cert`/`tls_key`, or end TLS at a proxy in front.
    pub listen: String,
    /// PEM certificate chain; with `tls_key`, the listener speaks TLS.
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// Twilio auth tokens the `X-Twilio-Signature` of each connection is
    /// checked against (several during a rotation; `env:NAME` reads the
    /// environment): a string, or `{ token = "…", tenant = "acme" }` to bind
    /// the streams it signs to a tenant (else the listener's `tenant`).
    pub auth_tokens: Vec<TwilioToken>,
    /// Accept connections with no valid signature. Only for tests and
    /// platforms that cannot sign (Telnyx, Exotel) behind a private network;
    /// must be set explicitly when `auth_tokens` is empty.
    pub allow_unsigned: bool,
    /// The URL exactly as written in the TwiML `<Stream url=…>` (what Twilio
    /// signs). Unset: `wss://` + the request's Host header + its path.
    pub public_url: Option<String>,
    /// Side of Twilio's `inbound` track: the party on the far end of the
    /// phone line, usually the customer.
    pub inbound: Side,
    /// Side of the `outbound` track (what Twilio sends to the phone line).
    pub outbound: Side,
    /// Tenant for calls whose stream names none (`<Parameter name="tenant">`);
    /// empty: the Twilio account SID.
    pub tenant: String,
    /// Language when the stream names none (`<Parameter name="language">`).
    pub language: LanguageHint,
    /// Interim results (they go nowhere on Twilio; rules and the board see them).
    pub interim_results: bool,
    /// Connections at once; more are refused with HTTP 503 at the upgrade.
    pub max_connections: usize,
    /// Largest WebSocket message accepted (a 20 ms media message is ~300 bytes).
    pub max_message_bytes: usize,
    /// How far one track may run ahead of a silent one before the silent
    /// one is filled with silence (bounds buffering per call).
    pub max_lead_ms: u32,
    /// Time from the upgrade to the `start` message.
    pub start_timeout_s: u64,
}

/// One Twilio auth token, and the tenant of the streams it signs.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TwilioToken {
    Plain(Secret),
    Bound {
        token: Secret,
        /// The tenant of the account the token belongs to.
        tenant: String,
    },
}

impl TwilioToken {
    pub fn secret(&self) -> &Secret {
        match self {
            Self::Plain(s) | Self::Bound { token: s, .. } => s,
        }
    }

    /// The tenant it binds ("" when none).
    pub fn tenant(&self) -> &str {
        match self {
            Self::Plain(_) => "",
            Self::Bound { tenant, .. } => tenant,
        }
    }
}

impl Default for TwilioConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8081".into(),
            tls_cert: None,
            tls_key: None,
            auth_tokens: Vec::new(),
            allow_unsigned: false,
            public_url: None,
            inbound: Side::Customer,
            outbound: Side::Agent,
            tenant: String::new(),
            language: LanguageHint::Auto,
            interim_results: false,
            max_connections: 256,
            max_message_bytes: 64 * 1024,
            max_lead_ms: 500,
            start_timeout_s: 10,
        }
    }
}

impl TwilioConfig {
    /// # Errors
    /// The setting at fault, by key.
    pub fn validate(&self) -> Result<(), String> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "ingress.twilio.listen {:?} is not an address like 0.0.0.0:8081",
                self.listen
            ));
        }
        tls_pair(
            "ingress.twilio",
            self.tls_cert.as_ref(),
            self.tls_key.as_ref(),
        )?;
        if self.auth_tokens.is_empty() && !self.allow_unsigned {
            return Err("ingress.twilio.auth_tokens is empty: set the account's auth token(s) to check X-Twilio-Signature, or allow_unsigned = true to accept unsigned streams".into());
        }
        for t in &self.auth_tokens {
            t.secret()
                .resolve()
                .map_err(|e| format!("ingress.twilio.auth_tokens: {e}"))?;
        }
        if let Some(u) = &self.public_url {
            if !(u.starts_with("wss://") || u.starts_with("ws://")) {
                return Err(format!(
                    "ingress.twilio.public_url {u:?} must be the wss:// URL of the TwiML <Stream>"
                ));
            }
        }
        if self.inbound == self.outbound {
            return Err("ingress.twilio: inbound and outbound must be different sides".into());
        }
        if self.max_connections == 0
            || self.max_message_bytes < 1024
            || self.max_lead_ms == 0
            || self.start_timeout_s == 0
        {
            return Err("ingress.twilio: max_connections, max_lead_ms and start_timeout_s must be ≥ 1, max_message_bytes ≥ 1024".into());
        }
        Ok(())
    }
}

/// `[ingress.fork]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForkConfig {
    /// Address the WebSocket listener binds.
    pub listen: String,
    /// PEM certificate chain; with `tls_key`, the listener speaks TLS (`wss://`).
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// Accepted HTTP basic credentials (Jambonz `listen` `wsAuth`, or a
    /// user and password in the fork's URL).
    pub basic_auth: Vec<BasicAuth>,
    /// Accept connections without credentials (`mod_audio_fork` has none
    /// of its own); must be set explicitly when `basic_auth` is empty.
    pub allow_unauthenticated: bool,
    /// Rate of the audio when the metadata names none (`uuid_audio_fork …
    /// <mix-type> <sampling-rate>` is not sent on the socket).
    pub sample_rate: u32,
    /// Mix when the metadata names none: "mono", "mixed" or "stereo".
    pub mix: crate::ingress::fork::Mix,
    /// Side of the caller (the first channel).
    pub caller: Side,
    /// Side of the callee (the second channel of "stereo").
    pub callee: Side,
    /// Tenant when the metadata names none; empty: its `accountSid`.
    pub tenant: String,
    /// Language when the metadata names none.
    pub language: LanguageHint,
    pub interim_results: bool,
    /// Send each result back on the socket as a `transcription` text frame
    /// (FreeSWITCH raises `mod_audio_fork::transcription`).
    pub results_back: bool,
    /// Connections at once; more are refused with HTTP 503.
    pub max_connections: usize,
    /// Largest WebSocket message (20 ms of 16 kHz stereo is 1,280 bytes).
    pub max_message_bytes: usize,
    /// Time from the upgrade to the metadata frame.
    pub start_timeout_s: u64,
}

/// One accepted user and password.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    pub password: Secret,
    /// The tenant these credentials stand for (a call naming another is
    /// refused); empty: the listener's `tenant`.
    #[serde(default)]
    pub tenant: String,
}

impl Default for ForkConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8082".into(),
            tls_cert: None,
            tls_key: None,
            basic_auth: Vec::new(),
            allow_unauthenticated: false,
            sample_rate: 8000,
            mix: crate::ingress::fork::Mix::Stereo,
            caller: Side::Customer,
            callee: Side::Agent,
            tenant: String::new(),
            language: LanguageHint::Auto,
            interim_results: false,
            results_back: true,
            max_connections: 256,
            max_message_bytes: 64 * 1024,
            start_timeout_s: 10,
        }
    }
}

impl ForkConfig {
    /// # Errors
    /// The setting at fault, by key.
    pub fn validate(&self) -> Result<(), String> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "ingress.fork.listen {:?} is not an address like 0.0.0.0:8082",
                self.listen
            ));
        }
        tls_pair(
            "ingress.fork",
            self.tls_cert.as_ref(),
            self.tls_key.as_ref(),
        )?;
        if self.basic_auth.is_empty() && !self.allow_unauthenticated {
            return Err("ingress.fork.basic_auth is empty: set the credentials the fork sends, or allow_unauthenticated = true".into());
        }
        for a in &self.basic_auth {
            a.password
                .resolve()
                .map_err(|e| format!("ingress.fork.basic_auth {:?}: {e}", a.username))?;
        }
        if !crate::calls::RATES_HZ.contains(&self.sample_rate) {
            return Err(format!(
                "ingress.fork.sample_rate {} is outside {}–{} Hz",
                self.sample_rate,
                crate::calls::RATES_HZ.start(),
                crate::calls::RATES_HZ.end()
            ));
        }
        if self.caller == self.callee {
            return Err("ingress.fork: caller and callee must be different sides".into());
        }
        if self.max_connections == 0 || self.max_message_bytes < 1024 || self.start_timeout_s == 0 {
            return Err("ingress.fork: max_connections and start_timeout_s must be ≥ 1, max_message_bytes ≥ 1024".into());
        }
        Ok(())
    }
}

/// `[ingress.audiosocket]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AudioSocketConfig {
    /// Address the TCP listener binds (AudioSocket has no TLS: keep it on
    /// the PBX's private network).
    pub listen: String,
    /// Networks Asterisk connects from (`10.0.0.0/8`, `192.0.2.7`, `::1`):
    /// AudioSocket carries no credentials, so the peer address is the check.
    pub allow_from: Vec<String>,
    /// Accept connections from anywhere; must be set explicitly when
    /// `allow_from` is empty.
    pub allow_any: bool,
    /// Side of the leg whose UUID ends in `00` (and of one-leg calls).
    pub caller: Side,
    /// Side of the leg whose UUID ends in `01`.
    pub callee: Side,
    /// Tenant of the calls (AudioSocket names none).
    pub tenant: String,
    pub language: LanguageHint,
    pub interim_results: bool,
    /// Connections (legs) at once; more are closed at once.
    pub max_connections: usize,
    /// Largest frame payload (20 ms at 48 kHz is 1,920 bytes; at 192 kHz, 7,680).
    pub max_frame_bytes: usize,
    /// How far one leg may run ahead of a silent or absent one before that
    /// one is filled with silence (bounds buffering per call).
    pub max_lead_ms: u32,
    /// Time from the connection to its UUID and first audio.
    pub start_timeout_s: u64,
}

impl Default for AudioSocketConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8083".into(),
            allow_from: Vec::new(),
            allow_any: false,
            caller: Side::Customer,
            callee: Side::Agent,
            tenant: String::new(),
            language: LanguageHint::Auto,
            interim_results: false,
            max_connections: 512,
            max_frame_bytes: 8192,
            max_lead_ms: 1000,
            start_timeout_s: 10,
        }
    }
}

impl AudioSocketConfig {
    /// # Errors
    /// The setting at fault, by key.
    pub fn validate(&self) -> Result<(), String> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "ingress.audiosocket.listen {:?} is not an address like 0.0.0.0:8083",
                self.listen
            ));
        }
        if self.allow_from.is_empty() && !self.allow_any {
            return Err("ingress.audiosocket.allow_from is empty: list the networks Asterisk connects from, or allow_any = true".into());
        }
        for n in &self.allow_from {
            crate::ingress::audiosocket::Network::parse(n)
                .map_err(|e| format!("ingress.audiosocket.allow_from: {e}"))?;
        }
        if self.caller == self.callee {
            return Err("ingress.audiosocket: caller and callee must be different sides".into());
        }
        if self.max_connections == 0
            || !(640..=65_535).contains(&self.max_frame_bytes)
            || self.max_lead_ms == 0
            || self.start_timeout_s == 0
        {
            return Err("ingress.audiosocket: max_connections, max_lead_ms and start_timeout_s must be ≥ 1, max_frame_bytes 640–65535".into());
        }
        Ok(())
    }
}

/// `[ingress.audiohook]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AudioHookConfig {
    /// Address the WebSocket listener binds (Genesys connects only to
    /// `wss://` with a publicly trusted certificate: here or in front).
    pub listen: String,
    /// PEM certificate chain; with `tls_key`, the listener speaks TLS.
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// The integrations allowed to connect: API key, client secret, and the
    /// organization and tenant they stand for.
    pub clients: Vec<AudioHookClient>,
    /// Side of Genesys' `external` channel (the customer's line).
    pub external: Side,
    /// Side of the `internal` channel (the agent).
    pub internal: Side,
    /// Language when `open` names none.
    pub language: LanguageHint,
    pub interim_results: bool,
    /// Send results back as AudioHook `event` messages (a `transcript`
    /// entity and a `callsense` entity with the full result). Monitor
    /// integrations ignore them; off by default.
    pub events: bool,
    /// Connections at once; more are refused with HTTP 503.
    pub max_connections: usize,
    /// Largest WebSocket message (Genesys' limit is 64 KiB; its audio
    /// frames are 200 ms, 3,200 bytes of stereo PCMU).
    pub max_message_bytes: usize,
    /// Time from the upgrade to `open`.
    pub start_timeout_s: u64,
    /// Clock difference tolerated in a signature's `created`, in seconds.
    pub max_clock_skew_s: u64,
    /// Oldest signature accepted, in seconds.
    pub max_signature_age_s: u64,
}

/// One Genesys AudioHook integration's credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioHookClient {
    /// The integration's API key (sent as `X-API-KEY`).
    pub api_key: Secret,
    /// The integration's client secret, base64 as Genesys shows it: the key
    /// of the upgrade's HMAC-SHA256 signature.
    pub client_secret: Secret,
    /// Genesys organization id the key belongs to; set: other
    /// organizations are refused.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Tenant of its calls; empty: the organization id.
    #[serde(default)]
    pub tenant: String,
}

impl Default for AudioHookConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8084".into(),
            tls_cert: None,
            tls_key: None,
            clients: Vec::new(),
            external: Side::Customer,
            internal: Side::Agent,
            language: LanguageHint::Auto,
            interim_results: false,
            events: false,
            max_connections: 256,
            max_message_bytes: 64 * 1024,
            start_timeout_s: 10,
            max_clock_skew_s: 3,
            max_signature_age_s: 10,
        }
    }
}

impl AudioHookConfig {
    /// # Errors
    /// The setting at fault, by key.
    pub fn validate(&self) -> Result<(), String> {
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "ingress.audiohook.listen {:?} is not an address like 0.0.0.0:8084",
                self.listen
            ));
        }
        tls_pair(
            "ingress.audiohook",
            self.tls_cert.as_ref(),
            self.tls_key.as_ref(),
        )?;
        if self.clients.is_empty() {
            return Err("ingress.audiohook.clients is empty: add the API key and client secret of each Genesys AudioHook integration".into());
        }
        for (i, c) in self.clients.iter().enumerate() {
            crate::ingress::audiohook::Credentials::resolve(c)
                .map_err(|e| format!("ingress.audiohook.clients[{i}]: {e}"))?;
        }
        if self.external == self.internal {
            return Err("ingress.audiohook: external and internal must be different sides".into());
        }
        if self.max_connections == 0
            || !(4096..=16 << 20).contains(&self.max_message_bytes)
            || self.start_timeout_s == 0
            || self.max_signature_age_s == 0
        {
            return Err("ingress.audiohook: max_connections, start_timeout_s and max_signature_age_s must be ≥ 1, max_message_bytes 4096–16777216".into());
        }
        Ok(())
    }
}

/// `tls_cert` and `tls_key` come together or not at all.
fn tls_pair<T>(what: &str, cert: Option<&T>, key: Option<&T>) -> Result<(), String> {
    if cert.is_some() == key.is_some() {
        Ok(())
    } else {
        Err(format!(
            "{what}.tls_cert and {what}.tls_key must be set together"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_twilio_listener_needs_a_way_to_trust_its_peers() {
        let read = |t: &str| toml::from_str::<IngressConfig>(t).unwrap().validate();
        let e = read("[twilio]\nlisten = \"127.0.0.1:8081\"").unwrap_err();
        assert!(e.contains("auth_tokens is empty"), "{e}");
        read("[twilio]\nlisten = \"127.0.0.1:8081\"\nauth_tokens = [\"t\"]").unwrap();
        read("[twilio]\nallow_unsigned = true").unwrap();
        let e = read("[twilio]\nallow_unsigned = true\ninbound = \"agent\"").unwrap_err();
        assert!(e.contains("different sides"), "{e}");
        let e = read("[twilio]\nallow_unsigned = true\npublic_url = \"https://x/y\"").unwrap_err();
        assert!(e.contains("public_url"), "{e}");
        let e = read("[twilio]\nallow_unsigned = true\nlisten = \"localhost\"").unwrap_err();
        assert!(e.contains("ingress.twilio.listen"), "{e}");
        assert!(toml::from_str::<IngressConfig>("[twilio]\nlanguage = \"xx\"").is_err());
    }

    #[test]
    fn the_example_file_parses_and_validates() {
        std::env::set_var("TWILIO_AUTH_TOKEN", "example-token");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(dir.join("callsense.example.toml")).unwrap()
            + &std::fs::read_to_string(dir.join("ingress.twilio.example.toml")).unwrap();
        let cfg: crate::config::Config = toml::from_str(&text).unwrap();
        cfg.ingress.validate().unwrap();
        let t = cfg.ingress.twilio.unwrap();
        assert_eq!((t.inbound, t.outbound), (Side::Customer, Side::Agent));
        assert_eq!(t.max_lead_ms, TwilioConfig::default().max_lead_ms);
    }

    #[test]
    fn the_fork_example_parses_and_validates() {
        std::env::set_var("CALLSENSE_FORK_PASSWORD", "example-password");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(dir.join("callsense.example.toml")).unwrap()
            + &std::fs::read_to_string(dir.join("ingress.fork.example.toml")).unwrap();
        let cfg: crate::config::Config = toml::from_str(&text).unwrap();
        cfg.ingress.validate().unwrap();
        let f = cfg.ingress.fork.unwrap();
        assert_eq!((f.caller, f.callee), (Side::Customer, Side::Agent));
        assert_eq!(f.basic_auth[0].username, "freeswitch");
        let read = |t: &str| toml::from_str::<IngressConfig>(t).unwrap().validate();
        let e = read("[fork]\nlisten = \"127.0.0.1:1\"").unwrap_err();
        assert!(e.contains("basic_auth is empty"), "{e}");
        read("[fork]\nallow_unauthenticated = true\nsample_rate = 64000").unwrap();
        let e = read("[fork]\nallow_unauthenticated = true\nsample_rate = 4000").unwrap_err();
        assert!(
            e.contains("sample_rate 4000 is outside 8000–192000 Hz"),
            "{e}"
        );
        let e = read("[fork]\nallow_unauthenticated = true\ntls_cert = \"/c.pem\"").unwrap_err();
        assert!(e.contains("must be set together"), "{e}");
    }

    #[test]
    fn the_audiohook_example_parses_and_validates() {
        std::env::set_var("GENESYS_AUDIOHOOK_API_KEY", "example-key");
        std::env::set_var("GENESYS_AUDIOHOOK_CLIENT_SECRET", "c2VjcmV0");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(dir.join("callsense.example.toml")).unwrap()
            + &std::fs::read_to_string(dir.join("ingress.audiohook.example.toml")).unwrap();
        let cfg: crate::config::Config = toml::from_str(&text).unwrap();
        cfg.ingress.validate().unwrap();
        let a = cfg.ingress.audiohook.unwrap();
        assert_eq!((a.external, a.internal), (Side::Customer, Side::Agent));
        let read = |t: &str| toml::from_str::<IngressConfig>(t).unwrap().validate();
        let e = read("[audiohook]\nlisten = \"127.0.0.1:1\"").unwrap_err();
        assert!(e.contains("clients is empty"), "{e}");
        let e =
            read("[audiohook]\nclients = [{ api_key = \"k\", client_secret = \"not base64!\" }]")
                .unwrap_err();
        assert!(e.contains("clients[0]: client_secret is not base64"), "{e}");
        let e = read("[audiohook]\nclients = [{ api_key = \"k\", client_secret = \"c2VjcmV0\", organization_id = \"acme\" }]").unwrap_err();
        assert!(e.contains("not a UUID"), "{e}");
    }

    #[test]
    fn the_audiosocket_example_parses_and_validates() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let text = std::fs::read_to_string(dir.join("callsense.example.toml")).unwrap()
            + &std::fs::read_to_string(dir.join("ingress.audiosocket.example.toml")).unwrap();
        let cfg: crate::config::Config = toml::from_str(&text).unwrap();
        cfg.ingress.validate().unwrap();
        let a = cfg.ingress.audiosocket.unwrap();
        assert_eq!((a.caller, a.callee), (Side::Customer, Side::Agent));
        let read = |t: &str| toml::from_str::<IngressConfig>(t).unwrap().validate();
        let e = read("[audiosocket]\nlisten = \"127.0.0.1:1\"").unwrap_err();
        assert!(e.contains("allow_from is empty"), "{e}");
        let e = read("[audiosocket]\nallow_from = [\"10.0.0.0/40\"]").unwrap_err();
        assert!(e.contains("prefix must be 0–32"), "{e}");
        let e = read("[audiosocket]\nallow_any = true\nmax_frame_bytes = 100").unwrap_err();
        assert!(e.contains("max_frame_bytes"), "{e}");
    }
}
