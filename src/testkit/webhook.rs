//! A Standard Webhooks receiver for tests and benchmarks.
//!
//! Owns: an HTTP endpoint on 127.0.0.1:0 that verifies every request the
//! way a receiver library would (the three `webhook-*` headers present, the
//! timestamp within five minutes, a `v1,` HMAC-SHA256 signature over
//! `{id}.{timestamp}.{body}` matching one of its keys; else 400/401), keeps
//! one message per `webhook-id` (a redelivery is counted, not stored
//! twice), and answers with scripted faults (5xx, 429 with Retry-After,
//! 410) on demand. Its verification is written independently of the sink's
//! signing code, so a signing bug fails the tests.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde_json::Value;
use sha2::Sha256;

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;
/// Accepted clock skew of `webhook-timestamp`.
const TOLERANCE_S: u64 = 300;

/// One verified message.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub kind: String,
    pub data: Value,
    pub path: String,
    /// When it arrived (Unix ms).
    pub at_ms: u64,
}

#[derive(Default)]
struct Inner {
    keys: Vec<Vec<u8>>,
    messages: Vec<Received>,
    index: HashMap<String, usize>,
    duplicates: u64,
    rejected_signature: u64,
    scripted: VecDeque<(u16, Option<u64>)>,
    down: Option<(u16, Option<u64>)>,
    latency: Duration,
}

/// The receiver; stops when dropped.
pub struct WebhookReceiver {
    addr: std::net::SocketAddr,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl WebhookReceiver {
    /// Starts a receiver that accepts signatures under any of `secrets`
    /// (`whsec_<base64>`).
    ///
    /// # Errors
    /// A secret is malformed, or binding fails.
    pub async fn start(secrets: &[&str]) -> std::io::Result<Self> {
        let mut keys = Vec::new();
        for s in secrets {
            let b64 = s.strip_prefix("whsec_").unwrap_or(s);
            let key = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            keys.push(key);
        }
        let inner = Arc::new(Mutex::new(Inner {
            keys,
            ..Inner::default()
        }));
        let app = axum::Router::new()
            .fallback(receive)
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, inner, task })
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Messages stored, one per webhook-id, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        self.inner.lock().messages.clone()
    }

    /// Redeliveries of an id already stored.
    pub fn duplicates(&self) -> u64 {
        self.inner.lock().duplicates
    }

    /// Requests refused for a missing or wrong signature.
    pub fn rejected_signatures(&self) -> u64 {
        self.inner.lock().rejected_signature
    }

    /// The next `n` requests get `status` (with `Retry-After: retry_after_s`).
    pub fn fail_next(&self, n: usize, status: u16, retry_after_s: Option<u64>) {
        let mut g = self.inner.lock();
        for _ in 0..n {
            g.scripted.push_back((status, retry_after_s));
        }
    }

    /// Every request gets `status` until `None` (e.g. 503 while "down", 410 "gone").
    pub fn set_down(&self, status: Option<u16>, retry_after_s: Option<u64>) {
        self.inner.lock().down = status.map(|s| (s, retry_after_s));
    }

    /// Delay before answering each request.
    pub fn set_latency(&self, d: Duration) {
        self.inner.lock().latency = d;
    }
}

fn verify(
    keys: &[Vec<u8>],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, u64), (StatusCode, &'static str)> {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    let (Some(id), Some(ts), Some(sigs)) = (
        get("webhook-id"),
        get("webhook-timestamp"),
        get("webhook-signature"),
    ) else {
        return Err((
            StatusCode::BAD_REQUEST,
            "missing webhook-id, webhook-timestamp or webhook-signature",
        ));
    };
    let ts: u64 = ts.parse().map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            "webhook-timestamp is not an integer",
        )
    })?;
    if now_ms() / 1000 > ts + TOLERANCE_S || ts > now_ms() / 1000 + TOLERANCE_S {
        return Err((
            StatusCode::UNAUTHORIZED,
            "webhook-timestamp outside the tolerance",
        ));
    }
    for key in keys {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
            continue;
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(ts.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        if sigs
            .split(' ')
            .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
        {
            return Ok((id.to_string(), ts));
        }
    }
    Err((StatusCode::UNAUTHORIZED, "no valid signature"))
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = inner.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut g = inner.lock();
    if let Some((status, after)) = g.down.or_else(|| g.scripted.pop_front()) {
        let mut resp = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "scripted fault",
        )
            .into_response();
        if let Some(s) = after {
            if let Ok(v) = s.to_string().parse() {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        return resp;
    }
    let (id, _) = match verify(&g.keys, &headers, &body) {
        Ok(x) => x,
        Err((status, why)) => {
            g.rejected_signature += 1;
            return (status, why).into_response();
        }
    };
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "body is not JSON").into_response();
    };
    if g.index.contains_key(&id) {
        g.duplicates += 1;
        return StatusCode::NO_CONTENT.into_response();
    }
    let msg = Received {
        id: id.clone(),
        kind: v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        data: v.get("data").cloned().unwrap_or(Value::Null),
        path: uri.path().to_string(),
        at_ms: now_ms(),
    };
    let n = g.messages.len();
    g.index.insert(id, n);
    g.messages.push(msg);
    StatusCode::NO_CONTENT.into_response()
}
