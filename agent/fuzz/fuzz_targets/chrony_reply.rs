//! chronyd's replies are untrusted: whoever can write to the reply socket
//! or the UDP port can send anything. The header check and every body
//! parser must not panic, must accept only a successful reply of their own
//! code whose data holds the whole layout, and must return finite numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::chrony::{
    float, parse_n_sources, rpy, Activity, NtpData, Reply, SelectData, ServerStat, ServerStats, SourceData,
    Sourcestats, Status, Tracking, REPLY_HEADER_LEN,
};

/// An Ok from a parser: the reply said success, had `codes`, held `len` bytes.
fn accepted(r: &Reply<'_>, codes: &[u16], len: usize) {
    assert_eq!(r.status(), Status::Success);
    assert!(codes.contains(&r.reply()), "reply code {}", r.reply());
    assert!(r.data().len() >= len, "{} data bytes, layout {len}", r.data().len());
}

fn finite(values: &[f64]) {
    assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
}

fuzz_target!(|data: &[u8]| {
    if data.len() >= 4 {
        let word = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        assert!(float(word).is_finite());
    }
    let Ok(r) = Reply::new_checked(data) else { return };
    assert!(data.len() >= REPLY_HEADER_LEN);
    assert_eq!(r.data().len(), data.len() - REPLY_HEADER_LEN);
    let _ = r.answers(r.command(), r.sequence());
    let _ = r.status().what();

    if parse_n_sources(&r).is_ok() {
        accepted(&r, &[rpy::N_SOURCES], 4);
    }
    if let Ok(s) = SourceData::parse(&r) {
        accepted(&r, &[rpy::SOURCE_DATA], 48);
        finite(&[s.orig_latest_meas, s.latest_meas, s.latest_meas_err]);
    }
    if let Ok(t) = Tracking::parse(&r) {
        accepted(&r, &[rpy::TRACKING], 76);
        assert!(t.ref_time.nsec <= 999_999_999);
        assert!(t.ref_time.as_f64().is_finite());
        finite(&[
            t.current_correction,
            t.last_offset,
            t.rms_offset,
            t.freq_ppm,
            t.resid_freq_ppm,
            t.skew_ppm,
            t.root_delay,
            t.root_dispersion,
            t.last_update_interval,
        ]);
    }
    if let Ok(s) = Sourcestats::parse(&r) {
        accepted(&r, &[rpy::SOURCESTATS], 56);
        finite(&[s.sd, s.resid_freq_ppm, s.skew_ppm, s.est_offset, s.est_offset_err]);
    }
    if let Ok(s) = ServerStats::parse(&r) {
        let len = match r.reply() {
            rpy::SERVER_STATS => 20,
            rpy::SERVER_STATS2 => 32,
            rpy::SERVER_STATS3 => 44,
            _ => 168,
        };
        accepted(&r, &[rpy::SERVER_STATS, rpy::SERVER_STATS2, rpy::SERVER_STATS3, rpy::SERVER_STATS4], len);
        assert_eq!(s.reply, r.reply());
        // Every layout has the first counter; only STATS4 the last.
        assert!(s.get(ServerStat::NtpHits).is_some());
        assert_eq!(s.get(ServerStat::NtpHwTxTimestamps).is_some(), r.reply() == rpy::SERVER_STATS4);
    }
    if let Ok(n) = NtpData::parse(&r) {
        let two = r.reply() == rpy::NTP_DATA2;
        accepted(&r, &[rpy::NTP_DATA, rpy::NTP_DATA2], if two { 144 } else { 124 });
        assert_eq!(n.total_ts.is_some(), two);
        assert!(n.ref_time.nsec <= 999_999_999);
        finite(&[n.root_delay, n.root_dispersion, n.offset, n.peer_delay, n.peer_dispersion, n.response_time]);
    }
    if let Ok(a) = Activity::parse(&r) {
        accepted(&r, &[rpy::ACTIVITY], 20);
        let _ = a;
    }
    if let Ok(s) = SelectData::parse(&r) {
        accepted(&r, &[rpy::SELECT_DATA], 48);
        finite(&[s.score, s.lo_limit, s.hi_limit]);
    }
});
