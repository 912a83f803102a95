//! /proc/PID/stat and /proc/PID/task/TID/stat: a process's or thread's
//! status line (proc(5), "/proc/pid/stat").
//!
//! ```text
//! 1 (systemd) S 0 1 1 0 -1 4194560 ... 1 0 ...
//! ```
//!
//! The command name in parentheses may itself hold spaces and
//! parentheses, so the fields are counted from the last `)`. sonde reads
//! (3) the state and (20) num_threads.

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

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"1 (process (api)) S 0 1 1 0 -1 4194560 7093 2405 32 7 37 38 0 0 20 0 3 0 21 27066368 2849 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn parse_captured_pid_stat() {
        assert_eq!(parse(CAPTURED), Ok((b'S', 3)));
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
