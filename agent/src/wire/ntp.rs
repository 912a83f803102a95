//! The NTP packet as a client sends and checks it (RFC 5905 §7.3, with
//! the client-side tests of §8 "On-Wire Protocol" and RFC 9109's advice
//! on the transmit timestamp).
//!
//! ```text
//! 0      LI:2 VN:3 Mode:3 | Stratum:8 | Poll:8 | Precision:8
//! 4      Root Delay (NTP short format: 16.16 seconds)
//! 8      Root Dispersion (16.16)
//! 12     Reference ID
//! 16     Reference Timestamp (NTP timestamp format: 32.32 seconds since 1900)
//! 24     Origin Timestamp
//! 32     Receive Timestamp
//! 40     Transmit Timestamp
//! 48     extension fields / MAC (ignored)
//! ```
//!
//! A client request carries only LI=0, VN=4, Mode=3 and a transmit
//! timestamp. That timestamp is a random 64-bit value, not the clock
//! (RFC 9109 §3.1 / draft-ietf-ntp-data-minimization): the server echoes
//! it as the origin timestamp, so it works as a nonce that an off-path
//! forger cannot guess, and the client keeps its real send time (T1) to
//! itself.
//!
//! Invariants: never panics on any input (fuzzed:
//! `fuzz/fuzz_targets/ntp_reply.rs`); every arithmetic on timestamps is
//! wrapping on the 64-bit fixed point, so offsets across an era boundary
//! (2036) come out right for any two times within 68 years of each other.

pub const PACKET_LEN: usize = 48;
/// Mode values (RFC 5905 Figure 10).
pub const MODE_CLIENT: u8 = 3;
pub const MODE_SERVER: u8 = 4;
/// LI value meaning "clock unsynchronized" (RFC 5905 Figure 9).
pub const LEAP_UNSYNCHRONIZED: u8 = 3;
/// RFC 5905 §7.3 MAXSTRAT: 16 is unsynchronized; 0 is a kiss-o'-death.
pub const MAX_STRATUM: u8 = 15;
/// RFC 5905 Appendix A.1.1 MAXDIST: a server further than this from its
/// reference is not fit to synchronise to.
pub const MAX_DISTANCE: f64 = 1.5;

/// The 48-octet client request.
pub fn emit_request(transmit: u64) -> [u8; PACKET_LEN] {
    let mut p = [0u8; PACKET_LEN];
    p[0] = 4 << 3 | MODE_CLIENT;
    p[40..48].copy_from_slice(&transmit.to_be_bytes());
    p
}

/// Seconds from an NTP short (16.16) value.
fn short(v: u32) -> f64 {
    f64::from(v) / 65536.0
}

/// `a - b` in seconds, both NTP timestamps (32.32), modulo the era: the
/// wrapping difference read as signed is right across 2036.
pub fn diff(a: u64, b: u64) -> f64 {
    a.wrapping_sub(b) as i64 as f64 / 4_294_967_296.0
}

/// An NTP timestamp from Unix seconds and nanoseconds.
pub fn from_unix(secs: u64, nanos: u32) -> u64 {
    // 1900-01-01 to 1970-01-01 (RFC 5905 Figure 4 / RFC 868).
    const UNIX_EPOCH: u64 = 2_208_988_800;
    let s = secs.wrapping_add(UNIX_EPOCH) << 32;
    let f = (u64::from(nanos.min(999_999_999)) << 32) / 1_000_000_000;
    s | f
}

/// Why a reply is not one to trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// Fewer than 48 octets.
    Truncated,
    /// Not mode 4, or a version outside 1–4.
    NotServer,
    /// The origin timestamp is not our transmit nonce: stale, duplicate or forged.
    WrongOrigin,
    /// Stratum 0: a kiss-o'-death (RFC 5905 §7.4); the code is in the reference ID.
    KissOfDeath([u8; 4]),
    /// Stratum 16 and above, or LI = 3: the server has no time to give.
    Unsynchronized,
    /// Root delay / 2 + root dispersion above [`MAX_DISTANCE`].
    TooFar,
    /// A zero receive or transmit timestamp, or the server answering
    /// before it received.
    BadTimestamps,
}

impl Bad {
    pub fn what(self) -> &'static str {
        match self {
            Bad::Truncated => "truncated",
            Bad::NotServer => "not a server reply",
            Bad::WrongOrigin => "origin timestamp is not ours",
            Bad::KissOfDeath(_) => "kiss-o'-death",
            Bad::Unsynchronized => "server unsynchronized",
            Bad::TooFar => "root distance too large",
            Bad::BadTimestamps => "bad timestamps",
        }
    }
}

/// A server reply that passed the client's tests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reply {
    pub leap: u8,
    pub version: u8,
    pub stratum: u8,
    pub poll: i8,
    pub precision: i8,
    /// Seconds.
    pub root_delay: f64,
    pub root_dispersion: f64,
    pub reference_id: [u8; 4],
    pub reference: u64,
    /// T2, T3: when the server received the request and sent the reply.
    pub receive: u64,
    pub transmit: u64,
}

impl Reply {
    /// RFC 5905 §10 root distance, without the local terms: half the root
    /// delay plus the root dispersion.
    pub fn root_distance(&self) -> f64 {
        self.root_delay / 2.0 + self.root_dispersion
    }

    /// Clock offset θ and round-trip delay δ (RFC 5905 §8) given our own
    /// send (T1) and receive (T4) times. Delay is never negative: a
    /// server whose processing time exceeds the round trip is reported at
    /// zero, as RFC 5905's `max(δ, ρ)` floors it.
    pub fn offset_delay(&self, t1: u64, t4: u64) -> (f64, f64) {
        let offset = (diff(self.receive, t1) + diff(self.transmit, t4)) / 2.0;
        let delay = (diff(t4, t1) - diff(self.transmit, self.receive)).max(0.0);
        (offset, delay)
    }
}

/// Parses `buf` as the server's answer to the request whose transmit
/// timestamp was `sent`, applying the client tests in the order of
/// RFC 5905 §8: format, origin (the bogus/replay test), then the server's
/// fitness (stratum, leap, distance).
pub fn parse_reply(buf: &[u8], sent: u64) -> Result<Reply, Bad> {
    let p = buf.get(..PACKET_LEN).ok_or(Bad::Truncated)?;
    let be32 = |at: usize| u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]);
    let be64 = |at: usize| u64::from(be32(at)) << 32 | u64::from(be32(at + 4));
    let leap = p[0] >> 6;
    let version = (p[0] >> 3) & 7;
    if p[0] & 7 != MODE_SERVER || !(1..=4).contains(&version) {
        return Err(Bad::NotServer);
    }
    if be64(24) != sent {
        return Err(Bad::WrongOrigin);
    }
    let reference_id = [p[12], p[13], p[14], p[15]];
    let stratum = p[1];
    if stratum == 0 {
        return Err(Bad::KissOfDeath(reference_id));
    }
    if stratum > MAX_STRATUM || leap == LEAP_UNSYNCHRONIZED {
        return Err(Bad::Unsynchronized);
    }
    let r = Reply {
        leap,
        version,
        stratum,
        poll: p[2] as i8,
        precision: p[3] as i8,
        root_delay: short(be32(4)),
        root_dispersion: short(be32(8)),
        reference_id,
        reference: be64(16),
        receive: be64(32),
        transmit: be64(40),
    };
    if r.receive == 0 || r.transmit == 0 || diff(r.transmit, r.receive) < 0.0 {
        return Err(Bad::BadTimestamps);
    }
    if r.root_distance() > MAX_DISTANCE {
        return Err(Bad::TooFar);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: u64 = 0x8f3a_21c4_55e0_0b17;

    macro_rules! fixture {
        ($f:literal) => {
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/ntp/", $f))
        };
    }

    #[test]
    fn request_is_client_mode_v4_with_the_nonce() {
        let p = emit_request(NONCE);
        assert_eq!(p[0], 0x23);
        assert!(p[1..40].iter().all(|&b| b == 0), "nothing about us but the nonce");
        assert_eq!(&p[40..], &NONCE.to_be_bytes());
    }

    fn server(sent: u64) -> [u8; 48] {
        let mut p = [0u8; 48];
        p[0] = 0x24; // LI 0, VN 4, mode 4
        p[1] = 2;
        p[4..8].copy_from_slice(&0x0000_0800u32.to_be_bytes()); // 1/32 s
        p[8..12].copy_from_slice(&0x0000_0400u32.to_be_bytes()); // 1/64 s
        p[24..32].copy_from_slice(&sent.to_be_bytes());
        p[32..40].copy_from_slice(&(1000u64 << 32).to_be_bytes());
        p[40..48].copy_from_slice(&((1000u64 << 32) + (1 << 28)).to_be_bytes());
        p
    }

    #[test]
    fn offset_and_delay_follow_rfc5905() {
        let r = parse_reply(&server(NONCE), NONCE).unwrap();
        assert_eq!(r.stratum, 2);
        assert_eq!(r.root_delay, 1.0 / 32.0);
        assert_eq!(r.root_distance(), 1.0 / 64.0 + 1.0 / 64.0);
        // T1 = 999.5, T2 = 1000, T3 = 1000.0625, T4 = 1000.5625:
        // offset = (0.5 + -0.5) / 2 = 0, delay = 1.0625 - 0.0625 = 1.
        let t1 = (999u64 << 32) + (1 << 31);
        let t4 = (1000u64 << 32) + (1 << 31) + (1 << 28);
        let (offset, delay) = r.offset_delay(t1, t4);
        assert_eq!(offset, 0.0);
        assert_eq!(delay, 1.0);
    }

    #[test]
    fn differences_wrap_across_the_2036_era() {
        let before = u64::MAX - (1 << 32) + 1; // era 0, last second
        let after = 1 << 32; // era 1, second 1
        assert_eq!(diff(after, before), 2.0);
        assert_eq!(diff(before, after), -2.0);
    }

    #[test]
    fn the_client_tests_refuse_what_they_must() {
        assert_eq!(parse_reply(&server(NONCE)[..47], NONCE), Err(Bad::Truncated));
        assert_eq!(parse_reply(&server(NONCE), NONCE ^ 1), Err(Bad::WrongOrigin));
        let mut p = server(NONCE);
        p[0] = 0x23;
        assert_eq!(parse_reply(&p, NONCE), Err(Bad::NotServer));
        let mut p = server(NONCE);
        p[1] = 0;
        p[12..16].copy_from_slice(b"RATE");
        assert_eq!(parse_reply(&p, NONCE), Err(Bad::KissOfDeath(*b"RATE")));
        let mut p = server(NONCE);
        p[1] = 16;
        assert_eq!(parse_reply(&p, NONCE), Err(Bad::Unsynchronized));
        let mut p = server(NONCE);
        p[0] |= 0xC0;
        assert_eq!(parse_reply(&p, NONCE), Err(Bad::Unsynchronized));
        let mut p = server(NONCE);
        p[8..12].copy_from_slice(&0x0002_0000u32.to_be_bytes());
        assert_eq!(parse_reply(&p, NONCE), Err(Bad::TooFar));
        let mut p = server(NONCE);
        p[32..40].fill(0);
        assert_eq!(parse_reply(&p, NONCE), Err(Bad::BadTimestamps));
    }

    #[test]
    fn unix_time_converts() {
        assert_eq!(from_unix(0, 0), 2_208_988_800 << 32);
        assert_eq!(from_unix(0, 500_000_000) & 0xFFFF_FFFF, 1 << 31);
    }

    /// A reply from chronyd 4.3 serving its local clock at stratum 8
    /// (`local stratum 8`), to a request carrying `chronyd-4.3.request`'s
    /// transmit timestamp; see tests/fixtures/ntp/README.md.
    #[test]
    fn chronyd_reply() {
        let req = fixture!("chronyd-4.3.request");
        let sent = u64::from_be_bytes(req[40..48].try_into().unwrap());
        let r = parse_reply(fixture!("chronyd-4.3.reply"), sent).unwrap();
        assert_eq!(r.stratum, 8);
        assert_eq!(r.version, 4);
        assert!(r.leap != LEAP_UNSYNCHRONIZED);
        let reply = fixture!("chronyd-4.3.reply");
        for n in 0..PACKET_LEN {
            assert_eq!(parse_reply(&reply[..n], sent), Err(Bad::Truncated));
        }
    }
}
