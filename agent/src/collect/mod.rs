//! Collectors: one file each, and the ordered registry that runs them.
//!
//! A collector reads what it needs through its [`Context`] (files under
//! the configured procfs and sysfs roots, or a system call) and renders
//! what it read with a pure function of those bytes, so a fixture tests it
//! and a fixture tree under `tests/` stands in for a whole machine.
//!
//! [`Scraper::collect`] runs every enabled collector in [`ALL`]'s order
//! and [`Scraper::render`] reports each one's success and duration: in
//! node_exporter's `node_scrape_collector_success` and
//! `node_scrape_collector_duration_seconds` for the collectors that stand
//! for node_exporter's (its dashboards read them), in `sonde_collector_*`
//! for the daemons' (chrony, unbound). A failing collector never fails the
//! scrape: whatever it wrote before failing is kept if it is valid (a
//! meminfo with one garbage line still reports the other fields), and its
//! success is 0. A collector whose output would not fit the exposition is
//! removed whole and counted in `sonde_exposition_overflow_total`.

mod arp;
pub mod chrony;
mod common;
mod conntrack;
mod cpu;
mod cpufreq;
pub mod daemon;
mod diskstats;
mod entropy;
mod filefd;
pub mod filesystem;
mod hwmon;
mod loadavg;
mod meminfo;
mod netclass;
pub mod netdev;
mod netstat;
mod os;
mod powersupplyclass;
mod pressure;
mod process;
mod processes;
mod schedstat;
mod selinux;
mod sockstat;
mod softnet;
mod stat;
mod textfile;
mod thermal_zone;
mod time;
mod timex;
mod udp_queues;
mod uname;
pub mod unbound;
mod vmstat;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::expo::{Exposition, MetricType};
use crate::limits::{MAX_DIR_ENTRIES, MAX_EXPOSITION, MAX_PROC_FILE};
use crate::sys::file::{read_attribute, read_bounded, Dir};
use crate::sys::log;
use crate::sys::time::{Change, Transition};
use crate::wire;

/// A source of metrics.
pub trait Collector: Sync {
    /// Its name in flags, config and the `collector` label.
    fn name(&self) -> &'static str;
    /// Writes its families; an error marks it failed for this scrape.
    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error>;
    /// Whether it runs when the config does not name it; node_exporter's
    /// `defaultEnabled`/`defaultDisabled`.
    fn default_enabled(&self) -> bool {
        true
    }
    /// Whether it stands for one of node_exporter's collectors, and so
    /// reports in node_exporter's `node_scrape_collector_*` families, where
    /// its dashboards look; the daemons' collectors report in sonde's own.
    fn node_exporter(&self) -> bool {
        true
    }
}

/// Every collector, in the order of `--help`, the config reference and
/// the exposition. Adding one is adding a file and a line here.
///
/// cpu and stat stand together because both read /proc/stat, and a file
/// read by two collectors in a row is read once ([`Context::proc`]). The
/// cheap host collectors (one small file or call each) come first, then
/// the network ones, then those that walk sysfs or stat mounts, then the
/// optional ones (processes is off unless named; textfile reads nothing
/// without `[textfile] directory`). The daemons' collectors follow the
/// host's.
pub const ALL: &[&dyn Collector] = &[
    &cpu::Cpu,
    &stat::Stat,
    &loadavg::Loadavg,
    &meminfo::Meminfo,
    &vmstat::Vmstat,
    &pressure::Pressure,
    &schedstat::Schedstat,
    &entropy::Entropy,
    &filefd::Filefd,
    &time::Time,
    &timex::Timex,
    &uname::Uname,
    &os::Os,
    &selinux::Selinux,
    &netdev::Netdev,
    &netclass::Netclass,
    &arp::Arp,
    &sockstat::Sockstat,
    &netstat::Netstat,
    &udp_queues::UdpQueues,
    &softnet::Softnet,
    &conntrack::Conntrack,
    &diskstats::Diskstats,
    &filesystem::Filesystem,
    &thermal_zone::ThermalZone,
    &hwmon::Hwmon,
    &cpufreq::Cpufreq,
    &powersupplyclass::Powersupplyclass,
    &processes::Processes,
    &textfile::Textfile,
    &chrony::Chrony,
    &unbound::Unbound,
];

/// The collectors' names, in [`ALL`]'s order.
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|c| c.name())
}

/// The position in [`ALL`] of the collector called `name`.
pub fn index(name: &str) -> Option<usize> {
    names().position(|n| n == name)
}

/// Whether each collector of [`ALL`] runs when the config does not name it.
pub fn defaults() -> Vec<bool> {
    ALL.iter().map(|c| c.default_enabled()).collect()
}

/// What the collectors read, and how: `[paths]`, `[collectors]` and the
/// collectors' own sections, validated. A collector sees these, never the
/// rest of the config (push credentials, checks).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub procfs: PathBuf,
    pub sysfs: PathBuf,
    /// The host's own root (`[paths] rootfs`): where os-release, the udev
    /// database and the mount points are.
    pub rootfs: PathBuf,
    /// Whether each collector of [`ALL`] runs, by index.
    pub enabled: Vec<bool>,
    pub filesystem: filesystem::Settings,
    /// `[netdev]`: the devices netdev and netclass report.
    pub netdev: netdev::Devices,
    /// `[netclass] all_attributes`: every attribute node_exporter reads,
    /// not only the basic ones.
    pub netclass_all_attributes: bool,
    /// `[textfile] directory`; without one the textfile collector reports
    /// only `node_textfile_scrape_error 0`.
    pub textfile: Option<PathBuf>,
    pub chrony: chrony::Settings,
    pub unbound: unbound::Settings,
}

impl Default for Settings {
    /// Every setting as it is when the file does not mention it.
    fn default() -> Self {
        Settings {
            procfs: "/proc".into(),
            sysfs: "/sys".into(),
            rootfs: "/".into(),
            enabled: defaults(),
            filesystem: filesystem::Settings::default(),
            netdev: netdev::Devices::default(),
            netclass_all_attributes: false,
            textfile: None,
            chrony: chrony::Settings::default(),
            unbound: unbound::Settings::default(),
        }
    }
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
    /// A daemon's control socket could not be reached, or did not answer
    /// `command` in time.
    Socket {
        peer: String,
        command: &'static str,
        err: io::Error,
    },
    /// A daemon answered `command` with an error or with bytes that do not
    /// parse.
    Reply {
        peer: String,
        command: &'static str,
        err: wire::Error,
    },
    /// A daemon that belongs here does not answer anywhere; `first` says
    /// what the first place said.
    Down {
        daemon: &'static str,
        why: String,
        first: Box<Error>,
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
            Error::Socket { peer, command, err } => write!(f, "{peer}: {command}: {err}"),
            Error::Reply { peer, command, err } => write!(f, "{peer}: {command}: {err}"),
            Error::Down { daemon, why, first } => write!(f, "{daemon} does not answer ({first}), and {why}"),
            Error::Rejected => f.write_str("some samples were invalid and left out"),
            Error::Overflow => write!(f, "output larger than the exposition limit ({MAX_EXPOSITION} bytes); left out"),
        }
    }
}

/// What a collector may read, and a buffer to read it into.
pub struct Context<'a> {
    settings: &'a Settings,
    buf: &'a mut Vec<u8>,
    /// A second buffer, swapped in by [`Context::take_bytes`].
    spare: &'a mut Vec<u8>,
    path: &'a mut PathBuf,
    /// The path being asked for, built here so that asking allocates
    /// nothing once both paths have grown to size.
    next: &'a mut PathBuf,
    /// `buf` holds the whole of `path`, read in this scrape.
    holds_path: bool,
}

/// The tree a path is under: `[paths] procfs`, `sysfs` or `rootfs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    Proc,
    Sys,
    /// The host's own files (/etc/os-release, /run/udev/data, mount
    /// points), as node_exporter's `--path.rootfs`.
    Rootfs,
}

impl<'a> Context<'a> {
    /// The collectors' settings, for those with a section of their own.
    pub fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// Reads `rel` under the procfs root; the bytes live until the next
    /// read. The same file asked for twice in a row is read once.
    /// An empty file is an error: every /proc file a collector reads has
    /// at least a line when the kernel has it, so empty means something
    /// in between (a bind mount, a broken procfs) and must not pass as a
    /// success with no series.
    pub fn proc(&mut self, rel: &str) -> Result<&[u8], Error> {
        self.read(Root::Proc, &[rel])?;
        if self.buf.is_empty() {
            return Err(Error::Parse { path: self.path.clone(), err: crate::wire::Error::at(0, "empty file") });
        }
        Ok(self.buf)
    }

    /// Reads `rel` under the sysfs root; the bytes live until the next read.
    pub fn sys(&mut self, rel: &str) -> Result<&[u8], Error> {
        self.read(Root::Sys, &[rel])
    }

    /// The full path of `rel` under the sysfs root, for directory walks.
    pub fn sys_path(&self, rel: &str) -> PathBuf {
        self.settings.sysfs.join(rel)
    }

    /// A parse error in the file read last.
    pub fn parse_error(&self, err: wire::Error) -> Error {
        Error::Parse { path: self.path.clone(), err }
    }

    /// The path `parts` joined under `root`; valid until the next call.
    pub fn path(&mut self, root: Root, parts: &[&str]) -> &Path {
        self.next.clear();
        self.next.push(match root {
            Root::Proc => &self.settings.procfs,
            Root::Sys => &self.settings.sysfs,
            Root::Rootfs => &self.settings.rootfs,
        });
        for part in parts {
            // A part from the input (a device name) may not climb out of
            // its root, nor jump to another one.
            if part.is_empty() || *part == ".." || part.starts_with('/') {
                self.next.push("\0");
            } else {
                self.next.push(part);
            }
        }
        self.next
    }

    /// Reads the file at `parts` joined under `root` (`["class/net",
    /// "eth0", "mtu"]`); the bytes live until the next read. The same file
    /// asked for twice in a row is read once.
    pub fn read(&mut self, root: Root, parts: &[&str]) -> Result<&[u8], Error> {
        if self.fetch(root, parts)? {
            Ok(self.buf)
        } else {
            Err(Error::Io { path: self.path.clone(), err: io::ErrorKind::NotFound.into() })
        }
    }

    /// [`Context::read`], with `None` for a file that does not exist: a
    /// kernel without the feature. Costs no allocation then, as the error
    /// (which holds the path) would.
    pub fn read_opt(&mut self, root: Root, parts: &[&str]) -> Result<Option<&[u8]>, Error> {
        Ok(if self.fetch(root, parts)? { Some(self.buf) } else { None })
    }

    /// Reads the file into `buf`, unless it holds it already; false if
    /// the file does not exist.
    fn fetch(&mut self, root: Root, parts: &[&str]) -> Result<bool, Error> {
        self.path(root, parts);
        if self.holds_path && *self.next == *self.path {
            return Ok(true);
        }
        std::mem::swap(self.path, self.next);
        self.holds_path = false;
        let read = if root == Root::Sys { read_attribute } else { read_bounded };
        match read(self.path, self.buf, MAX_PROC_FILE) {
            Ok(()) => {
                self.holds_path = true;
                Ok(true)
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(Error::Io { path: self.path.clone(), err }),
        }
    }

    /// Opens the directory at `parts` under `root`, to read many files in
    /// it with [`Context::read_in`] (a device's attributes).
    pub fn dir(&mut self, root: Root, parts: &[&str]) -> Result<OpenDir, Error> {
        let path = self.path(root, parts).to_path_buf();
        match Dir::open(&path) {
            Ok(dir) => Ok(OpenDir { dir, path }),
            Err(err) => Err(Error::Io { path, err }),
        }
    }

    /// Reads the sysfs attribute `name` of `dir`; the bytes live until the
    /// next read.
    pub fn read_in(&mut self, dir: &OpenDir, name: &str) -> Result<&[u8], Error> {
        self.holds_path = false;
        match dir.dir.read_attribute(name, self.buf, MAX_PROC_FILE) {
            Ok(()) => Ok(self.buf),
            Err(err) => Err(Error::Io { path: dir.path.join(name), err }),
        }
    }

    /// Takes the bytes of the file read last, so that other files can be
    /// read while they are in use; [`Context::give_back`] returns the
    /// buffer, so that neither is allocated again at the next scrape.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        self.holds_path = false;
        let spare = std::mem::take(self.spare);
        std::mem::replace(self.buf, spare)
    }

    pub fn give_back(&mut self, bytes: Vec<u8>) {
        *self.spare = bytes;
    }

    /// The names in the directory at `parts` under `root`, sorted; with
    /// `dirs`, regular files are left out (`bonding_masters` among the
    /// network devices). A directory with more than [`MAX_DIR_ENTRIES`]
    /// entries is an error (the first ones are not reported: which ones
    /// they are would be arbitrary). Used for the small directories of
    /// sysfs (network devices, sensors), so it allocates each name.
    pub fn list(&mut self, root: Root, parts: &[&str], dirs: bool) -> Result<Vec<String>, Error> {
        self.path(root, parts);
        let io = |err| Error::Io { path: self.next.clone(), err };
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.next).map_err(io)? {
            let entry = entry.map_err(io)?;
            if dirs && entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let name = entry.file_name();
            if names.len() == MAX_DIR_ENTRIES {
                return Err(io(io::Error::new(io::ErrorKind::FileTooLarge, "too many entries")));
            }
            // Kernel object names are ASCII; another name is not one.
            if let Ok(name) = name.into_string() {
                names.push(name);
            }
        }
        common::sort_names(&mut names);
        Ok(names)
    }
}

/// A directory held open by [`Context::dir`].
pub struct OpenDir {
    dir: Dir,
    path: PathBuf,
}

impl Error {
    /// The file or directory does not exist: on most collectors, a kernel
    /// without the feature, which is no data rather than a failure.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Io { err, .. } if err.kind() == io::ErrorKind::NotFound)
    }
}

/// Buffers and per-collector state kept between scrapes.
pub struct Scraper {
    buf: Vec<u8>,
    spare: Vec<u8>,
    paths: (PathBuf, PathBuf),
    /// Whether each collector failed last time, so a failure is logged
    /// when it starts and when it ends, not at every scrape.
    failing: Vec<Transition>,
    /// Collector outputs left out for size, and invalid writes refused,
    /// over the Scraper's life (the process's, in daemon mode). Plain
    /// fields rather than atomics: scrapes are serialised on the Scraper,
    /// and 32-bit MIPS has no 64-bit atomics.
    overflows: u64,
    invalid: u64,
    /// sonde's own `process_*` families.
    process: process::Process,
}

/// One collector's part of a scrape.
pub struct CollectorRun {
    pub name: &'static str,
    /// Reported in node_exporter's families rather than sonde's.
    pub node_exporter: bool,
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
            buf: Vec::new(),
            spare: Vec::new(),
            paths: (PathBuf::new(), PathBuf::new()),
            failing: vec![Transition::default(); ALL.len()],
            overflows: 0,
            invalid: 0,
            process: process::Process::default(),
        }
    }

    /// Runs the enabled collectors into `out`, each one's result into
    /// `runs`. A collector whose output crosses `out`'s limit is removed
    /// whole. Failures are logged when they start and when they end (with
    /// `log`).
    pub fn collect(&mut self, settings: &Settings, out: &mut Exposition, runs: &mut Vec<CollectorRun>, log: bool) {
        runs.clear();
        let mut cx = Context {
            settings,
            buf: &mut self.buf,
            spare: &mut self.spare,
            path: &mut self.paths.0,
            next: &mut self.paths.1,
            holds_path: false,
        };
        let invalid_before = out.invalid;
        for (i, collector) in ALL.iter().enumerate() {
            if !settings.enabled.get(i).copied().unwrap_or(false) {
                continue;
            }
            let start = Instant::now();
            out.mark();
            let mut result = collector.collect(&mut cx, out);
            if out.overflowed() {
                out.rollback();
                self.overflows += 1;
                result = Err(Error::Overflow);
            } else if out.rejected() && result.is_ok() {
                result = Err(Error::Rejected);
            }
            let seconds = start.elapsed().as_secs_f64();
            let name = collector.name();
            let change = self.failing.get_mut(i).and_then(|t| t.update(result.is_err()));
            match (log, change, &result) {
                (true, Some(Change::Started), Err(e)) => log::warn!("collector {name} failed: {e}"),
                (true, Some(Change::Ended), _) => log::info!("collector {name} works again"),
                _ => {}
            }
            runs.push(CollectorRun { name, node_exporter: collector.node_exporter(), seconds, error: result.err() });
        }
        self.invalid += out.invalid - invalid_before;
    }

    /// The collectors' own families: each one's duration and success in
    /// `runs`, and what was left out of the exposition, ever; then the
    /// process's own (`process_*`).
    pub fn render(&mut self, runs: &[CollectorRun], out: &mut Exposition) {
        // node_exporter's names and help texts, word for word: its
        // dashboards show them.
        let node = ("node_scrape_collector", "node_exporter");
        for (node_exporter, (prefix, by)) in [(true, node), (false, ("sonde_collector", "sonde"))] {
            let mine = || runs.iter().filter(move |r| r.node_exporter == node_exporter);
            if mine().next().is_none() {
                continue;
            }
            out.family_parts(
                &[prefix, "_duration_seconds"],
                &[by, ": Duration of a collector scrape."],
                MetricType::Gauge,
            );
            for r in mine() {
                out.sample(&[("collector", r.name)], r.seconds);
            }
            out.family_parts(&[prefix, "_success"], &[by, ": Whether a collector succeeded."], MetricType::Gauge);
            for r in mine() {
                out.sample(&[("collector", r.name)], if r.error.is_none() { 1.0 } else { 0.0 });
            }
        }
        out.family(
            "sonde_exposition_overflow_total",
            "Collector outputs left out of a scrape because the exposition would have exceeded its size limit.",
            MetricType::Counter,
        );
        out.sample(&[], self.overflows as f64);
        out.family(
            "sonde_exposition_invalid_total",
            "Families and samples left out of a scrape because their name, labels or a duplicate made them invalid.",
            MetricType::Counter,
        );
        out.sample(&[], self.invalid as f64);
        self.process.render(&mut self.buf, out);
    }
}

/// The items of a parser's `results` that parsed, in order; the first
/// error is kept in `first`, for the collector to return after it has
/// written everything good (a garbage line costs that line, not the file).
pub(crate) fn keep_first_error<'a, T: 'a, E: 'a>(
    results: impl IntoIterator<Item = Result<T, E>> + 'a,
    first: &'a mut Option<E>,
) -> impl Iterator<Item = T> + 'a {
    results.into_iter().filter_map(move |r| match r {
        Ok(v) => Some(v),
        Err(e) => {
            first.get_or_insert(e);
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// See: the goal of an allocation-free scrape path for the
    /// /proc parsers, held for their collectors as a whole: a warm scrape of
    /// each over the OpenWrt-like tree allocates at most a Vec of the rows
    /// it parsed. (The sysfs walkers, netclass, hwmon, thermal_zone, list
    /// directories and allocate a name per entry; they are not held here.)
    #[test]
    fn proc_collectors_barely_allocate() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/openwrt");
        let config = Settings {
            procfs: format!("{root}/proc").into(),
            sysfs: format!("{root}/sys").into(),
            rootfs: format!("{root}/root").into(),
            ..Settings::default()
        };
        let mut scraper = Scraper::new();
        let mut out = Exposition::new(MAX_EXPOSITION);
        let mut runs = Vec::new();
        let proc_only = [
            "cpu",
            "stat",
            "loadavg",
            "vmstat",
            "pressure",
            "entropy",
            "filefd",
            "timex",
            "os",
            "netdev",
            "arp",
            "sockstat",
            "netstat",
            "udp_queues",
            "softnet",
            "conntrack",
            "diskstats",
        ];
        for name in proc_only {
            let mut only = config.clone();
            only.enabled = names().map(|n| n == name).collect();
            // Warm: buffers grow to size in the first scrapes.
            for _ in 0..3 {
                out.clear();
                scraper.collect(&only, &mut out, &mut runs, false);
            }
            let n = crate::wire::proc::tests::counting::count(|| {
                out.clear();
                scraper.collect(&only, &mut out, &mut runs, false);
            });
            assert!(n <= 3, "{name}: {n} allocations in a warm scrape");
        }
    }

    #[test]
    fn names_are_unique_and_valid_label_values() {
        let mut seen = std::collections::HashSet::new();
        for name in names() {
            assert!(seen.insert(name), "{name} twice");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }
}
