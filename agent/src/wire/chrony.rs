//! chronyd's command and monitoring protocol ("candm"), version 6: the
//! requests sonde sends and the replies it reads.
//!
//! Spec: chrony's `candm.h` (layouts and codes), `pktlength.c` (lengths),
//! `cmdmon.c` (what each release sends) and `util.c` (the number formats),
//! as surveyed in `shared/reference/exporters.md` §2. Nothing here is taken
//! from chrony's or chrony-candm's code (both GPL): only the protocol.
//!
//! ```text
//! request: version(6) pkt_type(1) res1 res2 | command:u16 attempt:u16 |
//!          sequence:u32 | pad1:u32 | pad2:u32 | data… | zero padding
//!          0            1           2    3      4           6
//!          8            12           16         20
//! reply:   version(6) pkt_type(2) res1 res2 | command:u16 reply:u16 |
//!          status:u16 pad1 pad2 pad3 | sequence:u32 | pad4 pad5 | data…
//!          0                            4            6
//!          8                            16             20          28
//! ```
//!
//! All integers are big-endian. Three types recur in the data:
//! - `Float` (4 bytes): 7-bit signed exponent over a 25-bit signed
//!   coefficient, value = coef · 2^(exp − 25) ([`float`]);
//! - `Timespec` (12 bytes): seconds high and low words and nanoseconds; a
//!   high word of 0x7fffffff means a server with a 32-bit `time_t`
//!   ([`Timespec`]);
//! - `IPAddr` (20 bytes): 16 address bytes, a family, two bytes of padding
//!   ([`Address`]).
//!
//! chronyd answers a request only if the request is at least as long as the
//! reply (its guard against amplification), so [`Request::emit`] pads each
//! request to the longest reply any release sends for it; a short request
//! gets no answer at all. Over UDP chronyd answers only its "open" commands;
//! the others come back with [`Status::Unauth`], a value here, not an error.
//!
//! Invariants: no I/O, no clock, no allocation, no panics. A reply is read
//! through [`Reply::new_checked`], which checks the header; each body parser
//! then checks the reply code and that the data holds the whole layout
//! before it reads a field, so every truncated reply is an `Err`. Counts
//! read from a reply (the number of sources) are bounded by the caller
//! where it uses them ([`crate::limits::MAX_CHRONY_SOURCES`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::Error;

/// `PROTO_VERSION_NUMBER`.
pub const PROTO_VERSION: u8 = 6;
const PKT_TYPE_CMD_REQUEST: u8 = 1;
const PKT_TYPE_CMD_REPLY: u8 = 2;

/// Length of the request header; the request's data starts here.
pub const REQUEST_HEADER_LEN: usize = 20;
/// Length of the reply header; the reply's data starts here.
pub const REPLY_HEADER_LEN: usize = 28;
/// The longest request [`Request::emit`] writes (SERVER_STATS, padded for
/// the 168-byte SERVER_STATS4 reply).
pub const MAX_REQUEST_LEN: usize = 196;
/// A buffer this long holds every reply this module reads (the longest is
/// SERVER_STATS4, 196 bytes); a longer datagram is read as its prefix.
pub const MAX_REPLY_LEN: usize = 256;

/// Request codes (`REQ_*`).
pub mod req {
    pub const N_SOURCES: u16 = 14;
    pub const SOURCE_DATA: u16 = 15;
    pub const TRACKING: u16 = 33;
    pub const SOURCESTATS: u16 = 34;
    pub const ACTIVITY: u16 = 44;
    pub const SERVER_STATS: u16 = 54;
    pub const NTP_DATA: u16 = 57;
    pub const SELECT_DATA: u16 = 69;
}

/// Reply codes (`RPY_*`).
pub mod rpy {
    pub const NULL: u16 = 1;
    pub const N_SOURCES: u16 = 2;
    pub const SOURCE_DATA: u16 = 3;
    pub const TRACKING: u16 = 5;
    pub const SOURCESTATS: u16 = 6;
    pub const ACTIVITY: u16 = 12;
    /// chronyd up to 3.5.
    pub const SERVER_STATS: u16 = 14;
    /// chronyd up to 4.5.
    pub const NTP_DATA: u16 = 16;
    /// chronyd 4.0 and 4.1.
    pub const SERVER_STATS2: u16 = 22;
    pub const SELECT_DATA: u16 = 23;
    /// chronyd 4.2 and 4.3.
    pub const SERVER_STATS3: u16 = 24;
    /// chronyd 4.4 and later.
    pub const SERVER_STATS4: u16 = 25;
    /// chronyd 4.6 and later.
    pub const NTP_DATA2: u16 = 26;
}

/// A reply's status (`STT_*`). Codes sonde has no use for keep their
/// number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Success,
    Failed,
    /// Not authorised: a command that is not open over UDP.
    Unauth,
    /// A command this chronyd does not know.
    Invalid,
    /// The index or address names no source (the sources changed).
    NoSuchSource,
    BadPktVersion,
    BadPktLength,
    Other(u16),
}

impl From<u16> for Status {
    fn from(code: u16) -> Self {
        match code {
            0 => Status::Success,
            1 => Status::Failed,
            2 => Status::Unauth,
            3 => Status::Invalid,
            4 => Status::NoSuchSource,
            18 => Status::BadPktVersion,
            19 => Status::BadPktLength,
            n => Status::Other(n),
        }
    }
}

impl Status {
    /// What chronyd said, for an error message.
    pub fn what(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failed => "chronyd answered: failed",
            Status::Unauth => "chronyd answered: not authorised",
            Status::Invalid => "chronyd answered: invalid command",
            Status::NoSuchSource => "chronyd answered: no such source",
            Status::BadPktVersion => "chronyd answered: bad protocol version",
            Status::BadPktLength => "chronyd answered: bad packet length",
            Status::Other(_) => "chronyd answered with an unknown status",
        }
    }
}

//----- requests ---------------------------------------------------------

/// The requests sonde sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    NSources,
    /// By index, `0..n_sources`.
    SourceData(u32),
    Tracking,
    /// By index, `0..n_sources`.
    Sourcestats(u32),
    Activity,
    ServerStats,
    /// By the source's address.
    NtpData(IpAddr),
    /// By index, `0..n_sources`.
    SelectData(u32),
}

impl Request {
    /// Its `REQ_*` code.
    pub fn command(self) -> u16 {
        match self {
            Request::NSources => req::N_SOURCES,
            Request::SourceData(_) => req::SOURCE_DATA,
            Request::Tracking => req::TRACKING,
            Request::Sourcestats(_) => req::SOURCESTATS,
            Request::Activity => req::ACTIVITY,
            Request::ServerStats => req::SERVER_STATS,
            Request::NtpData(_) => req::NTP_DATA,
            Request::SelectData(_) => req::SELECT_DATA,
        }
    }

    /// chronyc's name for it, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Request::NSources | Request::SourceData(_) => "sources",
            Request::Tracking => "tracking",
            Request::Sourcestats(_) => "sourcestats",
            Request::Activity => "activity",
            Request::ServerStats => "serverstats",
            Request::NtpData(_) => "ntpdata",
            Request::SelectData(_) => "selectdata",
        }
    }

    /// Its length on the wire: the header, its data, and padding up to the
    /// longest reply any chronyd sends for it (`pktlength.c`; §2.6).
    pub fn buffer_len(self) -> usize {
        match self {
            Request::NSources => 32,
            Request::SourceData(_) | Request::SelectData(_) => 76,
            Request::Tracking => 104,
            Request::Sourcestats(_) => 84,
            Request::Activity => 48,
            Request::ServerStats => MAX_REQUEST_LEN,
            // NTP_DATA2's 144 bytes of data after the header.
            Request::NtpData(_) => 172,
        }
    }

    /// Writes the request with `sequence` into `buf` and returns the bytes
    /// to send.
    pub fn emit(self, sequence: u32, buf: &mut [u8; MAX_REQUEST_LEN]) -> &[u8] {
        buf.fill(0);
        buf[0] = PROTO_VERSION;
        buf[1] = PKT_TYPE_CMD_REQUEST;
        buf[4..6].copy_from_slice(&self.command().to_be_bytes());
        // attempt (6..8) stays 0: chronyd does not read it.
        buf[8..12].copy_from_slice(&sequence.to_be_bytes());
        match self {
            Request::SourceData(i) | Request::Sourcestats(i) | Request::SelectData(i) => {
                buf[20..24].copy_from_slice(&i.to_be_bytes());
            }
            Request::NtpData(ip) => {
                let family: u16 = match ip {
                    IpAddr::V4(a) => {
                        buf[20..24].copy_from_slice(&a.octets());
                        1
                    }
                    IpAddr::V6(a) => {
                        buf[20..36].copy_from_slice(&a.octets());
                        2
                    }
                };
                buf[36..38].copy_from_slice(&family.to_be_bytes());
            }
            _ => {}
        }
        let len = self.buffer_len().min(MAX_REQUEST_LEN);
        &buf[..len]
    }
}

//----- reply header -----------------------------------------------------

/// A reply whose header has been checked.
#[derive(Clone, Copy, Debug)]
pub struct Reply<'a> {
    buf: &'a [u8],
}

mod field {
    pub const VERSION: usize = 0;
    pub const PKT_TYPE: usize = 1;
    pub const RES1: usize = 2;
    pub const RES2: usize = 3;
    pub const COMMAND: usize = 4;
    pub const REPLY: usize = 6;
    pub const STATUS: usize = 8;
    pub const SEQUENCE: usize = 16;
}

impl<'a> Reply<'a> {
    /// Checks that `buf` holds a whole reply header of protocol version 6.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        if buf.len() < REPLY_HEADER_LEN {
            return Err(Error::at(0, "shorter than a reply header"));
        }
        let b = |at| buf.get(at).copied().unwrap_or(0);
        if b(field::VERSION) != PROTO_VERSION {
            return Err(Error::at(0, "not command protocol version 6"));
        }
        if b(field::PKT_TYPE) != PKT_TYPE_CMD_REPLY {
            return Err(Error::at(0, "not a reply packet"));
        }
        if b(field::RES1) != 0 || b(field::RES2) != 0 {
            return Err(Error::at(0, "reserved header bytes are not zero"));
        }
        Ok(Reply { buf })
    }

    /// A view of bytes that [`Reply::new_checked`] accepted before.
    /// Reading a shorter buffer gives zeros and parse errors, not panics.
    pub fn new_unchecked(buf: &'a [u8]) -> Self {
        Reply { buf }
    }

    /// The request's `REQ_*` code, echoed.
    pub fn command(&self) -> u16 {
        be16(self.buf, field::COMMAND)
    }

    /// The `RPY_*` code: which layout the data has.
    pub fn reply(&self) -> u16 {
        be16(self.buf, field::REPLY)
    }

    pub fn status(&self) -> Status {
        Status::from(be16(self.buf, field::STATUS))
    }

    /// The request's sequence number, echoed.
    pub fn sequence(&self) -> u32 {
        be32(self.buf, field::SEQUENCE)
    }

    /// Whether this answers the request with `command` and `sequence`:
    /// chronyc's own test, so a late reply to an earlier request is never
    /// taken for the current one's.
    pub fn answers(&self, command: u16, sequence: u32) -> bool {
        self.command() == command && self.sequence() == sequence
    }

    /// The bytes after the header.
    pub fn data(&self) -> &'a [u8] {
        self.buf.get(REPLY_HEADER_LEN..).unwrap_or_default()
    }

    /// The data, if the status is success, the reply code is one of
    /// `codes`, and the data holds at least `len` bytes.
    fn body(&self, codes: &[u16], len: usize) -> Result<&'a [u8], Error> {
        if self.status() != Status::Success {
            return Err(Error::at(0, self.status().what()));
        }
        if !codes.contains(&self.reply()) {
            return Err(Error::at(0, "unexpected reply code for the request"));
        }
        match self.data().get(..len) {
            Some(d) => Ok(d),
            None => Err(Error::at(0, "reply data shorter than its layout")),
        }
    }
}

//----- primitive types --------------------------------------------------

fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
        _ => 0,
    }
}

/// chrony's `Integer64`: high word, then low word.
fn be64(b: &[u8], at: usize) -> u64 {
    (u64::from(be32(b, at)) << 32) | u64::from(be32(b, at + 4))
}

/// 2^e, exactly, for the exponents chrony's formats can hold.
pub fn pow2(e: i32) -> f64 {
    if e > 1023 {
        f64::INFINITY
    } else if e < -1022 {
        0.0
    } else {
        // A normal double with a zero mantissa is a power of two.
        f64::from_bits(((e + 1023) as u64) << 52)
    }
}

/// chrony's 32-bit `Float` (`UTI_FloatNetworkToHost`): the top 7 bits are
/// a signed exponent, the low 25 a signed coefficient without a hidden
/// bit; the value is coef · 2^(exp − 25). Every word is a finite value.
pub fn float(x: u32) -> f64 {
    let mut exp = (x >> 25) as i32;
    if exp >= 64 {
        exp -= 128;
    }
    let mut coef = (x & 0x01ff_ffff) as i32;
    if coef >= 1 << 24 {
        coef -= 1 << 25;
    }
    f64::from(coef) * pow2(exp - 25)
}

fn float_at(b: &[u8], at: usize) -> f64 {
    float(be32(b, at))
}

/// chrony's `Timespec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timespec {
    pub sec: u64,
    /// At most 999 999 999.
    pub nsec: u32,
}

/// `TV_NOHIGHSEC`: the high word of a server whose `time_t` is 32 bits.
const TV_NOHIGHSEC: u32 = 0x7fff_ffff;

impl Timespec {
    fn parse(b: &[u8], at: usize) -> Timespec {
        let high = match be32(b, at) {
            TV_NOHIGHSEC => 0,
            h => h,
        };
        let sec = (u64::from(high) << 32) | u64::from(be32(b, at + 4));
        Timespec { sec, nsec: be32(b, at + 8).min(999_999_999) }
    }

    /// Seconds since the epoch, as a float.
    pub fn as_f64(self) -> f64 {
        self.sec as f64 + f64::from(self.nsec) / 1e9
    }
}

/// chrony's `IPAddr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Address {
    /// `IPADDR_UNSPEC`: no address (a reference clock in tracking and
    /// sourcestats, or no reference at all).
    Unspec,
    Ip(IpAddr),
    /// `IPADDR_ID`: a source whose name is not resolved yet, by its id.
    Id(u32),
    /// A family this module does not know.
    Unknown(u16),
}

const IPADDR_LEN: usize = 20;

impl Address {
    fn parse(b: &[u8], at: usize) -> Address {
        let family = be16(b, at + 16);
        match family {
            0 => Address::Unspec,
            1 => Address::Ip(IpAddr::V4(Ipv4Addr::from(be32(b, at)))),
            2 => {
                let mut octets = [0; 16];
                if let Some(a) = b.get(at..at + 16) {
                    octets.copy_from_slice(a);
                }
                Address::Ip(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            3 => Address::Id(be32(b, at)),
            n => Address::Unknown(n),
        }
    }
}

//----- replies ----------------------------------------------------------

/// N_SOURCES: how many sources chronyd has, unresolved ones included.
pub fn parse_n_sources(r: &Reply<'_>) -> Result<u32, Error> {
    let d = r.body(&[rpy::N_SOURCES], 4)?;
    Ok(be32(d, 0))
}

/// `RPY_SD_ST_*`, the `sources` state column.
pub mod state {
    /// `*`
    pub const SELECTED: u16 = 0;
    /// `?`
    pub const NONSELECTABLE: u16 = 1;
    /// `x`
    pub const FALSETICKER: u16 = 2;
    /// `~`
    pub const JITTERY: u16 = 3;
    /// `+`: combined with the selected source.
    pub const UNSELECTED: u16 = 4;
    /// `-`
    pub const SELECTABLE: u16 = 5;
}

/// `RPY_SD_MD_*`, the `sources` mode column.
pub mod mode {
    /// `^`
    pub const CLIENT: u16 = 0;
    /// `=`
    pub const PEER: u16 = 1;
    /// `#`: a reference clock, whose "address" holds its refid.
    pub const REF: u16 = 2;
}

/// SOURCE_DATA (`RPY_Source_Data`): one line of `chronyc sources`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SourceData {
    pub ip_addr: Address,
    /// log2 of the polling interval in seconds.
    pub poll: i16,
    pub stratum: u16,
    /// [`state`].
    pub state: u16,
    /// [`mode`].
    pub mode: u16,
    pub flags: u16,
    /// The last eight polls, newest in bit 0.
    pub reachability: u16,
    /// Seconds since the last good sample; `u32::MAX` if there was none.
    pub since_sample: u32,
    pub orig_latest_meas: f64,
    pub latest_meas: f64,
    pub latest_meas_err: f64,
}

impl SourceData {
    pub fn parse(r: &Reply<'_>) -> Result<Self, Error> {
        let d = r.body(&[rpy::SOURCE_DATA], 48)?;
        Ok(SourceData {
            ip_addr: Address::parse(d, 0),
            poll: be16(d, 20) as i16,
            stratum: be16(d, 22),
            state: be16(d, 24),
            mode: be16(d, 26),
            flags: be16(d, 28),
            reachability: be16(d, 30),
            since_sample: be32(d, 32),
            orig_latest_meas: float_at(d, 36),
            latest_meas: float_at(d, 40),
            latest_meas_err: float_at(d, 44),
        })
    }
}

/// `leap_status` of TRACKING.
pub mod leap {
    pub const NORMAL: u16 = 0;
    pub const INSERT_SECOND: u16 = 1;
    pub const DELETE_SECOND: u16 = 2;
    pub const UNSYNCHRONISED: u16 = 3;
}

/// TRACKING (`RPY_Tracking`): `chronyc tracking`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tracking {
    pub ref_id: u32,
    pub ip_addr: Address,
    pub stratum: u16,
    /// [`leap`].
    pub leap_status: u16,
    pub ref_time: Timespec,
    /// chronyc's "System time": how far the system clock is from NTP time.
    pub current_correction: f64,
    pub last_offset: f64,
    pub rms_offset: f64,
    pub freq_ppm: f64,
    pub resid_freq_ppm: f64,
    pub skew_ppm: f64,
    pub root_delay: f64,
    pub root_dispersion: f64,
    pub last_update_interval: f64,
}

impl Tracking {
    pub fn parse(r: &Reply<'_>) -> Result<Self, Error> {
        let d = r.body(&[rpy::TRACKING], 76)?;
        Ok(Tracking {
            ref_id: be32(d, 0),
            ip_addr: Address::parse(d, 4),
            stratum: be16(d, 4 + IPADDR_LEN),
            leap_status: be16(d, 26),
            ref_time: Timespec::parse(d, 28),
            current_correction: float_at(d, 40),
            last_offset: float_at(d, 44),
            rms_offset: float_at(d, 48),
            freq_ppm: float_at(d, 52),
            resid_freq_ppm: float_at(d, 56),
            skew_ppm: float_at(d, 60),
            root_delay: float_at(d, 64),
            root_dispersion: float_at(d, 68),
            last_update_interval: float_at(d, 72),
        })
    }
}

/// SOURCESTATS (`RPY_Sourcestats`): one line of `chronyc sourcestats`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sourcestats {
    pub ref_id: u32,
    pub ip_addr: Address,
    pub n_samples: u32,
    pub n_runs: u32,
    pub span_seconds: u32,
    /// Standard deviation of the samples, seconds.
    pub sd: f64,
    pub resid_freq_ppm: f64,
    pub skew_ppm: f64,
    pub est_offset: f64,
    pub est_offset_err: f64,
}

impl Sourcestats {
    pub fn parse(r: &Reply<'_>) -> Result<Self, Error> {
        let d = r.body(&[rpy::SOURCESTATS], 56)?;
        Ok(Sourcestats {
            ref_id: be32(d, 0),
            ip_addr: Address::parse(d, 4),
            n_samples: be32(d, 24),
            n_runs: be32(d, 28),
            span_seconds: be32(d, 32),
            sd: float_at(d, 36),
            resid_freq_ppm: float_at(d, 40),
            skew_ppm: float_at(d, 44),
            est_offset: float_at(d, 48),
            est_offset_err: float_at(d, 52),
        })
    }
}

/// The counters of SERVER_STATS, in SERVER_STATS4's order; older replies
/// carry a subset ([`ServerStats::get`] is `None` for the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerStat {
    NtpHits,
    NkeHits,
    CmdHits,
    NtpDrops,
    NkeDrops,
    CmdDrops,
    LogDrops,
    NtpAuthHits,
    NtpInterleavedHits,
    NtpTimestamps,
    NtpSpanSeconds,
    NtpDaemonRxTimestamps,
    NtpDaemonTxTimestamps,
    NtpKernelRxTimestamps,
    NtpKernelTxTimestamps,
    NtpHwRxTimestamps,
    NtpHwTxTimestamps,
}

const N_SERVER_STATS: usize = 17;

/// SERVER_STATS in any of its four layouts: `chronyc serverstats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerStats {
    /// The `RPY_*` code it came in, which says which counters it has.
    pub reply: u16,
    values: [Option<u64>; N_SERVER_STATS],
}

impl ServerStats {
    pub fn parse(r: &Reply<'_>) -> Result<Self, Error> {
        use ServerStat::*;
        // Which counters each layout holds, in wire order: u32 each in the
        // first three, Integer64 in the fourth (then 4 reserved).
        const STATS: &[ServerStat] = &[NtpHits, CmdHits, NtpDrops, CmdDrops, LogDrops];
        const STATS2: &[ServerStat] = &[NtpHits, NkeHits, CmdHits, NtpDrops, NkeDrops, CmdDrops, LogDrops, NtpAuthHits];
        const STATS3: &[ServerStat] = &[
            NtpHits,
            NkeHits,
            CmdHits,
            NtpDrops,
            NkeDrops,
            CmdDrops,
            LogDrops,
            NtpAuthHits,
            NtpInterleavedHits,
            NtpTimestamps,
            NtpSpanSeconds,
        ];
        let (layout, wide, len): (&[ServerStat], bool, usize) = match r.reply() {
            rpy::SERVER_STATS => (STATS, false, 20),
            rpy::SERVER_STATS2 => (STATS2, false, 32),
            rpy::SERVER_STATS3 => (STATS3, false, 44),
            // All 17, then Integer64 reserved[4].
            _ => (&[], true, 168),
        };
        let d = r.body(&[rpy::SERVER_STATS, rpy::SERVER_STATS2, rpy::SERVER_STATS3, rpy::SERVER_STATS4], len)?;
        let mut values = [None; N_SERVER_STATS];
        if wide {
            for (i, v) in values.iter_mut().enumerate() {
                *v = Some(be64(d, 8 * i));
            }
        } else {
            for (i, &stat) in layout.iter().enumerate() {
                if let Some(v) = values.get_mut(stat as usize) {
                    *v = Some(u64::from(be32(d, 4 * i)));
                }
            }
        }
        Ok(ServerStats { reply: r.reply(), values })
    }

    /// The counter, if this reply's layout has it.
    pub fn get(&self, stat: ServerStat) -> Option<u64> {
        self.values.get(stat as usize).copied().flatten()
    }
}

/// NTP_DATA (`RPY_NTPData`, in its NTP_DATA and NTP_DATA2 layouts):
/// `chronyc ntpdata` for one source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NtpData {
    pub remote_addr: Address,
    pub local_addr: Address,
    pub remote_port: u16,
    pub leap: u8,
    pub version: u8,
    pub mode: u8,
    pub stratum: u8,
    pub poll: i8,
    pub precision: i8,
    pub root_delay: f64,
    pub root_dispersion: f64,
    pub ref_id: u32,
    pub ref_time: Timespec,
    pub offset: f64,
    pub peer_delay: f64,
    pub peer_dispersion: f64,
    pub response_time: f64,
    pub jitter_asymmetry: f64,
    /// Tests passed (bits 0..9), interleaved (0x4000), authenticated (0x8000).
    pub flags: u16,
    pub tx_tss_char: u8,
    pub rx_tss_char: u8,
    pub total_tx_count: u32,
    pub total_rx_count: u32,
    pub total_valid_count: u32,
    /// chronyd 4.3 and later; a reserved word before.
    pub total_good_count: u32,
    /// The timestamp counters of NTP_DATA2 (chronyd 4.6 and later):
    /// kernel tx, kernel rx, hardware tx, hardware rx.
    pub total_ts: Option<[u32; 4]>,
}

impl NtpData {
    pub fn parse(r: &Reply<'_>) -> Result<Self, Error> {
        let two = r.reply() == rpy::NTP_DATA2;
        // Up to reserved[3] (NTP_DATA) or reserved[4] (NTP_DATA2).
        let d = r.body(&[rpy::NTP_DATA, rpy::NTP_DATA2], if two { 144 } else { 124 })?;
        let byte = |at: usize| d.get(at).copied().unwrap_or(0);
        Ok(NtpData {
            remote_addr: Address::parse(d, 0),
            local_addr: Address::parse(d, 20),
            remote_port: be16(d, 40),
            leap: byte(42),
            version: byte(43),
            mode: byte(44),
            stratum: byte(45),
            poll: byte(46) as i8,
            precision: byte(47) as i8,
            root_delay: float_at(d, 48),
            root_dispersion: float_at(d, 52),
            ref_id: be32(d, 56),
            ref_time: Timespec::parse(d, 60),
            offset: float_at(d, 72),
            peer_delay: float_at(d, 76),
            peer_dispersion: float_at(d, 80),
            response_time: float_at(d, 84),
            jitter_asymmetry: float_at(d, 88),
            flags: be16(d, 92),
            tx_tss_char: byte(94),
            rx_tss_char: byte(95),
            total_tx_count: be32(d, 96),
            total_rx_count: be32(d, 100),
            total_valid_count: be32(d, 104),
            total_good_count: be32(d, 108),
            total_ts: two.then(|| [be32(d, 112), be32(d, 116), be32(d, 120), be32(d, 124)]),
        })
    }
}

/// ACTIVITY (`RPY_Activity`): `chronyc activity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Activity {
    pub online: i32,
    pub offline: i32,
    pub burst_online: i32,
    pub burst_offline: i32,
    /// Sources whose name is not resolved yet.
    pub unresolved: i32,
}

impl Activity {
    pub fn parse(r: &Reply<'_>) -> Result<Self, Error> {
        let d = r.body(&[rpy::ACTIVITY], 20)?;
        Ok(Activity {
            online: be32(d, 0) as i32,
            offline: be32(d, 4) as i32,
            burst_online: be32(d, 8) as i32,
            burst_offline: be32(d, 12) as i32,
            unresolved: be32(d, 16) as i32,
        })
    }
}

/// SELECT_DATA (`RPY_SelectData`): one line of `chronyc selectdata`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SelectData {
    pub ref_id: u32,
    pub ip_addr: Address,
    /// The selection state as chronyc prints it, with the reason a source
    /// is not used: `N M s r d ~ w S O T x W P U D + *` (chronyc(1),
    /// "selectdata").
    pub state_char: u8,
    pub authentication: u8,
    pub leap: u8,
    pub conf_options: u16,
    pub eff_options: u16,
    pub last_sample_ago: u32,
    pub score: f64,
    pub lo_limit: f64,
    pub hi_limit: f64,
}

impl SelectData {
    pub fn parse(r: &Reply<'_>) -> Result<Self, Error> {
        let d = r.body(&[rpy::SELECT_DATA], 48)?;
        let byte = |at: usize| d.get(at).copied().unwrap_or(0);
        Ok(SelectData {
            ref_id: be32(d, 0),
            ip_addr: Address::parse(d, 4),
            state_char: byte(24),
            authentication: byte(25),
            leap: byte(26),
            conf_options: be16(d, 28),
            eff_options: be16(d, 30),
            last_sample_ago: be32(d, 32),
            score: float_at(d, 36),
            lo_limit: float_at(d, 40),
            hi_limit: float_at(d, 44),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from chronyd 4.3 (Debian 4.3-2+deb12u3) with
    // tests/fixtures/chrony/capture.sh; the .csv beside each is what chronyc
    // printed from the same bytes. See tests/fixtures/chrony/README.md.
    macro_rules! fixture {
        ($path:literal) => {
            include_bytes!(concat!("../../../tests/fixtures/chrony/4.3/", $path))
        };
    }
    static TRACKING: &[u8] = fixture!("tracking.reply.bin");
    static TRACKING_REQ: &[u8] = fixture!("tracking.req.bin");
    static TRACKING_UNSYNC: &[u8] = fixture!("unsynchronised/tracking.reply.bin");
    static TRACKING_LOCAL: &[u8] = fixture!("upstream/tracking.reply.bin");
    static N_SOURCES: &[u8] = fixture!("n_sources.reply.bin");
    static N_SOURCES_REQ: &[u8] = fixture!("n_sources.req.bin");
    static SOURCE_DATA: [&[u8]; 4] = [
        fixture!("source_data.0.reply.bin"),
        fixture!("source_data.1.reply.bin"),
        fixture!("source_data.2.reply.bin"),
        fixture!("source_data.3.reply.bin"),
    ];
    static SOURCE_DATA_REQ: &[u8] = fixture!("source_data.2.req.bin");
    static SOURCESTATS: [&[u8]; 4] = [
        fixture!("sourcestats.0.reply.bin"),
        fixture!("sourcestats.1.reply.bin"),
        fixture!("sourcestats.2.reply.bin"),
        fixture!("sourcestats.3.reply.bin"),
    ];
    static SOURCESTATS_REQ: &[u8] = fixture!("sourcestats.1.req.bin");
    static SERVER_STATS: &[u8] = fixture!("server_stats.reply.bin");
    static SERVER_STATS_UPSTREAM: &[u8] = fixture!("upstream/server_stats.reply.bin");
    static SERVER_STATS_UDP: &[u8] = fixture!("udp/server_stats.reply.bin");
    static NTP_DATA: [&[u8]; 3] =
        [fixture!("ntp_data.0.reply.bin"), fixture!("ntp_data.1.reply.bin"), fixture!("ntp_data.2.reply.bin")];
    static NTP_DATA_REQ: [&[u8]; 2] = [fixture!("ntp_data.0.req.bin"), fixture!("ntp_data.1.req.bin")];
    static NTP_DATA_UDP: &[u8] = fixture!("udp/ntp_data.0.reply.bin");
    static SELECT_DATA: [&[u8]; 4] = [
        fixture!("select_data.0.reply.bin"),
        fixture!("select_data.1.reply.bin"),
        fixture!("select_data.2.reply.bin"),
        fixture!("select_data.3.reply.bin"),
    ];
    static SELECT_DATA_REQ: &[u8] = fixture!("select_data.3.req.bin");
    static ACTIVITY: &[u8] = fixture!("activity.reply.bin");
    static ACTIVITY_REQ: &[u8] = fixture!("activity.req.bin");

    fn reply(b: &[u8]) -> Reply<'_> {
        Reply::new_checked(b).unwrap()
    }

    /// The sequence a captured request carried, to emit ours the same way.
    fn seq(req: &[u8]) -> u32 {
        u32::from_be_bytes(req[8..12].try_into().unwrap())
    }

    /// chronyc prints with 9 decimals; the float carries 25 bits.
    fn close(got: f64, printed: &str) {
        let want: f64 = printed.parse().unwrap();
        assert!((got - want).abs() <= 0.5e-9 + want.abs() * 1e-12, "{got} vs chronyc's {printed}");
    }

    fn csv(name: &str) -> Vec<Vec<String>> {
        let path = format!("{}/../tests/fixtures/chrony/4.3/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).unwrap().lines().map(|l| l.split(',').map(str::to_owned).collect()).collect()
    }

    #[test]
    fn float_decodes_as_util_c_says() {
        assert_eq!(float(0), 0.0);
        // exp 2, coef 2^23: 2^23 · 2^(2−25) = 1 (unsynchronised root delay).
        assert_eq!(float(0x0480_0000), 1.0);
        // coef −1 with exp 0: −2^−25.
        assert_eq!(float(0x01ff_ffff), -pow2(-25));
        // The extremes are finite.
        assert_eq!(float(0x7eff_ffff), f64::from((1 << 24) - 1) * pow2(63 - 25));
        assert_eq!(float(0x8100_0000), -f64::from(1 << 24) * pow2(-64 - 25));
        for x in [u32::MAX, 0x8000_0000, 0x7fff_ffff, 0x0100_0000] {
            assert!(float(x).is_finite());
        }
    }

    #[test]
    fn requests_are_emitted_as_chronyc_sends_them() {
        // chronyc 4.3 sends the same header and data; its padding is its
        // own release's reply length, ours the longest of any release, so
        // compare the prefix and check the rest is zero.
        for (req, captured) in [
            (Request::Tracking, TRACKING_REQ),
            (Request::NSources, N_SOURCES_REQ),
            (Request::SourceData(2), SOURCE_DATA_REQ),
            (Request::Sourcestats(1), SOURCESTATS_REQ),
            (Request::SelectData(3), SELECT_DATA_REQ),
            (Request::Activity, ACTIVITY_REQ),
            (Request::NtpData("127.0.0.1".parse().unwrap()), NTP_DATA_REQ[0]),
            (Request::NtpData("::1".parse().unwrap()), NTP_DATA_REQ[1]),
        ] {
            let mut buf = [0xaa; MAX_REQUEST_LEN];
            let ours = req.emit(seq(captured), &mut buf);
            assert!(ours.len() >= captured.len(), "{req:?}");
            assert_eq!(&ours[..captured.len()], captured, "{req:?}");
            assert!(ours[captured.len()..].iter().all(|&b| b == 0), "{req:?}");
        }
        let mut buf = [0; MAX_REQUEST_LEN];
        assert_eq!(Request::ServerStats.emit(1, &mut buf).len(), 196);
    }

    #[test]
    fn parse_captured_chrony_tracking() {
        let r = reply(TRACKING);
        assert_eq!((r.command(), r.reply(), r.status()), (req::TRACKING, rpy::TRACKING, Status::Success));
        assert!(r.answers(req::TRACKING, seq(TRACKING_REQ)));
        assert!(!r.answers(req::TRACKING, seq(TRACKING_REQ) ^ 1));
        assert!(!r.answers(req::N_SOURCES, seq(TRACKING_REQ)));
        let t = Tracking::parse(&r).unwrap();
        // CF404DC8,::1,9,1795287682.638363226,-0.000001835,0.000000007,
        // 0.000000093,-0.010,0.000,0.026,0.000006468,0.000001646,1.0,Normal
        let c = &csv("tracking.csv")[0];
        assert_eq!(format!("{:08X}", t.ref_id), c[0]);
        assert_eq!(t.ip_addr, Address::Ip("::1".parse().unwrap()));
        assert_eq!(t.stratum.to_string(), c[2]);
        assert_eq!(format!("{}.{:09}", t.ref_time.sec, t.ref_time.nsec), c[3]);
        close(t.current_correction, &c[4]);
        close(t.last_offset, &c[5]);
        close(t.rms_offset, &c[6]);
        assert_eq!(format!("{:.3}", t.freq_ppm), c[7]);
        assert_eq!(format!("{:.3}", t.resid_freq_ppm), c[8]);
        assert_eq!(format!("{:.3}", t.skew_ppm), c[9]);
        close(t.root_delay, &c[10]);
        close(t.root_dispersion, &c[11]);
        assert_eq!(format!("{:.1}", t.last_update_interval), c[12]);
        assert_eq!((t.leap_status, c[13].as_str()), (leap::NORMAL, "Normal"));
    }

    #[test]
    fn parse_captured_chrony_tracking_unsynchronised_and_local() {
        let t = Tracking::parse(&reply(TRACKING_UNSYNC)).unwrap();
        assert_eq!((t.ref_id, t.ip_addr, t.stratum), (0, Address::Unspec, 0));
        assert_eq!(t.leap_status, leap::UNSYNCHRONISED);
        assert_eq!((t.root_delay, t.root_dispersion), (1.0, 1.0));
        // The upstream, serving its local clock: refid 7F7F0101, no address.
        let t = Tracking::parse(&reply(TRACKING_LOCAL)).unwrap();
        assert_eq!((t.ref_id, t.ip_addr, t.stratum), (0x7f7f_0101, Address::Unspec, 8));
        assert_eq!(t.ref_time, Timespec { sec: 1_795_287_661, nsec: 356_574_962 });
    }

    #[test]
    fn parse_captured_chrony_sources() {
        assert_eq!(parse_n_sources(&reply(N_SOURCES)), Ok(4));
        let lines = csv("sources.csv");
        let modes = ['^', '=', '#'];
        let states = ['*', '?', 'x', '~', '+', '-'];
        for (bytes, c) in SOURCE_DATA.iter().zip(&lines) {
            let s = SourceData::parse(&reply(bytes)).unwrap();
            assert_eq!(modes[usize::from(s.mode)].to_string(), c[0]);
            assert_eq!(states[usize::from(s.state)].to_string(), c[1]);
            let name = match s.ip_addr {
                Address::Ip(IpAddr::V4(a)) if s.mode == mode::REF => String::from_utf8(a.octets().to_vec()).unwrap(),
                Address::Ip(a) => a.to_string(),
                other => panic!("{other:?}"),
            };
            assert_eq!(name, c[2]);
            assert_eq!(s.stratum.to_string(), c[3]);
            assert_eq!(s.poll.to_string(), c[4]);
            assert_eq!(format!("{:o}", s.reachability), c[5]);
            assert_eq!(s.since_sample.to_string(), c[6]);
            close(s.latest_meas, &c[7]);
            close(s.orig_latest_meas, &c[8]);
            close(s.latest_meas_err, &c[9]);
        }
        let shm = SourceData::parse(&reply(SOURCE_DATA[0])).unwrap();
        assert_eq!((shm.mode, shm.state, shm.since_sample), (mode::REF, state::NONSELECTABLE, u32::MAX));
        let selected = SourceData::parse(&reply(SOURCE_DATA[2])).unwrap();
        assert_eq!((selected.ip_addr, selected.state), (Address::Ip("::1".parse().unwrap()), state::SELECTED));
    }

    #[test]
    fn parse_captured_chrony_sourcestats() {
        for (bytes, c) in SOURCESTATS.iter().zip(&csv("sourcestats.csv")) {
            let s = Sourcestats::parse(&reply(bytes)).unwrap();
            let name = match s.ip_addr {
                Address::Unspec => String::from_utf8(s.ref_id.to_be_bytes().to_vec()).unwrap(),
                Address::Ip(a) => a.to_string(),
                other => panic!("{other:?}"),
            };
            assert_eq!(name, c[0]);
            assert_eq!(s.n_samples.to_string(), c[1]);
            assert_eq!(s.n_runs.to_string(), c[2]);
            assert_eq!(s.span_seconds.to_string(), c[3]);
            assert_eq!(format!("{:.3}", s.resid_freq_ppm), c[4]);
            assert_eq!(format!("{:.3}", s.skew_ppm), c[5]);
            close(s.est_offset, &c[6]);
            close(s.sd, &c[7]);
        }
    }

    #[test]
    fn parse_captured_chrony_serverstats() {
        // 4.3 sends SERVER_STATS3: eleven u32 counters.
        let s = ServerStats::parse(&reply(SERVER_STATS_UPSTREAM)).unwrap();
        assert_eq!(s.reply, rpy::SERVER_STATS3);
        let c = &csv("upstream/serverstats.csv")[0];
        let order = [
            ServerStat::NtpHits,
            ServerStat::NtpDrops,
            ServerStat::CmdHits,
            ServerStat::CmdDrops,
            ServerStat::LogDrops,
            ServerStat::NkeHits,
            ServerStat::NkeDrops,
            ServerStat::NtpAuthHits,
            ServerStat::NtpInterleavedHits,
            ServerStat::NtpTimestamps,
            ServerStat::NtpSpanSeconds,
        ];
        // chronyc -c serverstats prints them in this order.
        for (stat, printed) in order.iter().zip(c) {
            assert_eq!(s.get(*stat).unwrap().to_string(), *printed, "{stat:?}");
        }
        assert_eq!(s.get(ServerStat::NtpHits), Some(53));
        assert_eq!(s.get(ServerStat::NtpDaemonRxTimestamps), None);
        assert!(ServerStats::parse(&reply(SERVER_STATS)).is_ok());
    }

    /// A reply with `code` and `data`, built by hand from the layout, for
    /// the layouts no Debian chronyd sends (only 4.3 is packaged here).
    fn built(command: u16, code: u16, data: &[u8]) -> Vec<u8> {
        let mut b = vec![6, 2, 0, 0];
        b.extend_from_slice(&command.to_be_bytes());
        b.extend_from_slice(&code.to_be_bytes());
        b.extend_from_slice(&[0; 20]);
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn serverstats_in_every_layout() {
        let words = |n: u32| (1..=n).flat_map(|i| i.to_be_bytes()).collect::<Vec<u8>>();
        // ≤3.5: ntp_hits, cmd_hits, ntp_drops, cmd_drops, log_drops.
        let b = built(req::SERVER_STATS, rpy::SERVER_STATS, &words(5));
        let s = ServerStats::parse(&reply(&b)).unwrap();
        assert_eq!(s.get(ServerStat::NtpHits), Some(1));
        assert_eq!(s.get(ServerStat::CmdHits), Some(2));
        assert_eq!(s.get(ServerStat::LogDrops), Some(5));
        assert_eq!(s.get(ServerStat::NkeHits), None);
        // 4.0, 4.1: nke_hits second, ntp_auth_hits last.
        let b = built(req::SERVER_STATS, rpy::SERVER_STATS2, &words(8));
        let s = ServerStats::parse(&reply(&b)).unwrap();
        assert_eq!(s.get(ServerStat::NkeHits), Some(2));
        assert_eq!(s.get(ServerStat::NtpAuthHits), Some(8));
        assert_eq!(s.get(ServerStat::NtpInterleavedHits), None);
        // 4.4 and later: 17 Integer64, then 4 reserved ones of 0xff.
        let mut data: Vec<u8> = (1..=17u64).flat_map(|i| ((i << 32) | i).to_be_bytes()).collect();
        data.extend_from_slice(&[0xff; 32]);
        let b = built(req::SERVER_STATS, rpy::SERVER_STATS4, &data);
        let s = ServerStats::parse(&reply(&b)).unwrap();
        assert_eq!(s.get(ServerStat::NtpHits), Some((1 << 32) | 1));
        assert_eq!(s.get(ServerStat::NtpHwTxTimestamps), Some((17 << 32) | 17));
        for cut in REPLY_HEADER_LEN..b.len() {
            assert!(ServerStats::parse(&reply(&b[..cut])).is_err(), "{cut} bytes");
        }
    }

    #[test]
    fn parse_captured_chrony_ntpdata() {
        for (bytes, c) in NTP_DATA.iter().zip(&csv("ntpdata.csv")) {
            let n = NtpData::parse(&reply(bytes)).unwrap();
            let addr = |a: Address| match a {
                Address::Ip(ip) => ip.to_string(),
                Address::Unspec => "[UNSPEC]".into(),
                other => panic!("{other:?}"),
            };
            assert_eq!(addr(n.remote_addr), c[0]);
            assert_eq!(n.remote_port.to_string(), c[2]);
            assert_eq!(addr(n.local_addr), c[3]);
            assert_eq!(n.version.to_string(), c[6]);
            assert_eq!(n.stratum.to_string(), c[8]);
            assert_eq!(n.poll.to_string(), c[9]);
            assert_eq!(pow2(i32::from(n.poll)).to_string(), c[10]);
            assert_eq!(n.precision.to_string(), c[11]);
            close(pow2(i32::from(n.precision)), &c[12]);
            assert_eq!(format!("{:.6}", n.root_delay), c[13]);
            assert_eq!(format!("{:.6}", n.root_dispersion), c[14]);
            assert_eq!(format!("{:08X}", n.ref_id), c[15]);
            close(n.offset, &c[18]);
            close(n.peer_delay, &c[19]);
            close(n.peer_dispersion, &c[20]);
            close(n.response_time, &c[21]);
            assert_eq!(format!("{:.2}", n.jitter_asymmetry), c[22]);
            assert_eq!(n.total_tx_count.to_string(), c[30]);
            assert_eq!(n.total_rx_count.to_string(), c[31]);
            assert_eq!(n.total_valid_count.to_string(), c[32]);
            assert_eq!(n.total_good_count.to_string(), c[33]);
            assert_eq!(n.total_ts, None);
        }
    }

    #[test]
    fn ntp_data2_carries_the_timestamp_counters() {
        let mut data = vec![0; 144];
        data[16..18].copy_from_slice(&1u16.to_be_bytes());
        for (i, v) in (108..128).step_by(4).zip(5u32..) {
            data[i..i + 4].copy_from_slice(&v.to_be_bytes());
        }
        let b = built(req::NTP_DATA, rpy::NTP_DATA2, &data);
        let n = NtpData::parse(&reply(&b)).unwrap();
        assert_eq!(n.total_good_count, 5);
        assert_eq!(n.total_ts, Some([6, 7, 8, 9]));
        // NTP_DATA2 needs its whole 144 bytes; NTP_DATA's 124 are not enough.
        assert!(NtpData::parse(&reply(&b[..REPLY_HEADER_LEN + 124])).is_err());
    }

    #[test]
    fn parse_captured_chrony_selectdata() {
        for (bytes, c) in SELECT_DATA.iter().zip(&csv("selectdata.csv")) {
            let s = SelectData::parse(&reply(bytes)).unwrap();
            assert_eq!((s.state_char as char).to_string(), c[0]);
            close(s.lo_limit, &c[15]);
            close(s.hi_limit, &c[16]);
            assert_eq!(format!("{:.1}", s.score), c[14]);
            assert_eq!(s.last_sample_ago.to_string(), c[13]);
        }
        let shm = SelectData::parse(&reply(SELECT_DATA[0])).unwrap();
        // noselect, configured and effective.
        assert_eq!((shm.state_char, shm.conf_options, shm.eff_options), (b'N', 1, 1));
    }

    #[test]
    fn parse_captured_chrony_activity() {
        let a = Activity::parse(&reply(ACTIVITY)).unwrap();
        let c = &csv("activity.csv")[0];
        let got = [a.online, a.offline, a.burst_online, a.burst_offline, a.unresolved];
        assert_eq!(got.map(|v| v.to_string()).to_vec(), *c);
    }

    #[test]
    fn not_authorised_over_udp_is_a_status_not_a_layout() {
        for bytes in [SERVER_STATS_UDP, NTP_DATA_UDP] {
            let r = reply(bytes);
            assert_eq!((r.reply(), r.status()), (rpy::NULL, Status::Unauth));
            assert_eq!(ServerStats::parse(&r).unwrap_err().what, "chronyd answered: not authorised");
        }
    }

    #[test]
    fn unknown_codes_are_refused_without_panic() {
        let b = built(req::TRACKING, 99, &[0; 76]);
        assert!(Tracking::parse(&reply(&b)).is_err());
        let mut b = TRACKING.to_vec();
        b[9] = 77;
        assert_eq!(reply(&b).status(), Status::Other(77));
        assert!(Tracking::parse(&reply(&b)).is_err());
        // An answer of one layout is not read as another.
        assert!(SourceData::parse(&reply(TRACKING)).is_err());
        assert!(Tracking::parse(&reply(SOURCE_DATA[0])).is_err());
        // Header checks.
        for (at, v) in [(0, 5), (1, 1), (2, 1), (3, 1)] {
            let mut b = TRACKING.to_vec();
            b[at] = v;
            assert!(Reply::new_checked(&b).is_err(), "byte {at} = {v}");
        }
        // Unknown address families and a 32-bit server's timespec.
        let mut b = TRACKING.to_vec();
        b[REPLY_HEADER_LEN + 4 + 16..][..2].copy_from_slice(&9u16.to_be_bytes());
        b[REPLY_HEADER_LEN + 28..][..4].copy_from_slice(&TV_NOHIGHSEC.to_be_bytes());
        b[REPLY_HEADER_LEN + 36..][..4].copy_from_slice(&u32::MAX.to_be_bytes());
        let t = Tracking::parse(&reply(&b)).unwrap();
        assert_eq!(t.ip_addr, Address::Unknown(9));
        assert_eq!(t.ref_time.sec >> 32, 0);
        assert_eq!(t.ref_time.nsec, 999_999_999);
    }

    #[test]
    fn truncated_chrony_replies_rejected() {
        type Parse = fn(&Reply<'_>) -> bool;
        let mut all: Vec<(&[u8], Parse)> = vec![
            (TRACKING, |r| Tracking::parse(r).is_ok()),
            (TRACKING_UNSYNC, |r| Tracking::parse(r).is_ok()),
            (TRACKING_LOCAL, |r| Tracking::parse(r).is_ok()),
            (N_SOURCES, |r| parse_n_sources(r).is_ok()),
            (SERVER_STATS, |r| ServerStats::parse(r).is_ok()),
            (SERVER_STATS_UPSTREAM, |r| ServerStats::parse(r).is_ok()),
            (ACTIVITY, |r| Activity::parse(r).is_ok()),
        ];
        all.extend(SOURCE_DATA.iter().map(|&b| (b, (|r| SourceData::parse(r).is_ok()) as Parse)));
        all.extend(SOURCESTATS.iter().map(|&b| (b, (|r| Sourcestats::parse(r).is_ok()) as Parse)));
        all.extend(NTP_DATA.iter().map(|&b| (b, (|r| NtpData::parse(r).is_ok()) as Parse)));
        all.extend(SELECT_DATA.iter().map(|&b| (b, (|r| SelectData::parse(r).is_ok()) as Parse)));
        for (bytes, parses) in all {
            assert!(parses(&reply(bytes)), "the whole reply parses");
            for n in 0..bytes.len() {
                let cut = &bytes[..n];
                assert!(Reply::new_checked(cut).map_or(true, |r| !parses(&r)), "a {n}-byte prefix was accepted");
            }
        }
        for bytes in [SERVER_STATS_UDP, NTP_DATA_UDP] {
            for n in 0..bytes.len() {
                assert!(Reply::new_checked(&bytes[..n]).is_err());
            }
        }
    }
}
