//! The chrony families, from a [`Report`]: chrony_exporter's names,
//! labels, types and help, and what it lacks under the same namespace.

use std::net::{IpAddr, Ipv4Addr};

use super::label::Label;
use super::{Answer, Report, Source};
use crate::expo::{Exposition, MetricType};
use crate::wire::chrony::{self as candm, mode, state, Address, ServerStat, ServerStats, Tracking};

// The families are written by straight-line calls rather than walked
// from tables: in a static PIE every table entry of strings and function
// pointers costs relocations, which weigh more than the calls.

/// One unlabelled gauge.
fn gauge(out: &mut Exposition, name: &str, help: &str, value: f64) {
    out.family(name, help, MetricType::Gauge);
    out.sample(&[], value);
}

/// One serverstats counter (or gauge), if this reply's layout has it.
fn server_stat(out: &mut Exposition, stats: &ServerStats, stat: ServerStat, kind: MetricType, name: &str, help: &str) {
    if let Some(v) = stats.get(stat) {
        out.family(name, help, kind);
        out.sample(&[], v as f64);
    }
}

/// A per-source value, by family.
#[derive(Clone, Copy)]
enum Field {
    SinceSample,
    ReachRatio,
    ReachSuccess,
    LatestMeas,
    LatestMeasErr,
    Poll,
    Stratum,
    Reachability,
    PeerOffset,
    PeerDelay,
    PeerDispersion,
    ResponseTime,
    JitterAsymmetry,
    Samples,
    Runs,
    Span,
    Sd,
    ResidFreq,
    Skew,
    EstOffset,
}

impl Field {
    fn of(self, s: &Source) -> Option<f64> {
        let d = &s.data;
        let n = s.peer.as_ref();
        let st = s.stats.as_ref();
        match self {
            Field::SinceSample => Some(f64::from(d.since_sample)),
            Field::ReachRatio => Some(f64::from((d.reachability & 0xff).count_ones()) / 8.0),
            Field::ReachSuccess => Some(f64::from(d.reachability & 1)),
            Field::LatestMeas => Some(d.latest_meas),
            Field::LatestMeasErr => Some(d.latest_meas_err),
            Field::Poll => Some(candm::pow2(i32::from(d.poll))),
            Field::Stratum => Some(f64::from(d.stratum)),
            Field::Reachability => Some(f64::from(d.reachability)),
            Field::PeerOffset => n.map(|n| n.offset),
            Field::PeerDelay => n.map(|n| n.delay),
            Field::PeerDispersion => n.map(|n| n.dispersion),
            Field::ResponseTime => n.map(|n| n.response_time),
            Field::JitterAsymmetry => n.map(|n| n.jitter_asymmetry),
            Field::Samples => st.map(|s| f64::from(s.n_samples)),
            Field::Runs => st.map(|s| f64::from(s.n_runs)),
            Field::Span => st.map(|s| f64::from(s.span_seconds)),
            Field::Sd => st.map(|s| s.sd),
            Field::ResidFreq => st.map(|s| s.resid_freq_ppm),
            Field::Skew => st.map(|s| s.skew_ppm),
            Field::EstOffset => st.map(|s| s.est_offset),
        }
    }
}

/// A gauge with one sample per source that has `field`; no family if none
/// has it.
fn per_source(out: &mut Exposition, sources: &[Source], field: Field, name: &str, help: &str) {
    if !sources.iter().any(|s| field.of(s).is_some()) {
        return;
    }
    out.family(name, help, MetricType::Gauge);
    for s in sources {
        if let Some(v) = field.of(s) {
            let l = s.label.as_str();
            out.sample(&[("source_address", l), ("source_name", l)], v);
        }
    }
}

/// 0 when chronyd is not synchronised to a source out there: its own
/// clock (`local`, refid 7F7F0101 or 127.127.1.1) or nothing (refid 0).
/// chrony_exporter compares only the address with 127.127.1.1, which
/// chronyd 4 never sends, so it says 1 in both cases.
fn remote_reference(t: &Tracking) -> f64 {
    const LOCAL: u32 = 0x7f7f_0101;
    let local = t.ref_id == 0 || t.ref_id == LOCAL || t.ip_addr == Address::Ip(IpAddr::V4(Ipv4Addr::from(LOCAL)));
    if local {
        0.0
    } else {
        1.0
    }
}

/// chrony_exporter's (facebook/time's) names of the `RPY_SD_ST_*` states,
/// from chrony 3: sync, unreach, falseticker, jittery, candidate, outlier.
fn state_name(state: u16) -> &'static str {
    match state {
        state::SELECTED => "sync",
        state::NONSELECTABLE => "unreach",
        state::FALSETICKER => "falseticker",
        state::JITTERY => "jittery",
        state::UNSELECTED => "candidate",
        state::SELECTABLE => "outlier",
        _ => "unknown",
    }
}

/// The state column of `chronyc sources`.
fn state_char(state: u16) -> &'static str {
    match state {
        state::SELECTED => "*",
        state::NONSELECTABLE => "?",
        state::FALSETICKER => "x",
        state::JITTERY => "~",
        state::UNSELECTED => "+",
        state::SELECTABLE => "-",
        _ => "",
    }
}

fn mode_name(mode: u16) -> &'static str {
    match mode {
        mode::CLIENT => "client",
        mode::PEER => "peer",
        mode::REF => "reference clock",
        _ => "unknown",
    }
}

/// Writes what `report` holds; nothing it lacks.
pub fn render(report: &Report, out: &mut Exposition) {
    gauge(out, "chrony_up", "Whether the chrony server is up.", if report.up { 1.0 } else { 0.0 });
    if let Some(t) = &report.tracking {
        tracking(t, out);
    }
    if !report.sources.is_empty() {
        sources(&report.sources, out);
    }
    if let Answer::Got(stats) = &report.serverstats {
        serverstats(stats, out);
    }
    if let Some(a) = &report.activity {
        out.family(
            "chrony_activity_sources",
            "Chrony sources by activity state, as chronyc activity counts them",
            MetricType::Gauge,
        );
        for (state, v) in [
            ("online", a.online),
            ("offline", a.offline),
            ("burst_online", a.burst_online),
            ("burst_offline", a.burst_offline),
            ("unresolved", a.unresolved),
        ] {
            out.sample(&[("state", state)], f64::from(v));
        }
    }
    let asked = [
        ("serverstats", report.serverstats != Answer::NotAsked, matches!(report.serverstats, Answer::Got(_))),
        ("ntpdata", report.ntp_data != Answer::NotAsked, report.ntp_data == Answer::Got(())),
        ("selectdata", report.select_data != Answer::NotAsked, report.select_data == Answer::Got(())),
    ];
    if asked.iter().any(|(_, asked, _)| *asked) {
        out.family(
            "chrony_command_available",
            "Whether chronyd answered a command it answers only on its unix socket by default: 0 when it said \
             not authorised (over UDP) or does not know the command",
            MetricType::Gauge,
        );
        for (command, asked, got) in asked {
            if asked {
                out.sample(&[("command", command)], if got { 1.0 } else { 0.0 });
            }
        }
    }
}

fn tracking(t: &Tracking, out: &mut Exposition) {
    let address = match t.ip_addr {
        Address::Ip(ip) => Label::ip(ip),
        _ => Label::refid(t.ref_id),
    };
    out.family("chrony_tracking_info", "Chrony tracking info", MetricType::Gauge);
    let refid = Label::hex(t.ref_id);
    let labels = [
        ("tracking_address", address.as_str()),
        ("tracking_name", address.as_str()),
        ("tracking_refid", refid.as_str()),
    ];
    out.sample(&labels, 1.0);
    let o = out;
    gauge(o, "chrony_tracking_last_offset_seconds", "Chrony tracking last offset in seconds", t.last_offset);
    gauge(o, "chrony_tracking_reference_timestamp_seconds", "Chrony tracking Reference timestamp", t.ref_time.as_f64());
    gauge(o, "chrony_tracking_system_time_seconds", "Chrony tracking System time", t.current_correction);
    gauge(
        o,
        "chrony_tracking_remote_reference",
        "Chrony tracking is connected to a remote source",
        remote_reference(t),
    );
    gauge(o, "chrony_tracking_rms_offset_seconds", "Chrony tracking long-term average of the offset", t.rms_offset);
    gauge(
        o,
        "chrony_tracking_root_delay_seconds",
        "This is the total of the network path delays to the stratum-1 computer from which the computer is \
         ultimately synchronised",
        t.root_delay,
    );
    gauge(
        o,
        "chrony_tracking_root_dispersion_seconds",
        "Chrony tracking total of all measurement errors to the NTP root",
        t.root_dispersion,
    );
    gauge(
        o,
        "chrony_tracking_frequency_ppms",
        "Rate by which the system's clock would be wrong if chronyd was not correcting it, in PPMs",
        t.freq_ppm,
    );
    gauge(
        o,
        "chrony_tracking_residual_frequency_ppms",
        "For the currently selected reference source, the difference between the frequency it suggests and the \
         one currently in use, in PPMs",
        t.resid_freq_ppm,
    );
    gauge(o, "chrony_tracking_skew_ppms", "The estimated error bound on the frequency, in PPMs", t.skew_ppm);
    gauge(
        o,
        "chrony_tracking_update_interval_seconds",
        "The time elapsed since the last measurement from the reference source was processed, in seconds",
        t.last_update_interval,
    );
    gauge(o, "chrony_tracking_stratum", "Chrony tracking client stratum", f64::from(t.stratum));
    gauge(
        o,
        "chrony_tracking_leap_status",
        "Chrony tracking leap status: 0 normal, 1 insert second, 2 delete second, 3 unsynchronised",
        f64::from(t.leap_status),
    );
}

fn sources(sources: &[Source], out: &mut Exposition) {
    let o = out;
    let s = sources;
    per_source(
        o,
        s,
        Field::SinceSample,
        "chrony_sources_last_sample_age_seconds",
        "Chrony sources last good sample age in seconds",
    );
    per_source(
        o,
        s,
        Field::ReachRatio,
        "chrony_sources_reachability_ratio",
        "Chrony sources ratio of packet reachability",
    );
    per_source(
        o,
        s,
        Field::ReachSuccess,
        "chrony_sources_reachability_success",
        "Chrony sources last poll reachability success",
    );
    per_source(
        o,
        s,
        Field::LatestMeas,
        "chrony_sources_last_sample_offset_seconds",
        "Chrony sources last sample offset in seconds",
    );
    per_source(
        o,
        s,
        Field::LatestMeasErr,
        "chrony_sources_last_sample_error_margin_seconds",
        "Chrony sources last sample margin of error in seconds",
    );
    per_source(
        o,
        s,
        Field::Poll,
        "chrony_sources_polling_interval_seconds",
        "Chrony sources polling interval in seconds",
    );
    o.family("chrony_sources_state_info", "Chrony sources state info", MetricType::Gauge);
    for src in s {
        let l = src.label.as_str();
        let labels = [
            ("source_address", l),
            ("source_name", l),
            ("source_state", state_name(src.data.state)),
            ("source_mode", mode_name(src.data.mode)),
        ];
        o.sample(&labels, 1.0);
    }
    per_source(o, s, Field::Stratum, "chrony_sources_stratum", "Chrony sources stratum");
    o.family(
        "chrony_sources_selection_info",
        "Chrony sources selection state, as chronyc prints it: state is the S column of 'sources', select_state \
         that of 'selectdata', which tells why a source is not used (empty where selectdata is not authorised)",
        MetricType::Gauge,
    );
    for src in s {
        let l = src.label.as_str();
        let mut buf = [0; 4];
        let select = match src.select_state {
            Some(c) => char::from(c).encode_utf8(&mut buf),
            None => "",
        };
        let labels = [
            ("source_address", l),
            ("source_name", l),
            ("state", state_char(src.data.state)),
            ("select_state", select),
        ];
        o.sample(&labels, 1.0);
    }
    per_source(
        o,
        s,
        Field::Reachability,
        "chrony_sources_reachability_register",
        "Chrony sources reachability register: the last eight polls, newest in bit 0 (chronyc sources prints it \
         in octal)",
    );
    per_source(o, s, Field::PeerOffset, "chrony_sources_peer_offset_seconds", "Chrony sources peer offset");
    per_source(o, s, Field::PeerDelay, "chrony_sources_peer_delay_seconds", "Chrony sources peer delay");
    per_source(o, s, Field::PeerDispersion, "chrony_sources_peer_dispersion_seconds", "Chrony sources peer dispersion");
    per_source(
        o,
        s,
        Field::ResponseTime,
        "chrony_sources_peer_response_time_seconds",
        "Chrony sources peer response time",
    );
    per_source(
        o,
        s,
        Field::JitterAsymmetry,
        "chrony_sources_peer_jitter_asymmetry_seconds",
        "Chrony sources peer jitter asymmetry",
    );
    per_source(
        o,
        s,
        Field::Samples,
        "chrony_sourcestats_samples",
        "The number of sample points currently being retained for the server. (NP)",
    );
    per_source(
        o,
        s,
        Field::Runs,
        "chrony_sourcestats_runs",
        "The number of runs of residuals having the same sign following the last regression. (NR)",
    );
    per_source(
        o,
        s,
        Field::Span,
        "chrony_sourcestats_span_seconds",
        "The interval between the oldest and newest samples in seconds",
    );
    per_source(o, s, Field::Sd, "chrony_sourcestats_stddev", "The estimated sample standard deviation.");
    per_source(
        o,
        s,
        Field::ResidFreq,
        "chrony_sourcestats_frequency_ppms",
        "The estimated residual frequency for the server, in parts per million.",
    );
    per_source(
        o,
        s,
        Field::Skew,
        "chrony_sourcestats_frequency_skew_ppms",
        "The estimated error bounds on Freq (again in parts per million).",
    );
    per_source(o, s, Field::EstOffset, "chrony_sourcestats_offset", "The estimated offset of the source.");
}

fn serverstats(st: &ServerStats, out: &mut Exposition) {
    use MetricType::{Counter, Gauge};
    use ServerStat::*;
    let o = out;
    server_stat(
        o,
        st,
        NtpHits,
        Counter,
        "chrony_serverstats_ntp_packets_received_total",
        "The number of valid NTP requests received by the server.",
    );
    server_stat(
        o,
        st,
        NkeHits,
        Counter,
        "chrony_serverstats_nts_ke_connections_accepted_total",
        "The number of NTS-KE connections accepted by the server.",
    );
    server_stat(
        o,
        st,
        CmdHits,
        Counter,
        "chrony_serverstats_command_packets_received_total",
        "The number of command requests received by the server.",
    );
    server_stat(
        o,
        st,
        NtpDrops,
        Counter,
        "chrony_serverstats_ntp_packets_dropped_total",
        "The number of NTP requests dropped by the server due to rate limiting.",
    );
    server_stat(
        o,
        st,
        NkeDrops,
        Counter,
        "chrony_serverstats_nts_ke_connections_dropped_total",
        "The number of NTS-KE connections dropped by the server due to rate limiting.",
    );
    server_stat(
        o,
        st,
        CmdDrops,
        Counter,
        "chrony_serverstats_command_packets_dropped_total",
        "The number of command requests dropped by the server due to rate limiting.",
    );
    server_stat(
        o,
        st,
        LogDrops,
        Counter,
        "chrony_serverstats_client_log_records_dropped_total",
        "The number of client log records dropped by the server to limit the memory use.",
    );
    server_stat(
        o,
        st,
        NtpAuthHits,
        Counter,
        "chrony_serverstats_authenticated_ntp_packets_total",
        "The number of received NTP requests that were authenticated (with a symmetric key or NTS).",
    );
    server_stat(
        o,
        st,
        NtpInterleavedHits,
        Counter,
        "chrony_serverstats_interleaved_ntp_packets_total",
        "The number of received NTP requests that were detected to be in the interleaved mode.",
    );
    server_stat(
        o,
        st,
        NtpTimestamps,
        Gauge,
        "chrony_serverstats_ntp_timestamps_held",
        "The number of pairs of receive and transmit timestamps that the server is currently holding in memory \
         for clients using the interleaved mode.",
    );
    server_stat(
        o,
        st,
        NtpSpanSeconds,
        Gauge,
        "chrony_serverstats_ntp_timestamp_span_seconds",
        "The interval (in seconds) covered by the currently held NTP timestamps.",
    );
    server_stat(
        o,
        st,
        NtpDaemonRxTimestamps,
        Counter,
        "chrony_serverstats_ntp_daemon_rx_timestamps_total",
        "The number of NTP responses which included a receive timestamp captured by the daemon.",
    );
    server_stat(
        o,
        st,
        NtpDaemonTxTimestamps,
        Counter,
        "chrony_serverstats_ntp_daemon_tx_timestamps_total",
        "The number of NTP responses which included a transmit timestamp captured by the daemon.",
    );
    server_stat(
        o,
        st,
        NtpKernelRxTimestamps,
        Counter,
        "chrony_serverstats_ntp_kernel_rx_timestamps_total",
        "The number of NTP responses which included a receive timestamp captured by the kernel.",
    );
    server_stat(
        o,
        st,
        NtpKernelTxTimestamps,
        Counter,
        "chrony_serverstats_ntp_kernel_tx_timestamps_total",
        "The number of NTP responses (in the interleaved mode) which included a transmit timestamp captured by \
         the kernel.",
    );
    server_stat(
        o,
        st,
        NtpHwRxTimestamps,
        Counter,
        "chrony_serverstats_ntp_hw_rx_timestamps_total",
        "The number of NTP responses which included a receive timestamp captured by the NIC.",
    );
    server_stat(
        o,
        st,
        NtpHwTxTimestamps,
        Counter,
        "chrony_serverstats_ntp_hw_tx_timestamps_total",
        "The number of NTP responses (in the interleaved mode) which included a transmit timestamp captured by \
         the NIC.",
    );
}

#[cfg(test)]
mod tests {
    use super::super::Peer;
    use super::*;
    use crate::wire;
    use crate::wire::chrony::{Activity, NtpData, Reply, SelectData, SourceData, Sourcestats};

    macro_rules! fixture {
        ($path:literal) => {
            include_bytes!(concat!("../../../../tests/fixtures/chrony/4.3/", $path))
        };
    }

    fn parse<T>(bytes: &[u8], f: fn(&Reply<'_>) -> Result<T, wire::Error>) -> T {
        f(&Reply::new_checked(bytes).unwrap()).unwrap()
    }

    /// The report of one scrape of the captured chronyd 4.3 (the one under
    /// test in tests/chrony.rs, with an SHM refclock, two servers on
    /// 127.0.0.1 and ::1, and one that never answers), over its unix socket.
    fn captured() -> Report {
        let data: [&[u8]; 4] = [
            fixture!("source_data.0.reply.bin"),
            fixture!("source_data.1.reply.bin"),
            fixture!("source_data.2.reply.bin"),
            fixture!("source_data.3.reply.bin"),
        ];
        let stats: [&[u8]; 4] = [
            fixture!("sourcestats.0.reply.bin"),
            fixture!("sourcestats.1.reply.bin"),
            fixture!("sourcestats.2.reply.bin"),
            fixture!("sourcestats.3.reply.bin"),
        ];
        let select: [&[u8]; 4] = [
            fixture!("select_data.0.reply.bin"),
            fixture!("select_data.1.reply.bin"),
            fixture!("select_data.2.reply.bin"),
            fixture!("select_data.3.reply.bin"),
        ];
        // ntpdata was asked for the three NTP sources, in order.
        let ntp: [Option<&[u8]>; 4] = [
            None,
            Some(fixture!("ntp_data.0.reply.bin")),
            Some(fixture!("ntp_data.1.reply.bin")),
            Some(fixture!("ntp_data.2.reply.bin")),
        ];
        let sources = (0..4)
            .map(|i| {
                let data = parse(data[i], SourceData::parse);
                Source {
                    data,
                    label: Label::source(&data).unwrap(),
                    stats: Some(parse(stats[i], Sourcestats::parse)),
                    peer: ntp[i].map(|b| Peer::from(parse(b, NtpData::parse))),
                    select_state: Some(parse(select[i], SelectData::parse).state_char),
                }
            })
            .collect();
        Report {
            up: true,
            tracking: Some(parse(fixture!("tracking.reply.bin"), Tracking::parse)),
            sources,
            serverstats: Answer::Got(parse(fixture!("server_stats.reply.bin"), ServerStats::parse)),
            activity: Some(parse(fixture!("activity.reply.bin"), Activity::parse)),
            ntp_data: Answer::Got(()),
            select_data: Answer::Got(()),
        }
    }

    fn text(report: &Report) -> String {
        let mut out = Exposition::new(1 << 20);
        render(report, &mut out);
        assert_eq!(out.invalid, 0);
        String::from_utf8(out.as_bytes().to_vec()).unwrap()
    }

    /// The whole exposition of the captured scrape, against
    /// tests/fixtures/chrony/4.3/metrics.txt (`UPDATE=1` rewrites it).
    #[test]
    fn render_captured_scrape() {
        let got = text(&captured());
        let path = format!("{}/../tests/fixtures/chrony/4.3/metrics.txt", env!("CARGO_MANIFEST_DIR"));
        if std::env::var_os("UPDATE").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        assert_eq!(got, std::fs::read_to_string(&path).unwrap());
    }

    #[test]
    fn labels_as_chrony_exporter_spells_them() {
        let got = text(&captured());
        for line in [
            "chrony_up 1",
            "chrony_tracking_info{tracking_address=\"::1\",tracking_name=\"::1\",tracking_refid=\"CF404DC8\"} 1",
            "chrony_tracking_leap_status 0",
            "chrony_tracking_remote_reference 1",
            "chrony_tracking_stratum 9",
            "chrony_sources_state_info{source_address=\"::1\",source_name=\"::1\",source_state=\"sync\",\
             source_mode=\"client\"} 1",
            "chrony_sources_state_info{source_address=\"SHMX\",source_name=\"SHMX\",source_state=\"unreach\",\
             source_mode=\"reference clock\"} 1",
            "chrony_sources_selection_info{source_address=\"127.0.0.2\",source_name=\"127.0.0.2\",state=\"?\",\
             select_state=\"s\"} 1",
            "chrony_sources_reachability_register{source_address=\"127.0.0.1\",source_name=\"127.0.0.1\"} 255",
            "chrony_sources_reachability_ratio{source_address=\"127.0.0.2\",source_name=\"127.0.0.2\"} 0",
            "chrony_sources_polling_interval_seconds{source_address=\"SHMX\",source_name=\"SHMX\"} 16",
            "chrony_sourcestats_samples{source_address=\"SHMX\",source_name=\"SHMX\"} 0",
            "chrony_serverstats_command_packets_received_total 69",
            "chrony_activity_sources{state=\"online\"} 3",
            "chrony_command_available{command=\"serverstats\"} 1",
        ] {
            assert!(got.lines().any(|l| l == line), "missing: {line}\n{got}");
        }
        // No peer sample for the refclock: chronyd has no ntpdata for it.
        assert!(!got.contains("chrony_sources_peer_delay_seconds{source_address=\"SHMX\""));
        // SERVER_STATS3 has no timestamp counters.
        assert!(!got.contains("chrony_serverstats_ntp_daemon_rx_timestamps_total"));
    }

    #[test]
    fn over_udp_the_refused_commands_are_absent_and_said_so() {
        let mut r = captured();
        for s in &mut r.sources {
            s.peer = None;
            s.select_state = None;
        }
        r.serverstats = Answer::Refused;
        r.ntp_data = Answer::Refused;
        r.select_data = Answer::Refused;
        let got = text(&r);
        assert!(!got.contains("chrony_serverstats_"));
        assert!(!got.contains("chrony_sources_peer_"));
        assert!(got.contains(
            "chrony_sources_selection_info{source_address=\"::1\",source_name=\"::1\",state=\"*\",select_state=\"\"} 1"
        ));
        for c in ["serverstats", "ntpdata", "selectdata"] {
            assert!(got.contains(&format!("chrony_command_available{{command=\"{c}\"}} 0\n")), "{c}");
        }
    }

    #[test]
    fn unsynchronised_and_local_references_are_not_remote() {
        let unsync = parse(fixture!("unsynchronised/tracking.reply.bin"), Tracking::parse);
        let local = parse(fixture!("upstream/tracking.reply.bin"), Tracking::parse);
        let synced = parse(fixture!("tracking.reply.bin"), Tracking::parse);
        assert_eq!([remote_reference(&unsync), remote_reference(&local), remote_reference(&synced)], [0.0, 0.0, 1.0]);
        let got = text(&Report { up: true, tracking: Some(local), ..Report::default() });
        assert!(got.contains(
            "chrony_tracking_info{tracking_address=\"7F7F0101\",tracking_name=\"7F7F0101\",tracking_refid=\"7F7F0101\"} 1"
        ));
        let got = text(&Report { up: true, tracking: Some(unsync), ..Report::default() });
        assert!(got.contains("chrony_tracking_leap_status 3\n"));
        assert!(got.contains("tracking_address=\"\",tracking_name=\"\",tracking_refid=\"00000000\""));
    }

    #[test]
    fn down_is_only_chrony_up_0() {
        assert_eq!(
            text(&Report::default()),
            "# HELP chrony_up Whether the chrony server is up.\n# TYPE chrony_up gauge\nchrony_up 0\n"
        );
    }
}
