//! `powersupplyclass`: batteries, mains adapters, USB supplies and UPS
//! fuel gauges from /sys/class/power_supply
//! (Documentation/ABI/testing/sysfs-class-power), as node_exporter's
//! powersupplyclass collector names them: `node_power_supply_<attribute>`
//! gauges with a `power_supply` label (`wire::proc::power_supply` says
//! which files, names and units), and `node_power_supply_info`, whose
//! labels are the supply's text attributes that are not empty, so its
//! label set differs from supply to supply, as node_exporter's does.
//!
//! Only the files a supply's directory lists are read. A file that is
//! absent or that the driver refuses to report (ENODEV, EOPNOTSUPP,
//! EINVAL) is left out, as node_exporter leaves it out; so is one with no
//! reading now (ENODATA, EAGAIN: a fuel gauge without a battery, or busy),
//! where node_exporter fails the whole collector. Another read error or a
//! number that does not parse fails the collector after the rest is
//! written. No /sys/class/power_supply (most servers, many
//! routers): no data, not a failure. node_exporter's
//! `--collector.powersupply.ignored-supplies` has no counterpart yet.

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::power_supply::{self, Unit};

pub struct Powersupplyclass;

const CLASS: &str = "class/power_supply";

impl Collector for Powersupplyclass {
    fn name(&self) -> &'static str {
        "powersupplyclass"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let supplies = match cx.list(Root::Sys, &[CLASS], true) {
            Ok(s) => s,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut first = None;
        // Each supply with the names in its directory.
        let mut listed = Vec::new();
        for supply in &supplies {
            match cx.list(Root::Sys, &[CLASS, supply], false) {
                Ok(files) => listed.push((supply.as_str(), files)),
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        for (file, family, unit) in power_supply::gauges() {
            let celsius = if unit == Unit::DeciCelsius { "_celsius" } else { "" };
            let mut opened = false;
            for (supply, files) in &listed {
                let Some(bytes) = read(cx, supply, files, file, &mut first) else { continue };
                let v = match power_supply::value(bytes, unit) {
                    Ok(v) => v,
                    Err(e) => {
                        first.get_or_insert(cx.parse_error(e));
                        continue;
                    }
                };
                if !opened {
                    out.family_parts(
                        &["node_power_supply_", family, celsius],
                        &[family, celsius, " value of /sys/class/power_supply/<power_supply>."],
                        MetricType::Gauge,
                    );
                    opened = true;
                }
                out.sample(&[("power_supply", supply)], v);
            }
        }
        if !listed.is_empty() {
            out.family("node_power_supply_info", "info of /sys/class/power_supply/<power_supply>.", MetricType::Gauge);
        }
        for (supply, files) in &listed {
            let mut values: Vec<(&str, String)> = Vec::new();
            for label in power_supply::INFO.split_ascii_whitespace() {
                let text = if label == "power_supply" {
                    supply.to_string()
                } else {
                    let Some(bytes) = read(cx, supply, files, label, &mut first) else { continue };
                    power_supply::label(bytes, true).into_owned()
                };
                if !text.is_empty() {
                    values.push((label, text));
                }
            }
            let labels: Vec<(&str, &str)> = values.iter().map(|(l, v)| (*l, v.as_str())).collect();
            out.sample(&labels, 1.0);
        }
        first.map_or(Ok(()), Err)
    }
}

/// The bytes of `file` of `supply` if its directory lists it and the
/// driver reports it now; another read error is kept in `first`.
fn read<'c>(
    cx: &'c mut Context<'_>,
    supply: &str,
    files: &[String],
    file: &str,
    first: &mut Option<Error>,
) -> Option<&'c [u8]> {
    if !files.iter().any(|f| f == file) {
        return None;
    }
    match cx.read_opt(Root::Sys, &[CLASS, supply, file]) {
        Ok(bytes) => bytes,
        Err(Error::Io { err, .. })
            if matches!(
                err.raw_os_error(),
                Some(libc::ENODEV | libc::EOPNOTSUPP | libc::EINVAL | libc::ENODATA | libc::EAGAIN)
            ) =>
        {
            None
        }
        Err(e) => {
            first.get_or_insert(e);
            None
        }
    }
}
