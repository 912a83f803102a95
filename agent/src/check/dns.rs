//! The DNS check: one question to a server over UDP, TCP, or UDP with a
//! retry over TCP when the reply is truncated (RFC 7766 §5), validated by
//! [`crate::wire::dns`].
//!
//! Over UDP a datagram that is not our reply (another ID, another
//! question, garbage) is not the end of the check: a forger or a stale
//! reply must not be able to fail it, and a real reply may still come
//! (RFC 5452 §9.1). The check keeps listening until its deadline; if no
//! valid reply came, the reason is what the last bad datagram was
//! (`wrong_id`, `wrong_question`, `malformed`) rather than a bare
//! `timeout`, so a server answering garbage is told from a silent one.
//!
//! A valid reply may still be the wrong one: each section's records, in
//! the presentation form dig prints, can be held to patterns
//! ([`Expect`], blackbox_exporter's `validate_*_rrs`); an unmet one fails
//! the check as `unexpected_reply`.
//!
//! Invariants: a message read is at most [`MAX_MESSAGE`] bytes (the
//! datagram buffer; a TCP length prefix above it is malformed without
//! being read).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};

use super::{quote, Detail as CheckDetail, Outcome, Probe, Reason, Row};
use crate::sys::time::{random_u64, Deadline};
use crate::wire::dns as wire;
use crate::wire::regex::Regex;

/// Largest message read, over UDP or TCP: DNS's own limit (a TCP
/// message's length prefix is 16 bits, RFC 1035 §4.2.2), so a protocol
/// constant, not one of sonde's capacities in [`crate::limits`].
pub const MAX_MESSAGE: usize = 65535;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    /// UDP, then TCP if the reply has TC set.
    UdpTcp,
}

impl Transport {
    pub fn parse(s: &str) -> Option<Transport> {
        match s {
            "udp" => Some(Transport::Udp),
            "tcp" => Some(Transport::Tcp),
            "udp+tcp" | "udp_tcp" => Some(Transport::UdpTcp),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub query_name: String,
    pub query_type: u16,
    pub query_class: u16,
    pub transport: Transport,
    pub recursion_desired: bool,
    /// EDNS(0) UDP payload size; None sends no OPT record.
    pub edns_udp_size: Option<u16>,
    /// Rcodes that count as success; blackbox_exporter's default is NOERROR.
    pub valid_rcodes: Vec<u16>,
    /// What the answer, authority and additional sections must hold;
    /// boxed, as most checks have none and the check's kinds stay small.
    pub expect: Box<Sections>,
    /// A UDP reply with TC set is taken as it is (blackbox_exporter's
    /// dns prober does), not a failure.
    pub accept_truncated: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    pub answers: Expect,
    pub authority: Expect,
    pub additional: Expect,
}

/// Regular expressions one section's records must meet,
/// each record in presentation form (`name.\tTTL\tIN\tA\t192.0.2.1`, as
/// dig and blackbox_exporter's miekg/dns print it). Only the first
/// [`wire::MAX_KEPT`] records of a section are looked at.
///
/// blackbox_exporter's four lists, as its code reads them:
/// `fail_if_matches_regexp` is `none`, `fail_if_not_matches_regexp` is
/// `all`, `fail_if_none_matches_regexp` is `any`, and
/// `fail_if_all_match_regexp` is `every` (it fails, as coded and tested,
/// unless every record matches every pattern, an empty section passing:
/// not what its name says). sonde's own `expect_*` is `some`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    /// Each pattern matches at least one record.
    pub some: Vec<Regex>,
    /// Every record matches every pattern, and there is a record.
    pub all: Vec<Regex>,
    /// No record matches any pattern.
    pub none: Vec<Regex>,
    /// Some record matches some pattern, and there is a record.
    pub any: Vec<Regex>,
    /// Every record matches every pattern; an empty section passes.
    pub every: Vec<Regex>,
}

impl Expect {
    pub fn met_by(&self, records: &[String]) -> bool {
        let hit = |p: &Regex, r: &String| p.is_match(r);
        let every = |ps: &[Regex]| records.iter().all(|r| ps.iter().all(|p| hit(p, r)));
        self.some.iter().all(|p| records.iter().any(|r| hit(p, r)))
            && (self.all.is_empty() || !records.is_empty() && every(&self.all))
            && !records.iter().any(|r| self.none.iter().any(|p| hit(p, r)))
            && (self.any.is_empty() || records.iter().any(|r| self.any.iter().any(|p| hit(p, r))))
            && every(&self.every)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            query_name: ".".into(),
            // Not ANY (blackbox's default): many resolvers answer NOTIMP
            // to ANY (RFC 8482), which made probes fail for no reason.
            query_type: wire::rtype::A,
            query_class: wire::class::IN,
            transport: Transport::UdpTcp,
            recursion_desired: true,
            edns_udp_size: Some(1232),
            valid_rcodes: vec![0],
            expect: Box::default(),
            accept_truncated: false,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Detail {
    /// None when no valid reply arrived.
    pub rcode: Option<u16>,
    pub answer_rrs: u16,
    pub authority_rrs: u16,
    pub additional_rrs: u16,
    /// Whether a UDP reply had TC set (even if TCP then answered).
    pub truncated: bool,
    pub serial: Option<u32>,
}

impl Probe for Settings {
    fn default_port(&self) -> u16 {
        53
    }

    fn run(&self, _: &str, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
        run(self, addr, deadline)
    }

    fn describe(&self, s: &mut String) {
        s.push_str("\"dns\"\nquery_name = ");
        quote(s, &self.query_name);
        s.push_str("\nquery_type = \"");
        wire::type_name(self.query_type, s);
        s.push('"');
    }

    /// `query_name=` and `query_type=`, as blackbox_exporter's dns prober
    /// takes them.
    fn probe_param(&mut self, key: &str, value: &str) -> Result<(), String> {
        match key {
            "query_name" => {
                let q = wire::Query { id: 0, qname: value, qtype: 1, qclass: 1, rd: true, edns_udp_size: None };
                wire::emit_query(&q, &mut Vec::new()).map_err(|_| "query_name is not a domain name".to_owned())?;
                self.query_name = value.to_owned();
            }
            "query_type" => {
                self.query_type = wire::type_from_name(value).ok_or_else(|| "unknown query_type".to_owned())?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// The built-in module of this kind.
pub fn module(name: &str) -> Option<Result<Settings, &'static str>> {
    (name == "dns").then(|| Ok(Settings::default()))
}

fn detail_of(o: &Outcome) -> Option<&Detail> {
    match &o.detail {
        CheckDetail::Dns(d) => Some(d),
        _ => None,
    }
}

/// The families of DNS checks; a reply's counts only when one came.
pub const ROWS: &[Row] = &[
    Row::new("probe_dns_query_succeeded", "Displays whether or not the query was executed successfully", |o| {
        detail_of(o).map(|d| if d.rcode.is_some() { 1.0 } else { 0.0 })
    }),
    Row::new("probe_dns_rcode", "sonde: The DNS response code of the reply", |o| {
        detail_of(o).and_then(|d| d.rcode).map(f64::from)
    }),
    Row::new("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list", |o| {
        detail_of(o).and_then(|d| d.rcode.map(|_| f64::from(d.answer_rrs)))
    }),
    Row::new("probe_dns_authority_rrs", "Returns number of entries in the authority resource record list", |o| {
        detail_of(o).and_then(|d| d.rcode.map(|_| f64::from(d.authority_rrs)))
    }),
    Row::new("probe_dns_additional_rrs", "Returns number of entries in the additional resource record list", |o| {
        detail_of(o).and_then(|d| d.rcode.map(|_| f64::from(d.additional_rrs)))
    }),
    Row::new("probe_dns_reply_truncated", "sonde: Whether the UDP reply had the TC bit set", |o| {
        detail_of(o).and_then(|d| d.rcode.map(|_| if d.truncated { 1.0 } else { 0.0 }))
    }),
    Row::new("probe_dns_serial", "Returns the serial number of the zone", |o| {
        detail_of(o).and_then(|d| d.serial).map(f64::from)
    }),
];

pub fn run(s: &Settings, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
    let mut detail = Detail::default();
    let reason = exchange(s, addr, deadline, &mut detail).err();
    (reason, CheckDetail::Dns(detail))
}

fn exchange(s: &Settings, addr: SocketAddr, deadline: Deadline, d: &mut Detail) -> Result<(), Reason> {
    let mut query = Vec::with_capacity(64);
    let q = wire::Query {
        id: random_u64() as u16,
        qname: &s.query_name,
        qtype: s.query_type,
        qclass: s.query_class,
        rd: s.recursion_desired,
        edns_udp_size: s.edns_udp_size,
    };
    // The name was checked when the config was read; a bad one is still
    // an outcome, not a panic.
    wire::emit_query(&q, &mut query).map_err(|_| Reason::Error)?;
    let reply = match s.transport {
        Transport::Tcp => over_tcp(&query, addr, deadline)?,
        Transport::Udp | Transport::UdpTcp => {
            let r = over_udp(&query, addr, deadline)?;
            if r.truncated {
                d.truncated = true;
                match s.transport {
                    Transport::UdpTcp => over_tcp(&query, addr, deadline)?,
                    _ if s.accept_truncated => r,
                    _ => return Err(Reason::Truncated),
                }
            } else {
                r
            }
        }
    };
    if reply.truncated && !(s.accept_truncated && s.transport == Transport::Udp) {
        // TC over TCP: the server could not fit even 64 KiB.
        return Err(Reason::Truncated);
    }
    d.rcode = Some(reply.rcode);
    d.answer_rrs = reply.answer_rrs;
    d.authority_rrs = reply.authority_rrs;
    d.additional_rrs = reply.additional_rrs;
    d.serial = reply.serial;
    if !s.valid_rcodes.contains(&reply.rcode) {
        return Err(Reason::BadRcode);
    }
    let e = &s.expect;
    let met = e.answers.met_by(&reply.answers)
        && e.authority.met_by(&reply.authority)
        && e.additional.met_by(&reply.additional);
    if !met {
        return Err(Reason::UnexpectedReply);
    }
    Ok(())
}

fn reason_of(bad: wire::Bad) -> Reason {
    match bad {
        wire::Bad::WrongId => Reason::WrongId,
        wire::Bad::WrongQuestion => Reason::WrongQuestion,
        _ => Reason::Malformed,
    }
}

fn over_udp(query: &[u8], addr: SocketAddr, deadline: Deadline) -> Result<wire::Reply, Reason> {
    let local: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let io = |e: std::io::Error| Reason::of_io(&e);
    let sock = UdpSocket::bind(local).map_err(io)?;
    // connect() so the kernel drops datagrams from other sources and
    // reports ICMP port unreachable as ECONNREFUSED.
    sock.connect(addr).map_err(io)?;
    sock.send(query).map_err(io)?;
    let mut buf = vec![0u8; MAX_MESSAGE];
    let mut last_bad = None;
    loop {
        let Some(timeout) = deadline.left() else { return Err(last_bad.unwrap_or(Reason::Timeout)) };
        sock.set_read_timeout(Some(timeout)).map_err(io)?;
        match sock.recv(&mut buf) {
            Ok(n) => match wire::parse_reply(&buf[..n], query) {
                Ok(r) => return Ok(r),
                Err(bad) => last_bad = Some(reason_of(bad)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let r = Reason::of_io(&e);
                return Err(if r == Reason::Timeout { last_bad.unwrap_or(r) } else { r });
            }
        }
    }
}

fn over_tcp(query: &[u8], addr: SocketAddr, deadline: Deadline) -> Result<wire::Reply, Reason> {
    let io = |e: std::io::Error| Reason::of_io(&e);
    let mut stream = crate::sys::net::connect(addr, deadline.left().ok_or(Reason::Timeout)?).map_err(io)?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    wire::tcp_frame(query, &mut framed);
    stream.set_write_timeout(deadline.left()).map_err(io)?;
    stream.write_all(&framed).map_err(io)?;
    let mut len = [0u8; 2];
    read_exact(&mut stream, &mut len, deadline)?;
    let len = usize::from(u16::from_be_bytes(len));
    if len < wire::HEADER_LEN {
        return Err(Reason::Malformed);
    }
    let mut msg = vec![0u8; len.min(MAX_MESSAGE)];
    read_exact(&mut stream, &mut msg, deadline)?;
    wire::parse_reply(&msg, query).map_err(reason_of)
}

fn read_exact(stream: &mut TcpStream, buf: &mut [u8], deadline: Deadline) -> Result<(), Reason> {
    let mut at = 0;
    while at < buf.len() {
        stream.set_read_timeout(Some(deadline.left().ok_or(Reason::Timeout)?)).map_err(|e| Reason::of_io(&e))?;
        match stream.read(&mut buf[at..]) {
            Ok(0) => return Err(Reason::Malformed),
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Reason::of_io(&e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(some: &[&str], all: &[&str], none: &[&str]) -> Expect {
        let v = |l: &[&str]| l.iter().map(|s| Regex::new(s).unwrap()).collect();
        Expect { some: v(some), all: v(all), none: v(none), ..Expect::default() }
    }

    #[test]
    fn section_expectations_as_blackbox_validates_rrs() {
        // blackbox_exporter's dns_test.go additional section.
        let glue: Vec<String> = ["ns1.isp.net.\t7200\tIN\tA\t127.0.0.1", "ns1.isp.net.\t7200\tIN\tAAAA\t::1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(Expect::default().met_by(&[]));
        assert!(expect(&["^ns1.isp"], &[], &[]).met_by(&glue));
        assert!(!expect(&["127.0.0.3"], &[], &[]).met_by(&glue));
        assert!(!expect(&["127.0.0.1", "127.0.0.3"], &[], &[]).met_by(&glue));
        assert!(expect(&[], &["^ns1.isp"], &[]).met_by(&glue));
        assert!(!expect(&[], &["127.0.0."], &[]).met_by(&glue));
        assert!(!expect(&[], &["^ns"], &[]).met_by(&[]));
        assert!(!expect(&[], &[], &["^ns1.isp"]).met_by(&glue));
        assert!(expect(&[], &[], &["CNAME"]).met_by(&glue));
        assert!(!expect(&["x"], &[], &[]).met_by(&[]));
    }

    /// blackbox's fail_if_none_matches_regexp (`any`) and
    /// fail_if_all_match_regexp (`every`), as its validRRs codes them.
    #[test]
    fn any_and_every_as_blackbox_codes_them() {
        let glue: Vec<String> = ["ns1.isp.net.\t7200\tIN\tA\t127.0.0.1", "ns1.isp.net.\t7200\tIN\tAAAA\t::1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let re = |l: &[&str]| l.iter().map(|s| Regex::new(s).unwrap()).collect::<Vec<_>>();
        let any = |l: &[&str]| Expect { any: re(l), ..Expect::default() };
        let every = |l: &[&str]| Expect { every: re(l), ..Expect::default() };
        assert!(any(&["127.0.0.3", "::1"]).met_by(&glue), "one pattern matching one record is enough");
        assert!(!any(&["127.0.0.3"]).met_by(&glue));
        assert!(!any(&["x"]).met_by(&[]), "an empty section fails");
        assert!(every(&["^ns1.isp"]).met_by(&glue));
        assert!(!every(&["127.0.0.1"]).met_by(&glue), "the AAAA record does not match");
        assert!(every(&["x"]).met_by(&[]), "an empty section passes");
    }
}
