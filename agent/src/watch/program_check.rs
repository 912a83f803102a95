//! Program checks (Monit's `check program`): a program run for its exit
//! status and its output, failed when the status test holds (`!= 0`
//! unless told) or the output matches, said once when it starts failing
//! and once when it recovers.
//!
//! The daemon runs it asynchronously, as Monit does: a cycle starts it,
//! a later cycle takes its result and starts it again, so a slow program
//! never holds the cycle; one past its timeout is ended (its process
//! group SIGTERM, then SIGKILL) and fails. `--once` starts it and waits
//! for it, at most its timeout. It runs as the service programs do
//! ([`crate::sys::process`]: no shell, setsid, a clean environment plus
//! `SONDE_SERVICE`), with stdout and stderr read into one buffer.
//!
//! Invariants: at most one run per check at a time; every run is reaped
//! (taken, ended at its timeout, or ended when the watchdog stops or is
//! replaced: the [`Running`] is dropped); the output kept is bounded by
//! [`OUTPUT_MAX`] (Monit's `programOutput` limit, 512 B), the rest read and
//! dropped so the program never blocks on a full pipe for long.

use std::time::{Duration, Instant};

use super::state::Entry;
use super::{Event, Kind, ProgramCheck, Status};
use crate::sys::process::{self, Child, Ended};

/// Output bytes kept (matched and shown).
pub const OUTPUT_MAX: usize = 512;

/// Bits of [`Entry::failing`] for a program.
const STATUS: u64 = 1;
const CONTENT: u64 = 2;

/// A run in progress.
#[derive(Debug)]
pub struct Running {
    child: Child,
    started: Instant,
    output: Vec<u8>,
}

/// One cycle of `p`: takes the result of the run in progress if it has
/// one (then starts the next, unless `wait`), or starts one; with `wait`
/// (`--once`), waits for the run it started. Returns whether it fails,
/// or None when no run ended this cycle (the last verdict stands).
pub fn check(
    p: &ProgramCheck,
    e: &mut Entry,
    running: &mut Option<Running>,
    wait: bool,
    events: &mut Vec<Event>,
) -> Option<bool> {
    if running.is_none() {
        match start(p) {
            Ok(r) => *running = Some(r),
            Err(err) => {
                let why = format!("cannot run {}: {err}", super::program::shown(&p.argv));
                return Some(judge(p, e, Err(why), events));
            }
        }
        if !wait {
            return None;
        }
    }
    let r = running.as_mut()?;
    let deadline = r.started + p.timeout;
    let mut pause = Duration::from_millis(1);
    let ended = loop {
        r.child.read_output(&mut r.output, OUTPUT_MAX);
        if let Some(ended) = r.child.poll() {
            r.child.read_output(&mut r.output, OUTPUT_MAX);
            break ended;
        }
        if Instant::now() >= deadline {
            break r.child.wait(deadline);
        }
        if !wait {
            return None;
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_millis(50));
    };
    let output = std::mem::take(&mut r.output);
    *running = None;
    let failing = judge(p, e, Ok((ended, output)), events);
    if !wait {
        // The next run, for the next cycle to take.
        if let Ok(r) = start(p) {
            *running = Some(r);
        }
    }
    Some(failing)
}

fn start(p: &ProgramCheck) -> std::io::Result<Running> {
    let env = [format!("SONDE_SERVICE={}", p.name)];
    let child = process::spawn(&p.argv, &env, p.who, true)?;
    Ok(Running { child, started: Instant::now(), output: Vec::new() })
}

/// Applies a run's result to `e`; the changes go to `events`.
fn judge(p: &ProgramCheck, e: &mut Entry, result: Result<(Ended, Vec<u8>), String>, events: &mut Vec<Event>) -> bool {
    let (status_failed, content_failed, output) = match &result {
        Err(why) => (Some(why.clone()), None, String::new()),
        Ok((ended, out)) => {
            let text: String = crate::wire::regex::Regex::text(out)
                .trim()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let status = match *ended {
                Ended::Exited(n) if p.status.0.holds(f64::from(n), f64::from(p.status.1)) => {
                    Some(format!("status failed ({n})"))
                }
                Ended::Exited(_) => None,
                Ended::Signalled(s) => Some(format!("status failed (ended by signal {s})")),
                Ended::TimedOut => {
                    Some(format!("status failed: the program timed out after {:?} and was ended", p.timeout))
                }
            };
            let content = p.output.as_ref().filter(|re| re.is_match_bytes(out)).map(|_| "content match".to_owned());
            (status, content, text)
        }
    };
    let shown = if output.is_empty() { String::new() } else { format!(" -- {output}") };
    for (bit, kind, failed, good) in [
        (STATUS, Kind::Status, status_failed, "status succeeded"),
        (CONTENT, Kind::Content, content_failed, "content doesn't match"),
    ] {
        match failed {
            Some(bad) if e.failing & bit == 0 => {
                events.push(Event::new(&p.name, kind, Status::Failed, format!("{bad}{shown}")));
                e.failing |= bit;
            }
            None if e.failing & bit != 0 => {
                events.push(Event::new(&p.name, kind, Status::Succeeded, format!("{good}{shown}")));
                e.failing &= !bit;
            }
            _ => {}
        }
    }
    e.failing != 0
}
