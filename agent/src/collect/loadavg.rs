//! `loadavg`: the 1, 5 and 15 minute load averages, from /proc/loadavg,
//! as node_exporter's `node_load1`, `node_load5`, `node_load15`.

use super::{Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::loadavg;

pub struct Loadavg;

impl Collector for Loadavg {
    fn name(&self) -> &'static str {
        "loadavg"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let bytes = cx.proc("loadavg")?;
        let load = loadavg::parse(bytes).map_err(|e| cx.parse_error(e))?;
        render(load, out);
        Ok(())
    }
}

pub fn render(load: [f64; 3], out: &mut Exposition) {
    let names =
        [("node_load1", "1m load average."), ("node_load5", "5m load average."), ("node_load15", "15m load average.")];
    for ((name, help), v) in names.into_iter().zip(load) {
        out.family(name, help, MetricType::Gauge);
        out.sample(&[], v);
    }
}
