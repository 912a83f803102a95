//! A service's programs (start, stop, restart, exec) run with the event
//! that caused them in their environment (`SONDE_SERVICE`, `SONDE_EVENT`,
//! `SONDE_DESCRIPTION`, `SONDE_DATE` in seconds since the epoch, and
//! `SONDE_PROCESS_PID` when the process is known), as Monit gives its
//! `MONIT_*` variables; and what "started" and "stopped" mean for a
//! process: the start program returned 0 and the process then appears
//! within the service's timeout; the stop program ran (or, without one,
//! SIGTERM was sent) and the process is gone within the timeout, else it
//! is sent SIGTERM (and SIGCONT, for a stopped one), then SIGKILL.

use std::time::{Duration, Instant};

use super::find::{self, Found};
use super::{Event, Process};
use crate::sys::process::{self, Ended, KILL_GRACE};

/// The longest pause between two looks for a process that is starting or
/// stopping.
const LOOK_MAX: Duration = Duration::from_millis(100);

/// Runs one program of `svc` for `cause`; Err says how it failed, in
/// Monit's words where it has them.
pub fn run(svc: &Process, what: &str, argv: &[String], cause: &Event, pid: Option<u32>) -> Result<(), String> {
    let mut env = vec![
        format!("SONDE_SERVICE={}", svc.name),
        format!("SONDE_EVENT={}", cause.kind.as_str()),
        format!("SONDE_DESCRIPTION={}", cause.description),
        format!("SONDE_DATE={}", cause.time_ms / 1000),
    ];
    if let Some(pid) = pid {
        env.push(format!("SONDE_PROCESS_PID={pid}"));
    }
    match process::run(argv, &env, svc.who, svc.timeout) {
        Ok(Ended::Exited(0)) => Ok(()),
        Ok(Ended::Exited(n)) => Err(format!("failed to {what} (exit status {n})")),
        Ok(Ended::Signalled(s)) => Err(format!("failed to {what} (ended by signal {s})")),
        Ok(Ended::TimedOut) => {
            Err(format!("failed to {what}: the program timed out after {:?} and was ended", svc.timeout))
        }
        Err(e) => Err(format!("failed to {what}: cannot run {}: {e}", argv.first().map_or("", String::as_str))),
    }
}

/// `argv` as one line for a log: `'/usr/sbin/nginx -s quit'`.
pub fn shown(argv: &[String]) -> String {
    format!("'{}'", argv.join(" "))
}

/// Waits up to `timeout` for `f` to say something; polls with a growing
/// pause.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(LOOK_MAX);
    }
}

/// Whether the process found earlier has ended (or its PID is another's).
pub fn gone(p: &Found) -> bool {
    find::alive(p.pid).is_none_or(|s| s.starttime != p.stat.starttime)
}

/// Ends `p` after its stop program had its chance: SIGCONT and SIGTERM,
/// then SIGKILL after [`KILL_GRACE`]. True when it is gone.
pub fn kill(p: &Found) -> bool {
    for sig in [libc::SIGCONT, libc::SIGTERM] {
        process::signal(p.pid, sig);
    }
    if wait_for(KILL_GRACE, || gone(p).then_some(())).is_some() {
        return true;
    }
    process::signal(p.pid, libc::SIGKILL);
    wait_for(KILL_GRACE, || gone(p).then_some(())).is_some()
}
