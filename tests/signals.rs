//! Signals: stop cleanly on SIGTERM and SIGINT, reload on SIGHUP, keep
//! the running config when the new one is bad.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Scratch, Sonde};

#[test]
fn sigterm_and_sigint_stop_cleanly() {
    for sig in ["TERM", "INT"] {
        let mut sonde = Sonde::start(&[]);
        assert_eq!(sonde.get("/metrics").status, 200);
        sonde.signal(sig);
        let status = sonde.wait_exit(Duration::from_secs(10)).expect("sonde exits");
        assert_eq!(status.code(), Some(0), "SIG{sig}: {}", sonde.stderr());
        assert!(sonde.stderr().contains(&format!("SIG{sig}, stopping")));
    }
}

#[test]
fn sighup_reloads_and_a_bad_config_keeps_the_old_one() {
    let dir = Scratch::new("reload");
    let cfg = dir.write("sonde.toml", "[collectors]\nmeminfo = false\n");
    let mut sonde = Sonde::start(&["--config", cfg.to_str().unwrap()]);
    assert!(!sonde.get("/metrics").text().contains("node_memory_MemTotal_bytes"));

    std::fs::write(&cfg, "[collectors]\nmeminfo = true\nloadavg = false\n").unwrap();
    sonde.signal("HUP");
    sonde.wait_line(|l| l.contains("config reloaded"), Duration::from_secs(10)).expect("reload reported");
    let text = sonde.get("/metrics").text().to_owned();
    assert!(text.contains("node_memory_MemTotal_bytes "));
    assert!(!text.contains("node_load1 "));

    std::fs::write(&cfg, "[collectors]\nmeminfo = false\n\nbroken line here\n").unwrap();
    sonde.signal("HUP");
    let said = sonde
        .wait_line(|l| l.contains("the running one stays"), Duration::from_secs(10))
        .unwrap_or_else(|| panic!("bad reload not reported: {}", sonde.stderr()));
    sonde.wait_line(|l| l.contains(":4: "), Duration::from_secs(5)).expect("the error's line is named");
    assert!(said.contains("SIGHUP"));
    // Still the previous config: meminfo on, loadavg off.
    let text = sonde.get("/metrics").text().to_owned();
    assert!(text.contains("node_memory_MemTotal_bytes "));
    assert!(!text.contains("node_load1 "));

    // A [push] section does not start a pipeline on reload; the log says
    // when it will.
    std::fs::write(&cfg, "[collectors]\nmeminfo = true\nloadavg = false\n[push]\nurl = \"http://127.0.0.1:1/w\"\n")
        .unwrap();
    sonde.signal("HUP");
    sonde.wait_line(|l| l.contains("[push] changed"), Duration::from_secs(10)).expect("the push change is reported");
    assert!(!sonde.get("/metrics").text().contains("sonde_push_"), "no pipeline started");

    sonde.signal("TERM");
    assert_eq!(sonde.wait_exit(Duration::from_secs(10)).unwrap().code(), Some(0));
}

#[test]
fn sighup_moves_the_endpoint_to_new_listen_addresses() {
    let dir = Scratch::new("relisten");
    let cfg = dir.write("sonde.toml", "[server]\nlisten = \"127.0.0.1:0\"\n");
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    // A port chosen by the kernel for the new address, told on stderr.
    std::fs::write(&cfg, "[server]\nlisten = \"127.0.0.2:0\"\n").unwrap();
    sonde.signal("HUP");
    let line = sonde
        .wait_line(|l| l.contains("listening on http://127.0.0.2:"), Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no new listener: {}", sonde.stderr()));
    let addr: std::net::SocketAddr =
        line.split("http://").nth(1).unwrap().trim_end_matches("/metrics").parse().unwrap();
    sonde.wait_line(|l| l.contains("config reloaded"), Duration::from_secs(10)).unwrap();
    assert_eq!(common::request(addr, "GET /metrics HTTP/1.1\r\n\r\n").status, 200);
    assert!(std::net::TcpStream::connect(sonde.addr).is_err(), "the old address is closed");
}
