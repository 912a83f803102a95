//! `time`: the system clock, its time zone and its clock source.
//!
//! node_exporter's `time` collector names: `node_time_seconds`,
//! `node_time_zone_offset_seconds{time_zone}`, and, from
//! /sys/devices/system/clocksource, `node_time_clocksource_available_info`
//! and `node_time_clocksource_current_info{clocksource,device}`. A kernel
//! without that sysfs directory has no clock source families; that is not
//! a failure.

use std::ffi::CStr;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Collector, Context, Error};
use crate::expo::{Exposition, MetricType};
use crate::wire::fields;

pub struct Time;

const CLOCKSOURCE_DIR: &str = "devices/system/clocksource";

impl Collector for Time {
    fn name(&self) -> &'static str {
        "time"
    }

    fn collect(&self, cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        out.family("node_time_seconds", "System time in seconds since epoch (1970).", MetricType::Gauge);
        out.sample(&[], now);

        let (offset, zone) = zone(now as i64)?;
        out.family("node_time_zone_offset_seconds", "System time zone offset in seconds.", MetricType::Gauge);
        out.sample(&[("time_zone", zone.as_str())], offset as f64);

        clocksources(cx, out)
    }
}

/// The local time zone's offset from UTC and its abbreviation, as
/// localtime(3) finds them (TZ, else /etc/localtime).
fn zone(now: i64) -> Result<(i64, String), Error> {
    // SAFETY: localtime_r fills the tm it is given; tm_zone then points to
    // a NUL-terminated string owned by the C library that lives at least
    // until the next call in this thread, and is copied at once.
    unsafe {
        // time_t is 32 bits on some 32-bit musl ABIs; the cast is the
        // C library's own width.
        let t = now as _;
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&raw const t, &raw mut tm).is_null() {
            return Err(Error::Sys { call: "localtime_r", err: io::Error::last_os_error() });
        }
        let name = if tm.tm_zone.is_null() {
            String::new()
        } else {
            CStr::from_ptr(tm.tm_zone).to_string_lossy().into_owned()
        };
        // c_long: i64 here, i32 on 32-bit targets.
        #[allow(clippy::useless_conversion)]
        Ok((i64::from(tm.tm_gmtoff), name))
    }
}

fn clocksources(cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
    let dir = cx.sys_path(CLOCKSOURCE_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(Error::Io { path: dir, err }),
    };
    let mut devices: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix("clocksource").is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    devices.sort();
    for (file, family, help) in [
        (
            "available_clocksource",
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
        ),
        (
            "current_clocksource",
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
        ),
    ] {
        out.family(family, help, MetricType::Gauge);
        for device in &devices {
            let id = &device["clocksource".len()..];
            let bytes = cx.sys(&format!("{CLOCKSOURCE_DIR}/{device}/{file}"))?;
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            for source in fields(line) {
                let source = String::from_utf8_lossy(source);
                out.sample(&[("clocksource", &source), ("device", id)], 1.0);
            }
        }
    }
    Ok(())
}
