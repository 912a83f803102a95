//! Testing a condition against a running process, and its tolerance: a
//! condition fails after its test failed `times` of the last `cycles`
//! cycles (`for 3 cycles`, `2 times within 5 cycles`; once by default)
//! and recovers at the first cycle its test passes, as Monit's event
//! states change. The window is a 64-bit map of the last cycles (bit 0
//! the latest), kept in the state file.

use std::time::Instant;

use super::find::{self, Found};
use super::{Condition, Resource, Test, Window};
use crate::check;

/// A process's CPU ticks when last seen, for its CPU percentage.
#[derive(Clone, Copy, Debug)]
pub struct CpuMark {
    pub ticks: u64,
    pub at: Instant,
}

/// Percent of one CPU since `prev`, None without one.
pub fn cpu_percent(p: &Found, prev: Option<CpuMark>) -> Option<f64> {
    let prev = prev?;
    let secs = prev.at.elapsed().as_secs_f64();
    let ticks = (p.stat.utime + p.stat.stime).checked_sub(prev.ticks)?;
    (secs > 0.0).then(|| ticks as f64 / find::ticks_per_second() / secs * 100.0)
}

/// Runs the test; Err is the failure's words, Ok the success's.
pub fn test(c: &Condition, p: &Found, cpu: Option<f64>) -> Result<String, String> {
    match &c.test {
        Test::Failed(chk) => {
            let outcomes = check::run(chk);
            let bad = outcomes.iter().find(|o| o.reason.is_some());
            let at = |o: &check::Outcome| o.addr.map_or_else(|| chk.target.clone(), |a| a.to_string());
            match bad {
                Some(o) => Err(format!(
                    "failed protocol test [{}] at {} -- {}",
                    chk.name,
                    at(o),
                    o.reason.map_or("", check::Reason::as_str)
                )),
                None => Ok(format!("connection succeeded [{}] at {}", chk.name, chk.target)),
            }
        }
        Test::Resource(r, op, limit) => {
            let value = match r {
                Resource::Cpu => match cpu {
                    Some(v) => v,
                    // The first look has nothing to compare with.
                    None => return Ok(String::new()),
                },
                Resource::Memory => (p.stat.rss * page_size()) as f64,
                Resource::Threads => p.stat.num_threads as f64,
                Resource::Children => find::children(p.pid) as f64,
                Resource::Fds => find::fds(p.pid).unwrap_or(0) as f64,
                Resource::Uptime => {
                    let now = crate::sys::time::now_ms() as f64 / 1000.0;
                    (now - find::started_at(p.stat.starttime)).max(0.0)
                }
            };
            let shown = match r {
                Resource::Cpu => format!("{value:.1}%"),
                Resource::Uptime => format!("{value:.0}s"),
                _ => format!("{value:.0}"),
            };
            if op.holds(value, *limit) {
                Err(format!("{} of {shown} matches resource limit [{}]", r.as_str(), c.text))
            } else {
                Ok(format!("{} check succeeded [current {} = {shown}]", r.as_str(), r.as_str()))
            }
        }
    }
}

/// Bytes per page (rss is in pages).
pub fn page_size() -> u64 {
    // SAFETY: sysconf takes no pointers.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(p).ok().filter(|&p| p > 0).unwrap_or(4096)
}

/// Records this cycle's result in `window`; Some(true) when the condition
/// now fails (its tolerance met), Some(false) when it recovers. `failing`
/// is whether its failure was said; `rearmed`, that the service was
/// restarted since, so a failure that goes on fails (and acts) again once
/// its tolerance is met again.
pub fn update(window: &mut u64, failing: &mut bool, failed: bool, tolerance: Window, rearmed: bool) -> Option<bool> {
    *window = (*window << 1) | u64::from(failed);
    let mask = if tolerance.cycles >= 64 { u64::MAX } else { (1u64 << tolerance.cycles) - 1 };
    if (!*failing || rearmed) && (*window & mask).count_ones() >= tolerance.times {
        *failing = true;
        *window = 0;
        return Some(true);
    }
    if *failing && !failed {
        *failing = false;
        *window = 0;
        return Some(false);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(results: &[bool], tolerance: Window) -> Vec<Option<bool>> {
        let (mut w, mut f) = (0, false);
        results.iter().map(|&r| update(&mut w, &mut f, r, tolerance, false)).collect()
    }

    #[test]
    fn once_by_default_said_once_per_change() {
        let got = run(&[false, true, true, true, false, false, true], Window::default());
        assert_eq!(got, [None, Some(true), None, None, Some(false), None, Some(true)]);
    }

    #[test]
    fn for_n_cycles_and_x_times_within_y() {
        let three = Window { times: 3, cycles: 3 };
        assert_eq!(run(&[true, true, false, true, true, true], three), [None, None, None, None, None, Some(true)]);
        let two_in_five = Window { times: 2, cycles: 5 };
        assert_eq!(run(&[true, false, false, true], two_in_five), [None, None, None, Some(true)]);
        assert_eq!(
            run(&[true, false, false, false, false, true], two_in_five),
            [None, None, None, None, None, None],
            "the first failure left the window"
        );
        let (mut w, mut f) = (0, false);
        let again: Vec<_> =
            [true, true, true].iter().map(|&r| update(&mut w, &mut f, r, Window::default(), true)).collect();
        assert_eq!(again, [Some(true); 3], "after a restart, each failure acts again");
        let all = Window { times: 64, cycles: 64 };
        let got = run(&[true; 64], all);
        assert_eq!(got[63], Some(true));
        assert!(got[..63].iter().all(Option::is_none));
    }
}
