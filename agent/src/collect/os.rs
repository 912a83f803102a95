//! `os`: the operating system's identity from os-release(5), as
//! node_exporter's `os` collector: `node_os_info` with twelve labels,
//! `node_os_version` (the major.minor of `VERSION_ID`, when it has one)
//! and `node_os_support_end_timestamp_seconds` (when `SUPPORT_END` says).
//!
//! Read from `/etc/os-release`, else `/usr/lib/os-release`, under
//! `[paths] rootfs`. OpenWrt, Alpine, Debian and Buildroot all ship one; a
//! system without either file has no data, which is not a failure.

use std::borrow::Cow;

use super::{keep_first_error, Collector, Context, Error, Root};
use crate::expo::{Exposition, MetricType};
use crate::wire::os_release;

pub struct Os;

/// The os-release keys of `node_os_info`'s labels, in label order.
const KEYS: [(&str, &str); 12] = [
    ("build_id", "BUILD_ID"),
    ("id", "ID"),
    ("id_like", "ID_LIKE"),
    ("image_id", "IMAGE_ID"),
    ("image_version", "IMAGE_VERSION"),
    ("name", "NAME"),
    ("pretty_name", "PRETTY_NAME"),
    ("variant", "VARIANT"),
    ("variant_id", "VARIANT_ID"),
    ("version", "VERSION"),
    ("version_codename", "VERSION_CODENAME"),
    ("version_id", "VERSION_ID"),
];

impl Collector for Os {
    fn name(&self) -> &'static str {
        "os"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        for file in ["etc/os-release", "usr/lib/os-release"] {
            if let Some(bytes) = cx.read_opt(Root::Rootfs, &[file])? {
                return render(bytes, out).map_err(|e| cx.parse_error(e));
            }
        }
        Ok(())
    }
}

/// Writes the families; a line that is not an assignment is the error,
/// after the families are written from the others.
pub fn render(bytes: &[u8], out: &mut Exposition) -> Result<(), crate::wire::Error> {
    let mut values: [Cow<'_, str>; 12] = Default::default();
    let mut support_end = None;
    let mut error = None;
    for (key, value) in keep_first_error(os_release::parse(bytes), &mut error) {
        if let Some(i) = KEYS.iter().position(|(_, k)| *k == key) {
            values[i] = value;
        } else if key == "SUPPORT_END" {
            support_end = date(&value);
        }
    }
    let help = "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, \
                name, pretty_name, variant, variant_id, version, version_codename, version_id.";
    out.family("node_os_info", help, MetricType::Gauge);
    let labels: [(&str, &str); 12] = std::array::from_fn(|i| (KEYS[i].0, &*values[i]));
    out.sample(&labels, 1.0);
    if let Some(version) = major_minor(&values[11]) {
        out.family("node_os_version", "Metric containing the major.minor part of the OS version.", MetricType::Gauge);
        out.sample(&[("id", &values[1]), ("id_like", &values[2]), ("name", &values[5])], version);
    }
    if let Some(t) = support_end {
        let help = "Metric containing the end-of-life date timestamp of the OS.";
        out.family("node_os_support_end_timestamp_seconds", help, MetricType::Gauge);
        out.sample(&[], t);
    }
    error.map_or(Ok(()), Err)
}

/// `^[0-9]+\.?[0-9]*` of `VERSION_ID` as a number, as node_exporter reads
/// it ("23.05.3" is 23.05, "12" is 12); none if it does not start with a
/// digit or reads as 0.
fn major_minor(version_id: &str) -> Option<f64> {
    let int = version_id.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &version_id[int..];
    let frac = match rest.strip_prefix('.') {
        Some(r) => 1 + r.bytes().take_while(u8::is_ascii_digit).count(),
        None => 0,
    };
    let v = crate::wire::float::parse(version_id[..int + frac].trim_end_matches('.'))?;
    (int > 0 && v > 0.0).then_some(v)
}

/// `YYYY-MM-DD` as Unix seconds at midnight UTC.
fn date(s: &str) -> Option<f64> {
    let mut it = s.splitn(3, '-');
    let (y, m, d): (i64, i64, i64) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), with March-based years.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(((era * 146_097 + doe - 719_468) * 86_400) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_as_node_exporter_reads_them() {
        assert_eq!(major_minor("23.05.3"), Some(23.05));
        assert_eq!(major_minor("12"), Some(12.0));
        assert_eq!(major_minor("3.19.1"), Some(3.19));
        assert_eq!(major_minor("7."), Some(7.0));
        assert_eq!(major_minor("rolling"), None);
        assert_eq!(major_minor(""), None);
    }

    #[test]
    fn support_end_dates() {
        assert_eq!(date("1970-01-01"), Some(0.0));
        assert_eq!(date("2026-06-10"), Some(1_781_049_600.0));
        assert_eq!(date("2024-02-29"), Some(1_709_164_800.0));
        assert_eq!(date("2026-13-01"), None);
        assert_eq!(date("soon"), None);
    }

    #[test]
    fn openwrt_os_release() {
        let mut out = Exposition::new(1 << 20);
        render(b"NAME=\"OpenWrt\"\nID=\"openwrt\"\nID_LIKE=\"lede openwrt\"\nVERSION_ID=\"23.05.3\"\n", &mut out)
            .unwrap();
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(text.contains("node_os_info{build_id=\"\",id=\"openwrt\",id_like=\"lede openwrt\","), "{text}");
        assert!(text.contains("node_os_version{id=\"openwrt\",id_like=\"lede openwrt\",name=\"OpenWrt\"} 23.05\n"));
    }
}
