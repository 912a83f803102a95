//! Logs: files followed through rotation, forwarded as syslog, and
//! counted by rules (mtail's job), so a box needs no second agent for
//! `tail -F | logger` or for an alert on fail2ban's bans.
//!
//! A `[[log]]` names a file or a glob (or `sonde`, sonde's own log) and,
//! with `syslog = "udp://…" | "tcp://…" | "tls://…"`, where its lines go;
//! a `[[log_rule]]` names a path, a regex and what its matches count.
//! Each distinct path is followed once, and its lines go to its
//! forwarder and to every rule on it.
//!
//! Files ([`follow`]): polled every [`LOG_POLL`](crate::limits::LOG_POLL);
//! a file is known by (device, inode), the hash of its head and of the
//! bytes before the position ([`crate::wire::logstate`]), so a rename, a
//! copytruncate, a delete and recreate, an inode reused and a rotation
//! while sonde was stopped are each told apart; a renamed file is drained
//! before it is let go, a truncated one is read on from its copy when
//! the copy is found. Lines are bounded
//! ([`MAX_LOG_LINE`](crate::limits::MAX_LOG_LINE)); everything skipped
//! is counted with its reason.
//!
//! Forwarding ([`forward`]): lines become RFC 5424 (or 3164) messages
//! ([`crate::wire::syslog`]) in batches that go through the generic
//! delivery ([`crate::deliver`]): a queue (memory first, the spool if
//! asked), a sender with backoff, and the accounting, per `[[log]]`:
//! read = forwarded + dropped + queued. The file itself is the first
//! buffer: while a forwarder's memory is full, its file is not read
//! further, and a file that rotates meanwhile stays open until drained.
//!
//! Positions ([`state`]): a file's position moves when its lines are
//! delivered (or spooled), never when they are read, so a SIGKILL loses
//! nothing and repeats nothing; they are kept in `[paths] state_dir`, the
//! state file written rarely and atomically, a journal appended between
//! (never fsynced), so `--once` from cron goes on where the last run
//! stopped.
//!
//! Rules ([`rules`]): a regex per rule, a counter per rule and per label
//! set of its named groups (bounded), optionally the last value and a
//! histogram of a captured number, and an [`rules::Event`] per match for
//! the rules that raise them (a log line until notifications exist).
//!
//! Threads: one follower (`sonde-logs`) for every path, and one sender per
//! forwarding `[[log]]` (`sonde-log-send`).

pub mod follow;
pub mod forward;
pub mod render;
pub mod rules;
pub mod service;
pub mod state;

use std::path::PathBuf;
use std::time::Duration;

use crate::tls::ClientTls;
use crate::wire::regex::Regex;
use crate::wire::syslog::Format;

pub use service::{once, Logs};

/// The `path` that names sonde's own log.
pub const OWN: &str = "sonde";

/// `[[log]]` and `[[log_rule]]`, validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pub logs: Vec<Log>,
    pub rules: Vec<Rule>,
    /// `[paths] state_dir`: positions, and the spools.
    pub state_dir: PathBuf,
}

impl Settings {
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty() && self.rules.is_empty()
    }
}

/// Where a file is first read from when no position is known for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Its end, as `tail -F`: for the files there at the first start.
    /// Files that appear later are read from their start.
    End,
    Beginning,
}

/// One `[[log]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Log {
    /// As written: a file, a glob, or [`OWN`]; also the `path` label.
    pub path: String,
    pub start: Start,
    /// Invalid UTF-8 is replaced by U+FFFD (else passed through).
    pub replace_invalid: bool,
    pub forward: Option<Forward>,
}

impl Log {
    /// A `[[log]]` of `path` that only reads (for rules), with defaults.
    pub fn new(path: &str) -> Log {
        Log { path: path.to_owned(), start: Start::End, replace_invalid: false, forward: None }
    }
}

/// How lines reach the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// RFC 5426: one message per datagram.
    Udp,
    /// RFC 6587.
    Tcp,
    /// RFC 5425.
    Tls,
}

/// A `[[log]]`'s forwarding: `syslog` and the keys that go with it.
#[derive(Clone, Debug, PartialEq)]
pub struct Forward {
    /// As written, for the log.
    pub url: String,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub format: Format,
    pub facility: u8,
    pub severity: u8,
    /// Named groups `severity` and `facility` set them from the line.
    pub priority_regex: Option<Regex>,
    pub hostname: String,
    /// None: each file's name up to its first dot.
    pub app_name: Option<String>,
    /// TCP and TLS: each message as `LEN SP MSG` (RFC 6587 octet
    /// counting); else ended by a line feed, for receivers that want it.
    pub octet_counting: bool,
    /// Longest message (header included); longer lines are cut, counted.
    pub max_message: usize,
    /// For one batch: connect, handshake and write.
    pub timeout: Duration,
    pub memory_cap: usize,
    /// Keep undelivered lines in a spool under the state directory
    /// (else they wait in memory and in the file itself).
    pub spool: bool,
    pub spool_cap: u64,
    pub max_age: Duration,
    /// For `tls://`.
    pub tls: ClientTls,
}

/// One `[[log_rule]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// The `rule` label.
    pub name: String,
    pub path: String,
    pub regex: Regex,
    /// Named groups whose text labels the counter, in order.
    pub labels: Vec<String>,
    /// A named group whose number is recorded (last value, histogram).
    pub value: Option<String>,
    /// The histogram's upper bounds; empty: no histogram.
    pub buckets: Vec<f64>,
    /// Each match raises an event (a notification, once they exist).
    pub notify: bool,
}

/// The default histogram bounds (Prometheus' client libraries').
pub const DEFAULT_BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
