//! `thermal_zone`: temperatures and cooling devices from
//! /sys/class/thermal (Documentation/driver-api/thermal/sysfs-api.rst), as
//! node_exporter's `node_thermal_zone_temp{zone,type}` (°C, the file is in
//! millidegrees) and `node_cooling_device_{cur,max}_state{name,type}`.
//! An appliance's SoC sensor is usually here rather than in hwmon. A zone
//! whose sensor cannot be read right now (EAGAIN, ENODATA) is left out.

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::number;

pub struct ThermalZone;

impl Collector for ThermalZone {
    fn name(&self) -> &'static str {
        "thermal_zone"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let entries = match cx.list(Root::Sys, &["class/thermal"], true) {
            Ok(e) => e,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        // In name order, as node_exporter lists them (thermal_zone10
        // before thermal_zone2); the series are the same either way.
        let numbered = |prefix: &str| -> Vec<(&str, &str)> {
            entries
                .iter()
                .filter_map(|e| {
                    let id = e.strip_prefix(prefix)?;
                    crate::wire::parse_u64(id.as_bytes())?;
                    Some((e.as_str(), id))
                })
                .collect()
        };
        let mut kind = String::new();
        let mut opened = false;
        for (dir, id) in numbered("thermal_zone") {
            let Ok(raw) = cx.read(Root::Sys, &["class/thermal", dir, "temp"]) else { continue };
            let Ok(milli) = number::parse(raw) else { continue };
            read_type(cx, dir, &mut kind);
            if !opened {
                out.family("node_thermal_zone_temp", "Zone temperature in Celsius", MetricType::Gauge);
                opened = true;
            }
            out.sample(&[("type", &kind), ("zone", id)], milli as f64 / 1000.0);
        }
        let coolers = numbered("cooling_device");
        for (file, name, help) in [
            ("cur_state", "node_cooling_device_cur_state", "Current throttle state of the cooling device"),
            ("max_state", "node_cooling_device_max_state", "Maximum throttle state of the cooling device"),
        ] {
            let mut opened = false;
            for &(dir, id) in &coolers {
                let Ok(raw) = cx.read(Root::Sys, &["class/thermal", dir, file]) else { continue };
                let Ok(state) = number::parse(raw) else { continue };
                read_type(cx, dir, &mut kind);
                if !opened {
                    out.family(name, help, MetricType::Gauge);
                    opened = true;
                }
                out.sample(&[("name", id), ("type", &kind)], state as f64);
            }
        }
        Ok(())
    }
}

fn read_type(cx: &mut Context<'_>, dir: &str, into: &mut String) {
    into.clear();
    if let Ok(raw) = cx.read(Root::Sys, &["class/thermal", dir, "type"]) {
        into.push_str(number::text(raw));
    }
}
