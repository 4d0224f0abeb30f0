//! Field mapping: from an [`Event`] to the record a CRM expects, by
//! templates in config (never code).
//!
//! Owns: resolving each configured output field from the event (a dotted
//! path, a `{path}` template or a constant), value maps (e.g. `negative` →
//! `消极`), defaults, and the field policy: `sync = "realtime"` fields go
//! out at once, `sync = "batch"` fields in the sink's scheduled batch. Only
//! configured fields ever leave the engine.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::event::Event;

/// Longest output field name (Salesforce API names are ≤ 40 characters; some CRMs allow more).
const MAX_FIELD_NAME: usize = 128;
/// Most fields one record may carry.
const MAX_FIELDS: usize = 200;

/// How one event kind becomes a record at one sink.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordMapping {
    /// Salesforce: the sObject API name (e.g. `Callsense_Utterance__c`).
    #[serde(default)]
    pub object: Option<String>,
    /// Salesforce: the external id field that holds the event key.
    #[serde(default)]
    pub external_id_field: Option<String>,
    /// Output field name → where its value comes from.
    pub fields: BTreeMap<String, FieldSpec>,
}

/// A field's source: a bare string is a path (`"sentiment.label"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FieldSpec {
    Path(String),
    Rule(FieldRule),
}

/// A field's source with options. Exactly one of `from`, `template`, `value`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    /// Dotted path into the event (`intent.label`, `intents.0.label`).
    pub from: Option<String>,
    /// Text with `{path}` placeholders (`"{call_id}/{seq}"`).
    pub template: Option<String>,
    /// A constant.
    pub value: Option<Value>,
    /// Value translations, keyed by the source value as text.
    #[serde(default)]
    pub map: BTreeMap<String, Value>,
    /// Used when the source is missing; without it the field is left out.
    pub default: Option<Value>,
    /// `realtime` (default) or `batch`.
    #[serde(default)]
    pub sync: SyncMode,
}

/// When a field is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// With the event, within the latency budget.
    #[default]
    Realtime,
    /// In the sink's next scheduled batch (`batch_interval_s`).
    Batch,
}

/// Which half of an event a delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The realtime fields.
    Core,
    /// The batch fields.
    Detail,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Core => "core",
            Self::Detail => "detail",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "core" => Some(Self::Core),
            "detail" => Some(Self::Detail),
            _ => None,
        }
    }
}

impl FieldSpec {
    fn rule(&self) -> std::borrow::Cow<'_, FieldRule> {
        match self {
            Self::Path(p) => std::borrow::Cow::Owned(FieldRule {
                from: Some(p.clone()),
                ..FieldRule::default()
            }),
            Self::Rule(r) => std::borrow::Cow::Borrowed(r),
        }
    }
    fn sync(&self) -> SyncMode {
        match self {
            Self::Path(_) => SyncMode::Realtime,
            Self::Rule(r) => r.sync,
        }
    }
}

impl RecordMapping {
    /// Checks the mapping; `salesforce` requires `object` and `external_id_field`.
    ///
    /// # Errors
    /// A message naming the field at fault.
    pub fn validate(&self, salesforce: bool) -> Result<(), String> {
        if salesforce {
            let ok = |s: &Option<String>| s.as_deref().is_some_and(is_api_name);
            if !ok(&self.object) || !ok(&self.external_id_field) {
                return Err(
                    "object and external_id_field must be set to API names ([A-Za-z0-9_])".into(),
                );
            }
        }
        if self.fields.is_empty() || self.fields.len() > MAX_FIELDS {
            return Err(format!("fields: 1 to {MAX_FIELDS} fields"));
        }
        if !self.fields.values().any(|f| f.sync() == SyncMode::Realtime) {
            return Err("fields: at least one field must be sync = \"realtime\"".into());
        }
        for (name, spec) in &self.fields {
            if name.is_empty() || name.len() > MAX_FIELD_NAME {
                return Err(format!(
                    "field name {name:?} must be 1–{MAX_FIELD_NAME} bytes"
                ));
            }
            if salesforce && !is_api_name(name) {
                return Err(format!("field {name:?} is not a Salesforce API name"));
            }
            if Some(name) == self.external_id_field.as_ref() {
                return Err(format!(
                    "field {name:?} is the external id field; it always carries the event key"
                ));
            }
            let r = spec.rule();
            let sources = [r.from.is_some(), r.template.is_some(), r.value.is_some()];
            if sources.iter().filter(|b| **b).count() != 1 {
                return Err(format!(
                    "field {name:?}: set exactly one of from, template, value"
                ));
            }
            if let Some(t) = &r.template {
                check_template(t).map_err(|e| format!("field {name:?}: {e}"))?;
            }
        }
        Ok(())
    }

    /// Whether some fields wait for the scheduled batch.
    pub fn has_batch_fields(&self) -> bool {
        self.fields.values().any(|f| f.sync() == SyncMode::Batch)
    }

    /// The record for one part of an event (`None`: the part has no fields).
    pub fn apply(&self, event: &Event, part: Part) -> Option<Map<String, Value>> {
        let want = match part {
            Part::Core => SyncMode::Realtime,
            Part::Detail => SyncMode::Batch,
        };
        let root = event_root(event);
        let mut out = Map::new();
        let mut any = false;
        for (name, spec) in &self.fields {
            if spec.sync() != want {
                continue;
            }
            any = true;
            if let Some(v) = resolve(&spec.rule(), &root) {
                out.insert(name.clone(), v);
            }
        }
        any.then_some(out)
    }
}

fn is_api_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 80 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_template(t: &str) -> Result<(), String> {
    let mut depth = 0;
    for c in t.chars() {
        match c {
            '{' if depth == 0 => depth = 1,
            '}' if depth == 1 => depth = 0,
            '{' | '}' => return Err(format!("template {t:?} has unbalanced braces")),
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("template {t:?} has an unclosed {{"));
    }
    Ok(())
}

/// The object paths resolve against: the event's data plus its envelope
/// (`key`, `kind`, `call_id`, `tenant`, `customer_id`, `occurred_at`,
/// `occurred_at_ms`).
fn event_root(event: &Event) -> Value {
    let mut root = match &event.data {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    root.insert("key".into(), Value::from(event.key.clone()));
    root.insert("kind".into(), Value::from(event.kind.as_str()));
    root.insert("call_id".into(), Value::from(event.call.call_id.clone()));
    root.insert("tenant".into(), Value::from(event.call.tenant.clone()));
    root.insert(
        "customer_id".into(),
        Value::from(event.call.customer_id.clone()),
    );
    root.insert("occurred_at_ms".into(), Value::from(event.occurred_at_ms));
    root.insert(
        "occurred_at".into(),
        Value::from(rfc3339_utc(event.occurred_at_ms)),
    );
    Value::Object(root)
}

/// The value at a dotted path (`a.b.0.c`); `None` if missing or null.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    (!cur.is_null()).then_some(cur)
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn resolve(rule: &FieldRule, root: &Value) -> Option<Value> {
    let raw = if let Some(v) = &rule.value {
        Some(v.clone())
    } else if let Some(p) = &rule.from {
        lookup(root, p).cloned()
    } else if let Some(t) = &rule.template {
        let mut out = String::with_capacity(t.len());
        let mut rest = t.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            let path = &rest[open + 1..close.min(rest.len())];
            if let Some(v) = lookup(root, path) {
                out.push_str(&as_text(v));
            }
            rest = rest.get(close + 1..).unwrap_or("");
        }
        out.push_str(rest);
        Some(Value::String(out))
    } else {
        None
    };
    match raw {
        Some(v) => Some(rule.map.get(&as_text(&v)).cloned().unwrap_or(v)),
        None => rule.default.clone(),
    }
}

/// The JSON envelope webhooks and Kafka carry: `{"type", "timestamp", "data"}`.
pub fn envelope(event: &Event, record: Map<String, Value>) -> String {
    serde_json::json!({
        "type": event.kind.webhook_type(),
        "timestamp": rfc3339_utc(event.occurred_at_ms),
        "data": record,
    })
    .to_string()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for Unix milliseconds.
pub fn rfc3339_utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::event::{CallIdentity, EventKind};
    use serde_json::json;

    fn event() -> Event {
        Event {
            key: "c1:3:utterance".into(),
            kind: EventKind::Utterance,
            call: CallIdentity {
                call_id: "c1".into(),
                tenant: "acme".into(),
                customer_id: "cust-9".into(),
                callback_url: None,
            },
            occurred_at_ms: 1_764_000_000_123,
            data: json!({"seq": 3, "transcript": "cancel it", "sentiment": {"label": "negative", "score": -0.8},
                         "intent": {"label": "cancel_service"}, "intents": [{"label": "refund_request"}]}),
        }
    }

    fn mapping(toml_text: &str) -> RecordMapping {
        toml::from_str(toml_text).expect("mapping parses")
    }

    #[test]
    fn paths_templates_constants_maps_and_defaults() {
        let m = mapping(
            r#"
            object = "Callsense_Utterance__c"
            external_id_field = "Callsense_Key__c"
            [fields]
            Sentiment__c = { from = "sentiment.label", map = { negative = "消极", positive = "积极" } }
            Score__c = "sentiment.score"
            Intent__c = "intent.label"
            First_Intent__c = "intents.0.label"
            Name = { template = "{call_id} #{seq} ({tenant})" }
            Source__c = { value = "callsense" }
            Owner__c = { from = "owner.id", default = "queue" }
            Missing__c = "no.such.path"
            When__c = "occurred_at"
            Transcript__c = { from = "transcript", sync = "batch" }
            "#,
        );
        m.validate(true).expect("valid");
        let core = m.apply(&event(), Part::Core).expect("core part");
        assert_eq!(core["Sentiment__c"], json!("消极"));
        assert_eq!(core["Score__c"], json!(-0.8));
        assert_eq!(core["Intent__c"], json!("cancel_service"));
        assert_eq!(core["First_Intent__c"], json!("refund_request"));
        assert_eq!(core["Name"], json!("c1 #3 (acme)"));
        assert_eq!(core["Source__c"], json!("callsense"));
        assert_eq!(core["Owner__c"], json!("queue"));
        assert_eq!(core["When__c"], json!("2025-11-24T16:00:00.123Z"));
        assert!(
            !core.contains_key("Missing__c"),
            "missing sources are left out, not sent as null"
        );
        assert!(!core.contains_key("Transcript__c"), "batch fields wait");
        let detail = m.apply(&event(), Part::Detail).expect("detail part");
        assert_eq!(detail.len(), 1);
        assert_eq!(detail["Transcript__c"], json!("cancel it"));
        assert!(m.has_batch_fields());
    }

    #[test]
    fn validation_names_the_problem() {
        let no_object = mapping("[fields]\nA__c = \"seq\"");
        assert!(no_object.validate(true).unwrap_err().contains("object"));
        assert!(no_object.validate(false).is_ok(), "webhooks need no object");
        let two = mapping("[fields]\nA = { from = \"seq\", value = 1 }");
        assert!(two.validate(false).unwrap_err().contains("exactly one"));
        let braces = mapping("[fields]\nA = { template = \"{seq\" }");
        assert!(braces.validate(false).unwrap_err().contains("unclosed"));
        let batch_only = mapping("[fields]\nA = { from = \"seq\", sync = \"batch\" }");
        assert!(batch_only.validate(false).unwrap_err().contains("realtime"));
        let bad_name =
            mapping("object = \"X__c\"\nexternal_id_field = \"K__c\"\n[fields]\n\"a b\" = \"seq\"");
        assert!(bad_name.validate(true).unwrap_err().contains("API name"));
        let ext =
            mapping("object = \"X__c\"\nexternal_id_field = \"K__c\"\n[fields]\nK__c = \"seq\"");
        assert!(ext.validate(true).unwrap_err().contains("external id"));
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }
}
