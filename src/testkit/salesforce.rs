//! A Salesforce REST API test double: an in-process HTTP server on
//! `127.0.0.1:0` that speaks the parts of the real contract callsense uses,
//! and refuses what real Salesforce refuses.
//!
//! Owns: the OAuth 2.0 client-credentials token endpoint, single-record
//! upsert and read by external ID, sObject Collections upsert, an in-memory
//! record store with inspection helpers, and fault injection (expired
//! sessions, request limits, 429/503/500, latency). It must not be used on
//! the engine's data path, and it does not model anything callsense does
//! not call (SOQL, describe, Bulk API, composite graphs, XML).
//!
//! # Real behaviours enforced
//! - **Token** (`POST /services/oauth2/token`): form-encoded body only (a
//!   JSON body is not read, so it answers `unsupported_grant_type`, as
//!   Salesforce does); `grant_type=client_credentials`; client credentials
//!   from the body or HTTP Basic. Errors are OAuth-style objects
//!   (`{"error","error_description"}`, 400). Success carries
//!   `access_token`, `instance_url`, `id`, `token_type: "Bearer"`,
//!   `issued_at` (ms, as a string) and `signature` (Base64 HMAC-SHA256 of
//!   `id + issued_at` keyed by the client secret) and **no**
//!   `refresh_token`: a client must fetch a new token when it gets a 401.
//! - **Sessions**: every data call needs `Authorization: Bearer <token>`
//!   (`OAuth <token>` is accepted too, as Salesforce does); anything else,
//!   and every token after [`SalesforceDouble::expire_tokens`], gets 401
//!   `INVALID_SESSION_ID`.
//! - **API version**: `vNN.N`, at least v42.0, else 404 `NOT_FOUND`.
//!   Collections upsert exists from v46.0 (404 below); the `created` flag
//!   appears from v46.0; below it an update answers 204 No Content.
//! - **Upsert by external ID** (`PATCH .../sobjects/{obj}/{field}/{value}`):
//!   201 created / 200 updated (merge: absent fields are kept) / 300 with
//!   the matching records' URLs when the value is not unique. The body must
//!   be a JSON object of known fields with scalar values; `Id`,
//!   `attributes` and the URL's external ID field itself are refused
//!   (`INVALID_FIELD`), as the API reference says ("do not specify Id or an
//!   external ID field in the request body").
//! - **sObject Collections upsert** (`PATCH .../composite/sobjects/{obj}/
//!   {field}`): at most 200 records ([`MAX_COLLECTION_RECORDS`], the real
//!   limit) else 400 `EXCEEDED_ID_LIMIT`; results in input order; per-record
//!   `INVALID_TYPE`, `MISSING_ARGUMENT`, `INVALID_FIELD`,
//!   `DUPLICATE_VALUE` (the same external ID twice in one request) and
//!   `DUPLICATE_EXTERNAL_ID` (several stored records match); `allOrNone`
//!   rolls everything back with `ALL_OR_NONE_OPERATION_ROLLED_BACK`.
//!   Unknown top-level keys are a JSON parse error, as in Salesforce.
//! - **Read by external ID** (`GET .../sobjects/{obj}/{field}/{value}`):
//!   200 with `attributes` and every field (`null` when unset, or only
//!   `?fields=`), 404 when none matches, 300 when several do.
//! - **Matching**: object and field names are case-insensitive and stored
//!   in the schema's spelling; external ID values match case-insensitively
//!   (the default for Salesforce text external IDs); path segments are
//!   percent-decoded.
//! - **Ids**: 18 characters, a 3-character key prefix per object (`a00`,
//!   `a01`, … in name order), and a real case-safe checksum suffix.
//! - **Errors**: JSON arrays of `{"message","errorCode"}`, content type
//!   `application/json;charset=UTF-8`; 405 `METHOD_NOT_ALLOWED` on a known
//!   path with the wrong method; 413 past [`MAX_BODY_BYTES`]; 415
//!   `UNSUPPORTED_MEDIA_TYPE` for a non-JSON `Content-Type` on a PATCH.
//!   Data responses carry `Sforce-Limit-Info: api-usage=N/`[`DAILY_API_LIMIT`].
//! - **Limits and outages** ([`Fault`], [`SalesforceDouble::set_unavailable`]):
//!   403 `REQUEST_LIMIT_EXCEEDED`, 429 and 503 with `Retry-After`, 500
//!   `UNKNOWN_EXCEPTION`. A faulted request changes no data.
//!
//! # Deviations, chosen on purpose
//! - An external ID field the object does not have answers 404 `NOT_FOUND`
//!   ("Provided external ID field does not exist or is not accessible: X").
//! - The body limit is 8 MiB ([`MAX_BODY_BYTES`]); Salesforce's is 50 MB.
//! - An empty collection answers 400 `MISSING_ARGUMENT`.
//! - Field values must be JSON scalars: relationship upserts through a
//!   nested external ID object (`"Account__r": {"Ext__c": "…"}`) are not
//!   modelled and answer `JSON_PARSER_ERROR`. Field types, required fields,
//!   validation rules and `updateOnly` are not modelled either.
//! - There is no upper bound on the API version (Salesforce 404s versions
//!   it has not released).
//!
//! # Order of checks on a data call
//! outage (503) → body size (413) → route (404/405) → latency → session
//! (401) → API version (404) → injected fault → the endpoint's own checks.
//!
//! State sits in one `parking_lot::Mutex`; its guard is `!Send`, so no
//! handler can hold it across an `.await`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use sha2::Sha256;
use tokio::sync::watch;

/// Largest request body accepted; larger ones get 413 (Salesforce: 50 MB).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Records per sObject Collections request, as in Salesforce.
pub const MAX_COLLECTION_RECORDS: usize = 200;
/// The daily allowance reported in `Sforce-Limit-Info` (never enforced;
/// use [`Fault::RequestLimitExceeded`] to simulate running out).
pub const DAILY_API_LIMIT: u64 = 100_000;
/// Oldest API version served.
const MIN_VERSION: (u32, u32) = (42, 0);
/// From this version: collections upsert exists, upserts report `created`,
/// and an update answers 200 with a body rather than 204.
const V46: (u32, u32) = (46, 0);
const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
const ORG_ID: &str = "00D000000000001";
const USER_ID: &str = "005000000000001";
/// Retry-After of [`SalesforceDouble::set_unavailable`]'s 503s.
const OUTAGE_RETRY_AFTER_S: u64 = 1;
const ID_PREFIX_DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// What the double serves: the connected app's credentials and the org's
/// sObjects.
#[derive(Clone, Default)]
pub struct DoubleConfig {
    /// The connected app's consumer key.
    pub client_id: String,
    /// The connected app's consumer secret (redacted from `Debug`).
    pub client_secret: String,
    /// sObjects that exist: API name → schema.
    pub objects: BTreeMap<String, ObjectSchema>,
}

impl fmt::Debug for DoubleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoubleConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("objects", &self.objects)
            .finish()
    }
}

/// The fields of one sObject. External ID fields are fields too, whether or
/// not they are also listed in `fields`; `Id` is implicit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectSchema {
    /// Writable field API names.
    pub fields: BTreeSet<String>,
    /// Fields marked External ID (usable in upsert and read URLs).
    pub external_id_fields: BTreeSet<String>,
}

impl ObjectSchema {
    /// A schema from field names and external ID field names.
    pub fn new<F, E>(fields: F, external_id_fields: E) -> Self
    where
        F: IntoIterator,
        F::Item: Into<String>,
        E: IntoIterator,
        E::Item: Into<String>,
    {
        Self {
            fields: fields.into_iter().map(Into::into).collect(),
            external_id_fields: external_id_fields.into_iter().map(Into::into).collect(),
        }
    }
}

/// A failure to inject into the next data calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 403 `REQUEST_LIMIT_EXCEEDED` (the org's daily API allowance is spent).
    RequestLimitExceeded,
    /// 429 with `Retry-After` (concurrent request limit).
    TooManyRequests {
        /// Seconds in the `Retry-After` header.
        retry_after_s: u64,
    },
    /// 503 `SERVER_UNAVAILABLE` with `Retry-After`.
    Unavailable {
        /// Seconds in the `Retry-After` header.
        retry_after_s: u64,
    },
    /// 500 `UNKNOWN_EXCEPTION`.
    ServerError,
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoubleStats {
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Every HTTP request received, whatever its route or outcome.
    pub requests: u64,
    /// Requests routed to single-record upsert (`PATCH`), whatever their outcome.
    pub upsert_requests: u64,
    /// Requests routed to sObject Collections upsert, whatever their outcome.
    pub collections_requests: u64,
    /// Records created by upserts (collections count each record).
    pub records_created: u64,
    /// Records updated by upserts.
    pub records_updated: u64,
    /// Data calls refused with 401 `INVALID_SESSION_ID`.
    pub rejected_401: u64,
    /// Requests refused with 429, 503 or 403 `REQUEST_LIMIT_EXCEEDED`
    /// (injected faults and outages, token endpoint included).
    pub rejected_429_503_403limit: u64,
    /// Data calls answered 500 by [`Fault::ServerError`].
    pub server_errors: u64,
}

/// A running double. Cloning is cheap (an `Arc`); the server stops when the
/// last clone is dropped or on [`SalesforceDouble::shutdown`]: it stops
/// accepting at once, lets in-flight requests finish and closes idle
/// keep-alive connections.
#[derive(Clone)]
pub struct SalesforceDouble {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: tokio::task::AbortHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.task.abort();
    }
}

impl fmt::Debug for SalesforceDouble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceDouble")
            .field("base_url", &self.inner.shared.base_url)
            .finish_non_exhaustive()
    }
}

/// Now as Salesforce writes datetimes: `2026-11-25T03:30:00.123+0000`.
fn sf_datetime_now() -> String {
    let ms = crate::connect::event::now_ms();
    crate::connect::mapping::rfc3339_utc(ms).replace('Z', "+0000")
}

/// Unix milliseconds of a Salesforce datetime (`CreatedDate`,
/// `SystemModstamp`) as the double writes them.
pub fn datetime_ms(value: &str) -> Option<u64> {
    let v = value.strip_suffix("+0000")?;
    let num = |r: std::ops::Range<usize>| v.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms).ok()
}

impl SalesforceDouble {
    /// Binds `127.0.0.1:0` and serves on the current tokio runtime.
    ///
    /// # Errors
    /// The socket cannot be bound, or there are more objects than 3-character
    /// key prefixes (1,296).
    pub async fn start(config: DoubleConfig) -> std::io::Result<Self> {
        let prefixes = ID_PREFIX_DIGITS.len() * ID_PREFIX_DIGITS.len();
        if config.objects.len() > prefixes {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("at most {prefixes} objects"),
            ));
        }
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let objects = config
            .objects
            .into_iter()
            .enumerate()
            .map(|(i, (name, schema))| {
                let n = ID_PREFIX_DIGITS.len();
                let prefix: String = [
                    'a',
                    char::from(ID_PREFIX_DIGITS[i / n]),
                    char::from(ID_PREFIX_DIGITS[i % n]),
                ]
                .into_iter()
                .collect();
                (name, ObjectInfo { schema, prefix })
            })
            .collect();
        let shared = Arc::new(Shared {
            base_url,
            client_id: config.client_id,
            client_secret: config.client_secret,
            objects,
            state: Mutex::new(StoreState::default()),
        });
        let app: Router = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(Arc::clone(&shared));
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let signal = async move {
                // A dropped sender also ends the wait: either way, stop.
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await
            {
                tracing::warn!(error = %e, "Salesforce double stopped serving");
            }
        });
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                stop,
                task: task.abort_handle(),
            }),
        })
    }

    /// `http://127.0.0.1:PORT`: both the login URL and the `instance_url`.
    pub fn base_url(&self) -> String {
        self.inner.shared.base_url.clone()
    }

    /// Stops serving (see the type's docs). Idempotent.
    pub fn shutdown(&self) {
        self.inner.stop.send_replace(true);
        self.inner.task.abort();
    }

    /// Stored records of `object` (name case-insensitive), in creation
    /// order, each with its `"Id"`. Empty for an unknown object.
    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        let shared = &self.inner.shared;
        let Some((name, _)) = shared.object(object) else {
            return Vec::new();
        };
        shared
            .state
            .lock()
            .records
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// The first stored record of `object` whose `field` matches `value`
    /// the way external IDs match (strings case-insensitively, numbers by
    /// their decimal form).
    pub fn record_by(&self, object: &str, field: &str, value: &str) -> Option<Map<String, Value>> {
        let shared = &self.inner.shared;
        let (name, _) = shared.object(object)?;
        let state = shared.state.lock();
        let records = state.records.get(name)?;
        let key = value.to_lowercase();
        find_matches(records, field, &key)
            .first()
            .map(|&i| records[i].clone())
    }

    /// Counters since start.
    pub fn stats(&self) -> DoubleStats {
        self.inner.shared.state.lock().stats
    }

    /// Invalidates every token issued so far: the next data call with any
    /// of them gets 401 `INVALID_SESSION_ID`. Tokens issued later work.
    pub fn expire_tokens(&self) {
        self.inner.shared.state.lock().tokens.clear();
    }

    /// While `down`, every request (token endpoint included) gets 503
    /// `SERVER_UNAVAILABLE` with `Retry-After: 1`.
    pub fn set_unavailable(&self, down: bool) {
        self.inner.shared.state.lock().unavailable = down;
    }

    /// The next `n` data calls that pass the session and version checks get
    /// `fault` instead of an answer; queued after faults already pending.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        if n > 0 {
            self.inner.shared.state.lock().faults.push_back((n, fault));
        }
    }

    /// Seeds a record as it is (no field checks), giving it an `"Id"` when
    /// it has none; returns the `Id`. Seeding two records with the same
    /// external ID value makes later upserts to that value answer 300.
    ///
    /// # Panics
    /// `object` is not in the config (a mistake in the test itself).
    pub fn insert_record(&self, object: &str, mut record: Map<String, Value>) -> String {
        let shared = &self.inner.shared;
        let Some((name, info)) = shared.object(object) else {
            panic!("insert_record: object `{object}` is not in the DoubleConfig");
        };
        let mut state = shared.state.lock();
        let id = match record.get("Id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => {
                let id = state.next_id(name, &info.prefix);
                record.insert("Id".into(), Value::String(id.clone()));
                id
            }
        };
        state
            .records
            .entry(name.to_owned())
            .or_default()
            .push(record);
        id
    }

    /// Delay added before each data call is processed (benchmarks, timeouts).
    pub fn set_latency(&self, d: Duration) {
        self.inner.shared.state.lock().latency = d;
    }
}

// ---------------------------------------------------------------------------
// State

struct ObjectInfo {
    schema: ObjectSchema,
    prefix: String,
}

impl ObjectInfo {
    /// The schema's spelling of a field name (external ID fields included).
    fn field(&self, name: &str) -> Option<&str> {
        self.schema
            .fields
            .iter()
            .chain(&self.schema.external_id_fields)
            .find(|f| f.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }

    fn external_id_field(&self, name: &str) -> Option<&str> {
        self.schema
            .external_id_fields
            .iter()
            .find(|f| f.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }
}

struct Shared {
    base_url: String,
    client_id: String,
    client_secret: String,
    objects: BTreeMap<String, ObjectInfo>,
    state: Mutex<StoreState>,
}

impl Shared {
    fn object(&self, name: &str) -> Option<(&str, &ObjectInfo)> {
        self.objects
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(n, info)| (n.as_str(), info))
    }
}

#[derive(Default)]
struct StoreState {
    tokens: HashSet<String>,
    /// Object API name → records in creation order.
    records: BTreeMap<String, Vec<Map<String, Value>>>,
    id_counters: BTreeMap<String, u64>,
    stats: DoubleStats,
    unavailable: bool,
    /// (calls left, fault), oldest first.
    faults: VecDeque<(usize, Fault)>,
    latency: Duration,
    api_calls: u64,
}

impl StoreState {
    fn next_id(&mut self, object: &str, prefix: &str) -> String {
        let n = self.id_counters.entry(object.to_owned()).or_insert(0);
        *n += 1;
        record_id(prefix, *n)
    }

    fn take_fault(&mut self) -> Option<Fault> {
        let (left, fault) = self.faults.front_mut()?;
        let fault = *fault;
        *left -= 1;
        if *left == 0 {
            self.faults.pop_front();
        }
        Some(fault)
    }

    /// Creates a record from checked fields; returns its Id.
    fn create(&mut self, object: &str, prefix: &str, mut fields: Map<String, Value>) -> String {
        let id = self.next_id(object, prefix);
        fields.insert("Id".into(), Value::String(id.clone()));
        let now = sf_datetime_now();
        fields.insert("CreatedDate".into(), Value::String(now.clone()));
        fields.insert("SystemModstamp".into(), Value::String(now));
        self.records
            .entry(object.to_owned())
            .or_default()
            .push(fields);
        self.stats.records_created += 1;
        id
    }

    /// Merges checked fields into record `index`; returns its Id.
    fn update(&mut self, object: &str, index: usize, fields: Map<String, Value>) -> String {
        let Some(record) = self
            .records
            .get_mut(object)
            .and_then(|records| records.get_mut(index))
        else {
            return String::new();
        };
        record.extend(fields);
        record.insert("SystemModstamp".into(), Value::String(sf_datetime_now()));
        self.stats.records_updated += 1;
        record_id_of(record)
    }

    fn records_of(&self, object: &str) -> &[Map<String, Value>] {
        self.records.get(object).map_or(&[], Vec::as_slice)
    }
}

/// An 18-character Id: 3-character key prefix, 12-digit counter, and the
/// case-safe checksum Salesforce appends to 15-character Ids.
fn record_id(prefix: &str, n: u64) -> String {
    let id = format!("{prefix}{n:012}");
    let suffix = case_safe_suffix(&id);
    id + &suffix
}

/// The 3 characters Salesforce appends to a 15-character Id: per 5-character
/// chunk, a bit per upper-case letter, as one of `A–Z0–5`.
fn case_safe_suffix(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .take(3)
        .map(|chunk| {
            let flags = chunk
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[flags])
        })
        .collect()
}

fn record_id_of(record: &Map<String, Value>) -> String {
    record
        .get("Id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// How an external ID value compares: text case-insensitively, numbers by
/// their decimal form; empty, null and other values never match.
fn match_key(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.to_lowercase()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn find_matches(records: &[Map<String, Value>], field: &str, key: &str) -> Vec<usize> {
    records
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .and_then(|(_, v)| match_key(v))
                .is_some_and(|k| k == key)
        })
        .map(|(i, _)| i)
        .collect()
}

// ---------------------------------------------------------------------------
// Routing

enum Route {
    Token,
    Upsert(RecordPath),
    Read(RecordPath),
    Collections {
        version: String,
        object: String,
        field: String,
    },
}

struct RecordPath {
    version: String,
    object: String,
    field: String,
    value: String,
}

enum Routed {
    Found(Route),
    NotFound,
    MethodNotAllowed(&'static str),
}

fn route(method: &Method, uri: &Uri) -> Routed {
    let raw: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let Some(seg) = raw
        .iter()
        .map(|s| percent_decode(s, false).filter(|s| !s.is_empty()))
        .collect::<Option<Vec<String>>>()
    else {
        return Routed::NotFound;
    };
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    let allow = |allowed: Method, list: &'static str, route: Route| {
        if *method == allowed {
            Routed::Found(route)
        } else {
            Routed::MethodNotAllowed(list)
        }
    };
    match seg.as_slice() {
        ["services", "oauth2", "token"] => allow(Method::POST, "POST", Route::Token),
        ["services", "data", version, "sobjects", object, field, value] => {
            let path = RecordPath {
                version: (*version).to_owned(),
                object: (*object).to_owned(),
                field: (*field).to_owned(),
                value: (*value).to_owned(),
            };
            if *method == Method::PATCH {
                Routed::Found(Route::Upsert(path))
            } else if *method == Method::GET {
                Routed::Found(Route::Read(path))
            } else {
                Routed::MethodNotAllowed("GET,PATCH")
            }
        }
        ["services", "data", version, "composite", "sobjects", object, field] => allow(
            Method::PATCH,
            "PATCH",
            Route::Collections {
                version: (*version).to_owned(),
                object: (*object).to_owned(),
                field: (*field).to_owned(),
            },
        ),
        _ => Routed::NotFound,
    }
}

/// `vNN.N` → (NN, N).
fn parse_version(s: &str) -> Option<(u32, u32)> {
    let (major, minor) = s.strip_prefix('v')?.split_once('.')?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || minor.len() != 1 || !digits(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `a=1&b=2` (form bodies and query strings); undecodable pairs are skipped.
fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k, true)?, percent_decode(v, true)?))
        })
        .collect()
}

fn form_value<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

// ---------------------------------------------------------------------------
// Responses

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    resp
}

/// Salesforce's error shape: `[{"message": …, "errorCode": …}]`.
fn api_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    json_response(
        status,
        &json!([{ "message": message.into(), "errorCode": code }]),
    )
}

/// A whole-request refusal, before it becomes a response.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn json_parser(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        api_error(self.status, self.code, self.message)
    }
}

fn not_found() -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "The requested resource does not exist",
    )
}

fn bad_external_id_field(field: &str) -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("Provided external ID field does not exist or is not accessible: {field}"),
    )
}

fn no_such_column(field: &str, object: &str) -> String {
    format!("No such column '{field}' on sobject of type {object}")
}

fn oauth_error(error: &str, description: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "error": error, "error_description": description }),
    )
}

fn fault_response(fault: Fault) -> Response {
    let (status, code, message, retry_after) = match fault {
        Fault::RequestLimitExceeded => (
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            None,
        ),
        Fault::TooManyRequests { retry_after_s } => (
            StatusCode::TOO_MANY_REQUESTS,
            "REQUEST_LIMIT_EXCEEDED",
            "Too many requests",
            Some(retry_after_s),
        ),
        Fault::Unavailable { retry_after_s } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_UNAVAILABLE",
            "Service unavailable",
            Some(retry_after_s),
        ),
        Fault::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred",
            None,
        ),
    };
    let mut resp = api_error(status, code, message);
    if let Some(s) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    resp
}

/// `https://…/services/data/vXX.X/sobjects/Obj/Id` without the host, as in
/// 300 bodies and `attributes.url`.
fn record_url(version: &str, object: &str, id: &str) -> String {
    format!("/services/data/{version}/sobjects/{object}/{id}")
}

/// One upsert result, as in both single and collections responses.
fn upsert_result(id: &str, created: bool, version: (u32, u32)) -> Value {
    let mut v = json!({ "id": id, "success": true, "errors": [] });
    if version >= V46 {
        v["created"] = Value::Bool(created);
    }
    v
}

fn record_failure(code: &str, message: impl Into<String>, fields: &[&str]) -> Value {
    json!({ "statusCode": code, "message": message.into(), "fields": fields })
}

// ---------------------------------------------------------------------------
// Handlers

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let down = {
        let mut state = shared.state.lock();
        state.stats.requests += 1;
        if state.unavailable {
            state.stats.rejected_429_503_403limit += 1;
        }
        state.unavailable
    };
    if down {
        return fault_response(Fault::Unavailable {
            retry_after_s: OUTAGE_RETRY_AFTER_S,
        });
    }
    let body = match body {
        Ok(body) => body,
        Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
            return api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_ENTITY_TOO_LARGE",
                format!("Request body exceeds {MAX_BODY_BYTES} bytes"),
            )
        }
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", e.body_text()),
    };
    match route(&method, &uri) {
        Routed::NotFound => not_found(),
        Routed::MethodNotAllowed(allowed) => {
            let mut resp = api_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allowed));
            resp
        }
        Routed::Found(Route::Token) => token(&shared, &headers, &body),
        Routed::Found(data) => data_call(&shared, data, &headers, uri.query(), &body).await,
    }
}

/// `POST /services/oauth2/token`, client-credentials flow.
fn token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    let params = match std::str::from_utf8(body) {
        Ok(text) if is_form => parse_form(text),
        _ => Vec::new(),
    };
    if form_value(&params, "grant_type") != Some("client_credentials") {
        return oauth_error("unsupported_grant_type", "grant type not supported");
    }
    let (id, secret) = match (
        form_value(&params, "client_id"),
        form_value(&params, "client_secret"),
    ) {
        (Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
        _ => basic_credentials(headers).unwrap_or_default(),
    };
    if id.is_empty() || id != shared.client_id || secret != shared.client_secret {
        return oauth_error("invalid_client", "invalid client credentials");
    }
    let access_token = format!(
        "{ORG_ID}!{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let issued_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string();
    let id_url = format!("{}/id/{ORG_ID}/{USER_ID}", shared.base_url);
    let signature = {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(shared.client_secret.as_bytes())
            .expect("HMAC takes any key length");
        mac.update(id_url.as_bytes());
        mac.update(issued_at.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    {
        let mut state = shared.state.lock();
        state.tokens.insert(access_token.clone());
        state.stats.tokens_issued += 1;
    }
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "instance_url": shared.base_url,
            "id": id_url,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": signature,
        }),
    )
}

/// `Authorization: Basic base64(client_id:client_secret)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
}

/// The shared front of every data endpoint: latency, session, version,
/// injected faults, usage header.
async fn data_call(
    shared: &Shared,
    route: Route,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Response {
    let latency = {
        let mut state = shared.state.lock();
        match route {
            Route::Upsert(_) => state.stats.upsert_requests += 1,
            Route::Collections { .. } => state.stats.collections_requests += 1,
            Route::Read(_) | Route::Token => {}
        }
        state.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut state = shared.state.lock();
    if !bearer_token(headers).is_some_and(|t| state.tokens.contains(t)) {
        state.stats.rejected_401 += 1;
        return api_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        );
    }
    let raw_version = match &route {
        Route::Upsert(p) | Route::Read(p) => p.version.as_str(),
        Route::Collections { version, .. } => version.as_str(),
        Route::Token => "",
    };
    let Some(version) = parse_version(raw_version).filter(|v| *v >= MIN_VERSION) else {
        return not_found();
    };
    if let Some(fault) = state.take_fault() {
        match fault {
            Fault::ServerError => state.stats.server_errors += 1,
            _ => state.stats.rejected_429_503_403limit += 1,
        }
        return fault_response(fault);
    }
    state.api_calls += 1;
    let usage = state.api_calls;
    let mut resp = match route {
        Route::Upsert(path) => upsert_one(shared, &mut state, version, &path, headers, body),
        Route::Read(path) => read_one(shared, &state, &path, query),
        Route::Collections { object, field, .. } if version >= V46 => {
            upsert_collection(shared, &mut state, version, &object, &field, headers, body)
        }
        Route::Collections { .. } | Route::Token => not_found(),
    };
    drop(state);
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={usage}/{DAILY_API_LIMIT}")) {
        resp.headers_mut().insert("sforce-limit-info", v);
    }
    resp
}

/// 415 unless the request's `Content-Type` is absent or JSON.
fn check_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or_default();
    let media = text.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            format!("Content-Type header specified in HTTP request is not supported: {text}"),
        ))
    }
}

fn parse_json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::json_parser(format!(
            "Cannot deserialize instance of an sObject from a JSON {} value",
            json_kind(&other)
        ))),
        Err(e) => Err(ApiError::json_parser(format!("Malformed JSON: {e}"))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// `PATCH .../sobjects/{object}/{field}/{value}`.
fn upsert_one(
    shared: &Shared,
    state: &mut StoreState,
    version: (u32, u32),
    path: &RecordPath,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some((object, info)) = shared.object(&path.object) else {
        return not_found();
    };
    let Some(ext) = info.external_id_field(&path.field) else {
        return bad_external_id_field(&path.field);
    };
    if let Err(e) = check_json_content_type(headers) {
        return e.into_response();
    }
    let body = match parse_json_object(body) {
        Ok(map) => map,
        Err(e) => return e.into_response(),
    };
    let invalid = |m: String| api_error(StatusCode::BAD_REQUEST, "INVALID_FIELD", m);
    let mut fields = Map::new();
    for (key, value) in body {
        if key == "attributes" || key.eq_ignore_ascii_case("Id") {
            return invalid(format!(
                "{key} is not allowed in an upsert request body; the record is chosen by {ext} in the URL"
            ));
        }
        let Some(name) = info.field(&key) else {
            return invalid(no_such_column(&key, object));
        };
        if name == ext {
            return invalid(format!(
                "The external ID field {ext} is given in the URL and must not be in the request body"
            ));
        }
        if !is_scalar(&value) {
            return api_error(
                StatusCode::BAD_REQUEST,
                "JSON_PARSER_ERROR",
                format!(
                    "Cannot deserialize a JSON {} as the value of {name}",
                    json_kind(&value)
                ),
            );
        }
        fields.insert(name.to_owned(), value);
    }
    let matches = find_matches(state.records_of(object), ext, &path.value.to_lowercase());
    match matches.as_slice() {
        [] => {
            fields.insert(ext.to_owned(), Value::String(path.value.clone()));
            let id = state.create(object, &info.prefix, fields);
            json_response(StatusCode::CREATED, &upsert_result(&id, true, version))
        }
        [index] => {
            let id = state.update(object, *index, fields);
            if version >= V46 {
                json_response(StatusCode::OK, &upsert_result(&id, false, version))
            } else {
                StatusCode::NO_CONTENT.into_response()
            }
        }
        several => {
            let records = state.records_of(object);
            let urls: Vec<String> = several
                .iter()
                .map(|&i| record_url(&path.version, object, &record_id_of(&records[i])))
                .collect();
            json_response(StatusCode::MULTIPLE_CHOICES, &json!(urls))
        }
    }
}

/// `GET .../sobjects/{object}/{field}/{value}[?fields=A,B]`.
fn read_one(
    shared: &Shared,
    state: &StoreState,
    path: &RecordPath,
    query: Option<&str>,
) -> Response {
    let Some((object, info)) = shared.object(&path.object) else {
        return not_found();
    };
    let Some(ext) = info.external_id_field(&path.field) else {
        return bad_external_id_field(&path.field);
    };
    let params = query.map(parse_form).unwrap_or_default();
    let wanted: Vec<&str> = match form_value(&params, "fields") {
        Some(list) => {
            let mut wanted = Vec::new();
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                match info.field(name) {
                    Some(f) => wanted.push(f),
                    None if name.eq_ignore_ascii_case("Id") => {}
                    None => {
                        return api_error(
                            StatusCode::BAD_REQUEST,
                            "INVALID_FIELD",
                            no_such_column(name, object),
                        )
                    }
                }
            }
            wanted
        }
        None => info
            .schema
            .fields
            .iter()
            .chain(&info.schema.external_id_fields)
            .map(String::as_str)
            .collect(),
    };
    let records = state.records_of(object);
    let matches = find_matches(records, ext, &path.value.to_lowercase());
    match matches.as_slice() {
        [] => not_found(),
        [index] => {
            let record = &records[*index];
            let id = record_id_of(record);
            let mut out = Map::new();
            out.insert(
                "attributes".into(),
                json!({ "type": object, "url": record_url(&path.version, object, &id) }),
            );
            out.insert("Id".into(), Value::String(id));
            for name in wanted {
                let value = record
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map_or(Value::Null, |(_, v)| v.clone());
                out.insert(name.to_owned(), value);
            }
            json_response(StatusCode::OK, &Value::Object(out))
        }
        several => {
            let urls: Vec<String> = several
                .iter()
                .map(|&i| record_url(&path.version, object, &record_id_of(&records[i])))
                .collect();
            json_response(StatusCode::MULTIPLE_CHOICES, &json!(urls))
        }
    }
}

/// A collections record that passed its own checks.
struct Prepared {
    fields: Map<String, Value>,
    /// [`match_key`] of the external ID value.
    key: String,
    /// The external ID value as sent, for messages.
    shown: String,
    target: Option<usize>,
}

/// `PATCH .../composite/sobjects/{object}/{field}` (v46.0+).
fn upsert_collection(
    shared: &Shared,
    state: &mut StoreState,
    version: (u32, u32),
    object: &str,
    field: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some((object, info)) = shared.object(object) else {
        return not_found();
    };
    let Some(ext) = info.external_id_field(field) else {
        return bad_external_id_field(field);
    };
    if let Err(e) = check_json_content_type(headers) {
        return e.into_response();
    }
    let (all_or_none, records) = match parse_collection(body) {
        Ok(parsed) => parsed,
        Err(e) => return e.into_response(),
    };
    let mut outcomes: Vec<Result<Prepared, Value>> = records
        .iter()
        .map(|r| check_collection_record(object, info, ext, r))
        .collect();

    // The same external ID twice in one request fails every occurrence.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for p in outcomes.iter().flatten() {
        *seen.entry(p.key.clone()).or_default() += 1;
    }
    let existing = state.records_of(object);
    for outcome in &mut outcomes {
        let Ok(p) = outcome else { continue };
        if seen.get(&p.key).is_some_and(|&n| n > 1) {
            *outcome = Err(record_failure(
                "DUPLICATE_VALUE",
                format!("Duplicate external id specified: {}", p.shown),
                &[ext],
            ));
            continue;
        }
        match find_matches(existing, ext, &p.key).as_slice() {
            [] => {}
            [index] => p.target = Some(*index),
            several => {
                let ids: Vec<String> = several
                    .iter()
                    .map(|&i| record_id_of(&existing[i]))
                    .collect();
                *outcome = Err(record_failure(
                    "DUPLICATE_EXTERNAL_ID",
                    format!(
                        "{ext}: more than one record found for external id field: [{}]",
                        ids.join(", ")
                    ),
                    &[ext],
                ));
            }
        }
    }

    let failed = |errors: Value| json!({ "success": false, "errors": [errors] });
    let any_failed = outcomes.iter().any(Result::is_err);
    let results: Vec<Value> = if all_or_none && any_failed {
        outcomes
            .into_iter()
            .map(|o| match o {
                Err(e) => failed(e),
                Ok(_) => failed(record_failure(
                    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "Record rolled back because not all records were valid and the request was using AllOrNone header",
                    &[],
                )),
            })
            .collect()
    } else {
        outcomes
            .into_iter()
            .map(|o| match o {
                Err(e) => failed(e),
                Ok(Prepared {
                    fields,
                    target: Some(index),
                    ..
                }) => upsert_result(&state.update(object, index, fields), false, version),
                Ok(Prepared {
                    fields,
                    target: None,
                    ..
                }) => upsert_result(&state.create(object, &info.prefix, fields), true, version),
            })
            .collect()
    };
    json_response(StatusCode::OK, &Value::Array(results))
}

/// The request envelope: `{"allOrNone": bool, "records": [ {…}, … ]}`.
fn parse_collection(body: &[u8]) -> Result<(bool, Vec<Map<String, Value>>), ApiError> {
    let envelope = parse_json_object(body)?;
    if let Some(key) = envelope
        .keys()
        .find(|k| !matches!(k.as_str(), "allOrNone" | "records"))
    {
        return Err(ApiError::json_parser(format!(
            "Unrecognized field \"{key}\" (allowed: allOrNone, records)"
        )));
    }
    let all_or_none = match envelope.get("allOrNone") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ApiError::json_parser(format!(
                "allOrNone must be a boolean, not a JSON {}",
                json_kind(other)
            )))
        }
    };
    let none = Vec::new();
    let records = match envelope.get("records") {
        Some(Value::Array(records)) => records,
        None | Some(Value::Null) => &none,
        Some(other) => {
            return Err(ApiError::json_parser(format!(
                "records must be an array, not a JSON {}",
                json_kind(other)
            )))
        }
    };
    if records.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_ARGUMENT",
            "records: a non-empty list of records is required",
        ));
    }
    if records.len() > MAX_COLLECTION_RECORDS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "EXCEEDED_ID_LIMIT",
            format!(
                "record limit reached. cannot submit more than {MAX_COLLECTION_RECORDS} records into this call"
            ),
        ));
    }
    let mut out = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let Value::Object(map) = record else {
            return Err(ApiError::json_parser(format!(
                "records[{i}] must be an object, not a JSON {}",
                json_kind(record)
            )));
        };
        if let Some((k, v)) = map
            .iter()
            .find(|(k, v)| k.as_str() != "attributes" && !is_scalar(v))
        {
            return Err(ApiError::json_parser(format!(
                "records[{i}]: cannot deserialize a JSON {} as the value of {k}",
                json_kind(v)
            )));
        }
        out.push(map.clone());
    }
    Ok((all_or_none, out))
}

/// Per-record checks of a collections upsert, in Salesforce's order of
/// interest: type, Id, unknown fields, external ID value.
fn check_collection_record(
    object: &str,
    info: &ObjectInfo,
    ext: &str,
    record: &Map<String, Value>,
) -> Result<Prepared, Value> {
    let kind = record
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    if !kind.is_some_and(|k| k.eq_ignore_ascii_case(object)) {
        return Err(record_failure(
            "INVALID_TYPE",
            format!(
                "Each record needs attributes.type {object} (the object in the URL); got {}",
                kind.unwrap_or("none")
            ),
            &[],
        ));
    }
    let mut fields = Map::new();
    let mut key = None;
    for (name, value) in record {
        if name == "attributes" {
            continue;
        }
        if name.eq_ignore_ascii_case("Id") {
            return Err(record_failure(
                "INVALID_FIELD",
                format!("Id is not allowed in a collections upsert; records are matched by {ext}"),
                &["Id"],
            ));
        }
        let Some(canonical) = info.field(name) else {
            return Err(record_failure(
                "INVALID_FIELD",
                no_such_column(name, object),
                &[name.as_str()],
            ));
        };
        if canonical == ext {
            key = match_key(value).map(|k| {
                (
                    k,
                    value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned),
                )
            });
        }
        fields.insert(canonical.to_owned(), value.clone());
    }
    let Some((key, shown)) = key else {
        return Err(record_failure(
            "MISSING_ARGUMENT",
            format!("{ext} not specified"),
            &[ext],
        ));
    };
    Ok(Prepared {
        fields,
        key,
        shown,
        target: None,
    })
}

#[cfg(test)]
mod datetime_tests {
    #[test]
    fn datetimes_round_trip() {
        for ms in [0u64, 951_782_400_123, 1_764_041_400_999] {
            let text = crate::connect::mapping::rfc3339_utc(ms).replace('Z', "+0000");
            assert_eq!(super::datetime_ms(&text), Some(ms), "{text}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V: &str = "v61.0";

    fn config() -> DoubleConfig {
        let mut objects = BTreeMap::new();
        objects.insert(
            "CallFact__c".to_owned(),
            ObjectSchema::new(
                ["Sentiment__c", "Intent__c", "Score__c", "Notes__c"],
                ["Call_Id__c"],
            ),
        );
        objects.insert(
            "Contact".to_owned(),
            ObjectSchema::new(["LastName", "Phone"], ["Customer_Id__c"]),
        );
        DoubleConfig {
            client_id: "cid".into(),
            client_secret: "csecret".into(),
            objects,
        }
    }

    async fn start() -> SalesforceDouble {
        SalesforceDouble::start(config())
            .await
            .expect("double starts")
    }

    fn http() -> reqwest::Client {
        reqwest::Client::new()
    }

    async fn token(sf: &SalesforceDouble) -> String {
        let resp = http()
            .post(format!("{}/services/oauth2/token", sf.base_url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "cid"),
                ("client_secret", "csecret"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    struct Reply {
        status: u16,
        headers: HeaderMap,
        body: Value,
    }

    async fn send(
        sf: &SalesforceDouble,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = http().request(method, format!("{}{path}", sf.base_url()));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header(header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    fn upsert_path(version: &str, value: &str) -> String {
        format!("/services/data/{version}/sobjects/CallFact__c/Call_Id__c/{value}")
    }

    fn collection_path() -> String {
        format!("/services/data/{V}/composite/sobjects/CallFact__c/Call_Id__c")
    }

    fn error_code(r: &Reply) -> &str {
        r.body[0]["errorCode"].as_str().unwrap_or_default()
    }

    fn is_json(r: &Reply) -> bool {
        r.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            == Some(JSON_CONTENT_TYPE)
    }

    fn retry_after(r: &Reply) -> Option<&str> {
        r.headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn ids_are_18_chars_with_case_safe_checksum() {
        // A published example: 001A0000006Vm9r → 001A0000006Vm9rIAC.
        assert_eq!(case_safe_suffix("001A0000006Vm9r"), "IAC");
        assert_eq!(record_id("a0B", 7), "a0B000000000007EAA");
        assert_eq!(record_id("a00", 1).len(), 18);
        assert_eq!(parse_version("v59.0"), Some((59, 0)));
        for bad in ["59.0", "v59", "v59.00", "v.0", "vx9.0"] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn token_success_carries_the_client_credentials_shape() {
        let sf = start().await;
        let resp = http()
            .post(format!("{}/services/oauth2/token", sf.base_url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "cid"),
                ("client_secret", "csecret"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/json;charset=UTF-8"
        );
        let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!(body["instance_url"], sf.base_url());
        assert_eq!(
            body["id"],
            format!("{}/id/00D000000000001/005000000000001", sf.base_url())
        );
        assert_eq!(body["token_type"], "Bearer");
        assert!(body.get("refresh_token").is_none());
        let issued: u128 = body["issued_at"].as_str().unwrap().parse().unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert!(now.abs_diff(issued) < 60_000);
        // The signature is HMAC-SHA256(secret, id + issued_at), Base64.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"csecret").unwrap();
        mac.update(body["id"].as_str().unwrap().as_bytes());
        mac.update(body["issued_at"].as_str().unwrap().as_bytes());
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(body["signature"], expected);

        // HTTP Basic client authentication works too, and tokens differ.
        let resp = http()
            .post(format!("{}/services/oauth2/token", sf.base_url()))
            .basic_auth("cid", Some("csecret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let second: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        assert_ne!(second["access_token"], body["access_token"]);
        assert_eq!(sf.stats().tokens_issued, 2);
    }

    #[tokio::test]
    async fn token_errors_are_oauth_shaped() {
        let sf = start().await;
        let url = format!("{}/services/oauth2/token", sf.base_url());
        let post = |form: Vec<(&'static str, &'static str)>| {
            let url = url.clone();
            async move {
                let resp = http().post(url).form(&form).send().await.unwrap();
                let status = resp.status().as_u16();
                let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
                (status, body)
            }
        };
        let (status, body) = post(vec![
            ("grant_type", "client_credentials"),
            ("client_id", "cid"),
            ("client_secret", "wrong"),
        ])
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"error": "invalid_client", "error_description": "invalid client credentials"})
        );
        let (status, body) = post(vec![
            ("grant_type", "password"),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
        ])
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"error": "unsupported_grant_type", "error_description": "grant type not supported"})
        );
        // A JSON body is not read: Salesforce answers unsupported_grant_type.
        let resp = http()
            .post(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(r#"{"grant_type":"client_credentials","client_id":"cid","client_secret":"csecret"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"], "unsupported_grant_type");
        assert_eq!(sf.stats().tokens_issued, 0);
    }

    #[tokio::test]
    async fn data_calls_need_a_live_session() {
        let sf = start().await;
        let body = json!({"Sentiment__c": "positive"});
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "c1"),
            None,
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, 401);
        assert!(is_json(&r));
        assert_eq!(
            r.body,
            json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        );
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "c1"),
            Some("made-up"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, 401);

        let t = token(&sf).await;
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "c1"),
            Some(&t),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, 201);
        sf.expire_tokens();
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "c2"),
            Some(&t),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, 401);
        assert_eq!(error_code(&r), "INVALID_SESSION_ID");
        let fresh = token(&sf).await;
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "c2"),
            Some(&fresh),
            Some(body),
        )
        .await;
        assert_eq!(r.status, 201);
        assert_eq!(sf.stats().rejected_401, 3);
        assert_eq!(sf.records("CallFact__c").len(), 2);
    }

    #[tokio::test]
    async fn upsert_creates_then_merges() {
        let sf = start().await;
        let t = token(&sf).await;
        // Field names are case-insensitive and stored in the schema's spelling.
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "call-1"),
            Some(&t),
            Some(json!({"sentiment__c": "negative", "Intent__c": "cancel", "Score__c": 0.9})),
        )
        .await;
        assert_eq!(r.status, 201);
        assert!(is_json(&r));
        let id = r.body["id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 18);
        assert!(id.starts_with("a00"), "{id}");
        assert_eq!(r.body["created"], true);
        assert_eq!(r.body["success"], true);
        assert_eq!(r.body["errors"], json!([]));
        assert!(r.headers.contains_key("sforce-limit-info"));

        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "call-1"),
            Some(&t),
            Some(json!({"Sentiment__c": "positive"})),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["id"], id.as_str());
        assert_eq!(r.body["created"], false);

        let records = sf.records("CallFact__c");
        assert_eq!(records.len(), 1);
        let rec = &records[0];
        assert_eq!(rec["Id"], id.as_str());
        assert_eq!(rec["Call_Id__c"], "call-1");
        assert_eq!(rec["Sentiment__c"], "positive");
        assert_eq!(rec["Intent__c"], "cancel", "merge keeps fields not sent");
        assert_eq!(rec["Score__c"], 0.9);
        assert!(rec.get("sentiment__c").is_none());
        // External IDs match case-insensitively.
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "CALL-1"),
            Some(&t),
            Some(json!({"Notes__c": "n"})),
        )
        .await;
        assert_eq!(r.status, 200);
        let stats = sf.stats();
        assert_eq!((stats.records_created, stats.records_updated), (1, 2));
        assert_eq!(stats.upsert_requests, 3);
    }

    #[tokio::test]
    async fn upsert_before_v46_answers_204_and_omits_created() {
        let sf = start().await;
        let t = token(&sf).await;
        let body = json!({"Intent__c": "billing"});
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path("v45.0", "c"),
            Some(&t),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, 201);
        assert!(r.body.get("created").is_none());
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path("v45.0", "c"),
            Some(&t),
            Some(body),
        )
        .await;
        assert_eq!(r.status, 204);
        assert_eq!(r.body, Value::Null);
        assert_eq!(sf.stats().records_updated, 1);
    }

    #[tokio::test]
    async fn upsert_rejects_bad_bodies_and_stores_nothing() {
        let sf = start().await;
        let t = token(&sf).await;
        let path = upsert_path(V, "c");
        let cases = [
            (json!({"Foo__c": 1}), "INVALID_FIELD"),
            (json!({"Id": "a00000000000001AAA"}), "INVALID_FIELD"),
            (
                json!({"attributes": {"type": "CallFact__c"}}),
                "INVALID_FIELD",
            ),
            (json!({"Call_Id__c": "c"}), "INVALID_FIELD"),
            (json!({"Notes__c": {"nested": true}}), "JSON_PARSER_ERROR"),
            (json!({"Notes__c": [1, 2]}), "JSON_PARSER_ERROR"),
            (json!([{"Notes__c": "x"}]), "JSON_PARSER_ERROR"),
        ];
        for (body, code) in cases {
            let r = send(&sf, Method::PATCH, &path, Some(&t), Some(body.clone())).await;
            assert_eq!(r.status, 400, "{body}");
            assert_eq!(error_code(&r), code, "{body}");
        }
        let r = send(
            &sf,
            Method::PATCH,
            &path,
            Some(&t),
            Some(json!({"Foo__c": 1})),
        )
        .await;
        assert_eq!(
            r.body[0]["message"],
            "No such column 'Foo__c' on sobject of type CallFact__c"
        );
        let resp = http()
            .patch(format!("{}{path}", sf.base_url()))
            .bearer_auth(&t)
            .header(header::CONTENT_TYPE, "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!(body[0]["errorCode"], "JSON_PARSER_ERROR");
        let resp = http()
            .patch(format!("{}{path}", sf.base_url()))
            .bearer_auth(&t)
            .header(header::CONTENT_TYPE, "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 415);
        assert!(sf.records("CallFact__c").is_empty());
    }

    #[tokio::test]
    async fn unknown_objects_fields_versions_and_routes_are_404() {
        let sf = start().await;
        let t = token(&sf).await;
        let body = Some(json!({"Notes__c": "x"}));
        let r = send(
            &sf,
            Method::PATCH,
            &format!("/services/data/{V}/sobjects/Nope__c/Call_Id__c/1"),
            Some(&t),
            body.clone(),
        )
        .await;
        assert_eq!(r.status, 404);
        assert_eq!(
            r.body,
            json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
        );
        let r = send(
            &sf,
            Method::PATCH,
            &format!("/services/data/{V}/sobjects/CallFact__c/Notes__c/1"),
            Some(&t),
            body.clone(),
        )
        .await;
        assert_eq!(r.status, 404);
        assert_eq!(
            r.body[0]["message"],
            "Provided external ID field does not exist or is not accessible: Notes__c"
        );
        for version in ["v41.0", "v61", "61.0", "v61.00"] {
            let r = send(
                &sf,
                Method::PATCH,
                &upsert_path(version, "1"),
                Some(&t),
                body.clone(),
            )
            .await;
            assert_eq!(r.status, 404, "{version}");
            assert_eq!(error_code(&r), "NOT_FOUND");
        }
        let r = send(
            &sf,
            Method::GET,
            "/services/data/v61.0/limits",
            Some(&t),
            None,
        )
        .await;
        assert_eq!(r.status, 404);
        assert!(is_json(&r));
        let r = send(&sf, Method::DELETE, &upsert_path(V, "1"), Some(&t), None).await;
        assert_eq!(r.status, 405);
        assert_eq!(error_code(&r), "METHOD_NOT_ALLOWED");
        // Collections upsert exists from v46.0.
        let r = send(
            &sf,
            Method::PATCH,
            "/services/data/v45.0/composite/sobjects/CallFact__c/Call_Id__c",
            Some(&t),
            Some(json!({"records": [{"attributes": {"type": "CallFact__c"}, "Call_Id__c": "a"}]})),
        )
        .await;
        assert_eq!(r.status, 404);
        assert!(sf.records("CallFact__c").is_empty());
    }

    #[tokio::test]
    async fn upsert_to_a_duplicated_external_id_is_300() {
        let sf = start().await;
        let t = token(&sf).await;
        let a = sf.insert_record(
            "CallFact__c",
            obj(json!({"Call_Id__c": "dup", "Notes__c": "a"})),
        );
        let b = sf.insert_record(
            "CallFact__c",
            obj(json!({"Call_Id__c": "DUP", "Notes__c": "b"})),
        );
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "dup"),
            Some(&t),
            Some(json!({"Notes__c": "c"})),
        )
        .await;
        assert_eq!(r.status, 300);
        assert_eq!(
            r.body,
            json!([
                format!("/services/data/{V}/sobjects/CallFact__c/{a}"),
                format!("/services/data/{V}/sobjects/CallFact__c/{b}"),
            ])
        );
        let notes: Vec<Value> = sf
            .records("CallFact__c")
            .iter()
            .map(|r| r["Notes__c"].clone())
            .collect();
        assert_eq!(notes, vec![json!("a"), json!("b")]);
        assert_eq!(sf.stats().records_updated, 0);
    }

    #[tokio::test]
    async fn collections_report_each_record_in_order() {
        let sf = start().await;
        let t = token(&sf).await;
        let existing = sf.insert_record(
            "CallFact__c",
            obj(json!({"Call_Id__c": "old", "Notes__c": "keep"})),
        );
        let body = json!({
            "allOrNone": false,
            "records": [
                {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "new-1", "Sentiment__c": "neutral"},
                {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "bad", "Foo__c": 1},
                {"attributes": {"type": "Contact"}, "Call_Id__c": "typed"},
                {"attributes": {"type": "CallFact__c"}, "Sentiment__c": "no id"},
                {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "old", "Intent__c": "upgrade"},
                {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "twice"},
                {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "TWICE"},
            ]
        });
        let r = send(&sf, Method::PATCH, &collection_path(), Some(&t), Some(body)).await;
        assert_eq!(r.status, 200);
        assert!(is_json(&r));
        let results = r.body.as_array().unwrap();
        assert_eq!(results.len(), 7);
        assert_eq!(results[0]["success"], true);
        assert_eq!(results[0]["created"], true);
        assert_eq!(results[1]["success"], false);
        assert_eq!(results[1]["errors"][0]["statusCode"], "INVALID_FIELD");
        assert_eq!(results[1]["errors"][0]["fields"], json!(["Foo__c"]));
        assert_eq!(results[2]["errors"][0]["statusCode"], "INVALID_TYPE");
        assert_eq!(results[3]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
        assert_eq!(
            results[3]["errors"][0]["message"],
            "Call_Id__c not specified"
        );
        assert_eq!(results[4]["success"], true);
        assert_eq!(results[4]["created"], false);
        assert_eq!(results[4]["id"], existing.as_str());
        for dup in &results[5..7] {
            assert_eq!(dup["errors"][0]["statusCode"], "DUPLICATE_VALUE");
        }

        assert_eq!(sf.records("CallFact__c").len(), 2);
        let old = sf.record_by("CallFact__c", "Call_Id__c", "old").unwrap();
        assert_eq!(old["Intent__c"], "upgrade");
        assert_eq!(old["Notes__c"], "keep");
        let new = sf.record_by("CallFact__c", "Call_Id__c", "new-1").unwrap();
        assert_eq!(new["Id"], results[0]["id"]);
        assert!(new.get("attributes").is_none());
        let stats = sf.stats();
        assert_eq!(
            (
                stats.collections_requests,
                stats.records_created,
                stats.records_updated
            ),
            (1, 1, 1)
        );
    }

    #[tokio::test]
    async fn collections_flag_duplicate_external_ids() {
        let sf = start().await;
        let t = token(&sf).await;
        sf.insert_record("CallFact__c", obj(json!({"Call_Id__c": "d"})));
        sf.insert_record("CallFact__c", obj(json!({"Call_Id__c": "d"})));
        let body = json!({"records": [
            {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "d", "Notes__c": "x"},
            {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "fine"},
        ]});
        let r = send(&sf, Method::PATCH, &collection_path(), Some(&t), Some(body)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body[0]["success"], false);
        assert_eq!(
            r.body[0]["errors"][0]["statusCode"],
            "DUPLICATE_EXTERNAL_ID"
        );
        assert_eq!(r.body[0]["errors"][0]["fields"], json!(["Call_Id__c"]));
        assert_eq!(r.body[1]["success"], true);
        assert!(sf
            .records("CallFact__c")
            .iter()
            .all(|r| r.get("Notes__c").is_none()));
        assert_eq!(sf.records("CallFact__c").len(), 3);
    }

    #[tokio::test]
    async fn collections_all_or_none_rolls_everything_back() {
        let sf = start().await;
        let t = token(&sf).await;
        let body = json!({"allOrNone": true, "records": [
            {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "a"},
            {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "b", "Nope__c": 1},
            {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "c"},
        ]});
        let r = send(&sf, Method::PATCH, &collection_path(), Some(&t), Some(body)).await;
        assert_eq!(r.status, 200);
        let codes: Vec<&str> = r
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["success"], false);
                e["errors"][0]["statusCode"].as_str().unwrap()
            })
            .collect();
        assert_eq!(
            codes,
            [
                "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "INVALID_FIELD",
                "ALL_OR_NONE_OPERATION_ROLLED_BACK"
            ]
        );
        assert!(sf.records("CallFact__c").is_empty());
        assert_eq!(sf.stats().records_created, 0);
    }

    #[tokio::test]
    async fn collections_hold_at_most_200_records() {
        let sf = start().await;
        let t = token(&sf).await;
        let records = |n: usize| -> Vec<Value> {
            (0..n)
                .map(|i| json!({"attributes": {"type": "CallFact__c"}, "Call_Id__c": format!("r{i}")}))
                .collect()
        };
        let r = send(
            &sf,
            Method::PATCH,
            &collection_path(),
            Some(&t),
            Some(json!({"records": records(201)})),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(error_code(&r), "EXCEEDED_ID_LIMIT");
        assert!(sf.records("CallFact__c").is_empty());
        let r = send(
            &sf,
            Method::PATCH,
            &collection_path(),
            Some(&t),
            Some(json!({"records": []})),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(error_code(&r), "MISSING_ARGUMENT");
        let r = send(
            &sf,
            Method::PATCH,
            &collection_path(),
            Some(&t),
            Some(json!({"records": records(1), "allornone": true})),
        )
        .await;
        assert_eq!(r.status, 400);
        assert_eq!(error_code(&r), "JSON_PARSER_ERROR");
        let r = send(
            &sf,
            Method::PATCH,
            &collection_path(),
            Some(&t),
            Some(json!({"records": records(200)})),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(sf.records("CallFact__c").len(), 200);
    }

    #[tokio::test]
    async fn injected_faults_answer_and_change_nothing() {
        let sf = start().await;
        let t = token(&sf).await;
        let body = Some(json!({"Notes__c": "x"}));
        let path = upsert_path(V, "f");
        sf.fail_next(1, Fault::RequestLimitExceeded);
        sf.fail_next(1, Fault::TooManyRequests { retry_after_s: 7 });
        sf.fail_next(1, Fault::Unavailable { retry_after_s: 3 });
        sf.fail_next(2, Fault::ServerError);

        let r = send(&sf, Method::PATCH, &path, Some(&t), body.clone()).await;
        assert_eq!(r.status, 403);
        assert_eq!(
            r.body,
            json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
        );
        let r = send(&sf, Method::PATCH, &path, Some(&t), body.clone()).await;
        assert_eq!(r.status, 429);
        assert_eq!(retry_after(&r), Some("7"));
        assert_eq!(error_code(&r), "REQUEST_LIMIT_EXCEEDED");
        let r = send(&sf, Method::PATCH, &path, Some(&t), body.clone()).await;
        assert_eq!(r.status, 503);
        assert_eq!(retry_after(&r), Some("3"));
        assert_eq!(error_code(&r), "SERVER_UNAVAILABLE");
        for _ in 0..2 {
            let r = send(
                &sf,
                Method::PATCH,
                &collection_path(),
                Some(&t),
                Some(json!({"records": [
                    {"attributes": {"type": "CallFact__c"}, "Call_Id__c": "f"}
                ]})),
            )
            .await;
            assert_eq!(r.status, 500);
            assert_eq!(error_code(&r), "UNKNOWN_EXCEPTION");
            assert!(is_json(&r));
        }
        assert!(
            sf.records("CallFact__c").is_empty(),
            "a faulted call changes no data"
        );
        let r = send(&sf, Method::PATCH, &path, Some(&t), body).await;
        assert_eq!(r.status, 201, "faults are used up");
        let stats = sf.stats();
        assert_eq!(stats.rejected_429_503_403limit, 3);
        assert_eq!(stats.server_errors, 2);
        assert_eq!(stats.upsert_requests, 4);
        assert_eq!(stats.collections_requests, 2);
    }

    #[tokio::test]
    async fn an_outage_refuses_everything_until_lifted() {
        let sf = start().await;
        let t = token(&sf).await;
        sf.set_unavailable(true);
        let resp = http()
            .post(format!("{}/services/oauth2/token", sf.base_url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "cid"),
                ("client_secret", "csecret"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        let r = send(&sf, Method::GET, &upsert_path(V, "x"), Some(&t), None).await;
        assert_eq!(r.status, 503);
        assert_eq!(retry_after(&r), Some("1"));
        assert_eq!(error_code(&r), "SERVER_UNAVAILABLE");
        sf.set_unavailable(false);
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "x"),
            Some(&t),
            Some(json!({})),
        )
        .await;
        assert_eq!(r.status, 201);
        assert_eq!(sf.stats().rejected_429_503_403limit, 2);
        assert_eq!(sf.stats().tokens_issued, 1);
    }

    #[tokio::test]
    async fn read_by_external_id() {
        let sf = start().await;
        let t = token(&sf).await;
        let id = sf.insert_record(
            "Contact",
            obj(json!({"Customer_Id__c": "a b@x.com", "LastName": "Okafor"})),
        );
        let path = format!("/services/data/{V}/sobjects/contact/Customer_Id__c/a%20b%40x.com");
        let r = send(&sf, Method::GET, &path, Some(&t), None).await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body,
            json!({
                "attributes": {"type": "Contact", "url": format!("/services/data/{V}/sobjects/Contact/{id}")},
                "Id": id,
                "Customer_Id__c": "a b@x.com",
                "LastName": "Okafor",
                "Phone": null,
            })
        );
        let r = send(
            &sf,
            Method::GET,
            &format!("{path}?fields=LastName"),
            Some(&t),
            None,
        )
        .await;
        assert_eq!(r.body["LastName"], "Okafor");
        assert!(r.body.get("Phone").is_none());
        let r = send(
            &sf,
            Method::GET,
            &format!("{path}?fields=Bogus"),
            Some(&t),
            None,
        )
        .await;
        assert_eq!((r.status, error_code(&r)), (400, "INVALID_FIELD"));

        let r = send(
            &sf,
            Method::GET,
            &format!("/services/data/{V}/sobjects/Contact/Customer_Id__c/none"),
            Some(&t),
            None,
        )
        .await;
        assert_eq!((r.status, error_code(&r)), (404, "NOT_FOUND"));
        sf.insert_record("Contact", obj(json!({"Customer_Id__c": "two"})));
        sf.insert_record("Contact", obj(json!({"Customer_Id__c": "two"})));
        let r = send(
            &sf,
            Method::GET,
            &format!("/services/data/{V}/sobjects/Contact/Customer_Id__c/two"),
            Some(&t),
            None,
        )
        .await;
        assert_eq!(r.status, 300);
        assert_eq!(r.body.as_array().map(Vec::len), Some(2));
        assert_eq!(sf.stats().records_created, 0, "reads create nothing");
    }

    #[tokio::test]
    async fn oversized_bodies_are_413() {
        let sf = start().await;
        let t = token(&sf).await;
        let big = format!("{{\"Notes__c\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let resp = http()
            .patch(format!("{}{}", sf.base_url(), upsert_path(V, "big")))
            .bearer_auth(&t)
            .header(header::CONTENT_TYPE, "application/json")
            .body(big)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 413);
        assert!(sf.records("CallFact__c").is_empty());
    }

    #[tokio::test]
    async fn latency_delays_data_calls() {
        let sf = start().await;
        let t = token(&sf).await;
        sf.set_latency(Duration::from_millis(150));
        let started = std::time::Instant::now();
        let r = send(
            &sf,
            Method::PATCH,
            &upsert_path(V, "slow"),
            Some(&t),
            Some(json!({})),
        )
        .await;
        assert_eq!(r.status, 201);
        assert!(started.elapsed() >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn shutdown_stops_serving() {
        let sf = start().await;
        let url = format!("{}/services/oauth2/token", sf.base_url());
        assert_eq!(http().post(&url).send().await.unwrap().status(), 400);
        let copy = sf.clone();
        drop(sf);
        // A clone keeps it alive.
        assert_eq!(http().post(&url).send().await.unwrap().status(), 400);
        copy.shutdown();
        let mut refused = false;
        for _ in 0..50 {
            if http().post(&url).send().await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(refused, "still serving after shutdown");
    }
}
