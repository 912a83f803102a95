//! The command line and the config file as an operator meets them.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{run, Scratch, Sonde};

/// Seven lines, the seventh wrong: a key that does not exist.
const BAD_ON_LINE_7: &str = "# sonde config\n\
[server]\n\
listen = [\"127.0.0.1:0\"]\n\
\n\
[collectors]\n\
cpu = true\n\
memnifo = false\n";

#[test]
fn check_config_names_line_7_and_exits_2_and_so_does_start() {
    let dir = Scratch::new("line7");
    let path = dir.write("sonde.toml", BAD_ON_LINE_7);
    let p = path.to_str().unwrap();

    let check = run(&["check-config", p]);
    let check_err = String::from_utf8(check.stderr).unwrap();
    assert_eq!(check.status.code(), Some(2));
    assert!(check_err.contains(&format!("{p}:7: ")), "{check_err}");
    assert!(check_err.contains("did you mean 'meminfo'?"), "{check_err}");

    let start = run(&["--config", p]);
    let start_err = String::from_utf8(start.stderr).unwrap();
    assert_eq!(start.status.code(), Some(2), "refuses to start");
    // The same report, then a line that says it did not start.
    assert!(start_err.starts_with(check_err.trim_end()), "check-config said:\n{check_err}\nstart said:\n{start_err}");
    assert!(start_err.contains("not started"));
}

#[test]
fn check_config_reports_every_error_not_only_the_first() {
    let dir = Scratch::new("many");
    let path = dir.write("sonde.toml", "[server]\nlisten = 9858\n[paths]\nprocs = \"/proc\"\n[colectors]\n");
    let out = run(&["check-config", path.to_str().unwrap()]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    for line in [":2: ", ":4: ", ":5: "] {
        assert!(err.contains(line), "{line} missing in:\n{err}");
    }
}

/// A blackbox.yml is read as blackbox_exporter reads it, strictly: a key
/// it does not know, or YAML outside the subset such files use, is an
/// error with its line, from check-config and at start; Debian's own
/// blackbox.yml passes, its modules sonde cannot run said, not refused.
#[test]
fn blackbox_yml_errors_have_their_lines_and_exit_2() {
    let dir = Scratch::new("blackbox-yml");
    let typo = dir.write(
        "typo.yml",
        "modules:\n  dns:\n    prober: dns\n    dns:\n      query_name: \"x.example.\"\n      preferred_ip_protcol: ip4\n",
    );
    let anchor = dir.write("anchor.yml", "modules:\n  tcp: &t\n    prober: tcp\n  again: *t\n");
    for (file, line) in [(&typo, ":6: "), (&anchor, ":2: ")] {
        let out = run(&["check-config", file.to_str().unwrap()]);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("{}{line}", file.display())), "{err}");
        let start = run(&["--once", "--blackbox-config", file.to_str().unwrap()]);
        assert_eq!(start.status.code(), Some(2), "a bad blackbox.yml stops sonde at start");
    }
    let debian = std::path::Path::new("/etc/prometheus/blackbox.yml");
    assert!(debian.is_file(), "run tests/setup.sh (Debian package prometheus-blackbox-exporter)");
    let out = run(&["check-config", debian.to_str().unwrap()]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    for runs in ["http_2xx", "http_post_2xx", "icmp", "icmp_ttl5"] {
        assert!(!err.contains(&format!("module {runs} ")), "{runs} runs: {err}");
    }
    assert!(err.contains("module irc_banner will not run: query_response send with ${n}"), "{err}");
}

#[test]
fn the_default_config_and_every_example_pass_check_config() {
    let dir = Scratch::new("default");
    let default = run(&["default-config"]);
    assert_eq!(default.status.code(), Some(0));
    let path = dir.write("default.toml", &String::from_utf8(default.stdout).unwrap());
    let mut files = vec![path];
    for e in std::fs::read_dir(common::repo().join("examples")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            files.push(p);
        }
    }
    assert!(files.len() > 1, "examples/ has configs");
    for f in files {
        let out = run(&["check-config", f.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", f.display(), String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let out = run(&["--config", "/nonexistent/sonde.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("/nonexistent/sonde.toml: cannot read"), "{err}");
}

#[test]
fn the_listen_address_comes_from_the_config() {
    let dir = Scratch::new("listen");
    let path = dir.write("sonde.toml", "[server]\nlisten = \"127.0.0.1:0\"\n");
    let sonde = Sonde::start_listening(&[], &["--config", path.to_str().unwrap()]);
    assert!(sonde.addr.ip().is_loopback());
    assert_eq!(sonde.get("/metrics").status, 200);
}

#[test]
fn version_help_and_bad_flags() {
    let v = run(&["--version"]);
    assert_eq!(v.status.code(), Some(0));
    assert!(String::from_utf8(v.stdout).unwrap().starts_with(&format!("sonde {}", env!("CARGO_PKG_VERSION"))));
    let h = run(&["--help"]);
    assert_eq!(h.status.code(), Some(0));
    let help = String::from_utf8(h.stdout).unwrap();
    for word in ["--config", "--listen", "--once", "check-config", "--no-collector", "9858"] {
        assert!(help.contains(word), "--help lacks {word}");
    }
    let bad = run(&["--no-such-flag"]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = run(&["--once", "--no-collector", "cpuu"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8(bad.stderr).unwrap().contains("did you mean 'cpu'?"));
}

#[test]
fn collectors_lists_every_collector() {
    let out = run(&["collectors"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["cpu", "loadavg", "meminfo", "stat", "time", "uname"] {
        assert!(text.lines().any(|l| l.starts_with(name) && l.ends_with("on")), "{name}: {text}");
    }
}
