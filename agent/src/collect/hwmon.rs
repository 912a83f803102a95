//! `hwmon`: hardware sensors from /sys/class/hwmon
//! (Documentation/hwmon/sysfs-interface.rst), named as node_exporter's
//! `hwmon` collector names them, every sensor type it reads:
//! `node_hwmon_<type>[_<item>]<unit>{chip,sensor}` for temperatures
//! (`_celsius`), voltages (`in`, `cpu`: `_volts`), currents (`_amps`),
//! power (`_watt`, `_seconds` for averaging intervals, the meter's
//! accuracy as a ratio), energy (`_joule_total`, a counter), humidity (a
//! ratio), fans (`_rpm` for input, min, max and target), GPU clocks
//! (`node_hwmon_freq_freq_mhz`, with the sensor's label as `sensor`),
//! alarms and faults without a unit, `*_beep` as `_beep_enabled`, and any
//! other item as the number it holds (`node_hwmon_pwm_enable`,
//! `node_hwmon_fan_div`); plus `node_hwmon_beep_enabled`,
//! `node_hwmon_voltage_regulator_version`,
//! `node_hwmon_update_interval_seconds`, `node_hwmon_chip_names
//! {chip,chip_name}` and `node_hwmon_sensor_label{chip,label,sensor}`.
//! Units are node_exporter's: the files' milli- and micro-units scaled,
//! with node_exporter's arithmetic (×0.001 or ÷1e6), so that values are
//! equal to the last bit.
//!
//! A chip's files are read from its directory and, as node_exporter reads
//! them, from its `device` directory too, where old drivers keep them
//! (and where a thermal zone's hwmon chip finds the zone's `temp`, sensor
//! `temp0`); a value found in both is the `device` one's.
//!
//! The chip label is node_exporter's: `<bus>_<device>` of the `device`
//! link (`platform_coretemp_0`), else the `name` file, else the hwmonN
//! directory, lower-cased with other characters as `_`. Chips that would
//! share a label get the name file, or the directory, appended, so two
//! radios of one driver never produce duplicate series (the fault of
//! OpenWrt's Lua exporter on multi-radio boards, and of node_exporter
//! before 1.12). node_exporter's chip and sensor include/exclude flags
//! have no counterpart yet.
//!
//! Sysfs walks allocate (a name per entry); hwmon is a few chips on an
//! appliance.

use std::path::Path;

use super::{Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::proc::{hwmon, number, power_supply};

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

/// One file of a sensor: its type, the sensor (`temp1`), its item
/// (`crit`, or empty) and its bytes as read.
struct Reading {
    kind: &'static str,
    sensor: String,
    item: String,
    raw: Vec<u8>,
}

const CHIP_SENSOR: &[&str] = &["chip", "sensor"];

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
        let mut first = None;
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
            let mut readings: Vec<Reading> = Vec::new();
            let device = [dir.as_str(), "/device"].concat();
            for sub in [dir.as_str(), &device] {
                let files = match cx.list(Root::Sys, &["class/hwmon", sub], false) {
                    Ok(files) => files,
                    Err(e) if sub != dir && e.is_not_found() => continue,
                    Err(e) => {
                        first.get_or_insert(e);
                        continue;
                    }
                };
                for file in &files {
                    let Some((kind, index, item)) = hwmon::split(file) else { continue };
                    // A file that cannot be read (a directory such as
                    // `power`, a sensor that is not ready) is left out.
                    let Ok(raw) = cx.read(Root::Sys, &["class/hwmon", sub, file]) else { continue };
                    let raw = raw.to_vec();
                    let sensor = [kind, crate::expo::decimal(index, &mut [0; 20])].concat();
                    match readings.iter_mut().find(|r| r.sensor == sensor && r.item == item) {
                        Some(r) => r.raw = raw,
                        None => readings.push(Reading { kind, sensor, item: item.to_owned(), raw }),
                    }
                }
            }
            for r in &readings {
                sensor_rows(&chip, r, &readings, &mut rows);
            }
        }
        // Families must be contiguous: each is written, with all its rows,
        // where its first row stands.
        for (i, row) in rows.iter().enumerate() {
            if rows[..i].iter().any(|r| r.family == row.family) {
                continue;
            }
            out.family(&row.family, &row.help, row.kind);
            for r in rows[i..].iter().filter(|r| r.family == row.family) {
                let [a, b, c] = &r.values;
                let values = [a.as_str(), b.as_str(), c.as_str()];
                let labels: [(&str, &str); 3] =
                    std::array::from_fn(|k| (r.labels.get(k).copied().unwrap_or(""), values[k]));
                out.sample(&labels[..r.labels.len()], r.value);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// The row node_exporter writes for reading `r` of a sensor whose
/// readings are `all`, if any.
fn sensor_rows(chip: &str, r: &Reading, all: &[Reading], rows: &mut Vec<Row>) {
    let item = r.item.as_str();
    if item == "label" {
        rows.push(Row {
            family: "node_hwmon_sensor_label".into(),
            help: "Label for given chip and sensor".into(),
            kind: MetricType::Gauge,
            labels: &["chip", "label", "sensor"],
            values: [chip.to_owned(), power_supply::label(&r.raw, false).into_owned(), r.sensor.clone()],
            value: 1.0,
        });
        return;
    }
    // The sensor's bare file, its label, and its first reading that is
    // not the label.
    let (mut bare, mut label, mut first) = (None, None, None);
    for o in all.iter().filter(|o| o.sensor == r.sensor) {
        if o.item.is_empty() {
            bare.get_or_insert(o);
        }
        if o.item == "label" {
            label.get_or_insert(o);
        } else {
            first.get_or_insert(o);
        }
    }
    let mut sensor = r.sensor.clone();
    let (family, help, kind, value) = match r.kind {
        // Three types are one value each, written once per sensor, from
        // the bare file.
        "beep_enable" | "vrm" | "update_interval" => {
            if !first.is_some_and(|f| std::ptr::eq(f, r)) {
                return;
            }
            let raw = bare.map_or(&b""[..], |b| &b.raw[..]);
            let (family, help, v) = match r.kind {
                "beep_enable" => (
                    "node_hwmon_beep_enabled",
                    "Hardware beep enabled",
                    Some(if power_supply::label(raw, false) == "1" { 1.0 } else { 0.0 }),
                ),
                "vrm" => ("node_hwmon_voltage_regulator_version", "Hardware voltage regulator", hwmon::value(raw)),
                _ => (
                    "node_hwmon_update_interval_seconds",
                    "Hardware monitor update interval",
                    hwmon::value(raw).map(|v| v * 0.001),
                ),
            };
            let Some(v) = v else { return };
            (family.to_owned(), help.to_owned(), MetricType::Gauge, v)
        }
        _ => {
            let Some(v) = hwmon::value(&r.raw) else { return };
            let (suffix, help, kind, v) = naming(r.kind, item, v);
            let mut family = ["node_hwmon_", r.kind].concat();
            if item == "input" {
                // "input" is the value itself, unless a bare file is.
                if bare.is_some() {
                    family.push_str("_input");
                }
            } else if !item.is_empty() {
                family.push('_');
                family.push_str(&clean(item));
            }
            family.push_str(suffix);
            let shown = if item.is_empty() && r.kind == "temp" { "input" } else { item };
            let help = match help {
                Help::Fixed(text) => text.to_owned(),
                Help::Of(text) => [text, " (", shown, ")"].concat(),
                Help::Status => ["Hardware sensor ", item, " status (", r.kind, ")"].concat(),
                Help::Element => ["Hardware monitor ", r.kind, " element ", item].concat(),
            };
            if r.kind == "freq" && item == "input" {
                // A GPU clock is named by its label, and without one it
                // is not written.
                let Some(label) = label else { return };
                sensor = clean(&power_supply::label(&label.raw, false));
            }
            (family, help, kind, v)
        }
    };
    rows.push(Row { family, help, kind, labels: CHIP_SENSOR, values: [chip.to_owned(), sensor, String::new()], value });
}

/// A family's help text.
enum Help {
    Fixed(&'static str),
    /// This, then the item in parentheses.
    Of(&'static str),
    /// "Hardware sensor <item> status (<type>)".
    Status,
    /// "Hardware monitor <type> element <item>", for an item of no unit.
    Element,
}

/// node_exporter's suffix, help, type and value for item `item` of a
/// sensor of type `kind` whose file holds `v`.
fn naming(kind: &str, item: &str, v: f64) -> (&'static str, Help, MetricType, f64) {
    let gauge = |suffix, help, v| (suffix, help, MetricType::Gauge, v);
    match (kind, item) {
        (_, "alarm" | "fault") => gauge("", Help::Status, v),
        (_, "beep") => gauge("_enabled", Help::Fixed("Hardware monitor sensor has beeping enabled"), v),
        ("in" | "cpu", _) => gauge("_volts", Help::Of("Hardware monitor for voltage"), v * 0.001),
        ("temp", i) if i != "type" => gauge("_celsius", Help::Of("Hardware monitor for temperature"), v * 0.001),
        ("curr", _) => gauge("_amps", Help::Of("Hardware monitor for current"), v * 0.001),
        ("energy", _) => {
            ("_joule_total", Help::Of("Hardware monitor for joules used so far"), MetricType::Counter, v / 1e6)
        }
        ("power", "accuracy") => gauge("", Help::Fixed("Hardware monitor power meter accuracy, as a ratio"), v / 1e6),
        ("power", "average_interval" | "average_interval_min" | "average_interval_max") => {
            gauge("_seconds", Help::Of("Hardware monitor power usage update interval"), v * 0.001)
        }
        ("power", _) => gauge("_watt", Help::Of("Hardware monitor for power usage in watts"), v / 1e6),
        ("humidity", _) => gauge(
            "",
            Help::Of(
                "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage)",
            ),
            v / 1e6,
        ),
        ("fan", "input" | "min" | "max" | "target") => {
            gauge("_rpm", Help::Of("Hardware monitor for fan revolutions per minute"), v)
        }
        ("freq", "input") => gauge("_freq_mhz", Help::Fixed("Hardware monitor for GPU frequency in MHz"), v / 1e6),
        _ => gauge("", Help::Element, v),
    }
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

    fn reading(kind: &'static str, sensor: &str, item: &str, raw: &str) -> Reading {
        Reading { kind, sensor: sensor.into(), item: item.into(), raw: raw.as_bytes().to_vec() }
    }

    /// The rows of one sensor's readings, as (family, help, value).
    fn rows_of(all: &[Reading]) -> Vec<(String, String, f64, String)> {
        let mut rows = Vec::new();
        for r in all {
            sensor_rows("c", r, all, &mut rows);
        }
        rows.into_iter().map(|r| (r.family, r.help, r.value, r.values[1].clone())).collect()
    }

    #[test]
    fn names_units_and_help_as_node_exporter_writes_them() {
        let got =
            rows_of(&[reading("temp", "temp1", "crit_hyst", "85000\n"), reading("temp", "temp1", "input", "-5500\n")]);
        assert_eq!(got[0].0, "node_hwmon_temp_crit_hyst_celsius");
        assert_eq!(got[0].1, "Hardware monitor for temperature (crit_hyst)");
        assert_eq!(got[1].0, "node_hwmon_temp_celsius");
        assert_eq!(got[1].2, -5.5);
        let got = rows_of(&[reading("in", "in0", "input", "792\n"), reading("in", "in0", "alarm", "1\n")]);
        assert_eq!((got[0].0.as_str(), got[0].2), ("node_hwmon_in_volts", 0.792));
        assert_eq!(
            (got[1].0.as_str(), got[1].1.as_str()),
            ("node_hwmon_in_alarm", "Hardware sensor alarm status (in)")
        );
        let got = rows_of(&[reading("power", "power1", "average_interval", "1000\n")]);
        assert_eq!((got[0].0.as_str(), got[0].2), ("node_hwmon_power_average_interval_seconds", 1.0));
        let got = rows_of(&[reading("energy", "energy1", "input", "2500000\n")]);
        assert_eq!((got[0].0.as_str(), got[0].2), ("node_hwmon_energy_joule_total", 2.5));
        let got = rows_of(&[reading("humidity", "humidity1", "input", "45500\n")]);
        assert_eq!((got[0].0.as_str(), got[0].2), ("node_hwmon_humidity", 0.0455));
        let got = rows_of(&[reading("fan", "fan1", "pulses", "2\n")]);
        assert_eq!(
            (got[0].0.as_str(), got[0].1.as_str()),
            ("node_hwmon_fan_pulses", "Hardware monitor fan element pulses")
        );
        // A bare file is the value; then `input` is an item like another.
        let got = rows_of(&[reading("pwm", "pwm1", "", "128\n"), reading("temp", "temp2", "", "40000\n")]);
        assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("node_hwmon_pwm", "Hardware monitor pwm element "));
        assert_eq!(
            (got[1].0.as_str(), got[1].1.as_str()),
            ("node_hwmon_temp_celsius", "Hardware monitor for temperature (input)")
        );
        let got = rows_of(&[reading("curr", "curr1", "", "1\n"), reading("curr", "curr1", "input", "1500\n")]);
        assert_eq!((got[1].0.as_str(), got[1].2), ("node_hwmon_curr_input_amps", 1.5));
        // Once per sensor, from the bare file.
        let got = rows_of(&[reading("beep_enable", "beep_enable0", "", "1\n")]);
        assert_eq!((got[0].0.as_str(), got[0].2), ("node_hwmon_beep_enabled", 1.0));
        // A GPU clock is named by its label, or not written.
        let clock = [reading("freq", "freq1", "input", "214000000\n"), reading("freq", "freq1", "label", "sclk\n")];
        let got = rows_of(&clock);
        assert_eq!((got[0].0.as_str(), got[0].2, got[0].3.as_str()), ("node_hwmon_freq_freq_mhz", 214.0, "sclk"));
        assert_eq!(got[1].0, "node_hwmon_sensor_label");
        assert!(rows_of(&clock[..1]).is_empty());
        assert!(rows_of(&[reading("temp", "temp1", "input", "garbage\n")]).is_empty());
        assert_eq!(clean("coretemp.0"), "coretemp_0");
        assert_eq!(clean("  MT7915-PHY0 "), "mt7915_phy0");
    }
}
