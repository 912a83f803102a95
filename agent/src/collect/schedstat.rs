//! `schedstat`: per-CPU scheduler statistics from /proc/schedstat, as
//! node_exporter's `node_schedstat_running_seconds_total`,
//! `node_schedstat_waiting_seconds_total` and
//! `node_schedstat_timeslices_total`, each with a `cpu` label.
//!
//! The file exists only with CONFIG_SCHEDSTATS (OpenWrt's kernels and
//! Debian 12's cloud kernel lack it): no data then, not a failure. A bad
//! `cpuN` line costs that CPU, and fails the collector after the others
//! are written.

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::schedstat;

pub struct Schedstat;

/// Each family, its help, and the divisor of its column (nanoseconds to
/// seconds, or none).
const FAMILIES: [(&str, &str, f64); 3] = [
    ("node_schedstat_running_seconds_total", "Number of seconds CPU spent running a process.", 1e9),
    ("node_schedstat_waiting_seconds_total", "Number of seconds spent by processing waiting for this CPU.", 1e9),
    ("node_schedstat_timeslices_total", "Number of timeslices executed by CPU.", 1.0),
];

impl Collector for Schedstat {
    fn name(&self) -> &'static str {
        "schedstat"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let Some(bytes) = cx.read_opt(Root::Proc, &["schedstat"])? else {
            return Ok(());
        };
        render(bytes, out).map_err(|e| cx.parse_error(e))
    }
}

/// Writes the families from the `cpuN` lines that parse (a tiny file,
/// read once and parsed once per family); the first bad line fails the
/// collector.
pub fn render(bytes: &[u8], out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut first = None;
    for (i, (name, help, divisor)) in FAMILIES.into_iter().enumerate() {
        let mut opened = false;
        for cpu in schedstat::parse(bytes) {
            match cpu {
                Ok(c) => {
                    if !opened {
                        out.family(name, help, MetricType::Counter);
                        opened = true;
                    }
                    out.sample(&[("cpu", c.cpu)], c.columns[i] as f64 / divisor);
                }
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
    }
    first.map_or(Ok(()), Err)
}
