//! `stat`: kernel activity counters and boot time, from /proc/stat.
//!
//! node_exporter's `stat` collector names. Uptime is not a metric of its
//! own in node_exporter; dashboards compute it as
//! `node_time_seconds - node_boot_time_seconds`.

use super::{keep_first_error, Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::stat::{self, Line};

pub struct Stat;

impl Collector for Stat {
    fn name(&self) -> &'static str {
        "stat"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let bytes = cx.proc("stat")?;
        render(bytes, out).map_err(|e| cx.parse_error(e))
    }
}

/// Writes the families present in /proc/stat's bytes.
pub fn render(bytes: &[u8], out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut error = None;
    let mut v: [Option<u64>; 6] = [None; 6];
    for line in keep_first_error(stat::parse(bytes), &mut error) {
        match line {
            Line::Btime(n) => v[0] = Some(n),
            Line::Ctxt(n) => v[1] = Some(n),
            Line::Processes(n) => v[2] = Some(n),
            Line::Intr(n) => v[3] = Some(n),
            Line::ProcsBlocked(n) => v[4] = Some(n),
            Line::ProcsRunning(n) => v[5] = Some(n),
            _ => {}
        }
    }
    const FAMILIES: [(&str, &str, MetricType); 6] = [
        ("node_boot_time_seconds", "Node boot time, in unixtime.", MetricType::Gauge),
        ("node_context_switches_total", "Total number of context switches.", MetricType::Counter),
        ("node_forks_total", "Total number of forks.", MetricType::Counter),
        ("node_intr_total", "Total number of interrupts serviced.", MetricType::Counter),
        ("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", MetricType::Gauge),
        ("node_procs_running", "Number of processes in runnable state.", MetricType::Gauge),
    ];
    for ((name, help, kind), value) in FAMILIES.iter().zip(v) {
        if let Some(value) = value {
            out.family(name, help, *kind);
            out.sample(&[], value as f64);
        }
    }
    if error.is_none() && v[0].is_none() {
        error = Some(crate::wire::Error::at(0, "no btime line"));
    }
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_boot_time() {
        let mut out = Exposition::new(1 << 20);
        render(
            b"cpu0 1 2 3 4\nintr 77 1 2\nctxt 5\nbtime 1700000000\nprocesses 9\nprocs_running 2\nprocs_blocked 1\n",
            &mut out,
        )
        .unwrap();
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        for line in [
            "node_boot_time_seconds 1700000000\n",
            "node_context_switches_total 5\n",
            "node_forks_total 9\n",
            "node_intr_total 77\n",
            "node_procs_blocked 1\n",
            "node_procs_running 2\n",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn a_stat_without_btime_is_an_error() {
        let mut out = Exposition::new(1 << 20);
        assert!(render(b"ctxt 5\n", &mut out).is_err());
        assert!(std::str::from_utf8(out.as_bytes()).unwrap().contains("node_context_switches_total 5"));
    }
}
