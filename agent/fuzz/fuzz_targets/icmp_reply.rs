//! ICMP replies come from the network: a raw socket sees every echo
//! reply the host gets, anyone's. The parser must not panic in any of its
//! three readings (IPv4 with its header, ICMP, ICMPv6), and a reply it
//! accepts must lie within the bytes; an echo request emitted and turned
//! into a reply must read back as what was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::icmp::{checksum, emit_echo, parse_reply, ECHO_REPLY, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    for (v6, ip_header) in [(false, true), (false, false), (true, false)] {
        if let Ok(r) = parse_reply(v6, ip_header, data) {
            assert!(r.payload.len() + HEADER_LEN <= data.len());
            assert_eq!(r.ttl.is_some(), ip_header);
        }
    }
    let (id, seq) = (u16::from_be_bytes([data.first().copied().unwrap_or(0), 1]), data.len() as u16);
    let mut out = vec![0u8; HEADER_LEN + data.len()];
    let n = emit_echo(false, id, seq, data, &mut out).unwrap();
    assert_eq!(checksum(&out[..n]), 0);
    out[0] = ECHO_REPLY;
    out[2..4].copy_from_slice(&[0, 0]);
    let sum = checksum(&out[..n]);
    out[2..4].copy_from_slice(&sum.to_be_bytes());
    let r = parse_reply(false, false, &out[..n]).unwrap();
    assert_eq!((r.id, r.seq, r.payload), (id, seq, data));
});
