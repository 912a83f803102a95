//! Files that hold one number: /proc/sys/fs/… and /proc/sys/kernel/…
//! (`entropy_avail`, `pid_max`, `nf_conntrack_count`) and sysfs attributes
//! (`mtu`, `carrier`, `temp1_input`; `flags` and `dev_id` in hex).
//!
//! The number is the first line, surrounding whitespace ignored; anything
//! else on that line, or an empty file, is an error. sysfs documents one
//! value per attribute file (Documentation/filesystems/sysfs.rst).

use super::{parse_hex, parse_i64};
use crate::wire::Error;

fn first_line(input: &[u8]) -> &[u8] {
    let line = input.split(|&b| b == b'\n').next().unwrap_or_default();
    line.trim_ascii()
}

/// A decimal integer, possibly negative (`speed` is -1 on a link that is
/// down; a temperature can be below zero).
pub fn parse(input: &[u8]) -> Result<i64, Error> {
    parse_i64(first_line(input)).ok_or(Error::at(1, "not a decimal number"))
}

/// A hexadecimal number, `0x` optional (`flags`, `dev_id`).
pub fn parse_hex_value(input: &[u8]) -> Result<u64, Error> {
    parse_hex(first_line(input)).ok_or(Error::at(1, "not a hexadecimal number"))
}

/// The first line as text, trimmed (`operstate`, `address`, a sensor's
/// `label`): empty if it is not UTF-8.
pub fn text(input: &[u8]) -> &str {
    std::str::from_utf8(first_line(input)).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_captured_attributes() {
        assert_eq!(parse(b"262144\n"), Ok(262_144));
        assert_eq!(parse(b"-1\n"), Ok(-1));
        assert_eq!(parse_hex_value(b"0x1003\n"), Ok(4099));
        assert_eq!(text(b"up\n"), "up");
        assert_eq!(text(b"02:fc:00:00:00:01\n"), "02:fc:00:00:00:01");
    }

    #[test]
    fn truncated_numbers_never_panic() {
        let full = b"4194304\n";
        for n in 0..full.len() {
            let _ = parse(&full[..n]);
        }
        assert!(parse(b"").is_err());
        assert!(parse(b"12 13\n").is_err());
        assert!(parse(b"\n12\n").is_err());
        assert!(parse_hex_value(b"0xZ\n").is_err());
    }
}
