//! `processes`: processes and threads by state, and the kernel's limits,
//! as node_exporter's `processes` collector (off by default there and
//! here: it reads a file per thread): `node_processes_pids`,
//! `node_processes_threads`, `node_processes_state{state}`,
//! `node_processes_threads_state{thread_state}`,
//! `node_processes_max_processes` (/proc/sys/kernel/pid_max) and
//! `node_processes_max_threads` (/proc/sys/kernel/threads-max).
//!
//! States are proc(5)'s letters (R running, S sleeping, D disk sleep, Z
//! zombie, I idle, T stopped, …). A process or thread that exits during
//! the walk is skipped, as node_exporter skips it. The walk stops with a
//! failure past [`MAX_PROCESSES`] entries, so a fork bomb costs a bounded
//! scrape.

use std::os::unix::ffi::OsStrExt;

use super::common::single;
use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::limits::MAX_PROCESSES;
use crate::wire::parse_u64;
use crate::wire::proc::{number, pid_stat};

pub struct Processes;

/// Counts per state letter, `A`..=`Z` then `a`..=`z`.
type States = [u64; 52];

fn slot(state: u8) -> Option<usize> {
    match state {
        b'A'..=b'Z' => Some(usize::from(state - b'A')),
        b'a'..=b'z' => Some(26 + usize::from(state - b'a')),
        _ => None,
    }
}

impl Collector for Processes {
    fn name(&self) -> &'static str {
        "processes"
    }

    fn default_enabled(&self) -> bool {
        false
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let (mut pids, mut threads, mut walked) = (0u64, 0u64, 0usize);
        let mut states: States = [0; 52];
        let mut thread_states: States = [0; 52];
        let root = cx.path(Root::Proc, &[]).to_path_buf();
        let io = |err| Error::Io { path: root.clone(), err };
        let mut digits = [0u8; 20];
        for entry in std::fs::read_dir(&root).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            let Some(pid) = parse_u64(name.as_bytes()) else { continue };
            walked += 1;
            if walked > MAX_PROCESSES {
                return Err(io(std::io::Error::other("more processes than sonde counts")));
            }
            let pid = crate::expo::decimal(pid, &mut digits);
            // Gone since the listing, or a kernel thread we may not read.
            let Ok(raw) = cx.read(Root::Proc, &[pid, "stat"]) else { continue };
            let (state, n) = pid_stat::parse(raw).map_err(|e| cx.parse_error(e))?;
            pids += 1;
            threads += n;
            if let Some(s) = slot(state) {
                states[s] += 1;
            }
            let Ok(tasks) = cx.list(Root::Proc, &[pid, "task"], false) else { continue };
            for tid in &tasks {
                walked += 1;
                if walked > MAX_PROCESSES {
                    return Err(io(std::io::Error::other("more threads than sonde counts")));
                }
                let state = if tid.as_str() == pid {
                    Some(state)
                } else {
                    cx.read(Root::Proc, &[pid, "task", tid, "stat"])
                        .ok()
                        .and_then(|r| pid_stat::parse(r).ok())
                        .map(|p| p.0)
                };
                if let Some(s) = state.and_then(slot) {
                    thread_states[s] += 1;
                }
            }
        }
        single(out, "node_processes_threads", "Allocated threads in system", MetricType::Gauge, threads as f64);
        let max_threads = limit(cx, "sys/kernel/threads-max")?;
        single(out, "node_processes_max_threads", "Limit of threads in the system", MetricType::Gauge, max_threads);
        write_states(out, "node_processes_state", "Number of processes in each state.", "state", &states);
        let help = "Number of threads in each state.";
        write_states(out, "node_processes_threads_state", help, "thread_state", &thread_states);
        single(out, "node_processes_pids", "Number of PIDs", MetricType::Gauge, pids as f64);
        let max_pids = limit(cx, "sys/kernel/pid_max")?;
        single(out, "node_processes_max_processes", "Number of max PIDs limit", MetricType::Gauge, max_pids);
        Ok(())
    }
}

fn limit(cx: &mut Context<'_>, file: &str) -> Result<f64, Error> {
    let raw = cx.proc(file)?;
    number::parse(raw).map(|v| v as f64).map_err(|e| cx.parse_error(e))
}

fn write_states(out: &mut Exposition, name: &str, help: &str, label: &str, counts: &States) {
    out.family(name, help, MetricType::Gauge);
    for (i, &n) in counts.iter().enumerate().filter(|(_, &n)| n > 0) {
        let letter = if i < 26 { b'A' + i as u8 } else { b'a' + (i - 26) as u8 };
        let letter = [letter];
        // One ASCII letter is valid UTF-8.
        let state = std::str::from_utf8(&letter).unwrap_or("?");
        out.sample(&[(label, state)], n as f64);
    }
}
