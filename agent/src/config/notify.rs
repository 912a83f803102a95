//! `[[notify]]` (one output each), `[events]` (what every event says of
//! the box, and when the push pipe and the daemons become events), and the
//! keys of `[[check]]` that are the notifications': `tolerance` and
//! `severity` (see [`crate::notify`]).
//!
//! ```toml
//! [[notify]]
//! kind = "alertmanager"                  # or "mail", "webhook"
//! url = "http://alertmanager.example:9093"
//! ```

use std::time::Duration;

use super::push::{count, path, size, span, string};
use super::{strings, Error, Problem};
use crate::deliver::http::Endpoint;
use crate::deliver::smtp::{Mechanism, Server};
use crate::notify::{
    alertmanager, mail, webhook, CheckRule, Filter, HttpAuth, Kind, Output, Settings, Severity, Window,
};
use crate::sys::net::Listen;
use crate::tls::{TLS_BUILT, WITHOUT_TLS};
use crate::wire::regex::Regex;
use crate::wire::toml::{Entry, Value};

/// Keys every `[[notify]]` takes.
const COMMON: &[&str] =
    &["kind", "url", "name", "severity", "match", "timeout", "memory_cap", "spool_cap", "max_age", "max_backoff"];
/// Keys of the HTTP outputs (alertmanager, webhook).
const HTTP: &[&str] = &["basic_auth_user", "basic_auth_password_file", "bearer_token_file"];
const ALERTMANAGER: &[&str] = &["resend"];
const WEBHOOK: &[&str] = &["format", "username", "channel", "icon_url", "icon_emoji"];
const MAIL: &[&str] =
    &["from", "to", "subject", "message", "reminder", "username", "password_file", "auth", "helo", "starttls"];

/// Every key a `[[notify]]` may have (for suggestions).
pub(super) const KEYS: &[&str] = &[
    "kind",
    "url",
    "name",
    "severity",
    "match",
    "timeout",
    "memory_cap",
    "spool_cap",
    "max_age",
    "max_backoff",
    "basic_auth_user",
    "basic_auth_password_file",
    "bearer_token_file",
    "resend",
    "format",
    "username",
    "channel",
    "icon_url",
    "icon_emoji",
    "from",
    "to",
    "subject",
    "message",
    "reminder",
    "password_file",
    "auth",
    "helo",
    "starttls",
    "ca_file",
    "cert_file",
    "key_file",
    "server_name",
];

/// The keys of `[events]`.
pub(super) const EVENTS_KEYS: &[&str] = &["instance", "status_url", "push_failing_after", "daemon_interval"];

/// The keys of `[[check]]` that are the notifications'.
pub const CHECK_KEYS: &[&str] = &["tolerance", "severity"];

/// One `[[notify]]` table, starting at `line`.
pub(super) fn table(line: usize, entries: &[Entry], errors: &mut Vec<Error>) -> Option<Output> {
    let find = |k: &str| entries.iter().find(|e| e.key == k);
    // Errors said by the closures below, which share them.
    let found = std::cell::RefCell::new(Vec::new());
    let err = |line: usize, m: String| found.borrow_mut().push(Error { line, message: m });
    let Some(kind) = find("kind").map(|e| (e, string(&e.value))) else {
        err(line, "[[notify]] needs kind (\"alertmanager\", \"mail\" or \"webhook\") and url".into());
        {
            errors.extend(found.into_inner());
            return None;
        }
    };
    let kind = match kind {
        (_, Ok(k @ ("alertmanager" | "mail" | "webhook"))) => k,
        (e, Ok(other)) => {
            err(e.line, format!("kind: '{other}' is not alertmanager, mail or webhook"));
            {
                errors.extend(found.into_inner());
                return None;
            }
        }
        (e, Err(Problem::Invalid(m))) => {
            err(e.line, format!("kind: {m}"));
            {
                errors.extend(found.into_inner());
                return None;
            }
        }
        (_, Err(Problem::UnknownKey)) => return None,
    };
    let own: &[&str] = match kind {
        "alertmanager" => ALERTMANAGER,
        "mail" => MAIL,
        _ => WEBHOOK,
    };
    let tls_keys = super::tls::KEYS;
    for e in entries {
        let k = e.key.as_str();
        let http = kind != "mail" && HTTP.contains(&k);
        if !(COMMON.contains(&k) || own.contains(&k) || http || tls_keys.contains(&k)) {
            let why = if KEYS.contains(&k) {
                format!("'{k}' is not a key of a {kind} output")
            } else {
                format!("unknown key '{k}' in [[notify]]")
            };
            err(e.line, why);
        }
    }
    let Some(url) = find("url") else {
        err(line, "[[notify]] needs url".into());
        {
            errors.extend(found.into_inner());
            return None;
        }
    };
    let urls: Vec<String> = match strings(&url.value) {
        Ok(u) if !u.is_empty() && (kind == "mail" || u.len() == 1) => u.iter().map(|s| (*s).to_owned()).collect(),
        Ok(_) => {
            err(url.line, "url: one URL (only mail takes a list of servers)".into());
            {
                errors.extend(found.into_inner());
                return None;
            }
        }
        Err(Problem::Invalid(m)) => {
            err(url.line, format!("url: {m}"));
            {
                errors.extend(found.into_inner());
                return None;
            }
        }
        Err(Problem::UnknownKey) => return None,
    };
    // Each key's value, checked; an error is said with its line and the
    // default stays.
    let val = |k: &str, f: &mut dyn FnMut(&Value) -> Result<(), Problem>| {
        if let Some(e) = find(k) {
            if let Err(Problem::Invalid(m)) = f(&e.value) {
                err(e.line, format!("{k}: {m}"));
            }
        }
    };
    let mut tls = crate::tls::ClientTls::default();
    for k in tls_keys {
        val(k, &mut |v| super::tls::set(&mut tls, k, v));
    }
    let mut auth = HttpAuth::default();
    let mut user = None;
    val("basic_auth_user", &mut |v| string(v).map(|s| auth.basic_auth_user = Some(s.to_owned())));
    val("basic_auth_password_file", &mut |v| path(v).map(|p| auth.basic_auth_password_file = Some(p)));
    val("bearer_token_file", &mut |v| path(v).map(|p| auth.bearer_token_file = Some(p)));
    val("username", &mut |v| string(v).map(|s| user = Some(s.to_owned())));
    let kind_settings = match kind {
        "alertmanager" => {
            let mut resend = Duration::from_secs(60);
            val("resend", &mut |v| span(v, Duration::from_secs(1), Duration::from_secs(3600)).map(|d| resend = d));
            let url = alertmanager_url(&urls[0]);
            if let Err(m) = Endpoint::parse(&url) {
                err(find("url").map_or(line, |e| e.line), format!("url: {m}"));
            }
            auth.tls = tls.clone();
            Kind::Alertmanager(alertmanager::Settings { url, auth: auth.clone(), resend })
        }
        "webhook" => {
            let mut format = webhook::Format::Mattermost;
            val("format", &mut |v| {
                format = match string(v)? {
                    "mattermost" | "slack" => webhook::Format::Mattermost,
                    "ntfy" => webhook::Format::Ntfy,
                    other => return Err(Problem::Invalid(format!("'{other}' is not mattermost, slack or ntfy"))),
                };
                Ok(())
            });
            let opt = |k: &str| {
                let mut out = None;
                val(k, &mut |v| string(v).map(|s| out = Some(s.to_owned())));
                out
            };
            let (channel, icon_url, icon_emoji) = (opt("channel"), opt("icon_url"), opt("icon_emoji"));
            let url_line = find("url").map_or(line, |e| e.line);
            if let Err(m) = Endpoint::parse(&urls[0]) {
                err(url_line, format!("url: {m}"));
            }
            let (url, topic) = match format {
                webhook::Format::Ntfy => match urls[0].rsplit_once('/') {
                    Some((root, topic))
                        if !topic.is_empty()
                            && root.contains("://")
                            && root.split("://").nth(1).is_some_and(|h| !h.is_empty()) =>
                    {
                        (format!("{root}/"), topic.to_owned())
                    }
                    _ => {
                        err(url_line, "url: ntfy's is the topic's URL, https://ntfy.example/TOPIC".into());
                        (urls[0].clone(), String::new())
                    }
                },
                webhook::Format::Mattermost => (urls[0].clone(), String::new()),
            };
            auth.tls = tls.clone();
            Kind::Webhook(webhook::Settings {
                url,
                format,
                topic,
                auth: auth.clone(),
                username: user.clone(),
                channel,
                icon_url,
                icon_emoji,
            })
        }
        _ => {
            let mut starttls = false;
            val("starttls", &mut |v| match v {
                Value::Bool(b) if *b && !TLS_BUILT => Err(Problem::Invalid(WITHOUT_TLS.into())),
                Value::Bool(b) => {
                    starttls = *b;
                    Ok(())
                }
                v => Err(Problem::Invalid(format!("expected true or false, found {}", v.type_name()))),
            });
            let url_line = find("url").map_or(line, |e| e.line);
            let mut servers = Vec::new();
            for u in &urls {
                match Server::parse(u, starttls) {
                    Ok(s) if s.security == crate::deliver::smtp::Security::Tls && !TLS_BUILT => {
                        err(url_line, format!("url: '{u}': {WITHOUT_TLS}"))
                    }
                    Ok(s) => servers.push(s),
                    Err(m) => err(url_line, format!("url: {m}")),
                }
            }
            let mut s = mail::Settings {
                servers,
                from: mail::DEFAULT_FROM.into(),
                to: Vec::new(),
                subject: mail::DEFAULT_SUBJECT.into(),
                message: mail::DEFAULT_MESSAGE.into(),
                reminder: 0,
                username: user.clone(),
                password_file: None,
                mechanism: None,
                helo: None,
                tls: tls.clone(),
            };
            val("from", &mut |v| string(v).map(|f| s.from = f.to_owned()));
            val("to", &mut |v| {
                let to = strings(v)?;
                if let Some(bad) = to.iter().find(|t| !crate::wire::smtp::is_address(t)) {
                    return Err(Problem::Invalid(format!("'{bad}' is not a mail address (local@domain)")));
                }
                s.to = to.iter().map(|t| (*t).to_owned()).collect();
                Ok(())
            });
            val("subject", &mut |v| string(v).map(|t| s.subject = t.to_owned()));
            val("message", &mut |v| strings(v).map(|lines| s.message = lines.join("\n") + "\n"));
            val("reminder", &mut |v| count(v, 0, 10_000).map(|n| s.reminder = n as u32));
            val("password_file", &mut |v| path(v).map(|p| s.password_file = Some(p)));
            val("auth", &mut |v| {
                s.mechanism = Some(match string(v)? {
                    "plain" | "PLAIN" => Mechanism::Plain,
                    "login" | "LOGIN" => Mechanism::Login,
                    other => return Err(Problem::Invalid(format!("'{other}' is not plain or login"))),
                });
                Ok(())
            });
            val("helo", &mut |v| {
                let h = string(v)?;
                if h.is_empty() || !h.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(Problem::Invalid(format!("'{h}' is not a host name")));
                }
                s.helo = Some(h.to_owned());
                Ok(())
            });
            if s.to.is_empty() && find("to").is_none() {
                err(line, "a mail output needs to (the recipients)".into());
            }
            if s.username.is_some() != s.password_file.is_some() {
                err(line, "username and password_file go together".into());
            }
            Kind::Mail(s)
        }
    };
    if kind != "mail" {
        if auth.basic_auth_user.is_some() != auth.basic_auth_password_file.is_some() {
            err(line, "basic_auth_user and basic_auth_password_file go together".into());
        }
        if auth.basic_auth_user.is_some() && auth.bearer_token_file.is_some() {
            err(line, "basic auth and a bearer token exclude each other".into());
        }
        if tls.is_set() && !urls[0].starts_with("https://") {
            err(line, "ca_file, cert_file, key_file and server_name need an https URL".into());
        }
    }
    if let Err(m) = tls.check() {
        err(line, m);
    }
    let mut out = Output::new("", kind_settings);
    val("name", &mut |v| {
        let n = string(v)?;
        if n.is_empty()
            || n.len() > 64
            || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            || n.starts_with('.')
        {
            return Err(Problem::Invalid(format!("'{n}': 1 to 64 of A-Z a-z 0-9 _ . - (it names a directory)")));
        }
        out.name = n.to_owned();
        Ok(())
    });
    let mut filter = Filter::default();
    val("severity", &mut |v| {
        for s in strings(v)? {
            let sev = Severity::parse(s)
                .ok_or_else(|| Problem::Invalid(format!("'{s}' is not critical, warning or info")))?;
            filter.severities.push(sev);
        }
        Ok(())
    });
    val("match", &mut |v| {
        let p = string(v)?;
        filter.matching = Some(Regex::new(&format!("^(?:{p})$")).map_err(Problem::Invalid)?);
        Ok(())
    });
    out.filter = filter;
    val("timeout", &mut |v| span(v, Duration::from_secs(1), Duration::from_secs(600)).map(|d| out.timeout = d));
    val("memory_cap", &mut |v| size(v, 1024, 64 * 1024 * 1024).map(|n| out.memory_cap = n as usize));
    val("spool_cap", &mut |v| size(v, 2 * crate::deliver::spool::SEGMENT_MAX, 1 << 36).map(|n| out.spool_cap = n));
    val("max_backoff", &mut |v| {
        span(v, Duration::from_secs(1), Duration::from_secs(3600)).map(|d| out.max_backoff = d)
    });
    val("max_age", &mut |v| {
        span(v, Duration::from_secs(60), Duration::from_secs(365 * 86_400)).map(|d| out.max_age = d)
    });
    let found = found.into_inner();
    let ok = found.is_empty();
    errors.extend(found);
    ok.then_some(out)
}

/// Alertmanager's alerts endpoint under `url`: `/api/v2/alerts` is added
/// unless the URL ends with it (an Alertmanager behind a prefix keeps it).
fn alertmanager_url(url: &str) -> String {
    if url.trim_end_matches('/').ends_with("/api/v2/alerts") {
        return url.trim_end_matches('/').to_owned();
    }
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let path = url[scheme_end..].find('/').map_or("", |i| &url[scheme_end + i..]);
    let base = if path.is_empty() { url } else { url.trim_end_matches('/') };
    format!("{base}/api/v2/alerts")
}

/// One entry of `[events]`.
pub(super) fn events(s: &mut Settings, e: &Entry) -> Result<(), Problem> {
    let v = &e.value;
    match e.key.as_str() {
        "instance" => {
            let i = string(v)?;
            if i.is_empty() || i.len() > 255 || !i.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Problem::Invalid(format!("'{i}': 1 to 255 printable characters, no space")));
            }
            s.instance = i.to_owned();
        }
        "status_url" => {
            let u = string(v)?;
            let ok = (u.starts_with("http://") || u.starts_with("https://")) && u.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                return Err(Problem::Invalid(format!("'{u}' is not an http:// or https:// URL")));
            }
            s.status_url = Some(u.to_owned());
        }
        "push_failing_after" => {
            s.push_failing_after = span(v, Duration::from_secs(1), Duration::from_secs(7 * 86_400))?
        }
        "daemon_interval" => s.daemon_interval = span(v, Duration::from_secs(1), Duration::from_secs(3600))?,
        _ => return Err(Problem::UnknownKey),
    }
    Ok(())
}

/// The notifications' keys of the `[[check]]` named `name`.
pub(super) fn check_rule(name: &str, entries: &[Entry], errors: &mut Vec<Error>) -> CheckRule {
    let mut rule = CheckRule { name: name.to_owned(), tolerance: Window::default(), severity: Severity::Critical };
    for e in entries.iter().filter(|e| CHECK_KEYS.contains(&e.key.as_str())) {
        let r = match e.key.as_str() {
            "tolerance" => string(&e.value).and_then(|t| {
                rule.tolerance = tolerance(t).ok_or_else(|| {
                    Problem::Invalid(format!(
                        "'{t}': write \"for N cycles\" or \"X times within Y cycles\" (1 ≤ X ≤ Y ≤ 64)"
                    ))
                })?;
                Ok(())
            }),
            "severity" => string(&e.value).and_then(|s| {
                rule.severity = Severity::parse(s)
                    .ok_or_else(|| Problem::Invalid(format!("'{s}' is not critical, warning or info")))?;
                Ok(())
            }),
            _ => Ok(()),
        };
        if let Err(Problem::Invalid(m)) = r {
            errors.push(Error { line: e.line, message: format!("{}: {m}", e.key) });
        }
    }
    rule
}

/// Monit's tolerance words: `for N cycles` (or `N cycles`), `X times
/// within Y cycles`; at most 64 cycles.
pub fn tolerance(s: &str) -> Option<Window> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let w = match words.as_slice() {
        ["for", n, "cycles" | "cycle"] | [n, "cycles" | "cycle"] => {
            let n = n.parse().ok()?;
            Window { times: n, cycles: n }
        }
        [x, "times" | "time", "within", y, "cycles" | "cycle"] => {
            Window { times: x.parse().ok()?, cycles: y.parse().ok()? }
        }
        _ => return None,
    };
    (1 <= w.times && w.times <= w.cycles && w.cycles <= 64).then_some(w)
}

/// What is settled once the whole file is read: the instance (the host's
/// name by default), the outputs' names (their kind by default, numbered
/// when two share one; unique), and each mail output's sender.
pub(super) fn finish(s: &mut Settings, errors: &mut Vec<Error>) {
    if s.instance.is_empty() {
        s.instance = crate::push::hostname();
    }
    let kinds: Vec<&'static str> = s.outputs.iter().map(Output::kind_name).collect();
    for i in 0..s.outputs.len() {
        if s.outputs[i].name.is_empty() {
            let kind = kinds[i];
            let same = kinds.iter().filter(|k| **k == kind).count();
            let nth = kinds[..i].iter().filter(|k| **k == kind).count() + 1;
            s.outputs[i].name = if same == 1 { kind.to_owned() } else { format!("{kind}-{nth}") };
        }
    }
    for i in 0..s.outputs.len() {
        let name = &s.outputs[i].name;
        if s.outputs[..i].iter().any(|o| o.name == *name) {
            errors.push(Error {
                line: 0,
                message: format!("[[notify]]: two outputs are named '{name}'; give each a name"),
            });
        }
        if let Kind::Mail(m) = &s.outputs[i].kind {
            let from = m.from.replace("$HOST", &s.instance);
            if !crate::wire::smtp::is_address(&from) {
                errors.push(Error {
                    line: 0,
                    message: format!("[[notify]] {name}: from: '{from}' is not a mail address (local@domain)"),
                });
            }
        }
    }
}

/// The box's page as Alertmanager's `generatorURL`: where the endpoint
/// listens, by the instance's name on a wildcard address; none when it
/// listens on loopback only (nothing else could follow the link).
pub fn status_url(listen: &[Listen], instance: &str) -> Option<String> {
    listen.iter().find_map(|l| match l {
        Listen::AnyAddress(port) => Some(format!("http://{instance}:{port}/")),
        Listen::Addr(a) if !a.ip().is_loopback() => Some(format!("http://{a}/")),
        Listen::Addr(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn tolerances_in_monit_words() {
        assert_eq!(tolerance("for 3 cycles"), Some(Window { times: 3, cycles: 3 }));
        assert_eq!(tolerance("1 cycle"), Some(Window { times: 1, cycles: 1 }));
        assert_eq!(tolerance("2 times within 5 cycles"), Some(Window { times: 2, cycles: 5 }));
        for bad in ["", "3", "for 0 cycles", "for 65 cycles", "6 times within 5 cycles", "for x cycles"] {
            assert_eq!(tolerance(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_alertmanager_output_and_its_defaults() {
        let c = parse("[[notify]]\nkind = \"alertmanager\"\nurl = \"http://am.example:9093\"\n").unwrap();
        let o = &c.notify.outputs[0];
        assert_eq!(o.name, "alertmanager");
        let Kind::Alertmanager(am) = &o.kind else { panic!("{o:?}") };
        assert_eq!(am.url, "http://am.example:9093/api/v2/alerts");
        assert_eq!(am.resend, Duration::from_secs(60));
        assert!(!c.notify.instance.is_empty(), "the host's name");
        assert_eq!(alertmanager_url("http://x:9093/"), "http://x:9093/api/v2/alerts");
        assert_eq!(alertmanager_url("http://x/am/"), "http://x/am/api/v2/alerts");
        assert_eq!(alertmanager_url("http://x/api/v2/alerts"), "http://x/api/v2/alerts");
    }

    #[test]
    fn outputs_of_one_kind_are_numbered_and_names_unique() {
        let two = "[[notify]]\nkind = \"alertmanager\"\nurl = \"http://a:9093\"\n\
                   [[notify]]\nkind = \"alertmanager\"\nurl = \"http://b:9093\"\n";
        let c = parse(two).unwrap();
        let names: Vec<&str> = c.notify.outputs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["alertmanager-1", "alertmanager-2"]);
        let same = two.replace("url = \"http://b:9093\"", "url = \"http://b:9093\"\nname = \"alertmanager-1\"");
        let errors = parse(&same).unwrap_err();
        assert!(errors[0].message.contains("two outputs are named"), "{errors:?}");
    }

    #[test]
    fn a_mail_output_in_monit_words() {
        let c = parse(
            "[events]\ninstance = \"box1\"\n[[notify]]\nkind = \"mail\"\n\
             url = [\"smtp://mx1.example\", \"smtp://mx2.example:2525\"]\nto = \"ops@example.com\"\n\
             subject = \"$EVENT $SERVICE\"\nmessage = [\"$DESCRIPTION\", \"at $DATE\"]\nreminder = 10\n\
             severity = [\"critical\"]\nmatch = \"web|db\"\n",
        )
        .unwrap();
        let o = &c.notify.outputs[0];
        let Kind::Mail(m) = &o.kind else { panic!() };
        assert_eq!(m.servers.len(), 2);
        assert_eq!(m.servers[1].port, 2525);
        assert_eq!((m.from.as_str(), m.message.as_str(), m.reminder), ("sonde@$HOST", "$DESCRIPTION\nat $DATE\n", 10));
        assert_eq!(o.filter.severities, [Severity::Critical]);
        assert_eq!(c.notify.instance, "box1");
    }

    #[test]
    fn mistakes_are_said_with_their_lines() {
        for (text, line, says) in [
            ("kind = \"pager\"\nurl = \"x\"", 2, "not alertmanager"),
            ("kind = \"mail\"\nurl = \"smtp://x\"\nto = \"nobody\"", 4, "not a mail address"),
            ("kind = \"mail\"\nurl = \"smtp://x\"\nto = \"a@b\"\nresend = \"1m\"", 5, "not a key of a mail output"),
            ("kind = \"webhook\"\nurl = \"http://x/h\"\nsevrity = \"x\"", 4, "unknown key"),
            ("kind = \"webhook\"\nurl = \"ftp://x/h\"", 3, "not an http"),
            ("kind = \"alertmanager\"\nurl = [\"http://a\", \"http://b\"]", 3, "one URL"),
            ("kind = \"alertmanager\"\nurl = \"http://a\"\nseverity = \"bad\"", 4, "not critical"),
            ("kind = \"alertmanager\"\nurl = \"http://a\"\nmatch = \"(\"", 4, "match"),
            ("kind = \"webhook\"\nformat = \"ntfy\"\nurl = \"http://ntfy.example/\"", 4, "topic"),
            ("url = \"http://a\"", 1, "needs kind"),
        ] {
            let errors = parse(&format!("[[notify]]\n{text}\n")).unwrap_err();
            assert_eq!(errors[0].line, line, "{text}: {errors:?}");
            assert!(errors[0].message.contains(says), "{text}: {errors:?}");
        }
        let errors =
            parse("[[check]]\nname = \"a\"\nkind = \"tcp\"\ntarget = \"x:1\"\ntolerance = \"often\"\n").unwrap_err();
        assert_eq!((errors[0].line, errors[0].message.contains("for N cycles")), (5, true), "{errors:?}");
    }

    #[test]
    fn check_rules_and_events() {
        let c = parse(
            "[events]\npush_failing_after = \"5m\"\n[[check]]\nname = \"web\"\nkind = \"tcp\"\ntarget = \"x:80\"\n\
             tolerance = \"for 3 cycles\"\nseverity = \"warning\"\n",
        )
        .unwrap();
        let rule = c.notify.check_rule("web");
        assert_eq!((rule.tolerance, rule.severity), (Window { times: 3, cycles: 3 }, Severity::Warning));
        assert_eq!(c.notify.check_rule("other").tolerance, Window::default());
        assert_eq!(c.notify.push_failing_after, Duration::from_secs(300));
    }

    #[test]
    fn ntfy_takes_its_topic_from_the_url() {
        let c =
            parse("[[notify]]\nkind = \"webhook\"\nformat = \"ntfy\"\nurl = \"http://ntfy.example:8080/box-alerts\"\n")
                .unwrap();
        let Kind::Webhook(w) = &c.notify.outputs[0].kind else { panic!() };
        assert_eq!((w.url.as_str(), w.topic.as_str()), ("http://ntfy.example:8080/", "box-alerts"));
    }

    #[test]
    fn the_status_url_follows_the_listen_address() {
        let any = [Listen::AnyAddress(9858)];
        assert_eq!(status_url(&any, "box1").as_deref(), Some("http://box1:9858/"));
        let lo = [Listen::Addr("127.0.0.1:9858".parse().unwrap())];
        assert_eq!(status_url(&lo, "box1"), None);
        let one = [Listen::Addr("192.0.2.7:9858".parse().unwrap())];
        assert_eq!(status_url(&one, "box1").as_deref(), Some("http://192.0.2.7:9858/"));
    }
}
