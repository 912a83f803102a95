//! /proc/meminfo: `Key:   value kB` lines, or `Key: value` for counts
//! (`HugePages_Total`).
//!
//! Keys are passed on as the kernel spells them, parentheses included
//! (`Active(anon)`); turning them into metric names is the collector's job.

use crate::wire::{fields, lines, parse_u64, Error};

/// One line of meminfo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    pub key: &'a str,
    pub value: u64,
    /// The value is in KiB (the line ends in `kB`); otherwise a count.
    pub kib: bool,
}

/// The fields of a meminfo file, in order; a line that cannot be read is
/// an error item and the following lines still come.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Field<'_>, Error>> {
    lines(input)
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(n, line)| parse_line(line).ok_or(Error::at(n, "not a meminfo line")))
}

fn parse_line(line: &[u8]) -> Option<Field<'_>> {
    let colon = line.iter().position(|&b| b == b':')?;
    let key = std::str::from_utf8(&line[..colon]).ok()?;
    if key.is_empty() || key.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
        return None;
    }
    let mut rest = fields(&line[colon + 1..]);
    let value = parse_u64(rest.next()?)?;
    let kib = match rest.next() {
        None => false,
        Some(b"kB") => true,
        Some(_) => return None,
    };
    rest.next().is_none().then_some(Field { key, value, kib })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"MemTotal:       24630552 kB\n\
MemFree:        21861972 kB\n\
Active(anon):      41232 kB\n\
HugePages_Total:       0\n\
Hugepagesize:       2048 kB\n";

    #[test]
    fn parse_captured_meminfo() {
        let got: Vec<_> = parse(CAPTURED).collect();
        assert_eq!(
            got,
            vec![
                Ok(Field { key: "MemTotal", value: 24_630_552, kib: true }),
                Ok(Field { key: "MemFree", value: 21_861_972, kib: true }),
                Ok(Field { key: "Active(anon)", value: 41_232, kib: true }),
                Ok(Field { key: "HugePages_Total", value: 0, kib: false }),
                Ok(Field { key: "Hugepagesize", value: 2048, kib: true }),
            ]
        );
    }

    #[test]
    fn garbage_lines_are_reported_and_the_rest_kept() {
        let input = b"MemTotal: 10 kB\nthis is not meminfo\nMemFree: x kB\nBuffers: 5 kB\n";
        let got: Vec<_> = parse(input).collect();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].unwrap().value, 10);
        assert_eq!(got[1], Err(Error::at(2, "not a meminfo line")));
        assert_eq!(got[2], Err(Error::at(3, "not a meminfo line")));
        assert_eq!(got[3].unwrap().key, "Buffers");
    }

    #[test]
    fn truncated_meminfo_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        // A line cut after the colon is an error, not a zero.
        assert!(parse(b"MemTotal:").next().unwrap().is_err());
        assert!(parse(b"MemTotal: 1 MB").next().unwrap().is_err());
    }
}
