//! Notifications: telling a person when something breaks, through
//! Alertmanager, mail or a chat webhook, even from a box that nothing
//! scrapes.
//!
//! An [`Event`] is a state change with labels (`alertname`, `instance`,
//! the subject's own label: `check`, `service`, `daemon`, `receiver` or
//! `rule`, and `severity`) and a text: an alert that starts firing, one
//! that is resolved, or a one-off (a restart) that is neither. Any part of
//! sonde raises one through the [`Hub`] the agent hands it, with one call;
//! the checks and the push pipe report what they see each cycle
//! ([`Hub::check_ran`], [`Hub::push_status`]) and [`sources`] turns that
//! into events after each check's tolerance (`for N cycles`, Monit's); the
//! daemons sonde reads (chronyd, Unbound) are told by every collection
//! ([`Hub::collected`]), and the service has one made when none ran for a
//! while, so a box that nobody scrapes still hears of them.
//!
//! Outputs (`[[notify]]`), each with its own filter by severity and name,
//! several at once: [`alertmanager`] (the alert table re-sent as
//! Prometheus does), [`mail`] (Monit's way: a list of mail servers,
//! `mail-format` variables, a mail at failure, one at recovery, reminders)
//! and [`webhook`] (Mattermost/Slack JSON, or ntfy's).
//!
//! The promise, kept per output by the generic delivery layer
//! ([`crate::deliver`]): every notification raised is delivered, dropped
//! with a counted reason, or still queued (memory first, then the spool
//! under `[paths] state_dir`, which survives a restart and a `--once`
//! run): `raised = delivered + Σ dropped + queued`, in `sonde_notify_*`.
//! What must outlive a run besides (each check's window, the alerts
//! firing, the reminders' clocks) is one state file, written atomically
//! when it changes and at the stop.
//!
//! Invariants: raising never blocks on a receiver (it queues, and each
//! output's own thread sends); an alert is notified once when it starts
//! firing and once when it is resolved (reminders and Alertmanager's
//! re-sends aside), never at every cycle; every text an event carries is
//! UTF-8 (a log line's other bytes read as U+FFFD) of at most
//! [`MAX_TEXT`] bytes, and every body written is bounded ([`MAX_BODY`]).

pub mod alertmanager;
pub mod mail;
pub mod service;
pub mod sources;
pub mod webhook;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::check::{Check, Outcome};
use crate::deliver::{Answer, DropReason, Fate};
use crate::tls::ClientTls;
use crate::wire::regex::Regex;
use crate::wire::state;
pub use service::{once, Notifier, OnceReport};

/// Alerts kept at once (firing, and resolved ones still being re-sent).
pub const MAX_ALERTS: usize = 1024;

/// Longest text an event carries; a longer one is cut at a character.
pub const MAX_TEXT: usize = 4096;

/// Largest request body (an Alertmanager POST, a webhook's JSON); the
/// alert table goes in as many POSTs as it takes.
pub const MAX_BODY: usize = 64 * 1024;

/// A body did not fit [`MAX_BODY`] (never, for what sonde writes: every
/// part of it is bounded; the type says what went wrong if it ever did).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

/// How bad it is: the `severity` label, and what filters choose by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [Severity::Critical, Severity::Warning, Severity::Info].into_iter().find(|v| v.as_str() == s)
    }
}

/// Whether an event starts an alert, ends it, or is a one-off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Firing,
    Resolved,
    /// Said once, with no state to resolve later (a restart done, a log
    /// line matched): to Alertmanager, an alert that ends by itself four
    /// re-send intervals later.
    Once,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Firing => "firing",
            State::Resolved => "resolved",
            State::Once => "once",
        }
    }

    fn parse(s: &str) -> Option<State> {
        [State::Firing, State::Resolved, State::Once].into_iter().find(|v| v.as_str() == s)
    }
}

/// What an event is about; its name is the label of that name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A `[[check]]`.
    Check,
    /// A watched service (the watchdog's).
    Service,
    /// A daemon sonde reads (chronyd, Unbound).
    Daemon,
    /// The push pipe's receiver (`host:port`).
    Receiver,
    /// A log rule.
    Rule,
}

impl Subject {
    /// The label's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Check => "check",
            Subject::Service => "service",
            Subject::Daemon => "daemon",
            Subject::Receiver => "receiver",
            Subject::Rule => "rule",
        }
    }

    fn parse(s: &str) -> Option<Subject> {
        [Subject::Check, Subject::Service, Subject::Daemon, Subject::Receiver, Subject::Rule]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One state change, as raised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The `alertname` label: `CheckFailed`, `ServiceFailed`,
    /// `DaemonDown`, `PushFailing`, ...
    pub alertname: String,
    pub subject: Subject,
    /// The subject's name: the check's, the service's, `chronyd`.
    pub name: String,
    pub severity: Severity,
    pub state: State,
    /// Monit's `$EVENT`: what happened, in a few words ("Check
    /// failed", "Check succeeded").
    pub event: String,
    /// Monit's `$ACTION`: what was done about it (`alert`, `restart`).
    pub action: String,
    /// Monit's `$DESCRIPTION`: the details ("refused on 127.0.0.1:80").
    pub text: String,
    /// When it happened, milliseconds since the epoch.
    pub time_ms: i64,
    /// When the alert started firing (for a resolved one, the firing's
    /// start; else `time_ms`).
    pub starts_ms: i64,
    /// The cycle of its source (a check's interval): reminders count in
    /// it, and Alertmanager's `endsAt` allows four of them.
    pub cycle_ms: u64,
}

impl Event {
    /// An event of `subject` `name`, now, with `text` cut to [`MAX_TEXT`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        alertname: &str,
        subject: Subject,
        name: &str,
        severity: Severity,
        state: State,
        event: &str,
        action: &str,
        text: &str,
        cycle: Duration,
    ) -> Event {
        let now = crate::sys::time::now_ms();
        Event {
            alertname: alertname.to_owned(),
            subject,
            name: name.to_owned(),
            severity,
            state,
            event: event.to_owned(),
            action: action.to_owned(),
            text: cut(text, MAX_TEXT).to_owned(),
            time_ms: now,
            starts_ms: now,
            cycle_ms: cycle.as_millis().min(u128::from(u64::MAX)) as u64,
        }
    }

    /// A log rule fired on `line` (the logs' entry point): a one-off,
    /// `LogRule`, its text the line, whatever bytes it held (what is not
    /// UTF-8 reads as U+FFFD; escaping is each output's).
    pub fn log_line(rule: &str, severity: Severity, file: &str, line: &[u8]) -> Event {
        let line = String::from_utf8_lossy(&line[..line.len().min(MAX_TEXT)]);
        let text = format!("{file}: {line}");
        Event::new("LogRule", Subject::Rule, rule, severity, State::Once, "Log matched", "alert", &text, Duration::ZERO)
    }

    /// What tells one alert from another: its name and its subject.
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.alertname, self.subject.as_str(), self.name)
    }

    /// The alert's labels, sorted by name as Alertmanager shows them.
    pub fn labels<'a>(&'a self, instance: &'a str) -> [(&'static str, &'a str); 4] {
        let mut l = [
            ("alertname", self.alertname.as_str()),
            ("instance", instance),
            (self.subject.as_str(), self.name.as_str()),
            ("severity", self.severity.as_str()),
        ];
        l.sort_unstable_by_key(|(k, _)| *k);
        l
    }

    /// A summary line: "check web: Check failed".
    pub fn summary(&self) -> String {
        format!("{} {}: {}", self.subject.as_str(), self.name, self.event)
    }

    /// The bytes a queue and its spool keep: one record of the state
    /// file's format (escaped, so any text survives).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = state::Writer::new();
        self.record(&mut w, "event");
        w.finish().into_bytes()
    }

    /// An event [`Event::encode`] wrote; None for anything else.
    pub fn decode(bytes: &[u8]) -> Option<Event> {
        let records = state::parse(bytes).ok()?;
        records.first().filter(|r| r.kind == "event").and_then(Event::of_record)
    }

    /// Writes the event as a record of `kind`; more fields may follow.
    pub fn record<'w>(&self, w: &'w mut state::Writer, kind: &str) -> &'w mut state::Writer {
        w.record(kind, &self.alertname)
            .field("subject", self.subject.as_str())
            .field("name", &self.name)
            .field("severity", self.severity.as_str())
            .field("state", self.state.as_str())
            .field("event", &self.event)
            .field("action", &self.action)
            .field("text", &self.text)
            .field("time", &self.time_ms.to_string())
            .field("starts", &self.starts_ms.to_string())
            .field("cycle", &self.cycle_ms.to_string())
    }

    /// The event a record written by [`Event::record`] holds.
    pub fn of_record(r: &state::Record<'_>) -> Option<Event> {
        let get = |k: &str| r.get(k).and_then(state::unescape);
        let num = |k: &str| get(k)?.parse::<i64>().ok();
        Some(Event {
            alertname: state::unescape(r.name)?,
            subject: Subject::parse(&get("subject")?)?,
            name: get("name")?,
            severity: Severity::parse(&get("severity")?)?,
            state: State::parse(&get("state")?)?,
            event: get("event")?,
            action: get("action")?,
            text: get("text")?,
            time_ms: num("time")?,
            starts_ms: num("starts")?,
            cycle_ms: get("cycle")?.parse().ok()?,
        })
    }
}

/// `s` cut to at most `max` bytes, at a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Which events an output takes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `severity = [...]`: only these (empty: every one).
    pub severities: Vec<Severity>,
    /// `match`: only events whose alert name or subject's name this
    /// matches, whole.
    pub matching: Option<Regex>,
}

impl Filter {
    pub fn admits(&self, e: &Event) -> bool {
        let severity = self.severities.is_empty() || self.severities.contains(&e.severity);
        let name = self.matching.as_ref().is_none_or(|re| whole(re, &e.alertname) || whole(re, &e.name));
        severity && name
    }
}

/// Whether `re` matches all of `text` (as Prometheus' label matchers do).
fn whole(re: &Regex, text: &str) -> bool {
    // The configured pattern is anchored when it is compiled (config).
    re.is_match(text)
}

/// A check's tolerance: its state changes when `times` of the last
/// `cycles` runs agree (Monit's `for N cycles` is N of N, `X times within
/// Y cycles` X of Y; at most 64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub times: u32,
    pub cycles: u32,
}

impl Default for Window {
    /// Every failure counts at once.
    fn default() -> Self {
        Window { times: 1, cycles: 1 }
    }
}

/// What notifications need to know about one `[[check]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRule {
    pub name: String,
    /// `tolerance = "for 3 cycles"`.
    pub tolerance: Window,
    /// `severity`, default critical.
    pub severity: Severity,
}

/// The settings of every output and of the events' sources.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `[events] instance`: the `instance` label and Monit's `$HOST`; the
    /// host's name by default.
    pub instance: String,
    /// `[events] status_url`: Alertmanager's `generatorURL`; by default
    /// the endpoint's page when it listens beyond loopback.
    pub status_url: Option<String>,
    /// `[events] push_failing_after`: how long the push pipe may fail
    /// before it is an alert.
    pub push_failing_after: Duration,
    /// `[events] daemon_interval`: chronyd and Unbound (their collectors
    /// on) are looked at by every collection, and at least this often.
    pub daemon_interval: Duration,
    /// `[paths] state_dir`: the spools and the state file go under
    /// `notify/` there.
    pub state_dir: PathBuf,
    /// Every `[[check]]`'s tolerance and severity.
    pub checks: Vec<CheckRule>,
    /// `[[notify]]`, in file order.
    pub outputs: Vec<Output>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            instance: String::new(),
            status_url: None,
            push_failing_after: Duration::from_secs(600),
            daemon_interval: Duration::from_secs(60),
            state_dir: PathBuf::new(),
            checks: Vec::new(),
            outputs: Vec::new(),
        }
    }
}

impl Settings {
    /// The rule of check `name` (the default one for a check the running
    /// settings do not know, added by a reload).
    pub fn check_rule(&self, name: &str) -> CheckRule {
        self.checks.iter().find(|r| r.name == name).cloned().unwrap_or_else(|| CheckRule {
            name: name.to_owned(),
            tolerance: Window::default(),
            severity: Severity::Critical,
        })
    }
}

/// One `[[notify]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// `name`: the `notify` label of its metrics, and its spool's
    /// directory; by default its kind (and its place, when two share one).
    pub name: String,
    pub filter: Filter,
    pub kind: Kind,
    /// Each request's deadline.
    pub timeout: Duration,
    /// Queued notifications held in memory before the spool takes them.
    pub memory_cap: usize,
    /// The spool's cap, in bytes.
    pub spool_cap: u64,
    /// A notification older than this when its turn comes is dropped
    /// (`too_old`) rather than told a day late.
    pub max_age: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Output {
    /// Defaults for an output of `kind`.
    pub fn new(name: &str, kind: Kind) -> Output {
        Output {
            name: name.to_owned(),
            filter: Filter::default(),
            kind,
            timeout: Duration::from_secs(10),
            memory_cap: 256 * 1024,
            spool_cap: 4 * 1024 * 1024,
            max_age: Duration::from_secs(24 * 3600),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(120),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Alertmanager(_) => "alertmanager",
            Kind::Mail(_) => "mail",
            Kind::Webhook(_) => "webhook",
        }
    }
}

/// Where an output sends, with its kind's settings.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Alertmanager(alertmanager::Settings),
    Mail(mail::Settings),
    Webhook(webhook::Settings),
}

/// HTTP credentials from files (read at each request, so a rotated
/// secret is used at once and none sits in the config or argv).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpAuth {
    pub basic_auth_user: Option<String>,
    pub basic_auth_password_file: Option<PathBuf>,
    pub bearer_token_file: Option<PathBuf>,
    pub tls: ClientTls,
}

impl HttpAuth {
    /// The Authorization header, if any.
    pub fn header(&self) -> std::io::Result<Option<(String, String)>> {
        if let (Some(user), Some(file)) = (&self.basic_auth_user, &self.basic_auth_password_file) {
            let password = std::fs::read_to_string(file)?;
            let pair = format!("{user}:{}", password.trim_end_matches(['\n', '\r']));
            return Ok(Some((
                "Authorization".into(),
                format!("Basic {}", crate::wire::base64::encode(pair.as_bytes())),
            )));
        }
        if let Some(file) = &self.bearer_token_file {
            let token = std::fs::read_to_string(file)?;
            return Ok(Some(("Authorization".into(), format!("Bearer {}", token.trim()))));
        }
        Ok(None)
    }
}

/// What a receiver's HTTP answer means for a notification, as for a
/// push: 2xx delivered; 429, 5xx and network errors retried; 401, 403 and
/// 404 kept and retried while the log says, loudly, that the receiver is
/// misconfigured (the operator fixes it; the notification waits); any
/// other 4xx refuses this one notification for good (dropped, counted).
pub(crate) fn http_answer(r: std::io::Result<crate::deliver::http::Response>) -> Answer {
    match r {
        Ok(r) => {
            let (fate, misconfigured) = match r.status {
                200..=299 => (Fate::Delivered, false),
                429 | 500..=599 => (Fate::Retry, false),
                401 | 403 | 404 => (Fate::Retry, true),
                400..=499 => (Fate::Dropped(DropReason::Rejected), false),
                _ => (Fate::Retry, true),
            };
            Answer { fate, retry_after: r.retry_after, status: r.status, said: r.body, misconfigured }
        }
        Err(e) => Answer { fate: Fate::Retry, retry_after: None, status: 0, said: e.to_string(), misconfigured: false },
    }
}

/// What the push pipe says of itself each cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushStatus {
    /// The receiver, `host:port` (never the path, which may hold a key).
    pub receiver: String,
    /// Since when it has been failing (milliseconds since the epoch), or
    /// None when it delivers.
    pub failing_since: Option<i64>,
    /// The last failure, for the text.
    pub why: String,
    /// Its interval.
    pub cycle: Duration,
}

/// Where every part of sonde raises its events: cheap to clone, and a
/// no-op while no notifications are configured. The agent holds one for
/// its whole life; the notifications service attaches to it while it runs.
#[derive(Clone, Default)]
pub struct Hub(Arc<Mutex<Option<Arc<service::Shared>>>>);

impl Hub {
    fn current(&self) -> Option<Arc<service::Shared>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn attach(&self, s: Arc<service::Shared>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(s);
    }

    /// Detaches `s`, if it is the one attached (a newer one may be).
    pub(crate) fn detach(&self, s: &Arc<service::Shared>) {
        let mut cur = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if cur.as_ref().is_some_and(|c| Arc::ptr_eq(c, s)) {
            *cur = None;
        }
    }

    /// Raises a state change (the watchdog's, a log rule's): queued for
    /// every output whose filter takes it.
    pub fn raise(&self, e: Event) {
        if let Some(s) = self.current() {
            s.raise(e);
        }
    }

    /// A check ran: its state changes after its tolerance.
    pub fn check_ran(&self, check: &Check, outcomes: &[Outcome]) {
        if let Some(s) = self.current() {
            s.check_ran(check, outcomes);
        }
    }

    /// A collection ran: what the daemons' collectors found.
    pub fn collected(&self, runs: &[crate::collect::CollectorRun]) {
        if let Some(s) = self.current() {
            s.collected(runs);
        }
    }

    /// The push pipe's state, each cycle.
    pub fn push_status(&self, status: PushStatus) {
        if let Some(s) = self.current() {
            s.push_status(status);
        }
    }

    /// For the checks service: a function to call after each run.
    pub fn check_observer(&self) -> crate::check::schedule::Observer {
        let hub = self.clone();
        Arc::new(move |check, outcomes| hub.check_ran(check, outcomes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn event(state: State, text: &str) -> Event {
        Event::new(
            "CheckFailed",
            Subject::Check,
            "web",
            Severity::Critical,
            state,
            "Check failed",
            "alert",
            text,
            Duration::from_secs(60),
        )
    }

    #[test]
    fn events_survive_their_encoding_whatever_their_text() {
        let hostile = "quote \" back\\slash\nnew line\ttab \u{fffd} = % end";
        let e = event(State::Firing, hostile);
        assert_eq!(Event::decode(&e.encode()), Some(e.clone()));
        let mut r = e.clone();
        r.state = State::Resolved;
        r.starts_ms -= 5000;
        assert_eq!(Event::decode(&r.encode()), Some(r));
        assert_eq!(Event::decode(b"sonde-state 1\nend 0\n"), None);
        assert_eq!(Event::decode(b"garbage"), None);
    }

    /// See: non-UTF-8 from a log line reaches every output as text.
    #[test]
    fn a_log_line_of_any_bytes_is_an_event_that_survives_its_queue() {
        let e =
            Event::log_line("sshd_fail", Severity::Warning, "/var/log/auth.log", b"Failed for \"r\xfcot\"\n\x00\xff");
        assert_eq!(e.text, "/var/log/auth.log: Failed for \"r\u{fffd}ot\"\n\u{0}\u{fffd}");
        assert_eq!((e.alertname.as_str(), e.subject, e.state), ("LogRule", Subject::Rule, State::Once));
        assert_eq!(Event::decode(&e.encode()), Some(e.clone()));
        let mut body = vec![0; MAX_BODY];
        let s = webhook::Settings {
            url: String::new(),
            format: webhook::Format::Mattermost,
            topic: String::new(),
            auth: HttpAuth::default(),
            username: None,
            channel: None,
            icon_url: None,
            icon_emoji: None,
        };
        let n = webhook::encode(&s, &e, "box1", &mut body).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body[..n]).unwrap();
        assert_eq!(v["attachments"][0]["text"], e.text.as_str());
    }

    #[test]
    fn credentials_come_from_files_at_each_request() {
        let dir = std::env::temp_dir().join(format!("sonde-notify-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (pw, token) = (dir.join("pw"), dir.join("token"));
        std::fs::write(&pw, "pass\n").unwrap();
        std::fs::write(&token, " tok \n").unwrap();
        let basic = HttpAuth {
            basic_auth_user: Some("user".into()),
            basic_auth_password_file: Some(pw.clone()),
            ..HttpAuth::default()
        };
        assert_eq!(basic.header().unwrap(), Some(("Authorization".into(), "Basic dXNlcjpwYXNz".into())));
        std::fs::write(&pw, "rotated").unwrap();
        assert_eq!(
            basic.header().unwrap().unwrap().1,
            format!("Basic {}", crate::wire::base64::encode(b"user:rotated"))
        );
        let bearer = HttpAuth { bearer_token_file: Some(token), ..HttpAuth::default() };
        assert_eq!(bearer.header().unwrap().unwrap().1, "Bearer tok");
        assert_eq!(HttpAuth::default().header().unwrap(), None);
        std::fs::remove_file(&pw).unwrap();
        assert!(basic.header().is_err(), "a missing file is an error, never an empty password");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn texts_are_cut_at_a_character() {
        let long = "\u{e9}".repeat(MAX_TEXT);
        let e = event(State::Firing, &long);
        assert!(e.text.len() <= MAX_TEXT && e.text.len() >= MAX_TEXT - 1);
        assert_eq!(cut("abc", 2), "ab");
        assert_eq!(cut("\u{e9}", 1), "");
    }

    #[test]
    fn labels_are_sorted_and_carry_the_subject() {
        let e = event(State::Firing, "x");
        let l = e.labels("box1");
        assert_eq!(l, [("alertname", "CheckFailed"), ("check", "web"), ("instance", "box1"), ("severity", "critical")]);
    }

    #[test]
    fn filters_choose_by_severity_and_whole_names() {
        let e = event(State::Firing, "x");
        assert!(Filter::default().admits(&e));
        let warn_only = Filter { severities: vec![Severity::Warning], matching: None };
        assert!(!warn_only.admits(&e));
        let by_name =
            |p: &str| Filter { severities: vec![], matching: Some(Regex::new(&format!("^(?:{p})$")).unwrap()) };
        assert!(by_name("web").admits(&e));
        assert!(by_name("CheckFailed").admits(&e));
        assert!(!by_name("we").admits(&e), "whole names only");
        assert!(by_name("db|web").admits(&e));
    }
}
