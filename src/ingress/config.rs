//! `[ingress.*]`: one table per telephony front door.

use serde::Deserialize;

use super::twilio::Side;
use crate::language::LanguageHint;
use crate::secret::Secret;

/// The telephony listeners; none by default (gRPC only).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngressConfig {
    /// Twilio Media Streams (and the same protocol from Telnyx and Exotel).
    pub twilio: Option<TwilioConfig>,
}

impl IngressConfig {
    /// # Errors
    /// A listener's setting out of range, with its key.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(t) = &self.twilio {
            t.validate()?;
        }
        Ok(())
    }
}

/// `[ingress.twilio]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwilioConfig {
    /// Address the WebSocket listener binds (plain `ws://` here: Twilio
    /// connects with `wss://`, so TLS ends at the load balancer or proxy in
    /// front, as for most WebSocket services).
    pub listen: String,
    /// Twilio auth tokens the `X-Twilio-Signature` of each connection is
    /// checked against (several during a rotation; `env:NAME` reads the
    /// environment).
    pub auth_tokens: Vec<Secret>,
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

impl Default for TwilioConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8081".into(),
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
        if self.auth_tokens.is_empty() && !self.allow_unsigned {
            return Err("ingress.twilio.auth_tokens is empty: set the account's auth token(s) to check X-Twilio-Signature, or allow_unsigned = true to accept unsigned streams".into());
        }
        for t in &self.auth_tokens {
            t.resolve()
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
}
