//! /proc/net/sockstat and /proc/net/sockstat6: sockets in use per protocol
//! (net/ipv4/proc.c `sockstat_seq_show`, net/ipv6/proc.c
//! `sockstat6_seq_show`).
//!
//! ```text
//! sockets: used 27
//! TCP: inuse 4 orphan 0 tw 0 alloc 4 mem 84
//! UDP: inuse 5 mem 0
//! FRAG: inuse 0 memory 0
//! ```
//!
//! `mem` is in pages, `memory` (FRAG) in bytes.

use super::{text, Fields};
use crate::wire::{lines, parse_u64, Error};

/// One `key value` of a protocol's line: `TCP`, `inuse`, 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat<'a> {
    pub proto: &'a str,
    pub key: &'a str,
    pub value: u64,
}

/// The values in file order. A line without `PROTO:` or whose rest is not
/// `key value` pairs is one error item; its good pairs before the fault
/// still come.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Stat<'_>, Error>> {
    lines(input).filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace)).flat_map(|(n, line)| {
        let (proto, rest) = match line.iter().position(|&b| b == b':') {
            Some(colon) => (text(&line[..colon]).filter(|p| !p.is_empty()), &line[colon + 1..]),
            None => (None, &b""[..]),
        };
        let mut fields = Fields::new(rest);
        let mut failed = proto.is_none();
        std::iter::from_fn(move || {
            if failed {
                failed = false;
                // Reported once; `proto` None ends the line below.
                return Some(Err(Error::at(n, "not a sockstat line")));
            }
            let proto = proto?;
            let key = fields.next()?;
            let stat = fields.next().and_then(parse_u64).zip(text(key));
            match stat {
                Some((value, key)) => Some(Ok(Stat { proto, key, value })),
                None => {
                    fields = Fields::new(b"");
                    Some(Err(Error::at(n, "not a sockstat line")))
                }
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"sockets: used 27\n\
TCP: inuse 4 orphan 0 tw 0 alloc 4 mem 84\n\
UDP: inuse 5 mem 0\n\
UDPLITE: inuse 0\n\
RAW: inuse 0\n\
FRAG: inuse 0 memory 0\n";

    #[test]
    fn parse_captured_sockstat() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got.len(), 12);
        assert_eq!(got[0], Stat { proto: "sockets", key: "used", value: 27 });
        assert_eq!(got[5], Stat { proto: "TCP", key: "mem", value: 84 });
        assert_eq!(got[11], Stat { proto: "FRAG", key: "memory", value: 0 });
    }

    #[test]
    fn a_garbage_line_is_one_error() {
        let got: Vec<_> = parse(b"TCP: inuse 4 orphan x tw 0\ngarbage\nUDP: inuse 1\n").collect();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], Ok(Stat { proto: "TCP", key: "inuse", value: 4 }));
        assert_eq!(got[1], Err(Error::at(1, "not a sockstat line")));
        assert_eq!(got[2], Err(Error::at(2, "not a sockstat line")));
        assert_eq!(got[3], Ok(Stat { proto: "UDP", key: "inuse", value: 1 }));
    }

    #[test]
    fn truncated_sockstat_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
    }
}
