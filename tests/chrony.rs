//! The chrony collector against real chronyds from Debian's package.
//!
//! Each test starts its own pair on loopback, with its own ports, sockets
//! and directories under a scratch directory, so a system chronyd is
//! neither used nor disturbed: an "upstream" serving its local clock at
//! stratum 8 on 127.0.0.1 and ::1, and the chronyd under test, which polls
//! it every second over both addresses, has a reference clock that never
//! delivers a sample (SHM, noselect) and a server that never answers
//! (127.0.0.2). sonde's values are compared with what `chronyc -c` prints
//! just before and just after the scrape. The `auto` address is tested in
//! network and mount namespaces of the test's own, where chronyd may use
//! its default socket and port 323.
//!
//! chronyd needs root; these tests fail, never skip, without root or
//! without chrony (`tests/setup.sh` installs it).

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{promtool_check, run, value, Scratch, Sonde};

const CHRONYD: &str = "/usr/sbin/chronyd";
const CHRONYC: &str = "/usr/bin/chronyc";

fn require_chronyd() {
    assert!(
        Path::new(CHRONYD).is_file() && Path::new(CHRONYC).is_file(),
        "chronyd or chronyc not found: run tests/setup.sh (Debian package chrony)"
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:")).unwrap().split_whitespace().nth(1).unwrap();
    assert_eq!(uid, "0", "the chrony tests start chronyd, which needs root: run them as root");
}

/// `_chrony`'s uid and gid: chronyd drops to that user, so its directories
/// must be its own (0750, user AND group, or it runs without its socket).
fn chrony_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd.lines().find(|l| l.starts_with("_chrony:")).expect("no _chrony user: is chrony installed?");
    let f: Vec<&str> = line.split(':').collect();
    (f[2].parse().unwrap(), f[3].parse().unwrap())
}

/// A UDP port free on 127.0.0.1 and ::1 right now.
fn free_port() -> u16 {
    loop {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = s.local_addr().unwrap().port();
        if UdpSocket::bind(("::1", port)).is_ok() {
            return port;
        }
    }
}

/// A chronyd in the foreground, killed when dropped.
struct Chronyd {
    child: Option<Child>,
    log: PathBuf,
}

impl Chronyd {
    fn start(conf: &Path, log: PathBuf) -> Chronyd {
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(CHRONYD)
            .args(["-x", "-d", "-f"])
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start chronyd");
        Chronyd { child: Some(child), log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it the hard way: no clean-up, its socket file stays behind.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Chronyd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The upstream and the chronyd under test ("down").
struct Peers {
    // Fields drop in order: the daemons before their directory.
    down: Chronyd,
    up: Chronyd,
    dir: Scratch,
    down_sock: PathBuf,
    up_sock: PathBuf,
    down_cmd: u16,
}

impl Peers {
    fn start(name: &str) -> Peers {
        require_chronyd();
        let dir = Scratch::new(name);
        let (uid, gid) = chrony_user();
        let (up_ntp, down_ntp, dead_ntp, down_cmd) = (free_port(), free_port(), free_port(), free_port());
        for d in ["up", "up/run", "down", "down/run"] {
            let p = dir.0.join(d);
            std::fs::create_dir_all(&p).unwrap();
            std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o750)).unwrap();
        }
        let w = dir.0.display();
        let up = dir.write(
            "up/chrony.conf",
            &format!(
                "local stratum 8\nbindaddress 127.0.0.1\nbindaddress ::1\nport {up_ntp}\ncmdport 0\n\
                 bindcmdaddress {w}/up/run/chronyd.sock\nallow 127.0.0.1\nallow ::1\npidfile {w}/up/chronyd.pid\n"
            ),
        );
        // The SHM unit is one no other program here uses; noselect keeps a
        // stray writer from ever steering anything.
        let down = dir.write(
            "down/chrony.conf",
            &format!(
                "local stratum 10\nbindaddress 127.0.0.1\nport {down_ntp}\ncmdport {down_cmd}\n\
                 bindcmdaddress 127.0.0.1\nbindcmdaddress ::1\nbindcmdaddress {w}/down/run/chronyd.sock\n\
                 allow 127.0.0.1\n\
                 server 127.0.0.1 port {up_ntp} iburst minpoll 0 maxpoll 0\n\
                 server ::1 port {up_ntp} iburst minpoll 0 maxpoll 0\n\
                 server 127.0.0.2 port {dead_ntp} minpoll 0 maxpoll 0\n\
                 refclock SHM 7 refid SHMX noselect\n\
                 pidfile {w}/down/chronyd.pid\ndriftfile {w}/down/drift\n"
            ),
        );
        let up = Chronyd::start(&up, dir.0.join("up/log"));
        let down = Chronyd::start(&down, dir.0.join("down/log"));
        let peers = Peers {
            down,
            up,
            down_sock: dir.0.join("down/run/chronyd.sock"),
            up_sock: dir.0.join("up/run/chronyd.sock"),
            dir,
            down_cmd,
        };
        peers.wait_selected();
        peers
    }

    /// Waits until the chronyd under test has selected a source (`^*`).
    fn wait_selected(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.down_sock.exists() {
                let out = Command::new(CHRONYC).args(["-n", "-c", "-h"]).arg(&self.down_sock).arg("sources").output();
                if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.starts_with("^,*"))) {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the chronyd under test selected no source in 30s\nupstream log:\n{}\nlog:\n{}",
            self.up.log(),
            self.down.log()
        );
    }

    /// A sonde config with this `[chrony]` address.
    fn config(&self, name: &str, address: &str) -> PathBuf {
        self.dir.write(
            name,
            &format!("[collectors]\ndefaults = false\nchrony = true\n\n[chrony]\naddress = \"{address}\"\n"),
        )
    }

    /// What is in a run directory besides chronyd's own socket: sonde must
    /// leave nothing there.
    fn leftovers(&self) -> Vec<String> {
        let mut left = Vec::new();
        for d in ["down/run", "up/run"] {
            for e in std::fs::read_dir(self.dir.0.join(d)).unwrap() {
                let name = e.unwrap().file_name().into_string().unwrap();
                if name != "chronyd.sock" {
                    left.push(format!("{d}/{name}"));
                }
            }
        }
        left
    }
}

/// `chronyc -n -c TARGET… COMMAND`, as CSV fields per line.
fn chronyc(target: &[&str], command: &str) -> Vec<Vec<String>> {
    let out = Command::new(CHRONYC).args(["-n", "-c"]).args(target).arg(command).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success() && !text.starts_with("5"), "chronyc {command}: {text}");
    text.lines().map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

/// What chronyc says at one moment.
struct Snapshot {
    tracking: Vec<String>,
    sources: Vec<Vec<String>>,
    sourcestats: Vec<Vec<String>>,
    selectdata: Option<Vec<Vec<String>>>,
    serverstats: Option<Vec<String>>,
}

fn snapshot(target: &[&str], full_access: bool) -> Snapshot {
    Snapshot {
        tracking: chronyc(target, "tracking").remove(0),
        sources: chronyc(target, "sources"),
        sourcestats: chronyc(target, "sourcestats"),
        selectdata: full_access.then(|| chronyc(target, "selectdata")),
        serverstats: full_access.then(|| chronyc(target, "serverstats").remove(0)),
    }
}

/// chronyc prints seconds with 9 decimals, ppm with 3, the update
/// interval with 1: sonde's value may differ from the printed one by half
/// the last digit. `REF_TIME`: a float of 1.8e9 s holds 0.24 µs steps.
const NS: f64 = 0.5e-9 + 1e-15;
const PPM: f64 = 0.5e-3 + 1e-12;
const TENTH: f64 = 0.05 + 1e-12;
const REF_TIME: f64 = 1e-6;
const EXACT: f64 = 0.0;

/// Collects mismatches between sonde's exposition and two chronyc
/// snapshots: each value must lie between what chronyc printed before and
/// after the scrape, give or take chronyc's rounding. Values that did not
/// move must so match exactly.
struct Check<'a> {
    text: &'a str,
    errors: Vec<String>,
}

impl Check<'_> {
    fn num(&mut self, series: &str, before: &str, after: &str, tol: f64) {
        let (b, a): (f64, f64) = (before.parse().unwrap(), after.parse().unwrap());
        self.value(series, b, a, tol);
    }

    fn value(&mut self, series: &str, b: f64, a: f64, tol: f64) {
        match value(self.text, series) {
            None => self.errors.push(format!("{series}: missing")),
            Some(v) if v < b.min(a) - tol || v > b.max(a) + tol => {
                self.errors.push(format!("{series}: sonde {v}, chronyc {b} before and {a} after (±{tol})"))
            }
            Some(_) => {}
        }
    }

    /// A series whose labels carry a value: one of the snapshots' must be there.
    fn present(&mut self, before: String, after: String) {
        let has = |s: &str| self.text.lines().any(|l| l == format!("{s} 1"));
        if !has(&before) && !has(&after) {
            self.errors.push(format!("missing: {before} 1"));
        }
    }
}

/// A refid as text: its printable ASCII letters, or the hex if one is not.
fn refid_text(hex: &str) -> String {
    let bytes = u32::from_str_radix(hex, 16).unwrap().to_be_bytes();
    if bytes.iter().all(|&b| b == 0 || (0x20..0x7f).contains(&b)) {
        bytes.iter().filter(|&&b| b != 0).map(|&b| char::from(b)).collect()
    } else {
        hex.to_owned()
    }
}

fn labels(name: &str) -> String {
    format!("source_address=\"{name}\",source_name=\"{name}\"")
}

fn leap(text: &str) -> f64 {
    match text {
        "Normal" => 0.0,
        "Insert second" => 1.0,
        "Delete second" => 2.0,
        _ => 3.0,
    }
}

fn state_name(c: &str) -> &'static str {
    match c {
        "*" => "sync",
        "?" => "unreach",
        "x" => "falseticker",
        "~" => "jittery",
        "+" => "candidate",
        "-" => "outlier",
        _ => "unknown",
    }
}

fn mode_name(c: &str) -> &'static str {
    match c {
        "^" => "client",
        "=" => "peer",
        "#" => "reference clock",
        _ => "unknown",
    }
}

/// chronyc -c serverstats's columns (4.3: the first eleven; 4.4 adds the
/// timestamp counters).
const SERVERSTATS: &[&str] = &[
    "chrony_serverstats_ntp_packets_received_total",
    "chrony_serverstats_ntp_packets_dropped_total",
    "chrony_serverstats_command_packets_received_total",
    "chrony_serverstats_command_packets_dropped_total",
    "chrony_serverstats_client_log_records_dropped_total",
    "chrony_serverstats_nts_ke_connections_accepted_total",
    "chrony_serverstats_nts_ke_connections_dropped_total",
    "chrony_serverstats_authenticated_ntp_packets_total",
    "chrony_serverstats_interleaved_ntp_packets_total",
    "chrony_serverstats_ntp_timestamps_held",
    "chrony_serverstats_ntp_timestamp_span_seconds",
    "chrony_serverstats_ntp_daemon_rx_timestamps_total",
    "chrony_serverstats_ntp_daemon_tx_timestamps_total",
    "chrony_serverstats_ntp_kernel_rx_timestamps_total",
    "chrony_serverstats_ntp_kernel_tx_timestamps_total",
    "chrony_serverstats_ntp_hw_rx_timestamps_total",
    "chrony_serverstats_ntp_hw_tx_timestamps_total",
];

fn compare(text: &str, b: &Snapshot, a: &Snapshot) -> Vec<String> {
    let mut c = Check { text, errors: Vec::new() };
    let (tb, ta) = (&b.tracking, &a.tracking);
    // chronyc -n prints the address, or nothing where there is none;
    // chrony_exporter (and sonde) the refid then, as text if it is.
    let info = |t: &[String]| {
        let address = if t[1].is_empty() { refid_text(&t[0]) } else { t[1].clone() };
        format!(
            "chrony_tracking_info{{tracking_address=\"{address}\",tracking_name=\"{address}\",tracking_refid=\"{}\"}}",
            t[0]
        )
    };
    c.present(info(tb), info(ta));
    // Not remote: unsynchronised (refid 0) or its own clock (7F7F0101).
    let remote = |t: &[String]| if t[0] == "00000000" || t[0] == "7F7F0101" { 0.0 } else { 1.0 };
    c.value("chrony_tracking_remote_reference", remote(tb), remote(ta), EXACT);
    for (series, col, tol) in [
        ("chrony_tracking_stratum", 2, EXACT),
        ("chrony_tracking_reference_timestamp_seconds", 3, REF_TIME),
        ("chrony_tracking_system_time_seconds", 4, NS),
        ("chrony_tracking_last_offset_seconds", 5, NS),
        ("chrony_tracking_rms_offset_seconds", 6, NS),
        ("chrony_tracking_frequency_ppms", 7, PPM),
        ("chrony_tracking_residual_frequency_ppms", 8, PPM),
        ("chrony_tracking_skew_ppms", 9, PPM),
        ("chrony_tracking_root_delay_seconds", 10, NS),
        ("chrony_tracking_root_dispersion_seconds", 11, NS),
        ("chrony_tracking_update_interval_seconds", 12, TENTH),
    ] {
        c.num(series, &tb[col], &ta[col], tol);
    }
    c.value("chrony_tracking_leap_status", leap(&tb[13]), leap(&ta[13]), EXACT);

    let names = |s: &[Vec<String>], col: usize| s.iter().map(|l| l[col].clone()).collect::<Vec<_>>();
    if names(&b.sources, 2) != names(&a.sources, 2) {
        c.errors.push("the sources changed between the snapshots".into());
        return c.errors;
    }
    assert_eq!(b.sources.len(), 4, "the chronyd under test has four sources: {:?}", b.sources);
    for (sb, sa) in b.sources.iter().zip(&a.sources) {
        let l = labels(&sb[2]);
        c.num(&format!("chrony_sources_stratum{{{l}}}"), &sb[3], &sa[3], EXACT);
        let poll = |s: &[String]| 2f64.powi(s[4].parse().unwrap());
        c.value(&format!("chrony_sources_polling_interval_seconds{{{l}}}"), poll(sb), poll(sa), EXACT);
        let reach = |s: &[String]| f64::from(u16::from_str_radix(&s[5], 8).unwrap());
        c.value(&format!("chrony_sources_reachability_register{{{l}}}"), reach(sb), reach(sa), EXACT);
        let ratio = |s: &[String]| f64::from(u16::from_str_radix(&s[5], 8).unwrap().count_ones()) / 8.0;
        c.value(&format!("chrony_sources_reachability_ratio{{{l}}}"), ratio(sb), ratio(sa), EXACT);
        c.num(&format!("chrony_sources_last_sample_age_seconds{{{l}}}"), &sb[6], &sa[6], EXACT);
        c.num(&format!("chrony_sources_last_sample_offset_seconds{{{l}}}"), &sb[7], &sa[7], NS);
        c.num(&format!("chrony_sources_last_sample_error_margin_seconds{{{l}}}"), &sb[9], &sa[9], NS);
        let state = |s: &[String]| {
            format!(
                "chrony_sources_state_info{{{l},source_state=\"{}\",source_mode=\"{}\"}}",
                state_name(&s[1]),
                mode_name(&s[0])
            )
        };
        c.present(state(sb), state(sa));
    }
    for (sb, sa) in b.sourcestats.iter().zip(&a.sourcestats) {
        let l = labels(&sb[0]);
        for (name, col, tol) in [
            ("chrony_sourcestats_samples", 1, EXACT),
            ("chrony_sourcestats_runs", 2, EXACT),
            ("chrony_sourcestats_span_seconds", 3, EXACT),
            ("chrony_sourcestats_frequency_ppms", 4, PPM),
            ("chrony_sourcestats_frequency_skew_ppms", 5, PPM),
            ("chrony_sourcestats_offset", 6, NS),
            ("chrony_sourcestats_stddev", 7, NS),
        ] {
            c.num(&format!("{name}{{{l}}}"), &sb[col], &sa[col], tol);
        }
    }
    let selection = |s: &[String], select: &str| {
        format!("chrony_sources_selection_info{{{},state=\"{}\",select_state=\"{select}\"}}", labels(&s[2]), s[1])
    };
    match (&b.selectdata, &a.selectdata) {
        (Some(db), Some(da)) => {
            for ((sb, sa), (xb, xa)) in b.sources.iter().zip(&a.sources).zip(db.iter().zip(da)) {
                assert_eq!(sb[2], xb[1], "selectdata lists the sources in the same order");
                c.present(selection(sb, &xb[0]), selection(sa, &xa[0]));
            }
        }
        _ => {
            for (sb, sa) in b.sources.iter().zip(&a.sources) {
                c.present(selection(sb, ""), selection(sa, ""));
            }
        }
    }
    if let (Some(vb), Some(va)) = (&b.serverstats, &a.serverstats) {
        for ((name, vb), va) in SERVERSTATS.iter().zip(vb).zip(va) {
            c.num(name, vb, va, EXACT);
        }
    }
    c.errors
}

/// Scrapes with `config` between two snapshots of `target`, until the
/// values agree (at most three times: a poll may land between chronyc and
/// sonde and move a value twice); returns the last scrape's text.
fn scrape_between(peers: &Peers, config: &Path, target: &[&str], full_access: bool) -> String {
    let mut last = Vec::new();
    for _ in 0..3 {
        let before = snapshot(target, full_access);
        let out = run(&["--once", "--config", config.to_str().unwrap()]);
        let after = snapshot(target, full_access);
        let text = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "sonde --once failed:\n{stderr}\n{text}");
        assert_eq!(value(&text, "sonde_collector_success{collector=\"chrony\"}"), Some(1.0), "{stderr}");
        last = compare(&text, &before, &after);
        if last.is_empty() {
            return text;
        }
    }
    panic!("sonde and chronyc disagree:\n{}\nchronyd's log:\n{}", last.join("\n"), peers.down.log());
}

#[test]
fn unix_socket_scrape_equals_chronyc() {
    let peers = Peers::start("chrony-unix");
    let sock = peers.down_sock.to_str().unwrap();
    let config = peers.config("sonde.toml", &format!("unix:{sock}"));
    let text = scrape_between(&peers, &config, &["-h", sock], true);
    promtool_check(&text);
    assert_eq!(value(&text, "chrony_up"), Some(1.0));
    for c in ["serverstats", "ntpdata", "selectdata"] {
        assert_eq!(value(&text, &format!("chrony_command_available{{command=\"{c}\"}}")), Some(1.0), "{c}");
    }
    // ntpdata for the NTP sources, none for the reference clock.
    assert!(value(&text, &format!("chrony_sources_peer_delay_seconds{{{}}}", labels("::1"))).unwrap() > 0.0);
    assert!(value(&text, &format!("chrony_sources_peer_delay_seconds{{{}}}", labels("SHMX"))).is_none());
    // Three NTP sources, online or in their initial burst.
    let online = value(&text, "chrony_activity_sources{state=\"online\"}").unwrap()
        + value(&text, "chrony_activity_sources{state=\"burst_online\"}").unwrap();
    assert_eq!(online, 3.0, "{text}");
    assert!(peers.leftovers().is_empty(), "left behind: {:?}", peers.leftovers());
}

/// The upstream serves NTP: its serverstats count the other's polls.
#[test]
fn serverstats_of_a_serving_chronyd_equal_chronyc() {
    let peers = Peers::start("chrony-upstream");
    let sock = peers.up_sock.to_str().unwrap();
    let config = peers.config("sonde.toml", &format!("unix:{sock}"));
    let before = chronyc(&["-h", sock], "serverstats").remove(0);
    let out = run(&["--once", "--config", config.to_str().unwrap()]);
    let after = chronyc(&["-h", sock], "serverstats").remove(0);
    let text = String::from_utf8(out.stdout).unwrap();
    let mut c = Check { text: &text, errors: Vec::new() };
    for ((name, b), a) in SERVERSTATS.iter().zip(&before).zip(&after) {
        c.num(name, b, a, EXACT);
    }
    assert!(c.errors.is_empty(), "{}", c.errors.join("\n"));
    assert!(value(&text, "chrony_serverstats_ntp_packets_received_total").unwrap() > 0.0);
    // It serves its own clock: refid 7F7F0101 and no address.
    let tracking = chronyc(&["-h", sock], "tracking").remove(0);
    assert_eq!(tracking[0], "7F7F0101");
    assert!(text.contains(
        "chrony_tracking_info{tracking_address=\"7F7F0101\",tracking_name=\"7F7F0101\",tracking_refid=\"7F7F0101\"} 1\n"
    ));
    assert_eq!(value(&text, "chrony_tracking_remote_reference"), Some(0.0));
    assert!(!text.contains("chrony_sources_"), "the upstream has no sources");
}

#[test]
fn udp_scrape_equals_chronyc_and_reports_what_udp_may_not_ask() {
    let peers = Peers::start("chrony-udp");
    let port = peers.down_cmd.to_string();
    let config = peers.config("sonde.toml", &format!("127.0.0.1:{port}"));
    let text = scrape_between(&peers, &config, &["-h", "127.0.0.1", "-p", &port], false);
    promtool_check(&text);
    assert!(!text.contains("chrony_serverstats_"));
    assert!(!text.contains("chrony_sources_peer_"));
    for c in ["serverstats", "ntpdata", "selectdata"] {
        assert_eq!(value(&text, &format!("chrony_command_available{{command=\"{c}\"}}")), Some(0.0), "{c}");
    }
    let out = run(&["--once", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("some commands are not authorised over 127.0.0.1:"), "{stderr}");
    // And over IPv6.
    let config = peers.config("sonde6.toml", &format!("[::1]:{port}"));
    let text = String::from_utf8(run(&["--once", "--config", config.to_str().unwrap()]).stdout).unwrap();
    assert_eq!(value(&text, "sonde_collector_success{collector=\"chrony\"}"), Some(1.0));
    assert_eq!(value(&text, "chrony_up"), Some(1.0));
}

#[test]
fn stopped_chronyd_is_a_failure_not_a_hang() {
    let mut peers = Peers::start("chrony-stopped");
    let sock = peers.down_sock.to_str().unwrap().to_owned();
    let unix = peers.config("unix.toml", &format!("unix:{sock}"));
    let udp = peers.config("udp.toml", &format!("127.0.0.1:{}", peers.down_cmd));
    let text = String::from_utf8(run(&["--once", "--config", unix.to_str().unwrap()]).stdout).unwrap();
    assert_eq!(value(&text, "chrony_up"), Some(1.0));
    // Killed, its socket file stays: connecting to it is refused.
    peers.down.kill();
    assert!(Path::new(&sock).exists());
    for config in [&unix, &udp] {
        let out = run(&["--once", "--config", config.to_str().unwrap()]);
        let text = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "a failed collector makes --once exit 1");
        assert_eq!(value(&text, "sonde_collector_success{collector=\"chrony\"}"), Some(0.0), "{text}");
        assert_eq!(value(&text, "chrony_up"), Some(0.0));
        assert!(!text.contains("chrony_tracking_"));
        assert!(stderr.contains("collector chrony failed"), "{stderr}");
        promtool_check(&text);
    }
    // The socket file removed too (a clean stop).
    std::fs::remove_file(&sock).unwrap();
    let out = run(&["--once", "--config", unix.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(value(&text, "sonde_collector_success{collector=\"chrony\"}"), Some(0.0));
    assert!(peers.leftovers().is_empty(), "left behind: {:?}", peers.leftovers());
}

/// Sockets that take requests and never answer: the scrape still returns,
/// within the collector's deadline, and says the collector failed.
#[test]
fn a_socket_that_never_answers_fails_within_the_deadline() {
    let dir = Scratch::new("chrony-silent");
    let silent_udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_unix = UnixDatagram::bind(dir.0.join("silent.sock")).unwrap();
    let udp = dir.write("udp.toml", &format!("[chrony]\naddress = \"{}\"\n", silent_udp.local_addr().unwrap()));
    let unix = dir.write(
        "unix.toml",
        &format!("[chrony]\naddress = \"unix:{}\"\ntimeout = \"300ms\"\n", dir.0.join("silent.sock").display()),
    );
    for config in [&udp, &unix] {
        let sonde = Sonde::start(&["--config", config.to_str().unwrap()]);
        let r = sonde.get("/metrics");
        assert_eq!(r.status, 200);
        let text = r.text();
        assert_eq!(value(text, "sonde_collector_success{collector=\"chrony\"}"), Some(0.0), "{text}");
        assert_eq!(value(text, "chrony_up"), Some(0.0));
        // The host collectors are unaffected.
        assert_eq!(value(text, "node_scrape_collector_success{collector=\"meminfo\"}"), Some(1.0));
        // Logged during the scrape; read by a thread of the harness.
        let line = sonde.wait_line(|l| l.contains("collector chrony failed"), Duration::from_secs(10));
        assert!(line.is_some_and(|l| l.contains("no reply")), "{}", sonde.stderr());
    }
    // It asked, over and again, and gave up.
    let mut buf = [0; 512];
    silent_udp.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let n = silent_udp.recv(&mut buf).unwrap();
    assert_eq!((n, buf[0], buf[1], buf[5]), (104, 6, 1, 33), "a padded tracking request");
    let names: Vec<String> =
        std::fs::read_dir(&dir.0).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(!names.iter().any(|n| n.starts_with("sonde.")), "reply socket left behind: {names:?}");
    drop(silent_unix);
}

/// Runs `script` in a new network and mount namespace with a fresh /run
/// and loopback up, so chronyd can use its default socket and port 323
/// beside any system chronyd, and with chrony's and Unbound's config
/// directories empty, so the box is not set up for either (the machine
/// running the tests has both packages installed); returns what it printed.
fn in_namespace(dir: &Scratch, script: &str) -> (String, String) {
    require_chronyd();
    // A copy nobody may run, for the unprivileged case.
    let sonde = dir.0.join("sonde");
    std::fs::copy(common::bin(), &sonde).unwrap();
    std::fs::set_permissions(&sonde, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Under qemu-user for the cross-built targets, as common::run does.
    let runner = std::env::var("SONDE_RUNNER").unwrap_or_default();
    let prelude = format!(
        "set -eu\nmount -t tmpfs none /run\nfor d in /etc/chrony /etc/unbound; do [ ! -d $d ] || mount -t tmpfs none $d; done\n\
         ip link set lo up\nSONDE=\"{runner} {}\"\nW={}\n\
         start_chronyd() {{\n  printf '%s\\npidfile %s\\n' \"$1\" $W/chronyd.pid > $W/chrony.conf\n  {CHRONYD} -x -d -f $W/chrony.conf \
         >$W/chronyd.log 2>&1 &\n  pid=$!\n  trap 'kill $pid' EXIT\n  i=0\n  \
         until {CHRONYC} -n -c tracking >/dev/null 2>&1 || {CHRONYC} -n -c -h ::1 tracking >/dev/null 2>&1; do\n    \
         i=$((i+1)); [ $i -lt 300 ] || {{ cat $W/chronyd.log >&2; exit 9; }}; sleep 0.05\n  done\n}}\n",
        sonde.display(),
        dir.0.display()
    );
    common::in_new_namespace(&format!("{prelude}{script}"))
}

#[test]
fn auto_without_chronyd_reports_nothing_and_success() {
    let dir = Scratch::new("chrony-auto-none");
    let (text, stderr) = in_namespace(&dir, "$SONDE --once\n");
    assert_eq!(value(&text, "sonde_collector_success{collector=\"chrony\"}"), Some(1.0), "{stderr}");
    assert!(!text.contains("\nchrony_"), "no chrony families without chronyd:\n{text}");
    assert!(!stderr.contains("chrony"), "{stderr}");
}

/// See: issue 13, "chrony_up == 0 never fires when chronyd stops". A
/// chronyd that was there and is gone is down, however it went: stopped
/// cleanly (SIGTERM removes its socket), killed (SIGKILL leaves it, and
/// connecting is refused) or hung (SIGSTOP). A running sonde has seen it
/// answer; a `--once` from cron knows it from the box's set-up (its
/// config file) or from the socket left behind.
#[test]
fn a_chronyd_that_was_there_and_is_gone_is_down() {
    let dir = Scratch::new("chrony-gone");
    let script = r#"
up() { echo "$(printf '%s\n' "$1" | grep -E '^(chrony_up|sonde_collector_success\{collector="chrony"\}) ' | tr '\n' ' ')"; }
scrape() { curl -sf http://127.0.0.1:9858/metrics; }
stop() {
  kill -$1 $pid
  if [ $1 = STOP ]; then return; fi
  wait $pid || true
}
gone() { [ $1 != STOP ] || kill -KILL $pid; wait $pid 2>/dev/null || true; rm -f /run/chrony/chronyd.sock; }
$SONDE --listen 127.0.0.1:9858 --no-collector unbound >$W/sonde.out 2>$W/sonde.err &
S=$!
i=0; until scrape >/dev/null; do i=$((i+1)); [ $i -lt 300 ] || exit 8; sleep 0.05; done
for sig in TERM KILL STOP; do
  start_chronyd 'port 0'
  echo "running $sig before: $(up "$(scrape)")"
  stop $sig
  echo "running $sig after: $(up "$(scrape)")"
  gone $sig
done
kill $S
echo '# chrony, as the package leaves it' > /etc/chrony/chrony.conf
for sig in TERM KILL STOP; do
  start_chronyd 'port 0'
  stop $sig
  set +e; out=$($SONDE --once --no-collector unbound 2>/dev/null); code=$?; set -e
  echo "once $sig: $(up "$out")exit $code"
  gone $sig
done
trap - EXIT
"#;
    let (text, stderr) = in_namespace(&dir, script);
    for sig in ["TERM", "KILL", "STOP"] {
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| {
                    panic!(
                        "{prefix}: {text}
{stderr}"
                    )
                })
                .to_owned()
        };
        let before = line(&format!("running {sig} before:"));
        assert!(before.contains("chrony_up 1") && before.contains("} 1"), "{before}");
        let after = line(&format!("running {sig} after:"));
        assert!(after.contains("chrony_up 0 sonde_collector_success{collector=\"chrony\"} 0"), "{after}");
        let once = line(&format!("once {sig}:"));
        assert!(once.contains("chrony_up 0 sonde_collector_success{collector=\"chrony\"} 0 exit 1"), "{once}");
    }
}

#[test]
fn auto_finds_chronyd_on_its_unix_socket() {
    let dir = Scratch::new("chrony-auto-unix");
    // The embedded default config, and chronyd's defaults: the socket in
    // /run/chrony, UDP on 127.0.0.1 and ::1 port 323.
    let (text, stderr) = in_namespace(&dir, "start_chronyd 'port 0'\n$SONDE --once\n");
    assert_eq!(value(&text, "sonde_collector_success{collector=\"chrony\"}"), Some(1.0), "{stderr}");
    assert_eq!(value(&text, "chrony_up"), Some(1.0));
    // Only the unix socket answers serverstats.
    assert_eq!(value(&text, "chrony_command_available{command=\"serverstats\"}"), Some(1.0), "{text}");
    assert!(value(&text, "chrony_serverstats_command_packets_received_total").unwrap() >= 1.0);
    assert_eq!(value(&text, "chrony_tracking_leap_status"), Some(3.0), "no source: unsynchronised");
    assert_eq!(value(&text, "chrony_tracking_remote_reference"), Some(0.0));
}

#[test]
fn auto_falls_back_to_udp_on_ipv6_loopback() {
    let dir = Scratch::new("chrony-auto-udp6");
    // No unix socket, and UDP on ::1 (127.0.0.2 for IPv4, so 127.0.0.1 is
    // refused): the third place auto tries.
    let conf = "port 0\\nbindcmdaddress ::1\\nbindcmdaddress 127.0.0.2\\nbindcmdaddress /";
    let (text, stderr) = in_namespace(&dir, &format!("start_chronyd \"$(printf '{conf}')\"\n$SONDE --once\n"));
    assert_eq!(value(&text, "sonde_collector_success{collector=\"chrony\"}"), Some(1.0), "{stderr}");
    assert_eq!(value(&text, "chrony_up"), Some(1.0));
    assert_eq!(value(&text, "chrony_command_available{command=\"serverstats\"}"), Some(0.0));
    assert!(stderr.contains("not authorised over [::1]:323"), "{stderr}");
}

/// Not root, not chronyd's user: the socket's directory is closed, so auto
/// uses UDP, and says why once.
#[test]
fn auto_unprivileged_uses_udp_and_says_why() {
    let dir = Scratch::new("chrony-auto-nobody");
    let (text, stderr) = in_namespace(
        &dir,
        "start_chronyd 'port 0'\nsetpriv --reuid=65534 --regid=65534 --clear-groups $SONDE --once\n",
    );
    assert_eq!(value(&text, "sonde_collector_success{collector=\"chrony\"}"), Some(1.0), "{stderr}");
    assert_eq!(value(&text, "chrony_up"), Some(1.0));
    assert_eq!(value(&text, "chrony_command_available{command=\"serverstats\"}"), Some(0.0));
    assert!(
        stderr.contains("using 127.0.0.1:323, where some commands are not authorised: the unix socket is not usable: ")
            && stderr.contains("Permission denied"),
        "{stderr}"
    );
}
