//! Finding a service's process: by the PID in its pidfile, re-read every
//! cycle, or by matching a pattern against every process's command line
//! (the oldest top-level match, as Monit's `matching`).
//!
//! A PID is the service's only when all of these hold: /proc/PID is a
//! live process (not a zombie), the PID is its thread group's (a pidfile
//! may name a thread of another process, Monit's issue #484), and it is
//! the process the pidfile was written for. That last one is told by the
//! start time, field 22 of /proc/PID/stat: a process seen before must
//! have the start time it had (a PID reused between two cycles is another
//! process); one seen for the first time must not have started after the
//! pidfile was last written (a pidfile left by a process that died, whose
//! PID another process got since, is stale). The second test reads the
//! wall clock, so a clock stepped forward between the daemon's start and
//! sonde's first look could misjudge it; a `matching` pattern given with
//! the pidfile is then what decides, and the time is not asked.

use std::path::Path;
use std::time::UNIX_EPOCH;

use super::Find;
use crate::limits::MAX_PROCESSES;
use crate::sys::file::read_bounded;
use crate::wire::proc::pid_stat::{self, Stat};
use crate::wire::regex::Regex;

/// Longest command line read for `matching`; longer ones are matched on
/// their head.
pub const MAX_CMDLINE: usize = 4096;

/// How much later than its pidfile's last write a process may have
/// started and still be the one that wrote it (the write comes after the
/// start; the two clocks have a tick's resolution).
const PIDFILE_SLACK_SECS: f64 = 2.0;

/// A process found for a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    pub pid: u32,
    pub stat: Stat,
}

/// The service's process, if it runs. `known` is the (PID, start time)
/// it had when last seen.
pub fn find(how: &Find, known: Option<(u32, u64)>) -> Option<Found> {
    match how {
        Find::Pidfile(path, pattern) => by_pidfile(path, pattern.as_ref(), known),
        Find::Matching(re) => by_matching(re),
    }
}

fn by_pidfile(path: &Path, pattern: Option<&Regex>, known: Option<(u32, u64)>) -> Option<Found> {
    let mut buf = Vec::new();
    read_bounded(path, &mut buf, 64).ok()?;
    let text = std::str::from_utf8(&buf).ok()?;
    let pid: u32 = text.trim().parse().ok().filter(|&p| p > 0)?;
    let stat = alive(pid)?;
    if let Some(re) = pattern {
        return re.is_match(&cmdline(pid)?).then_some(Found { pid, stat });
    }
    match known {
        Some((p, start)) if p == pid => (stat.starttime == start).then_some(Found { pid, stat }),
        _ => {
            let written = std::fs::metadata(path).ok()?.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
            (started_at(stat.starttime) <= written.as_secs_f64() + PIDFILE_SLACK_SECS).then_some(Found { pid, stat })
        }
    }
}

fn by_matching(re: &Regex) -> Option<Found> {
    let me = std::process::id();
    let mut matches: Vec<Found> = Vec::new();
    for pid in pids() {
        if pid == me {
            continue;
        }
        let Some(line) = cmdline(pid) else { continue };
        if line.is_empty() || !re.is_match(&line) {
            continue;
        }
        if let Some(stat) = alive(pid) {
            matches.push(Found { pid, stat });
        }
    }
    // Top-level: its parent is not a match too (nginx's workers match
    // its master's pattern). Then the oldest.
    let top = |f: &&Found| !matches.iter().any(|m| u64::from(m.pid) == f.stat.ppid);
    matches.iter().filter(top).min_by_key(|f| (f.stat.starttime, f.pid)).copied()
}

/// Every numeric entry of /proc, at most [`MAX_PROCESSES`].
pub fn pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .take(MAX_PROCESSES)
}

/// The process's stat, if it is a live process that leads its thread
/// group.
pub fn alive(pid: u32) -> Option<Stat> {
    let mut buf = Vec::new();
    read_bounded(Path::new(&format!("/proc/{pid}/stat")), &mut buf, 4096).ok()?;
    let stat = pid_stat::stat(&buf).ok()?;
    if matches!(stat.state, b'Z' | b'X' | b'x') {
        return None;
    }
    read_bounded(Path::new(&format!("/proc/{pid}/status")), &mut buf, 16 * 1024).ok()?;
    (pid_stat::tgid(&buf) == Some(u64::from(pid))).then_some(stat)
}

/// Its command line, arguments joined by spaces (a kernel thread's is
/// empty).
pub fn cmdline(pid: u32) -> Option<String> {
    let mut buf = Vec::new();
    match read_bounded(Path::new(&format!("/proc/{pid}/cmdline")), &mut buf, MAX_CMDLINE) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {}
        Err(_) => return None,
    }
    let end = buf.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    buf.truncate(end);
    for b in &mut buf {
        if *b == 0 {
            *b = b' ';
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Clock ticks per second (`CLK_TCK`), the unit of /proc/PID/stat's times.
pub fn ticks_per_second() -> f64 {
    // SAFETY: sysconf takes no pointers.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// A start time (ticks after boot) as seconds since the epoch, by
/// today's wall clock.
pub fn started_at(starttime: u64) -> f64 {
    let now = |clock| {
        // SAFETY: clock_gettime writes into a local.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        unsafe { libc::clock_gettime(clock, &raw mut ts) };
        ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
    };
    now(libc::CLOCK_REALTIME) - now(libc::CLOCK_BOOTTIME) + starttime as f64 / ticks_per_second()
}

/// Open descriptors of a process (entries of /proc/PID/fd), at most
/// [`MAX_PROCESSES`] counted.
pub fn fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.take(MAX_PROCESSES).count())
}

/// Processes whose parent is `pid`.
pub fn children(pid: u32) -> usize {
    pids().filter(|&p| alive_parent(p) == Some(u64::from(pid))).count()
}

fn alive_parent(pid: u32) -> Option<u64> {
    let mut buf = Vec::new();
    read_bounded(Path::new(&format!("/proc/{pid}/stat")), &mut buf, 4096).ok()?;
    let s = pid_stat::stat(&buf).ok()?;
    (s.state != b'Z').then_some(s.ppid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sonde-find-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_pidfile_names_a_live_process() {
        let d = dir("live");
        let pidfile = d.join("p.pid");
        let me = std::process::id();
        std::fs::write(&pidfile, format!("{me}\n")).unwrap();
        let found = find(&Find::Pidfile(pidfile.clone(), None), None).unwrap();
        assert_eq!(found.pid, me);
        // Seen before with another start time: a reused PID.
        assert!(find(&Find::Pidfile(pidfile.clone(), None), Some((me, found.stat.starttime + 1))).is_none());
        assert!(find(&Find::Pidfile(pidfile.clone(), None), Some((me, found.stat.starttime))).is_some());
        for bad in ["", "0", "-1", "abc", "4294967296"] {
            std::fs::write(&pidfile, bad).unwrap();
            assert!(find(&Find::Pidfile(pidfile.clone(), None), None).is_none(), "{bad:?}");
        }
        assert!(find(&Find::Pidfile(d.join("none"), None), None).is_none());
        let _ = std::fs::remove_dir_all(&d);
    }

    /// See: a pidfile older than the process that has its PID now is
    /// stale, not the service.
    #[test]
    fn a_pidfile_written_before_the_process_started_is_stale() {
        let d = dir("stale");
        let pidfile = d.join("p.pid");
        std::fs::write(&pidfile, format!("{}\n", std::process::id())).unwrap();
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&pidfile).unwrap().set_modified(hour_ago).unwrap();
        // This test process started less than an hour ago (it is a test).
        assert!(find(&Find::Pidfile(pidfile.clone(), None), None).is_none());
        // With a pattern, the command line decides.
        let re = Regex::new(".").unwrap();
        assert!(find(&Find::Pidfile(pidfile, Some(re)), None).is_some());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn threads_are_not_processes() {
        let t = std::thread::spawn(|| {
            // SAFETY: gettid takes no arguments.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
            alive(tid)
        });
        assert!(t.join().unwrap().is_none());
        assert!(alive(std::process::id()).is_some());
    }

    #[test]
    fn matching_skips_sonde_itself() {
        let me = cmdline(std::process::id()).unwrap();
        assert!(!me.is_empty());
        let re = Regex::new(&format!("^{}", regex_lite::escape(&me))).unwrap();
        assert!(find(&Find::Matching(re), None).is_none_or(|f| f.pid != std::process::id()));
        assert!(fds(std::process::id()).unwrap() >= 3);
    }
}
