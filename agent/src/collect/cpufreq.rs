//! `cpufreq`: CPU frequency scaling from
//! /sys/devices/system/cpu/cpuN/cpufreq (Documentation/admin-guide/pm/
//! cpufreq.rst), as node_exporter's cpufreq collector names it:
//! `node_cpu_frequency{,_avg,_min,_max}_hertz` from the hardware's
//! `cpuinfo_*` files, `node_cpu_scaling_frequency{,_min,_max}_hertz` from
//! the policy's `scaling_*` files (kHz in the files), and
//! `node_cpu_scaling_governor{cpu,governor}`, 1 for the policy's governor
//! and 0 for each other one it could use.
//!
//! CPUs named in `devices/system/cpu/offline` are left out, as
//! node_exporter leaves them out: an offline CPU's `cpufreq` link may
//! still lead to a policy whose files then refuse to be read. A file that
//! is absent or that this user may not read (`cpuinfo_cur_freq` is
//! root's) is left out; another read error, or a file that is not a
//! number, fails the collector after the rest is written. A kernel
//! without cpufreq (most VMs, many routers) has no `cpufreq` directories:
//! no data, not a failure.

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::parse_u64;
use crate::wire::proc::{cpufreq, number};

pub struct Cpufreq;

const CPUS: &str = "devices/system/cpu";

/// The files of one number of kHz: the file, the family after
/// `node_cpu_`, and the help before " CPU thread frequency in hertz.".
const FILES: [(&str, &str, &str); 7] = [
    ("cpufreq/cpuinfo_cur_freq", "frequency_hertz", "Current"),
    ("cpufreq/cpuinfo_avg_freq", "frequency_avg_hertz", "Average"),
    ("cpufreq/cpuinfo_min_freq", "frequency_min_hertz", "Minimum"),
    ("cpufreq/cpuinfo_max_freq", "frequency_max_hertz", "Maximum"),
    ("cpufreq/scaling_cur_freq", "scaling_frequency_hertz", "Current scaled"),
    ("cpufreq/scaling_min_freq", "scaling_frequency_min_hertz", "Minimum scaled"),
    ("cpufreq/scaling_max_freq", "scaling_frequency_max_hertz", "Maximum scaled"),
];

impl Collector for Cpufreq {
    fn name(&self) -> &'static str {
        "cpufreq"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let entries = match cx.list(Root::Sys, &[CPUS], true) {
            Ok(e) => e,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut first = None;
        let offline = match cx.read_opt(Root::Sys, &[CPUS, "offline"])? {
            // A list that does not parse is reported, and filters nothing.
            Some(list) => match cpufreq::in_cpu_list(list, 0) {
                Ok(_) => Some(cx.take_bytes()),
                Err(e) => {
                    first = Some(cx.parse_error(e));
                    None
                }
            },
            None => None,
        };
        // The online CPUs with a policy, by the digits of their name.
        let mut cpus = Vec::new();
        for dir in &entries {
            let Some(id) = dir.strip_prefix("cpu") else { continue };
            let Some(n) = parse_u64(id.as_bytes()) else { continue };
            if offline.as_deref().is_some_and(|list| cpufreq::in_cpu_list(list, n) == Ok(true)) {
                continue;
            }
            if cx.path(Root::Sys, &[CPUS, dir, "cpufreq"]).is_dir() {
                cpus.push((dir.as_str(), id));
            }
        }
        if let Some(bytes) = offline {
            cx.give_back(bytes);
        }
        for (file, family, help) in FILES {
            let mut opened = false;
            for &(dir, id) in &cpus {
                let Some(khz) = read_khz(cx, dir, file, &mut first) else { continue };
                if !opened {
                    out.family_parts(
                        &["node_cpu_", family],
                        &[help, " CPU thread frequency in hertz."],
                        MetricType::Gauge,
                    );
                    opened = true;
                }
                out.sample(&[("cpu", id)], khz as f64 * 1000.0);
            }
        }
        let mut governor = String::new();
        let mut opened = false;
        for &(dir, id) in &cpus {
            governor.clear();
            match cx.read(Root::Sys, &[CPUS, dir, "cpufreq/scaling_governor"]) {
                Ok(bytes) => governor.push_str(number::text(bytes)),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
            if governor.is_empty() {
                continue;
            }
            let available = match cx.read(Root::Sys, &[CPUS, dir, "cpufreq/scaling_available_governors"]) {
                Ok(bytes) => bytes,
                Err(e) => {
                    first.get_or_insert(e);
                    continue;
                }
            };
            if !opened {
                out.family("node_cpu_scaling_governor", "Current enabled CPU frequency governor.", MetricType::Gauge);
                opened = true;
            }
            for g in cpufreq::governors(available) {
                out.sample(&[("cpu", id), ("governor", g)], if g == governor { 1.0 } else { 0.0 });
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// A file of one number of kHz; `None` if it is absent, not this user's
/// to read, or bad (the error kept in `first`).
fn read_khz(cx: &mut Context<'_>, dir: &str, file: &str, first: &mut Option<Error>) -> Option<u64> {
    let khz = match cx.read_opt(Root::Sys, &[CPUS, dir, file]) {
        Ok(bytes) => number::parse(bytes?).ok().and_then(|v| u64::try_from(v).ok()),
        Err(Error::Io { err, .. }) if err.kind() == std::io::ErrorKind::PermissionDenied => return None,
        Err(e) => {
            first.get_or_insert(e);
            return None;
        }
    };
    if khz.is_none() {
        first.get_or_insert(cx.parse_error(crate::wire::Error::at(1, "not a frequency in kHz")));
    }
    khz
}
