//! `[[check]]`: one service check per table (see [`crate::check`]).
//!
//! Common keys: `name` (the `check` label; unique), `kind` (`tcp`, `dns`,
//! `ntp`, `http`, `icmp`), `target` (`host:port`; dns and ntp default to
//! 53 and 123; http's is a URL, icmp's a host),
//! `interval` (default 60s), `timeout` (default 5s), `family` (`any`,
//! `ipv4`, `ipv6`; default `any`: every address is checked), or instead
//! blackbox_exporter's `preferred_ip_protocol` (`ip4`, `ip6`) and
//! `ip_protocol_fallback` (default true): one address.
//!
//! tcp: `dialogue`, an array of `"expect REGEX"`, `"send TEXT"` and
//! `"starttls"` steps, run in order (RE2 syntax, [`crate::wire::regex`]); `tls` (true: TLS from the connect on, as
//! blackbox_exporter's `tls: true`); `ca_file`, `cert_file`, `key_file`,
//! `server_name` for either TLS ([`super::tls`]; they mean nothing
//! without it, and a build without the `tls` feature refuses all of them,
//! `starttls` too, saying so).
//! dns: `query_name` (required), `query_type` (default A), `query_class`
//! (IN), `transport` (`udp`, `tcp`, `udp+tcp`: default), `recursion_desired`
//! (true), `edns_udp_size` (1232; 0 sends no OPT record), `valid_rcodes`
//! (["NOERROR"]), and patterns on each section's records
//! ([`crate::check::dns::Expect`]): `expect_answers` (each pattern in some
//! answer), `expect_all_answers` (every answer matches each), and
//! `forbid_answers` (no answer matches any), and the same for `authority`
//! and `additional`.
//! ntp: `max_root_distance` (seconds, default 1.5).
//! http: blackbox_exporter's option names ([`crate::check::http`]), with
//! header fields and patterns on them as `"Name: value"` strings, and
//! credentials from files; the TLS keys above for https, with
//! `min_version` and `insecure_skip_verify`.
//! icmp: `payload_size`, `ttl` (default 64, as blackbox), `dont_fragment`,
//! `count` (echoes per run, default 1, at most 100); the target is a host
//! without a port.

use std::time::Duration;

use super::{duration, strings, Error, Problem};
use crate::check::{dns, http, icmp, ntp, tcp, Check, Family, Kind, Select};
use crate::limits::MAX_ICMP_COUNT;
use crate::tls::{TLS_BUILT, WITHOUT_TLS};
use crate::wire::dns as wire;
use crate::wire::regex::Regex;
use crate::wire::toml::{Entry, Value};

pub const KEYS: &[&str] = &[
    "name",
    "kind",
    "target",
    "interval",
    "timeout",
    "family",
    "preferred_ip_protocol",
    "ip_protocol_fallback",
    "dialogue",
    "tls",
    // super::tls::KEYS and CHECK_KEYS, for a tcp check with TLS or https:
    "ca_file",
    "cert_file",
    "key_file",
    "server_name",
    "min_version",
    "insecure_skip_verify",
    "query_name",
    "query_type",
    "query_class",
    "transport",
    "recursion_desired",
    "edns_udp_size",
    "valid_rcodes",
    "expect_answers",
    "expect_all_answers",
    "forbid_answers",
    "expect_authority",
    "expect_all_authority",
    "forbid_authority",
    "expect_additional",
    "expect_all_additional",
    "forbid_additional",
    "max_root_distance",
    "method",
    "headers",
    "body",
    "valid_status_codes",
    "valid_http_versions",
    "follow_redirects",
    "fail_if_ssl",
    "fail_if_not_ssl",
    "fail_if_body_matches_regexp",
    "fail_if_body_not_matches_regexp",
    "fail_if_header_matches",
    "fail_if_header_not_matches",
    "basic_auth_user",
    "basic_auth_password_file",
    "bearer_token_file",
    "body_size_limit",
    "payload_size",
    "ttl",
    "dont_fragment",
    "count",
    // super::notify::CHECK_KEYS: how its failures become notifications.
    "tolerance",
    "severity",
];

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

fn text(e: &Entry) -> Result<&str, String> {
    match &e.value {
        Value::Str(s) => Ok(s),
        other => Err(format!("expected a string, found {}", other.type_name())),
    }
}

fn list(e: &Entry) -> Result<Vec<&str>, String> {
    strings(&e.value).map_err(|p| match p {
        super::Problem::Invalid(m) => m,
        super::Problem::UnknownKey => String::new(),
    })
}

/// One `[[check]]` table, starting at `line`.
pub fn table(line: usize, entries: &[Entry], errors: &mut Vec<Error>) -> Option<Check> {
    let find = |k: &str| entries.iter().find(|e| e.key == k);
    let before = errors.len();
    let mut err = |line: usize, m: String| errors.push(Error { line, message: m });
    for e in entries {
        if !KEYS.contains(&e.key.as_str()) {
            err(e.line, format!("unknown key '{}' in [[check]]", e.key));
        }
    }
    let get = |k: &str, err: &mut dyn FnMut(usize, String)| -> Option<String> {
        let e = find(k)?;
        text(e).map_err(|m| err(e.line, format!("{k}: {m}"))).ok().map(str::to_owned)
    };
    let name = get("name", &mut err);
    let kind = get("kind", &mut err);
    let target = get("target", &mut err);
    let (Some(name), Some(kind), Some(target)) = (name, kind, target) else {
        err(line, "[[check]] needs name, kind and target".into());
        return None;
    };
    if name.is_empty() || name.len() > 64 {
        err(line, "name: 1 to 64 characters".into());
    }
    let time = |k: &str, default: Duration, err: &mut dyn FnMut(usize, String)| match find(k) {
        None => default,
        Some(e) => match text(e).and_then(duration) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                err(e.line, format!("{k}: must be above zero"));
                default
            }
            Err(m) => {
                err(e.line, format!("{k}: {m}"));
                default
            }
        },
    };
    let interval = time("interval", DEFAULT_INTERVAL, &mut err);
    let timeout = time("timeout", DEFAULT_TIMEOUT, &mut err);
    let family = match get("family", &mut err) {
        None => Family::Any,
        Some(f) => Family::parse(&f).unwrap_or_else(|| {
            err(line, format!("family: '{f}' is not any, ipv4 or ipv6"));
            Family::Any
        }),
    };
    let select = select(family, entries, &mut err);
    for e in entries.iter().filter(|e| e.key == "tls" || is_tls_key(&e.key)) {
        match kind.as_str() {
            "tcp" => {}
            "http" if e.key != "tls" => {}
            "http" => err(e.line, "tls: an http check speaks TLS to an https:// target".into()),
            _ => err(e.line, format!("{}: only tcp and http checks speak TLS", e.key)),
        }
    }
    let kind = match kind.as_str() {
        "tcp" => {
            let mut s = tcp::Settings::default();
            if let Some(e) = find("dialogue") {
                match list(e) {
                    Ok(steps) => {
                        for step in steps {
                            match step.split_once(' ').map(|(a, b)| (a, b.trim_start())).unwrap_or((step, "")) {
                                ("expect", p) => match Regex::new(p) {
                                    Ok(re) => s.steps.push(tcp::Step::Expect(re)),
                                    Err(why) => err(e.line, format!("dialogue: expect {p}: {why}")),
                                },
                                ("send", t) => s.steps.push(tcp::Step::Send(t.into())),
                                ("starttls", "") if !TLS_BUILT => {
                                    err(e.line, format!("dialogue: starttls: {WITHOUT_TLS}"))
                                }
                                ("starttls", "") => s.steps.push(tcp::Step::StartTls),
                                _ => err(
                                    e.line,
                                    format!("dialogue: '{step}' is not 'expect PATTERN', 'send TEXT' or 'starttls'"),
                                ),
                            }
                        }
                    }
                    Err(m) => err(e.line, format!("dialogue: {m}")),
                }
            }
            tcp_tls(&mut s, line, entries, &mut err);
            Kind::Tcp(s)
        }
        "dns" => {
            let mut s = dns::Settings::default();
            match get("query_name", &mut err) {
                Some(q) => {
                    if wire::emit_query(
                        &wire::Query { id: 0, qname: &q, qtype: 1, qclass: 1, rd: true, edns_udp_size: None },
                        &mut Vec::new(),
                    )
                    .is_err()
                    {
                        err(line, format!("query_name: '{q}' is not a domain name"));
                    }
                    s.query_name = q;
                }
                None => err(line, "a dns check needs query_name".into()),
            }
            if let Some(t) = get("query_type", &mut err) {
                match wire::type_from_name(&t) {
                    Some(v) => s.query_type = v,
                    None => err(line, format!("query_type: unknown type '{t}'")),
                }
            }
            if let Some(c) = get("query_class", &mut err) {
                match wire::class_from_name(&c) {
                    Some(v) => s.query_class = v,
                    None => err(line, format!("query_class: unknown class '{c}'")),
                }
            }
            if let Some(t) = get("transport", &mut err) {
                match dns::Transport::parse(&t) {
                    Some(v) => s.transport = v,
                    None => err(line, format!("transport: '{t}' is not udp, tcp or udp+tcp")),
                }
            }
            if let Some(e) = find("recursion_desired") {
                match e.value {
                    Value::Bool(b) => s.recursion_desired = b,
                    _ => err(e.line, "recursion_desired: expected true or false".into()),
                }
            }
            if let Some(e) = find("edns_udp_size") {
                match e.value {
                    Value::Int(0) => s.edns_udp_size = None,
                    Value::Int(n @ 512..=65535) => s.edns_udp_size = Some(n as u16),
                    _ => err(e.line, "edns_udp_size: 0 (no EDNS) or 512 to 65535".into()),
                }
            }
            if let Some(e) = find("valid_rcodes") {
                match list(e) {
                    Ok(names) => {
                        s.valid_rcodes.clear();
                        for n in names {
                            match wire::rcode_from_name(n) {
                                Some(c) => s.valid_rcodes.push(c),
                                None => err(e.line, format!("valid_rcodes: unknown rcode '{n}'")),
                            }
                        }
                    }
                    Err(m) => err(e.line, format!("valid_rcodes: {m}")),
                }
            }
            let e = &mut *s.expect;
            for (section, expect) in
                [("answers", &mut e.answers), ("authority", &mut e.authority), ("additional", &mut e.additional)]
            {
                for (how, patterns) in
                    [("expect_", &mut expect.some), ("expect_all_", &mut expect.all), ("forbid_", &mut expect.none)]
                {
                    let key = format!("{how}{section}");
                    if let Some(e) = find(&key) {
                        match list(e) {
                            Ok(p) => {
                                for p in p {
                                    match Regex::new(p) {
                                        Ok(re) => patterns.push(re),
                                        Err(why) => err(e.line, format!("{key}: {p}: {why}")),
                                    }
                                }
                            }
                            Err(m) => err(e.line, format!("{key}: {m}")),
                        }
                    }
                }
            }
            Kind::Dns(s)
        }
        "ntp" => {
            let mut s = ntp::Settings::default();
            if let Some(e) = find("max_root_distance") {
                match e.value {
                    Value::Float(f) if f > 0.0 && f.is_finite() => s.max_root_distance = f,
                    Value::Int(i) if i > 0 => s.max_root_distance = i as f64,
                    _ => err(e.line, "max_root_distance: a number of seconds above zero".into()),
                }
            }
            Kind::Ntp(s)
        }
        "http" => Kind::Http(Box::new(http_check(line, &target, entries, &mut err))),
        "icmp" => Kind::Icmp(icmp_check(entries, &mut err)),
        other => {
            err(line, format!("kind: '{other}' is not tcp, dns, ntp, http or icmp"));
            return None;
        }
    };
    let c = Check { name, target, interval, timeout, select, kind };
    if let Err(why) = c.kind.authority(&c.target) {
        err(line, format!("target: {why}"));
    }
    (errors.len() == before).then_some(c)
}

/// Whether `key` is one of a check's TLS settings.
fn is_tls_key(key: &str) -> bool {
    super::tls::KEYS.contains(&key) || super::tls::CHECK_KEYS.contains(&key)
}

/// The strings of `e`, or none with the error said.
fn list_of<'e>(e: &'e Entry, err: &mut dyn FnMut(usize, String)) -> Vec<&'e str> {
    list(e).unwrap_or_else(|m| {
        err(e.line, format!("{}: {m}", e.key));
        Vec::new()
    })
}

/// An http check's keys: blackbox_exporter's option names, with
/// `"Name: value"` strings for header fields and patterns on them, and
/// credentials from files (`basic_auth_user` with
/// `basic_auth_password_file`, or `bearer_token_file`), as `[push]`
/// takes them.
fn http_check(line: usize, target: &str, entries: &[Entry], err: &mut dyn FnMut(usize, String)) -> http::Settings {
    let mut s = http::Settings::default();
    if let Err(m) = super::http::target(target) {
        err(entries.iter().find(|e| e.key == "target").map_or(line, |e| e.line), m);
    }
    let mut basic = (None, None);
    for e in entries {
        let bool_of = |e: &Entry, err: &mut dyn FnMut(usize, String)| match e.value {
            Value::Bool(b) => b,
            _ => {
                err(e.line, format!("{}: expected true or false", e.key));
                false
            }
        };
        let text_of = |e: &Entry, err: &mut dyn FnMut(usize, String)| match text(e) {
            Ok(t) => Some(t.to_owned()),
            Err(m) => {
                err(e.line, format!("{}: {m}", e.key));
                None
            }
        };
        // "Name: rest", for headers and the patterns on them.
        let field = |item: &str| item.split_once(':').map(|(n, v)| (n.trim().to_owned(), v.trim_start().to_owned()));
        let patterns = |e: &Entry, err: &mut dyn FnMut(usize, String)| {
            let mut out = Vec::new();
            for p in list_of(e, err) {
                match Regex::new(p) {
                    Ok(re) => out.push(re),
                    Err(why) => err(e.line, format!("{}: {p}: {why}", e.key)),
                }
            }
            out
        };
        let header_matches = |e: &Entry, err: &mut dyn FnMut(usize, String)| {
            let mut out = Vec::new();
            for item in list_of(e, err) {
                match field(item).map(|(h, p)| (h, Regex::new(&p))) {
                    Some((header, Ok(regexp))) if !header.is_empty() => {
                        out.push(http::HeaderMatch { header, regexp, allow_missing: false })
                    }
                    Some((_, Err(why))) => err(e.line, format!("{}: {item}: {why}", e.key)),
                    _ => err(e.line, format!("{}: '{item}' is not \"Header-Name: pattern\"", e.key)),
                }
            }
            out
        };
        match e.key.as_str() {
            "method" => {
                if let Some(m) = text_of(e, err) {
                    if let Err(why) = super::http::method(&m) {
                        err(e.line, why);
                    }
                    s.method = m;
                }
            }
            "headers" => {
                for item in list_of(e, err) {
                    match field(item) {
                        Some((n, v)) => match super::http::header(&n, &v) {
                            Ok(()) => s.headers.push((n, v)),
                            Err(why) => err(e.line, why),
                        },
                        None => err(e.line, format!("headers: '{item}' is not \"Name: value\"")),
                    }
                }
            }
            "body" => s.body = text_of(e, err).unwrap_or_default(),
            "valid_status_codes" => match &e.value {
                Value::Array(codes) => {
                    for c in codes {
                        match c {
                            Value::Int(n @ 100..=599) => s.valid_status_codes.push(*n as u16),
                            _ => err(e.line, "valid_status_codes: status codes from 100 to 599".into()),
                        }
                    }
                }
                _ => err(e.line, "valid_status_codes: an array of status codes, e.g. [200, 301]".into()),
            },
            "valid_http_versions" => {
                for v in list_of(e, err) {
                    match v {
                        "HTTP/1.1" | "HTTP/1.0" => s.valid_http_versions.push(v.to_owned()),
                        _ => err(e.line, format!("valid_http_versions: '{v}' is not HTTP/1.1 or HTTP/1.0")),
                    }
                }
            }
            "follow_redirects" => s.follow_redirects = bool_of(e, err),
            "fail_if_ssl" => s.fail_if_ssl = bool_of(e, err),
            "fail_if_not_ssl" => s.fail_if_not_ssl = bool_of(e, err),
            "fail_if_body_matches_regexp" => s.fail_if_body_matches_regexp = patterns(e, err),
            "fail_if_body_not_matches_regexp" => s.fail_if_body_not_matches_regexp = patterns(e, err),
            "fail_if_header_matches" => s.fail_if_header_matches = header_matches(e, err),
            "fail_if_header_not_matches" => s.fail_if_header_not_matches = header_matches(e, err),
            "basic_auth_user" => basic.0 = text_of(e, err),
            "basic_auth_password_file" => basic.1 = text_of(e, err).map(|p| (e.line, p)),
            "bearer_token_file" => {
                if let Some(p) = text_of(e, err) {
                    if !p.starts_with('/') {
                        err(e.line, format!("bearer_token_file: '{p}': write an absolute path"));
                    }
                    let credentials = http::Secret::File(p.into());
                    s.auth = http::Auth::Token { scheme: "Bearer".into(), credentials };
                }
            }
            "body_size_limit" => match &e.value {
                Value::Int(n) if *n >= 0 => s.body_size_limit = Some(*n as u64).filter(|&n| n > 0),
                Value::Str(t) => match super::http::size(t) {
                    Ok(n) => s.body_size_limit = n,
                    Err(m) => err(e.line, format!("body_size_limit: {m}")),
                },
                _ => err(e.line, "body_size_limit: bytes, or a size such as \"10MB\"".into()),
            },
            k if is_tls_key(k) => match super::tls::set(&mut s.tls_config, k, &e.value) {
                Err(Problem::Invalid(m)) => err(e.line, format!("{k}: {m}")),
                Err(Problem::UnknownKey) | Ok(()) => {}
            },
            _ => {}
        }
    }
    match basic {
        (None, None) => {}
        (Some(user), Some((line, file))) => {
            if !file.starts_with('/') {
                err(line, format!("basic_auth_password_file: '{file}': write an absolute path"));
            }
            if s.auth != http::Auth::None {
                err(line, "basic auth and a bearer token exclude each other".into());
            }
            s.auth = http::Auth::Basic { user, password: http::Secret::File(file.into()) };
        }
        _ => err(line, "basic_auth_user and basic_auth_password_file go together".into()),
    }
    if let Err(m) = s.tls_config.check() {
        err(line, m);
    }
    s
}

/// An icmp check's keys: blackbox's (`payload_size`, `ttl`,
/// `dont_fragment`) and sonde's `count`; a `[[check]]` reports sonde's own
/// families too ([`icmp::Settings::stats`]).
fn icmp_check(entries: &[Entry], err: &mut dyn FnMut(usize, String)) -> icmp::Settings {
    let mut s = icmp::Settings { stats: true, ..icmp::Settings::default() };
    for e in entries {
        let int = |lo: i64, hi: i64, err: &mut dyn FnMut(usize, String)| match e.value {
            Value::Int(n) if (lo..=hi).contains(&n) => Some(n),
            _ => {
                err(e.line, format!("{}: a whole number from {lo} to {hi}", e.key));
                None
            }
        };
        match e.key.as_str() {
            "payload_size" => s.payload_size = int(0, 65000, err).map_or(0, |n| n as usize),
            "ttl" => s.ttl = int(1, 255, err).map(|n| n as u8),
            "count" => s.count = int(1, i64::from(MAX_ICMP_COUNT), err).map_or(1, |n| n as u32),
            "dont_fragment" => match e.value {
                Value::Bool(b) => s.dont_fragment = b,
                _ => err(e.line, "dont_fragment: expected true or false".into()),
            },
            _ => {}
        }
    }
    s
}

/// Which addresses: every one of `family` (sonde's way), or, with
/// `preferred_ip_protocol`, blackbox_exporter's one address of the
/// preferred family with `ip_protocol_fallback` (default true).
fn select(family: Family, entries: &[Entry], err: &mut dyn FnMut(usize, String)) -> Select {
    let fallback = match entries.iter().find(|e| e.key == "ip_protocol_fallback") {
        Some(e) => match e.value {
            Value::Bool(b) => Some((e.line, b)),
            _ => {
                err(e.line, "ip_protocol_fallback: expected true or false".into());
                None
            }
        },
        None => None,
    };
    let Some(e) = entries.iter().find(|e| e.key == "preferred_ip_protocol") else {
        if let Some((line, _)) = fallback {
            err(line, "ip_protocol_fallback means nothing without preferred_ip_protocol".into());
        }
        return Select::Every(family);
    };
    let ip6 = match &e.value {
        Value::Str(s) if s == "ip6" => true,
        Value::Str(s) if s == "ip4" => false,
        _ => {
            err(e.line, "preferred_ip_protocol: \"ip4\" or \"ip6\", as blackbox_exporter writes it".into());
            true
        }
    };
    if family != Family::Any {
        err(e.line, "preferred_ip_protocol picks one address: leave family out".into());
    }
    Select::Preferred { ip6, fallback: fallback.is_none_or(|(_, b)| b) }
}

/// A tcp check's `tls` and TLS files, and whether they fit together:
/// TLS starts once (`tls = true` or one `starttls` step), and the files
/// mean something only with it.
fn tcp_tls(s: &mut tcp::Settings, line: usize, entries: &[Entry], err: &mut dyn FnMut(usize, String)) {
    if !TLS_BUILT {
        // As ClientTls::set says it, for tls too; the rest is not built.
        for e in entries.iter().filter(|e| e.key == "tls" || is_tls_key(&e.key)) {
            err(e.line, format!("{}: {WITHOUT_TLS}", e.key));
        }
        return;
    }
    for e in entries {
        match e.key.as_str() {
            "tls" => match e.value {
                Value::Bool(b) => s.tls = b,
                _ => err(e.line, "tls: expected true or false".into()),
            },
            k if is_tls_key(k) => match super::tls::set(&mut s.tls_config, k, &e.value) {
                Err(Problem::Invalid(m)) => err(e.line, format!("{k}: {m}")),
                Err(Problem::UnknownKey) | Ok(()) => {}
            },
            _ => {}
        }
    }
    let starts = s.steps.iter().filter(|step| **step == tcp::Step::StartTls).count() + usize::from(s.tls);
    if starts > 1 {
        err(line, "TLS starts once: tls = true or one starttls step, not both or two".into());
    }
    if s.tls_config.is_set() && starts == 0 {
        err(
            line,
            "ca_file, cert_file, key_file and server_name mean nothing without tls = true or a starttls step".into(),
        );
    }
    if let Err(m) = s.tls_config.check() {
        err(line, m);
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use crate::check::{dns::Transport, tcp::Step, Family, Kind, Select};
    use crate::wire::regex::Regex;

    #[test]
    fn checks_parse_with_defaults() {
        let c = parse(
            "[[check]]\nname = \"smtp\"\nkind = \"tcp\"\ntarget = \"mail:25\"\n\
             dialogue = [\"expect ^220\", \"send QUIT\"]\nfamily = \"ipv6\"\n\
             [[check]]\nname = \"dns\"\nkind = \"dns\"\ntarget = \"ns1\"\nquery_name = \"example.org\"\n\
             query_type = \"MX\"\ntransport = \"tcp\"\nedns_udp_size = 0\nvalid_rcodes = [\"NOERROR\", \"NXDOMAIN\"]\n\
             [[check]]\nname = \"ntp\"\nkind = \"ntp\"\ntarget = \"ntp1\"\ninterval = \"5m\"\n",
        )
        .unwrap();
        assert_eq!(c.checks.len(), 3);
        assert_eq!(c.checks[0].select, Select::Every(Family::Ipv6));
        assert_eq!(
            c.checks[0].kind,
            Kind::Tcp(crate::check::tcp::Settings {
                steps: vec![Step::Expect(Regex::new("^220").unwrap()), Step::Send("QUIT".into())],
                ..Default::default()
            })
        );
        let Kind::Dns(d) = &c.checks[1].kind else { panic!() };
        assert_eq!((d.query_type, d.transport, d.edns_udp_size), (15, Transport::Tcp, None));
        assert_eq!(d.valid_rcodes, vec![0, 3]);
        assert_eq!(c.checks[2].interval.as_secs(), 300);
        assert_eq!(c.checks[2].timeout.as_secs(), 5);
    }

    #[test]
    fn bad_checks_are_reported_with_their_lines() {
        let errors = parse(
            "[[check]]\nname = \"a\"\nkind = \"dns\"\ntarget = \"x\"\nquery_name = \"a..b\"\n\
             [[check]]\nname = \"a\"\nkind = \"tcp\"\ntarget = \"x\"\n\
             [[check]]\nname = \"b\"\nkind = \"icmp\"\ntarget = \"x:1\"\n\
             [[check]]\nname = \"c\"\nkind = \"tcp\"\ntarget = \"x:1\"\ndialogue = [\"wait 3\"]\nbogus = 1\n",
        )
        .unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 6, 10, 18, 19], "{errors:?}");
    }

    #[test]
    fn tls_keys_need_the_feature_a_tcp_check_and_one_start() {
        let text = "[[check]]\nname = \"smtps\"\nkind = \"tcp\"\ntarget = \"mail:465\"\ntls = true\n\
                    ca_file = \"/etc/sonde/ca.pem\"\nserver_name = \"mail.internal\"\n\
                    [[check]]\nname = \"smtp\"\nkind = \"tcp\"\ntarget = \"mail:25\"\n\
                    dialogue = [\"expect ^220\", \"send STARTTLS\", \"expect ^220\", \"starttls\", \"send QUIT\"]\n";
        if !crate::tls::TLS_BUILT {
            let errors = parse(text).unwrap_err();
            assert!(errors.iter().all(|e| e.message.contains("without TLS")), "{errors:?}");
            let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, vec![5, 6, 7, 12], "tls, both files and the starttls step: {errors:?}");
            return;
        }
        let c = parse(text).unwrap();
        let Kind::Tcp(s) = &c.checks[0].kind else { panic!() };
        assert!(s.tls && s.steps.is_empty());
        assert_eq!(s.tls_config.ca_file.as_deref(), Some(std::path::Path::new("/etc/sonde/ca.pem")));
        assert_eq!(s.tls_config.server_name.as_deref(), Some("mail.internal"));
        let Kind::Tcp(s) = &c.checks[1].kind else { panic!() };
        assert!(!s.tls && s.steps[3] == Step::StartTls && s.uses_tls());

        let check = |extra: &str| format!("[[check]]\nname = \"x\"\nkind = \"tcp\"\ntarget = \"x:1\"\n{extra}");
        for (extra, said) in [
            ("tls = true\ndialogue = [\"starttls\"]\n", "TLS starts once"),
            ("dialogue = [\"starttls\", \"starttls\"]\n", "TLS starts once"),
            ("ca_file = \"/ca.pem\"\n", "mean nothing without"),
            ("tls = true\ncert_file = \"/c.pem\"\n", "go together"),
            ("tls = \"yes\"\n", "expected true or false"),
            ("dialogue = [\"starttls now\"]\n", "is not 'expect PATTERN'"),
        ] {
            let errors = parse(&check(extra)).unwrap_err();
            assert!(errors.len() == 1 && errors[0].message.contains(said), "{extra}: {errors:?}");
        }
        let errors =
            parse("[[check]]\nname = \"d\"\nkind = \"dns\"\ntarget = \"x\"\nquery_name = \"a.b\"\ntls = true\n")
                .unwrap_err();
        assert_eq!((errors[0].line, errors[0].message.as_str()), (6, "tls: only tcp and http checks speak TLS"));
    }

    #[test]
    fn http_checks_take_blackbox_names_and_secrets_from_files() {
        let c = parse(
            "[[check]]\nname = \"web\"\nkind = \"http\"\ntarget = \"http://www.example.org:8080/health\"\n\
             method = \"HEAD\"\nheaders = [\"Host: vhost.example\", \"X-Probe: sonde\"]\n\
             valid_status_codes = [200, 204]\nfollow_redirects = false\nbody_size_limit = \"64KB\"\n\
             fail_if_body_not_matches_regexp = [\"ok\"]\nfail_if_header_matches = [\"Server: ^Apache\"]\n\
             basic_auth_user = \"probe\"\nbasic_auth_password_file = \"/etc/sonde/pw\"\n",
        )
        .unwrap();
        let Kind::Http(h) = &c.checks[0].kind else { panic!() };
        assert_eq!(c.checks[0].kind.authority(&c.checks[0].target), Ok(("www.example.org", 8080)));
        assert_eq!(h.method, "HEAD");
        assert_eq!(h.headers, vec![("Host".into(), "vhost.example".into()), ("X-Probe".into(), "sonde".into())]);
        assert_eq!((h.valid_status_codes.as_slice(), h.follow_redirects), (&[200, 204][..], false));
        assert_eq!(h.body_size_limit, Some(64 * 1024));
        assert_eq!(h.fail_if_header_matches[0].header, "Server");
        assert_eq!(h.fail_if_header_matches[0].regexp.as_str(), "^Apache");
        assert!(matches!(&h.auth, crate::check::http::Auth::Basic { user, .. } if user == "probe"));
        let check = |extra: &str| format!("[[check]]\nname = \"x\"\nkind = \"http\"\ntarget = \"x.example\"\n{extra}");
        for (extra, said) in [
            ("headers = [\"X-A\"]\n", "is not \"Name: value\""),
            ("valid_status_codes = [2000]\n", "from 100 to 599"),
            ("basic_auth_user = \"u\"\n", "go together"),
            ("bearer_token_file = \"token\"\n", "absolute path"),
            ("body_size_limit = \"lots\"\n", "is not a size"),
            ("fail_if_header_matches = [\"Server\"]\n", "Header-Name: pattern"),
            ("tls = true\n", "an http check speaks TLS to an https:// target"),
        ] {
            let errors = parse(&check(extra)).unwrap_err();
            assert!(errors.len() == 1 && errors[0].message.contains(said), "{extra}: {errors:?}");
        }
        let errors = parse(&check("").replace("x.example", "ftp://x.example/")).unwrap_err();
        assert!(errors[0].message.contains("is not a URL"), "{errors:?}");
        let https = parse(&check("").replace("x.example", "https://x.example/"));
        assert_eq!(https.is_ok(), crate::tls::TLS_BUILT, "{https:?}");
        let tls = parse(
            &check("ca_file = \"/etc/sonde/ca.pem\"\nmin_version = \"TLS13\"\ninsecure_skip_verify = true\n")
                .replace("x.example", "https://x.example/"),
        );
        assert_eq!(tls.is_ok(), crate::tls::TLS_BUILT, "{tls:?}");
        match tls {
            Ok(c) => {
                let Kind::Http(h) = &c.checks[0].kind else { panic!() };
                assert!(h.tls_config.insecure_skip_verify);
                assert_eq!(h.tls_config.min_version, Some(crate::tls::Version::Tls13));
            }
            Err(errors) => {
                assert_eq!(errors.len(), 4, "the target and three keys: {errors:?}");
                assert!(errors.iter().all(|e| e.message.contains("without TLS")), "{errors:?}");
            }
        }
    }

    #[test]
    fn icmp_checks_take_a_host_and_a_count() {
        let c = parse(
            "[[check]]\nname = \"gw\"\nkind = \"icmp\"\ntarget = \"gw.example\"\ncount = 20\nttl = 5\n\
             payload_size = 1400\ndont_fragment = true\n",
        )
        .unwrap();
        let Kind::Icmp(s) = &c.checks[0].kind else { panic!() };
        assert_eq!((s.count, s.ttl, s.payload_size, s.dont_fragment, s.stats), (20, Some(5), 1400, true, true));
        assert_eq!(c.checks[0].kind.authority("gw.example"), Ok(("gw.example", 0)));
        let check = |extra: &str| format!("[[check]]\nname = \"x\"\nkind = \"icmp\"\ntarget = \"x.example\"\n{extra}");
        for (extra, said) in [
            ("count = 0\n", "from 1 to 100"),
            ("count = 101\n", "from 1 to 100"),
            ("ttl = 256\n", "from 1 to 255"),
            ("dont_fragment = 1\n", "expected true or false"),
        ] {
            let errors = parse(&check(extra)).unwrap_err();
            assert!(errors.len() == 1 && errors[0].message.contains(said), "{extra}: {errors:?}");
        }
        let errors = parse(&check("").replace("x.example", "x.example:7")).unwrap_err();
        assert!(errors[0].message.contains("an icmp target has no port"), "{errors:?}");
    }
}
