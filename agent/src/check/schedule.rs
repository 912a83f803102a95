//! The configured checks, run on their intervals: the agent's checks
//! service. Each check runs at its interval, one at a time, on the
//! scheduler's thread, so a slow check delays other checks but never a
//! scrape; a scrape renders the latest outcomes of each.
//!
//! `--once` runs every check once, now ([`run_all`]), and says each
//! failure on stderr ([`report_failures`]).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{render, run, Check, CheckResult, Detail, Family};
use crate::expo::Exposition;
use crate::limits::CHECKS_STACK;
use crate::service::{Service, Worker};
use crate::sys::log;

/// The running checks service.
pub struct Scheduler {
    latest: Arc<Mutex<Vec<CheckResult>>>,
    worker: Option<Worker>,
}

impl Scheduler {
    /// Starts the scheduler thread (none for no checks).
    pub fn start(checks: Vec<Check>) -> std::io::Result<Scheduler> {
        let latest = Arc::new(Mutex::new(
            checks
                .iter()
                .map(|c| CheckResult { name: c.name.clone(), family: c.family, outcomes: Vec::new() })
                .collect(),
        ));
        if checks.is_empty() {
            return Ok(Scheduler { latest, worker: None });
        }
        let shared = Arc::clone(&latest);
        let worker = Worker::spawn("checks", CHECKS_STACK, move |stop| {
            let now = Instant::now();
            let mut due: Vec<Instant> = checks.iter().map(|_| now).collect();
            loop {
                let Some((i, &next)) = due.iter().enumerate().min_by_key(|(_, d)| **d) else { return };
                if stop.sleep_until(next) {
                    return;
                }
                if Instant::now() < next {
                    continue; // woken early, not stopped
                }
                let outcomes = run(&checks[i]);
                due[i] = next + checks[i].interval;
                if due[i] < Instant::now() {
                    // Fell behind (a check took longer than its interval):
                    // skip the missed runs rather than run back to back.
                    due[i] = Instant::now() + checks[i].interval;
                }
                if let Some(slot) = shared.lock().unwrap_or_else(PoisonError::into_inner).get_mut(i) {
                    slot.outcomes = outcomes;
                }
            }
        })?;
        Ok(Scheduler { latest, worker: Some(worker) })
    }

    /// The latest outcomes of each check, in config order.
    pub fn latest(&self) -> Vec<CheckResult> {
        self.latest.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl Service for Scheduler {
    fn name(&self) -> &'static str {
        "checks"
    }

    fn render(&self, out: &mut Exposition) {
        render(&self.latest.lock().unwrap_or_else(PoisonError::into_inner), out);
    }

    /// A check in progress ends at its own deadline; its outcome is not
    /// wanted any more.
    fn stop(&self, grace: Duration) {
        if let Some(w) = &self.worker {
            w.stop(grace);
        }
    }
}

/// Runs every check once, now, one after another (`--once`).
pub fn run_all(checks: &[Check]) -> Vec<CheckResult> {
    checks.iter().map(|c| CheckResult { name: c.name.clone(), family: c.family, outcomes: run(c) }).collect()
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
