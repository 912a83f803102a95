//! /proc/net/stat/nf_conntrack: connection tracking event counters, a
//! header naming the columns and one line of hexadecimal values per CPU
//! (net/netfilter/nf_conntrack_standalone.c `ct_cpu_seq_show`).
//!
//! ```text
//! entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
//! 00000000  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000
//! ```
//!
//! The columns differ between kernels (`searched`, `new`, `delete_list`
//! came and went), so they are found by name.

use super::{parse_hex, Fields};
use crate::wire::{lines, Error};

/// The columns node_exporter exports, in its order.
pub const COLUMNS: [&str; 8] =
    ["found", "invalid", "ignore", "insert", "insert_failed", "drop", "early_drop", "search_restart"];

/// Each of [`COLUMNS`] summed over the CPUs; `None` if the header lacks it.
pub fn parse(input: &[u8]) -> Result<[Option<u64>; 8], Error> {
    let mut lines = lines(input);
    let (_, header) = lines.next().ok_or(Error::at(1, "no header"))?;
    // For each column of the file, which of COLUMNS it is.
    let mut which = [None; 32];
    let mut width = 0;
    for name in Fields::new(header) {
        if width == which.len() {
            return Err(Error::at(1, "more than 32 columns"));
        }
        which[width] = COLUMNS.iter().position(|c| c.as_bytes() == name);
        width += 1;
    }
    let mut sums: [Option<u64>; 8] = [None; 8];
    for (c, slot) in sums.iter_mut().enumerate() {
        *slot = which[..width].contains(&Some(c)).then_some(0);
    }
    for (n, line) in lines {
        let mut columns = 0;
        for (i, field) in Fields::new(line).enumerate() {
            let v = parse_hex(field).ok_or(Error::at(n, "not a hexadecimal column"))?;
            if let Some(Some(c)) = which.get(i) {
                sums[*c] = sums[*c].map(|s| s.saturating_add(v));
            }
            columns = i + 1;
        }
        if columns != width {
            return Err(Error::at(n, "not as many columns as the header"));
        }
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n\
00000000  00000000 00000001 00000000 00000002 00000000 00000000 00000000 00000003 00000000 00000000 00000000 00000000  00000000 00000000 00000000 0000000a\n\
00000000  00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000001\n";

    #[test]
    fn parse_captured_nf_conntrack_stat() {
        let got = parse(CAPTURED).unwrap();
        assert_eq!(got, [Some(2), Some(2), Some(0), Some(3), Some(0), Some(0), Some(0), Some(11)]);
    }

    #[test]
    fn a_column_missing_from_the_header_is_none() {
        let got = parse(b"entries found invalid\n1 2 3\n").unwrap();
        assert_eq!(got, [Some(2), Some(3), None, None, None, None, None, None]);
    }

    #[test]
    fn truncated_nf_conntrack_stat_never_panics() {
        for n in 0..CAPTURED.len() {
            let _ = parse(&CAPTURED[..n]);
        }
        assert!(parse(b"found invalid\n1\n").is_err());
        assert!(parse(b"").is_err());
    }
}
