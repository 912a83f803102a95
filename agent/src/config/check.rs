//! `[[check]]`: one service check per table (see [`crate::check`]).
//!
//! Common keys: `name` (the `check` label; unique), `kind` (`tcp`, `dns`,
//! `ntp`), `target` (`host:port`; dns and ntp default to 53 and 123),
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

use std::time::Duration;

use super::{duration, strings, Error, Problem};
use crate::check::{dns, ntp, tcp, Check, Family, Kind, Select};
use crate::tls::{TLS_BUILT, WITHOUT_TLS};
use crate::wire::dns as wire;
use crate::wire::hostport;
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
    // super::tls::KEYS, for a tcp check with TLS:
    "ca_file",
    "cert_file",
    "key_file",
    "server_name",
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
    if kind != "tcp" {
        for e in entries.iter().filter(|e| e.key == "tls" || super::tls::KEYS.contains(&e.key.as_str())) {
            err(e.line, format!("{}: only a tcp check speaks TLS", e.key));
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
        other => {
            err(line, format!("kind: '{other}' is not tcp, dns or ntp"));
            return None;
        }
    };
    let c = Check { name, target, interval, timeout, select, kind };
    if hostport::split_or(&c.target, c.kind.default_port()).is_none() {
        err(line, format!("target: '{}' is not host:port", c.target));
    }
    (errors.len() == before).then_some(c)
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
        for e in entries.iter().filter(|e| e.key == "tls" || super::tls::KEYS.contains(&e.key.as_str())) {
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
            k if super::tls::KEYS.contains(&k) => match super::tls::set(&mut s.tls_config, k, &e.value) {
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
        assert_eq!((errors[0].line, errors[0].message.as_str()), (6, "tls: only a tcp check speaks TLS"));
    }
}
