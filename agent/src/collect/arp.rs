//! `arp`: IPv4 neighbour entries per device from /proc/net/arp, as
//! node_exporter's `node_arp_entries{device}` (its /proc path; its default
//! netlink path counts the same table).

use super::{keep_first_error, Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::net_arp;

pub struct Arp;

impl Collector for Arp {
    fn name(&self) -> &'static str {
        "arp"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let bytes = cx.proc("net/arp")?;
        render(bytes, out).map_err(|e| cx.parse_error(e))
    }
}

/// Writes the count per device, devices in order of first entry.
pub fn render(bytes: &[u8], out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut error = None;
    // A box has a few interfaces; a linear scan beats a map here.
    let mut counts: Vec<(&str, u64)> = Vec::new();
    for device in keep_first_error(net_arp::parse(bytes), &mut error) {
        match counts.iter_mut().find(|(d, _)| *d == device) {
            Some((_, n)) => *n += 1,
            None => counts.push((device, 1)),
        }
    }
    out.family("node_arp_entries", "ARP entries by device", MetricType::Gauge);
    for (device, n) in counts {
        out.sample(&[("device", device)], n as f64);
    }
    error.map_or(Ok(()), Err)
}
