//! The files of a hardware monitoring chip, /sys/class/hwmon/hwmonN/
//! (Documentation/hwmon/sysfs-interface.rst): `<type><index>_<item>`
//! (`temp1_input`, `fan2_min`, `in0_alarm`, `power1_average_interval`),
//! each holding one value, in millidegrees, millivolts, milliamperes,
//! microwatts, microjoules, RPM or thousandths of a percent.
//!
//! Names are split as node_exporter splits them (its regular expression
//! `^(?P<type>[^0-9]+)(?P<id>[0-9]*)?(_(?P<property>.+))?$`, which
//! prefers the longest type), and only node_exporter's sensor types are
//! kept, so that the same files give the same series.

use crate::wire::parse_u64;

/// The sensor types node_exporter reads; a file of another type (`name`,
/// `uevent`, a driver's own) is not a sensor.
pub const TYPES: [&str; 14] = [
    "vrm",
    "beep_enable",
    "update_interval",
    "in",
    "cpu",
    "fan",
    "pwm",
    "temp",
    "curr",
    "power",
    "energy",
    "humidity",
    "intrusion",
    "freq",
];

/// A sensor file's name split: its type (one of [`TYPES`]), its index
/// (0 when it has none: `beep_enable`, `vrm`) and its item, empty for a
/// bare `pwm1` or `temp1`.
pub fn split(file: &str) -> Option<(&'static str, u64, &str)> {
    let letters = file.bytes().take_while(|b| !b.is_ascii_digit()).count();
    if letters == 0 {
        return None;
    }
    let digits = file[letters..].bytes().take_while(u8::is_ascii_digit).count();
    let (kind, index, item) = match ends(&file[letters + digits..]) {
        // The longest type, with every digit after it as the index.
        Some(item) => (&file[..letters], &file[letters..letters + digits], item),
        // Else, as the expression backtracks, the longest shorter type
        // that an `_` and an item follow, with no index (`temp_1x`: type
        // `temp`, item `1x`).
        None => {
            let cut = (1..letters).rev().find(|&i| file.as_bytes()[i] == b'_' && i + 1 < file.len())?;
            (&file[..cut], "", ends(&file[cut..])?)
        }
    };
    let kind = TYPES.into_iter().find(|t| *t == kind)?;
    let index = if index.is_empty() { 0 } else { parse_u64(index.as_bytes())? };
    Some((kind, index, item))
}

/// The item of what follows the index: nothing, or `_` and at least one
/// character (no newline, which the expression's `.` does not match).
fn ends(rest: &str) -> Option<&str> {
    if rest.is_empty() {
        return Some("");
    }
    let item = rest.strip_prefix('_').filter(|i| !i.is_empty())?;
    (!item.contains('\n')).then_some(item)
}

/// A sensor file's value as node_exporter reads it: the first 128 bytes,
/// newlines trimmed, as a float (Go's `ParseFloat`; NaN and infinities
/// included). `None` if it is not a number.
pub fn value(bytes: &[u8]) -> Option<f64> {
    let bytes = bytes.get(..128).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).ok()?.trim_matches('\n');
    crate::wire::float::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_files_split_as_node_exporter_splits_them() {
        assert_eq!(split("temp1_input"), Some(("temp", 1, "input")));
        assert_eq!(split("temp12_crit_alarm"), Some(("temp", 12, "crit_alarm")));
        assert_eq!(split("pwm1_auto_point1_pwm"), Some(("pwm", 1, "auto_point1_pwm")));
        assert_eq!(split("in0"), Some(("in", 0, "")));
        assert_eq!(split("temp01_input"), Some(("temp", 1, "input")));
        assert_eq!(split("beep_enable"), Some(("beep_enable", 0, "")));
        assert_eq!(split("update_interval"), Some(("update_interval", 0, "")));
        assert_eq!(split("vrm"), Some(("vrm", 0, "")));
        assert_eq!(split("intrusion0_alarm"), Some(("intrusion", 0, "alarm")));
        // The longest type wins: `temp_input` is of type `temp_input`.
        assert_eq!(split("temp_input"), None);
        // A shorter type only when the longer one cannot match.
        assert_eq!(split("temp_1x"), Some(("temp", 0, "1x")));
        // `fan_` with index 2 is no sensor type.
        assert_eq!(split("fan_2"), None);
        assert_eq!(split("fan1_x_"), Some(("fan", 1, "x_")));
        assert_eq!(split("fan_x_1"), None);
        assert_eq!(split("temp_x_"), None);
        assert_eq!(split("temp1__"), Some(("temp", 1, "_")));
        assert_eq!(split(""), None);
        assert_eq!(split("_1"), None);
        assert_eq!(split("temp1_in\nput"), None);
        assert_eq!(split("name"), None);
        assert_eq!(split("temp1x"), None);
        assert_eq!(split("temp1_"), None);
        assert_eq!(split("1_input"), None);
        assert_eq!(split("bogus1_input"), None);
        assert_eq!(split("temp99999999999999999999_input"), None);
        // `power` is a type and a directory of every device: it splits,
        // and the read of the directory fails.
        assert_eq!(split("power"), Some(("power", 0, "")));
    }

    #[test]
    fn values_as_node_exporter_parses_them() {
        assert_eq!(value(b"55000\n"), Some(55000.0));
        assert_eq!(value(b"-5500\n"), Some(-5500.0));
        assert_eq!(value(b"1\n"), Some(1.0));
        assert_eq!(value(b" 1\n"), None);
        assert_eq!(value(b"Core 0\n"), None);
        assert_eq!(value(b""), None);
        assert!(value(b"NaN\n").is_some_and(f64::is_nan));
    }
}
