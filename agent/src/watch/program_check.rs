//! Program checks (Monit's `check program`): a program run for its exit
//! status and its output, failed when the status test holds (`!= 0`
//! unless told) or the output matches, said once when it starts failing
//! and once when it recovers.
//!
//! The daemon runs it asynchronously, as Monit does: a cycle starts it,
//! a later cycle takes its result and starts it again, so a slow program
//! never holds the cycle; its output is read between cycles too
//! ([`drain`], every [`DRAIN_EVERY`]), so one that writes more than a pipe
//! holds is not stalled until the next cycle. One past its timeout fails
//! and is ended: its process group is sent SIGTERM, and at a later look,
//! [`KILL_GRACE`] on, SIGKILL; the next run starts once it is reaped.
//! `--once` starts it and waits for it, at most its timeout. It runs as the service programs do
//! ([`crate::sys::process`]: no shell, setsid, a clean environment plus
//! `SONDE_SERVICE`), with stdout and stderr read into one buffer.
//!
//! Invariants: at most one run per check at a time; every run is reaped
//! (taken, ended after its timeout, or ended when the watchdog stops or
//! is replaced: [`end_all`] ends them together, within [`KILL_GRACE`] and
//! a little); the output kept is bounded by [`OUTPUT_MAX`] (Monit's
//! `programOutput` limit, 512 B), the rest read and dropped.

use std::time::{Duration, Instant};

use super::state::Entry;
use super::{Event, Kind, ProgramCheck};
use crate::sys::process::{self, Child, Ended, KILL_GRACE};

/// Output bytes kept (matched and shown).
pub const OUTPUT_MAX: usize = 512;

/// How often the output of a run in progress is read between cycles.
pub const DRAIN_EVERY: Duration = Duration::from_millis(100);

/// Bits of [`Entry::failing`] for a program.
const STATUS: u64 = 1;
const CONTENT: u64 = 2;

/// A run in progress.
#[derive(Debug)]
pub struct Running {
    child: Child,
    started: Instant,
    output: Vec<u8>,
    /// Past its timeout: when it was sent SIGTERM (its verdict is given).
    ending: Option<Instant>,
}

/// Reads what the runs in progress wrote since the last look.
pub fn drain(runs: &mut [Option<Running>]) {
    for r in runs.iter_mut().flatten() {
        r.child.read_output(&mut r.output, OUTPUT_MAX);
    }
}

/// Ends every run in progress together (the watchdog stops or is
/// replaced): SIGTERM to each group at once, SIGKILL to what is left
/// after [`KILL_GRACE`]; every one reaped.
pub fn end_all(runs: &mut [Option<Running>]) {
    let mut left: Vec<Running> = runs.iter_mut().filter_map(Option::take).collect();
    left.iter().for_each(|r| r.child.signal_group(libc::SIGTERM));
    let deadline = Instant::now() + KILL_GRACE;
    while !left.is_empty() && Instant::now() < deadline {
        left.retain_mut(|r| r.child.poll().is_none());
        std::thread::sleep(Duration::from_millis(10));
    }
    left.iter().for_each(|r| r.child.signal_group(libc::SIGKILL));
    // Dropping each reaps it: SIGKILL cannot be ignored.
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
    if let Some(at) = r.ending {
        // Its verdict was given at the timeout; it goes, then the next run.
        if r.child.poll().is_none() {
            if at.elapsed() >= KILL_GRACE {
                r.child.signal_group(libc::SIGKILL);
            }
            return None;
        }
        *running = start(p).ok();
        return None;
    }
    let deadline = r.started + p.timeout;
    let mut pause = Duration::from_millis(1);
    let ended = loop {
        r.child.read_output(&mut r.output, OUTPUT_MAX);
        if let Some(ended) = r.child.poll() {
            r.child.read_output(&mut r.output, OUTPUT_MAX);
            break ended;
        }
        if Instant::now() >= deadline {
            if wait {
                break r.child.wait(deadline);
            }
            r.child.signal_group(libc::SIGTERM);
            r.ending = Some(Instant::now());
            let output = std::mem::take(&mut r.output);
            return Some(judge(p, e, Ok((Ended::TimedOut, output)), events));
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
    Ok(Running { child, started: Instant::now(), output: Vec::new(), ending: None })
}

/// Applies a run's result to `e`; the changes go to `events`.
fn judge(p: &ProgramCheck, e: &mut Entry, result: Result<(Ended, Vec<u8>), String>, events: &mut Vec<Event>) -> bool {
    let (status_failed, content_failed, output) = match &result {
        Err(why) => (Some(why.clone()), None, String::new()),
        Ok((ended, out)) => {
            let text: String =
                crate::wire::regex::Regex::text(out).chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let text = text.trim().to_owned();
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
        let words = [format!("{}{shown}", failed.as_deref().unwrap_or_default()), format!("{good}{shown}")];
        let say = &mut |kind, status, text| events.push(Event::new(&p.name, kind, status, text));
        super::flip(&mut e.failing, bit, failed.is_some(), kind, words, say);
    }
    e.failing != 0
}
