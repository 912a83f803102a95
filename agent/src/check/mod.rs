//! Service checks: TCP with a send/expect dialogue (in TLS, or starting
//! it, with the `tls` feature), DNS and NTP queries, HTTP requests (https
//! with the `tls` feature) and ICMP echoes, each run against every address
//! its target resolves to.
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
//! Files: this one holds the model; [`run`](mod@run) resolves a target and
//! checks its addresses at once; [`schedule`] runs the configured checks on
//! their intervals (the agent's checks service); [`render`](mod@render)
//! writes the `probe_*` families; [`conn`] is the TCP-or-TLS connection
//! the tcp and http kinds share. Each kind is one file ([`tcp`], [`dns`],
//! [`ntp`], [`http`], [`icmp`]) that owns its settings, its run, its
//! families' rows, its lines of `/probe`'s debug page and its built-in
//! `/probe` modules; a new kind is a file, an arm of [`Kind`] and of
//! [`Detail`], and a line in [`render::ROWS`] and [`builtin`]. None of it
//! serves HTTP: `/probe`'s request handling is the endpoint's
//! (serve/probe.rs).
//!
//! Invariants: every socket operation has a deadline no later than the
//! check's timeout from its start (name lookup included, as
//! blackbox_exporter's); at most [`crate::limits::MAX_ADDRESSES`]
//! addresses per target are checked, so a check has at most that many
//! threads; every byte read from a peer is bounded
//! ([`crate::limits::MAX_DIALOGUE_READ`], [`dns::MAX_MESSAGE`],
//! [`crate::limits::MAX_HTTP_HEAD`], [`crate::limits::MAX_HTTP_BODY_KEPT`]
//! for what is kept of a body that otherwise streams past).

pub mod conn;
pub mod dns;
pub mod http;
pub mod icmp;
pub mod ntp;
pub mod render;
pub mod run;
pub mod schedule;
pub mod tcp;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::sys::time::Deadline;
use crate::wire::hostport;
pub use render::render;
pub use run::{resolve, run};
pub use schedule::{report_failures, run_all, Scheduler};

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

    pub fn admits(self, addr: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::Ipv4 => addr.is_ipv4(),
            Family::Ipv6 => addr.is_ipv6(),
        }
    }

    pub fn as_str(self) -> &'static str {
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
    /// An HTTP response with a status not among the valid ones.
    BadStatus,
    /// An HTTP response head, or a body, past its bound.
    TooLarge,
    /// Neither an ICMP datagram socket nor a raw one could be opened.
    NoSocket,
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
            Reason::BadStatus => "bad_status",
            Reason::TooLarge => "too_large",
            Reason::NoSocket => "no_socket",
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

/// What every kind of check does; each kind's file implements it for its
/// settings.
pub trait Probe {
    /// The port of a target written without one; 0 when it must say.
    fn default_port(&self) -> u16;
    /// The host to resolve and the port to reach of `target` (`host:port`,
    /// or a host alone where the kind has a default port); Err says what
    /// a target of this kind looks like.
    fn authority<'t>(&self, target: &'t str) -> Result<(&'t str, u16), String> {
        hostport::split_or(target, self.default_port()).ok_or_else(|| format!("'{target}' is not host:port"))
    }
    /// Checks one address of `target` by `deadline`.
    fn run(&self, target: &str, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, Detail);
    /// The detail of an outcome without an address (the name did not
    /// resolve): the kind's families with nothing measured, as
    /// blackbox_exporter registers them before it resolves. None by default.
    fn unresolved(&self) -> Detail {
        Detail::None
    }
    /// Its settings, as the "Module configuration" lines of `/probe`'s
    /// debug page (after `kind = `).
    fn describe(&self, out: &mut String);
    /// A `/probe` request parameter of this kind (`query_name=`,
    /// `hostname=`); others are ignored, as blackbox_exporter does.
    fn probe_param(&mut self, key: &str, value: &str) -> Result<(), String> {
        let _ = (key, value);
        Ok(())
    }
}

/// A label of a family's own, and its value for an outcome.
pub type Label = for<'a> fn(&'a Outcome) -> (&'static str, &'a str);

/// One family: its name, help, the value an outcome gives it (None: no
/// sample for that outcome) and, for an info-style family, a label of
/// its own; or, for a family split by a label (blackbox's `phase`), one
/// sample per value of that label.
pub struct Row {
    pub name: &'static str,
    pub help: &'static str,
    pub value: fn(&Outcome) -> Option<f64>,
    pub label: Option<Label>,
    pub split: Option<Split>,
}

/// A family with one sample per value of a label of its own, each
/// outcome that has it giving all of them.
pub struct Split {
    pub label: &'static str,
    /// In the order written (blackbox's: sorted).
    pub values: &'static [&'static str],
    /// The sample of `values[i]`.
    pub value: fn(&Outcome, usize) -> f64,
}

impl Row {
    pub const fn new(name: &'static str, help: &'static str, value: fn(&Outcome) -> Option<f64>) -> Row {
        Row { name, help, value, label: None, split: None }
    }

    /// An info-style family: 1 with `label`'s value, where `value` has one.
    pub const fn info(name: &'static str, help: &'static str, value: fn(&Outcome) -> Option<f64>, label: Label) -> Row {
        Row { name, help, value, label: Some(label), split: None }
    }

    /// A family split by `label` into `values`, for the outcomes where
    /// `has` is Some.
    pub const fn split(
        name: &'static str,
        help: &'static str,
        has: fn(&Outcome) -> Option<f64>,
        label: &'static str,
        values: &'static [&'static str],
        value: fn(&Outcome, usize) -> f64,
    ) -> Row {
        Row { name, help, value: has, label: None, split: Some(Split { label, values, value }) }
    }
}

/// What kind of check, with its kind's settings.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Tcp(tcp::Settings),
    Dns(dns::Settings),
    Ntp(ntp::Settings),
    /// Boxed: most of its settings are lists, and most checks are not http.
    Http(Box<http::Settings>),
    Icmp(icmp::Settings),
}

impl Kind {
    fn probe(&self) -> &dyn Probe {
        match self {
            Kind::Tcp(s) => s,
            Kind::Dns(s) => s,
            Kind::Ntp(s) => s,
            Kind::Http(s) => &**s,
            Kind::Icmp(s) => s,
        }
    }

    fn probe_mut(&mut self) -> &mut dyn Probe {
        match self {
            Kind::Tcp(s) => s,
            Kind::Dns(s) => s,
            Kind::Ntp(s) => s,
            Kind::Http(s) => &mut **s,
            Kind::Icmp(s) => s,
        }
    }

    pub fn default_port(&self) -> u16 {
        self.probe().default_port()
    }

    /// The host and port of `target` for this kind ([`Probe::authority`]).
    pub fn authority<'t>(&self, target: &'t str) -> Result<(&'t str, u16), String> {
        self.probe().authority(target)
    }

    pub fn describe(&self, out: &mut String) {
        self.probe().describe(out)
    }

    pub fn probe_param(&mut self, key: &str, value: &str) -> Result<(), String> {
        self.probe_mut().probe_param(key, value)
    }
}

/// A built-in `/probe` module by name (blackbox_exporter's example
/// modules): each kind's file lists its own. `Err` names why this build
/// cannot run it.
pub fn builtin(name: &str) -> Option<Result<Kind, &'static str>> {
    tcp::module(name)
        .map(|m| m.map(Kind::Tcp))
        .or_else(|| dns::module(name).map(|m| m.map(Kind::Dns)))
        .or_else(|| ntp::module(name).map(|m| m.map(Kind::Ntp)))
        .or_else(|| http::module(name).map(|m| m.map(|s| Kind::Http(Box::new(s)))))
        .or_else(|| icmp::module(name).map(|m| m.map(Kind::Icmp)))
}

/// Appends `v` in double quotes, `"` and `\\` escaped and control
/// characters shown as `?`: for `/probe`'s debug page, where a target from
/// the URL must not forge a line. (std's escape_debug costs 1.7 KB on
/// armv7.)
pub fn quote(out: &mut String, v: &str) {
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

/// Which of a target's addresses a check tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    /// Every address of the family (`any`: both), sonde's own way: a name
    /// whose IPv6 side is down is reported down on IPv6 and up on IPv4,
    /// never as a silent pass or a silent fail.
    Every(Family),
    /// blackbox_exporter's (`preferred_ip_protocol`,
    /// `ip_protocol_fallback`): one address, the first of the preferred
    /// family; without one, with the fallback, the last of the other, as
    /// its chooseProtocol picks.
    Preferred { ip6: bool, fallback: bool },
}

impl Select {
    /// blackbox_exporter's default: IPv6 first, then IPv4.
    pub const BLACKBOX: Select = Select::Preferred { ip6: true, fallback: true };

    /// The family reported for an outcome without an address.
    pub fn family(self) -> Family {
        match self {
            Select::Every(f) => f,
            Select::Preferred { ip6: true, .. } => Family::Ipv6,
            Select::Preferred { ip6: false, .. } => Family::Ipv4,
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
    pub select: Select,
    pub kind: Kind,
}

/// A `/probe` module read from blackbox.yml: blackbox's behaviour (its
/// address selection, its timeout), the outcome with blackbox's label set
/// (none).
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub name: String,
    /// The module's `timeout`; without one, the scrape's.
    pub timeout: Option<Duration>,
    pub select: Select,
    /// The settings, or why this sonde cannot run the module (a prober
    /// it does not have).
    pub kind: Result<Kind, String>,
}

/// Kind-specific results.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Detail {
    #[default]
    None,
    Tcp(tcp::Detail),
    Dns(dns::Detail),
    Ntp(ntp::Detail),
    Http(Box<http::Detail>),
    Icmp(Box<icmp::Detail>),
}

impl Detail {
    /// Whether a pattern on the reply failed the check
    /// (`probe_failed_due_to_regex`); None for a kind without patterns.
    pub fn failed_due_to_regex(&self) -> Option<bool> {
        match self {
            Detail::Tcp(d) => Some(d.failed_due_to_regex),
            Detail::Http(d) => Some(d.failed_due_to_regex),
            _ => None,
        }
    }

    /// What TLS showed, for a kind that spoke it (http: on the final hop).
    pub fn tls(&self) -> Option<&conn::Tls> {
        match self {
            Detail::Tcp(d) => Some(&d.tls),
            Detail::Http(d) if d.ssl => Some(&d.tls),
            _ => None,
        }
    }

    /// Words for stderr beyond the reason (rustls's), if any.
    pub fn words(&self) -> Option<&str> {
        match self {
            Detail::Http(d) => d.tls.error().or(d.words.as_deref()),
            Detail::Icmp(d) => d.words.as_deref(),
            _ => self.tls().and_then(conn::Tls::error),
        }
    }
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

/// The latest outcomes of one check.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// The `check` label; empty for a `/probe` request, which has none.
    pub name: String,
    /// The family asked, for an outcome without an address.
    pub family: Family,
    /// blackbox_exporter's label set (none) instead of `check`,
    /// `address` and `family`: a blackbox.yml module's `/probe`.
    pub bare: bool,
    pub outcomes: Vec<Outcome>,
}

impl CheckResult {
    /// The result of `check` (its name and family labels) with `outcomes`.
    pub fn of(check: &Check, outcomes: Vec<Outcome>) -> CheckResult {
        CheckResult { name: check.name.clone(), family: check.select.family(), bare: false, outcomes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_is_a_reason_not_an_error() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(Reason::of_io(&e), Reason::Refused);
        assert_eq!(Reason::of_io(&io::Error::from_raw_os_error(libc::EHOSTUNREACH)), Reason::NoRoute);
    }

    #[test]
    fn debug_page_values_cannot_forge_lines() {
        let mut s = String::new();
        quote(&mut s, "a\"b\\\nlevel=info");
        assert_eq!(s, r#""a\"b\\?level=info""#);
    }

    #[test]
    fn builtin_modules_come_from_their_kinds() {
        assert!(matches!(builtin("tcp_connect"), Some(Ok(Kind::Tcp(_)))));
        assert!(matches!(builtin("dns"), Some(Ok(Kind::Dns(_)))));
        assert!(matches!(builtin("ntp"), Some(Ok(Kind::Ntp(_)))));
        assert!(matches!(builtin("http_2xx"), Some(Ok(Kind::Http(_)))));
        assert!(matches!(builtin("icmp"), Some(Ok(Kind::Icmp(_)))));
        assert_eq!(builtin("tls_connect").map(|m| m.is_ok()), Some(crate::tls::TLS_BUILT));
        assert!(builtin("nope").is_none());
    }
}
