//! /proc/schedstat: the scheduler's per-CPU statistics
//! (Documentation/scheduler/sched-stats.rst; kernel/sched/stats.c
//! `show_schedstat`). Present with CONFIG_SCHEDSTATS.
//!
//! ```text
//! version 15
//! timestamp 4318109468
//! cpu0 0 0 0 0 0 0 2045936778163039 343796328169361 4767485306
//! domain0 00000000,00000003 212499247 210112015 …
//! ```
//!
//! Of a `cpuN` line, the 7th, 8th and 9th numbers are the time tasks ran
//! on that CPU, the time they waited to run on it (both nanoseconds,
//! though the document once said jiffies) and the number of timeslices
//! run. Versions 15 to 17 print them in the same place; like
//! node_exporter (prometheus/procfs `Schedstat`), the version line is not
//! checked, and the `version`, `timestamp` and `domainN` lines are
//! skipped.

use super::Fields;
use crate::wire::{lines, parse_u64, Error};

/// One `cpuN` line's three counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cpu<'a> {
    /// The digits after `cpu`.
    pub cpu: &'a str,
    /// Running and waiting nanoseconds, and timeslices.
    pub columns: [u64; 3],
}

/// The `cpuN` lines in file order; one with fewer than nine numbers after
/// its name is an error item.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Cpu<'_>, Error>> {
    lines(input).filter_map(|(n, line)| {
        let mut it = Fields::new(line);
        let id = it.next()?.strip_prefix(b"cpu")?;
        Some(cpu(id, it).ok_or(Error::at(n, "not a 'cpuN' line of nine numbers")))
    })
}

fn cpu<'a>(id: &'a [u8], mut it: Fields<'a>) -> Option<Cpu<'a>> {
    if id.is_empty() || !id.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut column = [0u64; 9];
    for slot in &mut column {
        *slot = parse_u64(it.next()?)?;
    }
    Some(Cpu { cpu: std::str::from_utf8(id).ok()?, columns: [column[6], column[7], column[8]] })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// node_exporter's collector/fixtures/proc/schedstat (Apache-2.0),
    /// as tests/fixtures/node_exporter holds it.
    const CAPTURED: &[u8] = include_bytes!("../../../../tests/fixtures/node_exporter/proc/schedstat");

    #[test]
    fn parse_captured_schedstat() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(
            got,
            [
                Cpu { cpu: "0", columns: [2045936778163039, 343796328169361, 4767485306] },
                Cpu { cpu: "1", columns: [1904686152592476, 364107263788241, 5145567945] },
            ]
        );
    }

    #[test]
    fn truncated_schedstat_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                if let Err(e) = item {
                    assert!(e.line >= 3, "{e}");
                }
            }
        }
        // A cut cpu line is an error; other lines are not looked at.
        let got: Vec<_> = parse(b"version 17\ncpu3 1 2 3\ncpu 1 2 3 4 5 6 7 8 9\nfoo\n").collect();
        let what = "not a 'cpuN' line of nine numbers";
        assert_eq!(got, [Err(Error::at(2, what)), Err(Error::at(3, what))]);
        assert_eq!(parse(b"cpu12 0 0 0 0 0 0 7 8 9 10\n").next(), Some(Ok(Cpu { cpu: "12", columns: [7, 8, 9] })));
    }
}
