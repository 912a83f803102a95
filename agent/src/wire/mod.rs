//! Pure codecs over byte slices: no I/O, no clock, no panics.
//!
//! Every function here takes bytes that came from outside (a /proc file,
//! chronyd's command socket, a config file) and either returns values or an [`Error`]
//! that says which line went wrong. Nothing in this module reads a file,
//! touches a socket or looks at the time, so each codec is tested on
//! captured bytes and fuzzed on arbitrary ones. Every length or count read
//! from input is bounded where it is used; no input can make a codec
//! allocate in proportion to a number it contains.
//!
//! The rules every codec here follows:
//!
//! - **Nothing of sonde above this layer is imported**: a codec knows its
//!   format and nothing else. Its bounds live beside it as constants
//!   (`crate::limits` re-exports the ones an operator may ask about).
//! - **Errors**: a line-oriented text codec returns this module's
//!   [`Error`] (a line and a static reason); a binary codec, whose reader
//!   must tell the failures apart (a DNS reply cut short from one with a
//!   wrong ID), returns a small enum of its own (`dns::Bad`, `ntp::Bad`,
//!   `spool::Bad`); a reader of a human-written file names the offending
//!   text in its message ([`toml::Error`]). No codec returns `io::Error`
//!   or a `String` built for the caller's log.
//! - **Allocation**: fixed-layout formats are read through checked views
//!   that borrow the bytes (`chrony::Reply::new_checked`, smoltcp's shape);
//!   line formats iterate over borrowed lines; a codec that must build
//!   owned values (DNS names, a config tree) says so in its module doc and
//!   bounds how many it builds.
//! - **Emitting** writes into a caller's buffer and says how long the
//!   result is; it never grows a buffer past a bound it was given.

pub mod base64;
pub mod bcrypt;
pub mod chrony;
pub mod cidr;
pub mod date;
pub mod dns;
pub mod expfmt;
pub mod float;
pub mod glob;
pub mod hostport;
pub mod http;
pub mod icmp;
pub mod logstate;
pub mod ntp;
pub mod os_release;
pub mod proc;
pub mod prw;
pub mod regex;
pub mod resolv;
pub mod smtp;
pub mod spool;
pub mod state;
pub mod syslog;
pub mod textfile;
pub mod toml;
pub mod udev;
pub mod unbound;
pub mod x509;
pub mod yaml;

use std::fmt;

/// What went wrong, and on which line (1-based; 0 when the input has no
/// lines, such as a binary reply).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub what: &'static str,
}

impl Error {
    pub const fn at(line: usize, what: &'static str) -> Self {
        Error { line, what }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.what)
        } else {
            f.write_str(self.what)
        }
    }
}

/// Splits on b'\n', numbering lines from 1; a trailing newline adds no
/// empty line.
pub(crate) fn lines(input: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let input = input.strip_suffix(b"\n").unwrap_or(input);
    input.split(|&b| b == b'\n').enumerate().filter(move |_| !input.is_empty()).map(|(i, l)| (i + 1, l))
}

/// ASCII-whitespace separated fields of a line.
pub(crate) fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty())
}

/// A decimal u64, digits only: no sign, no spaces, no overflow.
pub(crate) fn parse_u64(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 20 {
        return None;
    }
    field.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// A finite decimal f64 as the kernel prints it (`0.21`, `12`).
pub(crate) fn parse_f64(field: &[u8]) -> Option<f64> {
    if field.is_empty() || field.len() > 64 {
        return None;
    }
    let v = float::parse(std::str::from_utf8(field).ok()?)?;
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_one() {
        let got: Vec<_> = lines(b"a\nb\n\nc\n").collect();
        assert_eq!(got, vec![(1, &b"a"[..]), (2, b"b"), (3, b""), (4, b"c")]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"x").count(), 1);
    }

    #[test]
    fn numbers_are_strict() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"1a"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_f64(b"0.21"), Some(0.21));
        assert_eq!(parse_f64(b"inf"), None);
        assert_eq!(parse_f64(b"NaN"), None);
    }
}
