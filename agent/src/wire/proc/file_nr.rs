//! /proc/sys/fs/file-nr: `allocated\tunused\tmaximum` file handles
//! (proc(5), "file-nr"). Since Linux 2.6 the unused count is always 0.

use super::Fields;
use crate::wire::{parse_u64, Error};

/// The allocated, unused and maximum file handle counts.
pub fn parse(input: &[u8]) -> Result<[u64; 3], Error> {
    let line = input.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut it = Fields::new(line);
    let mut v = [0; 3];
    for slot in &mut v {
        *slot = it.next().and_then(parse_u64).ok_or(Error::at(1, "not three numbers"))?;
    }
    match it.next() {
        None => Ok(v),
        Some(_) => Err(Error::at(1, "more than three numbers")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_captured_file_nr() {
        assert_eq!(parse(b"3024\t0\t2466177\n"), Ok([3024, 0, 2_466_177]));
    }

    #[test]
    fn truncated_file_nr_rejected() {
        let full = b"3024\t0\t2466177\n";
        for n in 0..full.len() {
            let _ = parse(&full[..n]);
        }
        assert!(parse(b"3024\t0").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"1 2 3 4").is_err());
    }
}
