//! /proc/loadavg: `0.21 0.37 0.39 1/719 19737`.
//!
//! Only the three load averages are read; the running/total task counts
//! and the last PID follow them and are ignored.

use crate::wire::{fields, parse_f64, Error};

/// The 1, 5 and 15 minute load averages.
pub fn parse(input: &[u8]) -> Result<[f64; 3], Error> {
    let line = input.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut it = fields(line);
    let mut load = [0.0; 3];
    for slot in &mut load {
        let field = it.next().ok_or(Error::at(1, "fewer than three load averages"))?;
        let v = parse_f64(field).ok_or(Error::at(1, "load average is not a number"))?;
        if v < 0.0 {
            return Err(Error::at(1, "negative load average"));
        }
        *slot = v;
    }
    Ok(load)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_captured_loadavg() {
        assert_eq!(parse(b"0.21 0.37 0.39 1/719 19737\n"), Ok([0.21, 0.37, 0.39]));
    }

    #[test]
    fn truncated_loadavg_rejected() {
        let full = b"0.21 0.37 0.39 1/719 19737\n";
        // Every prefix that cuts into the third number's field is either
        // rejected or reads a shorter number; none panics.
        for n in 0..full.len() {
            let _ = parse(&full[..n]);
        }
        assert!(parse(b"0.21 0.37").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"a b c").is_err());
        assert!(parse(b"-1 0 0").is_err());
    }
}
