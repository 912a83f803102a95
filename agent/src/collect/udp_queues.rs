//! `udp_queues`: bytes queued in UDP sockets, summed over the sockets of
//! /proc/net/udp and /proc/net/udp6, as node_exporter's
//! `node_udp_queues{ip="v4|v6",queue="rx|tx"}`. Receive queues that grow
//! are a DNS or NTP server that cannot keep up. A kernel without IPv6 has
//! no udp6: no v6 samples, not a failure.

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::net_udp;

pub struct UdpQueues;

impl Collector for UdpQueues {
    fn name(&self) -> &'static str {
        "udp_queues"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let mut opened = false;
        for (file, ip) in [("net/udp", "v4"), ("net/udp6", "v6")] {
            let Some(bytes) = cx.read_opt(Root::Proc, &[file])? else {
                continue;
            };
            let (tx, rx) = net_udp::parse(bytes).map_err(|e| cx.parse_error(e))?;
            if !opened {
                let help = "Number of allocated memory in the kernel for UDP datagrams in bytes.";
                out.family("node_udp_queues", help, MetricType::Gauge);
                opened = true;
            }
            out.sample(&[("ip", ip), ("queue", "rx")], rx as f64);
            out.sample(&[("ip", ip), ("queue", "tx")], tx as f64);
        }
        Ok(())
    }
}
