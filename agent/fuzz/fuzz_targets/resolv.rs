//! The stub resolver's inputs: /etc/resolv.conf and /etc/hosts are the
//! box's own files (any bytes at all, shared with every program there),
//! and an A or AAAA reply comes from whoever answers the port. None may
//! panic or loop; resolv.conf's values stay within musl's bounds; a hosts
//! line gives an address only when it names the host; a reply's addresses
//! are the question's family, at most MAX_KEPT.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use sonde::wire::dns::{class, emit_query, parse_addresses, rtype, Query, MAX_KEPT};
use sonde::wire::resolv::{hosts_line, Conf, MAX_DOMAIN, MAX_NAMESERVERS, MAX_SEARCH};

fuzz_target!(|data: &[u8]| {
    let c = Conf::parse(data);
    assert!((1..=MAX_NAMESERVERS).contains(&c.nameservers.len()));
    assert!(c.search.len() <= MAX_SEARCH);
    for d in &c.search {
        assert!(!d.is_empty() && d.len() <= MAX_DOMAIN && !d.contains(|c: char| c.is_ascii_whitespace()), "{d:?}");
    }
    assert!(c.ndots <= 15 && (1..=60).contains(&c.timeout) && (1..=10).contains(&c.attempts));

    // A hosts line: the name to look for, NUL, the line.
    if let Some(nul) = data.iter().position(|&b| b == 0) {
        let (name, line) = (&data[..nul], &data[nul + 1..]);
        if let Ok(name) = std::str::from_utf8(name) {
            if hosts_line(line, name).is_some() {
                let bare = name.strip_suffix('.').unwrap_or(name);
                let text =
                    String::from_utf8_lossy(line.split(|&b| b == b'#').next().unwrap_or(b"")).to_ascii_lowercase();
                assert!(!bare.is_empty() && text.contains(&bare.to_ascii_lowercase()), "{name:?} in {text:?}");
            }
        }
    }

    // A reply to an A or AAAA question (the first byte picks which, and
    // the name), and with arbitrary bytes as the query too.
    let (pick, reply) = data.split_first().unwrap_or((&0, data));
    let qtype = if pick & 1 == 0 { rtype::A } else { rtype::AAAA };
    let names = ["example.test", "www.example.test", "a"];
    let q = Query {
        id: 0x1234,
        qname: names[usize::from(pick / 2 % 3)],
        qtype,
        qclass: class::IN,
        rd: true,
        edns_udp_size: None,
    };
    let mut query = Vec::new();
    emit_query(&q, &mut query).unwrap();
    if let Ok(r) = parse_addresses(reply, &query) {
        assert!(reply.len() >= 12 && reply[..2] == [0x12, 0x34] && reply[2] & 0x80 != 0);
        assert!(r.rcode <= 15);
        assert!(r.addrs.len() <= MAX_KEPT);
        assert!(r.addrs.iter().all(|a| matches!(a, IpAddr::V4(_)) == (qtype == rtype::A)), "{:?}", r.addrs);
        assert!(!r.truncated || r.addrs.is_empty());
    }
    let _ = parse_addresses(reply, reply);
});
