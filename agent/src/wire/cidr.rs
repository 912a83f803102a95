//! Addresses and CIDR prefixes of an allow list (`10.0.0.0/8`,
//! `192.168.1.10`, `::1`, `fd00::/8`), as Monit's `allow` and Go's
//! `net.ParseCIDR` write them. No DNS: a name is an error.
//!
//! Spec: RFC 4632 §3.1 (prefix notation), RFC 4291 §2.3 (IPv6). Host bits
//! under the prefix are ignored, as Go's `Contains` ignores them. An
//! IPv4-mapped IPv6 peer (`::ffff:10.0.0.1`, what a dual-stack socket
//! reports) matches IPv4 prefixes, and an entry written that way
//! (`::ffff:10.0.0.0/104`) is the IPv4 prefix it maps (`10.0.0.0/8`); one
//! that would cut into the `::ffff:0:0/96` prefix itself is refused, as
//! it could never match (peers are compared in their IPv4 form). IPv6
//! prefixes do not match IPv4 peers (`::/0` is every IPv6 address).
//!
//! Invariants: no panic, no allocation, no I/O.

use core::net::IpAddr;

/// An address and how many leading bits of it must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub len: u8,
}

impl Cidr {
    /// Reads `ADDR` or `ADDR/LEN`.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (a, len) = match text.split_once('/') {
            Some((a, l)) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
                (a, Some(l.parse::<u8>().ok()?))
            }
            Some(_) => return None,
            None => (text, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        if len > max {
            return None;
        }
        match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => len.checked_sub(96).map(|len| Cidr { addr: IpAddr::V4(v4), len }),
                None => Some(Cidr { addr, len }),
            },
            IpAddr::V4(_) => Some(Cidr { addr, len }),
        }
    }

    /// Whether `peer` is inside this prefix.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let (a, b, width) = match (self.addr, peer.to_canonical()) {
            (IpAddr::V4(a), IpAddr::V4(p)) => (u128::from(u32::from(a)), u128::from(u32::from(p)), 32),
            (IpAddr::V6(a), IpAddr::V6(p)) => (u128::from(a), u128::from(p), 128),
            _ => return false,
        };
        let shift = width - u32::from(self.len);
        shift >= width || (a >> shift) == (b >> shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes_match() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.9.9")), "a dual-stack socket's IPv4 peer");
        assert!(!net.contains(ip("::1")));
        let one = Cidr::parse("192.168.1.10").unwrap();
        assert_eq!(one.len, 32);
        assert!(one.contains(ip("192.168.1.10")) && !one.contains(ip("192.168.1.11")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(!Cidr::parse("::/0").unwrap().contains(ip("8.8.8.8")));
        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        // An entry in IPv4-mapped form is the IPv4 prefix it maps.
        assert_eq!(Cidr::parse("::ffff:10.1.0.0/112"), Cidr::parse("10.1.0.0/16"));
        assert!(Cidr::parse("::ffff:10.1.2.3").unwrap().contains(ip("10.1.2.3")));
        assert!(Cidr::parse("::ffff:d:d").unwrap().contains(ip("::ffff:0.13.0.13")));
        // Host bits under the prefix are ignored, as Go's are.
        assert!(Cidr::parse("10.1.2.3/8").unwrap().contains(ip("10.200.0.1")));
    }

    #[test]
    fn bad_prefixes_refused() {
        for bad in [
            "",
            "/8",
            "10.0.0.0/",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/+8",
            "10.0.0.0/0008",
            "localhost",
            "10.0.0",
            "10.0.0.0/8/8",
            " 10.0.0.1",
            // Cuts into ::ffff:0:0/96: it could never match a peer.
            "::ffff:0:0/80",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
