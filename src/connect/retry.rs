//! What to do after a delivery attempt, and how long to wait.
//!
//! Owns: the [`Outcome`] of an attempt, the HTTP status → outcome decision
//! shared by the HTTP sinks ([`classify_http`]), `Retry-After` parsing, and
//! the capped exponential backoff with full jitter. The decision and the
//! backoff are separate so every sink retries the same way.

use std::time::Duration;

use rand::Rng;

use super::config::RetryConfig;

/// The result of delivering one event to one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The sink has it (created, updated, or already had it).
    Delivered,
    /// A transient failure; try again after the backoff or `after`.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// The sink refused this event for good: dead-letter it with the reason.
    Reject { reason: String },
    /// The endpoint is gone (webhook 410): stop delivering to the sink; the
    /// event stays pending.
    Disable { reason: String },
}

impl Outcome {
    pub fn retry(reason: impl Into<String>) -> Self {
        Self::Retry {
            after: None,
            reason: reason.into(),
        }
    }
}

/// The outcome an HTTP status means (2xx delivered; 408, 425, 429 and 5xx
/// retried; 410 disables the endpoint; other 4xx rejected).
pub fn classify_http(status: u16, retry_after: Option<Duration>, body: &str) -> Outcome {
    let reason = || format!("HTTP {status}: {}", truncate(body, 300));
    match status {
        200..=299 => Outcome::Delivered,
        408 | 425 | 429 | 500..=599 => Outcome::Retry {
            after: retry_after,
            reason: reason(),
        },
        410 => Outcome::Disable { reason: reason() },
        _ => Outcome::Reject { reason: reason() },
    }
}

/// `Retry-After` as seconds (the HTTP-date form is read as "no hint").
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Capped exponential backoff with full jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    max_retry_after: Duration,
}

impl Backoff {
    pub fn new(c: &RetryConfig) -> Self {
        Self {
            initial: Duration::from_millis(c.initial_backoff_ms),
            max: Duration::from_millis(c.max_backoff_ms),
            max_retry_after: Duration::from_secs(c.max_retry_after_s),
        }
    }

    /// The wait before attempt `attempts + 1`: uniform in
    /// `[0, min(max, initial·2^(attempts−1))]`, but never less than the
    /// server's `Retry-After` (itself capped at `max_retry_after_s`).
    pub fn delay(&self, attempts: u32, retry_after: Option<Duration>) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let ceiling = self.initial.saturating_mul(1u32 << exp).min(self.max);
        let jittered = Duration::from_micros(
            rand::rng().random_range(0..=ceiling.as_micros().min(u128::from(u64::MAX)) as u64),
        );
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(classify_http(201, None, ""), Outcome::Delivered);
        assert_eq!(classify_http(204, None, ""), Outcome::Delivered);
        for s in [408, 429, 500, 502, 503] {
            assert!(
                matches!(classify_http(s, None, ""), Outcome::Retry { .. }),
                "{s}"
            );
        }
        assert!(matches!(
            classify_http(410, None, ""),
            Outcome::Disable { .. }
        ));
        for s in [400, 401, 403, 404, 413, 422] {
            assert!(
                matches!(classify_http(s, None, "bad"), Outcome::Reject { .. }),
                "{s}"
            );
        }
        let Outcome::Retry { after, .. } = classify_http(429, Some(Duration::from_secs(7)), "")
        else {
            panic!("429 retries")
        };
        assert_eq!(after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_seconds_only() {
        assert_eq!(
            parse_retry_after(Some(" 12 ")),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn backoff_is_capped_jittered_and_honours_retry_after() {
        let b = Backoff::new(&RetryConfig {
            initial_backoff_ms: 100,
            max_backoff_ms: 1000,
            max_age_s: 0,
            max_retry_after_s: 5,
        });
        for attempts in 0..40 {
            let d = b.delay(attempts, None);
            let cap =
                Duration::from_millis((100u64 << attempts.saturating_sub(1).min(30)).min(1000));
            assert!(d <= cap, "attempt {attempts}: {d:?} > {cap:?}");
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| b.delay(5, None)).collect();
        assert!(spread.len() > 10, "full jitter spreads retries");
        assert!(b.delay(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        assert_eq!(
            b.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(5),
            "Retry-After capped"
        );
        assert_eq!(truncate("héllo", 2), "h");
    }
}
