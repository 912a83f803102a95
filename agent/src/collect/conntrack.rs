//! `conntrack`: the netfilter connection tracking table, as node_exporter
//! names it: `node_nf_conntrack_entries` and `_entries_limit` from
//! /proc/sys/net/netfilter, and the `node_nf_conntrack_stat_*` event
//! counters from /proc/net/stat/nf_conntrack, summed over the CPUs
//! (gauges, as node_exporter types them). A kernel without the
//! nf_conntrack module has none of these files: no data, not a failure.

use super::common::{read_number, single};
use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::nf_conntrack_stat::{self, COLUMNS};

pub struct Conntrack;

/// node_exporter's help for each of [`COLUMNS`].
const HELP: [&str; 8] = [
    "Number of searched entries which were successful.",
    "Number of packets seen which can not be tracked.",
    "Number of packets seen which are already connected to a conntrack entry.",
    "Number of entries inserted into the list.",
    "Number of entries for which list insertion was attempted but failed.",
    "Number of packets dropped due to conntrack failure.",
    "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.",
    "Number of conntrack table lookups which had to be restarted due to hashtable resizes.",
];

impl Collector for Conntrack {
    fn name(&self) -> &'static str {
        "conntrack"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let Some(count) = read_number(cx, Root::Proc, &["sys/net/netfilter/nf_conntrack_count"])? else {
            return Ok(());
        };
        let help = "Number of currently allocated flow entries for connection tracking.";
        single(out, "node_nf_conntrack_entries", help, MetricType::Gauge, count as f64);
        if let Some(max) = read_number(cx, Root::Proc, &["sys/net/netfilter/nf_conntrack_max"])? {
            let help = "Maximum size of connection tracking table.";
            single(out, "node_nf_conntrack_entries_limit", help, MetricType::Gauge, max as f64);
        }
        let Some(bytes) = cx.read_opt(Root::Proc, &["net/stat/nf_conntrack"])? else {
            return Ok(());
        };
        let sums = nf_conntrack_stat::parse(bytes).map_err(|e| cx.parse_error(e))?;
        for ((column, help), sum) in COLUMNS.iter().zip(HELP).zip(sums) {
            if let Some(sum) = sum {
                out.family_parts(&["node_nf_conntrack_stat_", column], &[help], MetricType::Gauge);
                out.sample(&[], sum as f64);
            }
        }
        Ok(())
    }
}
