//! /proc/pressure/{cpu,io,memory,irq}: pressure stall information
//! (Documentation/accounting/psi.rst).
//!
//! ```text
//! some avg10=0.00 avg60=0.35 avg300=3.43 total=235122732
//! full avg10=0.00 avg60=0.00 avg300=0.00 total=0
//! ```
//!
//! `total` is the stall time in microseconds since boot. `irq` has only a
//! `full` line; `cpu` has `full` since Linux 5.13 (always zero there).

use super::Fields;
use crate::wire::{lines, parse_u64, Error};

/// The `total` of each line, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pressure {
    pub some: Option<u64>,
    pub full: Option<u64>,
}

pub fn parse(input: &[u8]) -> Result<Pressure, Error> {
    let mut p = Pressure::default();
    for (n, line) in lines(input) {
        let mut it = Fields::new(line);
        let slot = match it.next() {
            Some(b"some") => &mut p.some,
            Some(b"full") => &mut p.full,
            Some(_) => return Err(Error::at(n, "neither a some nor a full line")),
            None => continue,
        };
        let total = it.find_map(|f| f.strip_prefix(b"total=")).and_then(parse_u64);
        *slot = Some(total.ok_or(Error::at(n, "no total=N"))?);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_captured_pressure() {
        let io = b"some avg10=0.00 avg60=0.00 avg300=0.00 total=11616314\n\
full avg10=0.00 avg60=0.00 avg300=0.00 total=10081687\n";
        assert_eq!(parse(io), Ok(Pressure { some: Some(11_616_314), full: Some(10_081_687) }));
        let irq = b"full avg10=0.00 avg60=0.00 avg300=0.00 total=42\n";
        assert_eq!(parse(irq), Ok(Pressure { some: None, full: Some(42) }));
    }

    #[test]
    fn truncated_pressure_never_panics() {
        let full = b"some avg10=0.00 avg60=0.35 avg300=3.43 total=235122732\nfull avg10=0.00 total=0\n";
        for n in 0..full.len() {
            let _ = parse(&full[..n]);
        }
        assert!(parse(b"some avg10=0.00\n").is_err());
        assert!(parse(b"most total=1\n").is_err());
        assert_eq!(parse(b""), Ok(Pressure::default()));
    }
}
