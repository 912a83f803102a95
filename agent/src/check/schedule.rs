//! The configured checks, each run on its own interval: the agent's
//! checks service.
//!
//! A dispatcher thread hands each check to a fixed pool of workers (at
//! most [`MAX_CHECK_WORKERS`], never more than there are checks) when it
//! falls due; a worker runs it and puts its outcomes where a scrape
//! renders them. Threads wake only for work: the dispatcher when a check
//! falls due or is rescheduled, one worker per check handed out. A
//! check blocked on a blackholed target holds one worker until its timeout
//! and no other check, so ten dead neighbours at a 5 s timeout no longer
//! hold every other check back 50 s; only when every worker is busy does a
//! due check wait, and how late checks start is reported
//! (`sonde_check_lag_*`). A check that fell a whole interval behind
//! skips the missed runs rather than running back to back.
//!
//! Every check runs once as soon as a worker is free after the start;
//! from then on its runs keep a phase of their own within the interval,
//! from a hash of its name, as Prometheus spreads its targets, so 500
//! checks on one interval do not all fall due at the same instant, nor
//! the blackholed ones a config lists together. The lag counts those
//! scheduled runs, not the first.
//!
//! `--once` runs every check once, now, as many at once as the pool would
//! ([`run_all`]), and says each failure on stderr ([`report_failures`]).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{render, run, Check, CheckResult, Family};
use crate::expo::{Exposition, MetricType};
use crate::limits::{CHECKS_STACK, MAX_CHECK_WORKERS};
use crate::service::Service;
use crate::sys::log;
use crate::sys::time::Deadline;

/// Told of each run of a configured check, after its outcomes are in
/// (the notifications' entry point); called on the worker's thread.
pub type Observer = Arc<dyn Fn(&Check, &[super::Outcome]) + Send + Sync>;

/// The running checks service.
pub struct Scheduler {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

struct Shared {
    checks: Vec<Check>,
    observer: Option<Observer>,
    state: Mutex<State>,
    /// Wakes a worker: a check is ready, or the service stops.
    work: Condvar,
    /// Wakes the dispatcher: a check was rescheduled, or the service stops.
    dispatch: Condvar,
}

struct State {
    latest: Vec<CheckResult>,
    due: Vec<Instant>,
    /// Handed to the workers (ready or running), so not due again yet.
    busy: Vec<bool>,
    /// Due checks waiting for a worker, oldest first.
    ready: VecDeque<usize>,
    /// Whether the check has run since the start (its first run has no
    /// schedule to be late for).
    ran: Vec<bool>,
    start: Instant,
    stopped: bool,
    /// Runs started, and how late they started in all (seconds) and at
    /// most.
    runs: u64,
    lag_sum: f64,
    lag_max: f64,
}

impl Scheduler {
    /// Starts the dispatcher and the workers (none for no checks).
    pub fn start(checks: Vec<Check>) -> std::io::Result<Scheduler> {
        Scheduler::start_observed(checks, None)
    }

    /// [`Scheduler::start`], with `observer` told of every run.
    pub fn start_observed(checks: Vec<Check>, observer: Option<Observer>) -> std::io::Result<Scheduler> {
        let now = Instant::now();
        let state = State {
            latest: checks.iter().map(|c| CheckResult::of(c, Vec::new())).collect(),
            due: vec![now; checks.len()],
            busy: vec![false; checks.len()],
            ready: VecDeque::with_capacity(checks.len()),
            ran: vec![false; checks.len()],
            start: now,
            stopped: false,
            runs: 0,
            lag_sum: 0.0,
            lag_max: 0.0,
        };
        let n = checks.len().min(MAX_CHECK_WORKERS);
        let shared = Arc::new(Shared {
            checks,
            observer,
            state: Mutex::new(state),
            work: Condvar::new(),
            dispatch: Condvar::new(),
        });
        let scheduler = Scheduler { shared, threads: Mutex::new(Vec::with_capacity(n + 1)) };
        if n == 0 {
            return Ok(scheduler);
        }
        let spawn = |name: &str, stack: usize, body: fn(&Shared)| {
            let shared = Arc::clone(&scheduler.shared);
            let handle =
                std::thread::Builder::new().name(name.into()).stack_size(stack).spawn(move || body(&shared))?;
            lock(&scheduler.threads).push(handle);
            Ok::<(), std::io::Error>(())
        };
        if let Err(e) = spawn("checks", DISPATCH_STACK, dispatch) {
            scheduler.stop(Duration::ZERO);
            return Err(e);
        }
        for started in 0..n {
            if let Err(e) = spawn("check", CHECKS_STACK, work) {
                if started == 0 {
                    scheduler.stop(Duration::ZERO);
                    return Err(e);
                }
                // Fewer workers still run every check, later.
                log::warn!("checks: {e}; running with {started} workers");
                break;
            }
        }
        Ok(scheduler)
    }

    /// The latest outcomes of each check, in config order.
    pub fn latest(&self) -> Vec<CheckResult> {
        self.shared.lock().latest.clone()
    }
}

/// A check's place within its interval, from a hash of its name, as
/// Prometheus places its targets: spread whatever the config's order (a
/// config lists its blackholed neighbours together as often as not), and
/// the same across restarts.
fn phase(name: &str, interval: Duration) -> Duration {
    let mut h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    // FNV-1a leaves the high bits of short, similar names ("c450",
    // "c451") alike; murmur3's finaliser mixes them (all 50 of a bench's
    // blackholed checks had the same phase without it).
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    interval.mul_f64((h >> 11) as f64 / (1u64 << 53) as f64)
}

/// Stack of the dispatcher: it only keeps time.
const DISPATCH_STACK: usize = 64 * 1024;

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// The dispatcher: hands each due check to the workers, then sleeps until
/// the next one falls due or a worker reschedules one.
fn dispatch(shared: &Shared) {
    let mut st = shared.lock();
    while !st.stopped {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        for i in 0..shared.checks.len() {
            if st.busy[i] {
                continue;
            }
            if st.due[i] <= now {
                st.busy[i] = true;
                st.ready.push_back(i);
                shared.work.notify_one();
            } else {
                next = Some(next.map_or(st.due[i], |n| n.min(st.due[i])));
            }
        }
        st = match next {
            Some(t) => shared.dispatch.wait_timeout(st, t - now).unwrap_or_else(PoisonError::into_inner).0,
            None => shared.dispatch.wait(st).unwrap_or_else(PoisonError::into_inner),
        };
    }
}

/// A worker: runs the checks the dispatcher hands it, one at a time.
fn work(shared: &Shared) {
    let mut st = shared.lock();
    loop {
        let i = loop {
            if st.stopped {
                return;
            }
            if let Some(i) = st.ready.pop_front() {
                break i;
            }
            st = shared.work.wait(st).unwrap_or_else(PoisonError::into_inner);
        };
        let due = st.due[i];
        st.runs += 1;
        if st.ran[i] {
            let lag = due.elapsed().as_secs_f64();
            st.lag_sum += lag;
            st.lag_max = st.lag_max.max(lag);
        }
        drop(st);
        let check = &shared.checks[i];
        let outcomes = run(check);
        st = shared.lock();
        if st.stopped {
            // Replaced (a reload) or stopping while this check ran: its
            // outcome belongs to a config no longer in force, and must
            // neither notify nor be recorded.
            return;
        }
        drop(st);
        if let Some(observe) = &shared.observer {
            observe(check, &outcomes);
        }
        st = shared.lock();
        st.latest[i].outcomes = outcomes;
        let mut next = if st.ran[i] {
            due + check.interval
        } else {
            st.start + phase(&check.name, check.interval) + check.interval
        };
        if next < Instant::now() {
            // Fell behind (a check took longer than its interval, or no
            // worker was free): skip the missed runs rather than run
            // back to back.
            next = Instant::now() + check.interval;
        }
        st.ran[i] = true;
        st.due[i] = next;
        st.busy[i] = false;
        shared.dispatch.notify_one();
    }
}

impl Service for Scheduler {
    fn name(&self) -> &'static str {
        "checks"
    }

    fn render(&self, out: &mut Exposition) {
        let st = self.shared.lock();
        render(&st.latest, out);
        if self.shared.checks.is_empty() {
            return;
        }
        out.family("sonde_check_runs_total", "sonde: Configured check runs started.", MetricType::Counter);
        out.sample(&[], st.runs as f64);
        out.family(
            "sonde_check_lag_seconds_total",
            "sonde: How late the configured checks started against their schedule, in all (first runs not counted).",
            MetricType::Counter,
        );
        out.sample(&[], st.lag_sum);
        out.family(
            "sonde_check_lag_max_seconds",
            "sonde: The latest start of a configured check against its schedule, since sonde started.",
            MetricType::Gauge,
        );
        out.sample(&[], st.lag_max);
    }

    /// A check in progress ends at its own deadline; its outcome is not
    /// wanted any more, so the workers are waited for at most `grace`.
    fn stop(&self, grace: Duration) {
        self.shared.lock().stopped = true;
        self.shared.work.notify_all();
        self.shared.dispatch.notify_all();
        let deadline = Deadline::after(grace);
        let mut workers = std::mem::take(&mut *lock(&self.threads));
        while !workers.is_empty() && !deadline.passed() {
            workers.retain(|w| !w.is_finished());
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Runs every check once, now (`--once`), at most [`MAX_CHECK_WORKERS`]
/// at a time, the results in config order.
pub fn run_all(checks: &[Check]) -> Vec<CheckResult> {
    let mut results = Vec::with_capacity(checks.len());
    for batch in checks.chunks(MAX_CHECK_WORKERS) {
        std::thread::scope(|scope| {
            let started: Vec<_> = batch
                .iter()
                .map(|c| {
                    let thread = std::thread::Builder::new().name("check".into()).stack_size(CHECKS_STACK);
                    (c, thread.spawn_scoped(scope, move || run(c)))
                })
                .collect();
            for (c, thread) in started {
                // A check whose thread cannot start runs here, late.
                let outcomes = match thread {
                    Ok(t) => t.join().unwrap_or_default(),
                    Err(_) => run(c),
                };
                results.push(CheckResult::of(c, outcomes));
            }
        });
    }
    results
}

/// Says each failed check on stderr, one line per address (`--once`:
/// cron mails it); true when any failed.
pub fn report_failures(results: &[CheckResult]) -> bool {
    let mut any = false;
    for CheckResult { name, outcomes, .. } in results {
        for o in outcomes {
            let Some(reason) = o.reason else { continue };
            any = true;
            match o.addr {
                Some(a) => {
                    // What the kind knows beyond the reason (rustls's
                    // words for a TLS failure), after it.
                    let why = o.detail.words().map(|e| format!(": {e}")).unwrap_or_default();
                    let family = Family::of(&a.ip());
                    log::warn!("check {name} failed on {a} ({family}): {}{why}", reason.as_str())
                }
                None => log::warn!("check {name} failed: {}", reason.as_str()),
            }
        }
    }
    any
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{tcp, Kind, Select};

    fn check(name: &str, target: String, interval_ms: u64, timeout_ms: u64) -> Check {
        Check {
            name: name.into(),
            target,
            interval: Duration::from_millis(interval_ms),
            timeout: Duration::from_millis(timeout_ms),
            select: Select::Every(Family::Any),
            kind: Kind::Tcp(tcp::Settings::default()),
        }
    }

    /// A check that hangs until its timeout holds one worker, not the
    /// others: the quick check runs many times meanwhile.
    #[test]
    fn a_hung_check_holds_back_no_other() {
        // A listener whose backlog is full would be refused quickly on
        // loopback; a peer that accepts and never answers an expect hangs.
        let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let quick = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut slow = check("slow", hung.local_addr().unwrap().to_string(), 60_000, 3_000);
        let expect = crate::wire::regex::Regex::new("^never").unwrap();
        slow.kind = Kind::Tcp(tcp::Settings { steps: vec![tcp::Step::Expect(expect)], ..Default::default() });
        let fast = check("fast", quick.local_addr().unwrap().to_string(), 20, 1_000);
        let s = Scheduler::start(vec![slow, fast]).unwrap();
        // Until the slow check ends (its timeout), the quick one runs on:
        // one at a time, it would wait for the slow one's end.
        let runs = loop {
            let st = s.shared.lock();
            if st.runs >= 6 || !st.latest[0].outcomes.is_empty() {
                break st.runs;
            }
            drop(st);
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(runs >= 6 && s.latest()[0].outcomes.is_empty(), "the quick check ran {runs} times meanwhile");
        s.stop(Duration::ZERO);
        drop((hung, quick));
    }

    #[test]
    fn phases_spread_over_the_interval_by_name() {
        let interval = Duration::from_secs(15);
        let phases: Vec<Duration> = (0..200).map(|i| phase(&format!("c{i}"), interval)).collect();
        assert!(phases.iter().all(|p| *p < interval));
        // Each fifth of the interval holds a fair share of names that
        // differ in one character, whatever their order.
        for k in 0..5u32 {
            let fifth = phases.iter().filter(|p| (p.as_secs_f64() / 3.0) as u32 == k).count();
            assert!((20..=60).contains(&fifth), "fifth {k}: {fifth} of 200");
        }
        assert_eq!(phase("smtp", interval), phase("smtp", interval), "the same across restarts");
    }

    #[test]
    fn once_runs_every_check_and_keeps_config_order() {
        let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let checks: Vec<Check> =
            (0..20).map(|i| check(&format!("c{i}"), open.local_addr().unwrap().to_string(), 1000, 1000)).collect();
        let results = run_all(&checks);
        assert_eq!(
            results.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            (0..20).map(|i| format!("c{i}")).collect::<Vec<_>>()
        );
        assert!(results.iter().all(|r| r.outcomes.len() == 1 && r.outcomes[0].reason.is_none()));
    }
}
