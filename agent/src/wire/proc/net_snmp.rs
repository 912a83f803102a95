//! /proc/net/snmp and /proc/net/netstat: protocol counters as pairs of
//! lines, a header naming the fields and a line of values
//! (net/ipv4/proc.c `snmp_seq_show`, `netstat_seq_show`).
//!
//! ```text
//! Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
//! Udp: 9439 11126 0 20669 0 0 0 0 0
//! ```
//!
//! Values are signed: `Tcp: MaxConn` is -1 (no limit).

use super::{parse_i64, text, Fields};
use crate::wire::Error;

/// One counter: `Udp`, `InErrors`, its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter<'a> {
    pub proto: &'a str,
    pub name: &'a str,
    pub value: i64,
}

/// The counters in file order. A header and value line that disagree (on
/// the protocol or the number of fields), or a value that is not a number,
/// is an error item; the next pair still comes.
pub fn parse(input: &[u8]) -> Counters<'_> {
    Counters { lines: input, line: 0, pair: None }
}

pub struct Counters<'a> {
    /// The input not yet split into lines.
    lines: &'a [u8],
    /// Number of the last line taken from `lines`.
    line: usize,
    /// The pair being read: protocol, names, values, value line number.
    pair: Option<(&'a str, Fields<'a>, Fields<'a>, usize)>,
}

impl<'a> Counters<'a> {
    fn next_line(&mut self) -> Option<&'a [u8]> {
        if self.lines.is_empty() {
            return None;
        }
        let end = self.lines.iter().position(|&b| b == b'\n').unwrap_or(self.lines.len());
        let line = &self.lines[..end];
        self.lines = self.lines.get(end + 1..).unwrap_or_default();
        self.line += 1;
        Some(line)
    }
}

/// `Proto: rest`, split.
fn split_proto(line: &[u8]) -> Option<(&str, &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let proto = text(&line[..colon])?;
    (!proto.is_empty() && !proto.contains(|c: char| c.is_ascii_whitespace())).then_some((proto, &line[colon + 1..]))
}

impl<'a> Iterator for Counters<'a> {
    type Item = Result<Counter<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((proto, names, values, n)) = &mut self.pair {
                match (names.next(), values.next()) {
                    (Some(name), Some(value)) => {
                        let (proto, n) = (*proto, *n);
                        let counter = text(name).zip(parse_i64(value));
                        return Some(
                            counter
                                .map(|(name, value)| Counter { proto, name, value })
                                .ok_or(Error::at(n, "not a counter")),
                        );
                    }
                    (None, None) => self.pair = None,
                    _ => {
                        let n = *n;
                        self.pair = None;
                        return Some(Err(Error::at(n, "header and values differ in length")));
                    }
                }
            }
            let header = loop {
                let line = self.next_line()?;
                if !line.iter().all(u8::is_ascii_whitespace) {
                    break line;
                }
            };
            let header_line = self.line;
            let Some(values) = self.next_line() else {
                return Some(Err(Error::at(header_line, "header without values")));
            };
            match (split_proto(header), split_proto(values)) {
                (Some((p, names)), Some((q, values))) if p == q => {
                    self.pair = Some((p, Fields::new(names), Fields::new(values), self.line));
                }
                _ => return Some(Err(Error::at(self.line, "not a header and values pair"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from a Debian 12 VM (kernel 6.18), shortened.
    const CAPTURED: &[u8] = b"Ip: Forwarding DefaultTTL InReceives\n\
Ip: 2 64 1552307\n\
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens\n\
Tcp: 1 200 120000 -1 78422\n\
Udp: InDatagrams NoPorts InErrors\n\
Udp: 9439 11126 0\n";

    #[test]
    fn parse_captured_snmp() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got.len(), 11);
        assert_eq!(got[0], Counter { proto: "Ip", name: "Forwarding", value: 2 });
        assert_eq!(got[6], Counter { proto: "Tcp", name: "MaxConn", value: -1 });
        assert_eq!(got[10], Counter { proto: "Udp", name: "InErrors", value: 0 });
    }

    #[test]
    fn a_bad_pair_is_reported_and_the_next_still_read() {
        let got: Vec<_> = parse(b"Ip: A B\nIp: 1\nUdp: X\nUdp: 7\n").collect();
        assert_eq!(got[0], Ok(Counter { proto: "Ip", name: "A", value: 1 }));
        assert_eq!(got[1], Err(Error::at(2, "header and values differ in length")));
        assert_eq!(got[2], Ok(Counter { proto: "Udp", name: "X", value: 7 }));
        let got: Vec<_> = parse(b"Ip: A\nTcp: 1\n").collect();
        assert_eq!(got, vec![Err(Error::at(2, "not a header and values pair"))]);
    }

    #[test]
    fn truncated_snmp_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        assert_eq!(parse(b"Ip: A B\n").next(), Some(Err(Error::at(1, "header without values"))));
        assert_eq!(parse(b"").next(), None);
    }
}
