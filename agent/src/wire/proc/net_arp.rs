//! /proc/net/arp: the IPv4 neighbour table (net/ipv4/arp.c
//! `arp_seq_show`), one entry per line after a header.
//!
//! ```text
//! IP address       HW type     Flags       HW address            Mask     Device
//! 192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0
//! ```

use super::{text, Fields};
use crate::wire::{lines, Error};

/// The device of each entry, in file order; the header is skipped, and a
/// line without six fields is an error item.
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<&str, Error>> {
    lines(input).skip(1).filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace)).map(|(n, line)| {
        let mut it = Fields::new(line);
        let device = it.nth(5).and_then(text);
        match (device, it.next()) {
            (Some(device), None) => Ok(device),
            _ => Err(Error::at(n, "not an ARP entry")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"IP address       HW type     Flags       HW address            Mask     Device\n\
192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n\
192.0.2.7        0x1         0x0         00:00:00:00:00:00     *        br-lan\n";

    #[test]
    fn parse_captured_arp() {
        let got: Vec<_> = parse(CAPTURED).collect();
        assert_eq!(got, vec![Ok("eth0"), Ok("br-lan")]);
    }

    #[test]
    fn truncated_arp_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                let _ = item;
            }
        }
        assert!(parse(b"header\n192.0.2.1 0x1 0x2\n").next().unwrap().is_err());
    }
}
