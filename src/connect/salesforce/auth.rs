//! Salesforce OAuth 2.0 and authenticated requests, shared by the sink and
//! the customer-context lookup.
//!
//! Owns: the client-credentials token (fetched lazily, cached, refreshed
//! once when a request answers 401 `INVALID_SESSION_ID`) and sending one
//! request with it, read fully. Failures are [`Outcome`]s, so the sink's
//! retry logic applies unchanged.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;
use tokio::sync::Mutex;

use super::SalesforceConfig;
use crate::connect::retry::{parse_retry_after, truncate, Outcome};

/// A response, read fully.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: String,
}

#[derive(Clone)]
struct Token {
    access: String,
    instance_url: String,
}

pub struct SalesforceAuth {
    login_url: String,
    pub api_version: String,
    client_id: String,
    client_secret: String,
    http: reqwest::Client,
    token: Mutex<Option<Token>>,
}

/// `application/x-www-form-urlencoded` encoding of pairs.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One URL path segment, percent-encoded.
pub fn path_segment(s: &str) -> String {
    form_encode(&[("", s)]).trim_start_matches('=').to_string()
}

/// The first `errorCode` / `message` of a Salesforce error body.
pub fn first_error(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let e = v.get(0).unwrap_or(&v);
    let code = e
        .get("errorCode")
        .or_else(|| e.get("error"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let msg = e
        .get("message")
        .or_else(|| e.get("error_description"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| truncate(body, 300));
    (code.to_string(), msg.to_string())
}

async fn read(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let retry_after = parse_retry_after(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
    );
    let body = resp.text().await.unwrap_or_default();
    Answer {
        status,
        retry_after,
        body,
    }
}

impl SalesforceAuth {
    /// # Errors
    /// An `env:` secret is not set.
    pub fn new(c: &SalesforceConfig, http: reqwest::Client) -> Result<Self, String> {
        Ok(Self {
            login_url: c.login_url.trim_end_matches('/').to_string(),
            api_version: c.api_version.clone(),
            client_id: c.client_id.resolve()?,
            client_secret: c.client_secret.resolve()?,
            http,
            token: Mutex::new(None),
        })
    }

    /// Sends `method path` (JSON `body` if any) with a bearer token,
    /// fetching a new token once on 401.
    ///
    /// # Errors
    /// The outcome to apply: network errors and token failures are retries.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Outcome> {
        let body = body.map(Value::to_string);
        for attempt in 0..2 {
            let token = self.token(attempt > 0).await?;
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", token.instance_url))
                .header(AUTHORIZATION, format!("Bearer {}", token.access));
            if let Some(b) = &body {
                req = req.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            let resp = req
                .send()
                .await
                .map_err(|e| Outcome::retry(format!("request failed: {e}")))?;
            let a = read(resp).await;
            if a.status == 401 && attempt == 0 {
                tracing::info!("Salesforce session expired; fetching a new token");
                continue;
            }
            if a.status == 401 {
                return Err(Outcome::retry(format!(
                    "HTTP 401 after a fresh token: {}",
                    truncate(&a.body, 200)
                )));
            }
            return Ok(a);
        }
        Err(Outcome::retry("unreachable: token loop"))
    }

    /// The cached token, or a new one (`refresh`: discard the cached one).
    async fn token(&self, refresh: bool) -> Result<Token, Outcome> {
        let mut slot = self.token.lock().await;
        if let (false, Some(t)) = (refresh, slot.as_ref()) {
            return Ok(t.clone());
        }
        let form = form_encode(&[
            ("grant_type", "client_credentials"),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
        ]);
        let resp = self
            .http
            .post(format!("{}/services/oauth2/token", self.login_url))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| Outcome::retry(format!("token request failed: {e}")))?;
        let a = read(resp).await;
        if a.status != 200 {
            let (code, msg) = first_error(&a.body);
            // Bad credentials are an operator problem: keep the events and retry.
            return Err(Outcome::Retry {
                after: a.retry_after,
                reason: format!("token request: HTTP {} {code}: {msg}", a.status),
            });
        }
        let v: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
        let (Some(access), Some(instance)) = (
            v.get("access_token").and_then(Value::as_str),
            v.get("instance_url").and_then(Value::as_str),
        ) else {
            return Err(Outcome::retry(
                "token response lacks access_token or instance_url",
            ));
        };
        let t = Token {
            access: access.to_string(),
            instance_url: instance.trim_end_matches('/').to_string(),
        };
        *slot = Some(t.clone());
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(
            form_encode(&[("a b", "x&y=z/é")]),
            "a%20b=x%26y%3Dz%2F%C3%A9"
        );
        assert_eq!(path_segment("call:1/2"), "call%3A1%2F2");
    }
}
