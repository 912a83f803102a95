//! /proc/net/dev: per network device counters (proc(5), "/proc/net/dev";
//! net/core/net-procfs.c `dev_seq_printf_stats`).
//!
//! ```text
//! Inter-|   Receive                                                |  Transmit
//!  face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
//!     lo: 2064377540 1550463    0    0    0     0          0         0 2064377540 1550463    0    0    0     0       0          0
//! ```
//!
//! The kernel already sums what node_exporter's netlink path sums by hand:
//! `drop` is rx_dropped + rx_missed_errors, `frame` is the length, over,
//! CRC and frame errors, `carrier` is the carrier, aborted, window and
//! heartbeat errors; so these are node_exporter's names as they are.

use super::{text, Fields};
use crate::wire::{lines, parse_u64, Error};

/// Names of the receive columns, in file order.
pub const RECEIVE: [&str; 8] = ["bytes", "packets", "errs", "drop", "fifo", "frame", "compressed", "multicast"];
/// Names of the transmit columns, in file order.
pub const TRANSMIT: [&str; 8] = ["bytes", "packets", "errs", "drop", "fifo", "colls", "carrier", "compressed"];

/// One device's line: the 8 receive then the 8 transmit counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Device<'a> {
    pub name: &'a str,
    pub stats: [u64; 16],
}

/// The devices in file order; the two header lines are skipped, and a
/// line that cannot be read is an error item.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Device<'_>, Error>> {
    lines(input)
        .filter(|(_, l)| !l.contains(&b'|') && !l.iter().all(u8::is_ascii_whitespace))
        .map(|(n, line)| parse_line(line).ok_or(Error::at(n, "not a device line")))
}

fn parse_line(line: &[u8]) -> Option<Device<'_>> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = text(line[..colon].trim_ascii())?;
    if name.is_empty() {
        return None;
    }
    let mut it = Fields::new(&line[colon + 1..]);
    let mut stats = [0; 16];
    for slot in &mut stats {
        *slot = parse_u64(it.next()?)?;
    }
    it.next().is_none().then_some(Device { name, stats })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from a Debian 12 VM (kernel 6.18).
    const CAPTURED: &[u8] = b"Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 2064377540 1550463    0    0    0     0          0         0 2064377540 1550463    0    0    0     0       0          0
  eth0: 397555796   16369    1    2    3     4          5         6   953179   12729    7    8    9    10      11         12
";

    #[test]
    fn parse_captured_net_dev() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name, "lo");
        assert_eq!(
            got[1],
            Device { name: "eth0", stats: [397_555_796, 16369, 1, 2, 3, 4, 5, 6, 953_179, 12729, 7, 8, 9, 10, 11, 12] }
        );
    }

    #[test]
    fn truncated_net_dev_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        // A line cut short is an error, not a device with zeros.
        assert!(parse(b"eth0: 1 2 3\n").next().unwrap().is_err());
        assert!(parse(b": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n").next().unwrap().is_err());
        assert!(parse(b"eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n").next().unwrap().is_err());
    }
}
