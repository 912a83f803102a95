//! /proc/net/softnet_stat: per-CPU packet processing counters, one line of
//! hexadecimal columns per online CPU (net/core/net-procfs.c
//! `softnet_seq_show`).
//!
//! Columns: 0 processed, 1 dropped, 2 time_squeeze, 3–7 always zero,
//! 8 cpu_collision, then received_rps (2.6.39), flow_limit_count (4.18),
//! backlog length and the CPU's index (5.14). Without the index column a
//! line's CPU is its position, as node_exporter numbers it.

use super::{parse_hex, Fields};
use crate::wire::{lines, Error};

/// One CPU's counters; the ones its kernel does not print are `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu {
    pub index: u64,
    pub processed: u64,
    pub dropped: u64,
    pub time_squeeze: u64,
    pub cpu_collision: u64,
    pub received_rps: Option<u64>,
    pub flow_limit_count: Option<u64>,
    pub backlog_len: Option<u64>,
}

/// The CPUs in file order; a line with fewer than 9 hexadecimal columns is
/// an error item.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Cpu, Error>> + '_ {
    lines(input).enumerate().map(|(i, (n, line))| {
        let mut col = [None; 13];
        let mut width = 0;
        for field in Fields::new(line).take(col.len()) {
            col[width] = Some(parse_hex(field).ok_or(Error::at(n, "not a hexadecimal column"))?);
            width += 1;
        }
        if width < 9 {
            return Err(Error::at(n, "fewer than 9 columns"));
        }
        let v = |i: usize| col[i].unwrap_or(0);
        Ok(Cpu {
            index: col[12].unwrap_or(i as u64),
            processed: v(0),
            dropped: v(1),
            time_squeeze: v(2),
            cpu_collision: v(8),
            received_rps: col[9],
            flow_limit_count: col[10],
            backlog_len: col[12].and(col[11]),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"000e4c0b 00000000 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n\
0009bf59 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000003 00000000 00000000 00000005 00000001 00000000 00000000\n";

    #[test]
    fn parse_captured_softnet_stat() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got[0].processed, 0xe4c0b);
        assert_eq!(got[0].time_squeeze, 2);
        assert_eq!(
            got[1],
            Cpu {
                index: 1,
                processed: 0x9bf59,
                dropped: 1,
                time_squeeze: 0,
                cpu_collision: 3,
                received_rps: Some(0),
                flow_limit_count: Some(0),
                backlog_len: Some(5)
            }
        );
    }

    #[test]
    fn old_kernels_number_cpus_by_line() {
        let got: Vec<_> = parse(b"1 2 3 0 0 0 0 0 4\n5 6 7 0 0 0 0 0 8 9\n").map(Result::unwrap).collect();
        assert_eq!((got[0].index, got[0].received_rps, got[0].backlog_len), (0, None, None));
        assert_eq!((got[1].index, got[1].received_rps), (1, Some(9)));
    }

    #[test]
    fn truncated_softnet_stat_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        assert!(parse(b"1 2 3\n").next().unwrap().is_err());
    }
}
