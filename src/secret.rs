//! Secrets in configuration: a value written in the file, or `env:NAME` to
//! read it from the environment when it is used. `Debug` never shows a value
//! (only the variable's name), so configs can be logged.
//!
//! Owns: nothing but the type; sinks, the CRM context lookup and the broker
//! keep their secrets in it.

use serde::Deserialize;

/// A secret from config or, when it starts with `env:`, from that variable.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The value, reading `env:NAME` from the environment.
    ///
    /// # Errors
    /// The variable named is not set.
    pub fn resolve(&self) -> Result<String, String> {
        match self.0.strip_prefix("env:") {
            Some(var) => {
                std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))
            }
            None => Ok(self.0.clone()),
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.strip_prefix("env:") {
            Some(var) => write!(f, "env:{var}"),
            None => f.write_str("<redacted>"),
        }
    }
}

/// Equal bytes, compared in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_env_references_resolve_and_never_print() {
        let plain = Secret::new("s3cr3t");
        assert_eq!(plain.resolve().unwrap(), "s3cr3t");
        assert_eq!(format!("{plain:?}"), "<redacted>");
        std::env::set_var("CALLSENSE_TEST_SECRET_RESOLVE", "from-env");
        let from_env = Secret::new("env:CALLSENSE_TEST_SECRET_RESOLVE");
        assert_eq!(from_env.resolve().unwrap(), "from-env");
        assert_eq!(format!("{from_env:?}"), "env:CALLSENSE_TEST_SECRET_RESOLVE");
        let missing = Secret::new("env:CALLSENSE_TEST_SECRET_NOT_SET");
        assert_eq!(
            missing.resolve().unwrap_err(),
            "environment variable CALLSENSE_TEST_SECRET_NOT_SET is not set"
        );
        let parsed: Vec<Secret> = serde_json::from_str(r#"["a", "env:B"]"#).unwrap();
        assert_eq!(format!("{parsed:?}"), "[<redacted>, env:B]");
    }
}
