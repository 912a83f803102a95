//! `cpu`: time each CPU spent in each mode, from /proc/stat.
//!
//! node_exporter's `cpu` collector names: `node_cpu_seconds_total{cpu,mode}`
//! for user, nice, system, idle, iowait, irq, softirq and steal, and
//! `node_cpu_guest_seconds_total{cpu,mode}` for guest time (mode user for
//! `guest`, nice for `guest_nice`). Ticks are converted with USER_HZ. A mode
//! the kernel does not print (old kernels have fewer columns) is left out,
//! not reported as zero.

use super::{keep_first_error, Collector, Context, Error};
use crate::expo::{decimal, Exposition, MetricType};
use crate::wire::proc::stat::{self, Line, CPU_MODES, USER_HZ};

pub struct Cpu;

impl Collector for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let bytes = cx.proc("stat")?;
        render(bytes, out).map_err(|e| cx.parse_error(e))
    }
}

/// Writes the families from /proc/stat's bytes; the first malformed CPU
/// line is the error, after every good one is written.
pub fn render(bytes: &[u8], out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut error = None;
    let mut buf = [0u8; 20];
    let mut opened = false;
    // Guest times go in a family of their own, written after this one.
    let mut guest: Vec<(u32, u64, u64)> = Vec::new();
    for line in keep_first_error(stat::parse(bytes), &mut error) {
        let Line::Cpu { cpu, times, columns } = line else { continue };
        if !opened {
            out.family("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", MetricType::Counter);
            opened = true;
        }
        let label = decimal(u64::from(cpu), &mut buf);
        for (mode, &ticks) in CPU_MODES.iter().zip(&times).take(columns.min(8)) {
            out.sample(&[("cpu", label), ("mode", mode)], ticks as f64 / USER_HZ);
        }
        if columns == 10 {
            guest.push((cpu, times[8], times[9]));
        }
    }
    if !guest.is_empty() {
        out.family(
            "node_cpu_guest_seconds_total",
            "Seconds the CPUs spent in guests (VMs) for each mode.",
            MetricType::Counter,
        );
    }
    for (cpu, user, nice) in guest {
        let label = decimal(u64::from(cpu), &mut buf);
        out.sample(&[("cpu", label), ("mode", "nice")], nice as f64 / USER_HZ);
        out.sample(&[("cpu", label), ("mode", "user")], user as f64 / USER_HZ);
    }
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cpu_label_per_cpu_line() {
        let mut out = Exposition::new(1 << 20);
        render(b"cpu  2 0 2 4 0 0 0 0 0 0\ncpu0 1 0 1 2 0 0 0 0 0 0\ncpu1 100 0 1 2 0 0 0 0 50 7\n", &mut out).unwrap();
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(text.contains("node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 1\n"), "{text}");
        assert!(text.contains("node_cpu_seconds_total{cpu=\"0\",mode=\"steal\"} 0\n"));
        assert!(text.contains("node_cpu_guest_seconds_total{cpu=\"1\",mode=\"user\"} 0.5\n"));
        assert!(text.contains("node_cpu_guest_seconds_total{cpu=\"1\",mode=\"nice\"} 0.07\n"));
        assert_eq!(text.matches("node_cpu_seconds_total{").count(), 16);
    }

    #[test]
    fn a_garbage_cpu_line_fails_but_keeps_the_others() {
        let mut out = Exposition::new(1 << 20);
        let err = render(b"cpu0 1 0 1 2\ncpu1 x\n", &mut out).unwrap_err();
        assert_eq!(err.line, 2);
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert_eq!(text.matches("{cpu=\"0\"").count(), 4);
        assert!(!text.contains("node_cpu_guest"));
    }
}
