//! The `process_*` families every Prometheus exporter exposes about itself
//! (the client libraries' process collector): sonde's own CPU time,
//! memory, file descriptors and start time, with client_golang's names,
//! types and help texts, so the exporter panels of a dashboard made for
//! node_exporter show sonde.
//!
//! They describe the running process, so they are read from the real
//! /proc/self whatever `--procfs` says (a fixture tree has no sonde in it).
//! A file that cannot be read costs its families, never the scrape: each
//! family is written only from what was read.

use std::path::Path;

use crate::expo::{Exposition, MetricType};
use crate::limits::MAX_PROC_FILE;
use crate::sys::file::read_bounded;
use crate::wire::proc::{pid_stat, stat};

/// What does not change while the process lives, read once.
#[derive(Default)]
pub struct Process {
    /// Seconds since the epoch at which sonde started, once known.
    start_time: Option<f64>,
}

impl Process {
    /// Writes the families into `out`; `buf` is scratch for the reads.
    pub fn render(&mut self, buf: &mut Vec<u8>, out: &mut Exposition) {
        let stat =
            read_bounded(Path::new("/proc/self/stat"), buf, MAX_PROC_FILE).ok().and_then(|()| pid_stat::stat(buf).ok());
        if self.start_time.is_none() {
            self.start_time = stat.and_then(|s| Some(boot_time(buf)? + s.starttime as f64 / stat::USER_HZ));
        }
        if let Some(s) = stat {
            out.family(
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
                MetricType::Counter,
            );
            out.sample(&[], (s.utime + s.stime) as f64 / stat::USER_HZ);
        }
        if let Some(n) = open_fds() {
            out.family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge);
            out.sample(&[], n as f64);
        }
        if let Some(n) = soft_limit(Limit::Files) {
            out.family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge);
            out.sample(&[], n);
        }
        if let Some(s) = stat {
            out.family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge);
            out.sample(&[], s.vsize as f64);
        }
        if let Some(n) = soft_limit(Limit::AddressSpace) {
            out.family(
                "process_virtual_memory_max_bytes",
                "Maximum amount of virtual memory available in bytes.",
                MetricType::Gauge,
            );
            out.sample(&[], n);
        }
        if let Some(s) = stat {
            out.family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge);
            out.sample(&[], s.rss as f64 * page_size());
        }
        if let Some(t) = self.start_time {
            out.family(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                MetricType::Gauge,
            );
            out.sample(&[], t);
        }
    }
}

/// /proc/stat's `btime`: the boot, in seconds since the epoch.
fn boot_time(buf: &mut Vec<u8>) -> Option<f64> {
    read_bounded(Path::new("/proc/stat"), buf, MAX_PROC_FILE).ok()?;
    stat::parse(buf).find_map(|line| match line {
        Ok(stat::Line::Btime(t)) => Some(t as f64),
        _ => None,
    })
}

/// The entries of /proc/self/fd, counted without keeping their names.
fn open_fds() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.filter(|e| e.is_ok()).count())
}

enum Limit {
    Files,
    AddressSpace,
}

/// The soft limit on `which`; an unlimited one is reported as
/// client_golang reports it, the largest 64-bit number.
fn soft_limit(which: Limit) -> Option<f64> {
    // The resource's type differs between C libraries; let it be inferred.
    let resource = match which {
        Limit::Files => libc::RLIMIT_NOFILE,
        Limit::AddressSpace => libc::RLIMIT_AS,
    };
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit into the struct it is given.
    if unsafe { libc::getrlimit(resource, &raw mut limit) } != 0 {
        return None;
    }
    Some(if limit.rlim_cur == libc::RLIM_INFINITY { u64::MAX as f64 } else { limit.rlim_cur as f64 })
}

fn page_size() -> f64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as f64
}
