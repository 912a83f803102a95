//! `softnet`: per-CPU network receive processing from
//! /proc/net/softnet_stat, as node_exporter's `node_softnet_*{cpu}`.
//! `dropped` counts packets lost because a CPU's backlog was full;
//! `times_squeezed` the times its budget ran out with work left. Columns
//! an older kernel does not print are left out, not reported as zero.

use super::{Collector, Context, Error};
use crate::expo::{decimal, Exposition, MetricType};
use crate::wire::proc::softnet_stat::{self, Cpu};

pub struct Softnet;

type Column = fn(&Cpu) -> Option<u64>;
const FAMILIES: [(&str, &str, MetricType, Column); 7] = [
    ("node_softnet_processed_total", "Number of processed packets", MetricType::Counter, |c| Some(c.processed)),
    ("node_softnet_dropped_total", "Number of dropped packets", MetricType::Counter, |c| Some(c.dropped)),
    (
        "node_softnet_times_squeezed_total",
        "Number of times processing packets ran out of quota",
        MetricType::Counter,
        |c| Some(c.time_squeeze),
    ),
    (
        "node_softnet_cpu_collision_total",
        "Number of collision occur while obtaining device lock while transmitting",
        MetricType::Counter,
        |c| Some(c.cpu_collision),
    ),
    ("node_softnet_received_rps_total", "Number of times cpu woken up received_rps", MetricType::Counter, |c| {
        c.received_rps
    }),
    ("node_softnet_flow_limit_count_total", "Number of times flow limit has been reached", MetricType::Counter, |c| {
        c.flow_limit_count
    }),
    ("node_softnet_backlog_len", "Softnet backlog status", MetricType::Gauge, |c| c.backlog_len),
];

impl Collector for Softnet {
    fn name(&self) -> &'static str {
        "softnet"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let bytes = cx.proc("net/softnet_stat")?;
        render(bytes, out).map_err(|e| cx.parse_error(e))
    }
}

/// Writes the families; a bad line fails the collector, after the CPUs
/// before it are written.
pub fn render(bytes: &[u8], out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut buf = [0; 20];
    let mut cpus = Vec::new();
    let mut error = None;
    for cpu in softnet_stat::parse(bytes) {
        match cpu {
            Ok(c) => cpus.push(c),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    for (name, help, kind, column) in FAMILIES {
        let mut opened = false;
        for cpu in &cpus {
            let Some(v) = column(cpu) else { continue };
            if !opened {
                out.family(name, help, kind);
                opened = true;
            }
            out.sample(&[("cpu", decimal(cpu.index, &mut buf))], v as f64);
        }
    }
    error.map_or(Ok(()), Err)
}
