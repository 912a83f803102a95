//! `sockstat`: sockets in use per protocol, from /proc/net/sockstat and
//! /proc/net/sockstat6, as node_exporter names them:
//! `node_sockstat_sockets_used`, `node_sockstat_<PROTO>_<state>`, and
//! `node_sockstat_<PROTO>_mem_bytes` (the `mem` pages times the page size).
//! A kernel without IPv6 has no sockstat6: no data for it, not a failure.

use super::{keep_first_error, Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::net_sockstat::{self, Stat};

pub struct Sockstat;

/// The keys node_exporter exports; a newer kernel's others are not.
const KEYS: [&str; 6] = ["inuse", "orphan", "tw", "alloc", "mem", "memory"];

impl Collector for Sockstat {
    fn name(&self) -> &'static str {
        "sockstat"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as f64;
        for file in ["net/sockstat", "net/sockstat6"] {
            let Some(bytes) = cx.read_opt(Root::Proc, &[file])? else { continue };
            render(bytes, page, out).map_err(|e| cx.parse_error(e))?;
        }
        Ok(())
    }
}

/// Writes one family per value; the first bad line is the error, after
/// every good value is written.
pub fn render(bytes: &[u8], page: f64, out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut error = None;
    for Stat { proto, key, value } in keep_first_error(net_sockstat::parse(bytes), &mut error) {
        if proto == "sockets" && key == "used" {
            out.family("node_sockstat_sockets_used", "Number of IPv4 sockets in use.", MetricType::Gauge);
            out.sample(&[], value as f64);
            continue;
        }
        if proto == "sockets" || !KEYS.contains(&key) {
            continue;
        }
        let help = ["Number of ", proto, " sockets in state ", key, "."];
        out.family_parts(&["node_sockstat_", proto, "_", key], &help, MetricType::Gauge);
        out.sample(&[], value as f64);
        if key == "mem" {
            let help = ["Number of ", proto, " sockets in state mem_bytes."];
            out.family_parts(&["node_sockstat_", proto, "_mem_bytes"], &help, MetricType::Gauge);
            out.sample(&[], value as f64 * page);
        }
    }
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_mem_bytes_as_node_exporter() {
        let mut out = Exposition::new(1 << 20);
        render(
            b"sockets: used 27\nTCP: inuse 4 orphan 0 tw 0 alloc 4 mem 84\nFRAG6: inuse 0 memory 0\n",
            4096.0,
            &mut out,
        )
        .unwrap();
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(text.contains("\nnode_sockstat_sockets_used 27\n"));
        assert!(text.contains("# HELP node_sockstat_TCP_tw Number of TCP sockets in state tw.\n"));
        assert!(text.contains("\nnode_sockstat_TCP_mem_bytes 344064\n"));
        assert!(text.contains("\nnode_sockstat_FRAG6_memory 0\n"));
    }
}
