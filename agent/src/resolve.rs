//! Names to addresses: sonde's own stub resolver, bounded by the caller's
//! deadline.
//!
//! getaddrinfo(3) takes no deadline, so a check whose timeout was 5 s
//! could hang on a dead nameserver for as long as resolv.conf's timeouts
//! add up; blackbox_exporter uses Go's own resolver with the probe's
//! deadline, and so does sonde now (it also keeps musl's getaddrinfo and
//! what it pulls, some 20 KB, out of the static binary). Every check,
//! push, log forward and notification resolves through [`lookup`].
//!
//! What it does, in musl's order, so an operator's files mean what they
//! meant to the C library:
//! 1. an IP literal (`192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`,
//!    `fe80::1%eth0` or `%2`) is its own address;
//! 2. /etc/hosts: every line naming the host, in file order (the first
//!    [`MAX_HOSTS_BYTES`] of the file are read, a line at most
//!    [`MAX_HOSTS_LINE`]); any match ends the lookup;
//! 3. `localhost` and `*.localhost` are the loopback addresses (RFC 6761
//!    §6.3), so they work on a box whose hosts file lacks them and that
//!    has no DNS;
//! 4. the nameservers of /etc/resolv.conf ([`crate::wire::resolv`]): A
//!    and AAAA asked at once of every nameserver over UDP, each query sent
//!    again every `timeout / attempts` seconds, the first answer per
//!    question taken (NOERROR or NXDOMAIN; SERVFAIL and REFUSED wait for
//!    another server, as musl does, until every server has answered
//!    so). A reply counts only from the server
//!    asked (a connected socket per server, a source port the kernel
//!    picks at random), with our random ID and our question
//!    ([`crate::wire::dns::parse_addresses`], which also follows the
//!    answer's CNAME chain). A truncated reply is asked again over TCP.
//!    A name with fewer dots than `ndots` is tried with each `search`
//!    domain first, then as it is; a trailing dot means as it is only.
//!
//! Each name tried waits at most resolv.conf's `timeout`, and the whole
//! lookup never past the caller's deadline. The addresses come IPv4 first,
//! then IPv6, each family in the order of the file or the answer:
//! musl sorted them by RFC 3484 instead, which a check's report partitions
//! back anyway (`check::run`), and a client trying them in turn gets
//! IPv4 first where it used to get whichever family the routes favoured.
//! A UDP reply is at most [`MAX_UDP`] bytes (no EDNS is asked for, so a
//! server sends 512 at most), a TCP one at most 64 KiB.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::sys::net::wait_readable;
use crate::sys::time::{random_u64, Deadline};
use crate::wire::dns::{self, class, emit_query, parse_addresses, rtype, Addresses, Query};
use crate::wire::resolv::{hosts_line, Conf, MAX_DOMAIN};

const HOSTS: &str = "/etc/hosts";
const RESOLV_CONF: &str = "/etc/resolv.conf";
/// The part of /etc/hosts read: a block list of 100,000 names is past it.
pub const MAX_HOSTS_BYTES: u64 = 1 << 20;
/// A longer hosts line is cut here.
pub const MAX_HOSTS_LINE: usize = 1024;
/// The part of /etc/resolv.conf read.
const MAX_RESOLV_CONF: usize = 64 * 1024;
/// A datagram read; a longer one is cut, then refused as truncated.
pub const MAX_UDP: usize = 1232;
/// Addresses returned, of both families together.
pub const MAX_RESULTS: usize = dns::MAX_KEPT;

/// Why a name has no address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Not a host name: empty, too long, an empty label, a character no
    /// name has.
    BadName,
    /// NXDOMAIN, under every name tried.
    NoSuchName,
    /// The name exists, without an A or AAAA record.
    NoAddress,
    /// A nameserver answered SERVFAIL and none answered better.
    ServerFailure,
    /// A nameserver answered with another error (REFUSED: 5).
    Rcode(u16),
    /// No answer before the deadline (or resolv.conf's timeout).
    Timeout,
    /// No nameserver could be asked (ICMP unreachable, no route, no
    /// socket).
    Unreachable,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadName => f.write_str("not a host name"),
            Error::NoSuchName => f.write_str("no such name (NXDOMAIN)"),
            Error::NoAddress => f.write_str("no address for the name"),
            Error::ServerFailure => f.write_str("the nameserver failed (SERVFAIL)"),
            Error::Rcode(rc) => write!(f, "the nameserver answered rcode {rc}"),
            Error::Timeout => f.write_str("no answer from the nameservers in time"),
            Error::Unreachable => f.write_str("no nameserver could be reached"),
        }
    }
}

impl Error {
    /// As an I/O error for a client that connects, naming the host.
    pub fn io(self, host: &str) -> io::Error {
        let kind = match self {
            Error::NoSuchName | Error::NoAddress => io::ErrorKind::NotFound,
            Error::Timeout => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("{host}: {self}"))
    }
}

/// The addresses of `host` with `port`, never empty, found by
/// `deadline`.
pub fn lookup(host: &str, port: u16, deadline: Deadline) -> Result<Vec<SocketAddr>, Error> {
    if let Some(a) = literal(host, port) {
        return Ok(vec![a]);
    }
    let ips = lookup_name(host, deadline)?;
    Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, port)).collect())
}

fn lookup_name(name: &str, deadline: Deadline) -> Result<Vec<IpAddr>, Error> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || b >= 0x80;
    if bare.is_empty() || bare.len() > MAX_DOMAIN || !bare.bytes().all(valid) {
        return Err(Error::BadName);
    }
    let mut found = Vec::new();
    from_hosts(Path::new(HOSTS), bare, &mut found);
    if found.is_empty() && (bare.eq_ignore_ascii_case("localhost") || ends_with_ignore_case(bare, ".localhost")) {
        found = vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from(Ipv6Addr::LOCALHOST)];
    }
    if !found.is_empty() {
        return Ok(ipv4_first(found));
    }
    let mut text = Vec::new();
    // A missing or unreadable file means the defaults, as in every libc.
    let _ = crate::sys::file::read_bounded(Path::new(RESOLV_CONF), &mut text, MAX_RESOLV_CONF);
    let conf = Conf::parse(&text);
    let dots = bare.bytes().filter(|&b| b == b'.').count();
    let mut last = Error::NoSuchName;
    if !name.ends_with('.') && dots < usize::from(conf.ndots) {
        for domain in &conf.search {
            let full = format!("{bare}.{domain}");
            if full.len() > MAX_DOMAIN {
                continue;
            }
            match ask(&full, &conf, deadline) {
                Ok(ips) => return Ok(ips),
                // Only "not here" moves on to the next domain: a failing
                // server must not turn into another domain's answer.
                Err(e @ (Error::NoSuchName | Error::NoAddress)) => last = e,
                Err(e) => return Err(e),
            }
        }
    }
    match ask(bare, &conf, deadline) {
        // A search domain's "no address" says more than NXDOMAIN here.
        Err(Error::NoSuchName) if last == Error::NoAddress => Err(last),
        r => r,
    }
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len() && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// IPv4 first, each family in its order, duplicates and the excess left out.
fn ipv4_first(mut ips: Vec<IpAddr>) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = Vec::with_capacity(ips.len().min(MAX_RESULTS));
    ips.sort_by_key(IpAddr::is_ipv6); // stable
    for ip in ips {
        if !out.contains(&ip) && out.len() < MAX_RESULTS {
            out.push(ip);
        }
    }
    out
}

/// An IP address written as a host, with an optional IPv6 zone.
fn literal(host: &str, port: u16) -> Option<SocketAddr> {
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    let (ip, zone) = host.split_once('%')?;
    let ip: Ipv6Addr = ip.parse().ok()?;
    let scope = match zone.parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            let c = std::ffi::CString::new(zone).ok()?;
            // SAFETY: a NUL-terminated string that outlives the call.
            let n = unsafe { libc::if_nametoindex(c.as_ptr()) };
            (n != 0).then_some(n)?
        }
    };
    Some(SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope)))
}

/// The addresses the hosts file at `path` gives `name`, appended to `out`.
fn from_hosts(path: &Path, name: &str, out: &mut Vec<IpAddr>) {
    let Ok(file) = File::open(path) else { return };
    let mut r = BufReader::with_capacity(4096, file.take(MAX_HOSTS_BYTES));
    let mut line = Vec::with_capacity(256);
    let mut rest_of_long_line = false;
    while out.len() < MAX_RESULTS {
        line.clear();
        match r.by_ref().take(MAX_HOSTS_LINE as u64).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let whole = line.ends_with(b"\n");
        if !std::mem::replace(&mut rest_of_long_line, !whole) {
            out.extend(hosts_line(&line, name));
        }
    }
}

/// The two questions of one name, and what came back for each.
struct Ask {
    queries: [Vec<u8>; 2],
    answers: [Option<Addresses>; 2],
}

/// Asks every nameserver for `name`'s A and AAAA records.
fn ask(name: &str, conf: &Conf, deadline: Deadline) -> Result<Vec<IpAddr>, Error> {
    let start = Instant::now();
    let end = deadline.instant().min(start + Duration::from_secs(conf.timeout.into()));
    let resend = Duration::from_secs(conf.timeout.into()) / u32::from(conf.attempts);
    let id = random_u64();
    let mut a = Ask { queries: [Vec::new(), Vec::new()], answers: [None, None] };
    for (i, qtype) in [rtype::A, rtype::AAAA].into_iter().enumerate() {
        let q =
            Query { id: (id >> (16 * i)) as u16, qname: name, qtype, qclass: class::IN, rd: true, edns_udp_size: None };
        emit_query(&q, &mut a.queries[i]).map_err(|_| Error::BadName)?;
    }
    // One connected socket per server: the kernel drops datagrams from
    // any other address and says when the server's port is unreachable.
    let mut servers: Vec<(SocketAddr, Option<UdpSocket>)> = conf
        .nameservers
        .iter()
        .map(|&ip| {
            let server = SocketAddr::new(ip, 53);
            let any: SocketAddr = if ip.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
            let sock = UdpSocket::bind(any).and_then(|s| s.connect(server).and(s.set_nonblocking(true)).map(|()| s));
            (server, sock.ok())
        })
        .collect();
    let mut refused = None;
    // Which questions each server has answered with an error: once every
    // server still asked has, nothing better is coming.
    let mut failed = vec![[false; 2]; servers.len()];
    let mut next_send = start;
    let mut buf = vec![0u8; MAX_UDP];
    while a.answers.iter().any(Option::is_none) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if now >= next_send {
            for (_, sock) in &mut servers {
                for (q, _) in a.queries.iter().zip(&a.answers).filter(|(_, ans)| ans.is_none()) {
                    if sock.as_ref().is_some_and(|s| s.send(q).is_err()) {
                        *sock = None;
                    }
                }
            }
            next_send = now + resend;
        }
        let fds: Vec<_> = servers.iter().filter_map(|(_, s)| s.as_ref().map(AsRawFd::as_raw_fd)).collect();
        if fds.is_empty() {
            break;
        }
        let wait = (next_send.min(end) - now).as_millis().clamp(1, 60_000) as i32;
        if wait_readable(&fds, wait).is_err() {
            break;
        }
        for ((server, sock), failed) in servers.iter_mut().zip(&mut failed) {
            while let Some(s) = sock.as_ref() {
                let n = match s.recv(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        // ICMP port unreachable, from an earlier send.
                        *sock = None;
                        break;
                    }
                };
                if let Some((i, rc)) = take(&mut a, &buf[..n], *server, end) {
                    failed[i] = true;
                    refused = Some(rc);
                }
            }
        }
        let hopeless = |i: usize| servers.iter().zip(&failed).all(|((_, s), f)| s.is_none() || f[i]);
        if (0..2).all(|i| a.answers[i].is_some() || hopeless(i)) {
            break;
        }
    }
    let [v4, v6] = a.answers;
    if v4.iter().chain(&v6).any(|r| r.rcode == 3) {
        return Err(Error::NoSuchName);
    }
    let answered = v4.is_some() && v6.is_some();
    let ips: Vec<IpAddr> = v4.into_iter().chain(v6).flat_map(|r| r.addrs).collect();
    if !ips.is_empty() {
        // One family's answer is enough; the other's silence costs time,
        // not the lookup.
        return Ok(ipv4_first(ips));
    }
    if answered {
        return Err(Error::NoAddress);
    }
    match refused {
        Some(2) => Err(Error::ServerFailure),
        Some(rc) => Err(Error::Rcode(rc)),
        None if servers.iter().all(|(_, s)| s.is_none()) => Err(Error::Unreachable),
        None => Err(Error::Timeout),
    }
}

/// Reads one datagram from `server` as the answer to one of `a`'s
/// questions; a truncated answer is asked again over TCP. Returns the
/// question and rcode of an error answer (SERVFAIL, REFUSED, ...).
fn take(a: &mut Ask, msg: &[u8], server: SocketAddr, end: Instant) -> Option<(usize, u16)> {
    for i in 0..2 {
        if a.answers[i].is_some() {
            continue;
        }
        let Ok(mut r) = parse_addresses(msg, &a.queries[i]) else { continue };
        if r.truncated {
            match over_tcp(&a.queries[i], server, Deadline::at(end)) {
                Some(full) if !full.truncated => r = full,
                _ => return None,
            }
        }
        match r.rcode {
            0 | 3 => a.answers[i] = Some(r),
            rc => return Some((i, rc)),
        }
        return None;
    }
    None
}

/// The TCP answer of `server` to `query`, by `deadline`.
fn over_tcp(query: &[u8], server: SocketAddr, deadline: Deadline) -> Option<Addresses> {
    let mut s: TcpStream = crate::sys::net::connect(server, deadline.left()?).ok()?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    dns::tcp_frame(query, &mut framed);
    s.set_write_timeout(deadline.left()).ok()?;
    s.write_all(&framed).ok()?;
    let mut len = [0u8; 2];
    read_exact(&mut s, &mut len, deadline)?;
    // A 16-bit length: at most 64 KiB, DNS's own bound.
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    read_exact(&mut s, &mut msg, deadline)?;
    parse_addresses(&msg, query).ok()
}

fn read_exact(s: &mut TcpStream, buf: &mut [u8], deadline: Deadline) -> Option<()> {
    let mut at = 0;
    while at < buf.len() {
        s.set_read_timeout(Some(deadline.left()?)).ok()?;
        match s.read(&mut buf[at..]) {
            Ok(0) => return None,
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn literals_need_no_lookup() {
        let d = Deadline::after(Duration::from_millis(1));
        assert_eq!(lookup("192.0.2.1", 80, d), Ok(vec!["192.0.2.1:80".parse().unwrap()]));
        assert_eq!(lookup("2001:db8::1", 80, d), Ok(vec!["[2001:db8::1]:80".parse().unwrap()]));
        assert_eq!(lookup("[2001:db8::1]", 80, d), Ok(vec!["[2001:db8::1]:80".parse().unwrap()]));
        assert_eq!(lookup("fe80::1%7", 80, d), Ok(vec![SocketAddr::V6(SocketAddrV6::new(ip6("fe80::1"), 80, 0, 7))]));
        assert_eq!(literal("fe80::1%lo", 1).map(|a| matches!(a, SocketAddr::V6(v) if v.scope_id() > 0)), Some(true));
        assert_eq!(literal("fe80::1%no-such-interface", 1), None);
    }

    fn ip6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn what_is_not_a_host_name_is_refused_before_any_lookup() {
        let d = Deadline::after(Duration::from_secs(5));
        for bad in ["", ".", "a b", "a/b", "a..b", "-x%", &"a".repeat(254), &format!("{}.x", "a".repeat(64))] {
            assert_eq!(lookup(bad, 1, d), Err(Error::BadName), "{bad:?}");
        }
    }

    #[test]
    fn localhost_resolves_without_any_nameserver() {
        let d = Deadline::after(Duration::from_secs(5));
        let all = lookup("localhost", 1, d).unwrap();
        assert!(all.iter().all(|a| a.ip().is_loopback()), "{all:?}");
        assert!(all[0].is_ipv4(), "{all:?}");
    }

    #[test]
    fn hosts_give_every_line_naming_the_host_ipv4_first() {
        let dir = std::env::temp_dir().join(format!("sonde-hosts-{}", std::process::id()));
        let long = format!("192.0.2.9 {} x\n", "y".repeat(2 * MAX_HOSTS_LINE));
        let text = format!("::1 x\n# 192.0.2.99 x\n{long}192.0.2.1 a x\n192.0.2.2 X.\n192.0.2.1 x\n");
        std::fs::write(&dir, text).unwrap();
        let mut out = Vec::new();
        from_hosts(&dir, "x", &mut out);
        std::fs::remove_file(&dir).unwrap();
        // The long line is cut and its tail is not read as a line.
        assert_eq!(out, [ip("::1"), ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.1")]);
        assert_eq!(ipv4_first(out), [ip("192.0.2.1"), ip("192.0.2.2"), ip("::1")]);
    }

    #[test]
    fn errors_name_the_host_for_clients() {
        let e = Error::NoSuchName.io("push.example");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(e.to_string(), "push.example: no such name (NXDOMAIN)");
        assert_eq!(Error::Timeout.io("x").kind(), io::ErrorKind::TimedOut);
    }
}
