//! The logs service (daemon mode) and `--once`: one follower for every
//! path, each path's lines to its forwarder and its rules.
//!
//! The follower thread polls every path ([`LOG_POLL`], or at once while
//! a path has more than one poll's budget waiting, or after a short wait
//! while a forwarder's memory is full), publishes its counts, and writes
//! the positions when due. A forwarder's batches are sent by its own
//! thread ([`crate::deliver::Outbox`]), which records their positions as
//! they are delivered; a path only counted by rules records its
//! positions as it is read.
//!
//! A stop ends the follower (its last batches handed on), gives each
//! forwarder the grace to deliver, keeps the rest (spooled, or left in
//! the file: their positions did not move), and writes the positions.
//!
//! sonde's own log (`path = "sonde"`) comes through [`crate::sys::log`]'s
//! sink: its lines wait in a bounded queue ([`MAX_OWN_LOG_LINES`]; more
//! are counted as dropped) and are taken at the next poll.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::follow::{Counts, Lines, Polled, Reader, Source, Tail};
use super::forward::{Delivery, Forwarder};
use super::render::{self, Forwarded, View};
use super::rules::{EventSink, Rules};
use super::state::{Position, Positions};
use super::{Log, Settings, Start, OWN};
use crate::deliver::Outbox;
use crate::expo::Exposition;
use crate::limits::{LOG_POLL, MAX_OWN_LOG_LINES};
use crate::service::{Service, Worker};
use crate::sys::log::{self, Level};
use crate::sys::time::now_ms;

/// Polls a `--once` run makes at most per path: as many budgets
/// ([`crate::limits::LOG_READ_BUDGET`]) read, at most, so a file written
/// faster than it is read cannot hold cron's run forever.
const ONCE_POLLS: usize = 256;

/// How long the follower waits for room in a full forwarder.
const ROOM_WAIT: Duration = Duration::from_millis(20);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// sonde's own lines, waiting for the follower.
#[derive(Default)]
struct Own {
    lines: VecDeque<(u8, String)>,
    overflow: u64,
}

/// A path's way out: its forwarder, its rules, and for a path only
/// counted, the positions its lines reach.
struct Pipe {
    forwarder: Option<Forwarder>,
    rules: Vec<usize>,
    touched: Vec<Position>,
}

/// What the follower hands a path's lines to, during its poll. A path
/// only counted keeps the positions its lines reach, committed after the
/// poll (which holds the positions).
struct Sink<'a> {
    pipe: &'a mut Pipe,
    rules: &'a mut Rules,
    source: u64,
    now_ms: i64,
}

impl Lines for Sink<'_> {
    fn line(&mut self, tail: &Tail, line: &[u8], cut: bool) {
        if let Some(f) = self.pipe.forwarder.as_mut() {
            f.line(Some((tail, self.source)), &tail.stem, line, cut, None);
        } else {
            match self.pipe.touched.iter_mut().find(|p| (p.dev, p.ino) == (tail.dev, tail.ino)) {
                Some(p) => tail.update(p),
                None => self.pipe.touched.push(tail.position(self.source)),
            }
        }
        if !self.pipe.rules.is_empty() {
            let text = String::from_utf8_lossy(line);
            for &r in &self.pipe.rules {
                self.rules.apply(r, &text, &tail.path, self.now_ms);
            }
        }
    }

    fn full(&self) -> bool {
        self.pipe.forwarder.as_ref().is_some_and(Forwarder::full)
    }

    fn flush(&mut self) {
        if let Some(f) = self.pipe.forwarder.as_mut() {
            f.flush();
        }
    }

    fn room(&self) -> bool {
        self.pipe.forwarder.as_ref().is_none_or(Forwarder::room)
    }
}

/// Every path, its files and its way out.
struct Follower {
    sources: Vec<Source>,
    pipes: Vec<Pipe>,
    reader: Reader,
    rules: Arc<Mutex<Rules>>,
    positions: Arc<Mutex<Positions>>,
    own: Option<(usize, Arc<Mutex<Own>>)>,
}

impl Follower {
    /// The paths of `settings` (each `[[log]]`'s, then each rule's that no
    /// `[[log]]` has), their forwarders opened.
    fn new(
        settings: &Settings,
        positions: &Arc<Mutex<Positions>>,
        daemon: bool,
        sink: EventSink,
    ) -> Result<Follower, String> {
        let mut paths: Vec<(&str, Option<&Log>)> = settings.logs.iter().map(|l| (l.path.as_str(), Some(l))).collect();
        for r in &settings.rules {
            if !paths.iter().any(|(p, _)| *p == r.path) {
                paths.push((&r.path, None));
            }
        }
        let rules = Rules::new(&settings.rules, sink);
        let (mut sources, mut pipes, mut own) = (Vec::new(), Vec::new(), None);
        for (i, (path, log)) in paths.into_iter().enumerate() {
            let source = Source::new(path, log.is_none_or(|l| l.start == Start::End));
            let forwarder = match log.and_then(|l| l.forward.as_ref().map(|f| (l, f))) {
                Some((l, f)) => Some(
                    Forwarder::open(f, l.replace_invalid, source.key, &settings.state_dir, positions, daemon)
                        .map_err(|e| format!("{path}: {e}"))?,
                ),
                None => None,
            };
            if path == OWN {
                own = Some((i, Arc::new(Mutex::new(Own::default()))));
            }
            pipes.push(Pipe { forwarder, rules: rules.on(path), touched: Vec::new() });
            sources.push(source);
        }
        let keys: Vec<u64> = sources.iter().map(|s| s.key).collect();
        lock(positions).retain(&keys);
        Ok(Follower {
            sources,
            pipes,
            reader: Reader::default(),
            rules: Arc::new(Mutex::new(rules)),
            positions: Arc::clone(positions),
            own,
        })
    }

    /// Opens the files of the saved positions again.
    fn resume(&mut self) {
        let mut p = lock(&self.positions);
        for s in self.sources.iter_mut().filter(|s| s.path != OWN) {
            s.resume(&mut p, &mut self.reader);
        }
    }

    /// One look at every path; `last`: a `--once` run, whose partial
    /// last lines are taken if the file is not written any more.
    fn poll(&mut self, last: bool) -> Polled {
        let (now, now_ms) = (Instant::now(), now_ms());
        let mut polled = Polled::default();
        let own = self.own.as_ref().map(|(i, _)| *i);
        for (i, (source, pipe)) in self.sources.iter_mut().zip(&mut self.pipes).enumerate() {
            let mut rules = lock(&self.rules);
            if Some(i) == own {
                if let Some((_, q)) = &self.own {
                    own_lines(q, source, pipe, &mut rules, now_ms);
                }
                continue;
            }
            let mut positions = lock(&self.positions);
            let p = {
                let mut sink = Sink { pipe: &mut *pipe, rules: &mut rules, source: source.key, now_ms };
                source.poll(now, &mut self.reader, &mut positions, &mut sink, last)
            };
            pipe.touched.drain(..).for_each(|t| positions.commit(&t.entry()));
            polled.more |= p.more;
            polled.blocked |= p.blocked;
        }
        polled
    }

    /// What each path counted, with its forwarder's queue.
    fn views(&self) -> Vec<(Counts, Option<Forwarded>)> {
        let overflow = self.own.as_ref().map_or(0, |(_, q)| lock(q).overflow);
        self.sources
            .iter()
            .zip(&self.pipes)
            .enumerate()
            .map(|(i, (s, p))| {
                let f = p.forwarder.as_ref().map(|f| {
                    let q = lock(f.delivery.queue());
                    let (memory, spool) = q.queued();
                    let overflow = if self.own.as_ref().is_some_and(|(o, _)| *o == i) { overflow } else { 0 };
                    Forwarded { stats: q.stats.clone(), memory, spool, initial: f.initial, overflow, cut: f.cut }
                });
                (s.counts, f)
            })
            .collect()
    }
}

/// sonde's own lines, to the forwarder and rules of `path = "sonde"`.
fn own_lines(q: &Mutex<Own>, source: &mut Source, pipe: &mut Pipe, rules: &mut Rules, now_ms: i64) {
    loop {
        if pipe.forwarder.as_ref().is_some_and(|f| !f.room()) {
            break;
        }
        let Some((severity, line)) = lock(q).lines.pop_front() else { break };
        source.counts.read += 1;
        if let Some(f) = pipe.forwarder.as_mut() {
            f.line(None, OWN, line.as_bytes(), false, Some(severity));
            if f.full() {
                f.flush();
            }
        }
        for &r in &pipe.rules {
            rules.apply(r, &line, Path::new(OWN), now_ms);
        }
    }
    if let Some(f) = pipe.forwarder.as_mut() {
        f.flush();
    }
}

/// The running logs service.
pub struct Logs {
    worker: Worker,
    shared: Arc<Shared>,
}

struct Shared {
    paths: Vec<String>,
    views: Mutex<Vec<(Counts, Option<Forwarded>)>>,
    outboxes: Vec<Arc<Outbox>>,
    rules: Arc<Mutex<Rules>>,
    positions: Arc<Mutex<Positions>>,
    own: bool,
}

impl Logs {
    /// Opens the positions and the forwarders, and starts the follower.
    pub fn start(settings: &Settings, events: EventSink) -> Result<Logs, String> {
        let positions = Arc::new(Mutex::new(Positions::load(&settings.state_dir)));
        let mut f = Follower::new(settings, &positions, true, events)?;
        let outboxes = f
            .pipes
            .iter()
            .filter_map(|p| match p.forwarder.as_ref().map(|f| &f.delivery) {
                Some(Delivery::Outbox(o)) => Some(Arc::clone(o)),
                _ => None,
            })
            .collect();
        let shared = Arc::new(Shared {
            paths: f.sources.iter().map(|s| s.path.clone()).collect(),
            views: Mutex::new(f.views()),
            outboxes,
            rules: Arc::clone(&f.rules),
            positions: Arc::clone(&positions),
            own: f.own.is_some(),
        });
        let own = f.own.as_ref().map(|(_, q)| Arc::clone(q));
        let published = Arc::clone(&shared);
        let worker = Worker::spawn("sonde-logs", 256 * 1024, move |stop| {
            f.resume();
            lock(&f.positions).sync(true);
            loop {
                let p = f.poll(false);
                *lock(&published.views) = f.views();
                lock(&f.positions).sync(false);
                let wait = if p.more {
                    Duration::ZERO
                } else if p.blocked {
                    ROOM_WAIT
                } else {
                    LOG_POLL
                };
                if stop.sleep(wait) || stop.is_stopped() {
                    break;
                }
            }
            *lock(&published.views) = f.views();
        })
        .map_err(|e| format!("cannot start the log follower thread: {e}"))?;
        if let Some(q) = own {
            let wake = worker.stop.clone();
            log::set_sink(Some(Arc::new(move |level: Level, line: &str| {
                {
                    let mut own = lock(&q);
                    if own.lines.len() >= MAX_OWN_LOG_LINES {
                        own.overflow += 1;
                        return;
                    }
                    own.lines.push_back((level.severity(), line.to_owned()));
                }
                wake.wake();
            })));
        }
        Ok(Logs { worker, shared })
    }
}

impl Service for Logs {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn render(&self, out: &mut Exposition) {
        let mut views = lock(&self.shared.views).clone();
        // The queues move between polls: read them now.
        let mut outboxes = self.shared.outboxes.iter();
        for (_, f) in views.iter_mut() {
            if let (Some(f), Some(o)) = (f.as_mut(), outboxes.next()) {
                let q = lock(o.queue());
                f.stats = q.stats.clone();
                (f.memory, f.spool) = q.queued();
            }
        }
        let views: Vec<View<'_>> = self
            .shared
            .paths
            .iter()
            .zip(views)
            .map(|(path, (counts, forwarded))| View { path, counts, forwarded })
            .collect();
        render::render(&views, &lock(&self.shared.rules), out);
    }

    /// Ends the follower, gives the forwarders `grace` to deliver, keeps
    /// the rest, and writes the positions.
    fn stop(&self, grace: Duration) {
        if self.shared.own {
            log::set_sink(None);
        }
        // The follower ends within a poll; it must end before another
        // service follows the same files.
        self.worker.stop(Duration::from_secs(30));
        let deadline = crate::sys::time::Deadline::after(grace);
        for o in &self.shared.outboxes {
            o.close(deadline.left().unwrap_or_default());
        }
        lock(&self.shared.positions).sync(true);
        let (mut delivered, mut waiting) = (0, 0);
        for o in &self.shared.outboxes {
            let q = lock(o.queue());
            let (memory, spool) = q.queued();
            delivered += q.stats.delivered;
            waiting += memory + spool + q.stats.dropped[4];
        }
        if !self.shared.outboxes.is_empty() {
            log::info!(
                "logs: stopped; {delivered} lines forwarded, {waiting} not yet (spooled, or read again from the file at the next start)"
            );
        }
    }
}

/// What a `--once` run did.
pub struct OnceRun {
    paths: Vec<String>,
    views: Vec<(Counts, Option<Forwarded>)>,
    rules: Arc<Mutex<Rules>>,
    /// Lines are left for the next run (the receiver failed) or were
    /// dropped.
    pub failed: bool,
}

/// `--once`: reads every path from its position to its end (a bounded
/// amount), forwards what it read until the receiver fails, counts the
/// rules, and keeps the positions for the next run.
pub fn once(settings: &Settings, events: EventSink) -> Result<OnceRun, String> {
    let positions = Arc::new(Mutex::new(Positions::load(&settings.state_dir)));
    let mut f = Follower::new(settings, &positions, false, events)?;
    f.resume();
    for _ in 0..ONCE_POLLS {
        let p = f.poll(true);
        for pipe in &mut f.pipes {
            if let Some(fw) = pipe.forwarder.as_mut() {
                fw.drain();
            }
        }
        let failing = f.pipes.iter().filter_map(|p| p.forwarder.as_ref()).any(|fw| !fw.room());
        if !(p.more || p.blocked) || failing {
            break;
        }
    }
    let mut failed = false;
    for (s, p) in f.sources.iter().zip(&mut f.pipes) {
        let Some(fw) = p.forwarder.as_mut() else { continue };
        let mut q = lock(fw.delivery.queue());
        q.shutdown();
        let (memory, spool) = q.queued();
        let (left, dropped) = (memory + spool + q.stats.dropped[4], q.stats.dropped_total() - q.stats.dropped[4]);
        if left + dropped > 0 {
            failed = true;
            log::warn!(
                "logs: {}: {} lines forwarded, {dropped} dropped, {left} left for the next run",
                s.path,
                q.stats.delivered
            );
        }
    }
    lock(&positions).sync(true);
    Ok(OnceRun { paths: f.sources.iter().map(|s| s.path.clone()).collect(), views: f.views(), rules: f.rules, failed })
}

impl Service for OnceRun {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn render(&self, out: &mut Exposition) {
        let views: Vec<View<'_>> = self
            .paths
            .iter()
            .zip(self.views.iter().cloned())
            .map(|(path, (counts, forwarded))| View { path, counts, forwarded })
            .collect();
        render::render(&views, &lock(&self.rules), out);
    }

    fn stop(&self, _: Duration) {}
}
