//! Salesforce REST sink: upsert by external id, batched with sObject
//! Collections.
//!
//! Owns: the OAuth 2.0 client-credentials token (fetched lazily, refreshed
//! once on 401 `INVALID_SESSION_ID`), upserts (`PATCH
//! /services/data/{v}/sobjects/{Object}/{ExternalIdField}/{key}` for one
//! record, `PATCH /services/data/{v}/composite/sobjects/{Object}/{Field}`
//! with `allOrNone: false` for several), and reading Salesforce's answers:
//! 201/200/204 delivered; 300 (several records share the key) and 400 field
//! errors rejected to the dead-letter table with the message;
//! `REQUEST_LIMIT_EXCEEDED`, 429 and 503 retried honouring `Retry-After`.
//! The event key is the external id, so a retried upsert updates the record
//! it created instead of adding a second one.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Map, Value};
use tokio::sync::Mutex;

use crate::connect::config::{SalesforceConfig, SinkConfig};
use crate::connect::event::EventKind;
use crate::connect::mapping::RecordMapping;
use crate::connect::outbox::Delivery;
use crate::connect::retry::{classify_http, parse_retry_after, truncate, Outcome};

/// sObject Collections accept at most 200 records per request.
const COLLECTION_LIMIT: usize = 200;

/// Per-record error codes that are worth retrying.
const TRANSIENT_CODES: &[&str] = &[
    "REQUEST_LIMIT_EXCEEDED",
    "UNABLE_TO_LOCK_ROW",
    "SERVER_UNAVAILABLE",
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
];

pub struct SalesforceSink {
    login_url: String,
    api_version: String,
    client_id: String,
    client_secret: String,
    max_batch: usize,
    records: BTreeMap<EventKind, RecordMapping>,
    http: reqwest::Client,
    token: Mutex<Option<Token>>,
}

/// One record to upsert and the deliveries it answers for.
struct Upsert {
    indices: Vec<usize>,
    key: String,
    record: Map<String, Value>,
}

#[derive(Clone)]
struct Token {
    access: String,
    instance_url: String,
}

/// A response, read fully.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

fn path_segment(s: &str) -> String {
    form_encode(&[("", s)]).trim_start_matches('=').to_string()
}

/// The first `errorCode` / `message` of a Salesforce error body.
fn first_error(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let e = v.get(0).unwrap_or(&v);
    let code = e.get("errorCode").or_else(|| e.get("error")).and_then(Value::as_str).unwrap_or("");
    let msg = e
        .get("message")
        .or_else(|| e.get("error_description"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| truncate(body, 300));
    (code.to_string(), msg.to_string())
}

/// What a single-record (or whole-request) answer means.
fn single_outcome(a: &Answer) -> Outcome {
    let (code, msg) = first_error(&a.body);
    match a.status {
        300 => Outcome::Reject {
            reason: format!("HTTP 300: several records have this external id: {}", truncate(&a.body, 300)),
        },
        400 | 404 => Outcome::Reject { reason: format!("HTTP {} {code}: {msg}", a.status) },
        403 if code == "REQUEST_LIMIT_EXCEEDED" => Outcome::Retry {
            after: a.retry_after,
            reason: format!("HTTP 403 {code}: {msg}"),
        },
        _ => classify_http(a.status, a.retry_after, &a.body),
    }
}

/// What one entry of a Collections answer means.
fn collection_entry_outcome(entry: &Value) -> Outcome {
    if entry.get("success").and_then(Value::as_bool) == Some(true) {
        return Outcome::Delivered;
    }
    let err = entry.get("errors").and_then(|e| e.get(0));
    let code = err.and_then(|e| e.get("statusCode")).and_then(Value::as_str).unwrap_or("UNKNOWN");
    let msg = err.and_then(|e| e.get("message")).and_then(Value::as_str).unwrap_or("");
    let fields = err.and_then(|e| e.get("fields")).map(Value::to_string).unwrap_or_default();
    let reason = format!("{code}: {msg} {fields}").trim_end().to_string();
    if TRANSIENT_CODES.contains(&code) {
        Outcome::retry(reason)
    } else {
        Outcome::Reject { reason }
    }
}

impl SalesforceSink {
    pub(super) fn new(sink: &SinkConfig, c: &SalesforceConfig, http: reqwest::Client) -> Result<Self, String> {
        Ok(Self {
            login_url: c.login_url.trim_end_matches('/').to_string(),
            api_version: c.api_version.clone(),
            client_id: c.client_id.resolve()?,
            client_secret: c.client_secret.resolve()?,
            max_batch: sink.max_batch.min(COLLECTION_LIMIT),
            records: sink.records.clone(),
            http,
            token: Mutex::new(None),
        })
    }

    pub(super) async fn deliver(&self, batch: &[Delivery]) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.len()];
        let mut groups: BTreeMap<(String, String), Vec<Upsert>> = BTreeMap::new();
        for (i, d) in batch.iter().enumerate() {
            let Some(m) = self.records.get(&d.event.kind) else {
                outcomes[i] = Some(Outcome::Reject {
                    reason: format!("no records.{} mapping at this sink", d.event.kind.as_str()),
                });
                continue;
            };
            let (Some(object), Some(field)) = (&m.object, &m.external_id_field) else {
                outcomes[i] = Some(Outcome::Reject { reason: "mapping has no object".into() });
                continue;
            };
            let Some(record) = m.apply(&d.event, d.part) else {
                outcomes[i] = Some(Outcome::Delivered);
                continue;
            };
            // Both halves of one event share its external id; Collections
            // refuses a key twice in one request, so they become one record.
            let group = groups.entry((object.clone(), field.clone())).or_default();
            match group.iter_mut().find(|u| u.key == d.event.key) {
                Some(u) => {
                    u.indices.push(i);
                    u.record.extend(record);
                }
                None => group.push(Upsert { indices: vec![i], key: d.event.key.clone(), record }),
            }
        }
        for ((object, field), items) in groups {
            for chunk in items.chunks(self.max_batch) {
                let results = if let [one] = chunk {
                    vec![self.upsert_one(&object, &field, &one.key, &one.record).await]
                } else {
                    self.upsert_many(&object, &field, chunk).await
                };
                for (u, o) in chunk.iter().zip(results) {
                    for &i in &u.indices {
                        outcomes[i] = Some(o.clone());
                    }
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Outcome::retry("internal: no outcome")))
            .collect()
    }

    async fn upsert_one(&self, object: &str, field: &str, key: &str, record: &Map<String, Value>) -> Outcome {
        let path = format!(
            "/services/data/{}/sobjects/{}/{}/{}",
            self.api_version,
            object,
            field,
            path_segment(key)
        );
        match self.send(&path, &Value::Object(record.clone())).await {
            Ok(a) => single_outcome(&a),
            Err(o) => o,
        }
    }

    async fn upsert_many(&self, object: &str, field: &str, chunk: &[Upsert]) -> Vec<Outcome> {
        let records: Vec<Value> = chunk
            .iter()
            .map(|u| {
                let mut r = u.record.clone();
                r.insert("attributes".into(), json!({"type": object}));
                r.insert(field.to_string(), Value::from(u.key.clone()));
                Value::Object(r)
            })
            .collect();
        let path = format!("/services/data/{}/composite/sobjects/{}/{}", self.api_version, object, field);
        let body = json!({"allOrNone": false, "records": records});
        let answer = match self.send(&path, &body).await {
            Ok(a) => a,
            Err(o) => return vec![o; chunk.len()],
        };
        if answer.status == 400 {
            // The whole request was refused: isolate the bad record by sending each alone.
            let mut out = Vec::with_capacity(chunk.len());
            for u in chunk {
                out.push(self.upsert_one(object, field, &u.key, &u.record).await);
            }
            return out;
        }
        if answer.status != 200 {
            let o = single_outcome(&answer);
            return vec![o; chunk.len()];
        }
        match serde_json::from_str::<Vec<Value>>(&answer.body) {
            Ok(entries) if entries.len() == chunk.len() => entries.iter().map(collection_entry_outcome).collect(),
            _ => vec![
                Outcome::retry(format!("unexpected Collections answer: {}", truncate(&answer.body, 200)));
                chunk.len()
            ],
        }
    }

    /// PATCHes JSON with a bearer token, refreshing the token once on 401.
    async fn send(&self, path: &str, body: &Value) -> Result<Answer, Outcome> {
        let body = body.to_string();
        for attempt in 0..2 {
            let token = self.token(attempt > 0).await?;
            let resp = self
                .http
                .patch(format!("{}{path}", token.instance_url))
                .header(AUTHORIZATION, format!("Bearer {}", token.access))
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await
                .map_err(|e| Outcome::retry(format!("request failed: {e}")))?;
            let a = read(resp).await;
            if a.status == 401 && attempt == 0 {
                tracing::info!("Salesforce session expired; fetching a new token");
                continue;
            }
            if a.status == 401 {
                return Err(Outcome::retry(format!("HTTP 401 after a fresh token: {}", truncate(&a.body, 200))));
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
            return Err(Outcome::retry("token response lacks access_token or instance_url"));
        };
        let t = Token { access: access.to_string(), instance_url: instance.trim_end_matches('/').to_string() };
        *slot = Some(t.clone());
        Ok(t)
    }
}

async fn read(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let retry_after = parse_retry_after(resp.headers().get("retry-after").and_then(|v| v.to_str().ok()));
    let body = resp.text().await.unwrap_or_default();
    Answer { status, retry_after, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status, retry_after: Some(Duration::from_secs(2)), body: body.into() }
    }

    #[test]
    fn single_answers() {
        assert_eq!(single_outcome(&answer(201, "{}")), Outcome::Delivered);
        assert_eq!(single_outcome(&answer(204, "")), Outcome::Delivered);
        let r = single_outcome(&answer(400, r#"[{"message":"No such column 'X__c'","errorCode":"INVALID_FIELD"}]"#));
        assert!(matches!(&r, Outcome::Reject { reason } if reason.contains("INVALID_FIELD") && reason.contains("X__c")));
        assert!(matches!(single_outcome(&answer(300, "[\"/a\",\"/b\"]")), Outcome::Reject { .. }));
        let limit = single_outcome(&answer(403, r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#));
        assert_eq!(
            limit,
            Outcome::Retry {
                after: Some(Duration::from_secs(2)),
                reason: "HTTP 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.".into()
            }
        );
        assert!(matches!(single_outcome(&answer(403, r#"[{"errorCode":"INSUFFICIENT_ACCESS"}]"#)), Outcome::Reject { .. }));
        assert!(matches!(single_outcome(&answer(503, "")), Outcome::Retry { after: Some(_), .. }));
    }

    #[test]
    fn collection_entries() {
        assert_eq!(collection_entry_outcome(&json!({"id": "a", "success": true, "created": true})), Outcome::Delivered);
        let dup = json!({"success": false, "errors": [{"statusCode": "DUPLICATE_EXTERNAL_ID", "message": "dup", "fields": []}]});
        assert!(matches!(collection_entry_outcome(&dup), Outcome::Reject { .. }));
        let lock = json!({"success": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "x", "fields": []}]});
        assert!(matches!(collection_entry_outcome(&lock), Outcome::Retry { .. }));
    }

    #[test]
    fn encoding() {
        assert_eq!(form_encode(&[("a b", "x&y=z/é")]), "a%20b=x%26y%3Dz%2F%C3%A9");
        assert_eq!(path_segment("call:1/2"), "call%3A1%2F2");
    }
}
