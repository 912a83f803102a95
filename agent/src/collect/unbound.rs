//! `unbound`: Unbound's statistics, read over its remote-control channel as
//! `unbound-control stats_noreset` reads them ([`crate::wire::unbound`]).
//!
//! The exchange (NLnetLabs/unbound `daemon/remote.c`; exporters.md §3.2):
//! connect, send `UBCT1 stats_noreset\n`, read `key=value` lines to EOF.
//! `stats_noreset` never clears Unbound's counters, so sonde can share the
//! daemon with other readers and with `statistics-cumulative: no`. The
//! transports are a unix socket (a `control-interface` that is a path;
//! never TLS), plain TCP (`control-use-cert: no`) and, with the cargo
//! feature `tls`, TLS with unbound-control-setup's client certificate
//! ([`tls`]). A TLS port asked in plain text closes the connection, which
//! is reported as an empty reply.
//!
//! Every connect and read waits at most `[unbound] timeout`, and the whole
//! exchange ends by [`UNBOUND_DEADLINE`]; the reply is read into a buffer
//! of at most [`MAX_UNBOUND_REPLY`] bytes. In `auto` mode the usual socket
//! paths are tried, then 127.0.0.1:8953; a box with none of them (no file,
//! nothing listening) gets no unbound families and success. Something
//! found that fails (permission denied, a stuck daemon, a TLS-only port)
//! is a failure: `unbound_up 0` and `sonde_collector_success 0` (sonde's
//! family: unbound is not one of node_exporter's collectors).
//!
//! Names, labels, types and help texts are the letsencrypt
//! unbound_exporter's (exporters.md §3.3), so its dashboards work: the
//! `threadN.*` counters with a `thread` label, `total.recursion.time.*`,
//! and, with `extended-statistics: yes`, the memory, query type, class,
//! opcode, flag and rcode families and `unbound_response_time_seconds`,
//! built from Unbound's 40 non-cumulative buckets (cumulated; `_sum` is
//! the average recursion time times the count, as Unbound exports no sum).
//! Two differences: a family Unbound does not print is absent rather than
//! empty (the histogram too), and `unbound_queries_cookie_invalid_total`
//! reads `num.queries_cookie_invalid`, which the exporter's pattern misses.
//!
//! [`render`] is a pure function of parsed [`Stats`], so the captured reply
//! tests the exposition without an Unbound.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[cfg(feature = "tls")]
mod tls;

use super::daemon::{self, Address, Asked};
use super::{Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::limits::{MAX_UNBOUND_REPLY, UNBOUND_DEADLINE};
use crate::sys::time::Deadline;
use crate::wire::unbound::{self as stats, thread_key, Stats, GLOBAL_KEYS, LABELLED};

/// The command, with the protocol's magic and version (`UBCT1 `).
const REQUEST: &[u8] = b"UBCT1 stats_noreset\n";
const COMMAND: &str = "stats_noreset";

pub struct Unbound;

/// The control sockets "auto" tries, in order: Debian's package
/// (`/etc/unbound/unbound.conf.d/remote-control.conf`) and the letsencrypt
/// exporter's default, then OpenWrt's (`unbound.sh`).
pub const UNBOUND_SOCKETS: &[&str] = &["/run/unbound.ctl", "/var/run/unbound.ctl"];

/// Unbound's default `control-interface` and `control-port`.
pub const UNBOUND_CONTROL: &str = "127.0.0.1:8953";

/// Set once Unbound answered in this process.
static SEEN: AtomicBool = AtomicBool::new(false);

/// What tells that Unbound belongs on this box: its control sockets, its
/// config file (Debian, OpenWrt, Alpine, Fedora; FreeBSD-style ports).
const PRESENCE: daemon::Presence = daemon::Presence {
    daemon: "unbound",
    sockets: UNBOUND_SOCKETS,
    configs: &["/etc/unbound/unbound.conf", "/var/lib/unbound/unbound.conf", "/usr/local/etc/unbound/unbound.conf"],
    seen: &SEEN,
};

/// The `[unbound]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `auto`: each of [`UNBOUND_SOCKETS`], then plain TCP to
    /// [`UNBOUND_CONTROL`]; an IP:PORT is `control-interface` and
    /// `control-port`.
    pub address: Address,
    /// How long connecting, and then each read of the reply, may wait.
    pub timeout: Duration,
    /// The certificate files for `control-use-cert: yes`, with an IP:PORT
    /// address; `None`: plain text.
    pub tls: Option<Tls>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { address: Address::Auto, timeout: Duration::from_secs(1), tls: None }
    }
}

/// unbound-control-setup's files, under unbound.conf's own names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    /// `server-cert-file`: the certificate the server must present (it is
    /// self-signed by unbound-control-setup, so it is pinned, not used as
    /// a CA).
    pub server_cert_file: PathBuf,
    /// `control-cert-file` and `control-key-file`: sonde's client
    /// certificate and its key.
    pub control_cert_file: PathBuf,
    pub control_key_file: PathBuf,
}

impl Settings {
    /// What the section says as a whole: TLS needs all three files and an
    /// IP:PORT address.
    pub fn check(&self) -> Result<(), String> {
        let Some(tls) = &self.tls else { return Ok(()) };
        let empty = |p: &PathBuf| p.as_os_str().is_empty();
        if empty(&tls.server_cert_file) || empty(&tls.control_cert_file) || empty(&tls.control_key_file) {
            return Err("[unbound]: TLS needs all of server_cert_file, control_cert_file and control_key_file".into());
        }
        if !matches!(self.address, Address::Ip(_)) {
            return Err("[unbound]: the certificate files need an IP:PORT address (unix sockets never use TLS)".into());
        }
        Ok(())
    }
}

impl Collector for Unbound {
    fn name(&self) -> &'static str {
        "unbound"
    }

    /// unbound_exporter's job, not node_exporter's: reported in
    /// `sonde_collector_*`.
    fn node_exporter(&self) -> bool {
        false
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let config = &cx.settings().unbound;
        let deadline = Deadline::after(UNBOUND_DEADLINE);
        let timeout = config.timeout;
        // The context's spare buffer: no allocation once it has grown.
        let mut buf = cx.take_bytes();
        let fetched = match &config.address {
            Address::Unix(path) => fetch(Target::Unix(path), timeout, deadline, &mut buf).map(Some),
            Address::Ip(addr) => {
                let target = match &config.tls {
                    #[cfg(feature = "tls")]
                    Some(files) => Target::Tls(*addr, files),
                    _ => Target::Tcp(*addr),
                };
                fetch(target, timeout, deadline, &mut buf).map(Some)
            }
            Address::Auto => auto(timeout, &cx.settings().rootfs, deadline, &mut buf),
        };
        let result = match fetched {
            // No Unbound on this box: nothing to collect, nothing to say.
            Ok(None) => Ok(()),
            Ok(Some(peer)) => match stats::parse(&buf) {
                Ok(s) => {
                    render(&s, out);
                    Ok(())
                }
                Err(err) => {
                    render_down(out);
                    Err(Error::Reply { peer, command: COMMAND, err })
                }
            },
            Err(e) => {
                render_down(out);
                Err(e)
            }
        };
        cx.give_back(buf);
        result
    }
}

/// Where to ask.
#[derive(Clone, Copy)]
enum Target<'a> {
    Unix(&'a Path),
    Tcp(SocketAddr),
    #[cfg(feature = "tls")]
    Tls(SocketAddr, &'a Tls),
}

impl Target<'_> {
    fn describe(self) -> String {
        match self {
            Target::Unix(p) => format!("unix:{}", p.display()),
            Target::Tcp(a) => a.to_string(),
            #[cfg(feature = "tls")]
            Target::Tls(a, _) => format!("tls:{a}"),
        }
    }
}

/// Tries [`UNBOUND_SOCKETS`], then [`UNBOUND_CONTROL`]. `Ok(None)`: nothing
/// there.
fn auto(timeout: Duration, rootfs: &Path, deadline: Deadline, buf: &mut Vec<u8>) -> Result<Option<String>, Error> {
    let tcp: SocketAddr = UNBOUND_CONTROL.parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8953)));
    let places = UNBOUND_SOCKETS.iter().map(|p| Target::Unix(Path::new(p))).chain([Target::Tcp(tcp)]);
    let found = daemon::discover(places, &PRESENCE, rootfs, |target| Asked::of(fetch(target, timeout, deadline, buf)))?;
    Ok(found.map(|f| f.answer))
}

/// A stream with per-operation timeouts.
trait Conn: Read + Write {
    fn set_timeouts(&self, d: Duration) -> io::Result<()>;
}

impl Conn for UnixStream {
    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

impl Conn for TcpStream {
    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

/// Connects to `target`, sends the command and reads the reply to EOF into
/// `buf`; returns the peer's name for errors.
fn fetch(target: Target<'_>, timeout: Duration, deadline: Deadline, buf: &mut Vec<u8>) -> Result<String, Error> {
    let socket = |command, err| Error::Socket { peer: target.describe(), command, err };
    buf.clear();
    let mut conn: Box<dyn Conn> = match target {
        Target::Unix(path) => {
            let wait = deadline.left_within(timeout).map_err(|e| socket("connect", e))?;
            Box::new(crate::sys::net::connect_unix(path, wait).map_err(|e| socket("connect", e))?)
        }
        Target::Tcp(addr) => {
            let wait = deadline.left_within(timeout).map_err(|e| socket("connect", e))?;
            Box::new(crate::sys::net::connect(addr, wait).map_err(|e| socket("connect", e))?)
        }
        #[cfg(feature = "tls")]
        Target::Tls(addr, files) => {
            let wait = deadline.left_within(timeout).map_err(|e| socket("connect", e))?;
            let tcp = crate::sys::net::connect(addr, wait).map_err(|e| socket("connect", e))?;
            Box::new(tls::connect(tcp, files).map_err(|e| socket("tls", e))?)
        }
    };
    converse(conn.as_mut(), timeout, deadline, buf).map_err(|e| socket(COMMAND, e))?;
    Ok(target.describe())
}

/// The exchange itself, over any transport.
fn converse(conn: &mut dyn Conn, timeout: Duration, deadline: Deadline, buf: &mut Vec<u8>) -> io::Result<()> {
    conn.set_timeouts(deadline.left_within(timeout)?)?;
    conn.write_all(REQUEST)?;
    let mut chunk = [0u8; 4096];
    loop {
        conn.set_timeouts(deadline.left_within(timeout)?)?;
        let n = match conn.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.len() + n > MAX_UNBOUND_REPLY {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, "reply longer than limits::MAX_UNBOUND_REPLY"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

//----- rendering --------------------------------------------------------

use MetricType::{Counter, Gauge};

/// The `threadN.` families: the key's index in the block, name, help, type.
const THREAD_FAMILIES: &[(usize, &str, &str, MetricType)] = &[
    (
        thread_key::CACHEHITS,
        "unbound_cache_hits_total",
        "Total number of queries that were successfully answered using a cache lookup.",
        Counter,
    ),
    (
        thread_key::CACHEMISS,
        "unbound_cache_misses_total",
        "Total number of cache queries that needed recursive processing.",
        Counter,
    ),
    (
        thread_key::COOKIE_CLIENT,
        "unbound_queries_cookie_client_total",
        "Total number of queries with a client cookie.",
        Counter,
    ),
    (
        thread_key::COOKIE_INVALID,
        "unbound_queries_cookie_invalid_total",
        "Total number of queries with a invalid cookie.",
        Counter,
    ),
    (
        thread_key::COOKIE_VALID,
        "unbound_queries_cookie_valid_total",
        "Total number of queries with a valid cookie.",
        Counter,
    ),
    (thread_key::PREFETCH, "unbound_prefetches_total", "Total number of cache prefetches performed.", Counter),
    (thread_key::QUERIES, "unbound_queries_total", "Total number of queries received.", Counter),
    (thread_key::EXPIRED, "unbound_expired_total", "Total number of expired entries served.", Counter),
    (
        thread_key::CURRENT_ALL,
        "unbound_request_list_current_all",
        "Current size of the request list, including internally generated queries.",
        Gauge,
    ),
    (
        thread_key::CURRENT_REPLIES,
        "unbound_request_list_current_replies",
        "Current count of the number of reply entries waiting on request list entries.",
        Gauge,
    ),
    (
        thread_key::CURRENT_USER,
        "unbound_request_list_current_user",
        "Current size of the request list, only counting the requests from client queries.",
        Gauge,
    ),
    (
        thread_key::EXCEEDED,
        "unbound_request_list_exceeded_total",
        "Number of queries that were dropped because the request list was full.",
        Counter,
    ),
    (
        thread_key::OVERWRITTEN,
        "unbound_request_list_overwritten_total",
        "Total number of requests in the request list that were overwritten by newer entries.",
        Counter,
    ),
    (
        thread_key::RECURSIVEREPLIES,
        "unbound_recursive_replies_total",
        "Total number of replies sent to queries that needed recursive processing.",
        Counter,
    ),
    (
        thread_key::DNS_ERROR_REPORTS,
        "unbound_dns_error_reports",
        "Total number of DNS Error Reports generated",
        Counter,
    ),
    (
        thread_key::DISCARD_TIMEOUT,
        "unbound_queries_discard_timeout",
        "Total number of queries removed due to discard-timeout.",
        Counter,
    ),
    (
        thread_key::REPLYADDR_LIMIT,
        "unbound_queries_replyaddr_limit",
        "Total number of queries removed due to replyaddr limits.",
        Counter,
    ),
    (
        thread_key::WAIT_LIMIT,
        "unbound_queries_wait_limit",
        "Total number of queries removed due to wait-limit.",
        Counter,
    ),
];

/// The `total.` families.
const TOTAL_FAMILIES: &[(usize, &str, &str, MetricType)] = &[
    (
        thread_key::RECURSION_AVG,
        "unbound_recursion_time_seconds_avg",
        "Average time it took to answer queries that needed recursive processing (does not include in-cache \
         requests).",
        Gauge,
    ),
    (
        thread_key::RECURSION_MEDIAN,
        "unbound_recursion_time_seconds_median",
        "The median of the time it took to answer queries that needed recursive processing.",
        Gauge,
    ),
];

/// The single-valued families: key, name, help, type.
const GLOBAL_FAMILIES: &[(&str, &str, &str, MetricType)] = &[
    ("num.answer.bogus", "unbound_answers_bogus", "Total number of answers that were bogus.", Counter),
    ("num.answer.secure", "unbound_answers_secure_total", "Total number of answers that were secure.", Counter),
    (
        "num.query.subnet",
        "unbound_query_subnet_total",
        "Total number of queries that got an answer that contained EDNS client subnet data.",
        Counter,
    ),
    (
        "num.query.subnet_cache",
        "unbound_query_subnet_cache_total",
        "Total number of queries answered from the edns client subnet cache.",
        Counter,
    ),
    ("mem.total.sbrk", "unbound_memory_sbrk_bytes", "Memory in bytes allocated through sbrk.", Gauge),
    (
        "num.query.ipv6",
        "unbound_query_ipv6_total",
        "Total number of queries that were made using IPv6 towards the Unbound server.",
        Counter,
    ),
    (
        "num.query.edns.DO",
        "unbound_query_edns_DO_total",
        "Total number of queries that had an EDNS OPT record with the DO (DNSSEC OK) bit set present.",
        Counter,
    ),
    (
        "num.query.edns.present",
        "unbound_query_edns_present_total",
        "Total number of queries that had an EDNS OPT record present.",
        Counter,
    ),
    (
        "num.query.tcp",
        "unbound_query_tcp_total",
        "Total number of queries that were made using TCP towards the Unbound server, including DoT and DoH \
         queries.",
        Counter,
    ),
    (
        "num.query.tcpout",
        "unbound_query_tcpout_total",
        "Total number of queries that the Unbound server made using TCP outgoing towards other servers.",
        Counter,
    ),
    (
        "num.query.tls",
        "unbound_query_tls_total",
        "Total number of queries that were made using TCP TLS towards the Unbound server, including DoT and DoH \
         queries.",
        Counter,
    ),
    (
        "num.query.tls.resume",
        "unbound_query_tls_resume_total",
        "Total number of queries that were made using TCP TLS Resume towards the Unbound server.",
        Counter,
    ),
    (
        "num.query.https",
        "unbound_query_https_total",
        "Total number of DoH queries that were made towards the Unbound server.",
        Counter,
    ),
    (
        "num.query.udpout",
        "unbound_query_udpout_total",
        "Total number of queries that the Unbound server made using UDP outgoing towards other servers.",
        Counter,
    ),
    ("num.rrset.bogus", "unbound_rrset_bogus_total", "Total number of rrsets marked bogus by the validator.", Counter),
    (
        "rrset.cache.max_collisions",
        "unbound_rrset_cache_max_collisions_total",
        "Total number of rrset cache hashtable collisions.",
        Counter,
    ),
    ("time.elapsed", "unbound_time_elapsed_seconds", "Time since last statistics printout in seconds.", Counter),
    ("time.now", "unbound_time_now_seconds", "Current time in seconds since 1970.", Gauge),
    ("time.up", "unbound_time_up_seconds_total", "Uptime since server boot in seconds.", Counter),
    (
        "unwanted.queries",
        "unbound_unwanted_queries_total",
        "Total number of queries that were refused or dropped because they failed the access control settings.",
        Counter,
    ),
    (
        "unwanted.replies",
        "unbound_unwanted_replies_total",
        "Total number of replies that were unwanted or unsolicited.",
        Counter,
    ),
    ("msg.cache.count", "unbound_msg_cache_count", "The number of Messages cached", Gauge),
    (
        "msg.cache.max_collisions",
        "unbound_msg_cache_max_collisions_total",
        "Total number of msg cache hashtable collisions.",
        Counter,
    ),
    ("rrset.cache.count", "unbound_rrset_cache_count", "The number of rrset cached", Gauge),
    ("infra.cache.count", "unbound_infra_cache_count", "Total number of infra cache entries", Counter),
    ("mem.quic", "unbound_memory_doq_bytes", "Memory used by DoQ buffers, in bytes.", Gauge),
    (
        "num.query.quic",
        "unbound_query_quic_total",
        "Total number of DNS-over-QUIC (DoQ) queries performed towards the Unbound server.",
        Counter,
    ),
    (
        "num.valops",
        "unbound_signature_validations",
        "Total number of signature validation operations performed by the validator module",
        Counter,
    ),
];

/// The labelled families: prefix (one of [`LABELLED`]), name, help, label
/// name, type.
const LABELLED_FAMILIES: &[(&str, &str, &str, &str, MetricType)] = &[
    (
        "num.answer.rcode.",
        "unbound_answer_rcodes_total",
        "Total number of answers to queries, from cache or from recursion, by response code.",
        "rcode",
        Counter,
    ),
    ("mem.cache.", "unbound_memory_caches_bytes", "Memory in bytes in use by caches.", "cache", Gauge),
    ("mem.mod.", "unbound_memory_modules_bytes", "Memory in bytes in use by modules.", "module", Gauge),
    (
        "num.query.class.",
        "unbound_query_classes_total",
        "Total number of queries with a given query class.",
        "class",
        Counter,
    ),
    (
        "num.query.flags.",
        "unbound_query_flags_total",
        "Total number of queries that had a given flag set in the header.",
        "flag",
        Counter,
    ),
    (
        "num.query.opcode.",
        "unbound_query_opcodes_total",
        "Total number of queries with a given query opcode.",
        "opcode",
        Counter,
    ),
    (
        "num.query.type.",
        "unbound_query_types_total",
        "Total number of queries with a given query type.",
        "type",
        Counter,
    ),
    (
        "num.query.aggressive.",
        "unbound_query_aggressive_nsec",
        "Total number of queries that the Unbound server generated response using Aggressive NSEC.",
        "rcode",
        Counter,
    ),
    (
        "num.rpz.action.rpz-",
        "unbound_rpz_action_count",
        "Total number of triggered Response Policy Zone actions, by type.",
        "type",
        Counter,
    ),
    ("mem.http.", "unbound_memory_doh_bytes", "Memory used by DoH buffers, in bytes.", "buffer", Gauge),
];

fn render_down(out: &mut Exposition) {
    out.family("unbound_up", "Whether scraping Unbound's metrics was successful.", Gauge);
    out.sample(&[], 0.0);
}

/// Writes every family `s` has a value for.
pub fn render(s: &Stats<'_>, out: &mut Exposition) {
    out.family("unbound_up", "Whether scraping Unbound's metrics was successful.", Gauge);
    out.sample(&[], 1.0);
    let mut label = [0u8; 20];
    for &(k, name, help, kind) in THREAD_FAMILIES {
        if !s.threads.iter().any(|t| t[k].is_some()) {
            continue;
        }
        out.family(name, help, kind);
        for (i, t) in s.threads.iter().enumerate() {
            if let Some(v) = t[k] {
                out.sample(&[("thread", crate::expo::decimal(i as u64, &mut label))], v);
            }
        }
    }
    for &(k, name, help, kind) in TOTAL_FAMILIES {
        if let Some(v) = s.total[k] {
            out.family(name, help, kind);
            out.sample(&[], v);
        }
    }
    for &(key, name, help, kind) in GLOBAL_FAMILIES {
        let value = GLOBAL_KEYS.iter().position(|&g| g == key).and_then(|i| s.global[i]);
        if let Some(v) = value {
            out.family(name, help, kind);
            out.sample(&[], v);
        }
    }
    for &(prefix, name, help, label_name, kind) in LABELLED_FAMILIES {
        let Some(family) = LABELLED.iter().position(|&p| p == prefix) else { continue };
        let mut samples = s.labelled.iter().filter(|l| l.family == family).peekable();
        if samples.peek().is_none() {
            continue;
        }
        out.family(name, help, kind);
        for l in samples {
            out.sample(&[(label_name, l.label)], l.value);
        }
    }
    histogram(s, out);
}

/// `unbound_response_time_seconds` from Unbound's non-cumulative buckets.
fn histogram(s: &Stats<'_>, out: &mut Exposition) {
    if s.histogram.is_empty() {
        return;
    }
    out.family("unbound_response_time_seconds", "Query response time in seconds.", MetricType::Histogram);
    let mut cumulative: u64 = 0;
    for b in &s.histogram {
        cumulative = cumulative.saturating_add(b.count);
        let le = le(b.upper);
        out.sample_suffixed("_bucket", &[("le", &le)], cumulative as f64);
    }
    out.sample_suffixed("_bucket", &[("le", "+Inf")], cumulative as f64);
    let avg = s.total[thread_key::RECURSION_AVG].unwrap_or(0.0);
    out.sample_suffixed("_sum", &[], avg * cumulative as f64);
    out.sample_suffixed("_count", &[], cumulative as f64);
}

/// A bucket bound as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it,
/// which is what the exporter's `le` values look like: `1e-06`, `0.000128`,
/// `524288`.
fn le(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-4 {
        let e = format!("{v:e}");
        if let Some((mantissa, exp)) = e.split_once('e') {
            if let Ok(exp) = exp.parse::<i32>() {
                let sign = if exp < 0 { '-' } else { '+' };
                return format!("{mantissa}e{sign}{:02}", exp.abs());
            }
        }
    }
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &[u8] = include_bytes!("../../../tests/fixtures/unbound/1.17.1/stats_noreset.txt");
    const PLAIN: &[u8] = include_bytes!("../../../tests/fixtures/unbound/1.17.1/stats_noreset.plain.txt");

    fn text(input: &[u8]) -> String {
        let mut out = Exposition::new(1 << 20);
        render(&stats::parse(input).unwrap(), &mut out);
        assert_eq!(out.invalid, 0);
        String::from_utf8(out.as_bytes().to_vec()).unwrap()
    }

    /// The whole exposition of the captured reply, against
    /// tests/fixtures/unbound/1.17.1/metrics.txt (`UPDATE=1` rewrites it).
    #[test]
    fn render_captured_reply() {
        let got = text(CAPTURED);
        let path = format!("{}/../tests/fixtures/unbound/1.17.1/metrics.txt", env!("CARGO_MANIFEST_DIR"));
        if std::env::var_os("UPDATE").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        assert_eq!(got, std::fs::read_to_string(&path).unwrap());
    }

    #[test]
    fn names_and_labels_as_the_exporter_spells_them() {
        let got = text(CAPTURED);
        for line in [
            "unbound_up 1",
            "unbound_queries_total{thread=\"0\"} 5",
            "unbound_cache_hits_total{thread=\"0\"} 4",
            "unbound_answer_rcodes_total{rcode=\"NXDOMAIN\"} 1",
            "unbound_answer_rcodes_total{rcode=\"SERVFAIL\"} 1",
            "unbound_query_types_total{type=\"AAAA\"} 1",
            "unbound_query_flags_total{flag=\"RD\"} 5",
            "unbound_memory_modules_bytes{module=\"iterator\"} 16604",
            "unbound_response_time_seconds_bucket{le=\"1e-06\"} 1",
            "unbound_response_time_seconds_bucket{le=\"0.000128\"} 1",
            "unbound_response_time_seconds_bucket{le=\"524288\"} 1",
            "unbound_response_time_seconds_bucket{le=\"+Inf\"} 1",
            "unbound_response_time_seconds_count 1",
            "# TYPE unbound_time_up_seconds_total counter",
        ] {
            assert!(got.lines().any(|l| l == line), "missing: {line}\n{got}");
        }
        // Not printed by Unbound 1.17: absent, not zero.
        assert!(!got.contains("unbound_queries_cookie_valid_total"));
    }

    #[test]
    fn without_extended_statistics_no_extended_families() {
        let got = text(PLAIN);
        assert!(got.contains("unbound_queries_total{thread=\"0\"} 1\n"));
        assert!(!got.contains("unbound_response_time_seconds"));
        assert!(!got.contains("unbound_query_types_total"));
        assert!(!got.contains("unbound_memory_"));
    }

    #[test]
    fn down_is_only_unbound_up_0() {
        let mut out = Exposition::new(1024);
        render_down(&mut out);
        assert_eq!(
            out.as_bytes(),
            b"# HELP unbound_up Whether scraping Unbound's metrics was successful.\n# TYPE unbound_up gauge\nunbound_up 0\n"
        );
    }

    #[test]
    fn every_exported_key_has_a_family() {
        for prefix in LABELLED {
            assert!(LABELLED_FAMILIES.iter().any(|f| f.0 == *prefix), "{prefix}");
        }
        for key in GLOBAL_KEYS {
            let covered = GLOBAL_FAMILIES.iter().any(|f| f.0 == *key);
            assert!(covered, "{key}");
        }
        for k in 0..stats::THREAD_KEYS.len() {
            let covered = THREAD_FAMILIES.iter().any(|f| f.0 == k) || TOTAL_FAMILIES.iter().any(|f| f.0 == k);
            assert!(covered, "{}", stats::THREAD_KEYS[k]);
        }
    }

    #[test]
    fn le_as_go_formats_it() {
        assert_eq!(le(0.000001), "1e-06");
        assert_eq!(le(0.000016), "1.6e-05");
        assert_eq!(le(0.000128), "0.000128");
        assert_eq!(le(0.5), "0.5");
        assert_eq!(le(524288.0), "524288");
    }
}
