//! Customer context: the CRM's view of the caller, fetched when a call
//! starts and returned in `CallAccepted`.
//!
//! Owns: looking the customer up by CRM id (else by the caller's number) in
//! Salesforce (by external id) or a generic REST endpoint, within a time
//! budget (the call proceeds without context when it runs out, and the
//! lookup finishes in the background to fill the cache), a TTL cache, the
//! routing hint (VIP tiers and risk tags → high priority), and the
//! permission boundary: what each viewing role sees is masked or hidden by
//! config (e.g. the phone as 138****5678).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::mapping::lookup;
use super::salesforce::auth::{path_segment, SalesforceAuth};
use super::salesforce::SalesforceConfig;
use crate::pii::mask_phone_for_view;
use crate::proto::{ContextStatus, CustomerContext, RoutingHint};
use crate::secret::Secret;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextConfig {
    /// Look customers up in Salesforce (by external id).
    pub salesforce: Option<SalesforceContextConfig>,
    /// Or in any CRM with a REST endpoint returning one JSON object.
    pub http: Option<HttpContextConfig>,
    /// Time a call start waits for the CRM; after it the call goes on without context.
    pub timeout_ms: u64,
    /// How long a profile (or a "not found") is reused.
    pub cache_ttl_s: u64,
    /// Profiles cached at most.
    pub cache_capacity: usize,
    /// Where each profile fact is in the CRM's record (dotted paths).
    pub fields: ProfileFields,
    /// Tiers routed with priority "high" (case-insensitive).
    pub vip_tiers: Vec<String>,
    /// Risk tags routed with priority "high".
    pub priority_risk_tags: Vec<String>,
    /// The role whose view applies when a call names none (`callsense.view_role` metadata).
    pub default_view: String,
    /// Per viewing role: profile fields shown masked, and fields hidden.
    pub views: BTreeMap<String, View>,
}

impl Default for ContextConfig {
    fn default() -> Self {
        Self {
            salesforce: None,
            http: None,
            timeout_ms: 300,
            cache_ttl_s: 300,
            cache_capacity: 10_000,
            fields: ProfileFields::default(),
            vip_tiers: vec!["gold".into(), "platinum".into(), "vip".into()],
            priority_risk_tags: vec!["churn_risk".into(), "high_complaint_risk".into()],
            default_view: "agent".into(),
            views: [(
                "agent".to_string(),
                View {
                    mask: vec![ProfileField::Phone],
                    hide: vec![],
                },
            )]
            .into_iter()
            .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct View {
    /// Shown partly hidden (only `phone` has a partial form: 138****5678).
    pub mask: Vec<ProfileField>,
    /// Not shown at all.
    pub hide: Vec<ProfileField>,
}

impl View {
    fn shows(&self, f: ProfileField) -> bool {
        !self.hide.contains(&f)
    }
}

/// The profile facts a view can mask or hide (`CustomerContext` fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    Phone,
    Tier,
    LifetimeValue,
    AvgOrderValue,
    RecentOrders,
    OpenTickets,
    RiskTags,
}

impl ProfileField {
    /// As the config spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Tier => "tier",
            Self::LifetimeValue => "lifetime_value",
            Self::AvgOrderValue => "avg_order_value",
            Self::RecentOrders => "recent_orders",
            Self::OpenTickets => "open_tickets",
            Self::RiskTags => "risk_tags",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesforceContextConfig {
    pub login_url: String,
    #[serde(default = "default_api_version")]
    pub api_version: String,
    pub client_id: Secret,
    pub client_secret: Secret,
    /// The sObject holding customers, e.g. `Contact` or `Account`.
    pub object: String,
    /// External id field holding the platform's customer id.
    pub id_field: String,
    /// External id field holding the phone number (lookup when the call has no customer id).
    #[serde(default)]
    pub phone_field: Option<String>,
}

fn default_api_version() -> String {
    "v61.0".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpContextConfig {
    /// GET URL with `{customer_id}`.
    pub url: String,
    /// GET URL with `{phone}`, for calls without a customer id.
    #[serde(default)]
    pub by_phone_url: Option<String>,
    /// Request headers (`env:NAME` values read the environment).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileFields {
    pub tier: String,
    pub lifetime_value: String,
    pub avg_order_value: String,
    pub recent_orders: String,
    pub open_tickets: String,
    /// A list, or one string split on `;` (Salesforce multi-select picklists) or `,`.
    pub risk_tags: String,
    pub phone: String,
}

impl Default for ProfileFields {
    fn default() -> Self {
        Self {
            tier: "tier".into(),
            lifetime_value: "lifetime_value".into(),
            avg_order_value: "avg_order_value".into(),
            recent_orders: "recent_orders".into(),
            open_tickets: "open_tickets".into(),
            risk_tags: "risk_tags".into(),
            phone: "phone".into(),
        }
    }
}

impl ContextConfig {
    /// # Errors
    /// A message naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.salesforce.is_some() && self.http.is_some() {
            return Err("connect.context: set one of [salesforce] or [http], not both".into());
        }
        if self.timeout_ms == 0 || self.timeout_ms > 10_000 || self.cache_capacity == 0 {
            return Err(
                "connect.context.timeout_ms must be in [1, 10000] and cache_capacity ≥ 1".into(),
            );
        }
        if let Some(h) = &self.http {
            if !h.url.contains("{customer_id}") {
                return Err("connect.context.http.url must contain {customer_id}".into());
            }
        }
        for (role, v) in &self.views {
            if let Some(f) = v.mask.iter().find(|f| **f != ProfileField::Phone) {
                return Err(format!(
                    "connect.context.views.{role}.mask: \"{}\" has no masked form (only \"phone\" does); hide it instead",
                    f.name()
                ));
            }
        }
        Ok(())
    }
}

/// A customer's facts as the CRM holds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub tier: String,
    pub lifetime_value: f64,
    pub avg_order_value: f64,
    pub recent_orders: u32,
    pub open_tickets: u32,
    pub risk_tags: Vec<String>,
    pub phone: String,
}

impl Profile {
    /// `customer.*` as rules see it (unmasked: rules run inside the engine).
    pub fn to_json(&self) -> Value {
        json!({"found": true, "tier": self.tier, "lifetime_value": self.lifetime_value,
               "avg_order_value": self.avg_order_value, "recent_orders": self.recent_orders,
               "open_tickets": self.open_tickets, "risk_tags": self.risk_tags})
    }
}

/// The outcome of one lookup.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub status: ContextStatus,
    pub profile: Option<Profile>,
    pub lookup_ms: u32,
    pub cached: bool,
}

enum Source {
    Salesforce {
        auth: Box<SalesforceAuth>,
        c: SalesforceContextConfig,
    },
    Http {
        c: HttpContextConfig,
        http: reqwest::Client,
    },
}

type Cached = (Instant, Option<Profile>);

pub struct CustomerContextService {
    source: Source,
    config: ContextConfig,
    cache: Mutex<(HashMap<String, Cached>, VecDeque<String>)>,
}

/// A cache key fit for logs: phone numbers masked.
fn log_key(key: &str) -> String {
    match key.strip_prefix("phone:") {
        Some(p) => format!("phone:{}", mask_phone_for_view(p)),
        None => key.to_string(),
    }
}

fn number(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

impl ProfileFields {
    /// Reads a profile out of a CRM record.
    pub fn read(&self, record: &Value) -> Profile {
        let tags = match lookup(record, &self.risk_tags) {
            Some(Value::Array(a)) => a.iter().map(|v| text(Some(v))).collect(),
            Some(Value::String(s)) => s
                .split([';', ','])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        };
        Profile {
            tier: text(lookup(record, &self.tier)),
            lifetime_value: number(lookup(record, &self.lifetime_value)),
            avg_order_value: number(lookup(record, &self.avg_order_value)),
            recent_orders: number(lookup(record, &self.recent_orders)).max(0.0) as u32,
            open_tickets: number(lookup(record, &self.open_tickets)).max(0.0) as u32,
            risk_tags: tags,
            phone: text(lookup(record, &self.phone)),
        }
    }
}

impl CustomerContextService {
    /// `None` when no source is configured.
    ///
    /// # Errors
    /// A secret is missing or the HTTP client cannot start.
    pub fn new(config: &ContextConfig) -> Result<Option<Arc<Self>>, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("connect.context: HTTP client: {e}"))?;
        let source = match (&config.salesforce, &config.http) {
            (Some(c), _) => {
                let sf = SalesforceConfig {
                    login_url: c.login_url.clone(),
                    api_version: c.api_version.clone(),
                    client_id: c.client_id.clone(),
                    client_secret: c.client_secret.clone(),
                };
                Source::Salesforce {
                    auth: Box::new(
                        SalesforceAuth::new(&sf, http)
                            .map_err(|e| format!("connect.context.salesforce: {e}"))?,
                    ),
                    c: c.clone(),
                }
            }
            (None, Some(c)) => Source::Http { c: c.clone(), http },
            (None, None) => return Ok(None),
        };
        Ok(Some(Arc::new(Self {
            source,
            config: config.clone(),
            cache: Mutex::new((HashMap::new(), VecDeque::new())),
        })))
    }

    /// Looks the customer up within the time budget. A lookup that runs out
    /// of time finishes in the background and fills the cache.
    pub async fn lookup(self: &Arc<Self>, customer_id: &str, phone: &str) -> Lookup {
        let started = Instant::now();
        let key = match (customer_id.is_empty(), phone.is_empty()) {
            (false, _) => format!("id:{customer_id}"),
            (true, false) => format!("phone:{phone}"),
            (true, true) => {
                return Lookup {
                    status: ContextStatus::NoCustomerKey,
                    profile: None,
                    lookup_ms: 0,
                    cached: false,
                }
            }
        };
        if let Some(hit) = self.cached(&key) {
            let status = if hit.is_some() {
                ContextStatus::Found
            } else {
                ContextStatus::NotFound
            };
            return Lookup {
                status,
                profile: hit,
                lookup_ms: started.elapsed().as_millis() as u32,
                cached: true,
            };
        }
        let this = Arc::clone(self);
        let (id, ph, k) = (customer_id.to_string(), phone.to_string(), key.clone());
        let task = tokio::spawn(async move {
            let r = this.fetch(&id, &ph).await;
            if let Ok(p) = &r {
                this.store(k, p.clone());
            }
            r
        });
        let ms = || started.elapsed().as_millis() as u32;
        match tokio::time::timeout(Duration::from_millis(self.config.timeout_ms), task).await {
            Ok(Ok(Ok(Some(p)))) => Lookup {
                status: ContextStatus::Found,
                profile: Some(p),
                lookup_ms: ms(),
                cached: false,
            },
            Ok(Ok(Ok(None))) => Lookup {
                status: ContextStatus::NotFound,
                profile: None,
                lookup_ms: ms(),
                cached: false,
            },
            Ok(Ok(Err(e))) => {
                tracing::warn!(key = %log_key(&key), error = %e, "Customer context unavailable");
                Lookup {
                    status: ContextStatus::Unavailable,
                    profile: None,
                    lookup_ms: ms(),
                    cached: false,
                }
            }
            Ok(Err(_)) => Lookup {
                status: ContextStatus::Unavailable,
                profile: None,
                lookup_ms: ms(),
                cached: false,
            },
            Err(_) => {
                tracing::info!(key = %log_key(&key), budget_ms = self.config.timeout_ms, "Customer context not back in time; the call goes on without it");
                Lookup {
                    status: ContextStatus::TimedOut,
                    profile: None,
                    lookup_ms: ms(),
                    cached: false,
                }
            }
        }
    }

    fn cached(&self, key: &str) -> Option<Option<Profile>> {
        let g = self.cache.lock();
        let (at, p) = g.0.get(key)?;
        (at.elapsed() < Duration::from_secs(self.config.cache_ttl_s)).then(|| p.clone())
    }

    fn store(&self, key: String, p: Option<Profile>) {
        let mut g = self.cache.lock();
        let (map, order) = &mut *g;
        if map.insert(key.clone(), (Instant::now(), p)).is_none() {
            order.push_back(key);
        }
        while map.len() > self.config.cache_capacity {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
    }

    /// `Ok(None)`: the CRM has no such customer.
    async fn fetch(&self, customer_id: &str, phone: &str) -> Result<Option<Profile>, String> {
        match &self.source {
            Source::Salesforce { auth, c } => {
                let (field, value) = if !customer_id.is_empty() {
                    (c.id_field.as_str(), customer_id)
                } else if let Some(f) = &c.phone_field {
                    (f.as_str(), phone)
                } else {
                    return Ok(None);
                };
                let path = format!(
                    "/services/data/{}/sobjects/{}/{}/{}",
                    auth.api_version,
                    c.object,
                    field,
                    path_segment(value)
                );
                let a = auth
                    .send(Method::GET, &path, None)
                    .await
                    .map_err(|o| format!("{o:?}"))?;
                match a.status {
                    200 => {
                        let v: Value = serde_json::from_str(&a.body)
                            .map_err(|e| format!("unreadable record: {e}"))?;
                        Ok(Some(self.config.fields.read(&v)))
                    }
                    404 => Ok(None),
                    300 => Err(format!(
                        "several {} records have {field} = {value}",
                        c.object
                    )),
                    s => Err(format!(
                        "HTTP {s}: {}",
                        super::retry::truncate(&a.body, 200)
                    )),
                }
            }
            Source::Http { c, http } => {
                let url = if !customer_id.is_empty() {
                    c.url.replace("{customer_id}", &path_segment(customer_id))
                } else if let Some(u) = &c.by_phone_url {
                    u.replace("{phone}", &path_segment(phone))
                } else {
                    return Ok(None);
                };
                let mut req = http.get(url);
                for (k, v) in &c.headers {
                    req = req.header(k.as_str(), v.resolve()?);
                }
                let resp = req.send().await.map_err(|e| e.to_string())?;
                match resp.status().as_u16() {
                    200 => {
                        let v: Value = resp.json_value().await?;
                        Ok(Some(self.config.fields.read(&v)))
                    }
                    404 => Ok(None),
                    s => Err(format!("HTTP {s}")),
                }
            }
        }
    }

    /// The routing hint for a profile.
    pub fn routing(&self, p: Option<&Profile>) -> RoutingHint {
        let Some(p) = p else {
            return RoutingHint {
                priority: "normal".into(),
                reason: "customer unknown".into(),
            };
        };
        if self
            .config
            .vip_tiers
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&p.tier))
        {
            return RoutingHint {
                priority: "high".into(),
                reason: format!("tier {}", p.tier),
            };
        }
        if let Some(t) = p
            .risk_tags
            .iter()
            .find(|t| self.config.priority_risk_tags.contains(t))
        {
            return RoutingHint {
                priority: "high".into(),
                reason: format!("risk tag {t}"),
            };
        }
        RoutingHint {
            priority: "normal".into(),
            reason: String::new(),
        }
    }

    /// The context message for a viewing role (masked and hidden per `views`).
    pub fn view(&self, customer_id: &str, l: &Lookup, role: &str) -> CustomerContext {
        let role = if role.is_empty() {
            self.config.default_view.as_str()
        } else {
            role
        };
        let v = self.config.views.get(role).cloned().unwrap_or_default();
        let shown = |f: ProfileField| v.shows(f);
        let p = l.profile.clone().unwrap_or_default();
        let phone = if !shown(ProfileField::Phone) {
            String::new()
        } else if v.mask.contains(&ProfileField::Phone) {
            mask_phone_for_view(&p.phone)
        } else {
            p.phone.clone()
        };
        CustomerContext {
            status: l.status as i32,
            customer_id: customer_id.to_string(),
            tier: if shown(ProfileField::Tier) {
                p.tier.clone()
            } else {
                String::new()
            },
            lifetime_value: if shown(ProfileField::LifetimeValue) {
                p.lifetime_value
            } else {
                0.0
            },
            avg_order_value: if shown(ProfileField::AvgOrderValue) {
                p.avg_order_value
            } else {
                0.0
            },
            recent_orders: if shown(ProfileField::RecentOrders) {
                p.recent_orders
            } else {
                0
            },
            open_tickets: if shown(ProfileField::OpenTickets) {
                p.open_tickets
            } else {
                0
            },
            risk_tags: if shown(ProfileField::RiskTags) {
                p.risk_tags.clone()
            } else {
                Vec::new()
            },
            routing: Some(self.routing(l.profile.as_ref())),
            phone,
            lookup_ms: l.lookup_ms,
            cached: l.cached,
            view_role: role.to_string(),
        }
    }
}

/// Reads a response body as JSON (reqwest is built without its `json` feature).
trait JsonValue {
    async fn json_value(self) -> Result<Value, String>;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Result<Value, String> {
        let bytes = self.bytes().await.map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| format!("unreadable record: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_name_profile_fields_that_exist() {
        let read = |t: &str| toml::from_str::<ContextConfig>(t).map_err(|e| e.to_string());
        let ok =
            read("[views.agent]\nmask = [\"phone\"]\nhide = [\"lifetime_value\", \"risk_tags\"]")
                .unwrap();
        assert!(ok.validate().is_ok());
        assert_eq!(
            ok.views["agent"].hide,
            [ProfileField::LifetimeValue, ProfileField::RiskTags]
        );
        let typo = read("[views.agent]\nhide = [\"lifetime_valeu\"]").unwrap_err();
        assert!(typo.contains("unknown variant `lifetime_valeu`"), "{typo}");
        let tier = read("[views.agent]\nmask = [\"tier\"]")
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(
            tier.contains("views.agent.mask: \"tier\" has no masked form"),
            "{tier}"
        );
    }

    #[test]
    fn profiles_are_read_from_salesforce_style_records() {
        let fields = ProfileFields {
            tier: "Tier__c".into(),
            lifetime_value: "Lifetime_Value__c".into(),
            avg_order_value: "Stats.aov".into(),
            recent_orders: "Orders_90d__c".into(),
            open_tickets: "Open_Tickets__c".into(),
            risk_tags: "Risk_Tags__c".into(),
            phone: "Phone".into(),
        };
        let rec = json!({"Tier__c": "Gold", "Lifetime_Value__c": 12500.5, "Stats": {"aov": "620"}, "Orders_90d__c": 3,
                         "Open_Tickets__c": null, "Risk_Tags__c": "churn_risk; prefers_wechat", "Phone": "13812345678"});
        let p = fields.read(&rec);
        assert_eq!(p.tier, "Gold");
        assert_eq!(p.lifetime_value, 12500.5);
        assert_eq!(p.avg_order_value, 620.0);
        assert_eq!((p.recent_orders, p.open_tickets), (3, 0));
        assert_eq!(p.risk_tags, ["churn_risk", "prefers_wechat"]);
    }
}
