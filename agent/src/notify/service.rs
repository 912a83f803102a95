//! The notifications service: the alert table, the outputs' queues and
//! sending threads, the state file, and a ticker that looks at the
//! daemons, sends reminders and forgets resolved alerts; and `--once`,
//! which does the same in one pass.
//!
//! An event raised goes through the table first: a firing alert already
//! firing is not notified again (its text is updated), a resolved one
//! that was not firing is not notified at all, so every output hears of a
//! state change once. Then each output whose filter takes it queues it.
//! The table
//! keeps resolved alerts for [`RESOLVED_RETENTION`], for Alertmanager's
//! re-sends.
//!
//! Files under `[paths] state_dir`: `notify/state` (the table, the
//! sources' memory, the reminders' clocks; replaced atomically when a
//! state changes and at the stop) and `notify/spool/NAME/` for each
//! output's spool.
//!
//! Threads (daemon mode): one ticker (the daemons' look, when nothing
//! else collected for `daemon_interval`, runs on it), and one sending
//! thread per output.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::alertmanager::{self, Resends, RESOLVED_RETENTION};
use super::sources::Sources;
use super::{mail, webhook, Event, Hub, Kind, Output, PushStatus, Settings, State, MAX_ALERTS};
use crate::check::{Check, Outcome};
use crate::collect::CollectorRun;
use crate::deliver::{AnyTransport, Batch, Outbox, Queue, Sender, DROP_REASONS};
use crate::expo::{Exposition, MetricType};
use crate::service::{Service, Worker};
use crate::sys::file::{read_bounded, write_atomic};
use crate::sys::log;
use crate::sys::time::now_ms;
use crate::wire::state::{self, Writer};

/// In the log: the owner, and what its batches count.
const WHAT: (&str, &str) = ("notify", "notifications");

/// The state file's largest size.
const MAX_STATE: usize = 4 * 1024 * 1024;

/// An alert firing, or resolved and still re-sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// The latest event about it (for a resolved one, the resolution).
    pub event: Event,
    /// When it was resolved.
    pub ends_ms: Option<i64>,
}

/// The alert table, shared with the Alertmanager outputs' threads.
pub type Table = Arc<Mutex<Vec<Alert>>>;

/// One output at run time.
struct Out {
    settings: Output,
    queue: Arc<Mutex<Queue>>,
    /// Daemon mode: the sending thread.
    outbox: Option<Outbox>,
    /// `--once`: the sender, driven here.
    sender: Option<Sender<AnyTransport>>,
    resends: Option<Arc<Mutex<Resends>>>,
    /// Mail reminders: each alert's key and when it was last mailed.
    reminded: Vec<(String, i64)>,
}

impl Out {
    fn takes(&self, e: &Event) -> bool {
        self.settings.filter.admits(e)
    }

    fn add(&self, e: &Event) {
        let b = Batch { payload: e.encode(), items: 1, timestamp_ms: e.time_ms };
        match &self.outbox {
            Some(o) => o.add([b]),
            None => lock(&self.queue).push(b),
        }
    }

    fn reminder(&self) -> u32 {
        match &self.settings.kind {
            Kind::Mail(m) => m.reminder,
            _ => 0,
        }
    }
}

/// The service's state, behind one lock.
struct Core {
    settings: Settings,
    sources: Sources,
    table: Table,
    outs: Vec<Out>,
    path: PathBuf,
}

/// What the [`Hub`] hands events to.
pub struct Shared {
    core: Mutex<Core>,
    /// When the daemons were last looked at (a scrape, a push cycle, or
    /// the ticker's own).
    looked: Mutex<Instant>,
}

/// Where the notifications keep their files.
fn dir(settings: &Settings) -> PathBuf {
    settings.state_dir.join("notify")
}

impl Core {
    /// Opens every output's queue (and spool) and transport, and reads
    /// the state file. `threads`: start each output's sending thread.
    fn open(settings: Settings, threads: bool) -> Result<Core, String> {
        let dir = dir(&settings);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let table: Table = Arc::default();
        let mut outs = Vec::with_capacity(settings.outputs.len());
        for (i, o) in settings.outputs.iter().enumerate() {
            let spool = dir.join("spool").join(&o.name);
            let queue = Queue::open(WHAT, o.memory_cap, Some(&spool), o.spool_cap)?;
            let (channel, resends): (AnyTransport, _) = match &o.kind {
                Kind::Alertmanager(s) => {
                    let generator = settings.status_url.as_deref();
                    let t = alertmanager::Transport::new(
                        s,
                        o.timeout,
                        &settings.instance,
                        generator,
                        &o.filter,
                        Arc::clone(&table),
                    )?;
                    let r = Arc::clone(&t.resends);
                    (Box::new(t), Some(r))
                }
                Kind::Mail(s) => (Box::new(mail::Transport::new(s, o.timeout, &settings.instance)?), None),
                Kind::Webhook(s) => (Box::new(webhook::Transport::new(s, o.timeout, &settings.instance)?), None),
            };
            let what = (WHAT.0, WHAT.1);
            let sender = Sender::new(channel, what, o.max_age, o.min_backoff, o.max_backoff);
            let (queue, outbox, sender) = if threads {
                let outbox = Outbox::start(&format!("notify-{i}"), queue, sender)
                    .map_err(|e| format!("cannot start a notify thread: {e}"))?;
                (Arc::clone(outbox.queue()), Some(outbox), None)
            } else {
                (Arc::new(Mutex::new(queue)), None, Some(sender))
            };
            outs.push(Out { settings: o.clone(), queue, outbox, sender, resends, reminded: Vec::new() });
        }
        let mut core = Core { path: dir.join("state"), settings, sources: Sources::default(), table, outs };
        core.load();
        for e in core.sources.forget_checks(&core.settings.checks) {
            core.raise(e, None);
        }
        Ok(core)
    }

    fn load(&mut self) {
        let mut buf = Vec::new();
        match read_bounded(&self.path, &mut buf, MAX_STATE) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                log::warn!("notify: cannot read {}: {e}; starting afresh", self.path.display());
                return;
            }
        }
        let records = match state::parse(&buf) {
            Ok(r) => r,
            Err(e) => {
                log::warn!("notify: {}: {e}; starting afresh", self.path.display());
                return;
            }
        };
        self.sources.load(&records);
        let mut table = lock(&self.table);
        for r in &records {
            match r.kind {
                "alert" => {
                    if let Some(event) = Event::of_record(r) {
                        let ends_ms = r.get("ends").and_then(|v| v.parse().ok());
                        if table.len() < MAX_ALERTS {
                            table.push(Alert { event, ends_ms });
                        }
                    }
                }
                "remind" => {
                    let (Some(key), Some(out), Some(at)) =
                        (state::unescape(r.name), r.get("out").and_then(state::unescape), r.get("at"))
                    else {
                        continue;
                    };
                    if let (Some(o), Ok(at)) = (self.outs.iter_mut().find(|o| o.settings.name == out), at.parse()) {
                        o.reminded.push((key, at));
                    }
                }
                _ => {}
            }
        }
    }

    /// Writes the state file (atomically; a failure is said, and the
    /// next change tries again).
    fn save(&self) {
        let mut w = Writer::new();
        self.sources.save(&mut w);
        for a in lock(&self.table).iter() {
            let r = a.event.record(&mut w, "alert");
            if let Some(ends) = a.ends_ms {
                r.field("ends", &ends.to_string());
            }
        }
        for o in &self.outs {
            for (key, at) in &o.reminded {
                w.record("remind", key).field("out", &o.settings.name).field("at", &at.to_string());
            }
        }
        if let Err(e) = write_atomic(&self.path, w.finish().as_bytes()) {
            log::error!("notify: cannot write {}: {e}", self.path.display());
        }
    }

    /// Takes `e` through the table and queues it for every output that
    /// takes it (or only output `only`: a reminder).
    fn raise(&mut self, mut e: Event, only: Option<usize>) {
        let key = e.key();
        if only.is_none() {
            let mut table = lock(&self.table);
            let at = table.iter().position(|a| a.event.key() == key);
            match (e.state, at) {
                (State::Firing, Some(i)) if table[i].ends_ms.is_none() => {
                    // Already told: only its words change.
                    table[i].event.text = e.text;
                    return;
                }
                (State::Firing, at) => {
                    if let Some(i) = at {
                        table.remove(i);
                    }
                    if table.len() >= MAX_ALERTS {
                        match table.iter().position(|a| a.ends_ms.is_some()) {
                            Some(i) => drop(table.remove(i)),
                            None => {
                                log::error!("notify: {MAX_ALERTS} alerts firing; {key} is not told");
                                return;
                            }
                        }
                    }
                    table.push(Alert { event: e.clone(), ends_ms: None });
                }
                (State::Resolved, Some(i)) if table[i].ends_ms.is_none() => {
                    // The labels it fired with, so Alertmanager matches it.
                    e.starts_ms = table[i].event.starts_ms;
                    e.severity = table[i].event.severity;
                    table[i] = Alert { event: e.clone(), ends_ms: Some(e.time_ms) };
                }
                // Not firing: nothing to resolve.
                (State::Resolved, _) => return,
                (State::Once, _) => {}
            }
        }
        for (i, o) in self.outs.iter_mut().enumerate() {
            if only.is_some_and(|only| only != i) || !o.takes(&e) {
                continue;
            }
            o.add(&e);
            if o.reminder() > 0 {
                o.reminded.retain(|(k, _)| *k != key);
                if e.state == State::Firing {
                    o.reminded.push((key.clone(), e.time_ms));
                }
            }
        }
        self.save();
    }

    /// Forgets resolved alerts past their retention, and raises the
    /// reminders that are due.
    fn tick(&mut self, now: i64) {
        let mut changed = false;
        {
            let retention = RESOLVED_RETENTION.as_millis() as i64;
            let mut table = lock(&self.table);
            let before = table.len();
            table.retain(|a| a.ends_ms.is_none_or(|ends| now - ends < retention));
            changed |= table.len() != before;
        }
        let firing: Vec<Event> =
            lock(&self.table).iter().filter(|a| a.ends_ms.is_none()).map(|a| a.event.clone()).collect();
        let mut due = Vec::new();
        for (i, o) in self.outs.iter().enumerate() {
            let n = o.reminder();
            if n == 0 {
                continue;
            }
            for e in firing.iter().filter(|e| o.takes(e)) {
                let key = e.key();
                let last = o.reminded.iter().find(|(k, _)| *k == key).map_or(e.starts_ms, |(_, at)| *at);
                let cycle = if e.cycle_ms == 0 { 60_000 } else { e.cycle_ms as i64 };
                if now - last >= i64::from(n) * cycle {
                    let mut again = e.clone();
                    again.time_ms = now;
                    due.push((i, again));
                }
            }
        }
        for (i, e) in due {
            // raise() records when it was mailed, and saves.
            self.raise(e, Some(i));
            changed = false;
        }
        if changed {
            self.save();
        }
    }

    fn daemons(&mut self, looked: &[(&'static str, Option<String>)]) {
        let cycle = self.settings.daemon_interval;
        for (name, error) in looked {
            if let Some(e) = self.sources.daemon(name, error.clone(), cycle) {
                self.raise(e, None);
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Core> {
        lock(&self.core)
    }

    pub(crate) fn raise(&self, e: Event) {
        self.lock().raise(e, None);
    }

    pub(crate) fn check_ran(&self, check: &Check, outcomes: &[Outcome]) {
        let mut core = self.lock();
        let rule = core.settings.check_rule(&check.name);
        if let Some(e) = core.sources.check(&rule, check.interval, outcomes) {
            core.raise(e, None);
        }
    }

    /// A collection ran (a scrape, a push cycle): the daemons' collectors
    /// say whether each daemon expected here answers.
    pub(crate) fn collected(&self, runs: &[CollectorRun]) {
        *lock(&self.looked) = Instant::now();
        let looked = daemons_of(runs);
        if !looked.is_empty() {
            self.lock().daemons(&looked);
        }
    }

    pub(crate) fn push_status(&self, status: PushStatus) {
        let mut core = self.lock();
        let after = core.settings.push_failing_after;
        if let Some(e) = core.sources.push(&status, after, now_ms()) {
            core.raise(e, None);
        }
    }
}

/// The daemon a collector reads, by the collector's name.
fn daemon_of(collector: &str) -> Option<&'static str> {
    match collector {
        "chrony" => Some("chronyd"),
        "unbound" => Some("unbound"),
        _ => None,
    }
}

fn daemons_of(runs: &[CollectorRun]) -> Vec<(&'static str, Option<String>)> {
    runs.iter().filter_map(|r| Some((daemon_of(r.name)?, r.error.as_ref().map(ToString::to_string)))).collect()
}

/// The running notifications service.
pub struct Notifier {
    shared: Arc<Shared>,
    hub: Hub,
    ticker: Worker,
}

impl Notifier {
    /// Opens the outputs, reads the state file, starts the threads and
    /// attaches to `hub`; None when no output is configured.
    /// `collect` runs a collection (the agent's scrape, which tells the
    /// hub what the daemons' collectors found): called when none ran for
    /// `[events] daemon_interval`, so a box that nobody scrapes still
    /// hears of its daemons.
    pub fn start(
        settings: Settings,
        hub: &Hub,
        collect: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Option<Notifier>, String> {
        if settings.outputs.is_empty() {
            return Ok(None);
        }
        let interval = settings.daemon_interval;
        let looked = Mutex::new(Instant::now().checked_sub(interval).unwrap_or_else(Instant::now));
        let shared = Arc::new(Shared { core: Mutex::new(Core::open(settings, true)?), looked });
        let s = Arc::clone(&shared);
        let ticker = Worker::spawn("notify", TICKER_STACK, move |stop| loop {
            // Never under the core's lock: a collection renders this
            // service, which takes it.
            if lock(&s.looked).elapsed() >= interval {
                collect();
            }
            s.lock().tick(now_ms());
            if stop.sleep(Duration::from_secs(1)) {
                return;
            }
        })
        .map_err(|e| format!("cannot start the notify thread: {e}"))?;
        hub.attach(Arc::clone(&shared));
        Ok(Some(Notifier { shared, hub: hub.clone(), ticker }))
    }
}

/// The ticker's stack: a collection (the daemons' look) runs on it.
const TICKER_STACK: usize = 2 * 1024 * 1024;

impl Service for Notifier {
    fn name(&self) -> &'static str {
        "notify"
    }

    fn render(&self, out: &mut Exposition) {
        render(&self.shared.lock(), out);
    }

    /// Stops raising, gives each receiver `grace` to take what is queued
    /// (unless it is failing), spools the rest and writes the state.
    fn stop(&self, grace: Duration) {
        self.hub.detach(&self.shared);
        self.ticker.stop(Duration::from_secs(5));
        let core = self.shared.lock();
        for o in &core.outs {
            if let Some(outbox) = &o.outbox {
                outbox.close(grace);
            }
            let q = lock(&o.queue);
            let s = &q.stats;
            let (memory, spooled) = q.queued();
            log::info!(
                "notify: {} stopped; {} raised, {} delivered, {} dropped, {} spooled for the next start, {} lost",
                o.settings.name,
                s.added,
                s.delivered,
                s.dropped_total(),
                spooled,
                memory
            );
        }
        core.save();
    }
}

fn render(core: &Core, out: &mut Exposition) {
    type Value = fn(&Out, &Queue) -> f64;
    let counters: [(&str, &str, MetricType, Value); 6] = [
        (
            "sonde_notify_raised_total",
            "Notifications raised for each output (past its filter).",
            MetricType::Counter,
            |_, q| q.stats.added as f64,
        ),
        ("sonde_notify_delivered_total", "Notifications the receiver took.", MetricType::Counter, |_, q| {
            q.stats.delivered as f64
        }),
        ("sonde_notify_queued", "Notifications waiting, in memory or in the spool.", MetricType::Gauge, |_, q| {
            let (m, s) = q.queued();
            (m + s) as f64
        }),
        (
            "sonde_notify_requests_total",
            "Requests (or mail sessions) that carried a notification.",
            MetricType::Counter,
            |_, q| q.stats.requests as f64,
        ),
        (
            "sonde_notify_resends_total",
            "Alertmanager re-sends of the alert table (not notifications; not counted above).",
            MetricType::Counter,
            |o, _| o.resends.as_ref().map_or(0.0, |r| lock(r).requests as f64),
        ),
        (
            "sonde_notify_last_success_timestamp_seconds",
            "When a notification was last delivered, seconds since the epoch; 0 if never.",
            MetricType::Gauge,
            |_, q| q.stats.last_success_ms as f64 / 1000.0,
        ),
    ];
    let queues: Vec<MutexGuard<'_, Queue>> = core.outs.iter().map(|o| lock(&o.queue)).collect();
    for (name, help, kind, value) in counters {
        out.family(name, help, kind);
        for (o, q) in core.outs.iter().zip(&queues) {
            out.sample(&[("notify", &o.settings.name)], value(o, q));
        }
    }
    out.family("sonde_notify_dropped_total", "Notifications dropped, by reason.", MetricType::Counter);
    for (o, q) in core.outs.iter().zip(&queues) {
        for ((_, reason), v) in DROP_REASONS.iter().zip(q.stats.dropped) {
            out.sample(&[("notify", &o.settings.name), ("reason", reason)], v as f64);
        }
    }
    let table = lock(&core.table);
    out.family("sonde_notify_alerts", "Alerts firing, and resolved ones still re-sent.", MetricType::Gauge);
    let firing = table.iter().filter(|a| a.ends_ms.is_none()).count();
    out.sample(&[("state", "firing")], firing as f64);
    out.sample(&[("state", "resolved")], (table.len() - firing) as f64);
}

/// What a `--once` run did with the notifications.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OnceReport {
    pub raised: u64,
    pub delivered: u64,
    pub dropped: u64,
    /// Still spooled for the next run.
    pub queued: u64,
}

/// `--once`: this run's observations (the checks that ran, the
/// collectors' runs for the daemons, the push pipe's state) and the events
/// raised whole (a log rule's) become
/// events against the last run's state; then every output sends what is
/// queued, Alertmanager the table again, and what did not go stays
/// spooled for the next run.
pub fn once(
    settings: &Settings,
    checks: &[(&Check, &[Outcome])],
    runs: &[CollectorRun],
    push: Option<PushStatus>,
    raised: Vec<Event>,
) -> Result<OnceReport, String> {
    if settings.outputs.is_empty() {
        return Ok(OnceReport::default());
    }
    let mut core = Core::open(settings.clone(), false)?;
    for (check, outcomes) in checks {
        let rule = core.settings.check_rule(&check.name);
        if let Some(e) = core.sources.check(&rule, check.interval, outcomes) {
            core.raise(e, None);
        }
    }
    core.daemons(&daemons_of(runs));
    if let Some(status) = push {
        let after = core.settings.push_failing_after;
        if let Some(e) = core.sources.push(&status, after, now_ms()) {
            core.raise(e, None);
        }
    }
    for e in raised {
        core.raise(e, None);
    }
    core.tick(now_ms());
    let mut report = OnceReport::default();
    for o in &mut core.outs {
        // On disk first: a send that fails, or a power cut, keeps it.
        lock(&o.queue).keep_on_disk();
        if let Some(sender) = &mut o.sender {
            sender.drain(&o.queue);
            if lock(&o.queue).queued() == (0, 0) {
                sender.idle();
            }
        }
        let q = lock(&o.queue);
        let (memory, spooled) = q.queued();
        report.raised += q.stats.added;
        report.delivered += q.stats.delivered;
        report.dropped += q.stats.dropped_total();
        report.queued += memory + spooled;
    }
    core.save();
    Ok(report)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The state file's path for `settings` (tests look at it).
pub fn state_path(settings: &Settings) -> PathBuf {
    dir(settings).join("state")
}
