//! blackbox_exporter's config file (blackbox.yml), read as operators have
//! it, so the field's Prometheus jobs (`/probe?module=NAME&target=...`)
//! work with no change on the Prometheus side.
//!
//! The file is read by the strict YAML reader ([`crate::wire::yaml`]);
//! every key is one blackbox_exporter 0.23 knows, or an error with its
//! line, as blackbox's own `KnownFields` decoder would refuse it. Each
//! module keeps blackbox's behaviour: one address of the preferred family
//! (default IPv6, with the fallback), a bare label set, its defaults (a DNS
//! query for ANY over UDP, no EDNS, a truncated reply taken as it is; a
//! `send` ended by a bare LF).
//!
//! A module whose prober sonde does not have (grpc), or that asks for something sonde does not do
//! (`source_ip_address`, `dns_over_tls`, `expect_bytes`, `labels`, a
//! `send` with `${1}` from an expect, an http `compression`, `oauth2` or
//! `proxy_url`, a TLS `max_version` below TLS12), is kept as unsupported:
//! `/probe` answers it with a 400 that says why, and check-config and the
//! log say it once. `insecure_skip_verify: true` is done as asked, and the
//! probe then says so (`probe_tls_insecure_skip_verify 1`).

use std::path::Path;
use std::time::Duration;

use crate::check::{dns, http, icmp, tcp, Kind, Module, Select};
use crate::limits::MAX_CONFIG_FILE;
use crate::tls::{ClientTls, Version, TLS_BUILT, WITHOUT_TLS};
use crate::wire::dns as wire_dns;
use crate::wire::regex::Regex;
use crate::wire::yaml::{self, Key, Node};

/// What reading the file found wrong: `(line, message)`, in file order.
pub type Errors = Vec<(usize, String)>;

/// Reads `path`: its modules, or every error with its line.
pub fn load(path: &Path) -> Result<Vec<Module>, Errors> {
    let mut buf = Vec::new();
    crate::sys::file::read_bounded(path, &mut buf, MAX_CONFIG_FILE)
        .map_err(|e| vec![(0, format!("cannot read: {e}"))])?;
    let text = std::str::from_utf8(&buf).map_err(|e| {
        let line = buf[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        vec![(line, "not valid UTF-8".to_owned())]
    })?;
    parse(text)
}

/// The modules of a blackbox.yml text.
pub fn parse(text: &str) -> Result<Vec<Module>, Errors> {
    let root = yaml::parse(text).map_err(|e| vec![(e.line, e.what.into_owned())])?;
    let mut errors = Errors::new();
    let mut modules = Vec::new();
    if root.is_null() {
        return Ok(modules);
    }
    for (k, v) in entries(&root, &mut errors) {
        match k.text.as_str() {
            "modules" => {
                for (name, m) in entries(v, &mut errors) {
                    if let Some(m) = module(name, m, &mut errors) {
                        modules.push(m);
                    }
                }
            }
            _ => unknown(k, "the file", &mut errors),
        }
    }
    if errors.is_empty() {
        Ok(modules)
    } else {
        errors.sort_by_key(|(line, _)| *line);
        Err(errors)
    }
}

/// A mapping's entries; anything else (but null) is an error.
fn entries<'a>(n: &'a Node, errors: &mut Errors) -> &'a [(Key, Node)] {
    if n.is_null() {
        return &[];
    }
    n.as_map().unwrap_or_else(|| {
        errors.push((n.line, format!("expected a mapping, found {}", n.type_name())));
        &[]
    })
}

fn unknown(k: &Key, whose: &str, errors: &mut Errors) {
    errors.push((k.line, format!("unknown key '{}' in {whose} (blackbox_exporter 0.23 has no such key)", k.text)));
}

/// Keys of the probers sonde does not run, so that their modules are
/// still checked key by key.
const GRPC_KEYS: &[&str] = &["service", "tls", "tls_config", "ip_protocol_fallback", "preferred_ip_protocol"];

/// One module; None when it has errors (they are in `errors`).
fn module(name: &Key, m: &Node, errors: &mut Errors) -> Option<Module> {
    let before = errors.len();
    let (mut prober, mut timeout) = (None, None);
    let mut sections: Vec<(&Key, &Node)> = Vec::new();
    for (k, v) in entries(m, errors) {
        match k.text.as_str() {
            "prober" => prober = Some((k, v)),
            "timeout" => match v.as_str().map(go_duration) {
                Some(Some(d)) => timeout = Some(d).filter(|d| !d.is_zero()),
                _ => errors.push((v.line, "timeout: a duration as blackbox writes it (\"5s\", \"1m30s\")".into())),
            },
            "tcp" | "dns" | "http" | "icmp" | "grpc" => sections.push((k, v)),
            _ => unknown(k, &format!("module '{}'", name.text), errors),
        }
    }
    let Some((pk, pv)) = prober else {
        errors.push((name.line, format!("module '{}' has no prober", name.text)));
        return None;
    };
    let prober = pv.as_str().unwrap_or_default();
    let section = sections.iter().find(|(k, _)| k.text == prober).map(|(_, v)| *v);
    let mut unsupported = None;
    let (kind, select) = match prober {
        "tcp" => tcp_module(section, errors, &mut unsupported),
        "dns" => match section {
            Some(s) => dns_module(s, errors, &mut unsupported),
            None => {
                errors.push((pk.line, "a dns module needs a dns: section with query_name".into()));
                return None;
            }
        },
        "http" => http_module(section, errors, &mut unsupported),
        "icmp" => icmp_module(section, errors, &mut unsupported),
        "grpc" => {
            for (k, _) in section.map(|s| entries(s, errors)).unwrap_or_default() {
                if !GRPC_KEYS.contains(&k.text.as_str()) {
                    unknown(k, &format!("{prober} of module '{}'", name.text), errors);
                }
            }
            unsupported = Some(format!("prober {prober} is not in this sonde"));
            (Kind::Tcp(tcp::Settings::default()), Select::BLACKBOX)
        }
        other => {
            errors.push((pv.line, format!("prober: '{other}' is not tcp, dns, http, icmp or grpc")));
            return None;
        }
    };
    // Sections of other probers are read by blackbox too, and ignored.
    for (k, v) in &sections {
        if k.text != prober {
            let _ = entries(v, errors);
        }
    }
    (errors.len() == before).then(|| Module {
        name: name.text.clone(),
        timeout,
        select,
        kind: unsupported.map_or(Ok(kind), Err),
    })
}

/// `preferred_ip_protocol` and `ip_protocol_fallback` of a prober section.
fn select_key(k: &Key, v: &Node, select: &mut Select, errors: &mut Errors) {
    let Select::Preferred { ip6, fallback } = select else { return };
    match k.text.as_str() {
        "preferred_ip_protocol" => match v.as_str() {
            Some("ip6" | "") => *ip6 = true,
            Some("ip4") => *ip6 = false,
            _ => errors.push((v.line, "preferred_ip_protocol: ip4 or ip6".into())),
        },
        _ => match v.as_bool() {
            Some(b) => *fallback = b,
            None => errors.push((v.line, "ip_protocol_fallback: true or false".into())),
        },
    }
}

fn tcp_module(section: Option<&Node>, errors: &mut Errors, unsupported: &mut Option<String>) -> (Kind, Select) {
    let mut s = tcp::Settings { bare_lf: true, ..tcp::Settings::default() };
    let mut select = Select::BLACKBOX;
    for (k, v) in section.map(|n| entries(n, errors)).unwrap_or_default() {
        match k.text.as_str() {
            "preferred_ip_protocol" | "ip_protocol_fallback" => select_key(k, v, &mut select, errors),
            "source_ip_address" => *unsupported = Some("source_ip_address is not supported by sonde".into()),
            "tls" => match v.as_bool() {
                Some(b) => s.tls = b,
                None => errors.push((v.line, "tls: true or false".into())),
            },
            "tls_config" => tls_config(v, &mut s.tls_config, errors, unsupported),
            "query_response" => query_response(v, &mut s.steps, errors, unsupported),
            _ => unknown(k, "tcp", errors),
        }
    }
    if s.uses_tls() && !TLS_BUILT {
        *unsupported = Some(WITHOUT_TLS.into());
    }
    (Kind::Tcp(s), select)
}

/// An icmp module: blackbox's keys and defaults (TTL 64, one echo).
fn icmp_module(section: Option<&Node>, errors: &mut Errors, unsupported: &mut Option<String>) -> (Kind, Select) {
    let mut s = icmp::Settings::default();
    let mut select = Select::BLACKBOX;
    let mut seen = Vec::new();
    for (k, v) in section.map(|n| entries(n, &mut seen)).unwrap_or_default() {
        match k.text.as_str() {
            "preferred_ip_protocol" | "ip_protocol_fallback" => select_key(k, v, &mut select, &mut seen),
            "source_ip_address" => *unsupported = Some("source_ip_address is not supported by sonde".into()),
            "payload_size" => match v.as_int() {
                Some(n @ 0..=65000) => s.payload_size = n as usize,
                _ => seen.push((v.line, "payload_size: a number of bytes from 0 to 65000".into())),
            },
            // blackbox: 0 leaves the system's, 1 to 255 sets it.
            "ttl" => match v.as_int() {
                Some(0) => s.ttl = None,
                Some(n @ 1..=255) => s.ttl = Some(n as u8),
                _ => seen.push((v.line, "ttl: from 0 to 255".into())),
            },
            "dont_fragment" => match v.as_bool() {
                Some(b) => s.dont_fragment = b,
                None => seen.push((v.line, "dont_fragment: true or false".into())),
            },
            _ => unknown(k, "icmp", &mut seen),
        }
    }
    errors.append(&mut seen);
    (Kind::Icmp(s), select)
}

/// An http module: blackbox's keys (its http_client_config's too), its
/// defaults (GET, 2xx, redirects followed).
fn http_module(section: Option<&Node>, errors: &mut Errors, unsupported: &mut Option<String>) -> (Kind, Select) {
    let mut s = http::Settings::default();
    let mut select = Select::BLACKBOX;
    let mut bad = |v: &Node, m: String| errors.push((v.line, m));
    let regexes = |v: &Node, k: &str, bad: &mut dyn FnMut(&Node, String)| {
        let mut out = Vec::new();
        for p in v.as_seq().unwrap_or_default() {
            match p.as_str().map(Regex::new) {
                Some(Ok(re)) => out.push(re),
                Some(Err(why)) => bad(p, format!("{k}: {why}")),
                None => bad(p, format!("{k}: expected a regular expression")),
            }
        }
        out
    };
    let mut entries_of = Vec::new();
    for (k, v) in section.map(|n| entries(n, &mut entries_of)).unwrap_or_default() {
        let flag = |v: &Node, bad: &mut dyn FnMut(&Node, String)| {
            v.as_bool().unwrap_or_else(|| {
                bad(v, format!("{}: true or false", k.text));
                false
            })
        };
        match k.text.as_str() {
            "preferred_ip_protocol" | "ip_protocol_fallback" => select_key(k, v, &mut select, &mut entries_of),
            "valid_status_codes" => {
                for c in v.as_seq().unwrap_or_default() {
                    match c.as_int() {
                        Some(n @ 100..=599) => s.valid_status_codes.push(n as u16),
                        _ => bad(c, "valid_status_codes: status codes from 100 to 599".into()),
                    }
                }
            }
            "valid_http_versions" => {
                for h in v.as_seq().unwrap_or_default() {
                    match h.as_str() {
                        Some(t) => s.valid_http_versions.push(t.to_owned()),
                        None => bad(h, "valid_http_versions: strings such as HTTP/1.1".into()),
                    }
                }
            }
            "follow_redirects" => s.follow_redirects = flag(v, &mut bad),
            "no_follow_redirects" => s.follow_redirects = !flag(v, &mut bad),
            "fail_if_ssl" => s.fail_if_ssl = flag(v, &mut bad),
            "fail_if_not_ssl" => s.fail_if_not_ssl = flag(v, &mut bad),
            "method" => match v.as_str() {
                Some("") => {}
                Some(m) => match super::http::method(m) {
                    Ok(()) => s.method = m.to_owned(),
                    Err(why) => bad(v, why),
                },
                None => bad(v, "method: a string".into()),
            },
            "headers" => {
                for (name, value) in entries(v, &mut entries_of) {
                    let value = value.as_str().unwrap_or_default();
                    match super::http::header(&name.text, value) {
                        Ok(()) => s.headers.push((name.text.clone(), value.to_owned())),
                        Err(why) => bad(v, why),
                    }
                }
            }
            "body" => s.body = v.as_str().unwrap_or_default().to_owned(),
            "fail_if_body_matches_regexp" => s.fail_if_body_matches_regexp = regexes(v, &k.text, &mut bad),
            "fail_if_body_not_matches_regexp" => s.fail_if_body_not_matches_regexp = regexes(v, &k.text, &mut bad),
            "fail_if_header_matches" | "fail_if_header_not_matches" => {
                let mut out = Vec::new();
                for spec in v.as_seq().unwrap_or_default() {
                    let (mut header, mut regexp, mut allow_missing) = (None, None, false);
                    for (sk, sv) in entries(spec, &mut entries_of) {
                        match sk.text.as_str() {
                            "header" => header = sv.as_str().map(str::to_owned),
                            "regexp" => match sv.as_str().map(Regex::new) {
                                Some(Ok(re)) => regexp = Some(re),
                                Some(Err(why)) => bad(sv, format!("regexp: {why}")),
                                None => bad(sv, "regexp: expected a regular expression".into()),
                            },
                            "allow_missing" => allow_missing = flag(sv, &mut bad),
                            _ => unknown(sk, "http_header_match_spec", &mut entries_of),
                        }
                    }
                    match (header, regexp) {
                        (Some(header), Some(regexp)) => out.push(http::HeaderMatch { header, regexp, allow_missing }),
                        _ => bad(spec, format!("{}: each needs header and regexp", k.text)),
                    }
                }
                if k.text == "fail_if_header_matches" {
                    s.fail_if_header_matches = out;
                } else {
                    s.fail_if_header_not_matches = out;
                }
            }
            "compression" => match v.as_str() {
                Some("" | "identity") => {}
                _ => *unsupported = Some("compression: sonde does not decompress bodies".into()),
            },
            "body_size_limit" => match v.as_str().map(super::http::size) {
                Some(Ok(n)) => s.body_size_limit = n,
                Some(Err(why)) => bad(v, format!("body_size_limit: {why}")),
                None => bad(v, "body_size_limit: a size such as 10MB".into()),
            },
            "basic_auth" => {
                let (mut user, mut password) = (String::new(), None);
                for (bk, bv) in entries(v, &mut entries_of) {
                    let text = bv.as_str().unwrap_or_default().to_owned();
                    match bk.text.as_str() {
                        "username" => user = text,
                        "password" if !text.is_empty() => password = Some(http::Secret::Inline(text)),
                        "password_file" if !text.is_empty() => password = Some(http::Secret::File(text.into())),
                        "password" | "password_file" => {}
                        _ => unknown(bk, "basic_auth", &mut entries_of),
                    }
                }
                let password = password.unwrap_or(http::Secret::Inline(String::new()));
                s.auth = http::Auth::Basic { user, password };
            }
            "authorization" => {
                let (mut scheme, mut credentials) = ("Bearer".to_owned(), None);
                for (ak, av) in entries(v, &mut entries_of) {
                    let text = av.as_str().unwrap_or_default().to_owned();
                    match ak.text.as_str() {
                        "type" if !text.is_empty() => scheme = text,
                        "credentials" if !text.is_empty() => credentials = Some(http::Secret::Inline(text)),
                        "credentials_file" if !text.is_empty() => credentials = Some(http::Secret::File(text.into())),
                        "type" | "credentials" | "credentials_file" => {}
                        _ => unknown(ak, "authorization", &mut entries_of),
                    }
                }
                if let Some(credentials) = credentials {
                    s.auth = http::Auth::Token { scheme, credentials };
                }
            }
            "bearer_token" | "bearer_token_file" => {
                let text = v.as_str().unwrap_or_default().to_owned();
                if !text.is_empty() {
                    let credentials = match k.text.as_str() {
                        "bearer_token" => http::Secret::Inline(text),
                        _ => http::Secret::File(text.into()),
                    };
                    s.auth = http::Auth::Token { scheme: "Bearer".into(), credentials };
                }
            }
            "tls_config" => tls_config(v, &mut s.tls_config, &mut entries_of, unsupported),
            "oauth2" => *unsupported = Some("oauth2 is not supported by sonde".into()),
            "proxy_url" if v.as_str().is_some_and(|p| !p.is_empty()) => {
                *unsupported = Some("proxy_url is not supported by sonde".into())
            }
            // Meaningful only with a proxy, or for HTTP/2, which sonde does
            // not speak (blackbox's own default uses it only over TLS).
            "proxy_url" | "proxy_connect_header" | "skip_resolve_phase_with_proxy" | "enable_http2" => {}
            _ => unknown(k, "http", &mut entries_of),
        }
    }
    errors.append(&mut entries_of);
    (Kind::Http(Box::new(s)), select)
}

fn query_response(v: &Node, steps: &mut Vec<tcp::Step>, errors: &mut Errors, unsupported: &mut Option<String>) {
    if v.is_null() {
        return;
    }
    let Some(items) = v.as_seq() else {
        errors.push((v.line, "query_response: a list of expect/send/starttls steps".into()));
        return;
    };
    for item in items {
        for (k, v) in entries(item, errors) {
            match (k.text.as_str(), v.as_str()) {
                ("expect", Some(p)) => match Regex::new(p) {
                    Ok(re) => steps.push(tcp::Step::Expect(re)),
                    Err(why) => errors.push((v.line, format!("expect: {p}: {why}"))),
                },
                ("send", Some(t)) if t.contains("${") => {
                    *unsupported = Some("query_response send with ${n} from an expect is not supported by sonde".into())
                }
                ("send", Some(t)) => steps.push(tcp::Step::Send(t.to_owned())),
                ("starttls", _) => match v.as_bool() {
                    Some(true) => steps.push(tcp::Step::StartTls),
                    Some(false) => {}
                    None => errors.push((v.line, "starttls: true or false".into())),
                },
                ("expect_bytes" | "labels", _) => {
                    *unsupported = Some(format!("query_response {} is not supported by sonde", k.text))
                }
                ("expect" | "send", None) => errors.push((v.line, format!("{}: expected text", k.text))),
                _ => unknown(k, "query_response", errors),
            }
        }
    }
}

fn tls_config(v: &Node, t: &mut ClientTls, errors: &mut Errors, unsupported: &mut Option<String>) {
    for (k, v) in entries(v, errors) {
        let text = || v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        match k.text.as_str() {
            "ca_file" => t.ca_file = text().map(Into::into),
            "cert_file" => t.cert_file = text().map(Into::into),
            "key_file" => t.key_file = text().map(Into::into),
            "server_name" => t.server_name = text(),
            "insecure_skip_verify" => match v.as_bool() {
                Some(b) => t.insecure_skip_verify = b,
                None => errors.push((v.line, "insecure_skip_verify: true or false".into())),
            },
            "min_version" => match v.as_str().and_then(Version::min_from_name) {
                Some(min) => t.min_version = min,
                None => errors.push((v.line, "min_version: TLS10, TLS11, TLS12 or TLS13".into())),
            },
            "max_version" => match v.as_str() {
                Some("TLS12") => t.max_version = Some(Version::Tls12),
                Some("TLS13") => t.max_version = Some(Version::Tls13),
                Some("TLS10" | "TLS11") => {
                    *unsupported = Some("max_version below TLS12: sonde speaks TLS 1.2 and 1.3".into())
                }
                _ => errors.push((v.line, "max_version: TLS10, TLS11, TLS12 or TLS13".into())),
            },
            _ => unknown(k, "tls_config", errors),
        }
    }
    if let Err(m) = t.check() {
        errors.push((v.line, format!("tls_config: {m}")));
    }
}

fn dns_module(section: &Node, errors: &mut Errors, unsupported: &mut Option<String>) -> (Kind, Select) {
    // blackbox's defaults: ANY over UDP, no EDNS, recursion desired.
    let mut s = dns::Settings {
        query_name: String::new(),
        query_type: wire_dns::type_from_name("ANY").unwrap_or(255),
        transport: dns::Transport::Udp,
        edns_udp_size: None,
        accept_truncated: true,
        ..dns::Settings::default()
    };
    let mut select = Select::BLACKBOX;
    for (k, v) in entries(section, errors) {
        let text = v.as_str().unwrap_or_default();
        match k.text.as_str() {
            "preferred_ip_protocol" | "ip_protocol_fallback" => select_key(k, v, &mut select, errors),
            "source_ip_address" => *unsupported = Some("source_ip_address is not supported by sonde".into()),
            "dns_over_tls" => match v.as_bool() {
                Some(false) => {}
                Some(true) => *unsupported = Some("dns_over_tls is not supported by sonde".into()),
                None => errors.push((v.line, "dns_over_tls: true or false".into())),
            },
            "tls_config" => tls_config(v, &mut ClientTls::default(), errors, unsupported),
            "transport_protocol" => match text {
                "udp" | "" => s.transport = dns::Transport::Udp,
                "tcp" => s.transport = dns::Transport::Tcp,
                _ => errors.push((v.line, "transport_protocol: udp or tcp".into())),
            },
            "query_name" => s.query_name = text.to_owned(),
            "query_type" => match wire_dns::type_from_name(text) {
                Some(t) => s.query_type = t,
                None => errors.push((v.line, format!("query_type: unknown type '{text}'"))),
            },
            "query_class" => match wire_dns::class_from_name(text) {
                Some(c) => s.query_class = c,
                None => errors.push((v.line, format!("query_class: unknown class '{text}'"))),
            },
            "recursion_desired" => match v.as_bool() {
                Some(b) => s.recursion_desired = b,
                None => errors.push((v.line, "recursion_desired: true or false".into())),
            },
            "valid_rcodes" => {
                s.valid_rcodes.clear();
                for n in v.as_seq().unwrap_or_default() {
                    match n.as_str().and_then(wire_dns::rcode_from_name) {
                        Some(c) => s.valid_rcodes.push(c),
                        None => errors.push((n.line, "valid_rcodes: an rcode name (NOERROR, NXDOMAIN...)".into())),
                    }
                }
            }
            "validate_answer_rrs" => validate(v, &mut s.expect.answers, errors),
            "validate_authority_rrs" => validate(v, &mut s.expect.authority, errors),
            "validate_additional_rrs" => validate(v, &mut s.expect.additional, errors),
            _ => unknown(k, "dns", errors),
        }
    }
    let q = wire_dns::Query { id: 0, qname: &s.query_name, qtype: 1, qclass: 1, rd: true, edns_udp_size: None };
    if s.query_name.is_empty() || wire_dns::emit_query(&q, &mut Vec::new()).is_err() {
        errors.push((section.line, format!("query_name: '{}' is not a domain name (it must be set)", s.query_name)));
    }
    (Kind::Dns(s), select)
}

/// A `validate_*_rrs` mapping: blackbox's four lists ([`dns::Expect`]).
fn validate(v: &Node, e: &mut dns::Expect, errors: &mut Errors) {
    for (k, list) in entries(v, errors) {
        let into = match k.text.as_str() {
            "fail_if_matches_regexp" => &mut e.none,
            "fail_if_all_match_regexp" => &mut e.every,
            "fail_if_not_matches_regexp" => &mut e.all,
            "fail_if_none_matches_regexp" => &mut e.any,
            _ => {
                unknown(k, "validate_*_rrs", errors);
                continue;
            }
        };
        for p in list.as_seq().unwrap_or_default() {
            match p.as_str().map(Regex::new) {
                Some(Ok(re)) => into.push(re),
                Some(Err(why)) => errors.push((p.line, format!("{}: {why}", k.text))),
                None => errors.push((p.line, format!("{}: expected a regular expression", k.text))),
            }
        }
    }
}

/// A Go duration, as blackbox's time.Duration fields take it: a sequence
/// of numbers with units (`5s`, `1m30s`, `250ms`, `1.5h`).
pub(super) fn go_duration(s: &str) -> Option<Duration> {
    let mut rest = s;
    let mut total = 0.0f64;
    if rest.is_empty() || rest == "0" {
        return (rest == "0").then_some(Duration::ZERO);
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|&n| n > 0)?;
        let value = crate::wire::float::parse(&rest[..n])?;
        rest = &rest[n..];
        let (scale, len) =
            [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0), ("h", 3600.0)]
                .iter()
                .find(|(u, _)| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")))
                .map(|(u, f)| (*f, u.len()))?;
        total += value * scale;
        rest = &rest[len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field's file: Debian's example modules and the operator's own
    /// dns module, as written.
    const FIELD: &str = r#"
modules:
  http_2xx:
    prober: http
    http:
      preferred_ip_protocol: "ip4"
  tcp_connect:
    prober: tcp
  smtp_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^220 .*ESMTP"
        - send: "QUIT"
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
  ssh_banner:
    prober: tcp
    tcp:
      query_response:
      - expect: "^SSH-2.0-"
      - send: "SSH-2.0-blackbox-ssh-check"
  pop3s_banner:
    prober: tcp
    tcp:
      query_response:
      - expect: "^+OK"
      tls: true
      tls_config:
        insecure_skip_verify: false
  icmp:
    prober: icmp
  dns:
    prober: dns
    dns: {query_name: "test.example.com.", query_type: A, valid_rcodes: [NOERROR], preferred_ip_protocol: ip4}
  dns_soa:
    prober: dns
    timeout: 1m30s
    dns:
      query_name: "example.com"
      query_type: "SOA"
      query_class: IN
      transport_protocol: tcp
      recursion_desired: false
      validate_answer_rrs:
        fail_if_matches_regexp: [".*127.0.0.1"]
        fail_if_all_match_regexp: [".*127.0.0.1"]
        fail_if_not_matches_regexp: ["www.prometheus.io.\t300\tIN\tA\t127.0.0.1"]
        fail_if_none_matches_regexp: ["127.0.0.1"]
      validate_authority_rrs:
        fail_if_matches_regexp: [".*127.0.0.1"]
      validate_additional_rrs:
        fail_if_matches_regexp: [".*127.0.0.1"]
"#;

    #[test]
    fn the_fields_file_reads_as_blackbox_reads_it() {
        let m = parse(FIELD).unwrap();
        let get = |n: &str| m.iter().find(|x| x.name == n).unwrap();
        let http_2xx = get("http_2xx");
        assert_eq!(http_2xx.select, Select::Preferred { ip6: false, fallback: true });
        let Ok(Kind::Http(h)) = &http_2xx.kind else { panic!("{:?}", http_2xx.kind) };
        assert_eq!(**h, http::Settings::default(), "GET, 2xx, redirects followed");
        let smtp = get("smtp_banner");
        assert_eq!(smtp.timeout, Some(Duration::from_secs(5)));
        assert_eq!(smtp.select, Select::Preferred { ip6: false, fallback: false });
        let Ok(Kind::Tcp(t)) = &smtp.kind else { panic!() };
        assert!(t.bare_lf && t.steps.len() == 2);
        assert_eq!(get("tcp_connect").select, Select::BLACKBOX, "IPv6 first, with the fallback");
        let Ok(Kind::Dns(d)) = &get("dns").kind else { panic!() };
        assert_eq!((d.query_name.as_str(), d.query_type, d.transport), ("test.example.com.", 1, dns::Transport::Udp));
        assert_eq!(d.edns_udp_size, None, "blackbox sends no EDNS");
        let Ok(Kind::Dns(soa)) = &get("dns_soa").kind else { panic!() };
        assert_eq!(get("dns_soa").timeout, Some(Duration::from_secs(90)));
        let a = &soa.expect.answers;
        assert_eq!((a.none.len(), a.every.len(), a.all.len(), a.any.len()), (1, 1, 1, 1));
        assert!(!soa.recursion_desired);
        let Ok(Kind::Dns(any)) =
            &parse("modules:\n  d:\n    prober: dns\n    dns:\n      query_name: x.\n").unwrap()[0].kind
        else {
            panic!()
        };
        assert_eq!(any.query_type, 255, "blackbox's default query type is ANY");
        match &get("pop3s_banner").kind {
            Ok(Kind::Tcp(t)) => assert!(TLS_BUILT && t.tls),
            Err(why) => assert!(!TLS_BUILT && why.contains("without TLS")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_with_their_lines() {
        let text = "modules:\n  a:\n    prober: tcp\n    tcp:\n      preferred_ip_protcol: ip4\n  b:\n    prober: dns\n    dns:\n      query_type: NOPE\n      query_name: x.\n  c:\n    prober: udp\n  d:\n    prober: http\n    http:\n      valid_status_code: [200]\n";
        let errors = parse(text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![5, 9, 12, 16], "{errors:?}");
        assert!(errors[0].1.contains("unknown key 'preferred_ip_protcol'"), "{errors:?}");
        let errors =
            parse("modules:\n  a:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: \"a(\"\n")
                .unwrap_err();
        assert_eq!(errors[0].0, 6, "{errors:?}");
        let errors = parse("modules:\n  &x a:\n    prober: tcp\n").unwrap_err();
        assert_eq!(errors[0].0, 2, "YAML outside the subset: {errors:?}");
        assert_eq!(parse("bogus: 1\n").unwrap_err()[0].0, 1);
    }

    /// Every http key blackbox_exporter 0.23 documents, as written in its
    /// CONFIGURATION.md's example shapes.
    #[test]
    fn http_modules_read_as_blackbox_reads_them() {
        let text = r#"modules:
  web:
    prober: http
    timeout: 3s
    http:
      method: POST
      headers:
        Host: www.example.org
        X-Probe: sonde
      body: '{"ping": 1}'
      valid_status_codes: [200, 201]
      valid_http_versions: ["HTTP/1.1"]
      no_follow_redirects: true
      fail_if_not_ssl: true
      fail_if_body_matches_regexp: ["error"]
      fail_if_body_not_matches_regexp: ["ok"]
      fail_if_header_matches:
        - header: Server
          regexp: "^Apache"
          allow_missing: true
      fail_if_header_not_matches:
        - {header: Content-Type, regexp: "json"}
      body_size_limit: 1MB
      compression: ""
      basic_auth:
        username: probe
        password_file: /etc/blackbox/pw
      enable_http2: false
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
"#;
        let m = parse(text).unwrap();
        let Ok(Kind::Http(h)) = &m[0].kind else { panic!("{:?}", m[0].kind) };
        assert_eq!((h.method.as_str(), h.body.as_str()), ("POST", "{\"ping\": 1}"));
        assert_eq!(h.headers[0], ("Host".to_owned(), "www.example.org".to_owned()));
        assert_eq!(
            (h.valid_status_codes.as_slice(), h.follow_redirects, h.fail_if_not_ssl),
            (&[200, 201][..], false, true)
        );
        assert_eq!((h.fail_if_body_matches_regexp.len(), h.fail_if_body_not_matches_regexp.len()), (1, 1));
        assert!(h.fail_if_header_matches[0].allow_missing && !h.fail_if_header_not_matches[0].allow_missing);
        assert_eq!(h.body_size_limit, Some(1 << 20));
        assert_eq!(
            h.auth,
            http::Auth::Basic { user: "probe".into(), password: http::Secret::File("/etc/blackbox/pw".into()) }
        );
        assert_eq!(m[0].select, Select::Preferred { ip6: false, fallback: false });
        for (key, why) in [
            ("compression: gzip", "compression"),
            ("oauth2: {client_id: x}", "oauth2"),
            ("proxy_url: http://p:3128", "proxy_url"),
        ] {
            let m = parse(&format!("modules:\n  w:\n    prober: http\n    http:\n      {key}\n")).unwrap();
            assert!(m[0].kind.as_ref().unwrap_err().contains(why), "{key}: {:?}", m[0].kind);
        }
        let errors = parse("modules:\n  w:\n    prober: http\n    http:\n      headers: {\"X\": \"a\\r\\nB: c\"}\n      valid_status_codes: [2000]\n      method: \"G T\"\n").unwrap_err();
        assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![5, 6, 7], "{errors:?}");
    }

    #[test]
    fn icmp_modules_read_as_blackbox_reads_them() {
        let m = parse(FIELD).unwrap();
        let icmp = m.iter().find(|x| x.name == "icmp").unwrap();
        assert_eq!(icmp.kind, Ok(Kind::Icmp(icmp::Settings::default())), "TTL 64, one echo, blackbox's families only");
        let text = "modules:\n  a:\n    prober: icmp\n    icmp:\n      ttl: 0\n      payload_size: 1200\n      \
                    dont_fragment: true\n      preferred_ip_protocol: ip4\n";
        let Ok(Kind::Icmp(s)) = &parse(text).unwrap()[0].kind else { panic!() };
        assert_eq!((s.ttl, s.payload_size, s.dont_fragment, s.stats), (None, 1200, true, false));
        let m = parse("modules:\n  a:\n    prober: icmp\n    icmp:\n      source_ip_address: 192.0.2.1\n").unwrap();
        assert!(m[0].kind.as_ref().unwrap_err().contains("source_ip_address"));
        let errors =
            parse("modules:\n  a:\n    prober: icmp\n    icmp:\n      ttl: 300\n      count: 5\n").unwrap_err();
        assert_eq!(errors.iter().map(|e| e.0).collect::<Vec<_>>(), vec![5, 6], "{errors:?}");
    }

    #[test]
    fn what_sonde_does_not_do_marks_the_module_not_the_file() {
        let m = parse("modules:\n  a:\n    prober: tcp\n    tcp:\n      source_ip_address: 192.0.2.1\n").unwrap();
        assert!(m[0].kind.as_ref().unwrap_err().contains("source_ip_address"));
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(go_duration("0"), Some(Duration::ZERO));
        for bad in ["", "5", "s", "5x", "-1s", "1m 2s"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }
}
