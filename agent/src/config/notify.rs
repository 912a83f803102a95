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
// Not inlined: config::parse would hold a copy of it (2 KiB on x86_64).
#[inline(never)]
pub(super) fn table(line: usize, entries: &[Entry], errors: &mut Vec<Error>) -> Option<Output> {
    let before = errors.len();
    let find = |k: &str| entries.iter().find(|e| e.key == k);
    let kind = match find("kind").map(|e| (e.line, string(&e.value))) {
        Some((_, Ok(k @ ("alertmanager" | "mail" | "webhook")))) => k,
        Some((l, Ok(other))) => {
            errors.push(Error { line: l, message: format!("kind: '{other}' is not alertmanager, mail or webhook") });
            return None;
        }
        Some((l, Err(p))) => {
            problem(errors, l, "kind", p);
            return None;
        }
        None => {
            errors.push(Error {
                line,
                message: "[[notify]] needs kind (\"alertmanager\", \"mail\" or \"webhook\") and url".into(),
            });
            return None;
        }
    };
    let url_line = find("url").map_or(line, |e| e.line);
    let mut d = Draft::default();
    for e in entries {
        let k = e.key.as_str();
        let own: &[&str] = match kind {
            "alertmanager" => ALERTMANAGER,
            "mail" => MAIL,
            _ => WEBHOOK,
        };
        let http = kind != "mail" && HTTP.contains(&k);
        if !(COMMON.contains(&k) || own.contains(&k) || http || super::tls::KEYS.contains(&k)) {
            let message = match KEYS.contains(&k) {
                true => format!("'{k}' is not a key of a {kind} output"),
                false => format!("unknown key '{k}' in [[notify]]"),
            };
            errors.push(Error { line: e.line, message });
            continue;
        }
        if let Err(p) = d.set(kind, e) {
            problem(errors, e.line, k, p);
        }
    }
    if d.urls.is_empty() {
        if find("url").is_none() {
            errors.push(Error { line, message: "[[notify]] needs url".into() });
        }
        return None;
    }
    let mut err = |line: usize, message: String| errors.push(Error { line, message });
    let url = d.urls[0].clone();
    let mut auth = HttpAuth { tls: d.tls.clone(), ..HttpAuth::default() };
    auth.basic_auth_user = d.basic_user.take();
    auth.basic_auth_password_file = d.basic_password.take();
    auth.bearer_token_file = d.bearer.take();
    if kind != "mail" {
        if let Err(m) = Endpoint::parse(&url) {
            err(url_line, format!("url: {m}"));
        }
        if auth.basic_auth_user.is_some() != auth.basic_auth_password_file.is_some() {
            err(line, "basic_auth_user and basic_auth_password_file go together".into());
        }
        if auth.basic_auth_user.is_some() && auth.bearer_token_file.is_some() {
            err(line, "basic auth and a bearer token exclude each other".into());
        }
        if d.tls.is_set() && !url.starts_with("https://") {
            err(line, "ca_file, cert_file, key_file and server_name need an https URL".into());
        }
    }
    if let Err(m) = d.tls.check() {
        err(line, m);
    }
    let kind_settings = match kind {
        "alertmanager" => Kind::Alertmanager(alertmanager::Settings {
            url: alertmanager_url(&url),
            auth,
            resend: d.resend.unwrap_or(Duration::from_secs(60)),
        }),
        "webhook" => {
            let (url, topic) = match d.format {
                webhook::Format::Mattermost => (url, String::new()),
                webhook::Format::Ntfy => match url.rsplit_once('/') {
                    Some((root, topic))
                        if !topic.is_empty() && root.split("://").nth(1).is_some_and(|h| !h.is_empty()) =>
                    {
                        (format!("{root}/"), topic.to_owned())
                    }
                    _ => {
                        err(url_line, "url: ntfy's is the topic's URL, https://ntfy.example/TOPIC".into());
                        (url, String::new())
                    }
                },
            };
            Kind::Webhook(webhook::Settings {
                url,
                format: d.format,
                topic,
                auth,
                username: d.username,
                channel: d.channel,
                icon_url: d.icon_url,
                icon_emoji: d.icon_emoji,
            })
        }
        _ => {
            let mut servers = Vec::new();
            for u in &d.urls {
                match Server::parse(u, d.starttls) {
                    Ok(s) if s.security == crate::deliver::smtp::Security::Tls && !TLS_BUILT => {
                        err(url_line, format!("url: '{u}': {WITHOUT_TLS}"))
                    }
                    Ok(s) => servers.push(s),
                    Err(m) => err(url_line, format!("url: {m}")),
                }
            }
            if d.to.is_empty() && find("to").is_none() {
                err(line, "a mail output needs to (the recipients)".into());
            }
            if d.username.is_some() != d.password_file.is_some() {
                err(line, "username and password_file go together".into());
            }
            Kind::Mail(mail::Settings {
                servers,
                from: d.from.unwrap_or_else(|| mail::DEFAULT_FROM.into()),
                to: d.to,
                subject: d.subject.unwrap_or_else(|| mail::DEFAULT_SUBJECT.into()),
                message: d.message.unwrap_or_else(|| mail::DEFAULT_MESSAGE.into()),
                reminder: d.reminder,
                username: d.username,
                password_file: d.password_file,
                mechanism: d.mechanism,
                helo: d.helo,
                tls: d.tls,
            })
        }
    };
    let mut out = Output::new(&d.name, kind_settings);
    out.filter = d.filter;
    out.timeout = d.timeout.unwrap_or(out.timeout);
    out.memory_cap = d.memory_cap.unwrap_or(out.memory_cap);
    out.spool_cap = d.spool_cap.unwrap_or(out.spool_cap);
    out.max_age = d.max_age.unwrap_or(out.max_age);
    out.max_backoff = d.max_backoff.unwrap_or(out.max_backoff);
    (errors.len() == before).then_some(out)
}

/// A key's error, said with its name.
fn problem(errors: &mut Vec<Error>, line: usize, key: &str, p: Problem) {
    if let Problem::Invalid(m) = p {
        errors.push(Error { line, message: format!("{key}: {m}") });
    }
}

/// Every key a `[[notify]]` table may give, as given.
#[derive(Default)]
struct Draft {
    urls: Vec<String>,
    name: String,
    filter: Filter,
    timeout: Option<Duration>,
    memory_cap: Option<usize>,
    spool_cap: Option<u64>,
    max_age: Option<Duration>,
    max_backoff: Option<Duration>,
    basic_user: Option<String>,
    basic_password: Option<std::path::PathBuf>,
    bearer: Option<std::path::PathBuf>,
    tls: crate::tls::ClientTls,
    resend: Option<Duration>,
    format: webhook::Format,
    username: Option<String>,
    channel: Option<String>,
    icon_url: Option<String>,
    icon_emoji: Option<String>,
    from: Option<String>,
    to: Vec<String>,
    subject: Option<String>,
    message: Option<String>,
    reminder: u32,
    password_file: Option<std::path::PathBuf>,
    mechanism: Option<Mechanism>,
    helo: Option<String>,
    starttls: bool,
}

impl Draft {
    /// Takes one entry of an output of `kind` (its key is one `kind` has).
    #[inline(never)]
    fn set(&mut self, kind: &str, e: &Entry) -> Result<(), Problem> {
        let v = &e.value;
        let text = || string(v).map(str::to_owned);
        match e.key.as_str() {
            "kind" => {}
            "url" => {
                let urls = strings(v)?;
                if urls.is_empty() || (kind != "mail" && urls.len() > 1) {
                    return Err(Problem::Invalid("one URL (only mail takes a list of servers)".into()));
                }
                self.urls = urls.iter().map(|u| (*u).to_owned()).collect();
            }
            "name" => {
                let n = string(v)?;
                let ok = !n.is_empty() && n.len() <= 64 && !n.starts_with('.');
                if !ok || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) {
                    return Err(Problem::Invalid(format!(
                        "'{n}': 1 to 64 of A-Z a-z 0-9 _ . - (it names a directory)"
                    )));
                }
                self.name = n.to_owned();
            }
            "severity" => {
                for s in strings(v)? {
                    let sev = Severity::parse(s)
                        .ok_or_else(|| Problem::Invalid(format!("'{s}' is not critical, warning or info")))?;
                    self.filter.severities.push(sev);
                }
            }
            "match" => {
                self.filter.matching = Some(Regex::new(&format!("^(?:{})$", string(v)?)).map_err(Problem::Invalid)?)
            }
            "timeout" => self.timeout = Some(span(v, Duration::from_secs(1), Duration::from_secs(600))?),
            "memory_cap" => self.memory_cap = Some(size(v, 1024, 64 * 1024 * 1024)? as usize),
            "spool_cap" => self.spool_cap = Some(size(v, 2 * crate::deliver::spool::SEGMENT_MAX, 1 << 36)?),
            "max_age" => self.max_age = Some(span(v, Duration::from_secs(60), Duration::from_secs(365 * 86_400))?),
            "max_backoff" => self.max_backoff = Some(span(v, Duration::from_secs(1), Duration::from_secs(3600))?),
            "basic_auth_user" => self.basic_user = Some(text()?),
            "basic_auth_password_file" => self.basic_password = Some(path(v)?),
            "bearer_token_file" => self.bearer = Some(path(v)?),
            "resend" => self.resend = Some(span(v, Duration::from_secs(1), Duration::from_secs(3600))?),
            "format" => {
                self.format = match string(v)? {
                    "mattermost" | "slack" => webhook::Format::Mattermost,
                    "ntfy" => webhook::Format::Ntfy,
                    other => return Err(Problem::Invalid(format!("'{other}' is not mattermost, slack or ntfy"))),
                }
            }
            "username" => self.username = Some(text()?),
            "channel" => self.channel = Some(text()?),
            "icon_url" => self.icon_url = Some(text()?),
            "icon_emoji" => self.icon_emoji = Some(text()?),
            "from" => self.from = Some(text()?),
            "to" => {
                let to = strings(v)?;
                if let Some(bad) = to.iter().find(|t| !crate::wire::smtp::is_address(t)) {
                    return Err(Problem::Invalid(format!("'{bad}' is not a mail address (local@domain)")));
                }
                self.to = to.iter().map(|t| (*t).to_owned()).collect();
            }
            "subject" => self.subject = Some(text()?),
            "message" => self.message = Some(strings(v)?.join("\n") + "\n"),
            "reminder" => self.reminder = count(v, 0, 10_000)? as u32,
            "password_file" => self.password_file = Some(path(v)?),
            "auth" => {
                self.mechanism = Some(match string(v)? {
                    "plain" | "PLAIN" => Mechanism::Plain,
                    "login" | "LOGIN" => Mechanism::Login,
                    other => return Err(Problem::Invalid(format!("'{other}' is not plain or login"))),
                })
            }
            "helo" => {
                let h = string(v)?;
                if h.is_empty() || !h.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(Problem::Invalid(format!("'{h}' is not a host name")));
                }
                self.helo = Some(h.to_owned());
            }
            "starttls" => match v {
                Value::Bool(true) if !TLS_BUILT => return Err(Problem::Invalid(WITHOUT_TLS.into())),
                Value::Bool(b) => self.starttls = *b,
                v => return Err(Problem::Invalid(format!("expected true or false, found {}", v.type_name()))),
            },
            k => super::tls::set(&mut self.tls, k, v)?,
        }
        Ok(())
    }
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
#[inline(never)]
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
#[inline(never)]
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
