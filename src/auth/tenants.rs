//! Per-tenant limits and choices: concurrent calls, call and text rates,
//! which sinks a tenant's events reach, whether its customers are looked up
//! in the CRM, and where its callbacks may go.
//!
//! Owns: the per-tenant counters (a permit per running call, token buckets
//! for rates). Tenants without a table share `[tenant_defaults]`; their
//! counters are kept in a bounded map (idle ones are dropped first), so a
//! client naming a million tenants costs bounded memory. Metrics per
//! tenant (`callsense_tenant_*{tenant}`): a series for each tenant with a
//! table, one shared series (`tenant="_default"`) for all the others, so
//! the number of series is the operator's choice, not the clients'.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use metrics::{Counter, Gauge};

use super::config::{TenantConfig, TenantDefaults, TenantsConfig};
use crate::telemetry::Telemetry;

/// The metrics label of tenants without a `[tenants.<name>]` table.
pub const DEFAULT_TENANT_LABEL: &str = "_default";

/// One tenant's (or the defaults') metric series.
struct TenantSeries {
    started: Counter,
    throttled: Counter,
    active: Gauge,
    texts: Counter,
    texts_throttled: Counter,
}

impl TenantSeries {
    fn new(t: &Telemetry, tenant: &str) -> Self {
        let l = [("tenant", tenant)];
        Self {
            started: t.counter(
                "callsense_tenant_calls_started_total",
                "Calls admitted, per tenant (tenants without a table: _default).",
                &l,
            ),
            throttled: t.counter(
                "callsense_tenant_calls_throttled_total",
                "Calls refused for the tenant's quota or rate (RESOURCE_EXHAUSTED).",
                &l,
            ),
            active: t.gauge(
                "callsense_tenant_calls_active",
                "Calls running, per tenant.",
                &l,
            ),
            texts: t.counter(
                "callsense_tenant_texts_total",
                "AnalyzeText texts admitted, per tenant.",
                &l,
            ),
            texts_throttled: t.counter(
                "callsense_tenant_texts_throttled_total",
                "AnalyzeText requests refused for the tenant's rate.",
                &l,
            ),
        }
    }
}

/// Most tenants without a table tracked at once.
pub const MAX_TRACKED_TENANTS: usize = 10_000;

/// A refusal for a tenant over its quota: the message and when to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    pub message: String,
    pub retry_after_s: u64,
}

/// A token bucket: `per_minute` refill, 10 s worth (at least 1) of burst.
#[derive(Debug)]
struct Bucket {
    per_s: f64,
    capacity: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(per_minute: u32, now: Instant) -> Option<Mutex<Self>> {
        (per_minute > 0).then(|| {
            let per_s = f64::from(per_minute) / 60.0;
            let capacity = (per_s * 10.0).max(1.0);
            Mutex::new(Self {
                per_s,
                capacity,
                tokens: capacity,
                at: now,
            })
        })
    }

    /// Takes `n` tokens, or says how long until they are there.
    fn take(&mut self, n: f64, now: Instant) -> Result<(), Duration> {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.per_s).min(self.capacity);
        self.at = now;
        if n > self.capacity {
            // More than a burst can ever hold: wait for a full bucket.
            return if self.tokens >= self.capacity {
                self.tokens = 0.0;
                Ok(())
            } else {
                Err(Duration::from_secs_f64(
                    (self.capacity - self.tokens) / self.per_s,
                ))
            };
        }
        if self.tokens >= n {
            self.tokens -= n;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((n - self.tokens) / self.per_s))
        }
    }

    fn full(&mut self, now: Instant) -> bool {
        let _ = self.take(0.0, now);
        self.tokens >= self.capacity
    }
}

/// One tenant's live state.
#[derive(Debug)]
struct TenantState {
    max_calls: usize,
    active: AtomicUsize,
    calls: Option<Mutex<Bucket>>,
    texts: Option<Mutex<Bucket>>,
}

impl TenantState {
    fn new(max_calls: usize, calls_pm: u32, texts_pm: u32) -> Self {
        let now = Instant::now();
        Self {
            max_calls,
            active: AtomicUsize::new(0),
            calls: Bucket::new(calls_pm, now),
            texts: Bucket::new(texts_pm, now),
        }
    }

    fn idle(&self, now: Instant) -> bool {
        self.active.load(Ordering::Acquire) == 0
            && self.calls.as_ref().is_none_or(|b| b.lock().full(now))
            && self.texts.as_ref().is_none_or(|b| b.lock().full(now))
    }
}

/// What one tenant's calls use.
#[derive(Debug, Clone)]
struct Policy {
    sinks: Option<HashSet<String>>,
    context: bool,
    callback_prefixes: Option<Vec<String>>,
}

/// A running call's hold on its tenant's quota; dropping it frees the slot.
pub struct TenantPermit {
    state: Arc<TenantState>,
    series: Arc<TenantSeries>,
}

impl std::fmt::Debug for TenantPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantPermit").finish_non_exhaustive()
    }
}

impl Drop for TenantPermit {
    fn drop(&mut self) {
        self.state.active.fetch_sub(1, Ordering::AcqRel);
        self.series.active.decrement(1.0);
    }
}

/// Every tenant's limits and choices.
pub struct Tenants {
    defaults: TenantDefaults,
    configured: HashMap<String, (Policy, Arc<TenantState>, Arc<TenantSeries>)>,
    others: Mutex<HashMap<String, Arc<TenantState>>>,
    default_series: Arc<TenantSeries>,
}

impl Tenants {
    pub fn new(defaults: &TenantDefaults, tenants: &TenantsConfig, telemetry: &Telemetry) -> Self {
        let configured = tenants
            .iter()
            .map(|(name, t): (&String, &TenantConfig)| {
                let state = TenantState::new(
                    t.max_concurrent_calls
                        .unwrap_or(defaults.max_concurrent_calls),
                    t.calls_per_minute.unwrap_or(defaults.calls_per_minute),
                    t.texts_per_minute.unwrap_or(defaults.texts_per_minute),
                );
                let policy = Policy {
                    sinks: t.sinks.as_ref().map(|s| s.iter().cloned().collect()),
                    context: t.context.unwrap_or(true),
                    callback_prefixes: t.callback_prefixes.clone(),
                };
                let series = Arc::new(TenantSeries::new(telemetry, name));
                (name.clone(), (policy, Arc::new(state), series))
            })
            .collect();
        Self {
            defaults: defaults.clone(),
            configured,
            others: Mutex::new(HashMap::new()),
            default_series: Arc::new(TenantSeries::new(telemetry, DEFAULT_TENANT_LABEL)),
        }
    }

    fn series(&self, tenant: &str) -> &Arc<TenantSeries> {
        self.configured
            .get(tenant)
            .map_or(&self.default_series, |(_, _, s)| s)
    }

    /// Takes a call slot and a call from the rate for `tenant`.
    ///
    /// # Errors
    /// The tenant is at its concurrent-call quota or over its call rate.
    pub fn admit_call(&self, tenant: &str) -> Result<TenantPermit, Throttled> {
        let series = self.series(tenant);
        let permit = self.admit(tenant, series).inspect_err(|_| {
            series.throttled.increment(1);
        })?;
        series.started.increment(1);
        Ok(permit)
    }

    fn state(&self, tenant: &str) -> Result<Arc<TenantState>, Throttled> {
        if let Some((_, s, _)) = self.configured.get(tenant) {
            return Ok(Arc::clone(s));
        }
        let d = &self.defaults;
        if d.max_concurrent_calls == 0 && d.calls_per_minute == 0 && d.texts_per_minute == 0 {
            // Nothing to count: a fresh unlimited state, never stored.
            return Ok(Arc::new(TenantState::new(0, 0, 0)));
        }
        let mut others = self.others.lock();
        if let Some(s) = others.get(tenant) {
            return Ok(Arc::clone(s));
        }
        if others.len() >= MAX_TRACKED_TENANTS {
            let now = Instant::now();
            others.retain(|_, s| !s.idle(now));
            if others.len() >= MAX_TRACKED_TENANTS {
                return Err(Throttled {
                    message: format!(
                        "{MAX_TRACKED_TENANTS} tenants without a [tenants] table are busy; retry shortly"
                    ),
                    retry_after_s: 1,
                });
            }
        }
        let s = Arc::new(TenantState::new(
            d.max_concurrent_calls,
            d.calls_per_minute,
            d.texts_per_minute,
        ));
        others.insert(tenant.to_string(), Arc::clone(&s));
        Ok(s)
    }

    fn admit(&self, tenant: &str, series: &Arc<TenantSeries>) -> Result<TenantPermit, Throttled> {
        let state = self.state(tenant)?;
        if state.max_calls > 0 {
            let prev = state.active.fetch_add(1, Ordering::AcqRel);
            if prev >= state.max_calls {
                state.active.fetch_sub(1, Ordering::AcqRel);
                return Err(Throttled {
                    message: format!(
                        "tenant {tenant:?} is at its quota of {} concurrent calls",
                        state.max_calls
                    ),
                    retry_after_s: 1,
                });
            }
        } else {
            state.active.fetch_add(1, Ordering::AcqRel);
        }
        series.active.increment(1.0);
        let permit = TenantPermit {
            state: Arc::clone(&state),
            series: Arc::clone(series),
        };
        if let Some(b) = &state.calls {
            b.lock()
                .take(1.0, Instant::now())
                .map_err(|wait| Throttled {
                    message: format!("tenant {tenant:?} is over its rate of new calls per minute"),
                    retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
                })?;
        }
        Ok(permit)
    }

    /// Takes `n` texts from `tenant`'s AnalyzeText rate.
    ///
    /// # Errors
    /// Over the rate.
    pub fn take_texts(&self, tenant: &str, n: usize) -> Result<(), Throttled> {
        let series = self.series(tenant);
        let taken = self.state(tenant).and_then(|state| match &state.texts {
            Some(b) => b
                .lock()
                .take(n as f64, Instant::now())
                .map_err(|wait| Throttled {
                    message: format!("tenant {tenant:?} is over its rate of texts per minute"),
                    retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
                }),
            None => Ok(()),
        });
        match &taken {
            Ok(()) => series.texts.increment(n as u64),
            Err(_) => series.texts_throttled.increment(1),
        }
        taken
    }

    /// Calls running for `tenant` (0 for tenants not counted).
    pub fn active(&self, tenant: &str) -> usize {
        match self.configured.get(tenant) {
            Some((_, s, _)) => s.active.load(Ordering::Acquire),
            None => self
                .others
                .lock()
                .get(tenant)
                .map_or(0, |s| s.active.load(Ordering::Acquire)),
        }
    }

    /// Whether `tenant`'s events go to `sink`.
    pub fn uses_sink(&self, tenant: &str, sink: &str) -> bool {
        match self.configured.get(tenant) {
            Some((Policy { sinks: Some(s), .. }, _, _)) => s.contains(sink),
            _ => true,
        }
    }

    /// Whether `tenant`'s customers are looked up in the CRM on call start.
    pub fn uses_context(&self, tenant: &str) -> bool {
        self.configured
            .get(tenant)
            .is_none_or(|(p, _, _)| p.context)
    }

    /// Checks a call's callback URL against `tenant`'s prefixes.
    ///
    /// # Errors
    /// The URL is not under any of them.
    pub fn check_callback(&self, tenant: &str, url: &str) -> Result<(), String> {
        match self.configured.get(tenant) {
            Some((
                Policy {
                    callback_prefixes: Some(prefixes),
                    ..
                },
                _,
                _,
            )) if !prefixes.iter().any(|p| url.starts_with(p.as_str())) => Err(format!(
                "callback_url {url:?} is not under one of tenant {tenant:?}'s callback prefixes"
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenants(defaults: &str, tables: &str) -> Tenants {
        Tenants::new(
            &toml::from_str(defaults).unwrap(),
            &toml::from_str(tables).unwrap(),
            &Telemetry::default(),
        )
    }

    #[test]
    fn concurrent_quota_is_per_tenant_and_freed_by_the_permit() {
        let t = tenants(
            "max_concurrent_calls = 5",
            "[acme]\nmax_concurrent_calls = 2",
        );
        let a = t.admit_call("acme").unwrap();
        let _b = t.admit_call("acme").unwrap();
        let e = t.admit_call("acme").unwrap_err();
        assert!(
            e.message.contains("quota of 2 concurrent calls"),
            "{}",
            e.message
        );
        assert_eq!(e.retry_after_s, 1);
        // Another tenant is not affected.
        let others: Vec<_> = (0..5).map(|_| t.admit_call("globex").unwrap()).collect();
        assert!(
            t.admit_call("globex").is_err(),
            "defaults apply to tenants without a table"
        );
        drop(a);
        assert_eq!(t.active("acme"), 1);
        t.admit_call("acme").unwrap();
        drop(others);
        assert_eq!(t.active("globex"), 0);
    }

    #[test]
    fn rates_refill_and_say_when_to_retry() {
        let now = Instant::now();
        let mut b = Bucket::new(60, now).unwrap().into_inner();
        for _ in 0..10 {
            b.take(1.0, now).unwrap();
        }
        let wait = b.take(1.0, now).unwrap_err();
        assert!((0.9..=1.1).contains(&wait.as_secs_f64()), "{wait:?}");
        b.take(1.0, now + Duration::from_secs(1)).unwrap();
        // A request bigger than the burst waits for a full bucket, then goes.
        assert!(b.take(100.0, now + Duration::from_secs(1)).is_err());
        b.take(100.0, now + Duration::from_secs(20)).unwrap();

        let t = tenants("", "[acme]\ncalls_per_minute = 6\ntexts_per_minute = 60");
        t.admit_call("acme").unwrap();
        let e = t.admit_call("acme").unwrap_err();
        assert!(e.message.contains("rate of new calls"), "{}", e.message);
        assert!((9..=11).contains(&e.retry_after_s), "{}", e.retry_after_s);
        assert_eq!(t.active("acme"), 0, "a refused call holds no slot");
        t.take_texts("acme", 10).unwrap();
        assert!(t.take_texts("acme", 1).is_err());
        t.take_texts("unlisted", 1_000_000).unwrap();
    }

    #[test]
    fn sinks_context_and_callbacks_follow_the_tenant_table() {
        let t = tenants(
            "",
            "[acme]\nsinks = [\"crm\"]\ncontext = false\ncallback_prefixes = [\"https://acme.example/\"]",
        );
        assert!(t.uses_sink("acme", "crm") && !t.uses_sink("acme", "hook"));
        assert!(t.uses_sink("globex", "hook"));
        assert!(!t.uses_context("acme") && t.uses_context("globex"));
        t.check_callback("acme", "https://acme.example/cb").unwrap();
        let e = t
            .check_callback("acme", "https://evil.example/cb")
            .unwrap_err();
        assert!(
            e.contains("not under one of tenant \"acme\"'s callback prefixes"),
            "{e}"
        );
        t.check_callback("globex", "https://anything/").unwrap();
    }

    #[test]
    fn tenants_without_a_table_cost_bounded_memory() {
        let t = tenants("calls_per_minute = 600", "");
        for i in 0..MAX_TRACKED_TENANTS + 50 {
            let _ = t.admit_call(&format!("t{i}"));
        }
        assert!(t.others.lock().len() <= MAX_TRACKED_TENANTS);
    }

    #[test]
    fn metrics_have_a_series_per_configured_tenant_and_one_for_the_rest() {
        let telemetry = Telemetry::default();
        let t = Tenants::new(
            &toml::from_str("max_concurrent_calls = 1\ntexts_per_minute = 6").unwrap(),
            &toml::from_str("[acme]\nmax_concurrent_calls = 2").unwrap(),
            &telemetry,
        );
        let a1 = t.admit_call("acme").unwrap();
        let _a2 = t.admit_call("acme").unwrap();
        assert!(t.admit_call("acme").is_err());
        let _g = t.admit_call("globex").unwrap();
        let _i = t.admit_call("initech").unwrap();
        assert!(t.admit_call("globex").is_err());
        drop(a1);
        t.take_texts("globex", 1).unwrap();
        assert!(t.take_texts("globex", 100).is_err());
        // A million client-chosen names add no series.
        for n in 0..1000 {
            let _ = t.take_texts(&format!("tenant-{n}"), 1);
        }
        let text = telemetry.render();
        for line in [
            "callsense_tenant_calls_started_total{tenant=\"acme\"} 2",
            "callsense_tenant_calls_throttled_total{tenant=\"acme\"} 1",
            "callsense_tenant_calls_active{tenant=\"acme\"} 1",
            "callsense_tenant_calls_started_total{tenant=\"_default\"} 2",
            "callsense_tenant_calls_throttled_total{tenant=\"_default\"} 1",
            "callsense_tenant_calls_active{tenant=\"_default\"} 2",
            "callsense_tenant_texts_throttled_total{tenant=\"_default\"} 1",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        let series = text
            .lines()
            .filter(|l| l.starts_with("callsense_tenant_calls_active{"))
            .count();
        assert_eq!(series, 2, "{text}");
    }
}
