//! The attributes of /sys/class/power_supply/<supply>/
//! (Documentation/ABI/testing/sysfs-class-power), as node_exporter's
//! powersupplyclass collector turns them into families: which files it
//! reads, the family each becomes, its unit, and the text of those that
//! become labels of `node_power_supply_info`.
//!
//! Numbers are decimal (the kernel prints them with `%d`; node_exporter
//! would also take `0x…`, which no driver writes). Microunits (µA, µV,
//! µWh, µAh, µW) become units, tenths of a degree become degrees.

use std::borrow::Cow;

use super::number;
use crate::wire::Error;

/// How a file's number becomes the sample's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// As written: a percentage, a count, seconds, a flag.
    Raw,
    /// Millionths: µA, µV, µW, µWh, µAh.
    Micro,
    /// Tenths of a degree Celsius; the family gains `_celsius`.
    DeciCelsius,
}

/// The files read as numbers, by unit, in the order their families are
/// written: a file's family is `node_power_supply_` and its name, or the
/// name after its `=` (`current_now=current_ampere`); every temperature's
/// also ends in `_celsius`. The `*_avg` files are not read, as
/// node_exporter does not read them. (One string per unit rather than a
/// table: 600 bytes less on armv7.)
pub const GAUGES: [(Unit, &str); 3] = [
    (
        Unit::Raw,
        "authentic calibrate capacity capacity_alert_max capacity_alert_min cycle_count=cyclecount online \
         present time_to_empty_now=time_to_empty_seconds time_to_full_now=time_to_full_seconds",
    ),
    // charge_control_limit{,_max} are throttle levels, not microunits, but
    // node_exporter divides them by a million too.
    (
        Unit::Micro,
        "current_boot current_max current_now=current_ampere energy_empty energy_empty_design energy_full \
         energy_full_design energy_now=energy_watthour voltage_boot voltage_max voltage_max_design voltage_min \
         voltage_min_design voltage_now=voltage_volt voltage_ocv charge_control_limit charge_control_limit_max \
         charge_counter charge_empty charge_empty_design charge_full charge_full_design charge_now=charge_ampere \
         charge_term_current constant_charge_current constant_charge_current_max constant_charge_voltage \
         constant_charge_voltage_max precharge_current input_current_limit power_now=power_watt",
    ),
    (
        Unit::DeciCelsius,
        "temp temp_alert_max temp_alert_min temp_ambient temp_ambient_max temp_ambient_min temp_max temp_min",
    ),
];

/// Every file of [`GAUGES`]: its name, its family after
/// `node_power_supply_` (without `_celsius`), and its unit.
pub fn gauges() -> impl Iterator<Item = (&'static str, &'static str, Unit)> {
    GAUGES.into_iter().flat_map(|(unit, names)| {
        names.split_ascii_whitespace().map(move |n| {
            let (file, family) = n.split_once('=').unwrap_or((n, n));
            (file, family, unit)
        })
    })
}

/// The files that become labels of `node_power_supply_info`, with the
/// supply's own name (`power_supply`, no file), in label name order.
pub const INFO: &str = "capacity_level charge_type health manufacturer model_name power_supply scope serial_number \
                        status technology type usb_type";

/// The sample value of a file of [`GAUGES`] read with `unit`.
pub fn value(bytes: &[u8], unit: Unit) -> Result<f64, Error> {
    let v = number::parse(bytes)? as f64;
    Ok(match unit {
        Unit::Raw => v,
        Unit::Micro => v / 1e6,
        Unit::DeciCelsius => v / 10.0,
    })
}

/// An attribute's text as a label value, as node_exporter reads it: the
/// first 128 bytes, with surrounding white space (`trim_spaces`) or only
/// newlines trimmed, each run of bytes that are not UTF-8 as one U+FFFD
/// (Go's `strings.ToValidUTF8`). Borrowed when it is UTF-8 already.
pub fn label(bytes: &[u8], trim_spaces: bool) -> Cow<'_, str> {
    let bytes = bytes.get(..128).unwrap_or(bytes);
    let bytes = if trim_spaces {
        bytes.trim_ascii()
    } else {
        let start = bytes.iter().position(|&b| b != b'\n').unwrap_or(bytes.len());
        let end = bytes.iter().rposition(|&b| b != b'\n').map_or(start, |i| i + 1);
        &bytes[start..end]
    };
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut in_run = false;
    for chunk in bytes.utf8_chunks() {
        if !chunk.valid().is_empty() {
            out.push_str(chunk.valid());
            in_run = false;
        }
        if !chunk.invalid().is_empty() && !in_run {
            out.push('\u{FFFD}');
            in_run = true;
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_and_their_families() {
        let all: Vec<_> = gauges().collect();
        assert_eq!(all.len(), 49);
        assert_eq!(all[0], ("authentic", "authentic", Unit::Raw));
        assert!(all.contains(&("current_now", "current_ampere", Unit::Micro)));
        assert_eq!(all[48], ("temp_min", "temp_min", Unit::DeciCelsius));
        let info: Vec<_> = INFO.split_ascii_whitespace().collect();
        assert!(info.windows(2).all(|w| w[0] < w[1]), "sorted, as label names are written");
        assert_eq!(info.len(), 12);
    }

    #[test]
    fn values_in_node_exporters_units() {
        // A ThinkPad's battery (node_exporter's fixture).
        assert_eq!(value(b"11660000\n", Unit::Micro), Ok(11.66));
        assert_eq!(value(b"81\n", Unit::Raw), Ok(81.0));
        assert_eq!(value(b"-1234000\n", Unit::Micro), Ok(-1.234));
        assert_eq!(value(b"285\n", Unit::DeciCelsius), Ok(28.5));
        assert!(value(b"Discharging\n", Unit::Raw).is_err());
        assert!(value(b"", Unit::Raw).is_err());
    }

    #[test]
    fn labels_as_node_exporter_reads_them() {
        assert_eq!(label(b"Li-ion\n", true), "Li-ion");
        assert_eq!(label(b"  LGC \n", true), "LGC");
        assert_eq!(label(b"\nCore 0 \n\n", false), "Core 0 ");
        assert_eq!(label(b"[C] PD PD_PPS\n", true), "[C] PD PD_PPS");
        // The model name of node_exporter's fixture is already U+FFFD
        // twice; raw bytes that are not UTF-8 become one U+FFFD per run.
        assert_eq!(label(b"LNV-45N1\xef\xbf\xbd\xef\xbf\xbd\n", true), "LNV-45N1\u{FFFD}\u{FFFD}");
        assert_eq!(label(b"LNV\xff\xfe-45\xc3\n", true), "LNV\u{FFFD}-45\u{FFFD}");
        assert_eq!(label(b"\xff\xef\xbf\xbd\xff", true), "\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(label(&[b'x'; 200], true).len(), 128);
        assert_eq!(label(b"\n", false), "");
        assert_eq!(label(b"", true), "");
    }
}
