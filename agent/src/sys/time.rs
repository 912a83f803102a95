//! Waiting, and the ideas every waiting part shares: a [`Deadline`], a
//! [`Stop`] signal that wakes sleepers, [`Backoff`] with jitter, the one
//! random source ([`random_u64`], [`Rng`]), and [`Transition`], which says
//! a failure once when it starts and once when it ends.
//!
//! Invariants: a time left is never a zero [`Duration`] (zero means "no
//! timeout" to the socket options, the opposite of what a passed deadline
//! means); nothing here sleeps past a [`Stop`]; random numbers that must not
//! be guessed (a DNS ID, an NTP nonce) come from the kernel, the others
//! (jitter, chrony's sequence numbers) from an [`Rng`] seeded by it.

use std::io;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The shortest time left worth waiting for; below it a deadline has
/// passed.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// A point in time by which something must be done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// `timeout` from now.
    pub fn after(timeout: Duration) -> Deadline {
        Deadline(Instant::now() + timeout)
    }

    pub fn at(instant: Instant) -> Deadline {
        Deadline(instant)
    }

    pub fn instant(self) -> Instant {
        self.0
    }

    /// Time left, at least a millisecond; None once passed.
    pub fn left(self) -> Option<Duration> {
        let d = self.0.saturating_duration_since(Instant::now());
        (d >= MIN_WAIT).then_some(d)
    }

    /// [`Deadline::left`] as an I/O result: a passed deadline is `TimedOut`.
    pub fn left_io(self) -> io::Result<Duration> {
        self.left().ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
    }

    /// The next wait of a step that has its own `timeout`: that, or less
    /// if the deadline is nearer.
    pub fn left_within(self, timeout: Duration) -> io::Result<Duration> {
        Ok(self.left_io()?.min(timeout))
    }

    pub fn passed(self) -> bool {
        self.left().is_none()
    }
}

/// A stop signal shared between a service and its threads. `stop` wakes
/// every [`Stop::sleep`] at once; `wake` wakes them without stopping (new
/// work arrived). Clones share the signal.
#[derive(Clone, Default)]
pub struct Stop(Arc<(Mutex<State>, Condvar)>);

#[derive(Default)]
struct State {
    stopped: bool,
    /// Counts [`Stop::wake`] calls, so a sleeper sees one that came while
    /// it was asleep.
    wakes: u64,
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    pub fn stop(&self) {
        self.0 .0.lock().unwrap_or_else(PoisonError::into_inner).stopped = true;
        self.0 .1.notify_all();
    }

    pub fn is_stopped(&self) -> bool {
        self.0 .0.lock().unwrap_or_else(PoisonError::into_inner).stopped
    }

    /// Wakes the sleepers early, without stopping them.
    pub fn wake(&self) {
        self.0 .0.lock().unwrap_or_else(PoisonError::into_inner).wakes += 1;
        self.0 .1.notify_all();
    }

    /// Sleeps for `d`, or until stopped or woken; true when stopped.
    pub fn sleep(&self, d: Duration) -> bool {
        let guard = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
        let woken = guard.wakes;
        let (guard, _) = self
            .0
             .1
            .wait_timeout_while(guard, d, |s| !s.stopped && s.wakes == woken)
            .unwrap_or_else(PoisonError::into_inner);
        guard.stopped
    }

    /// Sleeps for `d`, or until stopped (a wake does not end it); true
    /// when stopped.
    pub fn sleep_through(&self, d: Duration) -> bool {
        let guard = self.0 .0.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self.0 .1.wait_timeout_while(guard, d, |s| !s.stopped).unwrap_or_else(PoisonError::into_inner);
        guard.stopped
    }

    /// Sleeps until `t`, or until stopped or woken; true when stopped.
    pub fn sleep_until(&self, t: Instant) -> bool {
        self.sleep(t.saturating_duration_since(Instant::now()))
    }
}

/// Exponential backoff with jitter: each wait is the current step scaled
/// by a random factor in [0.5, 1), and each failure doubles the step up to
/// `max`, so many boxes that lost the same receiver do not come back in
/// step.
#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    step: Duration,
    rng: Rng,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff { min, max: max.max(min), step: min, rng: Rng::new() }
    }

    /// The wait before the next attempt after a failure.
    pub fn after_failure(&mut self) -> Duration {
        let f = 0.5 + self.rng.unit() / 2.0;
        let wait = self.step.mul_f64(f);
        self.step = (self.step * 2).min(self.max);
        wait
    }

    /// After a success: the next failure waits the least again.
    pub fn reset(&mut self) {
        self.step = self.min;
    }

    /// Whether a failure has been backed off since the last reset.
    pub fn is_backing_off(&self) -> bool {
        self.step > self.min
    }

    pub fn max(&self) -> Duration {
        self.max
    }
}

/// 64 random bits from the kernel (getrandom(2)): for what an off-path
/// forger must not guess, a DNS ID or an NTP nonce (RFC 5452 §9.2).
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most b.len() bytes into b.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != 8 {
        // No getrandom (Linux < 3.17): mix the clock and the stack address.
        let t = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        return (t as u64) ^ ((&b as *const _ as u64).rotate_left(32)) ^ 0x9E37_79B9_7F4A_7C15;
    }
    u64::from_ne_bytes(b)
}

/// A fast generator (xorshift64) for spread, not secrecy: jitter,
/// sequence numbers that tell requests apart. Seeded by [`random_u64`].
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Default for Rng {
    fn default() -> Self {
        Rng::new()
    }
}

impl Rng {
    pub fn new() -> Rng {
        Rng(random_u64() | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Whether something is failing, so a log says it once when the failure
/// starts and once when it ends, never at every attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transition {
    failing: bool,
}

/// What [`Transition::update`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Started,
    Ended,
}

impl Transition {
    /// Records this attempt; `Some` when it changed the state.
    pub fn update(&mut self, failing: bool) -> Option<Change> {
        let change = match (self.failing, failing) {
            (false, true) => Some(Change::Started),
            (true, false) => Some(Change::Ended),
            _ => None,
        };
        self.failing = failing;
        change
    }

    pub fn is_failing(&self) -> bool {
        self.failing
    }
}

/// Milliseconds since the epoch by the wall clock (0 before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_has_no_time_left_never_zero() {
        let d = Deadline::after(Duration::ZERO);
        assert_eq!(d.left(), None);
        assert_eq!(d.left_io().unwrap_err().kind(), io::ErrorKind::TimedOut);
        let d = Deadline::after(Duration::from_secs(60));
        assert!(d.left().unwrap() > Duration::from_secs(59));
        assert_eq!(d.left_within(Duration::from_secs(1)).unwrap(), Duration::from_secs(1));
    }

    #[test]
    fn stop_wakes_a_sleeper_at_once() {
        let stop = Stop::new();
        let s = stop.clone();
        let t = std::thread::spawn(move || s.sleep(Duration::from_secs(600)));
        stop.stop();
        assert!(t.join().unwrap());
        assert!(stop.sleep(Duration::from_secs(600)), "stays stopped");
    }

    #[test]
    fn wake_ends_a_sleep_without_stopping() {
        let stop = Stop::new();
        let s = stop.clone();
        let t = std::thread::spawn(move || s.sleep(Duration::from_secs(600)));
        // Until the sleeper is in, a wake is not seen; keep waking.
        while !t.is_finished() {
            stop.wake();
            std::thread::yield_now();
        }
        assert!(!t.join().unwrap());
        assert!(!stop.is_stopped());
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(4));
        assert!(!b.is_backing_off());
        let waits: Vec<Duration> = (0..5).map(|_| b.after_failure()).collect();
        for (w, step) in waits.iter().zip([1, 2, 4, 4, 4]) {
            let step = Duration::from_secs(step);
            assert!(*w >= step / 2 && *w < step, "{w:?} for a step of {step:?}");
        }
        assert!(b.is_backing_off());
        b.reset();
        assert!(b.after_failure() < Duration::from_secs(1));
    }

    #[test]
    fn transitions_are_said_once() {
        let mut t = Transition::default();
        assert_eq!(t.update(false), None);
        assert_eq!(t.update(true), Some(Change::Started));
        assert_eq!(t.update(true), None);
        assert_eq!(t.update(false), Some(Change::Ended));
        assert_eq!(t.update(false), None);
    }

    #[test]
    fn rng_spreads() {
        let mut r = Rng::new();
        let a: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] != w[1]));
        assert!((0..1000).map(|_| r.unit()).all(|u| (0.0..1.0).contains(&u)));
    }
}
