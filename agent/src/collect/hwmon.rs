//! `hwmon`: temperature sensors from /sys/class/hwmon
//! (Documentation/hwmon/sysfs-interface.rst), named as node_exporter's
//! `hwmon` collector names them: `node_hwmon_temp_celsius{chip,sensor}`
//! for `tempN_input`, `node_hwmon_temp_<property>_celsius` for the other
//! `tempN_*` values (max, crit, crit_hyst, …; millidegrees to degrees),
//! `node_hwmon_temp_{alarm,fault}`, `node_hwmon_temp_beep_enabled`,
//! `node_hwmon_temp_type`, plus `node_hwmon_chip_names{chip,chip_name}`
//! and `node_hwmon_sensor_label{chip,label,sensor}`. Voltage, fan, power
//! and current sensors are not read (node_exporter's are listed in
//! NODE_EXPORTER_COVERAGE.md).
//!
//! The chip label is node_exporter's: `<bus>_<device>` of the `device`
//! link (`platform_coretemp_0`), else the `name` file, else the hwmonN
//! directory, lower-cased with other characters as `_`. Chips that would
//! share a label get the name file, or the directory, appended, so two
//! radios of one driver never produce duplicate series (the fault of
//! OpenWrt's Lua exporter on multi-radio boards).
//!
//! Sysfs walks allocate (a name per entry); hwmon is a few files on an
//! appliance.

use std::path::Path;

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::number;

pub struct Hwmon;

/// One sample to write, before the samples are grouped into families.
struct Row {
    family: String,
    help: String,
    kind: MetricType,
    /// Label names, in order, and their values.
    labels: &'static [&'static str],
    values: [String; 3],
    value: f64,
}

impl Collector for Hwmon {
    fn name(&self) -> &'static str {
        "hwmon"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let dirs = match cx.list(Root::Sys, &["class/hwmon"], true) {
            Ok(d) => d,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        // (directory, base label, raw name file)
        let mut chips: Vec<(String, String, String)> = Vec::new();
        for dir in dirs {
            let base = base_name(cx, &dir);
            let name = cx.read(Root::Sys, &["class/hwmon", &dir, "name"]).map(number::text).unwrap_or("").to_owned();
            chips.push((dir, base, name));
        }
        let mut rows = Vec::new();
        for (dir, base, name) in &chips {
            let mut chip = base.clone();
            if chips.iter().filter(|(_, b, _)| b == base).count() > 1 {
                let twins = chips.iter().filter(|(_, b, n)| b == base && n == name).count();
                let suffix = if twins > 1 || clean(name).is_empty() { clean(dir) } else { clean(name) };
                chip.push('_');
                chip.push_str(&suffix);
            }
            let chip_name = clean(name);
            if !chip_name.is_empty() {
                rows.push(Row {
                    family: "node_hwmon_chip_names".into(),
                    help: "Annotation metric for human-readable chip names".into(),
                    kind: MetricType::Gauge,
                    labels: &["chip", "chip_name"],
                    values: [chip.clone(), chip_name, String::new()],
                    value: 1.0,
                });
            }
            // Old drivers put the sensor files in device/; read there only
            // when the chip's own directory has none, so none is read twice.
            let mut device_dir = dir.clone();
            device_dir.push_str("/device");
            let before = rows.len();
            for sub in [dir.as_str(), device_dir.as_str()] {
                if rows.len() > before {
                    break;
                }
                let Ok(files) = cx.list(Root::Sys, &["class/hwmon", sub], false) else { continue };
                for file in &files {
                    let Some((sensor, property)) = split_temp(file) else { continue };
                    let raw =
                        cx.read(Root::Sys, &["class/hwmon", sub, file]).map(number::text).unwrap_or("").to_owned();
                    if let Some(row) = row(&chip, sensor, property, &raw) {
                        rows.push(row);
                    }
                }
            }
        }
        // Families must be contiguous: each is written, with all its rows,
        // where its first row stands.
        for (i, first) in rows.iter().enumerate() {
            if rows[..i].iter().any(|r| r.family == first.family) {
                continue;
            }
            out.family(&first.family, &first.help, first.kind);
            for r in rows[i..].iter().filter(|r| r.family == first.family) {
                let [a, b, c] = &r.values;
                let values = [a.as_str(), b.as_str(), c.as_str()];
                let labels: [(&str, &str); 3] =
                    std::array::from_fn(|k| (r.labels.get(k).copied().unwrap_or(""), values[k]));
                out.sample(&labels[..r.labels.len()], r.value);
            }
        }
        Ok(())
    }
}

/// `temp3_crit_alarm` as ("temp3", "crit_alarm"); none for other sensors
/// and for a bare `tempN`.
fn split_temp(file: &str) -> Option<(&str, &str)> {
    let rest = file.strip_prefix("temp")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let property = rest[digits..].strip_prefix('_').filter(|p| !p.is_empty())?;
    (digits > 0).then(|| (&file[..4 + digits], property))
}

/// The sample node_exporter writes for a temperature sensor's file.
fn row(chip: &str, sensor: &str, property: &str, raw: &str) -> Option<Row> {
    let values = [chip.to_owned(), sensor.to_owned(), String::new()];
    if property == "label" {
        return Some(Row {
            family: "node_hwmon_sensor_label".into(),
            help: "Label for given chip and sensor".into(),
            kind: MetricType::Gauge,
            labels: &["chip", "label", "sensor"],
            values: [chip.to_owned(), raw.to_owned(), sensor.to_owned()],
            value: 1.0,
        });
    }
    let v: f64 = raw.parse().ok().filter(|v: &f64| v.is_finite())?;
    // node_exporter's naming: the property becomes part of the name, and
    // every temperature but the alarm, fault, beep and type flags is in
    // millidegrees.
    let (name, help, unit, value): ([&str; 2], [&str; 3], &str, f64) = match property {
        "alarm" | "fault" => ([property, ""], ["Hardware sensor ", property, " status (temp)"], "", v),
        "beep" => (["beep_enabled", ""], ["Hardware monitor sensor has beeping enabled", "", ""], "", v),
        "type" => (["type", ""], ["Hardware monitor temp element type", "", ""], "", v),
        "input" => (["", ""], ["Hardware monitor for temperature (input)", "", ""], "_celsius", v / 1000.0),
        _ => ([property, ""], ["Hardware monitor for temperature (", property, ")"], "_celsius", v / 1000.0),
    };
    let mut family = String::from("node_hwmon_temp");
    if !name[0].is_empty() {
        family.push('_');
        family.push_str(&clean(name[0]));
    }
    family.push_str(unit);
    Some(Row { family, help: help.concat(), kind: MetricType::Gauge, labels: &["chip", "sensor"], values, value })
}

/// The chip's label before disambiguation, as node_exporter derives it.
fn base_name(cx: &mut Context<'_>, dir: &str) -> String {
    let device = cx.path(Root::Sys, &["class/hwmon", dir, "device"]).to_path_buf();
    if let Ok(target) = std::fs::canonicalize(&device) {
        let dev_name = clean(&file_name(&target));
        let dev_type = clean(&target.parent().map(file_name).unwrap_or_default());
        if !dev_type.is_empty() && !dev_name.is_empty() {
            return [dev_type.as_str(), "_", &dev_name].concat();
        }
        if !dev_name.is_empty() {
            return dev_name;
        }
    }
    if let Ok(raw) = cx.read(Root::Sys, &["class/hwmon", dir, "name"]) {
        let name = clean(number::text(raw));
        if !name.is_empty() {
            return name;
        }
    }
    let path = cx.path(Root::Sys, &["class/hwmon", dir]).to_path_buf();
    clean(&std::fs::canonicalize(&path).map_or_else(|_| dir.to_owned(), |p| file_name(&p)))
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Lower case, every character but `[a-z0-9:_]` as `_`, no `_` at either
/// end: node_exporter's `cleanMetricName`.
pub fn clean(s: &str) -> String {
    let lower: String = s
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == ':' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    lower.trim_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_files_and_names() {
        assert_eq!(split_temp("temp1_input"), Some(("temp1", "input")));
        assert_eq!(split_temp("temp12_crit_alarm"), Some(("temp12", "crit_alarm")));
        assert_eq!(split_temp("temp1"), None);
        assert_eq!(split_temp("temp_input"), None);
        assert_eq!(split_temp("in0_input"), None);
        assert_eq!(clean("coretemp.0"), "coretemp_0");
        assert_eq!(clean("  MT7915-PHY0 "), "mt7915_phy0");
        let r = row("platform_coretemp_0", "temp1", "crit_hyst", "85000").unwrap();
        assert_eq!((r.family.as_str(), r.value), ("node_hwmon_temp_crit_hyst_celsius", 85.0));
        let r = row("c", "temp1", "input", "-5500").unwrap();
        assert_eq!((r.family.as_str(), r.value), ("node_hwmon_temp_celsius", -5.5));
        assert!(row("c", "temp1", "input", "garbage").is_none());
    }
}
