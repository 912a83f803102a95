//! The HTTP check: one request, its redirects followed, the response
//! judged as blackbox_exporter's http prober judges it, with its option
//! and metric names.
//!
//! The target is a URL (`http://host[:port]/path`, `https://...`, or
//! `host[:port]/path`, which is http). Each address of the target's host
//! gets one HTTP/1.1 request per hop, on a connection of its own
//! (`Connection: close`, no keep-alive), without `Accept-Encoding` unless
//! the check's own headers send one (a compressed body is counted as it
//! came, never decompressed). A redirect (301, 302, 303, 307, 308 with a
//! `Location`) is followed unless `follow_redirects` is false, ten at
//! most as Go's client, blackbox's, does; a redirect to another host
//! resolves it and takes an address of the family being checked. 301,
//! 302 and 303 turn the method into GET without a body (HEAD stays HEAD),
//! 307 and 308 keep both. Credentials go only to the target's own host
//! and port, never to a host a redirect names.
//!
//! The verdict, in blackbox's order: the status (`valid_status_codes`,
//! default 2xx; a redirect not followed is judged as the final
//! response), the header patterns, the body patterns (RE2 syntax, matched
//! against the body as UTF-8), the body read to its end (a body cut short
//! fails as `reset`, one past `body_size_limit` as `too_large`), the
//! version (`valid_http_versions`), then `fail_if_ssl` and
//! `fail_if_not_ssl` on the final hop. A status outside the valid ones
//! fails as `bad_status`; a pattern, a version or an SSL condition as
//! `unexpected_reply` (patterns also set `probe_failed_due_to_regex`).
//!
//! With the `tls` feature, an https hop speaks TLS through
//! [`super::conn`], for `server_name`, else the `Host` header the check
//! sends, else the URL's host (a redirect to another host: that host).
//!
//! Invariants: every socket operation has a deadline no later than the
//! check's; a response head is at most [`MAX_HTTP_HEAD`] bytes (more fails
//! as `too_large`), parsed by [`crate::wire::http`]; the body streams
//! through one 16 KiB buffer and is kept only for body patterns, at most
//! [`MAX_HTTP_BODY_KEPT`] bytes, so an endless body costs time up to the
//! deadline (or `body_size_limit`), never memory; secrets are read from
//! their files at each run.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use super::conn::{Conn, Failure, Tls};
use super::{quote, Detail as CheckDetail, Outcome, Probe, Reason, Row, Select};
use crate::limits::{MAX_HTTP_BODY_KEPT, MAX_HTTP_HEAD};
use crate::sys::time::Deadline;
use crate::tls::ClientTls;
use crate::wire::http::{self as wire, Chunked, Framing, Head, Url};
use crate::wire::regex::Regex;

/// Redirects followed; the next one ends the check there, as Go's client
/// (blackbox_exporter's) stops after ten.
pub const MAX_REDIRECTS: u32 = 10;

/// A secret: from the config as written (blackbox.yml's `password`,
/// `bearer_token`), or read from a file at each run (sonde's own keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Secret {
    Inline(String),
    File(PathBuf),
}

impl Secret {
    fn read(&self) -> Result<String, String> {
        match self {
            Secret::Inline(s) => Ok(s.clone()),
            Secret::File(p) => std::fs::read_to_string(p)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| format!("{}: {e}", p.display())),
        }
    }
}

/// How the request authenticates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Basic` of `user:password`.
    Basic { user: String, password: Secret },
    /// `Authorization: SCHEME credentials` (Bearer for a bearer token).
    Token { scheme: String, credentials: Secret },
}

/// A pattern on one header's values (blackbox's `http_header_match_spec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderMatch {
    pub header: String,
    pub regexp: Regex,
    /// A response without the header passes this one (else it fails).
    pub allow_missing: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub method: String,
    /// Sent as written, in order; a `Host` here replaces the URL's.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Empty: any 2xx.
    pub valid_status_codes: Vec<u16>,
    /// `HTTP/1.1`, `HTTP/1.0`; empty: any.
    pub valid_http_versions: Vec<String>,
    pub follow_redirects: bool,
    pub fail_if_ssl: bool,
    pub fail_if_not_ssl: bool,
    pub fail_if_body_matches_regexp: Vec<Regex>,
    pub fail_if_body_not_matches_regexp: Vec<Regex>,
    pub fail_if_header_matches: Vec<HeaderMatch>,
    pub fail_if_header_not_matches: Vec<HeaderMatch>,
    pub auth: Auth,
    /// Most body bytes read; past it the check fails as `too_large`.
    pub body_size_limit: Option<u64>,
    pub tls_config: ClientTls,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            method: "GET".into(),
            headers: Vec::new(),
            body: String::new(),
            valid_status_codes: Vec::new(),
            valid_http_versions: Vec::new(),
            follow_redirects: true,
            fail_if_ssl: false,
            fail_if_not_ssl: false,
            fail_if_body_matches_regexp: Vec::new(),
            fail_if_body_not_matches_regexp: Vec::new(),
            fail_if_header_matches: Vec::new(),
            fail_if_header_not_matches: Vec::new(),
            auth: Auth::None,
            body_size_limit: None,
            tls_config: ClientTls::default(),
        }
    }
}

impl Settings {
    fn keeps_body(&self) -> bool {
        !self.fail_if_body_matches_regexp.is_empty() || !self.fail_if_body_not_matches_regexp.is_empty()
    }

    /// The `Host` header of the check's own, if any.
    fn host_header(&self) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("host")).map(|(_, v)| v.as_str())
    }
}

/// What an HTTP check saw, summed over its hops where blackbox sums.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detail {
    /// The final response's; 0 when none came.
    pub status: u16,
    /// `1.1`, `1.0`; 0 when no response came.
    pub version: f64,
    /// The final response's Content-Length: -1 when it had none (chunked,
    /// or ended by the close); 0 when no response came.
    pub content_length: i64,
    /// Body bytes of the final response read.
    pub body_length: u64,
    pub redirects: u32,
    /// Whether the final hop was https.
    pub ssl: bool,
    pub failed_due_to_regex: bool,
    /// The final response's Last-Modified, unix seconds.
    pub last_modified: Option<i64>,
    /// Name lookups of redirects' hosts (the target's own is the
    /// outcome's `lookup_seconds`), connects, TLS handshakes, from the
    /// request to the first byte of the response, and from there to the
    /// end of the body (the final hop's only, as blackbox).
    pub resolve: f64,
    pub connect: f64,
    pub tls_seconds: f64,
    pub processing: f64,
    pub transfer: f64,
    /// What TLS showed on the last hop that spoke it.
    pub tls: Tls,
    /// Why it failed, beyond the reason, for stderr.
    pub words: Option<String>,
}

impl Probe for Settings {
    fn default_port(&self) -> u16 {
        80
    }

    fn authority<'t>(&self, target: &'t str) -> Result<(&'t str, u16), String> {
        let bad = || format!("'{target}' is not a URL (http://host[:port]/path, https://..., or host[:port]/path)");
        let (https, authority, _) = wire::split_url(target).ok_or_else(bad)?;
        let (host, port) = crate::wire::hostport::split(authority).ok_or_else(bad)?;
        Ok((host, port.unwrap_or(if https { 443 } else { 80 })))
    }

    fn run(&self, target: &str, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
        run(self, target, addr, deadline)
    }

    fn unresolved(&self) -> CheckDetail {
        CheckDetail::Http(Box::default())
    }

    fn describe(&self, s: &mut String) {
        s.push_str("\"http\"\nmethod = ");
        quote(s, &self.method);
        s.push_str("\nvalid_status_codes = [");
        for (i, code) in self.valid_status_codes.iter().enumerate() {
            let _ = write!(s, "{}{code}", if i == 0 { "" } else { ", " });
        }
        s.push(']');
        let _ = write!(s, "\nfollow_redirects = {}", self.follow_redirects);
        for (k, patterns) in [
            ("fail_if_body_matches_regexp", &self.fail_if_body_matches_regexp),
            ("fail_if_body_not_matches_regexp", &self.fail_if_body_not_matches_regexp),
        ] {
            if !patterns.is_empty() {
                let _ = write!(s, "\n{k} = [");
                for (i, p) in patterns.iter().enumerate() {
                    s.push_str(if i == 0 { "" } else { ", " });
                    quote(s, p.as_str());
                }
                s.push(']');
            }
        }
        if let Some(limit) = self.body_size_limit {
            let _ = write!(s, "\nbody_size_limit = {limit}");
        }
    }
}

/// The built-in modules of this kind: blackbox_exporter's examples.
pub fn module(name: &str) -> Option<Result<Settings, &'static str>> {
    match name {
        "http_2xx" => Some(Ok(Settings::default())),
        "http_post_2xx" => Some(Ok(Settings { method: "POST".into(), ..Settings::default() })),
        _ => None,
    }
}

pub(super) fn detail_of(o: &Outcome) -> Option<&Detail> {
    match &o.detail {
        CheckDetail::Http(d) => Some(d),
        _ => None,
    }
}

/// blackbox's phases, in its (sorted) order.
const PHASES: &[&str] = &["connect", "processing", "resolve", "tls", "transfer"];

/// The families of HTTP checks (with those it shares with tcp,
/// [`super::render::SHARED`]), blackbox_exporter's names and help.
pub const ROWS: &[Row] = &[
    Row::split(
        "probe_http_duration_seconds",
        "Duration of http request by phase, summed over all redirects",
        |o| detail_of(o).map(|_| 0.0),
        "phase",
        PHASES,
        |o, i| {
            let Some(d) = detail_of(o) else { return 0.0 };
            [d.connect, d.processing, o.lookup_seconds + d.resolve, d.tls_seconds, d.transfer][i]
        },
    ),
    Row::new("probe_http_content_length", "Length of http content response", |o| {
        detail_of(o).map(|d| d.content_length as f64)
    }),
    Row::new("probe_http_uncompressed_body_length", "Length of uncompressed response body", |o| {
        detail_of(o).map(|d| d.body_length as f64)
    }),
    Row::new("probe_http_redirects", "The number of redirects", |o| detail_of(o).map(|d| f64::from(d.redirects))),
    Row::new("probe_http_ssl", "Indicates if SSL was used for the final redirect", |o| {
        detail_of(o).map(|d| if d.ssl { 1.0 } else { 0.0 })
    }),
    Row::new("probe_http_status_code", "Response HTTP status code", |o| detail_of(o).map(|d| f64::from(d.status))),
    Row::new("probe_http_version", "Returns the version of HTTP of the probe response", |o| {
        detail_of(o).map(|d| d.version)
    }),
    Row::new(
        "probe_http_last_modified_timestamp_seconds",
        "Returns the Last-Modified HTTP response header in unixtime",
        |o| detail_of(o).and_then(|d| d.last_modified).map(|t| t as f64),
    ),
];

/// Runs the check against `addr`, one of the addresses of `target`'s host.
pub fn run(s: &Settings, target: &str, addr: SocketAddr, deadline: Deadline) -> (Option<Reason>, CheckDetail) {
    let mut d = Detail::default();
    let reason = match Url::parse(target) {
        Some(url) => check(s, url, addr, deadline, &mut d).err(),
        // The config and /probe read the target the same way: not reached.
        None => Some(Reason::Resolve),
    };
    (reason, CheckDetail::Http(Box::new(d)))
}

/// One hop's response: its head, the connection, the body bytes that came
/// with the head, and when the first byte came.
struct Response {
    head: Head,
    conn: Conn,
    early: Vec<u8>,
    first_byte: Instant,
}

fn check(s: &Settings, first: Url, mut addr: SocketAddr, deadline: Deadline, d: &mut Detail) -> Result<(), Reason> {
    let mut url = first.clone();
    let mut method = s.method.as_str();
    let mut body = s.body.as_bytes();
    let fail = |d: &mut Detail, (reason, words): Failure| {
        if words.is_some() {
            d.words = words;
        }
        reason
    };
    let r = loop {
        let r = exchange(s, &first, &url, addr, method, body, deadline, d).map_err(|f| fail(d, f))?;
        let location = r.head.get("location").filter(|_| wire::is_redirect(r.head.status));
        let Some(location) = location else { break r };
        d.redirects += 1;
        if !s.follow_redirects {
            break r;
        }
        if d.redirects > MAX_REDIRECTS {
            d.words = Some(format!("stopped after {MAX_REDIRECTS} redirects"));
            break r;
        }
        let Some(next) = url.join(location) else {
            let mut why = "a redirect to ".to_owned();
            quote(&mut why, location);
            why.push_str(", not an http or https URL");
            d.words = Some(why);
            r.conn.close(deadline);
            return Err(Reason::UnexpectedReply);
        };
        let status = r.head.status;
        r.conn.close(deadline);
        if next.host != url.host {
            let t = Instant::now();
            let select = Select::Preferred { ip6: addr.is_ipv6(), fallback: true };
            let found = super::run::resolve(&next.host, next.port, select, deadline);
            d.resolve += t.elapsed().as_secs_f64();
            addr = found?[0];
        } else {
            addr.set_port(next.port);
        }
        if matches!(status, 301..=303) {
            method = if method == "HEAD" { "HEAD" } else { "GET" };
            body = b"";
        }
        url = next;
    };
    judge(s, method, r, deadline, d)
}

/// One request on a connection of its own: connect, TLS for https, the
/// request, the response head.
#[allow(clippy::too_many_arguments)]
fn exchange(
    s: &Settings,
    first: &Url,
    url: &Url,
    addr: SocketAddr,
    method: &str,
    body: &[u8],
    deadline: Deadline,
    d: &mut Detail,
) -> Result<Response, Failure> {
    let t = Instant::now();
    let timeout = deadline.left().ok_or((Reason::Timeout, None))?;
    let tcp = crate::sys::net::connect(addr, timeout).map_err(|e| (Reason::of_io(&e), None))?;
    d.connect += t.elapsed().as_secs_f64();
    let mut conn = Conn::Plain(tcp);
    // The target's own host gets the check's Host header and credentials;
    // another host a redirect names gets neither.
    let home = url.authority == first.authority;
    d.ssl = url.https;
    if url.https {
        let name = match (&s.tls_config.server_name, s.host_header()) {
            (Some(n), _) if home => n.as_str(),
            (None, Some(h)) if home => crate::wire::hostport::split(h).map_or(h, |(host, _)| host),
            _ => url.host.as_str(),
        };
        let t = Instant::now();
        d.tls = Tls::default();
        let started = conn.start_tls(&s.tls_config, name, deadline, &mut d.tls);
        d.tls_seconds += t.elapsed().as_secs_f64();
        started?;
    }
    let request = request(s, url, home, method, body).map_err(|why| (Reason::Error, Some(why)))?;
    let sent = Instant::now();
    conn.write_all(&request, deadline)?;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut first_byte = None;
    loop {
        let n = conn.read(&mut chunk, deadline)?;
        if n == 0 {
            let why = if buf.is_empty() { "the server closed without a response" } else { "the response head was cut" };
            return Err((Reason::Reset, Some(why.into())));
        }
        let at = *first_byte.get_or_insert_with(Instant::now);
        buf.extend_from_slice(&chunk[..n]);
        match wire::parse_head(&buf) {
            Ok(Some((head, len))) => {
                d.processing += (at - sent).as_secs_f64();
                let early = buf.split_off(len);
                return Ok(Response { head, conn, early, first_byte: at });
            }
            Ok(None) if buf.len() >= MAX_HTTP_HEAD => {
                return Err((Reason::TooLarge, Some(format!("a response head over {MAX_HTTP_HEAD} bytes"))));
            }
            Ok(None) => {}
            Err(wire::Bad::TooManyHeaders) => {
                let why = format!("more than {} header fields", wire::MAX_HEADERS);
                return Err((Reason::TooLarge, Some(why)));
            }
            Err(_) => return Err((Reason::Malformed, Some("not an HTTP/1.x response".into()))),
        }
    }
}

/// The request's bytes: `Connection: close`, sonde's User-Agent unless the
/// check sends its own, credentials (read now) for the target's own host.
fn request(s: &Settings, url: &Url, home: bool, method: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let host = match s.host_header() {
        Some(h) if home => h,
        _ => url.authority.as_str(),
    };
    let mut r = format!("{method} {} HTTP/1.1\r\nHost: {host}\r\n", url.path);
    let mut agent = false;
    for (name, value) in &s.headers {
        if !name.eq_ignore_ascii_case("host") {
            agent |= name.eq_ignore_ascii_case("user-agent");
            let _ = write!(r, "{name}: {value}\r\n");
        }
    }
    if !agent {
        r.push_str(concat!("User-Agent: sonde/", env!("CARGO_PKG_VERSION"), "\r\n"));
    }
    match &s.auth {
        _ if !home => {}
        Auth::None => {}
        Auth::Basic { user, password } => {
            let pair = format!("{user}:{}", password.read()?);
            let _ = write!(r, "Authorization: Basic {}\r\n", crate::wire::base64::encode(pair.as_bytes()));
        }
        Auth::Token { scheme, credentials } => {
            let _ = write!(r, "Authorization: {scheme} {}\r\n", credentials.read()?.trim());
        }
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        let _ = write!(r, "Content-Length: {}\r\n", body.len());
    }
    r.push_str("Connection: close\r\n\r\n");
    let mut bytes = r.into_bytes();
    bytes.extend_from_slice(body);
    Ok(bytes)
}

/// The final response: its body read, and the verdict.
fn judge(s: &Settings, method: &str, r: Response, deadline: Deadline, d: &mut Detail) -> Result<(), Reason> {
    let Response { head, mut conn, early, first_byte } = r;
    d.status = head.status;
    d.version = if head.minor == 0 { 1.0 } else { 1.1 };
    d.content_length = head.content_length().ok().flatten().map_or(-1, |n| n as i64);
    d.last_modified = head.get("last-modified").and_then(wire::parse_http_date);
    let status_ok = match s.valid_status_codes.as_slice() {
        [] => (200..300).contains(&head.status),
        codes => codes.contains(&head.status),
    };
    let mut verdict = if status_ok { Ok(()) } else { Err(Reason::BadStatus) };
    if verdict.is_ok() && !headers_pass(s, &head) {
        d.failed_due_to_regex = true;
        verdict = Err(Reason::UnexpectedReply);
    }
    // A redirect not followed (or the eleventh) is judged without its body,
    // as blackbox's client returns it unread.
    let body = if wire::is_redirect(head.status) && head.get("location").is_some() {
        Ok(Vec::new())
    } else {
        read_body(s, method, &head, &mut conn, early, deadline, d)
    };
    d.transfer = first_byte.elapsed().as_secs_f64();
    conn.close(deadline);
    let kept = match body {
        Ok(kept) => kept,
        Err(f) => {
            if f.1.is_some() {
                d.words = f.1;
            }
            return verdict.and(Err(f.0));
        }
    };
    if verdict.is_ok() && s.keeps_body() {
        let text = Regex::text(&kept);
        let matched = s.fail_if_body_matches_regexp.iter().any(|p| p.is_match(&text))
            || s.fail_if_body_not_matches_regexp.iter().any(|p| !p.is_match(&text));
        if matched {
            d.failed_due_to_regex = true;
            verdict = Err(Reason::UnexpectedReply);
        }
    }
    if !s.valid_http_versions.is_empty() && !s.valid_http_versions.iter().any(|v| v == head.version()) {
        d.words = Some(format!("{} is not among valid_http_versions", head.version()));
        verdict = verdict.and(Err(Reason::UnexpectedReply));
    }
    if (s.fail_if_ssl && d.ssl) || (s.fail_if_not_ssl && !d.ssl) {
        let why = if d.ssl {
            "the final hop was https (fail_if_ssl)"
        } else {
            "the final hop was not https (fail_if_not_ssl)"
        };
        d.words = Some(why.into());
        verdict = verdict.and(Err(Reason::UnexpectedReply));
    }
    verdict
}

/// blackbox's header patterns: `fail_if_header_matches` fails when any
/// value of the header matches, `fail_if_header_not_matches` when none
/// does; a missing header fails either unless `allow_missing`.
fn headers_pass(s: &Settings, head: &Head) -> bool {
    let pass = |m: &HeaderMatch, must_match: bool| {
        let mut values = head.values(&m.header).peekable();
        if values.peek().is_none() {
            return m.allow_missing;
        }
        let any = values.any(|v| m.regexp.is_match(v));
        any == must_match
    };
    s.fail_if_header_matches.iter().all(|m| pass(m, false))
        && s.fail_if_header_not_matches.iter().all(|m| pass(m, true))
}

/// Reads the body to its end as its framing says, counting it into
/// `d.body_length` and keeping it if a body pattern needs it.
fn read_body(
    s: &Settings,
    method: &str,
    head: &Head,
    conn: &mut Conn,
    early: Vec<u8>,
    deadline: Deadline,
    d: &mut Detail,
) -> Result<Vec<u8>, Failure> {
    let framing = head
        .framing(method == "HEAD")
        .map_err(|_| (Reason::Malformed, Some("a Content-Length that is not one number".into())))?;
    let mut body = Body { s, framing, chunked: Chunked::new(), kept: Vec::new() };
    if let Framing::None = framing {
        return Ok(body.kept);
    }
    if body.feed(&early, d)? {
        return Ok(body.kept);
    }
    drop(early);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = conn.read(&mut chunk, deadline)?;
        if n == 0 {
            if framing == Framing::Close {
                return Ok(body.kept);
            }
            return Err((Reason::Reset, Some("the body was cut short".into())));
        }
        if body.feed(&chunk[..n], d)? {
            return Ok(body.kept);
        }
    }
}

/// A body being read.
struct Body<'s> {
    s: &'s Settings,
    framing: Framing,
    chunked: Chunked,
    kept: Vec<u8>,
}

impl Body<'_> {
    /// Bytes as they came off the connection; true at the body's end.
    fn feed(&mut self, mut bytes: &[u8], d: &mut Detail) -> Result<bool, Failure> {
        match self.framing {
            Framing::Chunked => {
                while !bytes.is_empty() && !self.chunked.is_done() {
                    let (n, data) = self
                        .chunked
                        .decode(bytes)
                        .map_err(|_| (Reason::Malformed, Some("broken chunked framing".into())))?;
                    self.take(data, d)?;
                    bytes = &bytes[n..];
                }
                Ok(self.chunked.is_done())
            }
            Framing::Length(n) => {
                let left = n - d.body_length;
                let data = &bytes[..bytes.len().min(usize::try_from(left).unwrap_or(usize::MAX))];
                self.take(data, d)?;
                Ok(d.body_length == n)
            }
            Framing::Close | Framing::None => {
                self.take(bytes, d)?;
                Ok(false)
            }
        }
    }

    /// Body bytes: counted against `body_size_limit`, kept for patterns.
    fn take(&mut self, data: &[u8], d: &mut Detail) -> Result<(), Failure> {
        let total = d.body_length + data.len() as u64;
        if let Some(limit) = self.s.body_size_limit.filter(|&l| total > l) {
            d.body_length = limit;
            return Err((Reason::TooLarge, Some(format!("a body over body_size_limit ({limit} bytes)"))));
        }
        d.body_length = total;
        if self.s.keeps_body() {
            if self.kept.len() + data.len() > MAX_HTTP_BODY_KEPT {
                let why = format!("a body over {MAX_HTTP_BODY_KEPT} bytes to match patterns against");
                return Err((Reason::TooLarge, Some(why)));
            }
            self.kept.extend_from_slice(data);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A peer answering each connection with the next of `answers`, and
    /// telling the test each request head it got.
    fn peer(answers: Vec<Vec<u8>>) -> (SocketAddr, mpsc::Receiver<String>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for answer in answers {
                let Ok((mut s, _)) = l.accept() else { return };
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tx.send(String::from_utf8_lossy(&req).into_owned());
                let _ = s.write_all(&answer);
            }
        });
        (addr, rx)
    }

    fn probe(s: &Settings, target: &str, addr: SocketAddr) -> (Option<Reason>, Detail) {
        let (reason, detail) = run(s, target, addr, Deadline::after(Duration::from_secs(5)));
        let CheckDetail::Http(d) = detail else { panic!("{detail:?}") };
        (reason, *d)
    }

    /// Ten redirects are followed; the eleventh ends the check there,
    /// judged as a response (blackbox counts it: 11).
    #[test]
    fn an_eleventh_redirect_is_not_followed() {
        let loop_ = b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n".to_vec();
        let (addr, _) = peer(vec![loop_; 11]);
        let (reason, d) = probe(&Settings::default(), &format!("http://{addr}/"), addr);
        assert_eq!(reason, Some(Reason::BadStatus));
        assert_eq!((d.redirects, d.status), (11, 302));
        assert_eq!(d.words.as_deref(), Some("stopped after 10 redirects"));
    }

    /// Credentials go to the target's own host and port; a redirect to
    /// another port gets none, and a 303 turns a POST into a GET.
    #[test]
    fn credentials_stay_home_and_a_303_drops_the_body() {
        let (other, other_requests) = peer(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()]);
        let moved = format!("HTTP/1.1 303 See Other\r\nLocation: http://{other}/done\r\nContent-Length: 0\r\n\r\n");
        let (home, home_requests) = peer(vec![moved.into_bytes()]);
        let s = Settings {
            method: "POST".into(),
            body: "ping".into(),
            auth: Auth::Basic { user: "probe".into(), password: Secret::Inline("secret".into()) },
            ..Settings::default()
        };
        let (reason, d) = probe(&s, &format!("http://{home}/form"), home);
        assert_eq!((reason, d.redirects, d.body_length), (None, 1, 2));
        let first = home_requests.recv().unwrap();
        assert!(first.starts_with("POST /form HTTP/1.1\r\n"), "{first}");
        assert!(first.contains("Authorization: Basic cHJvYmU6c2VjcmV0\r\n"), "{first}");
        assert!(first.contains("Content-Length: 4\r\n") && first.contains("Connection: close\r\n"), "{first}");
        let second = other_requests.recv().unwrap();
        assert!(second.starts_with("GET /done HTTP/1.1\r\n"), "{second}");
        assert!(!second.contains("Authorization") && !second.contains("Content-Length"), "{second}");
    }

    /// A body shorter than its Content-Length, or chunked framing that
    /// ends with the connection, is cut short: `reset`. Broken framing is
    /// `malformed`; a head past the bound is `too_large`.
    #[test]
    fn cut_and_broken_responses_have_their_reasons() {
        for (answer, want) in [
            (&b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"[..], Reason::Reset),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", Reason::Reset),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Reason::Malformed),
            (b"", Reason::Reset),
            (b"SSH-2.0-OpenSSH_9.2\r\n", Reason::Malformed),
        ] {
            let (addr, _) = peer(vec![answer.to_vec()]);
            let (reason, _) = probe(&Settings::default(), &format!("{addr}"), addr);
            assert_eq!(reason, Some(want), "{}", String::from_utf8_lossy(answer));
        }
        let many = format!("HTTP/1.1 200 OK\r\n{}", "X-Filler: 0123456789abcdef\r\n".repeat(200));
        let big = format!("HTTP/1.1 200 OK\r\nX-Filler: {}\r\n", "0123456789abcdef".repeat(8000));
        for (answer, said) in [(many, "more than 128 header fields"), (big, "a response head over 65536 bytes")] {
            let (addr, _) = peer(vec![answer.into_bytes()]);
            let (reason, d) = probe(&Settings::default(), &format!("{addr}"), addr);
            assert_eq!((reason, d.words.as_deref()), (Some(Reason::TooLarge), Some(said)));
        }
    }

    /// A body with neither length nor chunking ends with the connection;
    /// a HEAD response has none whatever its Content-Length says.
    #[test]
    fn bodies_end_as_their_framing_says() {
        let (addr, _) = peer(vec![b"HTTP/1.0 200 OK\r\n\r\nuntil the end".to_vec()]);
        let (reason, d) = probe(&Settings::default(), &format!("{addr}"), addr);
        assert_eq!((reason, d.body_length, d.content_length, d.version), (None, 13, -1, 1.0));
        let (addr, _) = peer(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_vec()]);
        let head = Settings { method: "HEAD".into(), ..Settings::default() };
        let (reason, d) = probe(&head, &format!("{addr}"), addr);
        assert_eq!((reason, d.body_length, d.content_length), (None, 0, 1000));
    }
}
