//! `entropy`: the kernel's random pool, from /proc/sys/kernel/random
//! (random(4)): `node_entropy_available_bits` and
//! `node_entropy_pool_size_bits`, node_exporter's names. Since Linux 5.18
//! both read a constant 256.

use super::common::single;
use super::{Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::number;

pub struct Entropy;

impl Collector for Entropy {
    fn name(&self) -> &'static str {
        "entropy"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        for (file, name, help) in [
            ("sys/kernel/random/entropy_avail", "node_entropy_available_bits", "Bits of available entropy."),
            ("sys/kernel/random/poolsize", "node_entropy_pool_size_bits", "Bits of entropy pool."),
        ] {
            // Both files exist on every kernel: absent is a broken procfs,
            // not a missing feature, so it fails the collector.
            let bytes = cx.proc(file)?;
            let v = number::parse(bytes).map_err(|e| cx.parse_error(e))?;
            single(out, name, help, MetricType::Gauge, v as f64);
        }
        Ok(())
    }
}
