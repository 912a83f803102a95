//! `pressure`: pressure stall information from /proc/pressure
//! (Documentation/accounting/psi.rst), as node_exporter's
//! `node_pressure_*_seconds_total` counters: "waiting" is the `some` line
//! (some task stalled), "stalled" the `full` line (all stalled).
//!
//! A kernel without PSI has no /proc/pressure, and one booted with `psi=0`
//! refuses the read with EOPNOTSUPP: no data either way, not a failure.
//! `irq` exists since Linux 6.1 with CONFIG_IRQ_TIME_ACCOUNTING.

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::pressure;

pub struct Pressure;

/// Resource, then the family and help of its some and full lines.
type Line = Option<(&'static str, &'static str)>;
const RESOURCES: [(&str, Line, Line); 4] = [
    (
        "pressure/cpu",
        Some((
            "node_pressure_cpu_waiting_seconds_total",
            "Total time in seconds that processes have waited for CPU time",
        )),
        None,
    ),
    (
        "pressure/io",
        Some((
            "node_pressure_io_waiting_seconds_total",
            "Total time in seconds that processes have waited due to IO congestion",
        )),
        Some((
            "node_pressure_io_stalled_seconds_total",
            "Total time in seconds no process could make progress due to IO congestion",
        )),
    ),
    (
        "pressure/memory",
        Some((
            "node_pressure_memory_waiting_seconds_total",
            "Total time in seconds that processes have waited for memory",
        )),
        Some((
            "node_pressure_memory_stalled_seconds_total",
            "Total time in seconds no process could make progress due to memory congestion",
        )),
    ),
    (
        "pressure/irq",
        None,
        Some((
            "node_pressure_irq_stalled_seconds_total",
            "Total time in seconds no process could make progress due to IRQ congestion",
        )),
    ),
];

impl Collector for Pressure {
    fn name(&self) -> &'static str {
        "pressure"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        for (file, some, full) in RESOURCES {
            let bytes = match cx.read_opt(Root::Proc, &[file]) {
                Ok(Some(b)) => b,
                Ok(None) => continue,
                Err(e) if unsupported(&e) => continue,
                Err(e) => return Err(e),
            };
            let p = pressure::parse(bytes).map_err(|e| cx.parse_error(e))?;
            for (family, total) in [(some, p.some), (full, p.full)] {
                if let (Some((name, help)), Some(us)) = (family, total) {
                    out.family(name, help, MetricType::Counter);
                    out.sample(&[], us as f64 / 1e6);
                }
            }
        }
        Ok(())
    }
}

fn unsupported(e: &Error) -> bool {
    matches!(e, Error::Io { err, .. } if err.raw_os_error() == Some(libc::EOPNOTSUPP))
}
