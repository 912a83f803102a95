//! DNS replies are untrusted: anyone on the path, or who guesses the port,
//! can send one. The parser must not panic or loop on any bytes (pointer
//! loops, forward pointers, counts larger than the message), must accept
//! only a reply whose ID and question are the query's, and must keep at
//! most MAX_KEPT answers however many the header claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::dns::{class, emit_query, parse_reply, rtype, Query, MAX_KEPT};

fuzz_target!(|data: &[u8]| {
    // The first byte picks one of a few queries, so the fuzzer can reach
    // past the question check by echoing one of them.
    let (pick, reply) = data.split_first().unwrap_or((&0, data));
    let names = ["example.test", ".", "a.b.c.d.e.f"];
    let qtypes = [rtype::A, rtype::AAAA, rtype::TXT, rtype::SOA, rtype::MX];
    let q = Query {
        id: 0x1234,
        qname: names[usize::from(pick % 3)],
        qtype: qtypes[usize::from(pick / 3 % 5)],
        qclass: class::IN,
        rd: pick & 0x80 != 0,
        edns_udp_size: (pick & 0x40 != 0).then_some(1232),
    };
    let mut query = Vec::new();
    emit_query(&q, &mut query).unwrap();
    if let Ok(r) = parse_reply(reply, &query) {
        assert_eq!(r.id, 0x1234);
        assert!(reply.len() >= 12 && reply[2] & 0x80 != 0);
        assert!(r.answers.len() <= MAX_KEPT);
        assert!(r.answers.len() <= usize::from(r.answer_rrs));
    }
    // Arbitrary bytes as the query, too: the parser reads the query's
    // question through the same bounded name reader.
    let _ = parse_reply(reply, reply);
});
