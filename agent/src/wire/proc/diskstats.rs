//! /proc/diskstats: I/O counters per block device
//! (Documentation/admin-guide/iostats.rst).
//!
//! ```text
//!  254       0 vda 28693 5653 3288906 45020 27036 110610 19246368 90702 0 22856 139036 20292 40 6901056 3279 1707 33
//! ```
//!
//! After major, minor and name come 11 counters (reads completed, merged,
//! sectors, ms; writes the same four; I/Os in progress, ms doing I/O,
//! weighted ms), then 4 for discards (4.18) and 2 for flushes (5.5). Linux
//! 2.6 printed 4 for partitions. Counters the kernel does not print are
//! absent, not zero; later columns are not known here and are ignored.

use super::{text, Fields};
use crate::wire::{lines, parse_u64, Error};

/// One device's line; `stats[..count]` are the counters it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disk<'a> {
    pub major: u64,
    pub minor: u64,
    pub name: &'a str,
    pub stats: [u64; 17],
    pub count: usize,
}

/// The devices in file order; a line that cannot be read is an error item.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Disk<'_>, Error>> {
    lines(input)
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(n, line)| parse_line(line).ok_or(Error::at(n, "not a diskstats line")))
}

fn parse_line(line: &[u8]) -> Option<Disk<'_>> {
    let mut it = Fields::new(line);
    let major = parse_u64(it.next()?)?;
    let minor = parse_u64(it.next()?)?;
    let name = text(it.next()?)?;
    let mut stats = [0; 17];
    let mut count = 0;
    for field in it.take(stats.len()) {
        stats[count] = parse_u64(field)?;
        count += 1;
    }
    (count >= 4).then_some(Disk { major, minor, name, stats, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n\
 254       0 vda 28693 5653 3288906 45020 27036 110610 19246368 90702 0 22856 139036 20292 40 6901056 3279 1707 33\n\
   8       1 sda1 35486 2839 34 1\n";

    #[test]
    fn parse_captured_diskstats() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got.len(), 3);
        assert_eq!((got[1].major, got[1].minor, got[1].name, got[1].count), (254, 0, "vda", 17));
        assert_eq!(got[1].stats[2], 3_288_906);
        assert_eq!(got[1].stats[16], 33);
        assert_eq!((got[2].name, got[2].count, got[2].stats[4]), ("sda1", 4, 0));
    }

    #[test]
    fn truncated_diskstats_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        assert!(parse(b"8 0 sda 1 2\n").next().unwrap().is_err());
        assert!(parse(b"8 x sda 1 2 3 4\n").next().unwrap().is_err());
    }
}
