//! Collectors: one file each, and the ordered registry that runs them.
//!
//! A collector reads what it needs through its [`Context`] (files under
//! the configured procfs and sysfs roots, or a system call) and renders
//! what it read with a pure function of those bytes, so a fixture tests it
//! and a fixture tree under `tests/` stands in for a whole machine.
//!
//! [`Scraper::scrape`] runs every enabled collector in [`ALL`]'s order and
//! reports each one in `sonde_collector_success` and
//! `sonde_collector_duration_seconds`. A failing collector never fails the
//! scrape: whatever it wrote before failing is kept if it is valid (a
//! meminfo with one garbage line still reports the other fields), and its
//! success is 0. A collector whose output would not fit the exposition is
//! removed whole and counted in `sonde_exposition_overflow_total`.

mod cpu;
mod loadavg;
mod meminfo;
mod stat;
mod time;
mod uname;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::expo::{Exposition, Kind};
use crate::limits::{MAX_EXPOSITION, MAX_PROC_FILE, SELF_RESERVE};
use crate::sys::file::read_bounded;
use crate::wire;

/// A source of metrics.
pub trait Collector: Sync {
    /// Its name in flags, config and the `collector` label.
    fn name(&self) -> &'static str;
    /// Writes its families; an error marks it failed for this scrape.
    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error>;
}

/// Every collector, in the order of `--help`, the config reference and
/// the exposition. Adding one is adding a file and a line here.
///
/// cpu and stat stand together because both read /proc/stat, and a file
/// read by two collectors in a row is read once ([`Context::proc`]).
pub const ALL: &[&dyn Collector] =
    &[&cpu::Cpu, &stat::Stat, &loadavg::Loadavg, &meminfo::Meminfo, &time::Time, &uname::Uname];

/// The collectors' names, in [`ALL`]'s order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|c| c.name())
}

/// The position in [`ALL`] of the collector called `name`.
pub fn index(name: &str) -> Option<usize> {
    names().position(|n| n == name)
}

/// Why a collector failed.
#[derive(Debug)]
pub enum Error {
    Io {
        path: PathBuf,
        err: io::Error,
    },
    Parse {
        path: PathBuf,
        err: wire::Error,
    },
    /// A system call failed.
    Sys {
        call: &'static str,
        err: io::Error,
    },
    /// Some of what it wrote was refused by the exposition (an invalid
    /// name or label, a duplicate family).
    Rejected,
    /// Its output did not fit the exposition and was removed.
    Overflow,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, err } => write!(f, "{}: {err}", path.display()),
            Error::Parse { path, err } => write!(f, "{}: {err}", path.display()),
            Error::Sys { call, err } => write!(f, "{call}: {err}"),
            Error::Rejected => f.write_str("some samples were invalid and left out"),
            Error::Overflow => write!(f, "output larger than the exposition limit ({MAX_EXPOSITION} bytes); left out"),
        }
    }
}

/// What a collector may read, and a buffer to read it into.
pub struct Context<'a> {
    procfs: &'a Path,
    sysfs: &'a Path,
    buf: &'a mut Vec<u8>,
    path: PathBuf,
    /// `buf` holds the whole of `path`, read in this scrape.
    holds_path: bool,
}

impl Context<'_> {
    /// Reads `rel` under the procfs root; the bytes live until the next
    /// read. The same file asked for twice in a row is read once.
    pub fn proc(&mut self, rel: &str) -> Result<&[u8], Error> {
        self.read(true, rel)
    }

    /// Reads `rel` under the sysfs root; the bytes live until the next read.
    pub fn sys(&mut self, rel: &str) -> Result<&[u8], Error> {
        self.read(false, rel)
    }

    /// The full path of `rel` under the sysfs root, for directory walks.
    pub fn sys_path(&self, rel: &str) -> PathBuf {
        self.sysfs.join(rel)
    }

    /// A parse error in the file read last.
    pub fn parse_error(&self, err: wire::Error) -> Error {
        Error::Parse { path: self.path.clone(), err }
    }

    fn read(&mut self, proc: bool, rel: &str) -> Result<&[u8], Error> {
        let root = if proc { self.procfs } else { self.sysfs };
        if self.holds_path && self.path.strip_prefix(root).is_ok_and(|r| r == Path::new(rel)) {
            return Ok(self.buf);
        }
        self.path.clear();
        self.path.push(root);
        self.path.push(rel);
        self.holds_path = false;
        match read_bounded(&self.path, self.buf, MAX_PROC_FILE) {
            Ok(()) => {
                self.holds_path = true;
                Ok(self.buf)
            }
            Err(err) => Err(Error::Io { path: self.path.clone(), err }),
        }
    }
}

/// Output buffers and per-collector state kept between scrapes.
pub struct Scraper {
    out: Exposition,
    buf: Vec<u8>,
    /// Whether each collector failed last time, so a failure is logged
    /// when it starts and when it ends, not at every scrape.
    failing: Vec<bool>,
    /// Collector outputs left out for size, and invalid writes refused,
    /// over the Scraper's life (the process's, in daemon mode). Plain
    /// fields rather than atomics: scrapes are serialised on the Scraper,
    /// and 32-bit MIPS has no 64-bit atomics.
    overflows: u64,
    invalid: u64,
}

/// One collector's result in a scrape.
pub struct Outcome {
    pub name: &'static str,
    pub seconds: f64,
    pub error: Option<Error>,
}

impl Default for Scraper {
    fn default() -> Self {
        Self::new()
    }
}

impl Scraper {
    pub fn new() -> Self {
        Scraper {
            out: Exposition::new(MAX_EXPOSITION),
            buf: Vec::new(),
            failing: vec![false; ALL.len()],
            overflows: 0,
            invalid: 0,
        }
    }

    /// Runs the enabled collectors and the agent's own families; returns
    /// the exposition and each collector's outcome. Failures are logged on
    /// stderr when they start and when they end (with `log`).
    pub fn scrape(&mut self, config: &crate::config::Config, outcomes: &mut Vec<Outcome>, log: bool) -> &[u8] {
        outcomes.clear();
        self.out.clear();
        self.out.set_limit(MAX_EXPOSITION - SELF_RESERVE);
        let mut cx = Context {
            procfs: &config.procfs,
            sysfs: &config.sysfs,
            buf: &mut self.buf,
            path: PathBuf::new(),
            holds_path: false,
        };
        for (i, collector) in ALL.iter().enumerate() {
            if !config.collectors.get(i).copied().unwrap_or(false) {
                continue;
            }
            let start = Instant::now();
            self.out.mark();
            let mut result = collector.collect(&mut cx, &mut self.out);
            if self.out.overflowed() {
                self.out.rollback();
                self.overflows += 1;
                result = Err(Error::Overflow);
            } else if self.out.rejected() && result.is_ok() {
                result = Err(Error::Rejected);
            }
            let seconds = start.elapsed().as_secs_f64();
            let name = collector.name();
            if log {
                match (&result, self.failing[i]) {
                    (Err(e), false) => eprintln!("sonde: collector {name} failed: {e}"),
                    (Ok(()), true) => eprintln!("sonde: collector {name} works again"),
                    _ => {}
                }
            }
            self.failing[i] = result.is_err();
            outcomes.push(Outcome { name, seconds, error: result.err() });
        }
        self.invalid += self.out.invalid;

        // The agent's own families always fit: they have the reserve.
        self.out.set_limit(MAX_EXPOSITION);
        self.out.mark();
        let out = &mut self.out;
        out.family(
            "sonde_build_info",
            "A metric with a constant '1' value labeled by version and target.",
            Kind::Gauge,
        );
        out.sample(&[("target", env!("SONDE_TARGET")), ("version", env!("CARGO_PKG_VERSION"))], 1.0);
        out.family("sonde_collector_duration_seconds", "sonde: Duration of a collector scrape.", Kind::Gauge);
        for o in outcomes.iter() {
            out.sample(&[("collector", o.name)], o.seconds);
        }
        out.family("sonde_collector_success", "sonde: Whether a collector succeeded.", Kind::Gauge);
        for o in outcomes.iter() {
            out.sample(&[("collector", o.name)], if o.error.is_none() { 1.0 } else { 0.0 });
        }
        out.family(
            "sonde_exposition_overflow_total",
            "Collector outputs left out of a scrape because the exposition would have exceeded its size limit.",
            Kind::Counter,
        );
        out.sample(&[], self.overflows as f64);
        out.family(
            "sonde_exposition_invalid_total",
            "Families and samples left out of a scrape because their name, labels or a duplicate made them invalid.",
            Kind::Counter,
        );
        out.sample(&[], self.invalid as f64);
        self.out.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_valid_label_values() {
        let mut seen = std::collections::HashSet::new();
        for name in names() {
            assert!(seen.insert(name), "{name} twice");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }
}
