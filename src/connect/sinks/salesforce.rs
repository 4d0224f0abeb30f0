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

use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::connect::salesforce::auth::{first_error, path_segment, Answer, SalesforceAuth};

use super::SinkConfig;
use crate::connect::event::EventKind;
use crate::connect::mapping::RecordMapping;
use crate::connect::outbox::Delivery;
use crate::connect::retry::{classify_http, truncate, Outcome};
use crate::connect::salesforce::SalesforceConfig;

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
    auth: SalesforceAuth,
    max_batch: usize,
    records: BTreeMap<EventKind, RecordMapping>,
}

/// One record to upsert and the deliveries it answers for.
struct Upsert {
    indices: Vec<usize>,
    key: String,
    record: Map<String, Value>,
}

/// What a single-record (or whole-request) answer means.
fn single_outcome(a: &Answer) -> Outcome {
    let (code, msg) = first_error(&a.body);
    match a.status {
        300 => Outcome::Reject {
            reason: format!(
                "HTTP 300: several records have this external id: {}",
                truncate(&a.body, 300)
            ),
        },
        400 | 404 => Outcome::Reject {
            reason: format!("HTTP {} {code}: {msg}", a.status),
        },
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
    let code = err
        .and_then(|e| e.get("statusCode"))
        .and_then(Value::as_str)
        .unwrap_or("UNKNOWN");
    let msg = err
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let fields = err
        .and_then(|e| e.get("fields"))
        .map(Value::to_string)
        .unwrap_or_default();
    let reason = format!("{code}: {msg} {fields}").trim_end().to_string();
    if TRANSIENT_CODES.contains(&code) {
        Outcome::retry(reason)
    } else {
        Outcome::Reject { reason }
    }
}

impl SalesforceSink {
    pub(super) fn new(
        sink: &SinkConfig,
        c: &SalesforceConfig,
        http: reqwest::Client,
    ) -> Result<Self, String> {
        Ok(Self {
            auth: SalesforceAuth::new(c, http)?,
            max_batch: sink.max_batch.min(COLLECTION_LIMIT),
            records: sink.records.clone(),
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
                outcomes[i] = Some(Outcome::Reject {
                    reason: "mapping has no object".into(),
                });
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
                None => group.push(Upsert {
                    indices: vec![i],
                    key: d.event.key.clone(),
                    record,
                }),
            }
        }
        for ((object, field), items) in groups {
            for chunk in items.chunks(self.max_batch) {
                let results = if let [one] = chunk {
                    vec![
                        self.upsert_one(&object, &field, &one.key, &one.record)
                            .await,
                    ]
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

    async fn upsert_one(
        &self,
        object: &str,
        field: &str,
        key: &str,
        record: &Map<String, Value>,
    ) -> Outcome {
        let path = format!(
            "/services/data/{}/sobjects/{}/{}/{}",
            self.auth.api_version,
            object,
            field,
            path_segment(key)
        );
        match self
            .auth
            .send(Method::PATCH, &path, Some(&Value::Object(record.clone())))
            .await
        {
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
        let path = format!(
            "/services/data/{}/composite/sobjects/{}/{}",
            self.auth.api_version, object, field
        );
        let body = json!({"allOrNone": false, "records": records});
        let answer = match self.auth.send(Method::PATCH, &path, Some(&body)).await {
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
            Ok(entries) if entries.len() == chunk.len() => {
                entries.iter().map(collection_entry_outcome).collect()
            }
            _ => vec![
                Outcome::retry(format!(
                    "unexpected Collections answer: {}",
                    truncate(&answer.body, 200)
                ));
                chunk.len()
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: Some(Duration::from_secs(2)),
            body: body.into(),
        }
    }

    #[test]
    fn single_answers() {
        assert_eq!(single_outcome(&answer(201, "{}")), Outcome::Delivered);
        assert_eq!(single_outcome(&answer(204, "")), Outcome::Delivered);
        let r = single_outcome(&answer(
            400,
            r#"[{"message":"No such column 'X__c'","errorCode":"INVALID_FIELD"}]"#,
        ));
        assert!(
            matches!(&r, Outcome::Reject { reason } if reason.contains("INVALID_FIELD") && reason.contains("X__c"))
        );
        assert!(matches!(
            single_outcome(&answer(300, "[\"/a\",\"/b\"]")),
            Outcome::Reject { .. }
        ));
        let limit = single_outcome(&answer(
            403,
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        ));
        assert_eq!(
            limit,
            Outcome::Retry {
                after: Some(Duration::from_secs(2)),
                reason: "HTTP 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.".into()
            }
        );
        assert!(matches!(
            single_outcome(&answer(403, r#"[{"errorCode":"INSUFFICIENT_ACCESS"}]"#)),
            Outcome::Reject { .. }
        ));
        assert!(matches!(
            single_outcome(&answer(503, "")),
            Outcome::Retry { after: Some(_), .. }
        ));
    }

    #[test]
    fn collection_entries() {
        assert_eq!(
            collection_entry_outcome(&json!({"id": "a", "success": true, "created": true})),
            Outcome::Delivered
        );
        let dup = json!({"success": false, "errors": [{"statusCode": "DUPLICATE_EXTERNAL_ID", "message": "dup", "fields": []}]});
        assert!(matches!(
            collection_entry_outcome(&dup),
            Outcome::Reject { .. }
        ));
        let lock = json!({"success": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "x", "fields": []}]});
        assert!(matches!(
            collection_entry_outcome(&lock),
            Outcome::Retry { .. }
        ));
    }
}
