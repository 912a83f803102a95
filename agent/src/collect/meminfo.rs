//! `meminfo`: every field of /proc/meminfo, as node_exporter names them.
//!
//! `MemTotal: 1024 kB` becomes `node_memory_MemTotal_bytes 1048576`;
//! a count without unit (`HugePages_Total`) keeps its name without
//! `_bytes`; `Active(anon)` becomes `node_memory_Active_anon_bytes`. All
//! gauges, help `Memory information field <name>.` as node_exporter has it.
//! Whatever fields the kernel prints are exported, so a new kernel's field
//! needs no change here.

use super::{keep_first_error, Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::meminfo;

pub struct Meminfo;

impl Collector for Meminfo {
    fn name(&self) -> &'static str {
        "meminfo"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let bytes = cx.proc("meminfo")?;
        render(bytes, out).map_err(|e| cx.parse_error(e))
    }
}

/// Writes one family per field; the first bad line is the error, after
/// every good one is written.
pub fn render(bytes: &[u8], out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut error = None;
    let mut name = String::with_capacity(64);
    let mut help = String::with_capacity(64);
    for field in keep_first_error(meminfo::parse(bytes), &mut error) {
        name.clear();
        name.push_str("node_memory_");
        // `Active(anon)` -> `Active_anon`; a byte scan, because this runs
        // for every field at every scrape.
        let mut start = 0;
        for (i, b) in field.key.bytes().enumerate() {
            if b == b'(' || b == b')' {
                name.push_str(&field.key[start..i]);
                if b == b'(' {
                    name.push('_');
                }
                start = i + 1;
            }
        }
        name.push_str(&field.key[start..]);
        let mut value = field.value as f64;
        if field.kib {
            name.push_str("_bytes");
            value *= 1024.0;
        }
        help.clear();
        help.push_str("Memory information field ");
        help.push_str(&name["node_memory_".len()..]);
        help.push('.');
        out.family(&name, &help, MetricType::Gauge);
        out.sample(&[], value);
    }
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_node_exporter_spells_them() {
        let mut out = Exposition::new(1 << 20);
        render(b"MemTotal: 2 kB\nActive(anon): 1 kB\nHugePages_Total: 3\n", &mut out).unwrap();
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(text.contains("# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.\n"));
        assert!(text.contains("\nnode_memory_MemTotal_bytes 2048\n"));
        assert!(text.contains("\nnode_memory_Active_anon_bytes 1024\n"));
        assert!(text.contains("\nnode_memory_HugePages_Total 3\n"));
    }

    #[test]
    fn a_repeated_field_is_left_out_not_doubled() {
        let mut out = Exposition::new(1 << 20);
        render(b"MemTotal: 2 kB\nMemTotal: 3 kB\n", &mut out).unwrap();
        assert!(out.rejected());
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert_eq!(text.matches("\nnode_memory_MemTotal_bytes ").count(), 1);
    }
}
