//! `timex`: the kernel clock's discipline state from adjtimex(2), as
//! node_exporter's `node_timex_*`: whether the clock is synchronised, its
//! offset, frequency adjustment, maximum and estimated error, status bits,
//! loop time constant, tick, TAI offset, and the PPS fields.
//!
//! `offset` and the PPS `jitter` are in nanoseconds when `STA_NANO` is set,
//! otherwise microseconds; `freq`, `ppsfreq` and `stabil` are in ppm with
//! a 16-bit fraction (adjtimex(2), "struct timex"). A read-only call (modes
//! 0) needs no privilege; node_exporter treats EPERM as no data, and so
//! does sonde.

use std::io;

use super::common::single;
use super::{Collector, Context, Error};
use crate::expo::{Exposition, MetricType};

pub struct Timex;

/// What adjtimex(2) returned, widened.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct State {
    /// The call's return value: the clock state, TIME_ERROR (5) when
    /// unsynchronised.
    pub clock: i32,
    pub status: i64,
    pub offset: i64,
    pub freq: i64,
    pub maxerror: i64,
    pub esterror: i64,
    pub constant: i64,
    pub tick: i64,
    pub ppsfreq: i64,
    pub jitter: i64,
    pub shift: i64,
    pub stabil: i64,
    pub jitcnt: i64,
    pub calcnt: i64,
    pub errcnt: i64,
    pub stbcnt: i64,
    pub tai: i64,
}

/// adjtimex(2) with modes 0: reads, changes nothing.
pub fn adjtimex() -> io::Result<State> {
    // SAFETY: adjtimex fills the struct it is given; modes 0 (all-zero)
    // asks it to change nothing.
    let (clock, t) = unsafe {
        let mut t: libc::timex = std::mem::zeroed();
        let clock = libc::adjtimex(&raw mut t);
        if clock < 0 {
            return Err(io::Error::last_os_error());
        }
        (clock, t)
    };
    // The fields are c_long (or i64 on 32-bit time64 ABIs): widen them.
    #[allow(clippy::useless_conversion)]
    Ok(State {
        clock,
        status: i64::from(t.status),
        offset: i64::from(t.offset),
        freq: i64::from(t.freq),
        maxerror: i64::from(t.maxerror),
        esterror: i64::from(t.esterror),
        constant: i64::from(t.constant),
        tick: i64::from(t.tick),
        ppsfreq: i64::from(t.ppsfreq),
        jitter: i64::from(t.jitter),
        shift: i64::from(t.shift),
        stabil: i64::from(t.stabil),
        jitcnt: i64::from(t.jitcnt),
        calcnt: i64::from(t.calcnt),
        errcnt: i64::from(t.errcnt),
        stbcnt: i64::from(t.stbcnt),
        tai: i64::from(t.tai),
    })
}

impl Collector for Timex {
    fn name(&self) -> &'static str {
        "timex"
    }

    fn collect(&self, _cx: &mut Context<'_>, out: &mut Exposition) -> Result<(), Error> {
        match adjtimex() {
            Ok(state) => {
                render(&state, out);
                Ok(())
            }
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => Ok(()),
            Err(err) => Err(Error::Sys { call: "adjtimex", err }),
        }
    }
}

const TIME_ERROR: i32 = 5;
const STA_NANO: i64 = 0x2000;
/// ppm with a 16-bit binary fraction, to a plain ratio.
const PPM16: f64 = 1e6 * 65536.0;

pub fn render(s: &State, out: &mut Exposition) {
    let per_second = if s.status & STA_NANO != 0 { 1e9 } else { 1e6 };
    let g = MetricType::Gauge;
    let c = MetricType::Counter;
    let families: [(&str, &str, MetricType, f64); 17] = [
        (
            "node_timex_sync_status",
            "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
            g,
            if s.clock == TIME_ERROR { 0.0 } else { 1.0 },
        ),
        (
            "node_timex_offset_seconds",
            "Time offset in between local system and reference clock.",
            g,
            s.offset as f64 / per_second,
        ),
        ("node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.", g, 1.0 + s.freq as f64 / PPM16),
        ("node_timex_maxerror_seconds", "Maximum error in seconds.", g, s.maxerror as f64 / 1e6),
        ("node_timex_estimated_error_seconds", "Estimated error in seconds.", g, s.esterror as f64 / 1e6),
        ("node_timex_status", "Value of the status array bits.", g, s.status as f64),
        ("node_timex_loop_time_constant", "Phase-locked loop time constant.", g, s.constant as f64),
        ("node_timex_tick_seconds", "Seconds between clock ticks.", g, s.tick as f64 / 1e6),
        ("node_timex_pps_frequency_hertz", "Pulse per second frequency.", g, s.ppsfreq as f64 / PPM16),
        ("node_timex_pps_jitter_seconds", "Pulse per second jitter.", g, s.jitter as f64 / per_second),
        ("node_timex_pps_shift_seconds", "Pulse per second interval duration.", g, s.shift as f64),
        (
            "node_timex_pps_stability_hertz",
            "Pulse per second stability, average of recent frequency changes.",
            g,
            s.stabil as f64 / PPM16,
        ),
        ("node_timex_pps_jitter_total", "Pulse per second count of jitter limit exceeded events.", c, s.jitcnt as f64),
        ("node_timex_pps_calibration_total", "Pulse per second count of calibration intervals.", c, s.calcnt as f64),
        ("node_timex_pps_error_total", "Pulse per second count of calibration errors.", c, s.errcnt as f64),
        (
            "node_timex_pps_stability_exceeded_total",
            "Pulse per second count of stability limit exceeded events.",
            c,
            s.stbcnt as f64,
        ),
        ("node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.", g, s.tai as f64),
    ];
    for (name, help, kind, value) in families {
        single(out, name, help, kind, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_sta_nano() {
        let mut out = Exposition::new(1 << 20);
        let s = State { clock: 0, status: STA_NANO, offset: 1500, freq: 65536 * 10, tick: 10000, ..State::default() };
        render(&s, &mut out);
        let text = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(
            text.contains("\nnode_timex_offset_seconds 0.0000015\n")
                || text.contains("\nnode_timex_offset_seconds 1.5e-6\n"),
            "{text}"
        );
        assert!(text.contains("\nnode_timex_frequency_adjustment_ratio 1.00001\n"));
        assert!(text.contains("\nnode_timex_sync_status 1\n"));
        assert!(text.contains("\nnode_timex_tick_seconds 0.01\n"));
    }

    #[test]
    fn adjtimex_reads_without_privilege() {
        let s = adjtimex().unwrap();
        assert!(s.tick > 0);
    }
}
