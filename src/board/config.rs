//! `[ui]`: the supervisor board's listener, its supervisors and its limits.

use serde::Deserialize;

/// `[ui]` in the engine config. Off until `listen` is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Address of the board. Unset: no board.
    pub listen: Option<String>,
    /// PEM certificate chain; with `tls_key`, the board speaks HTTPS only.
    /// Without them it is plain HTTP: keep it on a private network or
    /// behind your TLS proxy (supervisors' passwords and transcripts cross it).
    pub tls_cert: Option<std::path::PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// Who may look, and at which tenant's calls.
    pub supervisors: Vec<SupervisorConfig>,
    /// How long a finished call stays on the board, in seconds.
    pub ended_retention_s: u64,
    /// Most finished calls kept (the oldest go first).
    pub max_ended_calls: usize,
    /// Most calls tracked at once (active and finished); a call beyond it
    /// is not shown (and counted in the log), the call itself goes on.
    pub max_calls: usize,
    /// Transcript turns kept per call.
    pub max_turns_per_call: usize,
    /// Alerts kept per call.
    pub max_alerts_per_call: usize,
    /// Events buffered per viewer: a browser further behind than this gets
    /// a fresh snapshot instead (it never slows a call).
    pub viewer_buffer: usize,
    /// Live viewers at once; more get HTTP 503.
    pub max_viewers: usize,
}

/// One supervisor's credentials (HTTP Basic).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisorConfig {
    /// The user name.
    pub name: String,
    /// The tenant whose calls this supervisor sees; "*" for every tenant
    /// (operators).
    pub tenant: String,
    /// Hex SHA-256 of the password (`printf %s 'secret' | sha256sum`), so
    /// the config file holds no password.
    pub password_sha256: String,
}

impl std::fmt::Debug for SupervisorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupervisorConfig")
            .field("name", &self.name)
            .field("tenant", &self.tenant)
            .field("password_sha256", &"<redacted>")
            .finish()
    }
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            listen: None,
            tls_cert: None,
            tls_key: None,
            supervisors: Vec::new(),
            ended_retention_s: 300,
            max_ended_calls: 200,
            max_calls: 2000,
            max_turns_per_call: 200,
            max_alerts_per_call: 50,
            viewer_buffer: 1024,
            max_viewers: 64,
        }
    }
}

impl UiConfig {
    /// Checks this section.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.listen.is_some() && self.supervisors.is_empty() {
            return Err(
                "ui.listen is set but no [[ui.supervisors]] can log in: add one (name, tenant, password_sha256)".into(),
            );
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(
                "ui.tls_cert and ui.tls_key go together: set both for HTTPS, or neither".into(),
            );
        }
        let mut names = std::collections::HashSet::new();
        for s in &self.supervisors {
            if s.name.is_empty() || s.name.contains(':') || s.name.len() > 128 {
                return Err(format!(
                    "ui.supervisors: name {:?} must be 1–128 characters without ':'",
                    s.name
                ));
            }
            if !names.insert(&s.name) {
                return Err(format!("ui.supervisors: {:?} is listed twice", s.name));
            }
            if s.tenant.is_empty() {
                return Err(format!("ui.supervisors {:?}: tenant is empty", s.name));
            }
            let h = &s.password_sha256;
            if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "ui.supervisors {:?}: password_sha256 must be 64 hex digits",
                    s.name
                ));
            }
        }
        for (key, v, max) in [
            ("max_ended_calls", self.max_ended_calls, 100_000),
            ("max_calls", self.max_calls, 1_000_000),
            ("max_turns_per_call", self.max_turns_per_call, 10_000),
            ("max_alerts_per_call", self.max_alerts_per_call, 10_000),
            ("viewer_buffer", self.viewer_buffer, 1_000_000),
            ("max_viewers", self.max_viewers, 10_000),
        ] {
            if v == 0 || v > max {
                return Err(format!("ui.{key} must be in [1, {max}]"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(listen: bool, supervisors: &str) -> Result<(), String> {
        let text = format!(
            "{}{supervisors}",
            if listen {
                "listen = \"127.0.0.1:0\"\n"
            } else {
                ""
            }
        );
        let cfg: UiConfig = toml::from_str(&text).map_err(|e| e.to_string())?;
        cfg.validate()
    }

    #[test]
    fn a_board_needs_supervisors_with_hashed_passwords() {
        let hash = "a".repeat(64);
        let ok = format!(
            "[[supervisors]]\nname = \"ana\"\ntenant = \"acme\"\npassword_sha256 = \"{hash}\"\n"
        );
        assert!(with(true, &ok).is_ok());
        assert!(with(false, "").is_ok(), "off needs nobody");
        assert!(with(true, "")
            .unwrap_err()
            .contains("no [[ui.supervisors]]"));
        let plain = ok.replace(&hash, "secret");
        assert!(with(true, &plain).unwrap_err().contains("64 hex digits"));
        let twice = format!("{ok}{ok}");
        assert!(with(true, &twice).unwrap_err().contains("listed twice"));
        let colon = ok.replace("\"ana\"", "\"a:b\"");
        assert!(with(true, &colon).unwrap_err().contains("without ':'"));
        let typo = ok.replace("tenant", "tennant");
        assert!(with(true, &typo).is_err(), "unknown keys are errors");
        let cfg: UiConfig = toml::from_str(&format!("listen = \"x\"\n{ok}")).unwrap();
        assert!(
            !format!("{cfg:?}").contains(&hash),
            "the hash stays out of logs"
        );
    }
}
