//! The NTP check: one RFC 5905 client-mode query, validated by
//! [`crate::wire::ntp`], reporting offset, delay, stratum, leap and root
//! distance.
//!
//! As in the DNS check, a datagram that fails validation (another origin,
//! garbage) does not end the check: it keeps listening until its
//! deadline, then reports what the last bad datagram was. A reply that is
//! ours but says the server is unfit (kiss-o'-death, unsynchronised, too
//! far from its reference) ends it at once: that is the server's answer.

use std::net::{SocketAddr, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

use super::render::Row;
use super::{Detail as CheckDetail, Outcome, Probe, Reason};
use crate::sys::time::{random_u64, Deadline};
use crate::wire::ntp as wire;

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Root distance above which the server fails ([`wire::MAX_DISTANCE`]).
    pub max_root_distance: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { max_root_distance: wire::MAX_DISTANCE }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detail {
    pub offset: Option<f64>,
    pub delay: Option<f64>,
    pub stratum: Option<u8>,
    pub leap: Option<u8>,
    pub root_distance: Option<f64>,
}

fn now() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    wire::from_unix(d.as_secs(), d.subsec_nanos())
}

impl Probe for Settings {
    fn default_port(&self) -> u16 {
        123
    }

    fn run(&self, _: &str, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
        run(self, addr, deadline)
    }

    fn describe(&self, s: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(s, "\"ntp\"\nmax_root_distance = {}", self.max_root_distance);
    }
}

/// The built-in module of this kind.
pub fn module(name: &str) -> Option<Result<Settings, &'static str>> {
    (name == "ntp").then(|| Ok(Settings::default()))
}

fn detail_of(o: &Outcome) -> Option<&Detail> {
    match &o.detail {
        CheckDetail::Ntp(d) => Some(d),
        _ => None,
    }
}

/// The families of NTP checks.
pub const ROWS: &[Row] = &[
    Row::new("probe_ntp_offset_seconds", "sonde: Offset of the server's clock from ours (RFC 5905 theta)", |o| {
        detail_of(o).and_then(|d| d.offset)
    }),
    Row::new("probe_ntp_rtt_seconds", "sonde: NTP round-trip delay (RFC 5905 delta)", |o| {
        detail_of(o).and_then(|d| d.delay)
    }),
    Row::new("probe_ntp_stratum", "sonde: Stratum of the NTP server", |o| {
        detail_of(o).and_then(|d| d.stratum).map(f64::from)
    }),
    Row::new("probe_ntp_leap", "sonde: Leap indicator of the NTP server", |o| {
        detail_of(o).and_then(|d| d.leap).map(f64::from)
    }),
    Row::new("probe_ntp_root_distance_seconds", "sonde: Root delay / 2 + root dispersion of the NTP server", |o| {
        detail_of(o).and_then(|d| d.root_distance)
    }),
];

pub fn run(s: &Settings, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
    let mut d = Detail::default();
    let reason = exchange(s, addr, deadline, &mut d).err();
    (reason, CheckDetail::Ntp(d))
}

fn exchange(s: &Settings, addr: SocketAddr, deadline: Deadline, d: &mut Detail) -> Result<(), Reason> {
    let io = |e: std::io::Error| Reason::of_io(&e);
    let local: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let sock = UdpSocket::bind(local).map_err(io)?;
    sock.connect(addr).map_err(io)?;
    let nonce = random_u64();
    let request = wire::emit_request(nonce);
    // T1 and T4 from the wall clock, as the offset is against it; the
    // interval between them from the monotonic clock would be better, but
    // RFC 5905's formulas want both on one timescale.
    let t1 = now();
    sock.send(&request).map_err(io)?;
    let mut buf = [0u8; 1024];
    let mut last_bad = None;
    loop {
        let Some(timeout) = deadline.left() else { return Err(last_bad.unwrap_or(Reason::Timeout)) };
        sock.set_read_timeout(Some(timeout)).map_err(io)?;
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let r = Reason::of_io(&e);
                return Err(if r == Reason::Timeout { last_bad.unwrap_or(r) } else { r });
            }
        };
        let t4 = now();
        match wire::parse_reply(&buf[..n], nonce) {
            Ok(r) => {
                let (offset, delay) = r.offset_delay(t1, t4);
                d.offset = Some(offset);
                d.delay = Some(delay);
                d.stratum = Some(r.stratum);
                d.leap = Some(r.leap);
                d.root_distance = Some(r.root_distance());
                if r.root_distance() > s.max_root_distance {
                    return Err(Reason::Unsynchronized);
                }
                return Ok(());
            }
            Err(wire::Bad::KissOfDeath(_)) => return Err(Reason::KissOfDeath),
            Err(wire::Bad::Unsynchronized | wire::Bad::TooFar) => return Err(Reason::Unsynchronized),
            Err(wire::Bad::WrongOrigin) => last_bad = Some(Reason::WrongOrigin),
            Err(_) => last_bad = Some(Reason::Malformed),
        }
    }
}
