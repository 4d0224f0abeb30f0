//! Salesforce: one module for what the CRM sink and the customer-context
//! lookup share.
//!
//! Owns: the `[salesforce]` connection settings ([`SalesforceConfig`], used
//! by `[[connect.sinks]]` and `[connect.context.salesforce]`) and the OAuth
//! client-credentials session with authenticated requests ([`auth`]). The
//! upsert sink is `connect::sinks::salesforce`; the lookup is
//! `connect::customer`.

pub mod auth;

use serde::Deserialize;

use crate::secret::Secret;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesforceConfig {
    /// OAuth token host, e.g. `https://login.salesforce.com` or your My Domain.
    pub login_url: String,
    /// REST API version, e.g. `v61.0`.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Connected app consumer key (client credentials flow).
    pub client_id: Secret,
    /// Connected app consumer secret.
    pub client_secret: Secret,
}

fn default_api_version() -> String {
    "v61.0".into()
}

impl SalesforceConfig {
    /// Checks the API version's form and the login URL.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if !self.api_version.starts_with('v') || self.api_version[1..].parse::<f32>().is_err() {
            return Err(format!(
                "api_version {:?} must look like v61.0",
                self.api_version
            ));
        }
        crate::config::check_http_url(&self.login_url)
            .map_err(|e| format!("login_url must be an http(s) URL: {e}"))
    }
}
