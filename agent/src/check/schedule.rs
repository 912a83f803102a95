//! The configured checks, each run on its own interval: the agent's
//! checks service.
//!
//! A fixed pool of workers (at most [`MAX_CHECK_WORKERS`], never more than
//! there are checks) takes the check that is due soonest and is not
//! running, runs it, and puts its outcomes where a scrape renders them. A
//! check blocked on a blackholed target holds one worker until its timeout
//! and no other check, so ten dead neighbours at a 5 s timeout no longer
//! hold every other check back 50 s; only when every worker is busy does a
//! due check wait, and how late checks start is reported
//! (`sonde_check_lag_seconds`). A check that fell a whole interval behind
//! skips the missed runs rather than running back to back.
//!
//! `--once` runs every check once, now, as many at once as the pool would
//! ([`run_all`]), and says each failure on stderr ([`report_failures`]).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{render, run, Check, CheckResult, Detail, Family};
use crate::expo::{Exposition, MetricType};
use crate::limits::{CHECKS_STACK, MAX_CHECK_WORKERS};
use crate::service::Service;
use crate::sys::log;
use crate::sys::time::Deadline;

/// The running checks service.
pub struct Scheduler {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

struct Shared {
    checks: Vec<Check>,
    state: Mutex<State>,
    /// Signalled when a check finishes or the service stops.
    changed: Condvar,
}

struct State {
    latest: Vec<CheckResult>,
    due: Vec<Instant>,
    running: Vec<bool>,
    stopped: bool,
    /// Runs started, and how late they started in all (seconds) and at
    /// most.
    runs: u64,
    lag_sum: f64,
    lag_max: f64,
}

impl Scheduler {
    /// Starts the workers (none for no checks).
    pub fn start(checks: Vec<Check>) -> std::io::Result<Scheduler> {
        let now = Instant::now();
        let state = State {
            latest: checks.iter().map(|c| CheckResult::of(c, Vec::new())).collect(),
            due: vec![now; checks.len()],
            running: vec![false; checks.len()],
            stopped: false,
            runs: 0,
            lag_sum: 0.0,
            lag_max: 0.0,
        };
        let n = checks.len().min(MAX_CHECK_WORKERS);
        let shared = Arc::new(Shared { checks, state: Mutex::new(state), changed: Condvar::new() });
        let scheduler = Scheduler { shared, workers: Mutex::new(Vec::with_capacity(n)) };
        for _ in 0..n {
            let shared = Arc::clone(&scheduler.shared);
            let spawned =
                std::thread::Builder::new().name("checks".into()).stack_size(CHECKS_STACK).spawn(move || work(&shared));
            match spawned {
                Ok(handle) => lock(&scheduler.workers).push(handle),
                // Fewer workers still run every check, later.
                Err(e) if !lock(&scheduler.workers).is_empty() => {
                    log::warn!("checks: {e}; running with fewer workers");
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(scheduler)
    }

    /// The latest outcomes of each check, in config order.
    pub fn latest(&self) -> Vec<CheckResult> {
        self.shared.lock().latest.clone()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// One worker: takes the check due soonest that no other worker runs.
fn work(shared: &Shared) {
    let mut st = shared.lock();
    loop {
        if st.stopped {
            return;
        }
        let next = (0..shared.checks.len()).filter(|&i| !st.running[i]).min_by_key(|&i| st.due[i]);
        let Some(i) = next else {
            // Every check is running on another worker.
            st = shared.changed.wait(st).unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        let now = Instant::now();
        let due = st.due[i];
        if due > now {
            st = shared.changed.wait_timeout(st, due - now).unwrap_or_else(PoisonError::into_inner).0;
            continue;
        }
        st.running[i] = true;
        let lag = (now - due).as_secs_f64();
        st.runs += 1;
        st.lag_sum += lag;
        st.lag_max = st.lag_max.max(lag);
        drop(st);
        let check = &shared.checks[i];
        let outcomes = run(check);
        st = shared.lock();
        st.latest[i].outcomes = outcomes;
        st.running[i] = false;
        let mut next = due + check.interval;
        if next < Instant::now() {
            // Fell behind (a check took longer than its interval, or no
            // worker was free): skip the missed runs rather than run
            // back to back.
            next = Instant::now() + check.interval;
        }
        st.due[i] = next;
        // Another worker may be waiting for this one to finish.
        shared.changed.notify_all();
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
            "sonde: How late the configured checks started, against their schedule, in all.",
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
        self.shared.changed.notify_all();
        let deadline = Deadline::after(grace);
        let mut workers = std::mem::take(&mut *lock(&self.workers));
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
                    // TLS failures say what rustls said, after the reason.
                    let why = match &o.detail {
                        Detail::Tcp(d) => d.tls.error().map(|e| format!(": {e}")).unwrap_or_default(),
                        _ => String::new(),
                    };
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
