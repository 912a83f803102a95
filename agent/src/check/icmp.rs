//! The ICMP check: echo requests to an address, blackbox_exporter's icmp
//! prober with its option and metric names, and what its users asked for
//! and were refused: `count` echoes per run, with the loss ratio and the
//! round trips' minimum, average, maximum and deviation.
//!
//! The socket is a datagram ("ping") socket where
//! `net.ipv4.ping_group_range` lets this process's group open one, else a
//! raw socket (root or CAP_NET_RAW), as blackbox tries them; when neither
//! opens, the check fails as `no_socket` and its words say what each
//! attempt answered and what would allow one. The echoes go out spaced
//! evenly over the first half of the time left (a second apart at most),
//! so the last has at least half the timeout to come back; a reply counts
//! once, if its sequence number is one sent, its payload ours (a random
//! nonce per run) and, on a raw socket, its identifier ours. The check
//! passes if any echo is answered (ping(8)'s verdict); `probe_icmp_
//! duration_seconds{phase="rtt"}` is the first answered one's round trip.
//!
//! The families beyond blackbox's are a `[[check]]`'s only
//! ([`Settings::stats`]), so a blackbox.yml module or the built-in `icmp`
//! gives exactly blackbox's: `probe_icmp_packets_sent`,
//! `probe_icmp_packets_received`, `probe_icmp_packet_loss_ratio`,
//! `probe_icmp_rtt_{min,avg,max,stddev}_seconds` (the standard deviation
//! of the population, ping's mdev; these four only with a reply) and
//! `probe_icmp_socket_info{socket="datagram"|"raw"}`.
//!
//! Invariants: every wait ends by the check's deadline; at most
//! [`MAX_ICMP_COUNT`] echoes per run, with their state in one small
//! vector; a reply is read into one buffer of `MAX_REPLY` bytes.

use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Detail as CheckDetail, Outcome, Probe, Reason, Row};
use crate::limits::MAX_ICMP_COUNT;
use crate::sys::icmp::{Flavor, Options, Socket};
use crate::sys::log;
use crate::sys::time::{random_u64, Deadline};
use crate::wire::icmp as wire;

/// Largest reply read: an echo of the largest payload sent, an IPv4
/// header and a margin; longer datagrams are cut and then not ours.
const MAX_REPLY: usize = 65536 + 64;

/// blackbox's payload length when `payload_size` is 0 (its text,
/// "Prometheus Blackbox Exporter", is 28 bytes).
const DEFAULT_PAYLOAD: usize = 28;

/// The longest wait between two echoes of a run.
const MAX_SPACING: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Bytes after the ICMP header; 0: blackbox's 28.
    pub payload_size: usize,
    /// TTL or hop limit; None: the system's. blackbox sets 64 unless told.
    pub ttl: Option<u8>,
    /// IPv4 only, as blackbox: refuse to fragment.
    pub dont_fragment: bool,
    /// Echoes per run.
    pub count: u32,
    /// Report sonde's own families (a `[[check]]`), beyond blackbox's.
    pub stats: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { payload_size: 0, ttl: Some(64), dont_fragment: false, count: 1, stats: false }
    }
}

/// What one address answered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detail {
    /// Opening the socket.
    pub setup: f64,
    /// The first answered echo's round trip.
    pub rtt: Option<f64>,
    /// The TTL or hop limit of the first reply, when the kernel gave it.
    pub hop_limit: Option<u8>,
    pub socket: Option<Flavor>,
    pub sent: u32,
    pub received: u32,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub sum_squares: f64,
    pub stats: bool,
    /// Why no socket opened, or why a send failed, for stderr.
    pub words: Option<String>,
}

impl Probe for Settings {
    fn default_port(&self) -> u16 {
        0
    }

    fn authority<'t>(&self, target: &'t str) -> Result<(&'t str, u16), String> {
        match crate::wire::hostport::split(target) {
            Some((host, None)) => Ok((host, 0)),
            _ => Err(format!("'{target}' is not a host name or address (an icmp target has no port)")),
        }
    }

    fn run(&self, _: &str, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
        let mut d = Detail { stats: self.stats, ..Detail::default() };
        let reason = echo(self, addr.ip(), deadline, &mut d).err();
        (reason, CheckDetail::Icmp(Box::new(d)))
    }

    fn unresolved(&self) -> CheckDetail {
        CheckDetail::Icmp(Box::new(Detail { stats: self.stats, ..Detail::default() }))
    }

    fn describe(&self, s: &mut String) {
        let _ = write!(
            s,
            "\"icmp\"\npayload_size = {}\ndont_fragment = {}\ncount = {}",
            self.payload(),
            self.dont_fragment,
            self.count
        );
        if let Some(ttl) = self.ttl {
            let _ = write!(s, "\nttl = {ttl}");
        }
    }
}

impl Settings {
    fn payload(&self) -> usize {
        if self.payload_size == 0 {
            DEFAULT_PAYLOAD
        } else {
            self.payload_size
        }
    }
}

/// The built-in module of this kind: blackbox's example `icmp`.
pub fn module(name: &str) -> Option<Result<Settings, &'static str>> {
    (name == "icmp").then(|| Ok(Settings::default()))
}

fn detail_of(o: &Outcome) -> Option<&Detail> {
    match &o.detail {
        CheckDetail::Icmp(d) => Some(d),
        _ => None,
    }
}

fn stats_of(o: &Outcome) -> Option<&Detail> {
    detail_of(o).filter(|d| d.stats)
}

fn answered(o: &Outcome) -> Option<&Detail> {
    stats_of(o).filter(|d| d.received > 0)
}

/// blackbox's phases, in its (sorted) order.
const PHASES: &[&str] = &["resolve", "rtt", "setup"];

/// The families of ICMP checks: blackbox's, then sonde's own.
pub const ROWS: &[Row] = &[
    Row::split(
        "probe_icmp_duration_seconds",
        "Duration of icmp request by phase",
        |o| detail_of(o).map(|_| 0.0),
        "phase",
        PHASES,
        |o, i| {
            let Some(d) = detail_of(o) else { return 0.0 };
            [o.lookup_seconds, d.rtt.unwrap_or(0.0), d.setup][i]
        },
    ),
    Row::new("probe_icmp_reply_hop_limit", "Replied packet hop limit (TTL for ipv4)", |o| {
        detail_of(o).and_then(|d| d.hop_limit).map(f64::from)
    }),
    Row::new("probe_icmp_packets_sent", "sonde: Echo requests sent in the last run", |o| {
        stats_of(o).map(|d| f64::from(d.sent))
    }),
    Row::new("probe_icmp_packets_received", "sonde: Echo replies received in the last run", |o| {
        stats_of(o).map(|d| f64::from(d.received))
    }),
    Row::new("probe_icmp_packet_loss_ratio", "sonde: Echo requests of the last run left unanswered, 0 to 1", |o| {
        stats_of(o).filter(|d| d.sent > 0).map(|d| f64::from(d.sent - d.received) / f64::from(d.sent))
    }),
    Row::new("probe_icmp_rtt_min_seconds", "sonde: Shortest echo round trip of the last run", |o| {
        answered(o).map(|d| d.min)
    }),
    Row::new("probe_icmp_rtt_avg_seconds", "sonde: Mean echo round trip of the last run", |o| {
        answered(o).map(|d| d.sum / f64::from(d.received))
    }),
    Row::new("probe_icmp_rtt_max_seconds", "sonde: Longest echo round trip of the last run", |o| {
        answered(o).map(|d| d.max)
    }),
    Row::new(
        "probe_icmp_rtt_stddev_seconds",
        "sonde: Standard deviation of the echo round trips of the last run (ping's mdev)",
        |o| {
            answered(o).map(|d| {
                let n = f64::from(d.received);
                let mean = d.sum / n;
                (d.sum_squares / n - mean * mean).max(0.0).sqrt()
            })
        },
    ),
    Row::info(
        "probe_icmp_socket_info",
        "sonde: The kind of ICMP socket the check could open (datagram needs no privilege)",
        |o| stats_of(o).and_then(|d| d.socket).map(|_| 1.0),
        |o| ("socket", stats_of(o).and_then(|d| d.socket).map_or("", Flavor::as_str)),
    ),
];

/// Said once per process: a box where neither socket opens stays so.
static SAID_NO_SOCKET: AtomicBool = AtomicBool::new(false);

/// A datagram socket, else a raw one; Err: why neither, in words.
fn open(dest: IpAddr, o: Options) -> Result<Socket, String> {
    let dgram = match Socket::open(dest, Flavor::Datagram, o) {
        Ok(s) => return Ok(s),
        Err(e) => e,
    };
    let raw = match Socket::open(dest, Flavor::Raw, o) {
        Ok(s) => return Ok(s),
        Err(e) => e,
    };
    // SAFETY: getgid(2) cannot fail.
    let gid = unsafe { libc::getgid() };
    let mut range = Vec::new();
    let range = match crate::sys::file::read_bounded("/proc/sys/net/ipv4/ping_group_range".as_ref(), &mut range, 64) {
        Ok(()) => String::from_utf8_lossy(&range).split_whitespace().collect::<Vec<_>>().join(" "),
        Err(_) => "unknown".into(),
    };
    Err(format!(
        "an ICMP datagram socket: {dgram} (this group, {gid}, is outside net.ipv4.ping_group_range \"{range}\"?); \
         a raw socket: {raw} (it needs root or CAP_NET_RAW)"
    ))
}

fn echo(s: &Settings, dest: IpAddr, deadline: Deadline, d: &mut Detail) -> Result<(), Reason> {
    let t = Instant::now();
    let o = Options { ttl: s.ttl, dont_fragment: s.dont_fragment && dest.is_ipv4() };
    let sock = match open(dest, o) {
        Ok(sock) => sock,
        Err(words) => {
            if !SAID_NO_SOCKET.swap(true, Ordering::Relaxed) {
                log::warn!("icmp: cannot open a socket to {dest}: {words}");
            }
            d.words = Some(words);
            return Err(Reason::NoSocket);
        }
    };
    d.setup = t.elapsed().as_secs_f64();
    d.socket = Some(sock.flavor);
    let v6 = dest.is_ipv6();
    let raw_v4 = sock.flavor == Flavor::Raw && !v6;
    let nonce = random_u64();
    let id = nonce as u16;
    let first_seq = (nonce >> 16) as u16;
    // The nonce, then a pattern, cut or padded to the payload's size.
    let payload: Vec<u8> =
        nonce.to_be_bytes().iter().chain(b"sonde ".iter().cycle()).copied().take(s.payload()).collect();
    let mut request = vec![0u8; wire::HEADER_LEN + payload.len()];
    let count = s.count.clamp(1, MAX_ICMP_COUNT);
    let spacing = deadline.left().unwrap_or_default().checked_div(2 * count).unwrap_or_default().min(MAX_SPACING);
    let mut sent_at: Vec<Option<Instant>> = vec![None; count as usize];
    let mut answered = vec![false; count as usize];
    let mut buf = vec![0u8; MAX_REPLY];
    let mut next = Instant::now();
    let mut failure = None;
    loop {
        let now = Instant::now();
        if (d.sent as usize) < sent_at.len() && now >= next {
            let i = d.sent as usize;
            let seq = first_seq.wrapping_add(i as u16);
            let n = wire::emit_echo(v6, id, seq, &payload, &mut request).unwrap_or_default();
            sent_at[i] = Some(Instant::now());
            d.sent += 1;
            next += spacing;
            if let Err(e) = sock.send(&request[..n]) {
                d.words = Some(format!("sending an echo: {e}"));
                failure = Some(Reason::of_io(&e));
            }
            continue;
        }
        if d.received == count {
            break;
        }
        if deadline.passed() {
            break;
        }
        let sending = (d.sent as usize) < sent_at.len();
        let until = if sending { next.min(deadline.instant()) } else { deadline.instant() };
        let wait = until.saturating_duration_since(now);
        if wait.is_zero() {
            // The next echo is due.
            continue;
        }
        let (n, hop) = match sock.recv(&mut buf, wait) {
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => continue,
            Err(e) => {
                // An ICMP error answering an echo (unreachable, prohibited).
                failure = Some(Reason::of_io(&e));
                d.words = Some(format!("an echo was answered: {e}"));
                continue;
            }
        };
        let at = Instant::now();
        let Ok(reply) = wire::parse_reply(v6, raw_v4, &buf[..n]) else { continue };
        let i = usize::from(reply.seq.wrapping_sub(first_seq));
        let ours = reply.payload == payload.as_slice() && (sock.flavor == Flavor::Datagram || reply.id == id);
        let Some(Some(sent)) = sent_at.get(i).filter(|_| ours && !answered[i]) else { continue };
        answered[i] = true;
        let rtt = (at - *sent).as_secs_f64();
        if d.received == 0 {
            d.rtt = Some(rtt);
            d.hop_limit = reply.ttl.or(hop);
            d.min = rtt;
            d.max = rtt;
        }
        d.received += 1;
        d.min = d.min.min(rtt);
        d.max = d.max.max(rtt);
        d.sum += rtt;
        d.sum_squares += rtt * rtt;
    }
    if d.received > 0 {
        return Ok(());
    }
    Err(failure.unwrap_or(Reason::Timeout))
}
