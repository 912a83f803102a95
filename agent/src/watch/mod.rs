//! The watchdog: Monit's job on the box. Each cycle it finds every
//! watched process (by `pidfile` or by `matching` its command line),
//! starts one that does not run, tests its conditions (any sonde check
//! against it, its resources) and acts on them (restart, stop, alert,
//! ...), stops trying after `restart_limit` restarts within a window of
//! cycles, and watches files and directories (checksum, permission, owner,
//! size, age, new lines), filesystems (space and inodes free) and programs
//! (exit status, output). What it sees is published as metrics and said
//! as events.
//!
//! Words are Monit's where Monit has them (`pidfile`, `matching`, `start`,
//! `stop`, `if failed ... then restart`, `X restarts within Y cycles`,
//! `for N cycles`, `X times within Y cycles`, the actions `alert`,
//! `restart`, `start`, `stop`, `exec`, `unmonitor`), and so is the
//! behaviour: a process not running is started; a condition's state
//! changes only when its tolerance is met, and an event is said once per
//! change, never at every cycle; a service that reached its restart limit
//! is left alone ("timeout" in Monit, `gave_up` here) until a reload.
//!
//! Files: [`find`] finds a service's process, [`program`] runs its
//! programs, [`condition`] tests its conditions, [`file`] the file and
//! directory checks (with [`digest`]'s hashes and [`content`]'s scan of
//! new lines), [`mount`] the filesystem checks, [`program_check`] the
//! program checks, [`state`] keeps what must outlive a run in
//! the state file, [`render`] writes the metrics, and [`service`] runs the
//! cycle: the agent's watch service, and one cycle for `--once`.
//!
//! Invariants: a process is the service's only if its PID, its thread
//! group and its start time agree (a PID reused after the pidfile was
//! written is not taken for it); every program run is reaped, ended at
//! its timeout; every event is a value ([`Event`]) said through one
//! function ([`report`]), so the notifications service can route it;
//! counts and windows are bounded (64 cycles, [`MAX_SERVICES`]).

pub mod condition;
pub mod content;
pub mod digest;
pub mod file;
pub mod find;
pub mod mount;
pub mod program;
pub mod program_check;
pub mod render;
pub mod service;
pub mod state;

use std::path::PathBuf;
use std::time::Duration;

use crate::check::Check;
use crate::sys::log;
use crate::sys::process::Credentials;
use crate::wire::regex::Regex;
pub use service::{once, Watchdog};

/// Services and file checks per config: each is a state record and a few
/// series.
pub const MAX_SERVICES: usize = 64;

/// Conditions per service.
pub const MAX_CONDITIONS: usize = 16;

/// The widest window of cycles a tolerance or a restart limit may have
/// (Monit's: its windows are 64-bit maps).
pub const MAX_WINDOW: u32 = 64;

/// Default cycle (`[watch] interval`): Monit's `set daemon 30`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// Default timeout of a program (Monit's `with timeout 30 seconds`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default timeout of a program check's run (Monit's `programTimeout`).
pub const PROGRAM_TIMEOUT: Duration = Duration::from_secs(300);

/// The watchdog's settings: `[watch]`, `[[service]]`, `[[file]]`,
/// `[[directory]]`, `[[mount]]`, `[[program]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub interval: Duration,
    pub services: Vec<Process>,
    /// Files and directories.
    pub files: Vec<File>,
    pub mounts: Vec<Mount>,
    pub programs: Vec<ProgramCheck>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            interval: DEFAULT_INTERVAL,
            services: Vec::new(),
            files: Vec::new(),
            mounts: Vec::new(),
            programs: Vec::new(),
        }
    }
}

impl Settings {
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.files.is_empty() && self.mounts.is_empty() && self.programs.is_empty()
    }

    /// Every watched thing's name, in the order a cycle visits them:
    /// services, files and directories, mounts, programs.
    pub fn names(&self) -> Vec<&str> {
        let mut names =
            Vec::with_capacity(self.services.len() + self.files.len() + self.mounts.len() + self.programs.len());
        names.extend(self.services.iter().map(|s| s.name.as_str()));
        names.extend(self.files.iter().map(|f| f.name.as_str()));
        names.extend(self.mounts.iter().map(|m| m.name.as_str()));
        names.extend(self.programs.iter().map(|p| p.name.as_str()));
        names
    }
}

/// How a service's process is found.
#[derive(Clone, Debug, PartialEq)]
pub enum Find {
    /// The PID in this file (re-read every cycle); with a pattern, the
    /// process's command line must also match it.
    Pidfile(PathBuf, Option<Regex>),
    /// The oldest top-level process whose command line matches.
    Matching(Regex),
}

/// A watched process (`[[service]]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Process {
    pub name: String,
    pub find: Find,
    /// argv of each program; none given: start cannot be done, stop is
    /// SIGTERM, restart is stop then start.
    pub start: Option<Vec<String>>,
    pub stop: Option<Vec<String>>,
    pub restart: Option<Vec<String>>,
    /// Each program's timeout, and how long a started process may take to
    /// appear or a stopped one to go.
    pub timeout: Duration,
    pub who: Credentials,
    pub conditions: Vec<Condition>,
    /// `X restarts within Y cycles`: then it gives up.
    pub restart_limit: Option<Window>,
    /// Services started before this one and stopped after it.
    pub depends_on: Vec<String>,
}

/// `X ... within Y cycles`: X of the last Y cycles (the notifications'
/// tolerance; `Window::default()` is once).
pub use crate::notify::Window;

/// `if <test> [for N cycles | X times within Y cycles] then <action>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// As written, without `if`: the `condition` label and the words of
    /// its events.
    pub text: String,
    pub test: Test,
    pub tolerance: Window,
    pub action: Action,
}

/// What a condition tests.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// `failed NAME`: the `[[check]]` of that name fails (any address).
    Failed(Box<Check>),
    /// `cpu > 90%`, `memory > 200 MB`, ...
    Resource(Resource, Op, f64),
}

/// A process's resource, in the unit its test compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// Percent of one CPU, over the last cycle (user + system).
    Cpu,
    /// Resident bytes.
    Memory,
    Threads,
    /// Processes whose parent it is.
    Children,
    /// Open file descriptors.
    Fds,
    /// Seconds since it started.
    Uptime,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Cpu => "cpu",
            Resource::Memory => "memory",
            Resource::Threads => "threads",
            Resource::Children => "children",
            Resource::Fds => "filedescriptors",
            Resource::Uptime => "uptime",
        }
    }
}

/// Monit's operators: `>`, `<`, `>=`, `<=`, `==`, `!=` (and `gt`, `lt`,
/// `eq`, `ne`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Gt,
    Lt,
    Ge,
    Le,
    Eq,
    Ne,
}

impl Op {
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Gt => a > b,
            Op::Lt => a < b,
            Op::Ge => a >= b,
            Op::Le => a <= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// What a condition does when its test fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Only the event.
    Alert,
    Restart,
    Start,
    Stop,
    /// Stop watching it until a reload.
    Unmonitor,
    /// Run this program (argv), as the service's programs run.
    Exec(Vec<String>),
}

impl Action {
    /// Every action's name, in [`Action::index`] order.
    pub const NAMES: [&'static str; 6] = ["alert", "restart", "start", "stop", "unmonitor", "exec"];

    /// Its place in [`Action::NAMES`].
    pub fn index(&self) -> usize {
        match self {
            Action::Alert => 0,
            Action::Restart => 1,
            Action::Start => 2,
            Action::Stop => 3,
            Action::Unmonitor => 4,
            Action::Exec(_) => 5,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::Restart => "restart",
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Unmonitor => "unmonitor",
            Action::Exec(_) => "exec",
        }
    }
}

/// A watched file (`[[file]]`, Monit's `check file`) or directory
/// (`[[directory]]`, Monit's `check directory`: no checksum, size or
/// content).
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub name: String,
    pub path: PathBuf,
    /// A directory is expected; else a regular file.
    pub directory: bool,
    /// `if changed checksum` (None expected) or `if failed checksum expect
    /// H` (Some).
    pub checksum: Option<(digest::Hash, Option<String>)>,
    /// `if failed permission 644`.
    pub permission: Option<u32>,
    /// `if failed uid root`, `if failed gid root`.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// `if size > 100 MB then alert`: bytes.
    pub max_size: Option<u64>,
    /// `if timestamp > 15 minutes then alert`: the age of its last
    /// modification.
    pub max_age: Option<Duration>,
    /// `if content = "regex" then alert`: a line appended since the last
    /// look matches.
    pub content: Option<Regex>,
}

/// A watched filesystem (`[[mount]]`): Monit's `check filesystem`.
#[derive(Clone, Debug, PartialEq)]
pub struct Mount {
    pub name: String,
    /// Any path on it (its mount point, usually).
    pub path: PathBuf,
    /// `if space free < 10%`, `if space free < 1 GB`: bytes.
    pub min_free: Option<Free>,
    /// `if inode free < 5%`, `if inode free < 1000`: inodes.
    pub min_inodes_free: Option<Free>,
}

/// A lower limit of what is free: a share of the whole, or a count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Free {
    Percent(f64),
    Count(u64),
}

/// A program run for its result (`[[program]]`): Monit's `check program`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramCheck {
    pub name: String,
    pub argv: Vec<String>,
    /// How long one run may take before it is ended (and failed).
    pub timeout: Duration,
    pub who: Credentials,
    /// `if status != 0 then alert`: the exit status for which it fails.
    pub status: (Op, i32),
    /// `if content = "regex" then alert`: its output matches.
    pub output: Option<Regex>,
}

/// A file's, mount's or program's test: said once when it starts failing
/// (`bad`) and once when it recovers (`good`), never at every cycle; its
/// bit of `failing` (kept in the state file) remembers which was said.
pub fn flip(
    failing: &mut u64,
    bit: u64,
    failed: bool,
    kind: Kind,
    [bad, good]: [String; 2],
    say: &mut dyn FnMut(Kind, Status, String),
) {
    if failed && *failing & bit == 0 {
        say(kind, Status::Failed, bad);
        *failing |= bit;
    } else if !failed && *failing & bit != 0 {
        say(kind, Status::Succeeded, good);
        *failing &= !bit;
    }
}

/// What an event is about: Monit's event names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The process runs or does not.
    Nonexist,
    /// A `failed CHECK` condition.
    Connection,
    /// A resource condition.
    Resource,
    /// An action was taken (restart, start, stop, unmonitor, resume).
    Action,
    /// A program could not run, failed or timed out.
    Exec,
    /// The restart limit was reached: it gave up.
    Timeout,
    Checksum,
    Permission,
    Uid,
    Gid,
    /// The file does not exist (or cannot be read).
    File,
    Size,
    Timestamp,
    /// Not the kind of file expected (a directory, a regular file).
    Invalid,
    /// New lines of a file, or a program's output, match.
    Content,
    /// A program's exit status.
    Status,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Nonexist => "nonexist",
            Kind::Connection => "connection",
            Kind::Resource => "resource",
            Kind::Action => "action",
            Kind::Exec => "exec",
            Kind::Timeout => "timeout",
            Kind::Checksum => "checksum",
            Kind::Permission => "permission",
            Kind::Uid => "uid",
            Kind::Gid => "gid",
            Kind::File => "file",
            Kind::Size => "size",
            Kind::Timestamp => "timestamp",
            Kind::Invalid => "invalid",
            Kind::Content => "content",
            Kind::Status => "status",
        }
    }
}

/// Whether an event says a failure, a recovery, a change or an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Failed,
    Succeeded,
    Changed,
    Info,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Failed => "failed",
            Status::Succeeded => "succeeded",
            Status::Changed => "changed",
            Status::Info => "info",
        }
    }
}

/// One thing that happened to a service, said once.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub service: String,
    pub kind: Kind,
    pub status: Status,
    /// Monit-style words: "process is not running", "trying to restart".
    pub description: String,
    /// Milliseconds since the epoch.
    pub time_ms: i64,
}

impl Event {
    pub fn new(service: &str, kind: Kind, status: Status, description: String) -> Event {
        Event { service: service.to_owned(), kind, status, description, time_ms: crate::sys::time::now_ms() }
    }
}

/// Where events go besides sonde's log: the notifications (the agent's
/// hub, or a `--once` run's list). Process-wide, as the log is: events are
/// said from deep in the cycle, and one watchdog runs at a time.
pub type Sink = std::sync::Arc<dyn Fn(crate::notify::Event) + Send + Sync>;

static SINK: std::sync::Mutex<Option<Sink>> = std::sync::Mutex::new(None);

/// Sets where events go from now on.
pub fn set_sink(sink: Sink) {
    *SINK.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sink);
}

/// Says an event: one line of sonde's log (`watch: 'web' process is not
/// running`), and, for a state change, a notification.
pub fn report(e: &Event) {
    match e.status {
        Status::Failed if e.kind == Kind::Timeout => log::error!("watch: '{}' {}", e.service, e.description),
        Status::Failed | Status::Changed => log::warn!("watch: '{}' {}", e.service, e.description),
        Status::Succeeded | Status::Info => log::info!("watch: '{}' {}", e.service, e.description),
    }
    let sink = SINK.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let (Some(sink), Some(n)) = (sink, e.notification()) {
        sink(n);
    }
}

impl Event {
    /// The notification of a state change (issue 18's four: failed,
    /// restarted, gave up, recovered; and a file changed), Monit's
    /// `$EVENT` its `event`; None for what only the log says (a program
    /// run, a start).
    pub fn notification(&self) -> Option<crate::notify::Event> {
        use crate::notify::{Event as N, Severity, State, Subject};
        let (alertname, severity, state, event, action) = match (self.kind, self.status) {
            (Kind::Timeout, Status::Failed) => {
                ("ServiceGaveUp", Severity::Critical, State::Firing, "Timeout", "unmonitor")
            }
            (Kind::Timeout, _) => ("ServiceGaveUp", Severity::Critical, State::Resolved, "Monitoring resumed", "alert"),
            (Kind::Action, _) if self.description == RESTARTING => {
                ("ServiceRestarted", Severity::Warning, State::Once, "Action done", "restart")
            }
            (Kind::Exec, Status::Failed) => {
                ("ServiceExecFailed", Severity::Warning, State::Once, "Execution failed", "alert")
            }
            (Kind::Checksum, Status::Changed) => {
                ("FileChanged", Severity::Warning, State::Once, "Checksum changed", "alert")
            }
            (Kind::Content, Status::Changed) => {
                ("FileContentMatched", Severity::Warning, State::Once, "Content match", "alert")
            }
            (Kind::Action | Kind::Exec, _) | (_, Status::Info | Status::Changed) => return None,
            (k, Status::Failed) => ("ServiceFailed", Severity::Critical, State::Firing, failed_words(k), "alert"),
            (k, Status::Succeeded) => {
                ("ServiceFailed", Severity::Critical, State::Resolved, succeeded_words(k), "alert")
            }
        };
        let mut n = N::new(
            alertname,
            Subject::Service,
            &self.service,
            severity,
            state,
            event,
            action,
            &self.description,
            std::time::Duration::ZERO,
        );
        n.time_ms = self.time_ms;
        n.starts_ms = self.time_ms;
        Some(n)
    }
}

/// The words of the restart action's event, which notifications tell.
pub const RESTARTING: &str = "trying to restart";

/// Monit's `$EVENT` for a failure of this kind.
fn failed_words(k: Kind) -> &'static str {
    match k {
        Kind::Nonexist => "Does not exist",
        Kind::Connection => "Connection failed",
        Kind::Resource => "Resource limit matched",
        Kind::Permission => "Permission failed",
        Kind::Uid => "UID failed",
        Kind::Gid => "GID failed",
        Kind::Size => "Size failed",
        Kind::Timestamp => "Timestamp failed",
        Kind::Checksum => "Checksum failed",
        Kind::Invalid => "Invalid type",
        Kind::Content => "Content match",
        Kind::Status => "Status failed",
        _ => "Does not exist",
    }
}

/// Monit's `$EVENT` for a recovery of this kind.
fn succeeded_words(k: Kind) -> &'static str {
    match k {
        Kind::Nonexist | Kind::File => "Exists",
        Kind::Connection => "Connection succeeded",
        Kind::Resource => "Resource limit succeeded",
        Kind::Permission => "Permission succeeded",
        Kind::Uid => "UID succeeded",
        Kind::Gid => "GID succeeded",
        Kind::Size => "Size succeeded",
        Kind::Timestamp => "Timestamp succeeded",
        Kind::Invalid => "Type succeeded",
        Kind::Content => "Content doesn't match",
        Kind::Status => "Status succeeded",
        _ => "Checksum succeeded",
    }
}
