//! `GET /probe`, as blackbox_exporter answers it: the request's
//! parameters, the module they name (a built-in one or a configured
//! check's), the timeout Prometheus allows, the statuses of a refusal, the
//! body (the probe families of that one check, no `check` label) and
//! `debug=true`'s plain-text page.
//!
//! Invariants: at most [`MAX_PROBES`] probes run at once (a 503 beyond),
//! so `/probe` can never take the connection slots `/metrics` needs; a
//! probe answers within the scrape timeout Prometheus sent; the body is
//! bounded by [`MAX_PROBE_BODY`]; nothing from the URL can forge a line of
//! the debug page.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::check::{self, quote, run::run_probe, Check, CheckResult, Family, Kind, Outcome, Reason, Select};
use crate::config::Config;
use crate::expo::Exposition;
use crate::limits::{MAX_PROBES, MAX_PROBE_BODY, MAX_PROBE_TIMEOUT, PROBE_TIMEOUT, PROBE_TIMEOUT_OFFSET};

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
pub fn probe(query: &str, scrape_timeout: Option<&[u8]>, config: &Config) -> Result<ProbeAnswer, ProbeError> {
    let bad = |message: String| ProbeError { status: 400, message };
    let (mut module, mut target, mut debug) = (None, None, false);
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = unescape(v).ok_or_else(|| bad(format!("bad escape in {k}")))?;
        match k {
            "module" => module = Some(v),
            "target" => target = Some(v),
            "debug" => debug = v == "true",
            _ => params.push((k, v)),
        }
    }
    // blackbox_exporter's order: the module, the timeout, the target.
    let module = module.unwrap_or_else(|| "tcp_connect".into());
    let Found { kind, own_timeout, select, bare } = find(&module, config).map_err(bad)?;
    let mut kind = kind;
    let timeout = probe_timeout(scrape_timeout, own_timeout).map_err(|message| ProbeError { status: 500, message })?;
    let target = target.filter(|t| !t.is_empty()).ok_or_else(|| bad("Target parameter is missing".into()))?;
    for (k, v) in &params {
        kind.probe_param(k, v).map_err(bad)?;
    }
    let check = Check { name: String::new(), target, interval: timeout, timeout, select, kind };
    let _running = Running::start().ok_or_else(|| ProbeError {
        status: 503,
        message: format!("Too many probes at once: {MAX_PROBES} are running; try again later"),
    })?;
    let results = [CheckResult { name: String::new(), family: select.family(), bare, outcomes: run_probe(&check) }];
    let mut out = Exposition::new(MAX_PROBE_BODY);
    check::render(&results, &mut out);
    let body =
        if debug { debug_page(&module, &check, &results[0].outcomes, out.as_bytes()) } else { out.as_bytes().to_vec() };
    Ok(ProbeAnswer { body, debug })
}

/// What a module name stands for.
struct Found {
    kind: Kind,
    own_timeout: Option<Duration>,
    select: Select,
    /// blackbox's label set: a blackbox.yml module.
    bare: bool,
}

/// The module called `name`: one of the operator's blackbox.yml, else a
/// configured check's, else a built-in one; configured names win, so a
/// `dns` module of the operator's is never shadowed by sonde's own.
fn find(name: &str, config: &Config) -> Result<Found, String> {
    if let Some(m) = config.modules.iter().find(|m| m.name == name) {
        let kind = m.kind.clone().map_err(|why| format!("module {name}: {why}"))?;
        return Ok(Found { kind, own_timeout: m.timeout, select: m.select, bare: true });
    }
    if let Some(c) = config.checks.iter().find(|c| c.name == name) {
        return Ok(Found { kind: c.kind.clone(), own_timeout: Some(c.timeout), select: c.select, bare: false });
    }
    match check::builtin(name) {
        Some(Ok(kind)) => Ok(Found { kind, own_timeout: None, select: Select::Every(Family::Any), bare: false }),
        Some(Err(why)) => Err(format!("module {name}: {why}")),
        None => Err(format!("Unknown module \"{name}\"")),
    }
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
        Some(v) => std::str::from_utf8(v)
            .ok()
            .and_then(|s| crate::wire::float::parse(s.trim()))
            .filter(|s| !s.is_nan())
            .ok_or_else(|| {
                let shown = String::from_utf8_lossy(v);
                format!("Failed to parse timeout from Prometheus header: '{shown}' is not a number of seconds")
            })?,
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
    s.push_str(
        "


Module configuration:
kind = ",
    );
    check.kind.describe(&mut s);
    match check.select {
        Select::Every(f) => {
            let _ = write!(s, "\nfamily = \"{}\"", f.as_str());
        }
        Select::Preferred { ip6, fallback } => {
            let p = if ip6 { "ip6" } else { "ip4" };
            let _ = write!(s, "\npreferred_ip_protocol = \"{p}\"\nip_protocol_fallback = {fallback}");
        }
    }
    let _ = writeln!(s, "\ntimeout = \"{timeout}s\"");
    s.into_bytes()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// See: issue 13, "a [[check]] named dns passes check-config and is
    /// then shadowed by the built-in".
    #[test]
    fn configured_modules_win_over_built_ins() {
        let mut config = crate::config::parse(
            "[[check]]\nname = \"dns\"\nkind = \"dns\"\ntarget = \"x\"\nquery_name = \"test.example.com.\"\n",
        )
        .unwrap();
        let found = find("dns", &config).unwrap();
        assert!(matches!(&found.kind, Kind::Dns(d) if d.query_name == "test.example.com."));
        assert!(!found.bare);
        config.modules = vec![check::Module {
            name: "dns".into(),
            timeout: None,
            select: Select::BLACKBOX,
            kind: Err("prober http is not in this sonde".into()),
        }];
        assert_eq!(find("dns", &config).err().unwrap(), "module dns: prober http is not in this sonde");
        assert!(matches!(find("ntp", &config), Ok(Found { kind: Kind::Ntp(_), .. })), "built-ins still there");
    }

    #[test]
    fn probe_parameters_are_unescaped_and_checked() {
        assert_eq!(unescape("a%2Eb+c"), Some("a.b c".into()));
        assert_eq!(unescape("%zz"), None);
        let none = Config::builtin();
        let refused = |query: &str, header: Option<&[u8]>| probe(query, header, &none).err().map(|e| e.status);
        assert_eq!(refused("module=tcp_connect", None), Some(400));
        assert_eq!(refused("module=dns&target=127.0.0.1&query_name=a..b", None), Some(400));
        let unknown = probe("module=nope&target=127.0.0.1:1", None, &none).err().unwrap();
        assert_eq!((unknown.status, unknown.message.as_str()), (400, "Unknown module \"nope\""));
        // blackbox_exporter's order: the module first, then the header, then the target.
        assert_eq!(refused("module=nope", Some(b"x")), Some(400));
        assert_eq!(refused("module=tcp_connect", Some(b"ten")), Some(500));
        assert_eq!(refused("module=tcp_connect", Some(b"\xff")), Some(500));
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
}
