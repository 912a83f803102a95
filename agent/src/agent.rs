//! The running agent: the config in force, the services it runs, and the
//! scrape assembler that turns all of it into one exposition.
//!
//! A scrape (and a push cycle, which is a scrape) is assembled in one
//! order: the collectors, then sonde's own families (build info, each
//! collector's duration and success, what was left out), then each
//! running service's snapshot, in [`SERVICES`]'s order. The collectors
//! know nothing of the services, and the services nothing of each other or
//! of HTTP.
//!
//! A service is registered once, in [`SERVICES`]: how it starts from the
//! config, which part of the config it follows, and whether a change to
//! that part restarts it on SIGHUP or waits for the next start. Adding a
//! subsystem is adding its line there. The endpoint (`serve`) drives the
//! agent: it calls [`Agent::scrape`] for `/metrics`, [`Agent::reload`] on
//! SIGHUP and [`Agent::stop`] at the end; `--once` is [`once`].
//!
//! Invariants: scrapes are serialised on the one assembler, so the
//! collectors' buffers are reused and never shared; a service is started
//! before it is listed and stopped after it is unlisted, so no scrape
//! renders a service that is not running; a reload that fails to start a
//! new service keeps the old one running.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::check;
use crate::collect::{self, CollectorRun};
use crate::config::Config;
use crate::expo::{Exposition, MetricType};
use crate::limits::{MAX_EXPOSITION, SELF_RESERVE};
use crate::logs;
use crate::notify;
use crate::push;
use crate::service::Service;
use crate::sys::log;
use crate::watch;

/// How a reload treats a service whose settings changed.
#[derive(Clone, Copy)]
enum OnChange {
    /// Start one with the new settings, then stop the old one.
    Restart,
    /// Keep the running one, and say that the change waits for the next
    /// start (a queue, a spool and a request in flight are not moved
    /// between settings).
    NextStart(&'static str),
    /// Stop the running one, then start one with the new settings (the old
    /// settings again if that fails): for a service that owns files two
    /// instances must not share (log positions).
    Replace,
}

/// Starts a service from the config; None when the config asks for none.
type Start = fn(&Config, &Arc<Agent>) -> Result<Option<Box<dyn Service>>, String>;

/// One kind of service: how it starts, and what in the config it follows.
struct Registration {
    name: &'static str,
    start: Start,
    /// Whether its settings differ between two configs.
    changed: fn(&Config, &Config) -> bool,
    on_change: OnChange,
    /// A failure to start stops sonde (at start; a reload keeps the old).
    required: bool,
    /// How long its stop may take at the end (a replaced one is only
    /// signalled).
    grace: Duration,
}

/// Every service, in the order they start and render; they stop in the
/// reverse order.
const SERVICES: &[Registration] = &[
    // First, so every other service's events have somewhere to go from
    // their start, and last to stop, so their last events are kept.
    Registration {
        name: "notify",
        start: |c, agent| {
            // Weak: the agent holds this service, which must not hold the
            // agent alive past its stop.
            let weak = Arc::downgrade(agent);
            let collect = Arc::new(move || {
                if let Some(agent) = weak.upgrade() {
                    agent.scrape();
                }
            });
            let service = notify::Notifier::start(notify_settings(c), &agent.hub, collect)?;
            Ok(service.map(|n| Box::new(n) as Box<dyn Service>))
        },
        changed: |old, new| old.notify != new.notify,
        // Its spools and state file are the running one's until it stops.
        on_change: OnChange::Replace,
        required: true,
        // For the receivers to take what is queued before it is spooled.
        grace: Duration::from_secs(3),
    },
    Registration {
        name: "checks",
        start: |c, agent| {
            let observer = Some(agent.hub.check_observer());
            Ok(Some(Box::new(check::Scheduler::start_observed(c.checks.clone(), observer).map_err(|e| e.to_string())?)))
        },
        changed: |old, new| old.checks != new.checks,
        on_change: OnChange::Restart,
        required: false,
        // A check in progress has nothing to keep.
        grace: Duration::ZERO,
    },
    Registration {
        name: "push",
        start: |c, agent| {
            let Some(settings) = &c.push else { return Ok(None) };
            let hub = agent.hub.clone();
            let (receiver, cycle) = (receiver(&settings.url), settings.interval);
            let status = Arc::new(move |failing: bool, last: u16| {
                hub.push_status(push_status(&receiver, cycle, failing, last));
            });
            let agent = Arc::clone(agent);
            let pipeline = push::Pipeline::start(settings.clone(), Arc::new(move || agent.scrape()), Some(status))?;
            Ok(Some(Box::new(pipeline)))
        },
        changed: |old, new| old.push != new.push,
        on_change: OnChange::NextStart("[push] changed; that takes effect at the next start"),
        required: true,
        // For the receiver to take what is queued before it is spooled.
        grace: Duration::from_secs(5),
    },
    Registration {
        name: "watch",
        start: |c, agent| {
            let hub = agent.hub.clone();
            watch::set_sink(Arc::new(move |e| hub.raise(e)));
            let w = (!c.watch.is_empty()).then(|| watch::Watchdog::start(c.watch.clone(), c.state_dir.clone()));
            Ok(w.transpose().map_err(|e| e.to_string())?.map(|w| Box::new(w) as Box<dyn Service>))
        },
        changed: |old, new| old.watch != new.watch || old.state_dir != new.state_dir,
        on_change: OnChange::Restart,
        required: false,
        // For the state file to be written and the program checks' runs
        // ended (SIGTERM, SIGKILL after KILL_GRACE); a service's program in
        // progress runs on.
        grace: Duration::from_secs(3),
    },
    Registration {
        name: "logs",
        start: |c, agent| match c.logs.is_empty() {
            true => Ok(None),
            false => Ok(Some(Box::new(logs::Logs::start(&c.logs, log_events(agent.hub.clone()))?))),
        },
        changed: |old, new| old.logs != new.logs,
        on_change: OnChange::Replace,
        required: true,
        // For the receivers to take what is read; the rest stays in the
        // spool or, unread as far as the positions say, in the files.
        grace: Duration::from_secs(5),
    },
];

/// Where the log rules' events go: to the notifications, as `LogRule`,
/// and to sonde's log.
fn log_events(hub: notify::Hub) -> logs::rules::EventSink {
    Arc::new(move |e: logs::rules::Event| {
        hub.raise(log_rule_event(&e));
        logs::rules::log_event(e);
    })
}

fn log_rule_event(e: &logs::rules::Event) -> notify::Event {
    notify::Event::log_line(&e.rule, notify::Severity::Warning, &e.file, e.line.as_bytes())
}

/// The notifications' settings, with the status page's URL found from
/// where the endpoint listens when `[events] status_url` does not say.
fn notify_settings(c: &Config) -> notify::Settings {
    let mut s = c.notify.clone();
    if s.status_url.is_none() {
        s.status_url = crate::config::status_url(&c.listen, &s.instance);
    }
    s
}

/// A push URL's `host:port`, as the `receiver` label (its path may hold
/// a key, so it is left out).
fn receiver(url: &str) -> String {
    match crate::deliver::http::Endpoint::parse(url) {
        Ok(e) if e.host.contains(':') => format!("[{}]:{}", e.host, e.port),
        Ok(e) => format!("{}:{}", e.host, e.port),
        Err(_) => url.to_owned(),
    }
}

fn push_status(receiver: &str, cycle: Duration, failing: bool, last: u16) -> notify::PushStatus {
    notify::PushStatus {
        receiver: receiver.to_owned(),
        failing_since: failing.then(crate::sys::time::now_ms),
        why: if last == 0 { "a network error".into() } else { format!("the receiver answered {last}") },
        cycle,
    }
}

/// The exposition under construction, and the collectors' state.
struct Assembler {
    out: Exposition,
    scraper: collect::Scraper,
    runs: Vec<CollectorRun>,
}

impl Assembler {
    fn new() -> Assembler {
        Assembler { out: Exposition::new(MAX_EXPOSITION), scraper: collect::Scraper::new(), runs: Vec::new() }
    }

    /// The collectors, sonde's own families, then each service's.
    /// `denied`: the endpoint's refusals so far, by [`Denied`] (none in
    /// once mode).
    fn assemble(&mut self, config: &Config, services: &[&dyn Service], denied: Option<[u64; 3]>, log: bool) -> &[u8] {
        self.out.clear();
        self.out.set_limit(MAX_EXPOSITION - SELF_RESERVE);
        self.scraper.collect(&config.collect, &mut self.out, &mut self.runs, log);
        // The agent's own families always fit: they have the reserve.
        self.out.set_limit(MAX_EXPOSITION);
        self.out.mark();
        self.out.family(
            "sonde_build_info",
            "A metric with a constant '1' value labeled by version and target.",
            MetricType::Gauge,
        );
        self.out.sample(&[("target", env!("SONDE_TARGET")), ("version", env!("CARGO_PKG_VERSION"))], 1.0);
        self.scraper.render(&self.runs, &mut self.out);
        if let Some(counts) = denied {
            self.out.family(
                "sonde_http_requests_denied_total",
                "sonde: Requests the endpoint refused at its gate: not in [server] allow, over web-config.yml's \
rate_limit, or without valid basic auth credentials.",
                MetricType::Counter,
            );
            for (reason, n) in Denied::REASONS.iter().zip(counts) {
                self.out.sample(&[("reason", reason)], n as f64);
            }
        }
        for s in services {
            s.render(&mut self.out);
        }
        self.out.as_bytes()
    }
}

/// Why the endpoint refused a request (its gate, `serve::auth`).
#[derive(Clone, Copy, Debug)]
pub enum Denied {
    /// The peer is not in `[server] allow` (closed at accept).
    NotAllowed = 0,
    /// Over web-config.yml's `rate_limit` (429).
    RateLimited = 1,
    /// No valid basic auth credentials (401).
    Unauthorized = 2,
}

impl Denied {
    /// The `reason` label of each, in order.
    const REASONS: [&'static str; 3] = ["not_allowed", "rate_limited", "unauthorized"];
}

/// The running agent (daemon mode), shared by the endpoint and the
/// services' threads.
pub struct Agent {
    config: Mutex<Arc<Config>>,
    /// The running services, each at its registration's place in
    /// [`SERVICES`].
    services: Mutex<Vec<Option<Box<dyn Service>>>>,
    assembler: Mutex<Assembler>,
    /// Where every service raises its events; the notifications service
    /// attaches to it while it runs.
    hub: notify::Hub,
    /// Requests refused at the endpoint's gate, by [`Denied`]: failed
    /// logins and scans show in the metrics, not only in the log. (A
    /// mutex: 32-bit MIPS has no 64-bit atomics.)
    denied: Mutex<[u64; 3]>,
}

impl Agent {
    /// Starts every service the config asks for. Err: a required one could
    /// not start (the others are stopped again).
    pub fn start(config: Config) -> Result<Arc<Agent>, String> {
        let agent = Arc::new(Agent {
            config: Mutex::new(Arc::new(config)),
            services: Mutex::new(SERVICES.iter().map(|_| None).collect()),
            assembler: Mutex::new(Assembler::new()),
            hub: notify::Hub::default(),
            denied: Default::default(),
        });
        let config = agent.config();
        for (i, r) in SERVICES.iter().enumerate() {
            match (r.start)(&config, &agent) {
                Ok(service) => lock(&agent.services)[i] = service,
                Err(e) if r.required => {
                    agent.stop();
                    return Err(format!("{}: {e}", r.name));
                }
                Err(e) => log::error!("{}: cannot start: {e}", r.name),
            }
        }
        Ok(agent)
    }

    /// Where a part of sonde raises an event: one call, from any thread.
    pub fn hub(&self) -> &notify::Hub {
        &self.hub
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        Arc::clone(&lock(&self.config))
    }

    /// One collection cycle: the exposition, as a scrape serves it. The
    /// copy is made under the assembler's lock, so a slow reader never
    /// holds up the next scrape.
    pub fn scrape(&self) -> Vec<u8> {
        let config = self.config();
        let mut assembler = lock(&self.assembler);
        let bytes = {
            let services = lock(&self.services);
            let list: Vec<&dyn Service> = services.iter().flatten().map(|s| s.as_ref()).collect();
            let denied = *lock(&self.denied);
            assembler.assemble(&config, &list, Some(denied), true).to_vec()
        };
        // Outside the services' lock: the notifications render under it.
        self.hub.collected(&assembler.runs);
        bytes
    }

    /// Counts a request the endpoint refused.
    pub fn denied(&self, why: Denied) {
        lock(&self.denied)[why as usize] += 1;
    }

    /// Takes a new config: each service whose settings changed is
    /// restarted, or told to wait for the next start; then the new config
    /// is in force.
    pub fn reload(self: &Arc<Self>, new: Config) {
        let old = self.config();
        let mut retired = Vec::new();
        for (i, r) in SERVICES.iter().enumerate() {
            if !(r.changed)(&old, &new) {
                if let Some(s) = &lock(&self.services)[i] {
                    s.reloaded();
                }
                continue;
            }
            match r.on_change {
                OnChange::NextStart(why) => log::warn!("SIGHUP: {why}"),
                OnChange::Restart => match (r.start)(&new, self) {
                    Ok(started) => retired.extend(std::mem::replace(&mut lock(&self.services)[i], started)),
                    Err(e) => log::error!("SIGHUP: {}: cannot start: {e}; the running one stays", r.name),
                },
                OnChange::Replace => {
                    let running = lock(&self.services)[i].take();
                    if let Some(s) = running {
                        s.stop(Duration::ZERO);
                    }
                    let started = (r.start)(&new, self).or_else(|e| {
                        log::error!("SIGHUP: {}: cannot start: {e}; started again as it was", r.name);
                        (r.start)(&old, self)
                    });
                    match started {
                        Ok(s) => lock(&self.services)[i] = s,
                        Err(e) => log::error!("SIGHUP: {}: cannot start again: {e}", r.name),
                    }
                }
            }
        }
        *lock(&self.config) = Arc::new(new);
        // Stopped once unlisted, outside the lock, so scrapes go on.
        for service in retired {
            service.stop(Duration::ZERO);
        }
    }

    /// Stops every service, the last started first, each within its
    /// grace.
    pub fn stop(&self) {
        let services = std::mem::take(&mut *lock(&self.services));
        for (service, r) in services.into_iter().zip(SERVICES).rev() {
            if let Some(s) = service {
                s.stop(r.grace);
            }
        }
    }
}

/// What `--once` did, for its exit code.
pub struct OnceRun {
    /// The exposition, unless it was pushed.
    pub exposition: Option<Vec<u8>>,
    /// A collector or a check failed, or not everything pushed was
    /// delivered (each said on stderr).
    pub failed: bool,
}

/// `--once`: one cycle, now. The checks run first, so the exposition has
/// their outcomes; then the collectors; then, with push, the exposition
/// is spooled and sent instead of returned. The watchdog runs one cycle
/// over its state file. Err: push could not start.
pub fn once(config: &Config) -> Result<OnceRun, String> {
    let checks = check::run_all(&config.checks);
    let checks_failed = check::report_failures(&checks);
    let ran = Ran(checks);
    // The watchdog's cycle: its events are said as they happen, and told
    // with the rest below.
    let watch_events: Arc<Mutex<Vec<notify::Event>>> = Arc::default();
    let keep = Arc::clone(&watch_events);
    watch::set_sink(Arc::new(move |e| lock(&keep).push(e)));
    let watched = (!config.watch.is_empty()).then(|| Watched(watch::once(&config.watch, &config.state_dir)));
    // Logs read on from where the last run stopped, forward, and count;
    // their rules' events are told with the rest below.
    let log_rule_events: Arc<Mutex<Vec<notify::Event>>> = Arc::default();
    let logs = match config.logs.is_empty() {
        true => None,
        false => {
            let keep = Arc::clone(&log_rule_events);
            let sink: logs::rules::EventSink = Arc::new(move |e: logs::rules::Event| {
                lock(&keep).push(log_rule_event(&e));
                logs::rules::log_event(e);
            });
            Some(logs::once(&config.logs, sink).map_err(|e| format!("logs: {e}"))?)
        }
    };
    let mut assembler = Assembler::new();
    let mut services: Vec<&dyn Service> = Vec::new();
    if !config.checks.is_empty() {
        services.push(&ran);
    }
    if let Some(w) = &watched {
        services.push(w);
    }
    if let Some(l) = &logs {
        services.push(l);
    }
    let bytes = assembler.assemble(config, &services, None, false).to_vec();
    let mut failed =
        checks_failed || watched.as_ref().is_some_and(|w| w.0.any_failed()) || logs.as_ref().is_some_and(|l| l.failed);
    for r in &assembler.runs {
        if let Some(e) = &r.error {
            log::warn!("collector {} failed: {e}", r.name);
            failed = true;
        }
    }
    let mut pushed = None;
    if let Some(settings) = &config.push {
        let r = push::once(settings, &bytes).map_err(|e| format!("push: {e}"))?;
        let s = &r.stats;
        if r.queued > 0 || s.dropped_total() > 0 {
            log::warn!(
                "push: {} samples delivered, {} dropped, {} still spooled for the next run",
                s.delivered,
                s.dropped_total(),
                r.queued
            );
        }
        failed |= r.queued > 0 || s.dropped_total() > 0 || r.clock_held || r.repaired;
        pushed = Some(push_status(&receiver(&settings.url), settings.interval, r.queued > 0, s.last_status));
    }
    let ran: Vec<(&check::Check, &[check::Outcome])> =
        config.checks.iter().zip(&ran.0).map(|(c, r)| (c, r.outcomes.as_slice())).collect();
    let mut raised = std::mem::take(&mut *lock(&watch_events));
    raised.append(&mut lock(&log_rule_events));
    let n = notify::once(&notify_settings(config), &ran, &assembler.runs, pushed, raised)
        .map_err(|e| format!("notify: {e}"))?;
    if n.queued > 0 || n.dropped > 0 {
        log::warn!(
            "notify: {} notifications delivered, {} dropped, {} still spooled for the next run",
            n.delivered,
            n.dropped,
            n.queued
        );
        failed = true;
    }
    let exposition = if config.push.is_some() { None } else { Some(bytes) };
    Ok(OnceRun { exposition, failed })
}

/// The checks of a `--once` run, done: rendered like the running service.
struct Ran(Vec<check::CheckResult>);

impl Service for Ran {
    fn name(&self) -> &'static str {
        "checks"
    }

    fn render(&self, out: &mut Exposition) {
        check::render(&self.0, out);
    }

    fn stop(&self, _: Duration) {}
}

/// The watchdog's cycle of a `--once` run, rendered like the service.
struct Watched(watch::render::Snapshot);

impl Service for Watched {
    fn name(&self) -> &'static str {
        "watch"
    }

    fn render(&self, out: &mut Exposition) {
        watch::render::render(&self.0, out);
    }

    fn stop(&self, _: Duration) {}
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        assert!(SERVICES.iter().all(|r| seen.insert(r.name)));
    }
}
