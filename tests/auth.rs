//! The endpoint locked and readable (issue 20): exporter-toolkit's
//! web-config.yml with a real Prometheus scraping through basic auth, the
//! allow list, hostile clients, and the status page in Debian's Chromium.
//!
//! Hashes are made by `htpasswd -B` (apache2-utils), as an operator makes
//! them; cost 5 keeps the tests quick on a busy box, and the code path is
//! the same at 10.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::peers::{chromium_dump_dom, chromium_screenshot, need, png_size, Prometheus};
use common::{request, wait_for, Response, Scratch, Sonde};

/// A bcrypt hash of `password` made by htpasswd.
fn htpasswd(password: &str) -> String {
    let bin = need("/usr/bin/htpasswd", "apache2-utils");
    let out = Command::new(bin).args(["-nbB", "-C", "5", "u", password]).output().unwrap();
    assert!(out.status.success(), "htpasswd: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().trim_start_matches("u:").to_owned()
}

fn get_as(addr: SocketAddr, path: &str, authorization: Option<&str>) -> Response {
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    request(addr, &format!("GET {path} HTTP/1.1\r\nHost: t\r\n{auth}Connection: close\r\n\r\n"))
}

fn basic(user: &str, password: &str) -> String {
    use std::fmt::Write as _;
    // base64 by hand: the tests do not link sonde's codecs.
    let t = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut s = String::from("Basic ");
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            let _ = if i <= c.len() {
                s.write_char(t[(n >> (18 - 6 * i) & 63) as usize] as char)
            } else {
                s.write_char('=')
            };
        }
    }
    s
}

fn scrape_job(job: &str, addr: SocketAddr, auth: Option<(&str, &str)>) -> String {
    let auth = auth.map_or(String::new(), |(u, p)| format!("    basic_auth: {{username: {u}, password: {p}}}\n"));
    format!("  - job_name: {job}\n    static_configs: [{{targets: ['{addr}']}}]\n{auth}")
}

/// Waits until Prometheus has scraped `job` and says `health`; the last
/// error it saw.
fn wait_health(p: &Prometheus, job: &str, health: &str) -> String {
    let mut seen = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        seen = p.target(job).or(seen);
        if let Some((h, e)) = &seen {
            if h == health {
                return e.clone();
            }
        }
        assert!(std::time::Instant::now() < deadline, "job {job} never {health}; last: {seen:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of `up{job}` once Prometheus can be asked for it: the
/// targets page says a scrape's health before its samples are committed.
fn up_of(p: &Prometheus, job: &str) -> String {
    wait_for(&format!("up{{job={job}}} in a query"), Duration::from_secs(30), || {
        let r = p.query(&format!("up{{job=\"{job}\"}}"));
        Some(r.first()?["value"][1].as_str()?.to_owned())
    })
}

#[test]
fn prometheus_scrapes_through_basic_auth_and_a_changed_file_takes_effect() {
    let dir = Scratch::new("auth-prometheus");
    let web = dir.write(
        "web.yml",
        &format!(
            "basic_auth_users:\n  prometheus: {}\nhttp_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n",
            htpasswd("s3cret")
        ),
    );
    let sonde = Sonde::start(&["--web.config.file", web.to_str().unwrap()]);
    let jobs = [
        scrape_job("good", sonde.addr, Some(("prometheus", "s3cret"))),
        scrape_job("none", sonde.addr, None),
        scrape_job("wrong", sonde.addr, Some(("prometheus", "guess"))),
        scrape_job("stranger", sonde.addr, Some(("mallory", "s3cret"))),
    ];
    let p = Prometheus::start(&dir.0, &jobs.concat(), "");
    assert_eq!(wait_health(&p, "good", "up"), "");
    for job in ["none", "wrong", "stranger"] {
        let e = wait_health(&p, job, "down");
        assert!(e.contains("HTTP status 401"), "{job}: {e}");
    }
    assert_eq!(up_of(&p, "good"), "1");

    let r = get_as(sonde.addr, "/metrics", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("WWW-Authenticate"), Some("Basic"));
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"), "the file's headers go on every response");

    // A new password: the file is read again without a restart, and the
    // old password stops working, cached or not.
    std::fs::write(&web, format!("basic_auth_users:\n  prometheus: {}\n", htpasswd("n3w"))).unwrap();
    let e = wait_health(&p, "good", "down");
    assert!(e.contains("HTTP status 401"), "{e}");
    assert_eq!(get_as(sonde.addr, "/metrics", Some(&basic("prometheus", "n3w"))).status, 200);

    // A broken version is reported, and the one in force stays.
    std::fs::write(&web, "basic_auth_users:\n  prometheus: not-a-hash\n").unwrap();
    assert_eq!(get_as(sonde.addr, "/metrics", Some(&basic("prometheus", "n3w"))).status, 200);
    assert!(
        sonde
            .wait_line(|l| l.contains("has errors") || l.contains("not a bcrypt hash"), Duration::from_secs(10))
            .is_some(),
        "{}",
        sonde.stderr()
    );
    // SIGHUP with the broken file: the config is refused, the one in force
    // stays, and so does the endpoint's lock.
    sonde.signal("HUP");
    assert!(
        sonde.wait_line(|l| l.contains("the running one stays"), Duration::from_secs(10)).is_some(),
        "{}",
        sonde.stderr()
    );
    assert_eq!(get_as(sonde.addr, "/metrics", Some(&basic("prometheus", "n3w"))).status, 200);
    assert_eq!(get_as(sonde.addr, "/metrics", None).status, 401);
}

#[test]
fn a_peer_outside_the_allow_list_is_closed_before_any_authentication() {
    let dir = Scratch::new("auth-allow");
    let web = dir.write("web.yml", &format!("basic_auth_users:\n  u: {}\n", htpasswd("p")));
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nallow = [\"10.0.0.0/8\", \"fd00::/8\"]\nweb_config = \"{}\"\n",
            web.display()
        ),
    );
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(format!("GET /metrics HTTP/1.1\r\nAuthorization: {}\r\n\r\n", basic("u", "p")).as_bytes());
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got); // closed, or reset
    assert!(got.is_empty(), "no HTTP answer at all, not even a 401: {}", String::from_utf8_lossy(&got));

    let p = Prometheus::start(&dir.0, &scrape_job("outside", sonde.addr, Some(("u", "p"))), "");
    let e = wait_health(&p, "outside", "down");
    // Prometheus read no HTTP status at all: the connection closed.
    assert!(!e.contains("HTTP status"), "refused before authentication: {e}");
    // Go says EOF, a reset, or "server closed idle connection".
    assert!(["EOF", "reset", "closed"].iter().any(|w| e.contains(w)), "{e}");

    // The same box, allowed: served.
    let cfg2 = dir.write("sonde2.toml", "[server]\nlisten = \"127.0.0.1:0\"\nallow = [\"127.0.0.0/8\", \"::1\"]\n");
    let open = Sonde::start_listening(&[], &["--config", cfg2.to_str().unwrap()]);
    assert_eq!(open.get("/-/healthy").status, 200);
}

/// One request from the loopback address `from` (bound before the
/// connect, so the endpoint sees that peer): the response's status (0 when
/// the connection closed without one) and its whole text.
fn get_from(from: [u8; 4], to: SocketAddr, path: &str, authorization: &str) -> (u16, String) {
    use std::os::fd::FromRawFd;
    let SocketAddr::V4(to) = to else { panic!("{to}") };
    let sin = |ip: [u8; 4], port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(ip) },
        sin_zero: [0; 8],
    };
    let (local, remote) = (sin(from, 0), sin(to.ip().octets(), to.port()));
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a fresh socket, owned from here on by the TcpStream; the
    // addresses outlive the calls that read them.
    let mut s = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket");
        let s = TcpStream::from_raw_fd(fd);
        assert_eq!(libc::bind(fd, std::ptr::from_ref(&local).cast(), len), 0, "bind {from:?}");
        assert_eq!(libc::connect(fd, std::ptr::from_ref(&remote).cast(), len), 0, "connect {to}");
        s
    };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n");
    let _ = s.write_all(req.as_bytes());
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got); // closed, or reset
    let status = String::from_utf8_lossy(got.get(9..12).unwrap_or_default()).parse().unwrap_or(0);
    (status, String::from_utf8_lossy(&got).into_owned())
}

#[test]
fn refusals_are_counted_by_reason() {
    let dir = Scratch::new("auth-denied");
    let web = dir.write(
        "web.yml",
        &format!("basic_auth_users:\n  u: {}\nrate_limit:\n  interval: 1s\n  burst: 1\n", htpasswd("p")),
    );
    let cfg = dir.write(
        "sonde.toml",
        &format!("[server]\nlisten = \"127.0.0.1:0\"\nallow = [\"127.0.0.2\"]\nweb_config = \"{}\"\n", web.display()),
    );
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    let (good, bad) = (basic("u", "p"), basic("u", "wrong"));
    // From 127.0.0.1: not in the list, closed unanswered.
    assert_eq!(get_from([127, 0, 0, 1], sonde.addr, "/metrics", &good).0, 0);
    // From 127.0.0.2: a wrong password (401) and, once the one token is
    // spent, 429s.
    let mut seen = Vec::new();
    while !(seen.contains(&401) && seen.contains(&429)) {
        assert!(seen.len() < 50, "{seen:?}");
        seen.push(get_from([127, 0, 0, 2], sonde.addr, "/metrics", &bad).0);
    }
    // The counts, as soon as a token is back for the scrape.
    let text = wait_for("a token for the scrape", Duration::from_secs(30), || {
        let (status, text) = get_from([127, 0, 0, 2], sonde.addr, "/metrics", &good);
        (status == 200).then_some(text)
    });
    let count = |reason: &str| {
        common::value(&text, &format!("sonde_http_requests_denied_total{{reason=\"{reason}\"}}")).unwrap()
    };
    assert_eq!(count("not_allowed"), 1.0, "{text}");
    assert!(count("unauthorized") >= 1.0 && count("rate_limited") >= 1.0, "{seen:?}");
}

#[test]
fn wrong_passwords_at_a_high_rate_meet_the_rate_limit() {
    let dir = Scratch::new("auth-rate");
    let web = dir.write(
        "web.yml",
        &format!("basic_auth_users:\n  u: {}\nrate_limit:\n  interval: 1m\n  burst: 4\n", htpasswd("p")),
    );
    let sonde = Sonde::start(&["--web.config.file", web.to_str().unwrap()]);
    let addr = sonde.addr;
    let threads: Vec<_> = (0..24)
        .map(|i| std::thread::spawn(move || get_as(addr, "/metrics", Some(&basic("u", &format!("wrong{i}")))).status))
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    let verified = statuses.iter().filter(|&&s| s == 401).count();
    // One token a minute: at most the burst (and a token earned while
    // the test ran) ever reached bcrypt.
    assert!(verified <= 5, "{statuses:?}");
    assert_eq!(limited + verified, statuses.len(), "{statuses:?}");
    let mut sonde = sonde;
    assert!(sonde.child.try_wait().unwrap().is_none(), "still running");
    assert_eq!(get_as(addr, "/-/healthy", None).status, 429, "the bucket is empty for everyone, as the toolkit's");
}

#[test]
fn hostile_requests_never_stop_the_endpoint() {
    let dir = Scratch::new("auth-hostile");
    let web = dir.write("web.yml", &format!("basic_auth_users:\n  u: {}\n", htpasswd("p")));
    let mut sonde = Sonde::start(&["--web.config.file", web.to_str().unwrap()]);
    let good = basic("u", "p");

    // A user name of 1 MB: the head is bounded, the answer says so.
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let huge = format!("GET /metrics HTTP/1.1\r\nAuthorization: Basic {}\r\n\r\n", "QUFB".repeat(256 * 1024));
    let _ = s.write_all(huge.as_bytes()); // the server stops reading at its bound
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(got.starts_with(b"HTTP/1.1 431"), "{}", String::from_utf8_lossy(&got[..got.len().min(200)]));

    for bad in [
        "Basic",
        "Basic ",
        "Basic !!!!",
        "Basic dTpw",     // "u:p" itself, the one good value here
        "Basic dQ==",     // "u", no colon
        "Basic dTpwAA==", // "u:p\0"
        "Bearer dTpw",
        "basic\tdTpw",
        "Basic dTp\u{e9}w",
        "Digest username=\"u\"",
    ] {
        let r = get_as(sonde.addr, "/metrics", Some(bad));
        let expect = if bad == "Basic dTpw" { 200 } else { 401 };
        assert_eq!(r.status, expect, "{bad:?}");
    }
    // A long but bounded user name (4 KiB): refused by the hash, not a crash.
    let r = get_as(sonde.addr, "/metrics", Some(&basic(&"u".repeat(4000), "p")));
    assert_eq!(r.status, 401);

    let r = get_as(sonde.addr, "/metrics", Some(&good));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("sonde_build_info"));
    assert!(sonde.child.try_wait().unwrap().is_none(), "still running:\n{}", sonde.stderr());
    sonde.signal("TERM");
    assert!(sonde.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()), "{}", sonde.stderr());
    assert!(!sonde.stderr().contains("panicked"), "{}", sonde.stderr());
}

#[test]
fn open_paths_skip_authentication_only() {
    let dir = Scratch::new("auth-open");
    let web = dir.write("web.yml", &format!("basic_auth_users:\n  u: {}\n", htpasswd("p")));
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nopen_paths = [\"/-/healthy\"]\nweb_config = \"{}\"\n",
            web.display()
        ),
    );
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    let h = sonde.get("/-/healthy");
    assert_eq!((h.status, h.text()), (200, "sonde is Healthy.\n"));
    assert_eq!(sonde.get("/-/ready").status, 401);
    assert_eq!(sonde.get("/metrics").status, 401);
    assert_eq!(sonde.get("/").status, 401);
}

#[test]
fn bad_web_config_is_refused_at_start_with_its_line() {
    let dir = Scratch::new("auth-badfile");
    let web = dir.write("web.yml", "basic_auth_users:\n  u: $2y$05$short\nrate_limt:\n  burst: 1\n");
    let out = common::run(&["--listen", "127.0.0.1:0", "--web.config.file", web.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("web.yml:2: user 'u': not a bcrypt hash"), "{err}");
    assert!(err.contains("web.yml:3: unknown key 'rate_limt'"), "{err}");
    let cfg =
        dir.write("sonde.toml", &format!("[server]\nweb_config = \"{}\"\nallow = [\"localhost\"]\n", web.display()));
    let out = common::run(&["check-config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("sonde.toml:3: allow: 'localhost' is not an address"), "{err}");
    assert!(err.contains("web.yml:2:"), "{err}");
}

#[test]
fn status_page_renders_in_chromium_and_shows_a_failing_check() {
    let dir = Scratch::new("auth-status");
    // One check that passes (a port this test holds open) and one that
    // fails (a port nobody listens on).
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = common::free_tcp_port();
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[[check]]\nname = \"ntp-upstream\"\nkind = \"tcp\"\ntarget = \"{}\"\ninterval = \"5s\"\n\n\
             [[check]]\nname = \"smtp-relay\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{closed}\"\ninterval = \"5s\"\n",
            held.local_addr().unwrap()
        ),
    );
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    let json: serde_json::Value = wait_for("both checks in status.json", Duration::from_secs(30), || {
        let v: serde_json::Value = serde_json::from_slice(&sonde.get("/status.json").body).ok()?;
        (v["checks"].as_array()?.len() == 2).then_some(v)
    });
    let failing = json["checks"].as_array().unwrap().iter().find(|c| c["name"] == "smtp-relay").unwrap();
    assert_eq!(failing["up"], false, "{json}");
    assert_eq!(failing["reason"], "refused", "{json}");
    // Since when it fails and when it runs next: the last change is past,
    // the next run within two 5 s intervals (after the first run, a check
    // takes its phase within the interval).
    let (since, next, now) = (
        failing["since_seconds"].as_f64().unwrap(),
        failing["next_run_seconds"].as_f64().unwrap(),
        json["time_seconds"].as_f64().unwrap(),
    );
    assert!(since > 0.0 && since <= now + 1.0, "{json}");
    assert!(next >= now - 1.0 && next <= now + 11.0, "{json}");
    let page = sonde.get("/");
    assert_eq!(page.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(page.body.len() < 8192, "small: {} bytes", page.body.len());
    assert!(!page.text().contains("<script"), "no JavaScript");

    let url = format!("http://{}/", sonde.addr);
    let dom = chromium_dump_dom(&url);
    let row = dom.lines().find(|l| l.contains("smtp-relay")).unwrap_or_else(|| panic!("{dom}"));
    assert!(row.contains("FAILING: refused") && row.contains("class=\"bad\""), "{row}");
    assert!(row.contains(" s ago<") && (row.contains(">in ") || row.contains(">now<")), "since and next run: {row}");
    let ok = dom.lines().find(|l| l.contains("ntp-upstream")).unwrap_or_else(|| panic!("{dom}"));
    assert!(ok.contains(">ok<"), "{ok}");

    // The README's picture, at a phone's width.
    let png = dir.0.join("status.png");
    chromium_screenshot(&url, &png, 412, 640);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(png_size(&bytes), (412, 640));
    if std::env::var_os("UPDATE").is_some() {
        std::fs::copy(&png, common::repo().join("docs/status-page.png")).unwrap();
    }
    assert!(Path::new(&common::repo().join("docs/status-page.png")).exists(), "run once with UPDATE=1");
    drop(held);
}

#[test]
fn a_locked_endpoint_still_pushes() {
    let dir = Scratch::new("auth-push");
    let prom_port = common::free_tcp_port();
    std::fs::write(dir.0.join("prometheus.yml"), "global:\n  scrape_interval: 1h\nscrape_configs: []\n").unwrap();
    let mut cmd = Command::new(need("/usr/bin/prometheus", "prometheus"));
    cmd.arg(format!("--config.file={}", dir.0.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.0.join("prom-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .arg("--web.enable-remote-write-receiver");
    let mut prom = common::peers::Daemon::spawn("prometheus", &mut cmd, &dir.0.join("prometheus.log"));
    prom.wait_ready(Duration::from_secs(60), || {
        common::peers::http(prom_port, "GET", "/-/ready", None).ok().filter(|r| r.status == 200)
    });

    // Locked every way: no peer allowed, a password besides.
    let web = dir.write("web.yml", &format!("basic_auth_users:\n  u: {}\n", htpasswd("p")));
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nallow = [\"192.0.2.1\"]\nweb_config = \"{}\"\n\n\
             [push]\nurl = \"http://127.0.0.1:{prom_port}/api/v1/write\"\ninterval = \"1s\"\n",
            web.display()
        ),
    );
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    let mut s = TcpStream::connect(sonde.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(got.is_empty(), "the endpoint is closed to this peer");

    let query = format!("/api/v1/query?query={}", common::peers::url_encode("sonde_build_info"));
    wait_for("sonde_build_info pushed into Prometheus", Duration::from_secs(60), || {
        let r = common::peers::http(prom_port, "GET", &query, None).ok()?;
        let v: serde_json::Value = serde_json::from_slice(&r.body).ok()?;
        (v["data"]["result"].as_array()?.len() == 1).then_some(())
    });
}

/// The tls build: web-config.yml's `tls_server_config` with client
/// certificates required, scraped by a real Prometheus; its cipher suite,
/// curve and client SAN lists held against openssl(1)'s s_client.
#[cfg(feature = "tls")]
mod tls {
    use super::*;

    fn make_pki(dir: &Path) -> std::path::PathBuf {
        let pki = common::Pki::new(dir);
        pki.ca("ca", "sonde test CA", "2");
        let leaf = "basicConstraints=CA:FALSE\n";
        pki.issue("server", "ca", "2", &format!("{leaf}subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"));
        pki.issue("client", "ca", "2", &format!("{leaf}extendedKeyUsage=clientAuth\n"));
        // A client certificate from a CA sonde does not trust.
        pki.ca("other", "another CA", "2");
        pki.issue("stranger", "other", "2", &format!("{leaf}extendedKeyUsage=clientAuth\n"));
        pki.dir
    }

    fn tls_job(job: &str, addr: SocketAddr, pki: &Path, client: Option<&str>) -> String {
        let p = pki.display();
        let cert = client.map_or(String::new(), |c| format!(", cert_file: {p}/{c}.crt, key_file: {p}/{c}.key"));
        format!(
            "  - job_name: {job}\n    scheme: https\n    static_configs: [{{targets: ['{addr}']}}]\n\
             \x20   basic_auth: {{username: u, password: p}}\n    tls_config: {{ca_file: {p}/ca.crt{cert}}}\n"
        )
    }

    #[test]
    fn prometheus_scrapes_over_tls_with_a_client_certificate_and_hostile_tls_clients_change_nothing() {
        let dir = Scratch::new("auth-tls");
        let pki = make_pki(&dir.0);
        let p = pki.display();
        let web = dir.write(
            "web.yml",
            &format!(
                "tls_server_config:\n  cert_file: {p}/server.crt\n  key_file: {p}/server.key\n  \
                 client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {p}/ca.crt\n  min_version: TLS12\n\
                 basic_auth_users:\n  u: {}\n",
                htpasswd("p")
            ),
        );
        let sonde = Sonde::start(&["--web.config.file", web.to_str().unwrap()]);
        assert!(sonde.stderr().contains("listening on https://"), "the log says TLS: {}", sonde.stderr());

        // A client that stalls its handshake, and one that sends garbage,
        // hold no slot that scrapes need.
        let _stalled = TcpStream::connect(sonde.addr).unwrap();
        let mut garbage = TcpStream::connect(sonde.addr).unwrap();
        garbage.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let _ = garbage.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
        let mut got = Vec::new();
        let _ = garbage.read_to_end(&mut got);
        assert!(!got.starts_with(b"HTTP/"), "no plain-text answer on the TLS port");

        let jobs = [
            tls_job("good", sonde.addr, &pki, Some("client")),
            tls_job("nocert", sonde.addr, &pki, None),
            tls_job("stranger", sonde.addr, &pki, Some("stranger")),
        ];
        let prom = Prometheus::start(&dir.0, &jobs.concat(), "");
        assert_eq!(wait_health(&prom, "good", "up"), "");
        for job in ["nocert", "stranger"] {
            let e = wait_health(&prom, job, "down");
            assert!(!e.contains("HTTP status"), "{job}: refused in the handshake: {e}");
        }
        assert_eq!(up_of(&prom, "good"), "1");

        // openssl(1) with the client certificate, and a wrong password:
        // TLS passes, basic auth still answers 401.
        let out = Command::new(common::peers::openssl())
            .args(["s_client", "-quiet", "-connect", &sonde.addr.to_string()])
            .args([
                "-CAfile",
                &format!("{p}/ca.crt"),
                "-cert",
                &format!("{p}/client.crt"),
                "-key",
                &format!("{p}/client.key"),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .and_then(|mut c| {
                let req = format!("GET /metrics HTTP/1.1\r\nHost: t\r\nAuthorization: {}\r\n\r\n", basic("u", "wrong"));
                c.stdin.take().unwrap().write_all(req.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("HTTP/1.1 401"), "{text}");

        // A renewed certificate (a new key and serial, as certbot leaves
        // it) is served from the next handshake on, without a restart.
        let served = || {
            let args = ["s_client", "-connect", &sonde.addr.to_string(), "-CAfile", &format!("{p}/ca.crt")];
            let cert = ["-cert", &format!("{p}/client.crt"), "-key", &format!("{p}/client.key")];
            let out = Command::new(common::peers::openssl())
                .args(args)
                .args(cert)
                .stdin(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let pem = text.find("-----BEGIN CERTIFICATE-----").map(|i| text[i..].to_owned()).unwrap_or_default();
            pem.find("-----END CERTIFICATE-----").map(|end| pem[..end].to_owned()).unwrap_or_default()
        };
        let before = served();
        assert!(!before.is_empty(), "openssl saw a certificate");
        let leaf = "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
        common::Pki::new(&dir.0).issue("server", "ca", "3", leaf);
        wait_for("the renewed certificate served", Duration::from_secs(30), || (served() != before).then_some(()));
        assert_eq!(wait_health(&prom, "good", "up"), "", "Prometheus trusts the renewed one too");
    }

    /// What openssl(1) got from the endpoint with `args` added to its
    /// s_client: whether a GET was answered (the handshake passed and the
    /// session carried a request), and its report (negotiated version,
    /// cipher, group).
    fn s_client(addr: SocketAddr, args: &[&str]) -> (bool, String) {
        let out = Command::new(common::peers::openssl())
            .args(["s_client", "-ign_eof", "-connect", &addr.to_string()])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin.take().unwrap().write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")?;
                c.wait_with_output()
            })
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (text.contains("HTTP/1.1 200 OK"), text)
    }

    /// A node_exporter web-config.yml that holds TLS 1.2 to one suite and
    /// every handshake to one curve: openssl negotiates what is allowed
    /// and fails what is not; TLS 1.3's suites stay as Go keeps them.
    #[test]
    fn cipher_suites_and_curve_preferences_hold_openssl_to_what_they_name() {
        let dir = Scratch::new("auth-tls-suites");
        let pki = make_pki(&dir.0);
        let p = pki.display();
        // The server's key is ECDSA (P-256): only the ECDHE_ECDSA suites
        // can be negotiated with it at all.
        let web = dir.write(
            "web.yml",
            &format!(
                "tls_server_config:\n  cert_file: {p}/server.crt\n  key_file: {p}/server.key\n  \
                 cipher_suites:\n    - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n    - TLS_AES_128_GCM_SHA256\n  \
                 curve_preferences: [CurveP384]\n  prefer_server_cipher_suites: true\n"
            ),
        );
        let sonde = Sonde::start(&["--web.config.file", web.to_str().unwrap()]);
        let ca = format!("{p}/ca.crt");
        let client = |args: &[&str]| s_client(sonde.addr, &[&["-CAfile", ca.as_str()], args].concat());

        // In TLS 1.2 openssl's -curves also says which curves it takes a
        // certificate's key on: P-256 stays in every list for the server's.
        let (served, text) = client(&["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384", "-curves", "P-256:P-384"]);
        assert!(served, "{text}");
        assert!(text.contains("Cipher is ECDHE-ECDSA-AES256-GCM-SHA384"), "{text}");
        assert!(text.contains("Server Temp Key: ECDH, secp384r1"), "the curve named, not the client's first: {text}");
        // The other ECDSA suites rustls has, left out of the list.
        for cipher in ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"] {
            let (served, text) = client(&["-tls1_2", "-cipher", cipher]);
            assert!(!served, "{cipher}: {text}");
            assert!(text.contains("handshake failure"), "{cipher}: {text}");
        }
        // TLS 1.3: any of its suites, the one curve only.
        let (served, text) = client(&["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256", "-curves", "P-384"]);
        assert!(served, "{text}");
        assert!(text.contains("TLSv1.3, Cipher is TLS_CHACHA20_POLY1305_SHA256"), "{text}");
        for (version, curves) in [("-tls1_3", "X25519"), ("-tls1_3", "P-256:X25519"), ("-tls1_2", "P-256:X25519")] {
            let (served, text) = client(&[version, "-curves", curves]);
            assert!(!served, "{version} {curves}: {text}");
            assert!(text.contains("alert handshake failure"), "sonde's alert, no common group: {text}");
        }
    }

    /// A suite or curve that rustls with ring lacks stops sonde at start,
    /// with its line, rather than being served without.
    #[test]
    fn a_suite_or_curve_sonde_does_not_offer_is_refused_at_start_with_its_line() {
        let dir = Scratch::new("auth-tls-unoffered");
        let pki = make_pki(&dir.0);
        let p = pki.display();
        let web = dir.write(
            "web.yml",
            &format!(
                "tls_server_config:\n  cert_file: {p}/server.crt\n  key_file: {p}/server.key\n  \
                 cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]\n  curve_preferences: [CurveP521]\n"
            ),
        );
        let out = common::run(&["--listen", "127.0.0.1:0", "--web.config.file", web.to_str().unwrap()]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("web.yml:4: cipher_suites: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA' is not offered"),
            "{err}"
        );
        assert!(err.contains("sonde offers TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), "{err}");
        assert!(err.contains("web.yml:5: curve_preferences: CurveP521 is not offered by sonde"), "{err}");
    }

    /// `client_allowed_sans`: a client certificate from the trusted CA is
    /// served only if it carries one of the names, of any of the four
    /// kinds the toolkit compares; the right name from an untrusted CA is
    /// not enough.
    #[test]
    fn client_allowed_sans_serve_only_certificates_that_carry_one() {
        let dir = Scratch::new("auth-tls-sans");
        let pki = make_pki(&dir.0);
        let ca = common::Pki::new(&dir.0);
        let leaf = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
        for (name, issuer, san) in [
            ("dns", "ca", "DNS:prometheus.example.org"),
            ("uri", "ca", "URI:spiffe://example.org/ns/monitoring/sa/prometheus"),
            ("ip", "ca", "IP:10.9.8.7"),
            ("email", "ca", "email:ops@example.org"),
            ("elsewhere", "ca", "DNS:grafana.example.org,email:prometheus@example.org"),
            ("forged", "other", "DNS:prometheus.example.org"),
        ] {
            ca.issue(name, issuer, "2", &format!("{leaf}subjectAltName={san}\n"));
        }
        let p = pki.display();
        let web = dir.write(
            "web.yml",
            &format!(
                "tls_server_config:\n  cert_file: {p}/server.crt\n  key_file: {p}/server.key\n  \
                 client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {p}/ca.crt\n  \
                 client_allowed_sans:\n    - prometheus.example.org\n    - spiffe://example.org/ns/monitoring/sa/prometheus\n    \
                 - 10.9.8.7\n    - ops@example.org\n"
            ),
        );
        let sonde = Sonde::start(&["--web.config.file", web.to_str().unwrap()]);
        let with = |cert: &str, version: &str| {
            let (crt, key, ca) = (format!("{p}/{cert}.crt"), format!("{p}/{cert}.key"), format!("{p}/ca.crt"));
            s_client(sonde.addr, &[version, "-CAfile", &ca, "-cert", &crt, "-key", &key])
        };
        for version in ["-tls1_3", "-tls1_2"] {
            for cert in ["dns", "uri", "ip", "email"] {
                let (served, text) = with(cert, version);
                assert!(served, "{cert} {version}: {text}");
            }
            // No SAN at all, only names not listed, and a listed name
            // from a CA sonde does not trust.
            for cert in ["client", "elsewhere", "forged"] {
                let (served, text) = with(cert, version);
                assert!(!served, "{cert} {version}: {text}");
            }
            let (_, text) = with("elsewhere", version);
            assert!(text.contains("access denied"), "the alert says why: {text}");
        }
    }
}
