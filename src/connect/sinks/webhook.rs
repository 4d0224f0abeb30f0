//! Generic REST / webhook sink with Standard Webhooks signatures.
//!
//! Owns: one signed POST per delivery. Headers follow the Standard Webhooks
//! specification: `webhook-id` (the delivery's idempotency key, the same on
//! every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one entry per
//! configured secret so receivers can rotate keys). The body is
//! `{"type", "timestamp", "data"}` with `data` the mapped record. Score
//! callbacks to the telephony platform use this sink, with the URL per
//! tenant (`{tenant}` in the URL) or per call (an allowed
//! `callsense.callback_url`).

use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use sha2::Sha256;

use super::SinkConfig;
use crate::connect::event::EventKind;
use crate::connect::mapping::{envelope, RecordMapping};
use crate::connect::outbox::Delivery;
use crate::connect::retry::{classify_http, parse_retry_after, Outcome};
use crate::secret::Secret;
use serde::Deserialize;

/// The secret prefix of Standard Webhooks.
const SECRET_PREFIX: &str = "whsec_";

pub struct WebhookSink {
    url: String,
    keys: Vec<Vec<u8>>,
    allowed_callback_prefixes: Vec<String>,
    headers: HeaderMap,
    records: BTreeMap<EventKind, RecordMapping>,
    http: reqwest::Client,
}

/// Decodes a `whsec_<base64>` secret to key bytes.
///
/// # Errors
/// Missing prefix, bad base64, or a key shorter than 16 bytes.
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, String> {
    let b64 = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or("signing secrets must look like whsec_<base64> (Standard Webhooks)")?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("signing secret is not valid base64: {e}"))?;
    if key.len() < 16 {
        return Err("signing secret must decode to at least 16 bytes".into());
    }
    Ok(key)
}

/// `v1,<base64 signature>` of one message under one key.
pub fn sign(key: &[u8], msg_id: &str, timestamp: u64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

impl WebhookSink {
    pub(super) fn new(
        sink: &SinkConfig,
        c: &WebhookConfig,
        http: reqwest::Client,
    ) -> Result<Self, String> {
        let mut keys = Vec::with_capacity(c.secrets.len());
        for s in &c.secrets {
            keys.push(decode_secret(&s.resolve()?)?);
        }
        let mut headers = HeaderMap::new();
        for (k, v) in &c.headers {
            let name =
                HeaderName::try_from(k.as_str()).map_err(|e| format!("header {k:?}: {e}"))?;
            let mut value =
                HeaderValue::try_from(v.resolve()?).map_err(|e| format!("header {k:?}: {e}"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        Ok(Self {
            url: c.url.clone(),
            keys,
            allowed_callback_prefixes: c.allowed_callback_prefixes.clone(),
            headers,
            records: sink.records.clone(),
            http,
        })
    }

    pub(super) async fn deliver(&self, batch: &[Delivery]) -> Vec<Outcome> {
        futures::future::join_all(batch.iter().map(|d| self.send(d))).await
    }

    fn url_for(&self, d: &Delivery) -> String {
        if let Some(url) = &d.event.call.callback_url {
            if self
                .allowed_callback_prefixes
                .iter()
                .any(|p| url.starts_with(p.as_str()))
            {
                return url.clone();
            }
        }
        self.url
            .replace("{tenant}", &d.event.call.tenant)
            .replace("{call_id}", &d.event.call.call_id)
    }

    async fn send(&self, d: &Delivery) -> Outcome {
        let Some(mapping) = self.records.get(&d.event.kind) else {
            return Outcome::Reject {
                reason: format!("no records.{} mapping at this sink", d.event.kind.as_str()),
            };
        };
        let Some(record) = mapping.apply(&d.event, d.part) else {
            return Outcome::Delivered; // nothing configured for this half
        };
        let body = envelope(&d.event, record);
        let msg_id = d.delivery_id();
        let ts = crate::connect::event::now_ms() / 1000;
        let signature = self
            .keys
            .iter()
            .map(|k| sign(k, &msg_id, ts, &body))
            .collect::<Vec<_>>()
            .join(" ");
        let req = self
            .http
            .post(self.url_for(d))
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body);
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let after = parse_retry_after(
                    resp.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                );
                let text = resp.text().await.unwrap_or_default();
                classify_http(status, after, &text)
            }
            Err(e) => Outcome::retry(format!("request failed: {e}")),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Endpoint. `{tenant}` and `{call_id}` are filled from the event; a
    /// call's `callsense.callback_url` metadata (if allowed below) replaces it.
    pub url: String,
    /// Signing secrets, `whsec_<base64>` (Standard Webhooks). Every secret
    /// signs each message, so a receiver can rotate keys without a gap.
    pub secrets: Vec<Secret>,
    /// URL prefixes a per-call callback URL may start with. Empty: per-call
    /// URLs are ignored.
    #[serde(default)]
    pub allowed_callback_prefixes: Vec<String>,
    /// Extra request headers (e.g. an API key).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
}

impl WebhookConfig {
    /// Checks the URL and that something signs.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        // `{tenant}` and `{call_id}` are filled in later; braces are valid in
        // a URL's path.
        crate::config::check_http_url(&self.url)
            .map_err(|e| format!("url must be an http(s) URL: {e}"))?;
        if self.secrets.is_empty() {
            return Err("secrets: at least one whsec_ signing secret is required".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_reference() {
        // Test vector from the Standard Webhooks specification's reference libraries.
        let key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        assert!(decode_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap_err()
            .contains("whsec_"));
        assert!(decode_secret("whsec_!!!").unwrap_err().contains("base64"));
        assert!(decode_secret("whsec_c2hvcnQ=")
            .unwrap_err()
            .contains("16 bytes"));
    }
}
