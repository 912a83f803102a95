//! The exposition, end to end: scraped over HTTP and printed by `--once`,
//! checked by promtool and against what the kernel says at that moment.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{families, promtool_check, run, value, Scratch, Sonde};

/// The host's collectors only: chronyd and Unbound have suites of their
/// own with daemons the tests start, and whether this machine runs them
/// (or was set up for them, which makes them expected and down) must not
/// decide what these tests see.
const HOST: &[&str] = &["--no-collector", "chrony", "--no-collector", "unbound"];

/// `--once` and `args`, the host's collectors only.
fn once(args: &[&str]) -> std::process::Output {
    run(&[&["--once"], HOST, args].concat())
}

#[test]
fn scrape_is_valid_for_promtool_with_the_right_content_type() {
    let sonde = Sonde::start(HOST);
    let r = sonde.get("/metrics");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    assert_eq!(r.header("Content-Length").unwrap().parse::<usize>().unwrap(), r.body.len());
    promtool_check(r.text());
}

#[test]
fn memtotal_is_proc_meminfo_times_1024() {
    let sonde = Sonde::start(HOST);
    let text = sonde.get("/metrics").text().to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(value(&text, "node_memory_MemTotal_bytes"), Some(kb * 1024.0));
}

#[test]
fn one_cpu_label_value_per_cpu_line_of_proc_stat() {
    let sonde = Sonde::start(HOST);
    let text = sonde.get("/metrics").text().to_owned();
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let mut want: Vec<String> = stat
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.strip_prefix("cpu").filter(|n| !n.is_empty()).map(str::to_owned))
        .collect();
    want.sort();
    let mut got: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("node_cpu_seconds_total{") && l.contains("mode=\"idle\""))
        .map(|l| l.split("cpu=\"").nth(1).unwrap().split('"').next().unwrap().to_owned())
        .collect();
    got.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[test]
fn once_prints_the_same_families_as_a_scrape() {
    let out = once(&[]);
    let once = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.code() == Some(0), "exit {:?}, stderr: {}", out.status, String::from_utf8_lossy(&out.stderr));
    promtool_check(&once);
    let sonde = Sonde::start(HOST);
    let scraped = sonde.get("/metrics").text().to_owned();
    // The endpoint's own refusals: once mode has no endpoint.
    let mut scraped = families(&scraped);
    assert!(scraped.remove("sonde_http_requests_denied_total"), "the endpoint counts its refusals");
    assert_eq!(families(&once), scraped);
    for f in ["node_uname_info", "node_load1", "node_boot_time_seconds", "node_time_seconds", "sonde_build_info"] {
        assert!(families(&once).contains(f), "{f} missing");
    }
}

#[test]
fn every_collector_reports_success_and_duration() {
    let out = once(&[]);
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["cpu", "loadavg", "meminfo", "stat", "time", "uname"] {
        assert_eq!(
            value(&text, &format!("node_scrape_collector_success{{collector=\"{name}\"}}")),
            Some(1.0),
            "{name}"
        );
        let d = value(&text, &format!("node_scrape_collector_duration_seconds{{collector=\"{name}\"}}")).unwrap();
        assert!(d >= 0.0, "{name}: {d}");
    }
}

#[test]
fn a_collector_switched_off_by_flag_or_config_is_absent() {
    let out = once(&["--no-collector", "meminfo"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("node_memory_"));
    assert!(!text.contains("collector=\"meminfo\""));
    assert!(text.contains("node_load1 "));

    let dir = Scratch::new("collector-off");
    let cfg = dir.write("sonde.toml", "[collectors]\nloadavg = false\n");
    let out = run(&["--once", "--config", cfg.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("node_load1"));
    assert!(text.contains("node_memory_MemTotal_bytes "));
}

/// A broken proc tree: a garbage line in meminfo, a truncated stat, no
/// loadavg. What can be read is reported, what cannot is marked failed,
/// and the output stays valid.
#[test]
fn broken_proc_files_fail_their_collector_only() {
    let root = common::repo().join("tests/fixtures/broken/proc");
    let out = run(&["--once", "--procfs", root.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "a failed collector makes --once exit 1");
    promtool_check(&text);
    let success = |c: &str| value(&text, &format!("node_scrape_collector_success{{collector=\"{c}\"}}"));
    assert_eq!(success("meminfo"), Some(0.0));
    assert_eq!(success("loadavg"), Some(0.0));
    assert_eq!(success("cpu"), Some(0.0));
    assert_eq!(success("uname"), Some(1.0));
    // The good meminfo lines around the garbage one are kept.
    assert_eq!(value(&text, "node_memory_MemTotal_bytes"), Some(2_048_000.0 * 1024.0));
    assert_eq!(value(&text, "node_memory_MemFree_bytes"), Some(1_024_000.0 * 1024.0));
    // cpu0 was whole, cpu1 was cut: only cpu0 is reported.
    assert!(text.contains("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} "));
    assert!(!text.contains("cpu=\"1\""));
    assert!(stderr.contains("collector meminfo failed") && stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("collector loadavg failed"), "{stderr}");
}

#[test]
fn build_info_names_the_version() {
    let text = String::from_utf8(once(&[]).stdout).unwrap();
    let line = text.lines().find(|l| l.starts_with("sonde_build_info{")).unwrap();
    assert!(line.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))), "{line}");
    assert!(line.ends_with(" 1"));
}
