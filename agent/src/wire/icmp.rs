//! ICMP echo (RFC 792) and ICMPv6 echo (RFC 4443 §4): a request built
//! into a caller's buffer, a reply read from what a socket gave.
//!
//! An IPv4 raw socket hands over the IPv4 header too (RFC 791), which
//! carries the reply's TTL; a datagram ("ping") socket and any IPv6
//! socket hand over the ICMP message alone. ICMPv6's checksum covers a
//! pseudo-header of addresses this codec never sees, so the kernel fills
//! and checks it; ICMP's is computed and checked here (RFC 1071).
//!
//! Invariants: nothing here allocates or panics; a reply is a view of the
//! bytes it was read from.

/// Type and code of the echo messages.
pub const ECHO_REQUEST: u8 = 8;
pub const ECHO_REPLY: u8 = 0;
pub const ECHO_REQUEST_V6: u8 = 128;
pub const ECHO_REPLY_V6: u8 = 129;

/// Type, code, checksum, identifier, sequence number.
pub const HEADER_LEN: usize = 8;

/// Why bytes are not an echo reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// Shorter than its headers say, or than a header.
    Truncated,
    /// An IPv4 packet that is not ICMP, or whose header is broken.
    NotIcmp,
    /// Another ICMP message (an echo request seen on loopback, an error).
    NotEchoReply,
    Checksum,
}

/// An echo reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    pub id: u16,
    pub seq: u16,
    pub payload: &'a [u8],
    /// The IPv4 header's TTL, when it came with the reply.
    pub ttl: Option<u8>,
}

/// The Internet checksum (RFC 1071) of `bytes`: the ones' complement of
/// the ones' complement sum of its 16-bit words, an odd last byte padded
/// with zero.
pub fn checksum(bytes: &[u8]) -> u16 {
    let mut sum = 0u32;
    let mut words = bytes.chunks_exact(2);
    for w in words.by_ref() {
        sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes an echo request with `payload` into `out`: its length, or None
/// when `out` is too short. ICMPv6's checksum is left zero for the kernel.
pub fn emit_echo(v6: bool, id: u16, seq: u16, payload: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = HEADER_LEN + payload.len();
    let msg = out.get_mut(..len)?;
    msg[0] = if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST };
    msg[1] = 0;
    msg[2..4].copy_from_slice(&[0, 0]);
    msg[4..6].copy_from_slice(&id.to_be_bytes());
    msg[6..8].copy_from_slice(&seq.to_be_bytes());
    msg[HEADER_LEN..].copy_from_slice(payload);
    if !v6 {
        let sum = checksum(msg);
        msg[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    Some(len)
}

/// Reads an echo reply from `bytes`: an ICMPv6 message (`v6`), an ICMP
/// message, or (`ip_header`) an IPv4 packet carrying one.
pub fn parse_reply(v6: bool, ip_header: bool, bytes: &[u8]) -> Result<Reply<'_>, Bad> {
    let (msg, ttl) = if ip_header && !v6 {
        let first = *bytes.first().ok_or(Bad::Truncated)?;
        let ihl = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || ihl < 20 {
            return Err(Bad::NotIcmp);
        }
        let header = bytes.get(..ihl).ok_or(Bad::Truncated)?;
        let total = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if header[9] != 1 || total < ihl {
            return Err(Bad::NotIcmp);
        }
        // The kernel gives the packet as it came; one cut short by the
        // caller's buffer is not to be read.
        let packet = bytes.get(..total).ok_or(Bad::Truncated)?;
        (&packet[ihl..], Some(header[8]))
    } else {
        (bytes, None)
    };
    if msg.len() < HEADER_LEN {
        return Err(Bad::Truncated);
    }
    if msg[0] != if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY } || msg[1] != 0 {
        return Err(Bad::NotEchoReply);
    }
    // Fuzzing skips the checksum so that it reaches what lies past it.
    if !v6 && !cfg!(fuzzing) && checksum(msg) != 0 {
        return Err(Bad::Checksum);
    }
    Ok(Reply {
        id: u16::from_be_bytes([msg[4], msg[5]]),
        seq: u16::from_be_bytes([msg[6], msg[7]]),
        payload: &msg[HEADER_LEN..],
        ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Echo replies from 10.16.0.2 (and fd16::2) to sonde in a network
    /// namespace, as its sockets read them (`strace -s 300 -xx -e
    /// trace=recvmsg sonde --once`): a raw IPv4 socket's (the IPv4 header
    /// first, TTL 64; id 0xa276, sequence 0xc7f6), a datagram socket's
    /// (the id the kernel chose, 0x7ef8) and an IPv6 datagram socket's.
    /// Each payload is the run's nonce and "sonde " cut to 28 bytes.
    const RAW_V4: &[u8] = b"\x45\x00\x00\x38\xee\xb2\x00\x00\x40\x01\x77\xf0\x0a\x10\x00\x02\x0a\x10\x00\x01\
\x00\x00\xde\xe7\xa2\x76\xc7\xf6\x53\xbe\xb0\x32\xc7\xf6\xa2\x76sonde sonde sonde so";
    const DGRAM_V4: &[u8] = b"\x00\x00\xe1\xea\x7e\xf8\xef\xc9\xb0\xb2\xcf\x18\xef\xc9\xf7\x70sonde sonde sonde so";
    const DGRAM_V6: &[u8] = b"\x81\x00\xb6\xcd\x7e\xfa\x48\x86\xeb\x6c\x30\x90\x48\x86\x59\x52sonde sonde sonde so";

    #[test]
    fn parse_captured_echo_replies() {
        let r = parse_reply(false, true, RAW_V4).unwrap();
        assert_eq!((r.id, r.seq, r.ttl), (0xa276, 0xc7f6, Some(64)));
        assert_eq!(r.payload, b"\x53\xbe\xb0\x32\xc7\xf6\xa2\x76sonde sonde sonde so");
        // Without its IPv4 header it reads the same but for the TTL.
        let icmp = parse_reply(false, false, &RAW_V4[20..]).unwrap();
        assert_eq!((icmp.id, icmp.seq, icmp.payload, icmp.ttl), (r.id, r.seq, r.payload, None));
        let d = parse_reply(false, false, DGRAM_V4).unwrap();
        assert_eq!((d.id, d.seq, d.payload.len(), d.ttl), (0x7ef8, 0xefc9, 28, None));
        let v6 = parse_reply(true, false, DGRAM_V6).unwrap();
        assert_eq!((v6.id, v6.seq, v6.payload.len()), (0x7efa, 0x4886, 28));
        assert_eq!(parse_reply(false, false, DGRAM_V6), Err(Bad::NotEchoReply), "ICMPv6 is not ICMP");
    }

    #[test]
    fn truncated_replies_rejected() {
        for n in 0..RAW_V4.len() {
            assert!(parse_reply(false, true, &RAW_V4[..n]).is_err(), "{n}");
        }
        for n in 0..HEADER_LEN {
            assert_eq!(parse_reply(true, false, &DGRAM_V6[..n]), Err(Bad::Truncated), "{n}");
        }
        // A cut ICMP message fails its checksum (the kernel never cuts one
        // short of the length it reports).
        for n in HEADER_LEN..DGRAM_V4.len() {
            assert_eq!(parse_reply(false, false, &DGRAM_V4[..n]), Err(Bad::Checksum), "{n}");
        }
    }

    #[test]
    fn a_request_echoed_back_reads_as_a_reply() {
        let mut out = [0u8; 64];
        let n = emit_echo(false, 0x1f3a, 7, b"payload", &mut out).unwrap();
        assert_eq!(n, 15);
        assert_eq!(checksum(&out[..n]), 0, "the checksum field makes the sum zero");
        assert_eq!(parse_reply(false, false, &out[..n]), Err(Bad::NotEchoReply), "a request is not a reply");
        // What the peer sends back: type 0, the checksum adjusted by the
        // type's 8 (RFC 1624's incremental update, here recomputed).
        out[0] = ECHO_REPLY;
        out[2..4].copy_from_slice(&[0, 0]);
        let sum = checksum(&out[..n]);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
        let r = parse_reply(false, false, &out[..n]).unwrap();
        assert_eq!((r.id, r.seq, r.payload), (0x1f3a, 7, &b"payload"[..]));
        out[9] ^= 1;
        assert_eq!(parse_reply(false, false, &out[..n]), Err(Bad::Checksum));
        assert_eq!(emit_echo(true, 1, 2, &[0; 60], &mut out), None, "too small a buffer");
        let n = emit_echo(true, 1, 2, b"v6", &mut out).unwrap();
        assert_eq!(&out[..4], &[ECHO_REQUEST_V6, 0, 0, 0], "the kernel fills ICMPv6's checksum");
        out[0] = ECHO_REPLY_V6;
        assert_eq!(parse_reply(true, false, &out[..n]).unwrap().payload, b"v6");
    }

    #[test]
    fn checksum_of_rfc_1071_example() {
        // RFC 1071 §3's bytes: 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
        assert_eq!(checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), !0xddf2);
        assert_eq!(checksum(&[0xff]), !0xff00);
    }
}
