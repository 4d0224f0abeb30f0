//! Rules: CEL conditions over the utterance, the call so far and the
//! customer's CRM profile that turn facts into CRM actions.
//!
//! Owns: the rules file format, validation at load (every error names the
//! rule), evaluation with cool-downs (once per call by default, or at most
//! every `cooldown_s`), phrase rules (a phrase an agent must say within a
//! window, or must never say), and hot reload (file change or SIGHUP) that swaps
//! the rule set atomically and keeps the old one when the new file is
//! invalid. Each fired rule yields [`FiredRule`]s: actions for the CRM
//! (tag, task, owner, coupon) and, with an `alert` action, a `RuleAlert`
//! for the agent desktop. Thresholds live in `[params]`, so tuning a rule
//! is an edit of one number.
//!
//! Must not: block on I/O while evaluating (CEL evaluation is pure and
//! takes microseconds, so it runs inline in the call loop).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cel_interpreter::{Context, ExecutionError, Program, Value as CelValue};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::analytics::{MatchKind, PhraseMatcher};
use crate::telemetry::Telemetry;
use metrics::{Counter, Gauge};

/// Most rules in one file.
pub const MAX_RULES: usize = 256;
/// Most actions per rule.
const MAX_ACTIONS: usize = 16;
/// Longest rule expression, in bytes.
const MAX_EXPR_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("rules file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("rule \"{rule}\": {reason}")]
    Rule { rule: String, reason: String },
}

/// `[connect.rules]` in the engine config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// TOML file of `[params]` and `[[rule]]` entries. Unset: no rules.
    pub file: Option<PathBuf>,
    /// How often the file is checked for changes (SIGHUP reloads at once).
    pub reload_interval_ms: u64,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            file: None,
            reload_interval_ms: 2000,
        }
    }
}

/// The rules file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Named thresholds, visible to every rule as `params.<name>`.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
}

/// When a rule is evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// After each final utterance (variables: utterance, call, customer, params).
    #[default]
    Utterance,
    /// Once, when the call ends (variables: call, agent, customer, params).
    CallEnd,
    /// Each time the live measures are refreshed: after each final result
    /// and every `analytics.interval_ms` while they change (variables: call,
    /// agent, customer, params). For silences, overtalk and talk speed.
    Metrics,
}

/// Whose words a phrase rule listens to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhraseRole {
    #[default]
    Any,
    Agent,
    /// The customer (and channels of unknown role).
    Customer,
}

impl PhraseRole {
    fn hears(self, role: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Agent => role == "agent",
            Self::Customer => role == "customer" || role == "unknown",
        }
    }
}

/// `[rule.phrase]`: a script-adherence or compliance check on the (masked)
/// final transcripts, instead of a `when` expression.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseSpec {
    /// Fires when none of these was said in the window, once the window
    /// has passed (or at call end when it has no end).
    #[serde(default)]
    pub require: Vec<String>,
    /// Fires when one of these is said in the window.
    #[serde(default)]
    pub forbid: Vec<String>,
    /// exact (default), pattern or fuzzy.
    #[serde(default, rename = "match")]
    pub kind: MatchKind,
    /// For `match = "fuzzy"`: least similarity (0–1) that counts.
    #[serde(default = "default_similarity")]
    pub min_similarity: f32,
    /// agent, customer or any (default).
    #[serde(default)]
    pub role: PhraseRole,
    /// The window, in seconds of call time: turns that start in
    /// `[from_s, to_s)` count. No `to_s`: until the call ends.
    #[serde(default)]
    pub from_s: u32,
    #[serde(default)]
    pub to_s: Option<u32>,
}

fn default_similarity() -> f32 {
    0.8
}

impl PhraseSpec {
    fn required(&self) -> bool {
        !self.require.is_empty()
    }

    fn in_window(&self, start_ms: u32) -> bool {
        let from = u64::from(self.from_s) * 1000;
        let to = self.to_s.map_or(u64::MAX, |t| u64::from(t) * 1000);
        (from..to).contains(&u64::from(start_ms))
    }

    fn compile(&self) -> Result<PhraseMatcher, String> {
        let phrases = match (self.require.is_empty(), self.forbid.is_empty()) {
            (false, true) => &self.require,
            (true, false) => &self.forbid,
            _ => return Err("a phrase rule has either `require` or `forbid` phrases".into()),
        };
        if self.to_s.is_some_and(|t| t <= self.from_s) {
            return Err("phrase window: `to_s` must be after `from_s`".into());
        }
        PhraseMatcher::new(self.kind, phrases, self.min_similarity)
            .map_err(|e| format!("phrase: {e}"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique; names the rule in errors, actions and alerts.
    pub name: String,
    /// A CEL expression that must yield a boolean (or, instead, `phrase`).
    #[serde(default)]
    pub when: String,
    /// A phrase check instead of `when`.
    #[serde(default)]
    pub phrase: Option<PhraseSpec>,
    #[serde(default)]
    pub on: Trigger,
    /// Tenants whose calls this rule watches; empty (default): every tenant.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Fire at most once per call (default). False: fire again after `cooldown_s`.
    #[serde(default = "yes")]
    pub once_per_call: bool,
    /// With `once_per_call = false`: least seconds between two firings in a call.
    #[serde(default)]
    pub cooldown_s: u64,
    pub actions: Vec<Action>,
}

fn yes() -> bool {
    true
}

impl RuleSpec {
    /// Whether the rule watches calls of `tenant`.
    pub fn applies_to(&self, tenant: &str) -> bool {
        self.tenants.is_empty() || self.tenants.iter().any(|t| t == tenant)
    }
}

/// What a fired rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Tag the customer in the CRM (e.g. churn_risk).
    Tag { value: String },
    /// Create a task (retention call, satisfaction callback).
    Task {
        subject: String,
        #[serde(default)]
        due_in_hours: u32,
        #[serde(default)]
        owner: Option<String>,
    },
    /// Assign an owner (queue or account manager) to the customer.
    AssignOwner { owner: String },
    /// Issue a coupon record.
    Coupon {
        code: String,
        #[serde(default)]
        value: f64,
    },
    /// Raise a `RuleAlert` on the call's stream for the agent desktop.
    Alert {
        message: String,
        #[serde(default)]
        severity: Severity,
    },
}

/// How urgent an alert is, for the agent desktop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Severity {
    #[default]
    Info,
    Warning,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl TryFrom<String> for Severity {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "info" => Self::Info,
            "warning" => Self::Warning,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => {
                return Err(format!(
                    "alert severity {s:?} must be info, warning, high or critical"
                ))
            }
        })
    }
}

impl From<Severity> for String {
    fn from(s: Severity) -> Self {
        s.as_str().into()
    }
}

impl Action {
    fn validate(&self) -> Result<(), String> {
        let nonempty = |what: &str, s: &str| {
            if s.trim().is_empty() || s.len() > 512 {
                Err(format!("{what} must be 1–512 bytes"))
            } else {
                Ok(())
            }
        };
        match self {
            Self::Tag { value } => nonempty("tag value", value),
            Self::Task { subject, .. } => nonempty("task subject", subject),
            Self::AssignOwner { owner } => nonempty("owner", owner),
            Self::Coupon { code, value } => {
                nonempty("coupon code", code)?;
                if *value < 0.0 || !value.is_finite() {
                    return Err("coupon value must be ≥ 0".into());
                }
                Ok(())
            }
            Self::Alert { message, .. } => nonempty("alert message", message),
        }
    }
}

struct Rule {
    spec: RuleSpec,
    check: Check,
}

enum Check {
    When(Program),
    Phrase(PhraseMatcher),
}

/// A validated rule set.
pub struct RuleSet {
    rules: Vec<Rule>,
    params: CelValue,
}

/// One rule that fired, with its actions.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredRule {
    pub rule: String,
    pub actions: Vec<Action>,
    /// Phrase rules: what matched, or what was missing and by when.
    pub evidence: String,
}

/// The variables a rule sees.
pub struct Facts<'a> {
    /// `None` for `on = "call_end"` rules.
    pub utterance: Option<&'a Value>,
    pub call: &'a Value,
    /// The agent's live measures.
    pub agent: &'a Value,
    /// The CRM profile, with the customer's live measures.
    pub customer: &'a Value,
}

/// Compiles a CEL expression. The parser can panic on some malformed
/// input; that is caught and reported like any other syntax error.
fn compile(expr: &str) -> Result<Program, String> {
    match std::panic::catch_unwind(|| Program::compile(expr)) {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(e)) => Err(format!("`when` does not parse: {e}")),
        Err(_) => Err(format!("`when` does not parse: {expr:?}")),
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn to_cel(v: &Value) -> CelValue {
    cel_interpreter::to_value(v).unwrap_or(CelValue::Null)
}

/// Sample variables used to check rules at load: every field the engine
/// fills, so a misspelt field is an error.
fn sample_facts() -> (Value, Value, Value, Value) {
    let utterance = json!({"seq": 1, "channel": 1, "role": "customer", "transcript": "text", "language": "en",
        "sentiment": "negative", "score": -0.5, "intent": "complaint", "intent_confidence": 0.9,
        "intent_low_confidence": false, "start_ms": 0, "end_ms": 1000});
    let mut call = json!({"call_id": "c", "tenant": "t", "customer_id": "x", "utterances": 1, "customer_utterances": 1,
        "negative_streak": 1, "customer_mean_score": -0.5, "intents": ["complaint"], "last_customer_sentiment": "negative",
        "duration_ms": 1000, "service_result": "resolved", "transfer_reason": ""});
    let measures = crate::analytics::facts(&crate::proto::CallMetrics::default());
    if let Value::Object(c) = &mut call {
        c.extend(measures.call);
    }
    (
        utterance,
        call,
        Value::Object(measures.agent),
        Value::Object(measures.customer),
    )
}

impl RuleSet {
    /// Parses and validates a rules file's text.
    ///
    /// # Errors
    /// TOML errors, or the first invalid rule (named).
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let file: RulesFile = toml::from_str(text).map_err(|e| RulesError::File {
            path: String::new(),
            reason: e.to_string(),
        })?;
        Self::build(file)
    }

    /// Reads and validates a rules file.
    ///
    /// # Errors
    /// Unreadable file, TOML errors, or the first invalid rule (named).
    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let ferr = |reason: String| RulesError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| ferr(e.to_string()))?;
        Self::parse(&text).map_err(|e| match e {
            RulesError::File { reason, .. } => ferr(reason),
            other => other,
        })
    }

    fn build(file: RulesFile) -> Result<Self, RulesError> {
        if file.rules.len() > MAX_RULES {
            return Err(RulesError::File {
                path: String::new(),
                reason: format!("at most {MAX_RULES} rules"),
            });
        }
        let params_json = serde_json::to_value(&file.params).unwrap_or(Value::Null);
        let params = to_cel(&params_json);
        let (utterance, call, agent, customer) = sample_facts();
        let mut seen = std::collections::HashSet::new();
        let mut rules = Vec::with_capacity(file.rules.len());
        for spec in file.rules {
            let err = |reason: String| RulesError::Rule {
                rule: spec.name.clone(),
                reason,
            };
            if spec.name.is_empty()
                || spec.name.len() > 128
                || !spec
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            {
                return Err(err("name must be 1–128 characters of [A-Za-z0-9_.-]".into()));
            }
            if !seen.insert(spec.name.clone()) {
                return Err(err("the name is used twice".into()));
            }
            if spec.when.len() > MAX_EXPR_BYTES {
                return Err(err(format!("`when` is longer than {MAX_EXPR_BYTES} bytes")));
            }
            if spec.actions.is_empty() || spec.actions.len() > MAX_ACTIONS {
                return Err(err(format!("1 to {MAX_ACTIONS} actions")));
            }
            for a in &spec.actions {
                a.validate().map_err(err)?;
            }
            if let Some(p) = &spec.phrase {
                if !spec.when.trim().is_empty() {
                    return Err(err("a rule has either `when` or `phrase`, not both".into()));
                }
                if spec.on != Trigger::Utterance {
                    return Err(err(
                        "phrase rules are checked on each final and when their window closes; leave out `on`".into(),
                    ));
                }
                let matcher = p.compile().map_err(err)?;
                rules.push(Rule {
                    check: Check::Phrase(matcher),
                    spec,
                });
                continue;
            }
            if spec.when.trim().is_empty() {
                return Err(err(
                    "`when` (a CEL expression) or `phrase` is required".into()
                ));
            }
            let program = compile(&spec.when).map_err(err)?;
            // Dry run on sample facts: undeclared variables, misspelt fields
            // of utterance/call and non-boolean results are load errors.
            let facts = Facts {
                utterance: (spec.on == Trigger::Utterance).then_some(&utterance),
                call: &call,
                agent: &agent,
                customer: &customer,
            };
            match eval(&program, &facts, &params) {
                Ok(CelValue::Bool(_)) => {}
                Ok(other) => {
                    return Err(err(format!("`when` must yield a boolean, not {other:?}")))
                }
                Err(ExecutionError::NoSuchKey(_)) if spec.when.contains("customer") => {}
                Err(e) => return Err(err(format!("`when` fails on sample facts: {e}"))),
            }
            rules.push(Rule {
                spec,
                check: Check::When(program),
            });
        }
        Ok(Self { rules, params })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn eval(
    program: &Program,
    facts: &Facts<'_>,
    params: &CelValue,
) -> Result<CelValue, ExecutionError> {
    let mut ctx = Context::default();
    if let Some(u) = facts.utterance {
        ctx.add_variable_from_value("utterance", to_cel(u));
    }
    ctx.add_variable_from_value("call", to_cel(facts.call));
    ctx.add_variable_from_value("agent", to_cel(facts.agent));
    ctx.add_variable_from_value("customer", to_cel(facts.customer));
    ctx.add_variable_from_value("params", params.clone());
    program.execute(&ctx)
}

/// Per-call memory of which rules fired and when, and of phrase rules'
/// progress.
#[derive(Debug, Default)]
pub struct CallRuleState {
    /// The call's tenant: rules naming other tenants are skipped.
    tenant: String,
    fired: HashMap<String, u64>,
    /// Required-phrase rules whose phrase was said in its window.
    said: std::collections::HashSet<String>,
    /// Required-phrase rules already judged (said or not).
    judged: std::collections::HashSet<String>,
}

impl CallRuleState {
    /// The state of a call of `tenant`.
    pub fn for_tenant(tenant: &str) -> Self {
        Self {
            tenant: tenant.to_string(),
            ..Self::default()
        }
    }
}

/// A final turn as phrase rules see it.
pub struct PhraseTurn<'a> {
    pub seq: u32,
    /// `agent`, `customer` or `unknown`.
    pub role: &'a str,
    pub start_ms: u32,
    /// Masked.
    pub transcript: &'a str,
}

/// The live rule set, reloadable while calls run.
pub struct Rules {
    current: RwLock<Arc<RuleSet>>,
    path: Option<PathBuf>,
    /// Modification time of the file last read (valid or not).
    seen: parking_lot::Mutex<Option<SystemTime>>,
    metrics: RulesMetrics,
}

/// Rule activity, registered in the engine's [`Telemetry`].
struct RulesMetrics {
    fired: Counter,
    eval_errors: Counter,
    reloads: Counter,
    reload_errors: Counter,
    loaded: Gauge,
}

impl RulesMetrics {
    fn new(t: &Telemetry) -> Self {
        Self {
            fired: t.counter(
                "callsense_rules_fired_total",
                "Rule firings (after cool-downs).",
                &[],
            ),
            eval_errors: t.counter(
                "callsense_rules_eval_errors_total",
                "Rule evaluations that failed (e.g. a missing customer field).",
                &[],
            ),
            reloads: t.counter(
                "callsense_rules_reloads_total",
                "Rules files loaded after a change or SIGHUP.",
                &[],
            ),
            reload_errors: t.counter(
                "callsense_rules_reload_errors_total",
                "Invalid rules files refused (the rules in force stayed).",
                &[],
            ),
            loaded: t.gauge("callsense_rules_loaded", "Rules in force.", &[]),
        }
    }
}

impl Rules {
    /// Loads the configured file (or an empty set).
    ///
    /// # Errors
    /// The file is invalid: the engine does not start with broken rules.
    pub fn load(config: &RulesConfig, telemetry: &Telemetry) -> Result<Arc<Self>, RulesError> {
        let modified = config.file.as_deref().and_then(modified);
        let set = match &config.file {
            Some(p) => RuleSet::load(p)?,
            None => RuleSet {
                rules: Vec::new(),
                params: CelValue::Null,
            },
        };
        let rules = Self::from_set(set, config.file.clone(), telemetry);
        *rules.seen.lock() = modified;
        Ok(Arc::new(rules))
    }

    pub fn from_set(set: RuleSet, path: Option<PathBuf>, telemetry: &Telemetry) -> Self {
        let metrics = RulesMetrics::new(telemetry);
        metrics.loaded.set(set.len() as f64);
        Self {
            current: RwLock::new(Arc::new(set)),
            path,
            seen: parking_lot::Mutex::new(None),
            metrics,
        }
    }

    /// The rule set in force.
    pub fn current(&self) -> Arc<RuleSet> {
        Arc::clone(&self.current.read())
    }

    /// Re-reads the file if `force` or it changed. An invalid file is logged
    /// (naming the rule) and the rules in force stay.
    ///
    /// # Errors
    /// The new file is invalid.
    pub fn reload(&self, force: bool) -> Result<bool, RulesError> {
        let Some(path) = &self.path else {
            return Ok(false);
        };
        let now = modified(path);
        {
            let mut seen = self.seen.lock();
            if !force && now.is_some() && now == *seen {
                return Ok(false);
            }
            *seen = now; // a broken file is not re-read until it changes again
        }
        match RuleSet::load(path) {
            Ok(set) => {
                let n = set.len();
                *self.current.write() = Arc::new(set);
                self.metrics.loaded.set(n as f64);
                self.metrics.reloads.increment(1);
                tracing::info!(path = %path.display(), rules = n, "Rules reloaded");
                Ok(true)
            }
            Err(e) => {
                self.metrics.reload_errors.increment(1);
                tracing::error!(error = %e, "Rules file invalid; keeping the rules in force");
                Err(e)
            }
        }
    }

    /// Evaluates the rules for `trigger` and records firings in `state`.
    pub fn evaluate(
        &self,
        trigger: Trigger,
        facts: &Facts<'_>,
        state: &mut CallRuleState,
        now_ms: u64,
    ) -> Vec<FiredRule> {
        let set = self.current();
        let mut out = Vec::new();
        let tenant = state.tenant.clone();
        for r in set
            .rules
            .iter()
            .filter(|r| r.spec.on == trigger && r.spec.applies_to(&tenant))
        {
            let Check::When(program) = &r.check else {
                continue;
            };
            if !may_fire(r, state, now_ms) {
                continue;
            }
            match eval(program, facts, &set.params) {
                Ok(CelValue::Bool(true)) => {
                    out.push(self.fire(r, state, now_ms, String::new()));
                }
                Ok(_) => {}
                Err(e) => {
                    self.metrics.eval_errors.increment(1);
                    tracing::debug!(rule = %r.spec.name, error = %e, "Rule not evaluated");
                }
            }
        }
        out
    }

    /// Records a firing.
    fn fire(
        &self,
        r: &Rule,
        state: &mut CallRuleState,
        now_ms: u64,
        evidence: String,
    ) -> FiredRule {
        state.fired.insert(r.spec.name.clone(), now_ms);
        self.metrics.fired.increment(1);
        FiredRule {
            rule: r.spec.name.clone(),
            actions: r.spec.actions.clone(),
            evidence,
        }
    }

    /// Phrase rules after a final turn: a forbidden phrase in its window
    /// fires; a required one is marked as said.
    pub fn on_phrase_turn(
        &self,
        turn: &PhraseTurn<'_>,
        state: &mut CallRuleState,
        now_ms: u64,
    ) -> Vec<FiredRule> {
        let set = self.current();
        let mut out = Vec::new();
        let tenant = state.tenant.clone();
        for r in set.rules.iter().filter(|r| r.spec.applies_to(&tenant)) {
            let (Check::Phrase(matcher), Some(p)) = (&r.check, &r.spec.phrase) else {
                continue;
            };
            if !p.role.hears(turn.role) || !p.in_window(turn.start_ms) {
                continue;
            }
            if p.required() && state.said.contains(&r.spec.name) {
                continue;
            }
            let Some(hit) = matcher.find(turn.transcript) else {
                continue;
            };
            if p.required() {
                state.said.insert(r.spec.name.clone());
            } else if may_fire(r, state, now_ms) {
                let evidence = format!(
                    "{} said \"{}\" at {} (turn {})",
                    turn.role,
                    hit.said,
                    clock(turn.start_ms),
                    turn.seq
                );
                out.push(self.fire(r, state, now_ms, evidence));
            }
        }
        out
    }

    /// Required-phrase rules whose window has closed: every turn that
    /// started before `settled_ms` is final (at call end, pass `at_end`,
    /// which closes every window). Fires those whose phrase was not said.
    pub fn judge_required(
        &self,
        settled_ms: u32,
        at_end: bool,
        state: &mut CallRuleState,
        now_ms: u64,
    ) -> Vec<FiredRule> {
        let set = self.current();
        let mut out = Vec::new();
        let tenant = state.tenant.clone();
        for r in set.rules.iter().filter(|r| r.spec.applies_to(&tenant)) {
            let Some(p) = r.spec.phrase.as_ref().filter(|p| p.required()) else {
                continue;
            };
            let closed = at_end
                || p.to_s
                    .is_some_and(|t| u64::from(settled_ms) >= u64::from(t) * 1000);
            if !closed || !state.judged.insert(r.spec.name.clone()) {
                continue;
            }
            if !state.said.contains(&r.spec.name) {
                let by = match p.to_s {
                    Some(t) => format!("by {}", clock(t.saturating_mul(1000))),
                    None => "during the call".into(),
                };
                let who = match p.role {
                    PhraseRole::Any => "anyone",
                    PhraseRole::Agent => "the agent",
                    PhraseRole::Customer => "the customer",
                };
                let evidence = format!("\"{}\" not said by {who} {by}", p.require[0]);
                out.push(self.fire(r, state, now_ms, evidence));
            }
        }
        out
    }

    /// Reloads on file change every `interval` and at once on SIGHUP, until
    /// the task is dropped.
    pub async fn watch(self: Arc<Self>, interval: Duration) {
        #[cfg(unix)]
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            #[cfg(unix)]
            let force = tokio::select! {
                () = tokio::time::sleep(interval) => false,
                Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            };
            #[cfg(not(unix))]
            let force = {
                tokio::time::sleep(interval).await;
                false
            };
            let _ = self.reload(force);
        }
    }
}

/// Whether a rule's cool-down lets it fire now.
fn may_fire(r: &Rule, state: &CallRuleState, now_ms: u64) -> bool {
    match state.fired.get(&r.spec.name) {
        Some(&last) => {
            !r.spec.once_per_call && now_ms.saturating_sub(last) >= r.spec.cooldown_s * 1000
        }
        None => true,
    }
}

/// `m:ss` of call time.
fn clock(ms: u32) -> String {
    format!("{}:{:02}", ms / 60_000, (ms / 1000) % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[params]
retention_min_order_value = 500

[[rule]]
name = "churn-risk"
when = 'utterance.role == "customer" && utterance.intent == "cancel_service" && customer.avg_order_value >= params.retention_min_order_value'
actions = [
  { type = "tag", value = "churn_risk" },
  { type = "task", subject = "Retention call", due_in_hours = 24 },
  { type = "alert", message = "High-value customer wants to cancel", severity = "high" },
]

[[rule]]
name = "angry-streak"
when = 'call.negative_streak >= 3'
once_per_call = false
cooldown_s = 60
actions = [{ type = "alert", message = "Three negative turns in a row" }]

[[rule]]
name = "complaint-follow-up"
on = "call_end"
when = '"complaint" in call.intents'
actions = [{ type = "task", subject = "Satisfaction callback" }]
"#;

    fn facts(intent: &str, streak: u32) -> (Value, Value) {
        (
            json!({"seq": 3, "role": "customer", "intent": intent, "sentiment": "negative", "score": -0.8}),
            json!({"negative_streak": streak, "intents": [intent]}),
        )
    }

    #[test]
    fn fires_with_thresholds_once_per_call_and_cooldowns() {
        let rules = Rules::from_set(RuleSet::parse(FILE).unwrap(), None, &Telemetry::default());
        let vip = json!({"avg_order_value": 800});
        let mut state = CallRuleState::default();
        let (u, c) = facts("cancel_service", 1);
        let on_utterance = |customer: &Value, state: &mut CallRuleState, at_ms| {
            rules.evaluate(
                Trigger::Utterance,
                &Facts {
                    utterance: Some(&u),
                    call: &c,
                    agent: &json!({}),
                    customer,
                },
                state,
                at_ms,
            )
        };
        let fired = on_utterance(&vip, &mut state, 0);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].rule, "churn-risk");
        assert_eq!(fired[0].actions.len(), 3);
        assert!(
            on_utterance(&vip, &mut state, 1000).is_empty(),
            "once per call"
        );
        // Below the threshold: no retention flow for a low-value customer.
        let low = json!({"avg_order_value": 120});
        assert!(on_utterance(&low, &mut CallRuleState::default(), 0).is_empty());
        // No profile at all: the rule does not fire (and is counted as not evaluable).
        let empty = json!({});
        assert!(on_utterance(&empty, &mut CallRuleState::default(), 0).is_empty());
        // Cool-down.
        let (u, c) = facts("complaint", 3);
        let mut s = CallRuleState::default();
        let f = |s: &mut CallRuleState, t| {
            rules
                .evaluate(
                    Trigger::Utterance,
                    &Facts {
                        utterance: Some(&u),
                        call: &c,
                        agent: &empty,
                        customer: &empty,
                    },
                    s,
                    t,
                )
                .len()
        };
        assert_eq!(f(&mut s, 0), 1);
        assert_eq!(f(&mut s, 30_000), 0);
        assert_eq!(f(&mut s, 61_000), 1);
        // Call end.
        let end = rules.evaluate(
            Trigger::CallEnd,
            &Facts {
                utterance: None,
                call: &c,
                agent: &empty,
                customer: &empty,
            },
            &mut s,
            0,
        );
        assert_eq!(end[0].rule, "complaint-follow-up");
    }

    #[test]
    fn load_errors_name_the_rule() {
        let cases = [
            ("[[rule]]\nname = \"bad-syntax\"\nwhen = 'utterance.intent == '\nactions = [{ type = \"tag\", value = \"x\" }]", "bad-syntax"),
            ("[[rule]]\nname = \"typo\"\nwhen = 'utterance.intnet == \"x\"'\nactions = [{ type = \"tag\", value = \"x\" }]", "typo"),
            ("[[rule]]\nname = \"unknown-var\"\nwhen = 'caller.x == 1'\nactions = [{ type = \"tag\", value = \"x\" }]", "unknown-var"),
            ("[[rule]]\nname = \"not-bool\"\nwhen = 'utterance.score'\nactions = [{ type = \"tag\", value = \"x\" }]", "boolean"),
            ("[[rule]]\nname = \"no-actions\"\nwhen = 'true'\nactions = []", "no-actions"),
            ("[[rule]]\nname = \"sev\"\nwhen = 'true'\nactions = [{ type = \"alert\", message = \"m\", severity = \"loud\" }]", "severity"),
            ("[[rule]]\nname = \"kind\"\nwhen = 'true'\nactions = [{ type = \"email\", to = \"x\" }]", "email"),
            ("[[rule]]\nname = \"end\"\non = \"call_end\"\nwhen = 'utterance.intent == \"x\"'\nactions = [{ type = \"tag\", value = \"x\" }]", "end"),
        ];
        for (text, expect) in cases {
            let e = RuleSet::parse(text)
                .err()
                .unwrap_or_else(|| panic!("{expect} should fail"))
                .to_string();
            assert!(e.contains(expect), "{expect}: {e}");
        }
        let dup = format!("{FILE}\n[[rule]]\nname = \"angry-streak\"\nwhen = 'true'\nactions = [{{ type = \"tag\", value = \"x\" }}]");
        assert!(RuleSet::parse(&dup)
            .err()
            .unwrap()
            .to_string()
            .contains("used twice"));
    }

    #[test]
    fn hot_reload_swaps_valid_files_and_keeps_rules_on_a_broken_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, FILE).unwrap();
        let telemetry = Telemetry::default();
        let rules = Rules::load(
            &RulesConfig {
                file: Some(path.clone()),
                reload_interval_ms: 10,
            },
            &telemetry,
        )
        .unwrap();
        assert_eq!(rules.current().len(), 3);
        assert!(
            !rules.reload(false).unwrap(),
            "unchanged file is not reloaded"
        );
        std::fs::write(&path, "[[rule]]\nname = \"only\"\nwhen = 'true'\nactions = [{ type = \"tag\", value = \"x\" }]").unwrap();
        assert!(rules.reload(true).unwrap());
        assert_eq!(rules.current().len(), 1);
        std::fs::write(
            &path,
            "[[rule]]\nname = \"broken\"\nwhen = '((('\nactions = []",
        )
        .unwrap();
        let e = rules.reload(true).unwrap_err();
        assert!(e.to_string().contains("broken"), "{e}");
        assert_eq!(rules.current().len(), 1, "the rules in force stay");
        let text = telemetry.render();
        assert!(
            text.contains("callsense_rules_reload_errors_total 1\n")
                && text.contains("callsense_rules_reloads_total 1\n")
                && text.contains("callsense_rules_loaded 1\n"),
            "{text}"
        );
    }

    const PHRASES: &str = r#"
[[rule]]
name = "recording-disclosure"
actions = [{ type = "alert", message = "No recording disclosure in the first 30 s", severity = "high" }]
[rule.phrase]
require = ["this call may be recorded", "this call is recorded"]
match = "fuzzy"
role = "agent"
to_s = 30

[[rule]]
name = "refund-promise"
actions = [{ type = "alert", message = "Agent promised a refund", severity = "warning" }]
[rule.phrase]
forbid = ['\b(guarantee|promise)\b.*\brefund']
match = "pattern"
role = "agent"

[[rule]]
name = "long-silence"
on = "metrics"
when = 'call.non_talk_ms > 30000 || call.interruptions.agent >= 3 || customer.talk_speed_wpm > 190 || call.sentiment_trend < -2.0'
actions = [{ type = "alert", message = "Check on this call" }]
"#;

    fn turn<'a>(seq: u32, role: &'a str, start_ms: u32, transcript: &'a str) -> PhraseTurn<'a> {
        PhraseTurn {
            seq,
            role,
            start_ms,
            transcript,
        }
    }

    #[test]
    fn required_phrases_fire_once_their_window_closed_unsaid() {
        let rules = Rules::from_set(
            RuleSet::parse(PHRASES).unwrap(),
            None,
            &Telemetry::default(),
        );
        // Said (with Whisper's spelling) by the agent in time: never fires.
        let mut said = CallRuleState::default();
        let t = turn(
            1,
            "agent",
            4000,
            "Hi, this call maybe recorded for quality.",
        );
        assert!(rules.on_phrase_turn(&t, &mut said, 0).is_empty());
        assert!(rules.judge_required(31_000, false, &mut said, 0).is_empty());
        assert!(rules.judge_required(0, true, &mut said, 0).is_empty());
        // Said by the customer, or by the agent too late: fires when the
        // window has settled, once.
        let mut missed = CallRuleState::default();
        for t in [
            turn(1, "customer", 2000, "Is this call recorded?"),
            turn(2, "agent", 31_000, "This call is recorded."),
        ] {
            assert!(rules.on_phrase_turn(&t, &mut missed, 0).is_empty());
        }
        assert!(
            rules
                .judge_required(29_000, false, &mut missed, 0)
                .is_empty(),
            "speech before 30 s may still be at Whisper"
        );
        let fired = rules.judge_required(30_000, false, &mut missed, 0);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].rule, "recording-disclosure");
        assert_eq!(
            fired[0].evidence,
            "\"this call may be recorded\" not said by the agent by 0:30"
        );
        assert!(rules.judge_required(0, true, &mut missed, 0).is_empty());
    }

    #[test]
    fn forbidden_phrases_fire_with_what_was_said() {
        let rules = Rules::from_set(
            RuleSet::parse(PHRASES).unwrap(),
            None,
            &Telemetry::default(),
        );
        let mut s = CallRuleState::default();
        let cust = turn(3, "customer", 60_000, "You promised me a refund!");
        assert!(
            rules.on_phrase_turn(&cust, &mut s, 0).is_empty(),
            "agent only"
        );
        let agent = turn(
            4,
            "agent",
            65_000,
            "I guarantee you'll get your refund by Friday.",
        );
        let fired = rules.on_phrase_turn(&agent, &mut s, 0);
        assert_eq!(fired.len(), 1);
        assert_eq!(
            fired[0].evidence,
            "agent said \"guarantee you'll get your refund\" at 1:05 (turn 4)"
        );
        assert!(
            rules.on_phrase_turn(&agent, &mut s, 1).is_empty(),
            "once per call"
        );
    }

    #[test]
    fn rules_naming_tenants_watch_only_those_tenants_calls() {
        let rules = Rules::from_set(
            RuleSet::parse(
                r#"
[[rule]]
name = "acme-only"
tenants = ["acme"]
when = "true"
actions = [{ type = "alert", message = "a" }]
[[rule]]
name = "everyone"
when = "true"
actions = [{ type = "alert", message = "e" }]
[[rule]]
name = "acme-phrase"
tenants = ["acme"]
actions = [{ type = "alert", message = "p" }]
[rule.phrase]
forbid = ["guaranteed"]
"#,
            )
            .unwrap(),
            None,
            &Telemetry::default(),
        );
        let fired = |tenant: &str| {
            let empty = json!({});
            let facts = Facts {
                utterance: Some(&empty),
                call: &empty,
                agent: &empty,
                customer: &empty,
            };
            let mut state = CallRuleState::for_tenant(tenant);
            let mut names: Vec<String> = rules
                .evaluate(Trigger::Utterance, &facts, &mut state, 0)
                .into_iter()
                .map(|f| f.rule)
                .collect();
            let turn = PhraseTurn {
                seq: 1,
                role: "agent",
                start_ms: 0,
                transcript: "it is guaranteed",
            };
            names.extend(
                rules
                    .on_phrase_turn(&turn, &mut state, 0)
                    .into_iter()
                    .map(|f| f.rule),
            );
            names
        };
        assert_eq!(fired("acme"), ["acme-only", "everyone", "acme-phrase"]);
        assert_eq!(fired("globex"), ["everyone"]);
    }

    #[test]
    fn metrics_rules_read_live_measures_of_call_agent_and_customer() {
        let rules = Rules::from_set(
            RuleSet::parse(PHRASES).unwrap(),
            None,
            &Telemetry::default(),
        );
        let check = |m: &crate::proto::CallMetrics| {
            let f = crate::analytics::facts(m);
            let mut call = json!({"utterances": 3});
            if let Value::Object(c) = &mut call {
                c.extend(f.call);
            }
            let mut customer = json!({"tier": "gold"});
            if let Value::Object(c) = &mut customer {
                c.extend(f.customer);
            }
            rules
                .evaluate(
                    Trigger::Metrics,
                    &Facts {
                        utterance: None,
                        call: &call,
                        agent: &Value::Object(f.agent),
                        customer: &customer,
                    },
                    &mut CallRuleState::default(),
                    0,
                )
                .len()
        };
        let calm = crate::proto::CallMetrics {
            non_talk_ms: 12_000,
            ..Default::default()
        };
        assert_eq!(check(&calm), 0);
        let silent = crate::proto::CallMetrics {
            non_talk_ms: 31_000,
            ..Default::default()
        };
        assert_eq!(check(&silent), 1);
        let fast = crate::proto::CallMetrics {
            roles: vec![crate::proto::RoleMetrics {
                role: crate::proto::SpeakerRole::Customer as i32,
                talk_speed_wpm: 200.0,
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(check(&fast), 1);
        let sour = crate::proto::CallMetrics {
            sentiment_trend: -2.5,
            ..Default::default()
        };
        assert_eq!(check(&sour), 1);
    }

    #[test]
    fn phrase_rule_errors_name_the_rule() {
        let act = "actions = [{ type = \"tag\", value = \"x\" }]";
        let cases = [
            (format!("[[rule]]\nname = \"both\"\nwhen = 'true'\n{act}\n[rule.phrase]\nforbid = [\"x\"]"), "not both"),
            (format!("[[rule]]\nname = \"neither\"\n{act}\n[rule.phrase]\nmatch = \"exact\""), "either `require` or `forbid`"),
            (format!("[[rule]]\nname = \"regex\"\n{act}\n[rule.phrase]\nforbid = [\"(\"]\nmatch = \"pattern\""), "does not compile"),
            (format!("[[rule]]\nname = \"window\"\n{act}\n[rule.phrase]\nrequire = [\"x\"]\nfrom_s = 30\nto_s = 10"), "to_s"),
            (format!("[[rule]]\nname = \"on\"\non = \"call_end\"\n{act}\n[rule.phrase]\nrequire = [\"x\"]"), "leave out `on`"),
            (format!("[[rule]]\nname = \"empty\"\n{act}"), "is required"),
            (format!("[[rule]]\nname = \"measure-typo\"\non = \"metrics\"\nwhen = 'call.non_talk > 1'\n{act}"), "measure-typo"),
            (format!("[[rule]]\nname = \"agent-typo\"\non = \"metrics\"\nwhen = 'agent.wpm > 1'\n{act}"), "agent-typo"),
        ];
        for (text, expect) in cases {
            let e = RuleSet::parse(&text)
                .err()
                .unwrap_or_else(|| panic!("{expect} should fail"))
                .to_string();
            assert!(e.contains(expect), "{expect}: {e}");
        }
    }
}
