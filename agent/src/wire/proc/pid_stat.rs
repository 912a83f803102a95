//! /proc/PID/stat and /proc/PID/task/TID/stat: a process's or thread's
//! status line (proc(5), "/proc/pid/stat").
//!
//! ```text
//! 1 (systemd) S 0 1 1 0 -1 4194560 ... 1 0 ...
//! ```
//!
//! The command name in parentheses may itself hold spaces and
//! parentheses, so the fields are counted from the last `)`. The
//! processes collector reads (3) the state and (20) num_threads
//! ([`parse`]); the watchdog reads more of a watched process ([`stat`]).

use super::Fields;
use crate::wire::{parse_u64, Error};

/// The state letter (`R`, `S`, `D`, `Z`, …) and the number of threads.
pub fn parse(input: &[u8]) -> Result<(u8, u64), Error> {
    let close = input.iter().rposition(|&b| b == b')').ok_or(Error::at(1, "no command name"))?;
    let mut it = Fields::new(&input[close + 1..]);
    let state = match it.next() {
        Some(&[s]) if s.is_ascii_alphabetic() => s,
        _ => return Err(Error::at(1, "no state")),
    };
    // Fields 4..=19 lie between the state and num_threads.
    let threads = it.nth(16).and_then(parse_u64).ok_or(Error::at(1, "no num_threads"))?;
    Ok((state, threads))
}

/// What the watchdog reads of a process: fields (3), (4), (14), (15),
/// (20), (22), (23) and (24) of proc(5), in their units (clock ticks,
/// bytes, pages).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    pub state: u8,
    pub ppid: u64,
    /// Clock ticks in user and in kernel mode.
    pub utime: u64,
    pub stime: u64,
    pub num_threads: u64,
    /// Clock ticks after boot at which it started: with the PID, what
    /// tells this process from a later one that got the same PID.
    pub starttime: u64,
    pub vsize: u64,
    /// Resident pages.
    pub rss: u64,
}

/// [`Stat`] of a /proc/PID/stat line.
pub fn stat(input: &[u8]) -> Result<Stat, Error> {
    let close = input.iter().rposition(|&b| b == b')').ok_or(Error::at(1, "no command name"))?;
    let mut it = Fields::new(&input[close + 1..]);
    let state = match it.next() {
        Some(&[s]) if s.is_ascii_alphabetic() => s,
        _ => return Err(Error::at(1, "no state")),
    };
    // Fields 4..=24 follow the state; 14 numbers are enough to keep.
    let mut f = [0u64; 21];
    for (i, slot) in f.iter_mut().enumerate() {
        let field = it.next().ok_or(Error::at(1, "cut short"))?;
        // (7) tty_nr, (16)..(19) may be negative; none of those is kept.
        *slot = match i + 4 {
            4 | 14 | 15 | 20 | 22 | 23 | 24 => parse_u64(field).ok_or(Error::at(1, "not a number"))?,
            _ => 0,
        };
    }
    Ok(Stat {
        state,
        ppid: f[0],
        utime: f[10],
        stime: f[11],
        num_threads: f[16],
        starttime: f[18],
        vsize: f[19],
        rss: f[20],
    })
}

/// The `Tgid:` of /proc/PID/status: the process a thread belongs to (a
/// PID from a pidfile may name a thread of another process, and
/// /proc/TID exists for threads too).
pub fn tgid(status: &[u8]) -> Option<u64> {
    crate::wire::lines(status).find_map(|(_, l)| parse_u64(l.strip_prefix(b"Tgid:")?.trim_ascii()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"1 (process (api)) S 0 1 1 0 -1 4194560 7093 2405 32 7 37 38 0 0 20 0 3 0 21 27066368 2849 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn parse_captured_pid_stat() {
        assert_eq!(parse(CAPTURED), Ok((b'S', 3)));
    }

    #[test]
    fn stat_reads_the_watched_fields() {
        let s = stat(CAPTURED).unwrap();
        assert_eq!(
            s,
            Stat {
                state: b'S',
                ppid: 0,
                utime: 37,
                stime: 38,
                num_threads: 3,
                starttime: 21,
                vsize: 27066368,
                rss: 2849
            }
        );
        for n in 0..CAPTURED.len() {
            let _ = stat(&CAPTURED[..n]);
        }
        assert!(stat(&CAPTURED[..80]).is_err());
        assert_eq!(tgid(b"Name:\tnginx\nUmask:\t0022\nState:\tS\nTgid:\t4242\nNgid:\t0\n"), Some(4242));
        assert_eq!(tgid(b"Tgid:\t-1\n"), None);
    }

    #[test]
    fn truncated_pid_stat_rejected() {
        for n in 0..CAPTURED.len() {
            let _ = parse(&CAPTURED[..n]);
        }
        assert!(parse(&CAPTURED[..60]).is_err());
        assert!(parse(b"1 (x) 5 0\n").is_err());
    }
}
