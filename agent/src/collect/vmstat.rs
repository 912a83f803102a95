//! `vmstat`: the /proc/vmstat counters node_exporter exports by default,
//! its `--collector.vmstat.fields` `^(oom_kill|pgpg|pswp|pg.*fault).*`:
//! OOM kills, pages paged in and out, swapped in and out, and page faults,
//! as untyped `node_vmstat_<name>` (node_exporter's type).

use super::{keep_first_error, Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::vmstat;

pub struct Vmstat;

impl Collector for Vmstat {
    fn name(&self) -> &'static str {
        "vmstat"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let bytes = cx.proc("vmstat")?;
        render(bytes, out).map_err(|e| cx.parse_error(e))
    }
}

/// Whether node_exporter's default field expression takes `name`.
pub fn exported(name: &str) -> bool {
    ["oom_kill", "pgpg", "pswp"].iter().any(|p| name.starts_with(p))
        || name.strip_prefix("pg").is_some_and(|rest| rest.contains("fault"))
}

/// Writes the exported fields; the first bad line is the error, after
/// every good one is written.
pub fn render(bytes: &[u8], out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut error = None;
    for (name, value) in keep_first_error(vmstat::parse(bytes), &mut error) {
        if exported(name) {
            out.family_parts(
                &["node_vmstat_", name],
                &["/proc/vmstat information field ", name, "."],
                MetricType::Untyped,
            );
            out.sample(&[], value as f64);
        }
    }
    error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_exporters_default_fields() {
        for yes in ["oom_kill", "pgpgin", "pgpgout", "pswpin", "pswpout", "pgfault", "pgmajfault"] {
            assert!(exported(yes), "{yes}");
        }
        for no in ["nr_free_pages", "pgfree", "pgsteal_kswapd", "thp_fault_alloc", "pgp"] {
            assert!(!exported(no), "{no}");
        }
    }
}
