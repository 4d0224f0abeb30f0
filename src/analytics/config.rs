//! `[analytics]`: how the live conversation measures are computed and how
//! often they go out.

use serde::Deserialize;

/// `[analytics]` in the engine config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyticsConfig {
    /// A `CallMetrics` message goes out on the call's stream after each
    /// final result, and at most this often (wall clock) in between while
    /// the measures change (a silence grows, a turn is being spoken). 0: only
    /// with finals. Rules with `on = "metrics"` are evaluated at the same
    /// moments.
    pub interval_ms: u64,
    /// A silence on every channel at least this long is a hold-like stretch.
    pub hold_min_ms: u32,
    /// Two channels speaking at once for less than this is not overtalk,
    /// and a turn that overlaps the other side's by less is no interruption.
    pub min_overtalk_ms: u32,
    /// A speaker's first this-much speech (back-channels left out) is its
    /// baseline for talk speed and loudness changes.
    pub baseline_ms: u32,
    /// …and its latest this-much speech after the baseline is compared with it.
    pub recent_ms: u32,
    /// How far one full-sentence turn moves the smoothed sentiment trend
    /// towards its own score (0 < α ≤ 1); a fragment moves it by α × its
    /// weight, a back-channel not at all.
    pub trend_alpha: f32,
    /// The trend is "improving" or "declining" when it moved at least this
    /// much (on the −5…+5 scale) over the channel's last three scored turns.
    pub direction_threshold: f32,
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        Self {
            interval_ms: 5000,
            hold_min_ms: 10_000,
            min_overtalk_ms: 300,
            baseline_ms: 15_000,
            recent_ms: 15_000,
            trend_alpha: 0.4,
            direction_threshold: 0.75,
        }
    }
}

impl AnalyticsConfig {
    /// Checks this section's ranges.
    ///
    /// # Errors
    /// A message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.interval_ms != 0 && !(250..=600_000).contains(&self.interval_ms) {
            return Err("analytics.interval_ms must be 0 or in [250, 600000]".into());
        }
        if !(1000..=3_600_000).contains(&self.hold_min_ms) {
            return Err("analytics.hold_min_ms must be in [1000, 3600000]".into());
        }
        if self.min_overtalk_ms > 5000 {
            return Err("analytics.min_overtalk_ms must be at most 5000".into());
        }
        for (key, v) in [
            ("baseline_ms", self.baseline_ms),
            ("recent_ms", self.recent_ms),
        ] {
            if !(3000..=600_000).contains(&v) {
                return Err(format!("analytics.{key} must be in [3000, 600000]"));
            }
        }
        if !(self.trend_alpha > 0.0 && self.trend_alpha <= 1.0) {
            return Err("analytics.trend_alpha must be in (0, 1]".into());
        }
        if !(self.direction_threshold > 0.0 && self.direction_threshold <= 10.0) {
            return Err("analytics.direction_threshold must be in (0, 10]".into());
        }
        Ok(())
    }
}
