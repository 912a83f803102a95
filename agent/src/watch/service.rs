//! The cycle, and the agent's watch service that runs it every
//! `[watch] interval` on a thread of its own (`--once` runs one cycle,
//! [`once`]).
//!
//! A cycle visits the services in the config's order (a service after
//! those it `depends_on`, which must be ok before it is started), then the
//! files. For a process: not running → said once, then started (each
//! start counts toward `restart_limit`, as Monit counts its starts);
//! running → each condition tested, its tolerance applied, and the action
//! of a condition that now fails taken (after a restart the new process is
//! judged afresh: a failure that goes on acts again once its tolerance is
//! met again, and counts toward the restart limit). Programs run on this thread, one at
//! a time, each bounded by its timeout, so a cycle can take longer than
//! the interval; the next one then starts at once.
//!
//! One state is kept per process, shared by a watch service and the one
//! that replaces it on a reload (the cycle runs under its lock, so the
//! two never run a cycle at once); it is read from the state file at the
//! first start only. A reload resumes every service that gave up or was
//! unmonitored: that is the operator's word that it may be tried again;
//! `sonde resume [NAME...]` says the same of some, through request files
//! in the state directory taken at the next cycle (the daemon's or the
//! next `--once` run's).
//!
//! After the services, a cycle looks at the files and directories, the
//! mounts, then the program checks, whose runs go on between cycles.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::condition::{self, CpuMark};
use super::file::{self, Stamp};
use super::find::{self, Found};
use super::program::{self, shown};
use super::render::{render, Seen, Shown, Snapshot, View};
use super::state::{self, Entry, Mode, Saved};
use super::{mount, program_check};
use super::{report, Action, Event, Kind, Process, Settings, Status, Test, MAX_WINDOW};
use crate::expo::Exposition;
use crate::limits::CHECKS_STACK;
use crate::service::{Service, Worker};
use crate::sys::log;
use crate::sys::process::signal;
use crate::sys::time::{now_ms, Transition};

/// How often the daemon writes the state when only content tests' read
/// positions moved; a crash reads at most this much of a log again.
const POSITIONS_EVERY: Duration = Duration::from_secs(60);

/// The watchdog's state in this process, once read (see the module doc).
static STATE: Mutex<Option<Saved>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What lives only in memory, per service or file.
#[derive(Default)]
struct Runtime {
    cpu: Option<CpuMark>,
    /// Started or restarted, not yet seen ok.
    restarting: bool,
    stamp: Option<Stamp>,
    /// Actions taken since sonde started, by [`Action::index`].
    actions: [u64; 6],
}

/// Runs cycles over the settings.
struct Engine {
    settings: Settings,
    path: PathBuf,
    /// Where `sonde resume` leaves its requests.
    state_dir: PathBuf,
    /// Per service, then per file.
    runtime: Vec<Runtime>,
    /// statfs(2) of the mounts, on helper threads.
    statfs: crate::sys::statfs::Prober,
    /// Per program check, its run in progress (ended when dropped).
    runs: Vec<Option<program_check::Running>>,
    /// The entries as last written, to write again only on a change, and
    /// when.
    written: Option<Vec<(String, Entry)>>,
    written_at: Instant,
    daemon: bool,
    write_failing: Transition,
}

fn say(service: &str, kind: Kind, status: Status, description: String) -> Event {
    let e = Event::new(service, kind, status, description);
    report(&e);
    e
}

impl Engine {
    fn new(settings: Settings, state_dir: &Path, daemon: bool) -> Engine {
        let n = settings.services.len() + settings.files.len();
        let runs = settings.programs.iter().map(|_| None).collect();
        Engine {
            settings,
            path: state::path(state_dir),
            state_dir: state_dir.to_owned(),
            runtime: (0..n).map(|_| Runtime::default()).collect(),
            statfs: crate::sys::statfs::Prober::new(crate::sys::statfs::statfs),
            runs,
            written: None,
            written_at: Instant::now(),
            daemon,
            write_failing: Transition::default(),
        }
    }

    /// The state file's content, or a fresh state (said) when it cannot
    /// be read.
    fn load(&mut self) -> Saved {
        let mut saved = state::load(&self.path).unwrap_or_else(|e| {
            log::error!("watch: {}: {e}; starting with a fresh state", self.path.display());
            Saved::default()
        });
        if self.daemon && saved.time_ms > 0 {
            // The cycles that passed while sonde was not running, so the
            // restarts kept count as old as they are.
            let idle = u64::try_from(now_ms() - saved.time_ms).unwrap_or(0);
            let interval = u64::try_from(self.settings.interval.as_millis()).unwrap_or(u64::MAX).max(1);
            saved.cycle += idle / interval;
        }
        self.written = Some(saved.entries.clone());
        saved
    }

    /// Writes the state when it changed (always with `force`); a change
    /// only of where content tests read on (a watched log grows at every
    /// cycle), at most every [`POSITIONS_EVERY`]: flash wears.
    fn save(&mut self, saved: &mut Saved, force: bool) {
        if let (false, Some(w)) = (force, &self.written) {
            // Unchanged, or only read positions moved and one was written
            // less than POSITIONS_EVERY ago.
            let recent = self.written_at.elapsed() < POSITIONS_EVERY;
            let unchanged = w.len() == saved.entries.len()
                && w.iter()
                    .zip(&saved.entries)
                    .all(|((n, a), (m, b))| n == m && a.same_but_position(b) && (recent || a.content == b.content));
            if unchanged {
                return;
            }
        }
        saved.time_ms = now_ms();
        let text = state::encode(saved);
        let result = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::sys::file::write_atomic(&self.path, text.as_bytes()));
        match (&result, self.write_failing.update(result.is_err())) {
            (Err(e), Some(_)) => log::error!("watch: cannot write {}: {e}", self.path.display()),
            (Ok(()), Some(_)) => log::info!("watch: {} written again", self.path.display()),
            _ => {}
        }
        if result.is_ok() {
            self.written = Some(saved.entries.clone());
            self.written_at = Instant::now();
        }
    }

    /// A reload (`names` None), or `sonde resume` of these: each service
    /// that gave up or was unmonitored is tried again.
    fn resume(&mut self, saved: &mut Saved, names: Option<&[String]>, why: &str) {
        for name in self.settings.names() {
            if names.is_some_and(|n| !n.iter().any(|n| n == name)) {
                continue;
            }
            let e = saved.entry(name);
            if e.mode != Mode::Active {
                e.mode = Mode::Active;
                e.restart_cycles.clear();
                say(name, Kind::Timeout, Status::Succeeded, format!("monitoring resumed ({why})"));
            }
        }
    }

    /// Takes the requests `sonde resume` left since the last cycle.
    fn resume_requested(&mut self, saved: &mut Saved) {
        if let Some(names) = state::take_requests(&self.state_dir) {
            let all = names.iter().any(|n| n == state::ALL);
            self.resume(saved, (!all).then_some(&names[..]), "sonde resume");
        }
    }

    fn cycle(&mut self, saved: &mut Saved) -> Snapshot {
        saved.cycle += 1;
        let cycle = saved.cycle;
        let mut views: Vec<View> = Vec::new();
        for i in 0..self.settings.services.len() {
            let svc = &self.settings.services[i];
            let ready = svc.depends_on.iter().all(|d| views.iter().any(|v| v.name == *d && v.state == Shown::Ok));
            let entry = saved.entry(&svc.name);
            let view = process(svc, entry, &mut self.runtime[i], cycle, ready);
            views.push(view);
        }
        let (n, daemon) = (self.settings.services.len(), self.daemon);
        for (j, f) in self.settings.files.iter().enumerate() {
            let stamp = &mut self.runtime[n + j].stamp;
            // --once hashes every run; the daemon when the file moved.
            if !daemon {
                *stamp = None;
            }
            views.push(watched(&f.name, saved.entry(&f.name), &mut |e, ev| file::check(f, e, stamp, ev)));
        }
        self.statfs.sweep();
        for m in &self.settings.mounts {
            let statfs = &mut self.statfs;
            views.push(watched(&m.name, saved.entry(&m.name), &mut |e, ev| mount::check(m, e, statfs, ev)));
        }
        for (p, run) in self.settings.programs.iter().zip(&mut self.runs) {
            // No run ended this cycle: the last verdict stands.
            let look = &mut |e: &mut Entry, ev: &mut Vec<Event>| {
                program_check::check(p, e, run, !daemon, ev).unwrap_or(e.failing != 0)
            };
            views.push(watched(&p.name, saved.entry(&p.name), look));
        }
        Snapshot { cycles: cycle, services: views }
    }
}

impl Drop for Engine {
    /// The watchdog stops or is replaced: the program checks' runs end
    /// together, within the service's grace.
    fn drop(&mut self) {
        program_check::end_all(&mut self.runs);
    }
}

/// One cycle of a file, mount or program check: `look` tests it when it is
/// monitored (true: failing) and its events are said.
fn watched(name: &str, e: &mut Entry, look: &mut dyn FnMut(&mut Entry, &mut Vec<Event>) -> bool) -> View {
    let state = match e.mode {
        Mode::Active => {
            let mut events = Vec::new();
            let failing = look(e, &mut events);
            events.iter().for_each(report);
            if failing {
                Shown::Failed
            } else {
                Shown::Ok
            }
        }
        Mode::Unmonitored => Shown::Unmonitored,
        Mode::GaveUp => Shown::GaveUp,
    };
    View::of(name, state)
}

/// One cycle of one process service.
fn process(svc: &Process, e: &mut Entry, rt: &mut Runtime, cycle: u64, ready: bool) -> View {
    let mut view = View {
        name: svc.name.clone(),
        state: Shown::Ok,
        restarts: Some(e.restarts),
        actions: Some(rt.actions),
        conditions: Vec::new(),
        process: None,
    };
    match e.mode {
        Mode::GaveUp => view.state = Shown::GaveUp,
        Mode::Unmonitored => view.state = Shown::Unmonitored,
        Mode::Active => {}
    }
    if e.mode != Mode::Active {
        return view;
    }
    e.windows.resize(svc.conditions.len(), 0);
    let known = (e.pid != 0).then_some((e.pid, e.start));
    let Some(p) = find::find(&svc.find, known) else {
        rt.cpu = None;
        e.pid = 0;
        let cause = Event::new(&svc.name, Kind::Nonexist, Status::Failed, "process is not running".into());
        if !e.nonexist {
            report(&cause);
            e.nonexist = true;
        }
        view.state = if !ready {
            Shown::Failed
        } else if restart(svc, e, rt, None, &cause, cycle) {
            Shown::Restarting
        } else if e.mode == Mode::GaveUp {
            Shown::GaveUp
        } else {
            Shown::Failed
        };
        view.restarts = Some(e.restarts);
        view.actions = Some(rt.actions);
        return view;
    };
    if e.nonexist {
        say(&svc.name, Kind::Nonexist, Status::Succeeded, format!("process is running with pid {}", p.pid));
        e.nonexist = false;
    }
    e.pid = p.pid;
    e.start = p.stat.starttime;
    let cpu = condition::cpu_percent(&p, rt.cpu);
    rt.cpu = Some(CpuMark { ticks: p.stat.utime + p.stat.stime, at: Instant::now() });
    let mut act: Option<(&Action, Event)> = None;
    for (k, c) in svc.conditions.iter().enumerate() {
        let result = condition::test(c, &p, cpu);
        view.conditions.push((c.text.clone(), result.is_ok()));
        let kind = match c.test {
            Test::Failed(_) => Kind::Connection,
            Test::Resource(..) => Kind::Resource,
        };
        let mut failing = e.failing >> k & 1 == 1;
        let change = condition::update(&mut e.windows[k], &mut failing, result.is_err(), c.tolerance, rt.restarting);
        e.failing = (e.failing & !(1 << k)) | (u64::from(failing) << k);
        match (change, result) {
            (Some(true), Err(why)) => {
                let ev = say(&svc.name, kind, Status::Failed, why);
                // A restart outranks the other actions of the same cycle.
                if act.as_ref().is_none_or(|(a, _)| **a != Action::Restart) {
                    act = Some((&c.action, ev));
                }
            }
            (Some(false), Ok(words)) => {
                say(&svc.name, kind, Status::Succeeded, words);
            }
            _ => {}
        }
    }
    view.process = Some(seen(&p));
    // A restart is counted where it is made (it may give up instead).
    if let Some((a, _)) = act.as_ref().filter(|(a, _)| **a != Action::Restart) {
        rt.actions[a.index()] += 1;
    }
    let acted = match act {
        Some((Action::Restart, cause)) => restart(svc, e, rt, Some(p), &cause, cycle),
        Some((Action::Stop, cause)) => {
            stop(svc, &p, &cause);
            e.mode = Mode::Unmonitored;
            say(&svc.name, Kind::Action, Status::Info, "stopped; not monitored until a reload".into());
            false
        }
        Some((Action::Unmonitor, _)) => {
            e.mode = Mode::Unmonitored;
            say(&svc.name, Kind::Action, Status::Info, "unmonitored until a reload".into());
            false
        }
        Some((Action::Exec(argv), cause)) => {
            say(&svc.name, Kind::Action, Status::Info, format!("exec: {}", shown(argv)));
            if let Err(why) = program::run(svc, "exec", argv, &cause, Some(p.pid)) {
                say(&svc.name, Kind::Exec, Status::Failed, why);
            }
            false
        }
        // `start` of a running process, `alert`: the event was the action.
        Some((Action::Start | Action::Alert, _)) | None => false,
    };
    view.restarts = Some(e.restarts);
    view.actions = Some(rt.actions);
    view.state = if acted {
        Shown::Restarting
    } else if e.mode == Mode::GaveUp {
        Shown::GaveUp
    } else if e.mode == Mode::Unmonitored {
        Shown::Unmonitored
    } else if e.failing == 0 {
        rt.restarting = false;
        Shown::Ok
    } else if rt.restarting {
        Shown::Restarting
    } else {
        Shown::Failed
    };
    view
}

fn seen(p: &Found) -> Seen {
    let hz = find::ticks_per_second();
    Seen {
        user_seconds: p.stat.utime as f64 / hz,
        system_seconds: p.stat.stime as f64 / hz,
        resident_bytes: (p.stat.rss * condition::page_size()) as f64,
        virtual_bytes: p.stat.vsize as f64,
        threads: p.stat.num_threads as f64,
        fds: find::fds(p.pid).map(|n| n as f64),
        start_seconds: find::started_at(p.stat.starttime),
    }
}

/// Starts (`running` None) or restarts the service, unless its restart
/// limit is reached: then it gives up, says so once, and leaves it alone.
/// True when it acted.
fn restart(svc: &Process, e: &mut Entry, rt: &mut Runtime, running: Option<Found>, cause: &Event, cycle: u64) -> bool {
    if let Some(limit) = svc.restart_limit {
        e.restart_cycles.retain(|&c| c + u64::from(limit.cycles) > cycle);
        if e.restart_cycles.len() >= limit.times as usize {
            e.mode = Mode::GaveUp;
            rt.restarting = false;
            say(
                &svc.name,
                Kind::Timeout,
                Status::Failed,
                format!(
                    "service restarted {} times within {} cycle(s) - gave up; not restarted until a reload",
                    e.restart_cycles.len(),
                    limit.cycles
                ),
            );
            return false;
        }
    }
    if svc.start.is_none() && svc.restart.is_none() {
        // Nothing to start it with: the events say it, no restart counts.
        return false;
    }
    e.restart_cycles.push(cycle);
    if e.restart_cycles.len() > MAX_WINDOW as usize {
        e.restart_cycles.remove(0);
    }
    e.restarts += 1;
    rt.actions[if running.is_some() { Action::Restart.index() } else { Action::Start.index() }] += 1;
    rt.restarting = true;
    rt.cpu = None;
    say(&svc.name, Kind::Action, Status::Info, super::RESTARTING.into());
    let result = match (&running, &svc.restart) {
        (Some(p), Some(argv)) => {
            say(&svc.name, Kind::Action, Status::Info, format!("restart: {}", shown(argv)));
            program::run(svc, "restart", argv, cause, Some(p.pid)).and_then(|()| appear(svc))
        }
        _ => {
            if let Some(p) = &running {
                stop(svc, p, cause);
            }
            start(svc, cause)
        }
    };
    match result {
        Ok(p) => {
            e.pid = p.pid;
            e.start = p.stat.starttime;
        }
        Err(why) => {
            say(&svc.name, Kind::Exec, Status::Failed, why);
        }
    }
    // The new process is judged afresh: its conditions' windows start
    // empty, and a failure that was said is said again (and acted on) if
    // it goes on; a recovery is said once.
    e.windows.iter_mut().for_each(|w| *w = 0);
    true
}

fn start(svc: &Process, cause: &Event) -> Result<Found, String> {
    let argv = svc.start.as_ref().ok_or("failed to start: no start program")?;
    say(&svc.name, Kind::Action, Status::Info, format!("start: {}", shown(argv)));
    program::run(svc, "start", argv, cause, None)?;
    appear(svc)
}

/// The process, once it shows after a start program returned.
fn appear(svc: &Process) -> Result<Found, String> {
    program::wait_for(svc.timeout, || find::find(&svc.find, None))
        .ok_or_else(|| format!("failed to start: no process within {:?} of the program's end", svc.timeout))
}

/// Stops `p`: the stop program (or SIGTERM), then, past the timeout,
/// SIGTERM and SIGKILL.
fn stop(svc: &Process, p: &Found, cause: &Event) {
    match &svc.stop {
        Some(argv) => {
            say(&svc.name, Kind::Action, Status::Info, format!("stop: {}", shown(argv)));
            if let Err(why) = program::run(svc, "stop", argv, cause, Some(p.pid)) {
                say(&svc.name, Kind::Exec, Status::Failed, why);
            }
        }
        None => {
            signal(p.pid, libc::SIGTERM);
        }
    }
    if program::wait_for(svc.timeout, || program::gone(p).then_some(())).is_none() && !program::kill(p) {
        say(&svc.name, Kind::Exec, Status::Failed, format!("failed to stop: pid {} still runs after SIGKILL", p.pid));
    }
}

/// The running watch service.
pub struct Watchdog {
    snapshot: Arc<Mutex<Snapshot>>,
    resume: Arc<AtomicBool>,
    worker: Worker,
}

impl Watchdog {
    /// Starts the cycle thread. Its state comes from `state_dir` at the
    /// first start in this process; a later start (a reload) takes the
    /// running state over and resumes what gave up.
    pub fn start(settings: Settings, state_dir: PathBuf) -> std::io::Result<Watchdog> {
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let resume = Arc::new(AtomicBool::new(lock(&STATE).is_some()));
        let (shared, again) = (Arc::clone(&snapshot), Arc::clone(&resume));
        let interval = settings.interval;
        let worker = Worker::spawn("watch", CHECKS_STACK, move |stop| {
            let mut engine = Engine::new(settings, &state_dir, true);
            loop {
                let began = Instant::now();
                {
                    let mut guard = lock(&STATE);
                    let saved = match &mut *guard {
                        Some(s) => s,
                        empty => empty.insert(engine.load()),
                    };
                    if again.swap(false, Ordering::Relaxed) {
                        engine.resume(saved, None, "reload");
                    }
                    engine.resume_requested(saved);
                    let snap = engine.cycle(saved);
                    engine.save(saved, false);
                    *lock(&shared) = snap;
                }
                // Until the next cycle, the output of a program check in
                // progress is read every DRAIN_EVERY, so a program that
                // writes more than a pipe holds is not stalled.
                let next = began + interval;
                loop {
                    let busy = engine.runs.iter().any(Option::is_some);
                    let until = if busy { next.min(Instant::now() + program_check::DRAIN_EVERY) } else { next };
                    if stop.sleep_until(until) {
                        if let Some(saved) = &mut *lock(&STATE) {
                            engine.save(saved, true);
                        }
                        return;
                    }
                    if until >= next {
                        break;
                    }
                    program_check::drain(&mut engine.runs);
                }
            }
        })?;
        Ok(Watchdog { snapshot, resume, worker })
    }
}

impl Service for Watchdog {
    fn name(&self) -> &'static str {
        "watch"
    }

    fn render(&self, out: &mut Exposition) {
        render(&lock(&self.snapshot), out);
    }

    /// A program in progress runs to its own timeout; the state is written
    /// by the thread as it ends.
    fn stop(&self, grace: Duration) {
        self.worker.stop(grace);
    }

    fn reloaded(&self) {
        self.resume.store(true, Ordering::Relaxed);
        self.worker.stop.wake();
    }
}

/// `--once`: one cycle, the state read before and written after.
pub fn once(settings: &Settings, state_dir: &Path) -> Snapshot {
    let mut engine = Engine::new(settings.clone(), state_dir, false);
    let mut saved = engine.load();
    engine.resume_requested(&mut saved);
    let snap = engine.cycle(&mut saved);
    engine.save(&mut saved, true);
    snap
}
