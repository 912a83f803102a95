//! `[[log]]` and `[[log_rule]]` (see [`crate::logs`]).
//!
//! `[[log]]`: `path` (required: an absolute path, a glob, or `sonde` for
//! sonde's own log; each path once), `start` (`end`, the default, or
//! `beginning`), `invalid_utf8` (`pass` or `replace`), and to forward:
//! `syslog` (`udp://`, `tcp://` or `tls://` host:port; ports 514, 514,
//! 6514 by default), `format` (`rfc5424` or `rfc3164`), `facility`
//! (`user`), `severity` (`notice`), `priority_regex` (named groups
//! `severity` and `facility`), `hostname`, `app_name`, `framing`
//! (`octet-counting` or `lf`, TCP and TLS), `max_message`, `timeout`,
//! `memory_cap`, `spool`, `spool_cap`, `max_age`, and for TLS `ca_file`,
//! `cert_file`, `key_file`, `server_name`.
//!
//! `[[log_rule]]`: `name` (required, unique), `path` (required, as a
//! `[[log]]`'s), `regex` (required), `labels` (named groups; default all
//! but `value`'s), `value` (a named group holding a number), `buckets`,
//! `notify`.

use std::time::Duration;

use super::push::size;
use super::{duration, Error, Problem};
use crate::expo::valid_label_name;
use crate::logs::{Forward, Log, Protocol, Rule, Start, DEFAULT_BUCKETS, OWN};
use crate::tls::{ClientTls, TLS_BUILT, WITHOUT_TLS};
use crate::wire::hostport;
use crate::wire::logstate::MAX_PATH;
use crate::wire::regex::Regex;
use crate::wire::syslog::{self, Format, MIN_MESSAGE};
use crate::wire::toml::{Entry, Value};

pub const LOG_KEYS: &[&str] = &[
    "path",
    "start",
    "invalid_utf8",
    "syslog",
    "format",
    "facility",
    "severity",
    "priority_regex",
    "hostname",
    "app_name",
    "framing",
    "max_message",
    "timeout",
    "memory_cap",
    "spool",
    "spool_cap",
    "max_age",
    // super::tls::KEYS, for tls://
    "ca_file",
    "cert_file",
    "key_file",
    "server_name",
];

pub const RULE_KEYS: &[&str] = &["name", "path", "regex", "labels", "value", "buckets", "notify"];

/// `[[log]]` tables per config: each is a path followed and, forwarding,
/// a thread and a connection.
pub const MAX_LOGS: usize = 32;
/// `[[log_rule]]` tables per config: each is a regex run on every line of
/// its path.
pub const MAX_RULES: usize = 64;
/// Histogram bounds per rule.
const MAX_BUCKETS: usize = 32;

/// Until a line says otherwise: `logger`'s default priority.
const DEFAULT_FACILITY: u8 = 1; // user
const DEFAULT_SEVERITY: u8 = 5; // notice

fn text(e: &Entry) -> Result<&str, String> {
    match &e.value {
        Value::Str(s) => Ok(s),
        v => Err(format!("expected a string, found {}", v.type_name())),
    }
}

fn flag(e: &Entry) -> Result<bool, String> {
    match e.value {
        Value::Bool(b) => Ok(b),
        ref v => Err(format!("expected true or false, found {}", v.type_name())),
    }
}

/// Which of the two `names` the string is.
fn choice(e: &Entry, names: [&str; 2]) -> Result<usize, String> {
    let s = text(e)?;
    names.iter().position(|n| *n == s).ok_or_else(|| format!("'{s}': write {} or {}", names[0], names[1]))
}

fn span(e: &Entry, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = duration(text(e)?)?;
    if d < min || d > max {
        return Err(format!("out of range: from {min:?} to {max:?}"));
    }
    Ok(d)
}

fn bytes(e: &Entry, min: u64, max: u64) -> Result<u64, String> {
    size(&e.value, min, max).map_err(problem)
}

/// A `path`: absolute (a glob in any part), or [`OWN`].
fn path(e: &Entry) -> Result<String, String> {
    let p = text(e)?;
    if p == OWN {
        return Ok(p.to_owned());
    }
    if !p.starts_with('/') || p.ends_with('/') {
        return Err(format!("'{p}': write an absolute path to a file (or a glob), or \"{OWN}\" for sonde's own log"));
    }
    if p.len() > MAX_PATH || p.contains('\0') {
        return Err(format!("'{p}' is not a usable path"));
    }
    Ok(p.to_owned())
}

/// A header field: printable US-ASCII, 1 to `max` bytes.
fn field(e: &Entry, max: usize) -> Result<String, String> {
    let s = text(e)?;
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| (33..=126).contains(&b)) {
        return Err(format!("'{s}': 1 to {max} printable ASCII characters, no spaces"));
    }
    Ok(s.to_owned())
}

/// `udp://host:port`, `tcp://…`, `tls://…`.
fn target(s: &str) -> Result<(Protocol, String, u16), String> {
    let (protocol, rest) = match s.split_once("://") {
        Some(("udp", rest)) => (Protocol::Udp, rest),
        Some(("tcp", rest)) => (Protocol::Tcp, rest),
        Some(("tls", _)) if !TLS_BUILT => return Err(format!("'{s}': {WITHOUT_TLS}; use tcp:// or udp://")),
        Some(("tls", rest)) => (Protocol::Tls, rest),
        _ => return Err(format!("'{s}': write udp://, tcp:// or tls:// and host:port")),
    };
    let default = if protocol == Protocol::Tls { 6514 } else { 514 };
    let (host, port) = hostport::split_or(rest, default).ok_or_else(|| format!("'{s}': bad host or port"))?;
    Ok((protocol, host.to_owned(), port))
}

/// One `[[log]]` table, starting at `line`.
#[inline(never)]
pub fn log(line: usize, entries: &[Entry], errors: &mut Vec<Error>) -> Option<Log> {
    let before = errors.len();
    let mut log = Log::new("");
    let mut fwd = Forward {
        url: String::new(),
        protocol: Protocol::Udp,
        host: String::new(),
        port: 0,
        format: Format::Rfc5424,
        facility: DEFAULT_FACILITY,
        severity: DEFAULT_SEVERITY,
        priority_regex: None,
        hostname: crate::push::hostname(),
        app_name: None,
        octet_counting: true,
        max_message: 0,
        timeout: Duration::from_secs(10),
        memory_cap: 1024 * 1024,
        spool: false,
        spool_cap: 16 * 1024 * 1024,
        // Syslog receivers take old lines; a clock set late (1970 until
        // NTP) must not age every line read before it.
        max_age: MAX_AGE,
        tls: ClientTls::default(),
    };
    // Keys that need syslog, and which: (line, key).
    let mut needs_syslog: Vec<(usize, &str)> = Vec::new();
    for e in entries {
        let k = e.key.as_str();
        if !matches!(k, "path" | "start" | "invalid_utf8" | "syslog") {
            needs_syslog.push((e.line, k));
        }
        let r = match k {
            "path" => path(e).map(|p| log.path = p),
            "start" => choice(e, ["end", "beginning"]).map(|i| log.start = [Start::End, Start::Beginning][i]),
            "invalid_utf8" => choice(e, ["pass", "replace"]).map(|i| log.replace_invalid = i == 1),
            "syslog" => text(e).and_then(|s| {
                (fwd.protocol, fwd.host, fwd.port) = target(s)?;
                fwd.url = s.to_owned();
                Ok(())
            }),
            "format" => choice(e, ["rfc5424", "rfc3164"]).map(|i| fwd.format = [Format::Rfc5424, Format::Rfc3164][i]),
            "facility" => name(e, syslog::facility).map(|f| fwd.facility = f),
            "severity" => name(e, syslog::severity).map(|v| fwd.severity = v),
            "priority_regex" => text(e).and_then(Regex::new).and_then(|re| {
                if !re.group_names().any(|n| n == "severity" || n == "facility") {
                    return Err("name a group (?P<severity>...) or (?P<facility>...)".into());
                }
                fwd.priority_regex = Some(re);
                Ok(())
            }),
            "hostname" => field(e, 255).map(|h| fwd.hostname = h),
            "app_name" => field(e, 48).map(|a| fwd.app_name = Some(a)),
            "framing" => choice(e, ["octet-counting", "lf"]).map(|i| fwd.octet_counting = i == 0),
            "max_message" => match e.value {
                Value::Int(n) if (MIN_MESSAGE as i64..=MAX_MESSAGE as i64).contains(&n) => {
                    fwd.max_message = n as usize;
                    Ok(())
                }
                _ => Err(format!("an integer from {MIN_MESSAGE} to {MAX_MESSAGE}")),
            },
            "timeout" => span(e, Duration::from_secs(1), Duration::from_secs(600)).map(|d| fwd.timeout = d),
            "memory_cap" => {
                bytes(e, 4 * crate::limits::MAX_LOG_BATCH as u64, 256 << 20).map(|n| fwd.memory_cap = n as usize)
            }
            "spool" => flag(e).map(|s| fwd.spool = s),
            "spool_cap" => bytes(e, 2 * crate::deliver::spool::SEGMENT_MAX, 1 << 40).map(|n| fwd.spool_cap = n),
            "max_age" => span(e, Duration::from_secs(60), MAX_AGE).map(|d| fwd.max_age = d),
            k if super::tls::KEYS.contains(&k) => super::tls::set(&mut fwd.tls, k, &e.value).map_err(problem),
            k => {
                needs_syslog.pop();
                let known = super::suggest(k, LOG_KEYS.iter().copied());
                errors.push(Error { line: e.line, message: format!("unknown key '{k}' in [[log]]{known}") });
                continue;
            }
        };
        if let Err(m) = r {
            errors.push(Error { line: e.line, message: format!("{k}: {m}") });
        }
    }
    if !entries.iter().any(|e| e.key == "path") {
        errors.push(Error { line, message: "[[log]] needs a path".into() });
    }
    if fwd.url.is_empty() {
        for (line, k) in needs_syslog {
            let message = format!("{k}: means nothing without syslog = \"udp://…\", \"tcp://…\" or \"tls://…\"");
            errors.push(Error { line, message });
        }
        return (errors.len() == before).then_some(log);
    }
    for (line, k) in needs_syslog {
        let wrong = match fwd.protocol {
            Protocol::Udp if k == "framing" => "UDP has no framing: one message per datagram",
            Protocol::Udp | Protocol::Tcp if super::tls::KEYS.contains(&k) => "only for syslog = \"tls://…\"",
            _ => continue,
        };
        errors.push(Error { line, message: format!("{k}: {wrong}") });
    }
    if let Err(message) = fwd.tls.check() {
        errors.push(Error { line, message });
    }
    if fwd.max_message == 0 {
        fwd.max_message = match (fwd.protocol, fwd.format) {
            // RFC 3164 §4.1: 1024 bytes at most.
            (_, Format::Rfc3164) => 1024,
            // RFC 5426 §3.2: receivers SHOULD take 2048 bytes.
            (Protocol::Udp, _) => 2048,
            // RFC 5425 §4.3.1: receivers SHOULD take 8192 bytes.
            _ => 8192,
        };
    }
    log.forward = Some(fwd);
    (errors.len() == before).then_some(log)
}

/// The longest `max_age`, and the default: none, in effect.
const MAX_AGE: Duration = Duration::from_secs(100 * 365 * 86_400);

fn problem(p: Problem) -> String {
    match p {
        Problem::Invalid(m) => m,
        Problem::UnknownKey => String::new(),
    }
}

/// A facility's or severity's name.
fn name(e: &Entry, of: fn(&str) -> Option<u8>) -> Result<u8, String> {
    let s = text(e)?;
    of(s).ok_or_else(|| format!("'{s}' is not one of its names"))
}

/// The longest `max_message`: the longest line and room for a header.
const MAX_MESSAGE: usize = crate::limits::MAX_LOG_LINE + 1024;

/// One `[[log_rule]]` table, starting at `line`.
#[inline(never)]
pub fn rule(line: usize, entries: &[Entry], errors: &mut Vec<Error>) -> Option<Rule> {
    let before = errors.len();
    let err = |errors: &mut Vec<Error>, line: usize, m: String| errors.push(Error { line, message: m });
    let (mut name, mut rpath, mut regex) = (None, None, None);
    let (mut labels, mut value, mut buckets, mut notify) = (None, None, None, false);
    for e in entries {
        let r = match e.key.as_str() {
            "name" => text(e).and_then(|s| {
                if s.is_empty() || s.len() > 64 {
                    return Err("1 to 64 characters".into());
                }
                name = Some(s.to_owned());
                Ok(())
            }),
            "path" => path(e).map(|p| rpath = Some(p)),
            "regex" => text(e).and_then(Regex::new).map(|r| regex = Some((r, e.line))),
            "labels" => super::strings(&e.value)
                .map_err(problem)
                .map(|l| labels = Some((l.iter().map(|s| s.to_string()).collect::<Vec<_>>(), e.line))),
            "value" => text(e).map(|v| value = Some((v.to_owned(), e.line))),
            "buckets" => numbers(&e.value).map(|b| buckets = Some(b)),
            "notify" => flag(e).map(|n| notify = n),
            k => Err(format!("unknown key '{k}' in [[log_rule]]{}", super::suggest(k, RULE_KEYS.iter().copied()))),
        };
        if let Err(m) = r {
            let m = if m.starts_with("unknown key") { m } else { format!("{}: {m}", e.key) };
            err(errors, e.line, m);
        }
    }
    let (Some(name), Some(rpath), Some((regex, regex_line))) = (name, rpath, regex) else {
        if errors.len() == before {
            err(errors, line, "[[log_rule]] needs name, path and regex".into());
        }
        return None;
    };
    let groups: Vec<&str> = regex.group_names().collect();
    if let Some((v, l)) = &value {
        if !groups.contains(&v.as_str()) {
            err(errors, *l, format!("value: the regex has no group (?P<{v}>...)"));
        }
    }
    let (labels, labels_line) = match labels {
        Some((l, at)) => (l, at),
        None => {
            let all = groups.iter().filter(|g| value.as_ref().is_none_or(|(v, _)| v != *g));
            (all.map(|g| g.to_string()).collect(), regex_line)
        }
    };
    for l in &labels {
        if !groups.contains(&l.as_str()) {
            err(errors, labels_line, format!("labels: the regex has no group (?P<{l}>...)"));
        } else if !valid_label_name(l) || l == "rule" || l == "le" || l.starts_with("__") {
            err(errors, labels_line, format!("labels: '{l}' cannot be a label name (rule, le and __ names are taken)"));
        }
    }
    if labels.len() > 8 {
        err(errors, labels_line, "labels: at most 8".into());
    }
    if notify && rpath == OWN {
        err(errors, line, format!("notify: not on \"{OWN}\": an event is a line of sonde's own log"));
    }
    let buckets = match (buckets, &value) {
        (Some(b), _) => b,
        (None, Some(_)) => DEFAULT_BUCKETS.to_vec(),
        (None, None) => Vec::new(),
    };
    if !buckets.is_empty() && value.is_none() {
        err(errors, line, "buckets: mean nothing without value".into());
    }
    if buckets.len() > MAX_BUCKETS || buckets.windows(2).any(|w| w[0] >= w[1]) {
        err(errors, line, format!("buckets: at most {MAX_BUCKETS}, each larger than the one before"));
    }
    (errors.len() == before).then(|| Rule {
        name,
        path: rpath,
        regex,
        labels,
        value: value.map(|(v, _)| v),
        buckets,
        notify,
    })
}

fn numbers(v: &Value) -> Result<Vec<f64>, String> {
    let Value::Array(items) = v else {
        return Err(format!("expected an array of numbers, found {}", v.type_name()));
    };
    items
        .iter()
        .map(|i| match i {
            Value::Int(n) => Ok(*n as f64),
            Value::Float(f) if f.is_finite() => Ok(*f),
            other => Err(format!("expected numbers in the array, found {}", other.type_name())),
        })
        .collect()
}

/// What the tables say together: each path in one `[[log]]`, each rule
/// name once, the bounds.
#[inline(never)]
pub fn finish(logs: &[(usize, Log)], rules: &[(usize, Rule)], errors: &mut Vec<Error>) {
    for (i, (line, l)) in logs.iter().enumerate() {
        if logs[..i].iter().any(|(_, o)| o.path == l.path) {
            errors.push(Error {
                line: *line,
                message: format!(
                    "a [[log]] for '{}' already exists: one [[log]] (and one destination) per path",
                    l.path
                ),
            });
        }
    }
    for (i, (line, r)) in rules.iter().enumerate() {
        if rules[..i].iter().any(|(_, o)| o.name == r.name) {
            errors.push(Error { line: *line, message: format!("a [[log_rule]] named '{}' already exists", r.name) });
        }
    }
    let mut paths: Vec<&str> = logs.iter().map(|(_, l)| l.path.as_str()).collect();
    for (_, r) in rules {
        if !paths.contains(&r.path.as_str()) {
            paths.push(&r.path);
        }
    }
    if paths.len() > MAX_LOGS {
        errors.push(Error { line: 0, message: format!("more than {MAX_LOGS} log paths") });
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn the_names_the_issue_fixed() {
        let c = parse(
            "[[log]]\npath = \"/var/log/dnsdist.log\"\nsyslog = \"tcp://logs.example:514\"\nformat = \"rfc5424\"\n\
             facility = \"local0\"\nseverity = \"notice\"\n\n[[log_rule]]\nname = \"fail2ban_ban\"\n\
             path = \"/var/log/fail2ban.log\"\nregex = 'Ban (?P<ip>\\S+)'\n",
        )
        .unwrap();
        let log = &c.logs.logs[0];
        let f = log.forward.as_ref().unwrap();
        assert_eq!((f.protocol, f.host.as_str(), f.port), (Protocol::Tcp, "logs.example", 514));
        assert_eq!((f.facility, f.severity, f.max_message, f.octet_counting), (16, 5, 8192, true));
        let r = &c.logs.rules[0];
        assert_eq!((r.name.as_str(), r.labels.clone()), ("fail2ban_ban", vec!["ip".to_owned()]));
        assert_eq!(c.logs.state_dir, c.state_dir);
    }

    #[test]
    fn errors_have_their_lines() {
        for (text, line, says) in [
            ("[[log]]\npath = \"var/log/x\"\n", 2, "absolute path"),
            ("[[log]]\npath = \"/x\"\nformat = \"rfc3164\"\n", 3, "without syslog"),
            ("[[log]]\npath = \"/x\"\nsyslog = \"http://x\"\n", 3, "udp://, tcp:// or tls://"),
            ("[[log]]\npath = \"/x\"\nsyslog = \"udp://x\"\nframing = \"lf\"\n", 4, "one message per datagram"),
            ("[[log]]\npath = \"/x\"\nsyslog = \"udp://x\"\nfacility = \"local9\"\n", 4, "not one of its names"),
            ("[[log]]\npath = \"/x\"\nsyslog = \"udp://x\"\nmax_message = 100\n", 4, "from 480"),
            ("[[log]]\npath = \"/x\"\nsylog = \"udp://x\"\n", 3, "did you mean 'syslog'"),
            ("[[log]]\npath = \"/x\"\n[[log]]\npath = \"/x\"\n", 3, "already exists"),
            ("[[log]]\npath = \"/x\"\nsyslog = \"udp://x\"\npriority_regex = 'x'\n", 4, "(?P<severity>"),
            ("[[log_rule]]\nname = \"a\"\npath = \"/x\"\nregex = '('\n", 4, "regex:"),
            ("[[log_rule]]\nname = \"a\"\npath = \"/x\"\nregex = 'x'\nvalue = \"v\"\n", 5, "no group"),
            ("[[log_rule]]\nname = \"a\"\npath = \"/x\"\nregex = '(?P<rule>x)'\n", 4, "cannot be a label"),
            ("[[log_rule]]\nname = \"a\"\npath = \"sonde\"\nregex = 'x'\nnotify = true\n", 1, "not on \"sonde\""),
            ("[[log_rule]]\nname = \"a\"\npath = \"/x\"\n", 1, "needs name, path and regex"),
            ("[log]\npath = \"/x\"\n", 1, "write [[log]]"),
        ] {
            let errors = parse(text).unwrap_err();
            assert_eq!(errors[0].line, line, "{text}: {errors:?}");
            assert!(errors[0].message.contains(says), "{text}: {errors:?}");
        }
        if !TLS_BUILT {
            let errors = parse("[[log]]\npath = \"/x\"\nsyslog = \"tls://x\"\n").unwrap_err();
            assert!(errors[0].message.contains("without TLS"), "{errors:?}");
        }
    }

    #[test]
    fn rule_labels_default_to_every_named_group_but_the_value() {
        let c = parse(
            "[[log_rule]]\nname = \"q\"\npath = \"/var/log/dnsdist.log\"\n\
             regex = '(?P<qtype>[A-Z]+) took (?P<ms>[0-9.]+)ms'\nvalue = \"ms\"\n",
        )
        .unwrap();
        let r = &c.logs.rules[0];
        assert_eq!(r.labels, ["qtype"]);
        assert_eq!(r.buckets, DEFAULT_BUCKETS);
        let c = parse("[[log_rule]]\nname = \"q\"\npath = \"/x\"\nregex = '(?P<a>x)'\nlabels = []\n").unwrap();
        assert!(c.logs.rules[0].labels.is_empty());
    }
}
