//! DNS messages as a stub resolver sends and reads them (RFC 1035 §4,
//! EDNS(0) from RFC 6891, unknown types from RFC 3597).
//!
//! [`emit_query`] writes one question with a caller-chosen ID (the check
//! draws it at random: RFC 5452 §9.2), the RD bit on or off, and an OPT
//! record advertising a UDP payload size when asked. [`parse_reply`] reads
//! a reply and validates it against the query it answers, in the order a
//! careful stub does: the header is complete, QR is set, the ID and opcode
//! are ours, the question is echoed (name compared case-insensitively,
//! RFC 4343), then every resource record of every section is walked.
//!
//! Invariants:
//! * never panics, on any input (fuzzed: `fuzz/fuzz_targets/dns_reply.rs`);
//! * a compressed name follows at most [`MAX_POINTERS`] pointers, each of
//!   which must point strictly before the label that holds it, so a
//!   pointer loop is impossible, and a name is at most 255 octets
//!   (RFC 1035 §2.3.4) however it was spelled;
//! * counts from the header are never used to allocate: records are read
//!   while bytes remain, and at most [`MAX_KEPT`] records of each section
//!   are kept as text; the rest are only counted;
//! * a reply with TC set is accepted as far as its question: the check
//!   decides whether to retry over TCP (RFC 7766), so the records after a
//!   cut are not demanded.

use std::fmt::Write as _;
use std::net::IpAddr;

/// The fixed header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;
/// Longest name on the wire, length octets included (RFC 1035 §2.3.4).
pub const MAX_NAME: usize = 255;
/// Compression pointers followed in one name; each moves strictly back.
pub const MAX_POINTERS: usize = 32;
/// Records of each section kept as presentation text for matching.
pub const MAX_KEPT: usize = 32;
/// Presentation text kept per record; longer rdata is cut.
pub const MAX_RR_TEXT: usize = 512;

/// Resource record types used by checks (RFC 1035 §3.2.2, RFC 3596, RFC 6891).
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const OPT: u16 = 41;
    pub const ANY: u16 = 255;
}

/// Classes (RFC 1035 §3.2.4).
pub mod class {
    pub const IN: u16 = 1;
    pub const CH: u16 = 3;
}

const TYPES: &[(&str, u16)] = &[
    ("A", rtype::A),
    ("NS", rtype::NS),
    ("CNAME", rtype::CNAME),
    ("SOA", rtype::SOA),
    ("PTR", rtype::PTR),
    ("MX", rtype::MX),
    ("TXT", rtype::TXT),
    ("AAAA", rtype::AAAA),
    ("SRV", rtype::SRV),
    ("ANY", rtype::ANY),
];

/// A type by its mnemonic (`AAAA`) or RFC 3597 form (`TYPE28`).
pub fn type_from_name(s: &str) -> Option<u16> {
    let u = s.to_ascii_uppercase();
    TYPES.iter().find(|(n, _)| *n == u).map(|&(_, t)| t).or_else(|| u.strip_prefix("TYPE")?.parse().ok())
}

pub fn type_name(t: u16, out: &mut String) {
    match TYPES.iter().find(|(_, v)| *v == t) {
        Some((n, _)) => out.push_str(n),
        None => {
            let _ = write!(out, "TYPE{t}");
        }
    }
}

/// A class by its mnemonic (`IN`, `CH`) or `CLASS3`.
pub fn class_from_name(s: &str) -> Option<u16> {
    match s.to_ascii_uppercase().as_str() {
        "IN" => Some(class::IN),
        "CH" => Some(class::CH),
        u => u.strip_prefix("CLASS")?.parse().ok(),
    }
}

/// RCODE mnemonics (RFC 1035 §4.1.1, RFC 2136, RFC 6891 BADVERS).
const RCODES: &[(&str, u16)] = &[
    ("NOERROR", 0),
    ("FORMERR", 1),
    ("SERVFAIL", 2),
    ("NXDOMAIN", 3),
    ("NOTIMP", 4),
    ("REFUSED", 5),
    ("YXDOMAIN", 6),
    ("YXRRSET", 7),
    ("NXRRSET", 8),
    ("NOTAUTH", 9),
    ("NOTZONE", 10),
    ("BADVERS", 16),
];

pub fn rcode_from_name(s: &str) -> Option<u16> {
    let u = s.to_ascii_uppercase();
    RCODES.iter().find(|(n, _)| *n == u).map(|&(_, c)| c).or_else(|| u.parse().ok())
}

/// What a query asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query<'a> {
    pub id: u16,
    /// Dotted name; a trailing dot is optional, `.` is the root.
    pub qname: &'a str,
    pub qtype: u16,
    pub qclass: u16,
    /// Recursion desired.
    pub rd: bool,
    /// EDNS(0) UDP payload size to advertise; `None` sends no OPT record.
    pub edns_udp_size: Option<u16>,
}

/// Why a query cannot be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadName {
    EmptyLabel,
    LabelTooLong,
    NameTooLong,
}

/// Appends the query message (no TCP length prefix; see [`tcp_frame`]).
pub fn emit_query(q: &Query<'_>, out: &mut Vec<u8>) -> Result<(), BadName> {
    let start = out.len();
    out.extend_from_slice(&q.id.to_be_bytes());
    // QR=0, opcode QUERY, RD as asked; AD/CD left clear.
    out.push(if q.rd { 0x01 } else { 0x00 });
    out.push(0);
    out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&[0, 0, 0, 0]); // ANCOUNT, NSCOUNT
    out.extend_from_slice(&u16::from(q.edns_udp_size.is_some()).to_be_bytes()); // ARCOUNT
    if let Err(e) = emit_name(q.qname, out) {
        out.truncate(start);
        return Err(e);
    }
    out.extend_from_slice(&q.qtype.to_be_bytes());
    out.extend_from_slice(&q.qclass.to_be_bytes());
    if let Some(size) = q.edns_udp_size {
        // OPT pseudo-RR (RFC 6891 §6.1.2): root owner, CLASS = payload
        // size, TTL = extended rcode 0, version 0, flags 0; no options.
        // Sizes under 512 are treated as 512 by the spec; say 512 then.
        out.push(0);
        out.extend_from_slice(&rtype::OPT.to_be_bytes());
        out.extend_from_slice(&size.max(512).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    Ok(())
}

fn emit_name(name: &str, out: &mut Vec<u8>) -> Result<(), BadName> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut len = 1;
    if !name.is_empty() {
        for label in name.split('.') {
            if label.is_empty() {
                return Err(BadName::EmptyLabel);
            }
            if label.len() > 63 {
                return Err(BadName::LabelTooLong);
            }
            len += 1 + label.len();
            if len > MAX_NAME {
                return Err(BadName::NameTooLong);
            }
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    Ok(())
}

/// The two-octet length prefix of a message over TCP (RFC 1035 §4.2.2).
pub fn tcp_frame(message: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(message.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(&message[..message.len().min(usize::from(u16::MAX))]);
}

/// Why bytes are not a reply to our query. Each maps to a check's reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// Shorter than a header, or a record runs past the end.
    Truncated,
    /// QR clear: a query, not a reply.
    NotReply,
    /// Another ID: not ours (or spoofed).
    WrongId,
    WrongOpcode,
    /// QDCOUNT not 1, or a question other than ours.
    WrongQuestion,
    /// A name with a bad label type, a forward or looping pointer, or too long.
    BadName,
    /// Bytes left after the last record.
    TrailingBytes,
}

impl Bad {
    pub fn what(self) -> &'static str {
        match self {
            Bad::Truncated => "truncated",
            Bad::NotReply => "not a reply",
            Bad::WrongId => "wrong id",
            Bad::WrongOpcode => "wrong opcode",
            Bad::WrongQuestion => "wrong question",
            Bad::BadName => "bad name",
            Bad::TrailingBytes => "trailing bytes",
        }
    }
}

/// A validated reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    pub id: u16,
    /// The header's 4 bits, extended by the OPT record's 8 (RFC 6891 §6.1.3).
    pub rcode: u16,
    pub authoritative: bool,
    /// TC: the message was cut to fit; records were not read.
    pub truncated: bool,
    pub recursion_available: bool,
    pub authentic_data: bool,
    /// Records read in each section (the OPT record not counted).
    pub answer_rrs: u16,
    pub authority_rrs: u16,
    pub additional_rrs: u16,
    /// The first [`MAX_KEPT`] answers in presentation form, as `dig` and
    /// miekg/dns print them: `name.\tTTL\tIN\tA\t192.0.2.1`.
    pub answers: Vec<String>,
    /// The same of the authority section.
    pub authority: Vec<String>,
    /// The same of the additional section, the OPT record left out.
    pub additional: Vec<String>,
    /// SOA serial, when the answer holds an SOA.
    pub serial: Option<u32>,
    /// The server's EDNS UDP payload size, when it sent an OPT record.
    pub edns_udp_size: Option<u16>,
}

fn be16(buf: &[u8], at: usize) -> Result<u16, Bad> {
    let b = buf.get(at..at + 2).ok_or(Bad::Truncated)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn be32(buf: &[u8], at: usize) -> Result<u32, Bad> {
    let b = buf.get(at..at + 4).ok_or(Bad::Truncated)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads the name at `at`; returns where the name ends in place (after its
/// terminating zero or its first pointer). Writes the dotted lowercase-free
/// presentation (escaping as RFC 1035 §5.1) into `text`, when given.
fn read_name(msg: &[u8], at: usize, mut text: Option<&mut String>) -> Result<usize, Bad> {
    let mut pos = at;
    let mut end = None;
    let mut pointers = 0;
    let mut wire_len = 1;
    // Every pointer must point before the lowest position seen so far, so
    // the walk moves strictly backward at each jump and terminates.
    let mut floor = at;
    let mut wrote = false;
    loop {
        let len = *msg.get(pos).ok_or(Bad::Truncated)?;
        match len & 0xC0 {
            0x00 => {
                if len == 0 {
                    if let Some(t) = text.as_deref_mut() {
                        if !wrote {
                            t.push('.');
                        }
                    }
                    return Ok(end.unwrap_or(pos + 1));
                }
                let len = usize::from(len);
                wire_len += 1 + len;
                if wire_len > MAX_NAME {
                    return Err(Bad::BadName);
                }
                let label = msg.get(pos + 1..pos + 1 + len).ok_or(Bad::Truncated)?;
                if let Some(t) = text.as_deref_mut() {
                    for &b in label {
                        match b {
                            b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                                t.push('\\');
                                t.push(char::from(b));
                            }
                            0x21..=0x7E => t.push(char::from(b)),
                            _ => {
                                let _ = write!(t, "\\{b:03}");
                            }
                        }
                    }
                    t.push('.');
                    wrote = true;
                }
                pos += 1 + len;
            }
            0xC0 => {
                let lo = *msg.get(pos + 1).ok_or(Bad::Truncated)?;
                let target = usize::from(len & 0x3F) << 8 | usize::from(lo);
                pointers += 1;
                if target >= floor || pointers > MAX_POINTERS {
                    return Err(Bad::BadName);
                }
                end.get_or_insert(pos + 2);
                floor = target;
                pos = target;
            }
            // 0x40 (extended labels, RFC 6891 §5 deprecated them) and 0x80.
            _ => return Err(Bad::BadName),
        }
    }
}

/// Compares two names on the wire, following pointers, case-insensitively
/// (RFC 4343). Both must already have been read by [`read_name`].
fn same_name(a_msg: &[u8], a: usize, b_msg: &[u8], b: usize) -> bool {
    let (mut sa, mut sb) = (String::new(), String::new());
    read_name(a_msg, a, Some(&mut sa)).is_ok()
        && read_name(b_msg, b, Some(&mut sb)).is_ok()
        && sa.eq_ignore_ascii_case(&sb)
}

/// The header and question of `msg`, validated against `query`: the
/// reply's header fields, its three record counts, and where the records
/// start.
fn parse_head(msg: &[u8], query: &[u8]) -> Result<(Reply, [u16; 3], usize), Bad> {
    if msg.len() < HEADER_LEN {
        return Err(Bad::Truncated);
    }
    let qid = be16(query, 0)?;
    let id = be16(msg, 0)?;
    let (f1, f2) = (msg[2], msg[3]);
    if f1 & 0x80 == 0 {
        return Err(Bad::NotReply);
    }
    if id != qid {
        return Err(Bad::WrongId);
    }
    // Opcode is the four bits after QR; ours is QUERY (0).
    if (f1 >> 3) & 0x0F != (query.get(2).copied().unwrap_or(0) >> 3) & 0x0F {
        return Err(Bad::WrongOpcode);
    }
    let r = Reply {
        id,
        rcode: u16::from(f2 & 0x0F),
        authoritative: f1 & 0x04 != 0,
        truncated: f1 & 0x02 != 0,
        recursion_available: f2 & 0x80 != 0,
        authentic_data: f2 & 0x20 != 0,
        ..Reply::default()
    };
    let qdcount = be16(msg, 4)?;
    let counts = [be16(msg, 6)?, be16(msg, 8)?, be16(msg, 10)?];
    // RFC 1035 allows QDCOUNT 0 on some errors (FORMERR); a server that
    // does not echo the question cannot be told apart from a forger, so
    // only a reply with our one question is accepted.
    if qdcount != 1 {
        return Err(Bad::WrongQuestion);
    }
    let qend = read_name(msg, HEADER_LEN, None)?;
    let qtail = msg.get(qend..qend + 4).ok_or(Bad::Truncated)?;
    let our_end = read_name(query, HEADER_LEN, None)?;
    if !same_name(msg, HEADER_LEN, query, HEADER_LEN) || query.get(our_end..our_end + 4) != Some(qtail) {
        return Err(Bad::WrongQuestion);
    }
    Ok((r, counts, qend + 4))
}

/// Parses and validates `msg` as the reply to `query` (the exact bytes
/// [`emit_query`] wrote).
pub fn parse_reply(msg: &[u8], query: &[u8]) -> Result<Reply, Bad> {
    let (mut r, counts, mut pos) = parse_head(msg, query)?;
    if r.truncated {
        return Ok(r);
    }
    for (section, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            let mut text = String::new();
            let keep = [&r.answers, &r.authority, &r.additional][section].len() < MAX_KEPT;
            let name_end = read_name(msg, pos, keep.then_some(&mut text))?;
            let typ = be16(msg, name_end)?;
            let cls = be16(msg, name_end + 2)?;
            let ttl = be32(msg, name_end + 4)?;
            let rdlen = usize::from(be16(msg, name_end + 8)?);
            let rdata_at = name_end + 10;
            let rdata = msg.get(rdata_at..rdata_at + rdlen).ok_or(Bad::Truncated)?;
            pos = rdata_at + rdlen;
            if typ == rtype::OPT {
                // The extended rcode's upper 8 bits are TTL's top octet.
                r.rcode |= ((ttl >> 24) as u16) << 4;
                r.edns_udp_size = Some(cls);
                continue;
            }
            if section == 0 && typ == rtype::SOA {
                // Two names, then serial.
                let m = read_name(msg, rdata_at, None)?;
                let rn = read_name(msg, m, None)?;
                r.serial = Some(be32(msg, rn)?);
            }
            match section {
                0 => r.answer_rrs += 1,
                1 => r.authority_rrs += 1,
                _ => r.additional_rrs += 1,
            }
            if keep {
                let _ = write!(text, "\t{ttl}\t");
                match cls {
                    class::IN => text.push_str("IN"),
                    class::CH => text.push_str("CH"),
                    c => {
                        let _ = write!(text, "CLASS{c}");
                    }
                }
                text.push('\t');
                type_name(typ, &mut text);
                text.push('\t');
                rdata_text(msg, rdata_at, rdata, typ, &mut text)?;
                if text.len() > MAX_RR_TEXT {
                    let mut cut = MAX_RR_TEXT;
                    while !text.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    text.truncate(cut);
                }
                match section {
                    0 => r.answers.push(text),
                    1 => r.authority.push(text),
                    _ => r.additional.push(text),
                }
            }
        }
    }
    if pos != msg.len() {
        return Err(Bad::TrailingBytes);
    }
    Ok(r)
}

/// Rdata in presentation form for the types a check matches on; others
/// as RFC 3597's `\# len hex`.
fn rdata_text(msg: &[u8], at: usize, rdata: &[u8], typ: u16, t: &mut String) -> Result<(), Bad> {
    match (typ, rdata.len()) {
        (rtype::A, 4) => {
            let _ = write!(t, "{}", std::net::Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]));
        }
        (rtype::AAAA, 16) => {
            let mut o = [0u8; 16];
            o.copy_from_slice(rdata);
            let _ = write!(t, "{}", std::net::Ipv6Addr::from(o));
        }
        (rtype::NS | rtype::CNAME | rtype::PTR, _) => {
            name_in_rdata(msg, at, rdata.len(), t)?;
        }
        (rtype::SOA, _) => {
            // MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM (RFC 1035 §3.3.13).
            let m = read_name(msg, at, Some(t))?;
            t.push(' ');
            let n = read_name(msg, m, Some(t))?;
            let times = msg.get(n..n + 20).filter(|_| n + 20 <= at + rdata.len()).ok_or(Bad::Truncated)?;
            for v in times.chunks_exact(4) {
                let _ = write!(t, " {}", u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
            }
        }
        (rtype::MX, 3..) => {
            let _ = write!(t, "{} ", u16::from_be_bytes([rdata[0], rdata[1]]));
            name_in_rdata(msg, at + 2, rdata.len() - 2, t)?;
        }
        (rtype::TXT, _) => {
            let mut i = 0;
            while i < rdata.len() {
                let n = usize::from(rdata[i]);
                let s = rdata.get(i + 1..i + 1 + n).ok_or(Bad::Truncated)?;
                if i > 0 {
                    t.push(' ');
                }
                t.push('"');
                for &b in s {
                    match b {
                        b'"' | b'\\' => {
                            t.push('\\');
                            t.push(char::from(b));
                        }
                        0x20..=0x7E => t.push(char::from(b)),
                        _ => {
                            let _ = write!(t, "\\{b:03}");
                        }
                    }
                }
                t.push('"');
                i += 1 + n;
            }
        }
        _ => {
            let _ = write!(t, "\\# {}", rdata.len());
            if !rdata.is_empty() {
                t.push(' ');
            }
            for b in rdata.iter().take(MAX_RR_TEXT / 2) {
                let _ = write!(t, "{b:02x}");
            }
        }
    }
    Ok(())
}

/// A name inside rdata must end inside the rdata (pointers may leave it).
fn name_in_rdata(msg: &[u8], at: usize, len: usize, t: &mut String) -> Result<(), Bad> {
    let end = read_name(msg, at, Some(t))?;
    if end > at + len {
        return Err(Bad::Truncated);
    }
    Ok(())
}

/// CNAMEs followed in one answer, from the question's name to the name
/// that has the addresses.
pub const MAX_CNAMES: usize = 8;

/// What a reply says of the addresses its question asks (A or AAAA).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Addresses {
    /// The header's 4 bits (no OPT record is asked for, so no more).
    pub rcode: u16,
    /// TC: the message was cut to fit; its records were not read.
    pub truncated: bool,
    /// The records of the question's type whose owner is the question's
    /// name or the end of its CNAME chain, in the answer's order; at most
    /// [`MAX_KEPT`].
    pub addrs: Vec<IpAddr>,
}

/// Parses and validates `msg` as the reply to `query`, an A or AAAA
/// question, as a stub resolver reads it: the answer section in one pass,
/// a CNAME of the name sought moving the search to its target (RFC 1034
/// §4.3.2 puts the CNAME before the target's records; so do servers), the
/// records of other names or classes skipped, the other sections not read.
pub fn parse_addresses(msg: &[u8], query: &[u8]) -> Result<Addresses, Bad> {
    let (head, counts, mut pos) = parse_head(msg, query)?;
    let mut out = Addresses { rcode: head.rcode, truncated: head.truncated, addrs: Vec::new() };
    if head.truncated {
        return Ok(out);
    }
    let mut name = String::new();
    let qtype = be16(query, read_name(query, HEADER_LEN, Some(&mut name))?)?;
    let mut owner = String::new();
    let mut hops = 0;
    for _ in 0..counts[0] {
        owner.clear();
        let end = read_name(msg, pos, Some(&mut owner))?;
        let (typ, cls) = (be16(msg, end)?, be16(msg, end + 2)?);
        let at = end + 10;
        let rdata = msg.get(at..at + usize::from(be16(msg, end + 8)?)).ok_or(Bad::Truncated)?;
        pos = at + rdata.len();
        if cls != class::IN || !owner.eq_ignore_ascii_case(&name) {
            continue;
        }
        let ip = match (typ, rdata) {
            (rtype::CNAME, _) if hops < MAX_CNAMES => {
                hops += 1;
                name.clear();
                name_in_rdata(msg, at, rdata.len(), &mut name)?;
                continue;
            }
            (rtype::A, &[a, b, c, d]) => IpAddr::from([a, b, c, d]),
            (rtype::AAAA, _) => match <[u8; 16]>::try_from(rdata) {
                Ok(o) => IpAddr::from(o),
                Err(_) => continue,
            },
            _ => continue,
        };
        if typ == qtype && out.addrs.len() < MAX_KEPT {
            out.addrs.push(ip);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16, edns: Option<u16>) -> Vec<u8> {
        let mut q = Vec::new();
        emit_query(&Query { id: 0x1234, qname: name, qtype, qclass: class::IN, rd: true, edns_udp_size: edns }, &mut q)
            .unwrap();
        q
    }

    #[test]
    fn query_is_rfc1035_bytes() {
        let q = query("example.org.", rtype::A, None);
        assert_eq!(
            q,
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03org\x00\x00\x01\x00\x01".to_vec()
        );
        let q = query("example.org", rtype::AAAA, Some(1232));
        assert_eq!(&q[10..12], &[0, 1]);
        assert_eq!(&q[q.len() - 11..], b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00");
        let mut root = Vec::new();
        emit_query(
            &Query { id: 1, qname: ".", qtype: rtype::NS, qclass: 1, rd: false, edns_udp_size: None },
            &mut root,
        )
        .unwrap();
        assert_eq!(&root[2..4], &[0, 0]);
        assert_eq!(&root[12..], &[0, 0, 2, 0, 1]);
    }

    #[test]
    fn bad_names_are_refused() {
        let mut out = vec![7];
        let e = |n: &str, out: &mut Vec<u8>| {
            emit_query(&Query { id: 1, qname: n, qtype: 1, qclass: 1, rd: true, edns_udp_size: None }, out)
        };
        assert_eq!(e("a..b", &mut out), Err(BadName::EmptyLabel));
        assert_eq!(e(&"x".repeat(64), &mut out), Err(BadName::LabelTooLong));
        assert_eq!(e(&["abcdefghi"; 30].join("."), &mut out), Err(BadName::NameTooLong));
        assert_eq!(out, vec![7], "a refused query leaves the buffer as it was");
    }

    /// A reply built by hand: one A answer via a pointer to the question.
    fn reply_to(q: &[u8]) -> Vec<u8> {
        let mut r = q.to_vec();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 1;
        r.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x01");
        r
    }

    #[test]
    fn reply_is_validated_and_read() {
        let q = query("Example.org", rtype::A, None);
        let r = parse_reply(&reply_to(&q), &q).unwrap();
        assert_eq!(r.rcode, 0);
        assert_eq!(r.answer_rrs, 1);
        assert_eq!(r.answers, vec!["Example.org.\t300\tIN\tA\t192.0.2.1".to_string()]);
        assert!(r.recursion_available);

        let mut wrong_id = reply_to(&q);
        wrong_id[1] ^= 1;
        assert_eq!(parse_reply(&wrong_id, &q), Err(Bad::WrongId));
        assert_eq!(parse_reply(&q, &q), Err(Bad::NotReply));
        let mut opcode = reply_to(&q);
        opcode[2] |= 0x10;
        assert_eq!(parse_reply(&opcode, &q), Err(Bad::WrongOpcode));
        // Same name in another case is the same question (RFC 4343) ...
        let mut case = reply_to(&q);
        case[13] = b'e';
        assert!(parse_reply(&case, &q).is_ok());
        // ... another name is not.
        let mut other = reply_to(&q);
        other[14] = b'y';
        assert_eq!(parse_reply(&other, &q), Err(Bad::WrongQuestion));
        let mut qtype = reply_to(&q);
        qtype[26] = 28;
        assert_eq!(parse_reply(&qtype, &q), Err(Bad::WrongQuestion));
        let mut extra = reply_to(&q);
        extra.push(0);
        assert_eq!(parse_reply(&extra, &q), Err(Bad::TrailingBytes));
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_bad_names() {
        let q = query("a", rtype::A, None);
        let mut r = reply_to(&q);
        let at = r.len() - 16;
        // Pointer to itself.
        r[at] = 0xC0;
        r[at + 1] = at as u8;
        assert_eq!(parse_reply(&r, &q), Err(Bad::BadName));
        // Forward pointer.
        r[at + 1] = (at + 4) as u8;
        assert_eq!(parse_reply(&r, &q), Err(Bad::BadName));
        // Two pointers pointing at each other: the second is not backward.
        let mut m = q.clone();
        m[2] = 0x81;
        m[7] = 1;
        let base = m.len();
        m.extend_from_slice(&[0xC0, (base + 2) as u8, 0xC0, base as u8]);
        assert_eq!(parse_reply(&m, &q), Err(Bad::BadName));
    }

    #[test]
    fn authority_and_additional_records_are_kept_as_text() {
        // A referral: the question, then one NS in authority and its glue
        // in additional, names compressed against the question.
        let q = query("www.sub.example.", rtype::A, None);
        let mut r = q.clone();
        r[2] |= 0x80;
        r[8..12].copy_from_slice(&[0, 1, 0, 1]);
        let ns: &[u8] = b"\x02ns\xc0\x10"; // ns.sub.example.
        r.extend_from_slice(&[0xC0, 0x10, 0, 2, 0, 1, 0, 0, 0x0E, 0x10, 0, ns.len() as u8]);
        r.extend_from_slice(ns);
        let ns_at = r.len() - ns.len();
        r.extend_from_slice(&[0xC0, ns_at as u8, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2, 54]);
        let reply = parse_reply(&r, &q).unwrap();
        assert_eq!((reply.answer_rrs, reply.authority_rrs, reply.additional_rrs), (0, 1, 1));
        assert_eq!(reply.authority, ["sub.example.\t3600\tIN\tNS\tns.sub.example."]);
        assert_eq!(reply.additional, ["ns.sub.example.\t3600\tIN\tA\t192.0.2.54"]);
    }

    #[test]
    fn truncation_bit_stops_before_records() {
        let q = query("a", rtype::TXT, None);
        let mut r = q.clone();
        r[2] = 0x83;
        r[7] = 5; // claims five answers, holds none: the server cut them
        let got = parse_reply(&r, &q).unwrap();
        assert!(got.truncated);
        assert_eq!(got.answer_rrs, 0);
    }

    #[test]
    fn extended_rcode_comes_from_opt() {
        let q = query("a", rtype::A, Some(1232));
        let mut r = q.clone();
        r[2] = 0x81;
        r[3] = 0x00;
        // OPT with extended rcode 1 → BADVERS (16).
        let n = r.len();
        r[n - 6] = 1;
        let got = parse_reply(&r, &q).unwrap();
        assert_eq!(got.rcode, 16);
        assert_eq!(got.edns_udp_size, Some(1232));
        assert_eq!(got.additional_rrs, 0);
    }

    #[test]
    fn names_and_codes() {
        assert_eq!(type_from_name("aaaa"), Some(28));
        assert_eq!(type_from_name("TYPE99"), Some(99));
        assert_eq!(type_from_name("nope"), None);
        assert_eq!(rcode_from_name("nxdomain"), Some(3));
        assert_eq!(class_from_name("IN"), Some(1));
    }

    macro_rules! fixture {
        ($f:literal) => {
            include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/dns/", $f))
        };
    }

    #[test]
    fn dnsmasq_answer() {
        let q = fixture!("dnsmasq-a.query");
        let r = parse_reply(fixture!("dnsmasq-a.reply"), q).unwrap();
        assert_eq!(r.rcode, 0);
        assert_eq!(r.answer_rrs, 2);
        assert!(r.answers.iter().any(|a| a.ends_with("\tIN\tA\t192.0.2.10")), "{:?}", r.answers);
    }

    #[test]
    fn dnsmasq_nxdomain() {
        let q = fixture!("dnsmasq-nx.query");
        let r = parse_reply(fixture!("dnsmasq-nx.reply"), q).unwrap();
        assert_eq!(r.rcode, 3);
        assert_eq!(r.answer_rrs, 0);
    }

    #[test]
    fn unbound_answers() {
        let q = fixture!("unbound-mx.query");
        let r = parse_reply(fixture!("unbound-mx.reply"), q).unwrap();
        assert_eq!(r.rcode, 0);
        assert!(r.answer_rrs >= 1);
        assert!(r.answers[0].contains("\tMX\t10 "), "{:?}", r.answers);
        let q = fixture!("unbound-soa.query");
        let r = parse_reply(fixture!("unbound-soa.reply"), q).unwrap();
        assert_eq!(r.serial, Some(2026112101));
        // As dig prints it, so a pattern written from dig's output matches.
        assert_eq!(
            r.answers,
            ["example.test.\t3600\tIN\tSOA\tns.example.test. hostmaster.example.test. 2026112101 3600 900 604800 300"]
        );
        let q = fixture!("unbound-txt-tc.query");
        let r = parse_reply(fixture!("unbound-txt-tc.reply"), q).unwrap();
        assert!(r.truncated);
        let q = fixture!("unbound-txt-tcp.query");
        let r = parse_reply(fixture!("unbound-txt-tcp.reply"), q).unwrap();
        assert!(!r.truncated);
        assert!(r.answer_rrs >= 20, "{}", r.answer_rrs);
    }

    #[test]
    fn every_prefix_of_every_fixture_is_safe() {
        let pairs: &[(&[u8], &[u8])] = &[
            (fixture!("dnsmasq-a.query"), fixture!("dnsmasq-a.reply")),
            (fixture!("dnsmasq-nx.query"), fixture!("dnsmasq-nx.reply")),
            (fixture!("unbound-mx.query"), fixture!("unbound-mx.reply")),
            (fixture!("unbound-soa.query"), fixture!("unbound-soa.reply")),
            (fixture!("unbound-txt-tcp.query"), fixture!("unbound-txt-tcp.reply")),
        ];
        for (q, r) in pairs {
            assert!(parse_reply(r, q).is_ok());
            for n in 0..r.len() {
                // A cut reply is never accepted as whole (TC is not set).
                assert!(parse_reply(&r[..n], q).is_err(), "prefix {n}");
            }
            for i in 0..r.len() {
                let mut m = r.to_vec();
                m[i] ^= 0xFF;
                let _ = parse_reply(&m, q);
            }
        }
    }

    /// `rr(owner, type, rdata)`: one IN record, TTL 60.
    fn rr(out: &mut Vec<u8>, owner: &[u8], typ: u16, rdata: &[u8]) {
        out.extend_from_slice(owner);
        out.extend_from_slice(&typ.to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(rdata);
    }

    #[test]
    fn addresses_follow_the_cname_chain_of_the_question() {
        let q = query("www.example.test", rtype::A, None);
        let mut r = q.clone();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 6;
        // www -> a.example.test (written out), a -> b (compressed), b's A,
        // an A of an unrelated name, a's A (the chain has moved past it),
        // and an AAAA of b, which an A question does not take.
        let a_name = b"\x01a\x07example\x04test\x00";
        rr(&mut r, b"\xc0\x0c", rtype::CNAME, a_name);
        let a_at = r.len() - a_name.len();
        let b = [&[1u8, b'b'][..], &[0xC0, (a_at + 2) as u8]].concat();
        rr(&mut r, &[0xC0, a_at as u8], rtype::CNAME, &b);
        let b_at = r.len() - b.len();
        rr(&mut r, &[0xC0, b_at as u8], rtype::A, &[192, 0, 2, 2]);
        rr(&mut r, b"\x01x\x00", rtype::A, &[192, 0, 2, 66]);
        rr(&mut r, &[0xC0, a_at as u8], rtype::A, &[192, 0, 2, 1]);
        rr(&mut r, &[0xC0, b_at as u8], rtype::AAAA, &[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let got = parse_addresses(&r, &q).unwrap();
        assert_eq!(got.addrs, ["192.0.2.2".parse::<IpAddr>().unwrap()]);
        assert_eq!(got.rcode, 0);
        let q6 = query("www.example.test", rtype::AAAA, None);
        let mut r6 = r.clone();
        r6[12..q6.len()].copy_from_slice(&q6[12..]);
        assert_eq!(parse_addresses(&r6, &q6).unwrap().addrs, ["2001:db8::1".parse::<IpAddr>().unwrap()]);
        // The parse_reply checks hold here too.
        let mut wrong = r.clone();
        wrong[0] ^= 1;
        assert_eq!(parse_addresses(&wrong, &q), Err(Bad::WrongId));
        assert_eq!(parse_addresses(&r[..r.len() - 1], &q), Err(Bad::Truncated));
    }

    #[test]
    fn a_cname_loop_ends_after_max_cnames() {
        let q = query("a", rtype::A, None);
        let mut r = q.clone();
        r[2] = 0x81;
        r[7] = 40;
        for _ in 0..40 {
            rr(&mut r, b"\xc0\x0c", rtype::CNAME, b"\xc0\x0c");
        }
        let got = parse_addresses(&r, &q).unwrap();
        assert!(got.addrs.is_empty());
    }

    #[test]
    fn addresses_from_real_servers() {
        let q = fixture!("dnsmasq-a.query");
        let got = parse_addresses(fixture!("dnsmasq-a.reply"), q).unwrap();
        assert_eq!(got.addrs, ["192.0.2.10".parse::<IpAddr>().unwrap()]);
        let got = parse_addresses(fixture!("dnsmasq-nx.reply"), fixture!("dnsmasq-nx.query")).unwrap();
        assert_eq!((got.rcode, got.addrs.len()), (3, 0));
        let tc = parse_addresses(fixture!("unbound-txt-tc.reply"), fixture!("unbound-txt-tc.query")).unwrap();
        assert!(tc.truncated);
    }
}
