//! /proc/net/udp and /proc/net/udp6: one UDP socket per line after a
//! header (net/ipv4/udp.c `udp4_format_sock`); sonde reads only the queue
//! column, `tx_queue:rx_queue` in hexadecimal bytes.
//!
//! ```text
//!    sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
//!   145: 0100007F:2C3A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 228967 2 000000004fb60d68 0
//! ```

use super::{parse_hex, Fields};
use crate::wire::{lines, Error};

/// The bytes queued for sending and for receiving, summed over the
/// sockets. A line that cannot be read fails the whole file: a partial
/// sum would be a wrong number, not a smaller one.
pub fn parse(input: &[u8]) -> Result<(u64, u64), Error> {
    let mut tx = 0u64;
    let mut rx = 0u64;
    for (n, line) in lines(input).skip(1) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let queues = Fields::new(line).nth(4).ok_or(Error::at(n, "no queue column"))?;
        let colon = queues.iter().position(|&b| b == b':').ok_or(Error::at(n, "no tx:rx queues"))?;
        let t = parse_hex(&queues[..colon]).ok_or(Error::at(n, "tx_queue is not hexadecimal"))?;
        let r = parse_hex(&queues[colon + 1..]).ok_or(Error::at(n, "rx_queue is not hexadecimal"))?;
        tx = tx.saturating_add(t);
        rx = rx.saturating_add(r);
    }
    Ok((tx, rx))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = b"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n\
  145: 0100007F:2C3A 00000000:0000 07 00000000:00000100 00:00000000 00000000     0        0 228967 2 000000004fb60d68 0        \n\
  146: 0100007F:2C3B 00000000:0000 07 00000010:00000001 00:00000000 00000000     0        0 228960 2 000000000e1164ea 0        \n";

    #[test]
    fn parse_captured_udp() {
        assert_eq!(parse(CAPTURED), Ok((0x10, 0x101)));
        let header = CAPTURED.iter().position(|&b| b == b'\n').unwrap() + 1;
        assert_eq!(parse(&CAPTURED[..header]), Ok((0, 0)));
    }

    #[test]
    fn truncated_udp_never_panics() {
        for n in 0..CAPTURED.len() {
            let _ = parse(&CAPTURED[..n]);
        }
        assert!(parse(b"h\n 0: a b 07 zz:00\n").is_err());
    }
}
