//! The outbox's clock: wall-clock milliseconds that survive clock steps.
//!
//! Owns: the time everything the outbox schedules is measured in (due
//! times, leases, a delivery's age). It is the wall clock read at start and
//! advanced by the monotonic clock, so between two checks a step of the
//! system clock (an NTP correction, a VM resumed from suspend, an
//! operator's `date -s`) changes nothing. [`Clock::check`] notices a step
//! by comparing the two clocks; the outbox then moves its stored schedule
//! by the same amount and the clock follows the wall clock again, so the
//! database stays in wall-clock time (operators, restarts) while every
//! pending retry keeps the delay it had: a backward jump of an hour does
//! not hold retries back an hour, and a forward one neither makes leased
//! rows due again (a second delivery while the first is in flight) nor
//! makes them old (dead-lettered for age).
//!
//! Must not: stamp anything that leaves the engine (event times, webhook
//! signatures, CRM timestamps): those are the wall clock's own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A step between the wall and the monotonic clock at least this large is
/// a jump; smaller differences are scheduling noise.
pub const JUMP_MS: i64 = 1_000;

/// Where the clock reads time from: the system, or a test's hand.
pub trait TimeSource: Send + Sync + 'static {
    /// Unix time, ms (may jump).
    fn wall_ms(&self) -> u64;
    /// A monotonic count of ms (never jumps, never goes back).
    fn mono_ms(&self) -> u64;
}

/// The system's clocks: `SystemTime` and `Instant`.
pub struct SystemClocks;

impl TimeSource for SystemClocks {
    fn wall_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }
    fn mono_ms(&self) -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_millis() as u64
    }
}

/// Clocks moved by hand, for tests and simulations: [`ManualClocks::advance`]
/// lets time pass, [`ManualClocks::step`] moves only the wall clock.
pub struct ManualClocks {
    wall: AtomicU64,
    mono: AtomicU64,
}

impl ManualClocks {
    pub fn new(wall_ms: u64) -> Arc<Self> {
        Arc::new(Self {
            wall: AtomicU64::new(wall_ms),
            mono: AtomicU64::new(1_000_000),
        })
    }
    /// `ms` pass on both clocks.
    pub fn advance(&self, ms: u64) {
        self.wall.fetch_add(ms, Ordering::SeqCst);
        self.mono.fetch_add(ms, Ordering::SeqCst);
    }
    /// The wall clock is set `ms` forward (or back, when negative).
    pub fn step(&self, ms: i64) {
        let w = self.wall.load(Ordering::SeqCst) as i64;
        self.wall.store((w + ms).max(0) as u64, Ordering::SeqCst);
    }
}

impl TimeSource for ManualClocks {
    fn wall_ms(&self) -> u64 {
        self.wall.load(Ordering::SeqCst)
    }
    fn mono_ms(&self) -> u64 {
        self.mono.load(Ordering::SeqCst)
    }
}

/// Wall-clock ms advanced by the monotonic clock between checks.
pub struct Clock {
    source: Arc<dyn TimeSource>,
    /// (wall, mono) at the last anchoring.
    anchor: parking_lot::Mutex<(u64, u64)>,
    jumps: AtomicU64,
}

impl Clock {
    /// A clock on `source`, anchored now.
    pub fn new(source: Arc<dyn TimeSource>) -> Arc<Self> {
        let anchor = (source.wall_ms(), source.mono_ms());
        Arc::new(Self {
            source,
            anchor: parking_lot::Mutex::new(anchor),
            jumps: AtomicU64::new(0),
        })
    }

    /// A clock on the system's clocks.
    pub fn system() -> Arc<Self> {
        Self::new(Arc::new(SystemClocks))
    }

    /// The outbox's time, Unix ms.
    pub fn now_ms(&self) -> u64 {
        let (wall, mono) = *self.anchor.lock();
        wall + self.source.mono_ms().saturating_sub(mono)
    }

    /// Compares the wall clock with this clock. A difference of at least
    /// [`JUMP_MS`] is a jump: the clock re-anchors on the wall clock,
    /// counts it and returns its size (positive: the wall clock went
    /// forward), which the caller must add to every stored schedule.
    pub fn check(&self) -> Option<i64> {
        let mut anchor = self.anchor.lock();
        let (wall, mono) = (self.source.wall_ms(), self.source.mono_ms());
        let expected = anchor.0 + mono.saturating_sub(anchor.1);
        let jump = wall as i64 - expected as i64;
        if jump.abs() < JUMP_MS {
            return None;
        }
        *anchor = (wall, mono);
        self.jumps.fetch_add(1, Ordering::Relaxed);
        Some(jump)
    }

    /// Jumps seen since start.
    pub fn jumps(&self) -> u64 {
        self.jumps.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_of_the_wall_clock_do_not_move_it_until_checked() {
        let t = ManualClocks::new(1_000_000_000);
        let c = Clock::new(t.clone());
        t.advance(250);
        assert_eq!(c.now_ms(), 1_000_000_250);
        assert_eq!(c.check(), None);
        t.step(-3_600_000);
        t.advance(100);
        assert_eq!(
            c.now_ms(),
            1_000_000_350,
            "a step is not seen before a check"
        );
        assert_eq!(c.check(), Some(-3_600_000));
        assert_eq!(
            c.now_ms(),
            1_000_000_350 - 3_600_000,
            "then it follows the wall clock"
        );
        assert_eq!(c.check(), None, "a jump is counted once");
        t.step(JUMP_MS - 1);
        assert_eq!(c.check(), None, "noise below the threshold");
        t.step(1);
        assert_eq!(c.check(), Some(JUMP_MS));
        assert_eq!(c.jumps(), 2);
    }

    #[test]
    fn the_system_clock_reads_the_wall_clock() {
        let c = Clock::system();
        let wall = SystemClocks.wall_ms();
        assert!(c.now_ms().abs_diff(wall) < 1_000);
        assert_eq!(c.check(), None);
    }
}
