//! A host and an optional port, as targets, URLs and listen addresses
//! write them (the authority of RFC 3986 §3.2, without user info):
//! `host`, `host:port`, `[v6]`, `[v6]:port`, and a bare IPv6 address,
//! which cannot carry a port.
//!
//! Invariants: the host is never empty and keeps no brackets; a port is
//! 1 to 65535; anything else is refused, not guessed.

/// Splits `s` into its host and port, if it has one.
pub fn split(s: &str) -> Option<(&str, Option<u16>)> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|&p| p != 0);
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return None;
        }
        match after.strip_prefix(':') {
            Some(p) => (host, Some(port(p)?)),
            None if after.is_empty() => (host, None),
            None => return None,
        }
    } else if s.parse::<std::net::Ipv6Addr>().is_ok() {
        (s, None)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(port(p)?)),
            None => (s, None),
        }
    };
    (!host.is_empty() && !host.contains(['[', ']', '/', ' '])).then_some((host, port))
}

/// [`split`], with `default` for a missing port (0: a port is required).
pub fn split_or(s: &str, default: u16) -> Option<(&str, u16)> {
    match split(s)? {
        (host, Some(port)) => Some((host, port)),
        (host, None) if default != 0 => Some((host, default)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_targets_and_urls_use() {
        assert_eq!(split("mail:25"), Some(("mail", Some(25))));
        assert_eq!(split("[::1]:53"), Some(("::1", Some(53))));
        assert_eq!(split("[::1]"), Some(("::1", None)));
        assert_eq!(split("::1"), Some(("::1", None)));
        assert_eq!(split("ns1"), Some(("ns1", None)));
        assert_eq!(split("10.0.0.1:9090"), Some(("10.0.0.1", Some(9090))));
    }

    #[test]
    fn malformed_ones_are_refused() {
        for bad in ["", ":25", "[::1", "[::1]x", "[nothost]:1", "a:0", "a:65536", "a:b", "a b:1", "[::1]:"] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_default_port_fills_in_unless_required() {
        assert_eq!(split_or("ns1", 53), Some(("ns1", 53)));
        assert_eq!(split_or("ns1", 0), None);
        assert_eq!(split_or("ns1:5353", 53), Some(("ns1", 5353)));
    }
}
