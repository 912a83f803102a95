//! Service checks: TCP with a send/expect dialogue (in TLS, or starting
//! it, with the `tls` feature), DNS and NTP queries,
//! each run against every address its target resolves to.
//!
//! A check is a value ([`Check`]); running it gives one [`Outcome`] per
//! address, each with its address family, and an outcome is a value too:
//! success, or a failure with a [`Reason`] that becomes the `reason` label
//! of `probe_success`. Nothing here returns an error to its caller: a
//! target that does not resolve is an outcome like a refused connection.
//!
//! Address selection differs from blackbox_exporter's on purpose (its
//! `preferred_ip_protocol` tests only the first address of one family,
//! which is how a dual-stack `localhost` came to test only IPv6): with
//! `family = any` every address is checked, so a name whose IPv6 side is
//! down is reported as down on IPv6 and up on IPv4, never as a silent pass
//! or a silent fail.
//!
//! The addresses are checked at once, one scoped thread each, so a
//! dual-stack name with one family blackholed costs one timeout, not one
//! per address; the outcomes come back in a stable order (IPv4, then IPv6,
//! each in resolver order), not in the order the threads finish. A target
//! with one address, the common case, is checked on the caller's thread
//! when that thread has [`ADDRESS_STACK`] at least (the scheduler's, the
//! main thread); `/probe`'s connection threads have less (a TLS check
//! with the system's CA bundle killed sonde on one), so there it gets a
//! thread too, and an address whose thread cannot start (out of threads
//! or memory) fails as `error`, said on stderr, rather than run there.
//!
//! The timeout counts from the start of the check, name lookup included
//! (as blackbox_exporter's), so an address whose lookup took it all fails
//! as `timeout` at once. getaddrinfo itself takes no deadline: a resolver
//! slower than the timeout still holds the check until it answers (its
//! `timeout:` and `attempts:` in resolv.conf bound that), and bounding it
//! would take a thread per lookup.
//!
//! Invariants: every socket operation has a deadline no later than the
//! check's timeout from its start, and every address's attempt starts
//! when the name has resolved; at most [`MAX_ADDRESSES`]
//! addresses per target are checked, so a check has at most that many
//! threads; every byte read
//! from a peer is bounded ([`crate::limits::MAX_DIALOGUE_READ`],
//! [`dns::MAX_MESSAGE`]).

pub mod dns;
pub mod ntp;
pub mod tcp;

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::expo::{Exposition, MetricType};
use crate::limits::{
    ADDRESS_STACK, CHECKS_STACK, MAX_ADDRESSES, MAX_PROBES, MAX_PROBE_BODY, MAX_PROBE_TIMEOUT, PROBE_TIMEOUT,
    PROBE_TIMEOUT_OFFSET,
};
use crate::sys::log;
use crate::sys::time::Deadline;

/// Which address families of the target to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Any,
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn parse(s: &str) -> Option<Family> {
        match s {
            "any" => Some(Family::Any),
            "ipv4" | "ip4" => Some(Family::Ipv4),
            "ipv6" | "ip6" => Some(Family::Ipv6),
            _ => None,
        }
    }

    pub fn of(addr: &IpAddr) -> &'static str {
        if addr.is_ipv4() {
            "ipv4"
        } else {
            "ipv6"
        }
    }

    fn admits(self, addr: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::Ipv4 => addr.is_ipv4(),
            Family::Ipv6 => addr.is_ipv6(),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Family::Any => "any",
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }
}

/// Why a check failed: the `reason` label's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The target's name did not resolve.
    Resolve,
    /// It resolved, but to no address of the family asked.
    NoAddress,
    /// RST to our SYN, or ICMP port unreachable to a datagram.
    Refused,
    Timeout,
    /// ICMP host or network unreachable (an nftables `reject` with an
    /// ICMP type other than port-unreachable), or no route.
    NoRoute,
    /// The peer reset or closed the connection mid-dialogue.
    Reset,
    /// A reply came, but not the one expected (expect pattern not matched,
    /// DNS answer expectations unmet).
    UnexpectedReply,
    /// A DNS reply with an rcode not among the valid ones.
    BadRcode,
    /// A DNS reply that did not parse or was cut short.
    Malformed,
    /// A DNS reply with another ID.
    WrongId,
    /// A DNS reply to another question.
    WrongQuestion,
    /// A DNS reply still truncated (over UDP without TCP fallback, or TC
    /// set over TCP).
    Truncated,
    /// An NTP reply whose origin is not our nonce.
    WrongOrigin,
    /// NTP kiss-o'-death (stratum 0).
    KissOfDeath,
    /// NTP server unsynchronised (stratum 16, leap 3) or too far from its
    /// reference (root distance).
    Unsynchronized,
    /// The server's certificate was refused: an unknown CA, expired, not
    /// valid for the name (`tls = true` or a `starttls` step).
    Certificate,
    /// Any other TLS failure: an alert, a peer that does not speak TLS
    /// or closes during the handshake, an unreadable CA file.
    Tls,
    /// Any other socket error.
    Error,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Resolve => "resolve",
            Reason::NoAddress => "no_address",
            Reason::Refused => "refused",
            Reason::Timeout => "timeout",
            Reason::NoRoute => "no_route",
            Reason::Reset => "reset",
            Reason::UnexpectedReply => "unexpected_reply",
            Reason::BadRcode => "bad_rcode",
            Reason::Malformed => "malformed",
            Reason::WrongId => "wrong_id",
            Reason::WrongQuestion => "wrong_question",
            Reason::Truncated => "truncated",
            Reason::WrongOrigin => "wrong_origin",
            Reason::KissOfDeath => "kiss_of_death",
            Reason::Unsynchronized => "unsynchronized",
            Reason::Certificate => "certificate",
            Reason::Tls => "tls",
            Reason::Error => "error",
        }
    }

    /// The reason for a socket error, by errno where std has no kind.
    pub fn of_io(e: &io::Error) -> Reason {
        match e.raw_os_error() {
            Some(libc::ECONNREFUSED) => Reason::Refused,
            Some(libc::ETIMEDOUT | libc::EAGAIN | libc::EINPROGRESS) => Reason::Timeout,
            Some(libc::EHOSTUNREACH | libc::ENETUNREACH | libc::EADDRNOTAVAIL | libc::EACCES | libc::EPERM) => {
                Reason::NoRoute
            }
            Some(libc::ECONNRESET | libc::EPIPE | libc::ECONNABORTED) => Reason::Reset,
            _ => match e.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Reason::Timeout,
                io::ErrorKind::ConnectionRefused => Reason::Refused,
                io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof => Reason::Reset,
                _ => Reason::Error,
            },
        }
    }
}

/// What kind of check, with its kind's settings.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Tcp(tcp::Settings),
    Dns(dns::Settings),
    Ntp(ntp::Settings),
}

impl Kind {
    fn default_port(&self) -> u16 {
        match self {
            Kind::Tcp(_) => 0,
            Kind::Dns(_) => 53,
            Kind::Ntp(_) => 123,
        }
    }
}

/// One configured check (`[[check]]`) or one `/probe` request.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: String,
    /// `host:port`, `[v6]:port`, or a host alone where the kind has a port.
    pub target: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub family: Family,
    pub kind: Kind,
}

/// Kind-specific results.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Detail {
    #[default]
    None,
    Tcp {
        connect_seconds: Option<f64>,
        failed_due_to_regex: bool,
        /// Empty unless the check spoke TLS.
        tls: tcp::Tls,
    },
    Dns(dns::Detail),
    Ntp(ntp::Detail),
}

/// One address's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// None when resolution failed before any address.
    pub addr: Option<SocketAddr>,
    /// None on success.
    pub reason: Option<Reason>,
    pub seconds: f64,
    /// The check's timeout (`probe_timeout_seconds`, so that
    /// `probe_duration_seconds / probe_timeout_seconds` matches label for
    /// label, as blackbox_exporter's README suggests).
    pub timeout_seconds: f64,
    /// Time to resolve the target's name (zero for an address).
    pub lookup_seconds: f64,
    pub detail: Detail,
}

/// Splits `host:port`, `[v6]:port`, a bare IPv6 address or a bare host.
pub fn split_target(target: &str, default_port: u16) -> Option<(&str, u16)> {
    if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((host, port));
    }
    if target.parse::<std::net::Ipv6Addr>().is_ok() {
        return Some((target, default_port));
    }
    match target.rsplit_once(':') {
        Some((h, p)) => Some((h, p.parse().ok()?)),
        None => Some((target, default_port)),
    }
    .filter(|(h, p)| !h.is_empty() && *p != 0)
}

/// The target's addresses of the family asked, deduplicated, at most
/// [`MAX_ADDRESSES`] (cut in resolver order), IPv4 first: the resolver's
/// own order depends on the host's routes and gai.conf, and a report
/// should not reorder itself when they change.
pub fn resolve(target: &str, default_port: u16, family: Family) -> Result<Vec<SocketAddr>, Reason> {
    let (host, port) = split_target(target, default_port).ok_or(Reason::Resolve)?;
    let all: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (host, port).to_socket_addrs().map_err(|_| Reason::Resolve)?.collect(),
    };
    let mut out: Vec<SocketAddr> = Vec::new();
    for a in all {
        if family.admits(&a.ip()) && !out.contains(&a) && out.len() < MAX_ADDRESSES {
            out.push(a);
        }
    }
    if out.is_empty() {
        return Err(Reason::NoAddress);
    }
    // A stable partition of at most MAX_ADDRESSES: no sort needed.
    let v4 = out.iter().filter(|a| a.is_ipv4());
    Ok(v4.chain(out.iter().filter(|a| a.is_ipv6())).copied().collect())
}

/// Runs the check against every address at once; never fails, never
/// panics. The outcomes are in [`resolve`]'s order. Call it on a thread
/// with at least [`ADDRESS_STACK`] of stack.
pub fn run(check: &Check) -> Vec<Outcome> {
    run_on(check, true)
}

/// [`run`]; `here`: a lone address may be checked on this thread.
fn run_on(check: &Check, here: bool) -> Vec<Outcome> {
    let start = Instant::now();
    let addrs = match resolve(&check.target, check.kind.default_port(), check.family) {
        Ok(a) => a,
        Err(reason) => {
            return vec![Outcome {
                addr: None,
                reason: Some(reason),
                seconds: start.elapsed().as_secs_f64(),
                timeout_seconds: check.timeout.as_secs_f64(),
                lookup_seconds: start.elapsed().as_secs_f64(),
                detail: Detail::None,
            }]
        }
    };
    let lookup_seconds = start.elapsed().as_secs_f64();
    let timeout_seconds = check.timeout.as_secs_f64();
    // The name lookup spends the same budget: a /probe answers within
    // the scrape timeout even when the resolver is slow.
    let deadline = Deadline::at(start + check.timeout);
    let one = |addr: SocketAddr| {
        let t = Instant::now();
        let (reason, detail) = match &check.kind {
            _ if deadline.passed() => (Some(Reason::Timeout), Detail::None),
            Kind::Tcp(s) => tcp::run(s, &check.target, addr, deadline),
            Kind::Dns(s) => dns::run(s, addr, deadline),
            Kind::Ntp(s) => ntp::run(s, addr, deadline),
        };
        Outcome {
            addr: Some(addr),
            reason,
            seconds: t.elapsed().as_secs_f64(),
            timeout_seconds,
            lookup_seconds,
            detail,
        }
    };
    if let ([addr], true) = (&addrs[..], here) {
        // No thread to start and end every interval for most checks.
        // (Also what keeps Debian 12's qemu-i386 from crashing on the
        // next signal after a thread has ended: its emulation bug.)
        return vec![one(*addr)];
    }
    std::thread::scope(|scope| {
        let started: Vec<_> = addrs
            .iter()
            .map(|&addr| {
                let thread = std::thread::Builder::new().name("check".into()).stack_size(ADDRESS_STACK);
                let spawned = if no_threads() { Err(io::ErrorKind::OutOfMemory.into()) } else { Ok(thread) };
                (addr, spawned.and_then(|t| t.spawn_scoped(scope, move || one(addr))))
            })
            .collect();
        // Joined in the addresses' order, whichever finishes first. An
        // address whose thread could not start (out of threads or memory)
        // is checked here, late rather than never, where this thread's
        // stack allows; else (a /probe connection thread) it reports
        // `error`, as does one that panicked (a bug; release builds abort).
        let error = |addr| Outcome {
            addr: Some(addr),
            reason: Some(Reason::Error),
            seconds: 0.0,
            timeout_seconds,
            lookup_seconds,
            detail: Detail::None,
        };
        started
            .into_iter()
            .map(|(addr, thread)| match thread {
                Ok(t) => t.join().unwrap_or(error(addr)),
                Err(_) if here => one(addr),
                Err(e) => {
                    log::error!("cannot start a thread to check {addr}: {e}");
                    error(addr)
                }
            })
            .collect()
    })
}

#[cfg(test)]
thread_local! {
    /// Tests: thread starts on this thread fail, as out of threads.
    static NO_THREADS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn no_threads() -> bool {
    #[cfg(test)]
    return NO_THREADS.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

/// FNV-1a (32 bits) over the address's 4 or 16 octets, as
/// blackbox_exporter's `probe_ip_addr_hash`, so a dashboard sees the
/// same value from either.
pub fn fnv1a32(ip: &IpAddr) -> u32 {
    let octets: Vec<u8> = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    octets.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The latest outcomes of each configured check, shared between the
/// scheduler thread (writer) and the scraper (reader).
pub type Results = Arc<Mutex<Vec<(String, Family, Vec<Outcome>)>>>;

/// Starts the scheduler thread: each check runs at its interval, one at a
/// time, on this thread, so a slow check delays other checks but never a
/// scrape. Returns the shared results.
pub fn start(checks: Vec<Check>) -> io::Result<Results> {
    let results: Results =
        Arc::new(Mutex::new(checks.iter().map(|c| (c.name.clone(), c.family, Vec::new())).collect()));
    if checks.is_empty() {
        return Ok(results);
    }
    let shared = Arc::clone(&results);
    std::thread::Builder::new().name("checks".into()).stack_size(CHECKS_STACK).spawn(move || {
        let now = Instant::now();
        let mut due: Vec<Instant> = checks.iter().map(|_| now).collect();
        loop {
            let Some((i, &next)) = due.iter().enumerate().min_by_key(|(_, d)| **d) else { return };
            // Wake at least every second to see whether the results are
            // still wanted: a reload that changes the checks drops the
            // scraper's handle and starts another scheduler, and this one
            // ends when it is the last holder.
            loop {
                if Arc::strong_count(&shared) == 1 {
                    return;
                }
                let wait = next.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    break;
                }
                std::thread::sleep(wait.min(Duration::from_secs(1)));
            }
            let outcomes = run(&checks[i]);
            due[i] = next + checks[i].interval;
            if due[i] < Instant::now() {
                // Fell behind (a check took longer than its interval):
                // skip the missed runs rather than run back to back.
                due[i] = Instant::now() + checks[i].interval;
            }
            if let Some(slot) = shared.lock().unwrap_or_else(PoisonError::into_inner).get_mut(i) {
                slot.2 = outcomes;
            }
        }
    })?;
    Ok(results)
}

/// Writes the probe families for `checks`: `(check name, family asked,
/// outcomes)`. An empty name (a `/probe` request) leaves out the `check`
/// label, as blackbox_exporter's output has none.
pub fn render(checks: &[(String, Family, Vec<Outcome>)], out: &mut Exposition) {
    type Get = fn(&Outcome) -> Option<f64>;
    let families: &[(&str, &str, Get)] = &[
        ("probe_success", "Displays whether or not the probe was a success", |o| {
            Some(if o.reason.is_none() { 1.0 } else { 0.0 })
        }),
        ("probe_duration_seconds", "Returns how long the probe took to complete in seconds", |o| Some(o.seconds)),
        ("probe_timeout_seconds", "Returns how long the probe timeout is in seconds", |o| Some(o.timeout_seconds)),
        ("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds", |o| {
            Some(o.lookup_seconds)
        }),
        (
            "probe_ip_addr_hash",
            "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
            |o| o.addr.map(|a| f64::from(fnv1a32(&a.ip()))),
        ),
        ("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6", |o| {
            Some(match o.addr {
                Some(a) if a.is_ipv4() => 4.0,
                Some(_) => 6.0,
                None => 0.0,
            })
        }),
        ("probe_tcp_connect_duration_seconds", "sonde: Time to establish the TCP connection in seconds", |o| {
            match o.detail {
                Detail::Tcp { connect_seconds, .. } => connect_seconds,
                _ => None,
            }
        }),
        ("probe_failed_due_to_regex", "Indicates if probe failed due to regex", |o| match o.detail {
            Detail::Tcp { failed_due_to_regex, .. } => Some(if failed_due_to_regex { 1.0 } else { 0.0 }),
            _ => None,
        }),
        // With a `version` label, added below.
        #[cfg(feature = "tls")]
        ("probe_tls_version_info", "Returns the TLS version used or NaN when unknown", |o| match &o.detail {
            Detail::Tcp { tls, .. } => tls.version.map(|_| 1.0),
            _ => None,
        }),
        #[cfg(feature = "tls")]
        ("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime", |o| match &o.detail {
            Detail::Tcp { tls, .. } => tls.earliest_expiry.map(|t| t as f64),
            _ => None,
        }),
        ("probe_dns_query_succeeded", "Displays whether or not the query was executed successfully", |o| {
            match &o.detail {
                Detail::Dns(d) => Some(if d.rcode.is_some() { 1.0 } else { 0.0 }),
                _ => None,
            }
        }),
        ("probe_dns_rcode", "sonde: The DNS response code of the reply", |o| match &o.detail {
            Detail::Dns(d) => d.rcode.map(f64::from),
            _ => None,
        }),
        ("probe_dns_answer_rrs", "Returns number of entries in the answer resource record list", |o| match &o.detail {
            Detail::Dns(d) => d.rcode.map(|_| f64::from(d.answer_rrs)),
            _ => None,
        }),
        ("probe_dns_authority_rrs", "Returns number of entries in the authority resource record list", |o| {
            match &o.detail {
                Detail::Dns(d) => d.rcode.map(|_| f64::from(d.authority_rrs)),
                _ => None,
            }
        }),
        ("probe_dns_additional_rrs", "Returns number of entries in the additional resource record list", |o| match &o
            .detail
        {
            Detail::Dns(d) => d.rcode.map(|_| f64::from(d.additional_rrs)),
            _ => None,
        }),
        ("probe_dns_reply_truncated", "sonde: Whether the UDP reply had the TC bit set", |o| match &o.detail {
            Detail::Dns(d) => d.rcode.map(|_| if d.truncated { 1.0 } else { 0.0 }),
            _ => None,
        }),
        ("probe_dns_serial", "Returns the serial number of the zone", |o| match &o.detail {
            Detail::Dns(d) => d.serial.map(f64::from),
            _ => None,
        }),
        ("probe_ntp_offset_seconds", "sonde: Offset of the server's clock from ours (RFC 5905 theta)", |o| {
            match &o.detail {
                Detail::Ntp(n) => n.offset,
                _ => None,
            }
        }),
        ("probe_ntp_rtt_seconds", "sonde: NTP round-trip delay (RFC 5905 delta)", |o| match &o.detail {
            Detail::Ntp(n) => n.delay,
            _ => None,
        }),
        ("probe_ntp_stratum", "sonde: Stratum of the NTP server", |o| match &o.detail {
            Detail::Ntp(n) => n.stratum.map(f64::from),
            _ => None,
        }),
        ("probe_ntp_leap", "sonde: Leap indicator of the NTP server", |o| match &o.detail {
            Detail::Ntp(n) => n.leap.map(f64::from),
            _ => None,
        }),
        ("probe_ntp_root_distance_seconds", "sonde: Root delay / 2 + root dispersion of the NTP server", |o| match &o
            .detail
        {
            Detail::Ntp(n) => n.root_distance,
            _ => None,
        }),
    ];
    for (i, &(name, help, get)) in families.iter().enumerate() {
        let values: Vec<_> = checks
            .iter()
            .flat_map(|(check, fam, outcomes)| outcomes.iter().map(move |o| (check, fam, o)))
            .filter_map(|(check, fam, o)| get(o).map(|v| (check, fam, o, v)))
            .collect();
        if values.is_empty() {
            continue;
        }
        out.family(name, help, MetricType::Gauge);
        for (check, fam, o, v) in values {
            let address = o.addr.map(|a| a.ip().to_string()).unwrap_or_default();
            let family = o.addr.map_or(fam.as_str(), |a| Family::of(&a.ip()));
            let mut labels: Vec<(&str, &str)> = Vec::with_capacity(4);
            if !check.is_empty() {
                labels.push(("check", check));
            }
            labels.push(("address", &address));
            labels.push(("family", family));
            if i == 0 {
                labels.push(("reason", o.reason.map_or("", Reason::as_str)));
            }
            #[cfg(feature = "tls")]
            if let ("probe_tls_version_info", Detail::Tcp { tls, .. }) = (name, &o.detail) {
                labels.push(("version", tls.version.unwrap_or_default()));
            }
            out.sample(&labels, v);
        }
    }
}

/// Runs every check once, now, one after another (`--once`).
pub fn run_all(checks: &[Check]) -> Results {
    Arc::new(Mutex::new(checks.iter().map(|c| (c.name.clone(), c.family, run(c))).collect()))
}

/// `%XX` and `+` decoded; None when not UTF-8 or a bad escape.
fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A `/probe` answer.
pub struct ProbeAnswer {
    pub body: Vec<u8>,
    /// `debug=true`: the body is blackbox_exporter's plain-text debug
    /// page, not an exposition.
    pub debug: bool,
}

/// A `/probe` request refused before any check ran, with
/// blackbox_exporter's status: 400 for an unknown module, a missing
/// target or a bad parameter; 500 for a scrape timeout header that is not
/// a number; 503 when [`MAX_PROBES`] are running already.
#[derive(Debug)]
pub struct ProbeError {
    pub status: u16,
    pub message: String,
}

/// Answers `GET /probe?module=M&target=T[&query_name=N][&query_type=T][&debug=true]`
/// as blackbox_exporter does: the probe families of that one check, no
/// `check` label. Modules: the built-in `tcp_connect`, `smtp_banner`,
/// `ssh_banner`, `dns`, `ntp`, with TLS `tls_connect` and `smtp_starttls`
/// (the system's CA bundle; `hostname=` names the certificate's name when
/// the target is an address, as blackbox_exporter's), and the name of any
/// configured check (its settings, this target). `scrape_timeout` is the request's
/// `X-Prometheus-Scrape-Timeout-Seconds` header ([`probe_timeout`]).
pub fn probe(query: &str, scrape_timeout: Option<&[u8]>, configured: &[Check]) -> Result<ProbeAnswer, ProbeError> {
    let bad = |message: String| ProbeError { status: 400, message };
    let (mut module, mut target, mut query_name, mut query_type, mut debug) = (None, None, None, None, false);
    let mut hostname = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = unescape(v).ok_or_else(|| bad(format!("bad escape in {k}")))?;
        match k {
            "module" => module = Some(v),
            "target" => target = Some(v),
            "query_name" => query_name = Some(v),
            "query_type" => query_type = Some(v),
            "hostname" => hostname = Some(v),
            "debug" => debug = v == "true",
            _ => {}
        }
    }
    // blackbox_exporter's order: the module, the timeout, the target.
    let module = module.unwrap_or_else(|| "tcp_connect".into());
    let (mut kind, own) = match module.as_str() {
        "tcp_connect" => (Kind::Tcp(tcp::Settings::default()), None),
        "smtp_banner" => (Kind::Tcp(tcp::Settings::smtp_banner()), None),
        "ssh_banner" => (Kind::Tcp(tcp::Settings::ssh_banner()), None),
        #[cfg(feature = "tls")]
        "tls_connect" => (Kind::Tcp(tcp::Settings::tls_connect()), None),
        #[cfg(feature = "tls")]
        "smtp_starttls" => (Kind::Tcp(tcp::Settings::smtp_starttls()), None),
        #[cfg(not(feature = "tls"))]
        "tls_connect" | "smtp_starttls" => return Err(bad(format!("module {module}: {}", crate::tls::WITHOUT_TLS))),
        "dns" => (Kind::Dns(dns::Settings::default()), None),
        "ntp" => (Kind::Ntp(ntp::Settings::default()), None),
        name => match configured.iter().find(|c| c.name == name) {
            Some(c) => (c.kind.clone(), Some(c)),
            None => return Err(bad(format!("Unknown module \"{name}\""))),
        },
    };
    let timeout =
        probe_timeout(scrape_timeout, own.map(|c| c.timeout)).map_err(|message| ProbeError { status: 500, message })?;
    let target = target.filter(|t| !t.is_empty()).ok_or_else(|| bad("Target parameter is missing".into()))?;
    if let Kind::Dns(s) = &mut kind {
        if let Some(n) = query_name {
            let mut scratch = Vec::new();
            let q = crate::wire::dns::Query { id: 0, qname: &n, qtype: 1, qclass: 1, rd: true, edns_udp_size: None };
            crate::wire::dns::emit_query(&q, &mut scratch)
                .map_err(|_| bad("query_name is not a domain name".into()))?;
            s.query_name = n;
        }
        if let Some(t) = query_type {
            s.query_type = crate::wire::dns::type_from_name(&t).ok_or_else(|| bad("unknown query_type".into()))?;
        }
    }
    if let Kind::Tcp(s) = &mut kind {
        if s.tls_config.server_name.is_none() {
            s.tls_config.server_name = hostname;
        }
    }
    let family = own.map_or(Family::Any, |c| c.family);
    let check = Check { name: String::new(), target, interval: timeout, timeout, family, kind };
    let _running = Running::start().ok_or_else(|| ProbeError {
        status: 503,
        message: format!("Too many probes at once: {MAX_PROBES} are running; try again later"),
    })?;
    // A connection thread's stack is too small for a check's.
    let results = [(String::new(), family, run_on(&check, false))];
    let mut out = Exposition::new(MAX_PROBE_BODY);
    render(&results, &mut out);
    let body = if debug { debug_page(&module, &check, &results[0].2, out.as_bytes()) } else { out.as_bytes().to_vec() };
    Ok(ProbeAnswer { body, debug })
}

/// `/probe` checks running now.
static PROBES: AtomicUsize = AtomicUsize::new(0);

/// One of [`PROBES`], given back when dropped.
struct Running;

impl Running {
    /// None when [`MAX_PROBES`] are running.
    fn start() -> Option<Running> {
        if PROBES.fetch_add(1, Ordering::AcqRel) < MAX_PROBES {
            return Some(Running);
        }
        PROBES.fetch_sub(1, Ordering::AcqRel);
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        PROBES.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A `/probe` check's timeout, as blackbox_exporter's: the scrape timeout
/// Prometheus sends (`X-Prometheus-Scrape-Timeout-Seconds`) less
/// [`PROBE_TIMEOUT_OFFSET`], so the answer is back before Prometheus gives
/// up; the module's own timeout (a configured check's) when that is
/// smaller. With no header (or 0, which blackbox also reads as none): the
/// module's own, else [`PROBE_TIMEOUT`]. A header that leaves nothing after
/// the offset gives the module's own, else zero: the check fails at once
/// with `timeout`, and `probe_timeout_seconds` 0 says why. Never more than
/// [`MAX_PROBE_TIMEOUT`]. Err: the header is not a number (a 500).
pub fn probe_timeout(header: Option<&[u8]>, own: Option<Duration>) -> Result<Duration, String> {
    let scrape = match header {
        None => 0.0,
        Some(v) => {
            std::str::from_utf8(v).ok().and_then(|s| s.trim().parse::<f64>().ok()).filter(|s| !s.is_nan()).ok_or_else(
                || {
                    let shown = String::from_utf8_lossy(v);
                    format!("Failed to parse timeout from Prometheus header: '{shown}' is not a number of seconds")
                },
            )?
        }
    };
    let left = scrape - PROBE_TIMEOUT_OFFSET.as_secs_f64();
    let timeout = match own {
        _ if scrape == 0.0 => own.unwrap_or(PROBE_TIMEOUT),
        Some(o) if o.as_secs_f64() < left => o,
        _ if left <= 0.0 => own.unwrap_or(Duration::ZERO),
        // min first: from_secs_f64 would panic past u64 seconds.
        _ => Duration::from_secs_f64(left.min(MAX_PROBE_TIMEOUT.as_secs_f64())),
    };
    Ok(timeout.min(MAX_PROBE_TIMEOUT))
}

/// blackbox_exporter's `debug=true` page: the probe's log, the metrics it
/// would have returned, and the module it ran. The checks keep no log of
/// their own, so its lines are told from the outcomes, one per address.
fn debug_page(module: &str, check: &Check, outcomes: &[Outcome], metrics: &[u8]) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(1024 + metrics.len());
    let timeout = check.timeout.as_secs_f64();
    s.push_str("Logs for the probe:\nlevel=info module=");
    quote(&mut s, module);
    s.push_str(" target=");
    quote(&mut s, &check.target);
    let _ = writeln!(s, " msg=\"Beginning probe\" timeout_seconds={timeout}");
    for o in outcomes {
        let reason = o.reason.map_or("", Reason::as_str);
        let Some(addr) = o.addr else {
            let _ = writeln!(s, "level=error msg=\"Error resolving address\" reason={reason}");
            continue;
        };
        let (level, msg) = if o.reason.is_none() { ("info", "Probe succeeded") } else { ("error", "Probe failed") };
        let _ = writeln!(
            s,
            "level={level} msg=\"{msg}\" address={addr} family={} reason={reason} duration_seconds={}",
            Family::of(&addr.ip()),
            o.seconds
        );
    }
    s.push_str("\n\n\nMetrics that would have been returned:\n");
    s.push_str(&String::from_utf8_lossy(metrics));
    s.push_str("\n\n\nModule configuration:\nkind = ");
    match &check.kind {
        Kind::Tcp(t) => {
            s.push_str("\"tcp\"\ndialogue = [");
            for (i, step) in t.steps.iter().enumerate() {
                s.push_str(if i == 0 { "" } else { ", " });
                match step {
                    tcp::Step::Expect(p) => quote(&mut s, &format!("expect {p}")),
                    tcp::Step::Send(t) => quote(&mut s, &format!("send {t}")),
                    tcp::Step::StartTls => quote(&mut s, "starttls"),
                }
            }
            s.push(']');
            if t.tls {
                s.push_str("\ntls = true");
            }
        }
        Kind::Dns(d) => {
            s.push_str("\"dns\"\nquery_name = ");
            quote(&mut s, &d.query_name);
            s.push_str("\nquery_type = \"");
            crate::wire::dns::type_name(d.query_type, &mut s);
            s.push('"');
        }
        Kind::Ntp(n) => {
            let _ = write!(s, "\"ntp\"\nmax_root_distance = {}", n.max_root_distance);
        }
    }
    let _ = writeln!(s, "\nfamily = \"{}\"\ntimeout = \"{timeout}s\"", check.family.as_str());
    s.into_bytes()
}

/// Appends `v` in double quotes, `"` and `\` escaped and control
/// characters shown as `?`: a target from the URL cannot forge a line of
/// the debug page. (std's escape_debug costs 1.7 KB on armv7.)
fn quote(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Says each failed check on stderr, one line per address (`--once`:
/// cron mails it); true when any failed.
pub fn report_failures(results: &Results) -> bool {
    let mut any = false;
    for (name, _, outcomes) in results.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        for o in outcomes {
            if let Some(reason) = o.reason {
                any = true;
                match o.addr {
                    Some(a) => {
                        // TLS failures say what rustls said, after the reason.
                        let why = match &o.detail {
                            Detail::Tcp { tls, .. } => tls.error().map(|e| format!(": {e}")).unwrap_or_default(),
                            _ => String::new(),
                        };
                        let family = Family::of(&a.ip());
                        log::warn!("check {name} failed on {a} ({family}): {}{why}", reason.as_str())
                    }
                    None => log::warn!("check {name} failed: {}", reason.as_str()),
                }
            }
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_like_blackbox() {
        assert_eq!(split_target("mail:25", 0), Some(("mail", 25)));
        assert_eq!(split_target("[::1]:53", 53), Some(("::1", 53)));
        assert_eq!(split_target("::1", 53), Some(("::1", 53)));
        assert_eq!(split_target("ns1", 53), Some(("ns1", 53)));
        assert_eq!(split_target("ns1", 0), None);
        assert_eq!(split_target("[::1", 53), None);
        assert_eq!(split_target(":25", 0), None);
    }

    #[test]
    fn families_filter_addresses() {
        assert_eq!(resolve("127.0.0.1:1", 0, Family::Ipv6), Err(Reason::NoAddress));
        assert_eq!(resolve("[::1]:1", 0, Family::Any).unwrap().len(), 1);
    }

    #[test]
    fn probe_parameters_are_unescaped_and_checked() {
        assert_eq!(unescape("a%2Eb+c"), Some("a.b c".into()));
        assert_eq!(unescape("%zz"), None);
        let refused = |query: &str, header: Option<&[u8]>| probe(query, header, &[]).err().map(|e| e.status);
        assert_eq!(refused("module=tcp_connect", None), Some(400));
        assert_eq!(refused("module=dns&target=127.0.0.1&query_name=a..b", None), Some(400));
        let unknown = probe("module=nope&target=127.0.0.1:1", None, &[]).err().unwrap();
        assert_eq!((unknown.status, unknown.message.as_str()), (400, "Unknown module \"nope\""));
        // blackbox_exporter's order: the module first, then the header, then the target.
        assert_eq!(refused("module=nope", Some(b"x")), Some(400));
        assert_eq!(refused("module=tcp_connect", Some(b"ten")), Some(500));
        assert_eq!(refused("module=tcp_connect", Some(b"\xff")), Some(500));
    }

    #[test]
    fn debug_page_values_cannot_forge_lines() {
        let mut s = String::new();
        quote(&mut s, "a\"b\\\nlevel=info");
        assert_eq!(s, r#""a\"b\\?level=info""#);
    }

    #[test]
    fn probe_timeout_is_the_scrape_timeout_less_the_offset_or_the_modules_own() {
        let t = |header: Option<&str>, own: Option<u64>| {
            probe_timeout(header.map(str::as_bytes), own.map(Duration::from_secs)).map(|d| d.as_secs_f64())
        };
        assert_eq!(t(None, None), Ok(5.0));
        assert_eq!(t(None, Some(9)), Ok(9.0));
        assert_eq!(t(Some("0"), Some(9)), Ok(9.0));
        assert_eq!(t(Some("2"), None), Ok(1.5));
        assert_eq!(t(Some(" 10 "), Some(3)), Ok(3.0));
        assert_eq!(t(Some("10"), Some(30)), Ok(9.5));
        assert_eq!(t(Some("0.4"), None), Ok(0.0));
        assert_eq!(t(Some("-1"), Some(3)), Ok(3.0));
        assert_eq!(t(Some("1e300"), None), Ok(30.0));
        assert_eq!(t(Some("inf"), None), Ok(30.0));
        assert_eq!(t(Some("1000"), None), Ok(30.0));
        assert_eq!(t(None, Some(1000)), Ok(30.0));
        assert!(t(Some("NaN"), None).unwrap_err().starts_with("Failed to parse timeout from Prometheus header"));
    }

    /// Out of threads, a lone address is checked on the caller's thread
    /// only where its stack allows (not a /probe connection thread's).
    #[test]
    fn an_address_without_a_thread_fails_unless_it_may_run_here() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let check = Check {
            name: String::new(),
            target: l.local_addr().unwrap().to_string(),
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            family: Family::Any,
            kind: Kind::Tcp(tcp::Settings::default()),
        };
        NO_THREADS.with(|n| n.set(true));
        let reasons = |here| run_on(&check, here).iter().map(|o| o.reason).collect::<Vec<_>>();
        let (probe, scheduler) = (reasons(false), reasons(true));
        NO_THREADS.with(|n| n.set(false));
        assert_eq!(probe, [Some(Reason::Error)]);
        assert_eq!(scheduler, [None]);
        assert_eq!(reasons(false), [None]);
    }

    #[test]
    fn at_most_max_probes_run_at_once() {
        let running: Vec<_> = (0..MAX_PROBES).map_while(|_| Running::start()).collect();
        assert_eq!(running.len(), MAX_PROBES);
        assert!(Running::start().is_none());
        assert!(Running::start().is_none());
        drop(running);
        let again: Vec<_> = (0..MAX_PROBES + 1).filter_map(|_| Running::start()).collect();
        assert_eq!(again.len(), MAX_PROBES);
    }

    #[test]
    fn address_hash_is_fnv1a_over_the_octets() {
        // FNV-1a 32 of 127.0.0.1's four octets (Python, from the FNV spec).
        assert_eq!(fnv1a32(&"127.0.0.1".parse().unwrap()), 0xdaaf_40ed);
        assert_ne!(fnv1a32(&"::1".parse().unwrap()), fnv1a32(&"127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn refused_is_a_reason_not_an_error() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(Reason::of_io(&e), Reason::Refused);
        assert_eq!(Reason::of_io(&io::Error::from_raw_os_error(libc::EHOSTUNREACH)), Reason::NoRoute);
    }
}
