//! The http check against a real web server: Debian's nginx, started by
//! the test on a free loopback port (tests/PEERS.md), serving what each
//! case needs: a page, a 404, a chain of redirects (one of them
//! relative), a redirect loop, a chunked page (SSI), a 100 GB sparse file
//! as an endless body, a 1 MB response head (260 `add_header` lines), and
//! a location proxied to an upstream that accepts and never answers (a
//! slow server past the timeout). Then the same targets through `/probe`
//! with the same blackbox.yml as Debian's blackbox_exporter 0.23, side by
//! side: the same `probe_success`, the same families and label names.
//! With `--features tls`: https against nginx with a test CA, a CA that
//! did not sign it, an expired certificate, and a client certificate.
//!
//! These tests need root only for nothing; nginx, blackbox_exporter,
//! openssl and promtool come from tests/setup.sh, and a missing one fails
//! the test, never skips it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::peers::{BlackboxExporter, Nginx, ServerCert};
use common::{probe_value, promtool_check, value, wait_for, Scratch, Sonde};

const NO_COLLECTORS: &str = "[collectors]\ndefaults = false\n";

/// nginx with the locations every case here needs (in its https server
/// too, when given a certificate), and the upstream that never answers,
/// held for as long as nginx is.
struct Web {
    nginx: Nginx,
    _silent: TcpListener,
}

fn web(dir: &Path, tls: Option<&ServerCert>, extra: &str) -> Web {
    // Accepted by the kernel, never by anyone: nginx's request to it
    // waits for an answer that does not come.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let big_head: String = (0..260).map(|i| format!("add_header X-Big-{i} \"{}\";\n", "x".repeat(4000))).collect();
    let server = format!(
        "location /ssi/ {{ ssi on; }}\n\
         location /r1 {{ return 302 /r2; }}\n\
         location /r2 {{ return 301 r3; }}\n\
         location /r3 {{ return 307 /index.html; }}\n\
         location /loop {{ return 302 /loop; }}\n\
         location /slow {{ proxy_pass http://{}; proxy_read_timeout 60s; }}\n\
         location /bighead {{ {big_head} return 200 'big'; }}\n{extra}",
        silent.local_addr().unwrap()
    );
    let nginx = Nginx::start_with(dir, tls, &server);
    std::fs::create_dir_all(nginx.www.join("ssi")).unwrap();
    std::fs::write(
        nginx.www.join("ssi/index.html"),
        "<html><body>\n<!--# include virtual=\"/index.html\" -->\n\
         <!--# echo var=\"x\" default=\"hello from ssi\" -->\n</body></html>\n",
    )
    .unwrap();
    // Sparse: 100 GB that take no disk, served by sendfile at memory speed.
    let endless = std::fs::File::create(nginx.www.join("endless.bin")).unwrap();
    endless.set_len(100 << 30).unwrap();
    Web { nginx, _silent: silent }
}

/// `sonde --once --config CONFIG`: stdout and stderr, some check failed.
fn once(config: &Path) -> (String, String) {
    let out = common::sonde_command().arg("--once").arg("--config").arg(config).stdin(Stdio::null()).output().unwrap();
    let (text, err) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert_eq!(out.status.code(), Some(1), "some checks fail here; stderr:\n{err}\nstdout:\n{text}");
    assert!(!err.contains("panicked"), "{err}");
    (text, err)
}

fn check(name: &str, target: &str, extra: &str) -> String {
    check_within("3s", name, target, extra)
}

/// A check whose answer comes without waiting for any timeout gets a
/// generous one: the run still ends with the 3 s ones (they run at
/// once), and a slow CI box (the endless body keeps a core busy for
/// those 3 s) cannot turn an answer into a timeout.
fn quick(name: &str, target: &str, extra: &str) -> String {
    check_within("10s", name, target, extra)
}

fn check_within(timeout: &str, name: &str, target: &str, extra: &str) -> String {
    format!("[[check]]\nname = \"{name}\"\nkind = \"http\"\ntarget = \"{target}\"\ntimeout = \"{timeout}\"\n{extra}")
}

fn series(family: &str, check: &str) -> String {
    format!("{family}{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\"}}")
}

fn success(text: &str, check: &str, reason: &str) -> Option<f64> {
    probe_value(
        text,
        &format!("probe_success{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"{reason}\"}}"),
    )
}

/// Every case the issue names, against one nginx, in one `--once`: each
/// passes or fails with its reason, and says what blackbox's families
/// say (status, redirects, lengths, the regex verdict).
#[test]
fn http_checks_against_nginx() {
    let dir = Scratch::new("http-nginx");
    let w = web(&dir.0, None, "");
    let base = format!("http://127.0.0.1:{}", w.nginx.port);
    let cfg = dir.write(
        "sonde.toml",
        &[
            NO_COLLECTORS.to_owned(),
            quick("ok", &format!("{base}/"), "fail_if_body_not_matches_regexp = [\"hello from nginx\"]\n"),
            quick("no_scheme", &format!("127.0.0.1:{}/index.html", w.nginx.port), ""),
            quick("not_found", &format!("{base}/nope"), ""),
            quick("chain", &format!("{base}/r1"), ""),
            quick("not_followed", &format!("{base}/r1"), "follow_redirects = false\n"),
            quick("loop", &format!("{base}/loop"), ""),
            quick("mismatch", &format!("{base}/"), "fail_if_body_not_matches_regexp = [\"goodbye\"]\n"),
            quick("forbidden", &format!("{base}/"), "fail_if_body_matches_regexp = [\"h[e]llo\"]\n"),
            quick("chunked", &format!("{base}/ssi/"), "fail_if_body_not_matches_regexp = [\"hello from ssi\"]\n"),
            quick("header", &format!("{base}/"), "fail_if_header_not_matches = [\"Content-Type: ^text/html\"]\n"),
            quick("server", &format!("{base}/"), "fail_if_header_matches = [\"Server: ^nginx\"]\n"),
            quick("head", &format!("{base}/"), "method = \"HEAD\"\n"),
            check("slow", &format!("{base}/slow"), ""),
            check("endless", &format!("{base}/endless.bin"), ""),
            quick("endless_limited", &format!("{base}/endless.bin"), "body_size_limit = \"1MB\"\n"),
            quick("endless_matched", &format!("{base}/endless.bin"), "fail_if_body_matches_regexp = [\"x\"]\n"),
            quick("big_head", &format!("{base}/bighead"), ""),
        ]
        .concat(),
    );
    let (text, err) = once(&cfg);
    promtool_check(&text);
    let v = |family: &str, c: &str| value(&text, &series(family, c));
    for c in ["ok", "no_scheme", "chain", "chunked", "header", "head"] {
        assert_eq!(success(&text, c, ""), Some(1.0), "{c}:\n{text}\n{err}");
    }
    assert_eq!(v("probe_http_status_code", "ok"), Some(200.0));
    assert_eq!(v("probe_http_content_length", "ok"), Some(52.0));
    assert_eq!(v("probe_http_uncompressed_body_length", "ok"), Some(52.0));
    assert_eq!(v("probe_http_version", "ok"), Some(1.1));
    assert_eq!(v("probe_http_ssl", "ok"), Some(0.0));
    assert_eq!(v("probe_failed_due_to_regex", "ok"), Some(0.0));
    // nginx's Last-Modified is the file's mtime, to the second.
    let mtime = std::fs::metadata(w.nginx.www.join("index.html")).unwrap().modified().unwrap();
    let mtime = mtime.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as f64;
    assert_eq!(v("probe_http_last_modified_timestamp_seconds", "ok"), Some(mtime));
    for phase in ["connect", "processing", "resolve", "tls", "transfer"] {
        let s = format!(
            "probe_http_duration_seconds{{check=\"ok\",address=\"127.0.0.1\",family=\"ipv4\",phase=\"{phase}\"}}"
        );
        assert!(value(&text, &s).is_some_and(|d| d >= 0.0), "{s}");
    }

    assert_eq!(success(&text, "not_found", "bad_status"), Some(0.0), "not_found:\n{text}\n{err}");
    assert_eq!(v("probe_http_status_code", "not_found"), Some(404.0));
    // /r1 -> /r2 -> r3 (relative to /r2) -> /index.html.
    assert_eq!((v("probe_http_redirects", "chain"), v("probe_http_status_code", "chain")), (Some(3.0), Some(200.0)));
    assert_eq!(success(&text, "not_followed", "bad_status"), Some(0.0), "not_followed:\n{text}\n{err}");
    assert_eq!(
        (v("probe_http_redirects", "not_followed"), v("probe_http_status_code", "not_followed")),
        (Some(1.0), Some(302.0))
    );
    assert_eq!(success(&text, "loop", "bad_status"), Some(0.0), "loop:\n{text}\n{err}");
    assert_eq!(v("probe_http_redirects", "loop"), Some(11.0), "ten followed, the eleventh seen");
    assert!(err.contains("check loop failed on 127.0.0.1:") && err.contains("stopped after 10 redirects"), "{err}");

    for c in ["mismatch", "forbidden"] {
        assert_eq!(success(&text, c, "unexpected_reply"), Some(0.0), "{c}:\n{text}\n{err}");
        assert_eq!(v("probe_failed_due_to_regex", c), Some(1.0), "{c}");
    }
    assert_eq!(v("probe_http_content_length", "chunked"), Some(-1.0), "chunked: no Content-Length");
    assert_eq!(v("probe_http_uncompressed_body_length", "chunked"), Some(96.0));
    assert_eq!(success(&text, "server", "unexpected_reply"), Some(0.0), "server:\n{text}\n{err}");
    assert_eq!(
        (v("probe_http_content_length", "head"), v("probe_http_uncompressed_body_length", "head")),
        (Some(52.0), Some(0.0))
    );

    // The slow server: nginx waits for its upstream, sonde for nginx,
    // until the check's own timeout.
    assert_eq!(success(&text, "slow", "timeout"), Some(0.0), "slow:\n{text}\n{err}");
    assert_eq!(v("probe_http_status_code", "slow"), Some(0.0));
    // The endless body: read until the timeout (without patterns nothing
    // is kept), or until body_size_limit, or until the bound on what is
    // kept for patterns.
    assert_eq!(success(&text, "endless", "timeout"), Some(0.0), "endless:\n{text}\n{err}");
    assert!(v("probe_http_uncompressed_body_length", "endless").unwrap() > 1e6, "it streamed");
    assert_eq!(success(&text, "endless_limited", "too_large"), Some(0.0), "endless_limited:\n{text}\n{err}");
    assert_eq!(v("probe_http_uncompressed_body_length", "endless_limited"), Some(1048576.0));
    assert_eq!(v("probe_http_content_length", "endless_limited"), Some(107374182400.0));
    assert_eq!(success(&text, "endless_matched", "too_large"), Some(0.0), "endless_matched:\n{text}\n{err}");
    assert!(err.contains("a body over 1048576 bytes to match patterns against"), "{err}");
    // The 1 MB head is refused at 64 KiB.
    assert_eq!(success(&text, "big_head", "too_large"), Some(0.0), "big_head:\n{text}\n{err}");
    assert!(err.contains("a response head over 65536 bytes"), "{err}");
}

/// The endless body and the 1 MB head, checked every second by a running
/// sonde: its peak memory grows, if at all, by no more than the bounds
/// allow (MAX_HTTP_BODY_KEPT and MAX_HTTP_HEAD per worker) while it
/// streams gigabytes. (A reader that kept what it read would hold them.)
#[test]
fn endless_bodies_and_huge_heads_take_no_memory() {
    let dir = Scratch::new("http-memory");
    let w = web(&dir.0, None, "");
    let base = format!("http://127.0.0.1:{}", w.nginx.port);
    let every = "interval = \"1s\"\n";
    let cfg = dir.write(
        "sonde.toml",
        &[
            NO_COLLECTORS.to_owned(),
            check("endless", &format!("{base}/endless.bin"), every),
            check(
                "endless_matched",
                &format!("{base}/endless.bin"),
                &format!("{every}fail_if_body_matches_regexp = [\"x\"]\n"),
            ),
            check("big_head", &format!("{base}/bighead"), every),
        ]
        .concat(),
    );
    let sonde = Sonde::start(&["--config", cfg.to_str().unwrap()]);
    let runs = |at_least: f64| {
        wait_for(&format!("{at_least} check runs"), Duration::from_secs(60), || {
            let text = sonde.get("/metrics").text().to_owned();
            let all_ran = success(&text, "endless", "timeout").is_some();
            value(&text, "sonde_check_runs_total").filter(|&n| n >= at_least && all_ran).map(|_| text)
        })
    };
    let text = runs(6.0);
    assert_eq!(success(&text, "endless", "timeout"), Some(0.0), "{text}");
    assert_eq!(success(&text, "big_head", "too_large"), Some(0.0), "{text}");
    let early = sonde.status_kb("VmHWM");
    runs(36.0);
    let late = sonde.status_kb("VmHWM");
    eprintln!("VmHWM after 6 runs {early} kB, after 36 {late} kB");
    // What the bounds allow: each of the three workers may hold, freed
    // but kept by its allocator's arena, one body kept for patterns and
    // one response head (glibc keeps a thread's freed megabyte for its
    // next use; musl, the shipped build's, gives it back).
    let allowed = 3 * (1024 + 64);
    assert!(late <= early + allowed, "peak memory grew from {early} kB to {late} kB, past the bounds' {allowed} kB");
    assert!(late < 16 * 1024, "peak memory {late} kB");
}

/// The label names of each family's samples in an exposition.
fn shape(text: &str) -> BTreeSet<(String, Vec<String>)> {
    let mut out = BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (name, labels) = match line.split_once('{') {
            Some((name, rest)) => (name, rest.rsplit_once('}').unwrap().0),
            None => (line.split(' ').next().unwrap(), ""),
        };
        let mut names = Vec::new();
        let mut in_value = false;
        let mut current = String::new();
        for c in labels.chars() {
            match c {
                '"' => in_value = !in_value,
                '=' if !in_value => names.push(std::mem::take(&mut current)),
                ',' if !in_value => current.clear(),
                c if !in_value => current.push(c),
                _ => {}
            }
        }
        names.sort();
        out.insert((name.to_owned(), names));
    }
    out
}

/// Families and label names sonde's answer has that blackbox 0.23's has
/// not, by design: `probe_timeout_seconds` (blackbox has it from 0.25 on)
/// and, while a probe fails, the reason in a family of its own.
fn sonde_only(name: &str) -> bool {
    name == "probe_timeout_seconds" || name == "sonde_check_failure_info"
}

/// Compares `/probe` of `module` for `target` on both: probe_success, and
/// every family with its label names.
pub fn side_by_side(sonde: &Sonde, bb: &BlackboxExporter, module: &str, target: &str) -> f64 {
    // HTTP/1.0, so that blackbox's answer comes whole, not chunked.
    let path = format!("/probe?module={module}&target={}", query_escape(target));
    let theirs = common::request(([127, 0, 0, 1], bb.port).into(), &format!("GET {path} HTTP/1.0\r\n\r\n"));
    assert_eq!(theirs.status, 200, "{}", theirs.text());
    let theirs = theirs.text().to_owned();
    let r = sonde.get(&path);
    assert_eq!(r.status, 200, "{}", r.text());
    let ours = r.text().to_owned();
    promtool_check(&ours);
    let success = value(&theirs, "probe_success").unwrap();
    assert_eq!(value(&ours, "probe_success"), Some(success), "{module} {target}:\nblackbox:\n{theirs}\nsonde:\n{ours}");
    let ours_shape: BTreeSet<_> = shape(&ours).into_iter().filter(|(n, _)| !sonde_only(n)).collect();
    assert_eq!(ours_shape, shape(&theirs), "{module} {target}:\nblackbox:\n{theirs}\nsonde:\n{ours}");
    success
}

fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The same blackbox.yml and the same targets, through blackbox_exporter
/// and through sonde's /probe: blackbox's example http_2xx, and modules
/// with its body and header patterns, redirects off, and a method.
#[test]
fn http_modules_side_by_side_with_blackbox_exporter() {
    let dir = Scratch::new("http-blackbox");
    let w = web(&dir.0, None, "");
    let yml = "modules:
  http_2xx:
    prober: http
  http_body:
    prober: http
    timeout: 3s
    http:
      preferred_ip_protocol: ip4
      fail_if_body_not_matches_regexp: [\"hello from\"]
      fail_if_header_matches:
        - header: Server
          regexp: Apache
          allow_missing: true
  http_no_redirects:
    prober: http
    http:
      follow_redirects: false
      valid_status_codes: [301, 302]
  http_head:
    prober: http
    http:
      method: HEAD
  http_ip4:
    prober: http
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
";
    let bb = BlackboxExporter::start(&dir.0, yml);
    let file = dir.write("blackbox.yml", yml);
    let sonde = Sonde::start(&["--blackbox-config", file.to_str().unwrap(), "--no-collector", "chrony"]);
    let base = format!("http://127.0.0.1:{}", w.nginx.port);
    let cases = [
        ("http_2xx", "/", 1.0),
        ("http_2xx", "/nope", 0.0),
        ("http_2xx", "/r1", 1.0),
        ("http_2xx", "/loop", 0.0),
        ("http_2xx", "/ssi/", 1.0),
        ("http_body", "/", 1.0),
        ("http_body", "/ssi/", 1.0),
        ("http_body", "/nope", 0.0),
        ("http_no_redirects", "/r1", 1.0),
        ("http_no_redirects", "/", 0.0),
        ("http_head", "/", 1.0),
    ];
    for (module, path, want) in cases {
        assert_eq!(side_by_side(&sonde, &bb, module, &format!("{base}{path}")), want, "{module} {path}");
    }
    // A target written without a scheme is http to both.
    assert_eq!(side_by_side(&sonde, &bb, "http_2xx", &format!("127.0.0.1:{}", w.nginx.port)), 1.0);
    // No IPv4 address and no fallback: both fail before connecting.
    assert_eq!(side_by_side(&sonde, &bb, "http_ip4", &format!("http://[::1]:{}/", w.nginx.port)), 0.0);
    // Nothing listening: both fail, with the same families.
    assert_eq!(side_by_side(&sonde, &bb, "http_2xx", &format!("http://127.0.0.1:{}/", common::free_tcp_port())), 0.0);
}

/// https against nginx (cargo feature `tls`), with certificates made by
/// openssl(1) in the test: a CA and the server it signed (for
/// 127.0.0.1, ::1 and localhost), the same server's certificate expired a
/// day ago, a client certificate, and a CA that signed none of them.
#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    const SERVER: &str = "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n\
                          basicConstraints=critical,CA:FALSE\n";

    fn pki(dir: &Path) -> (PathBuf, ServerCert, ServerCert) {
        let pki = common::Pki::new(dir);
        pki.ca("ca", "sonde http test CA", "30");
        pki.ca("other-ca", "sonde untrusted CA", "30");
        pki.issue("server", "ca", "30", SERVER);
        // notAfter a day before notBefore: expired from the start.
        pki.issue("expired", "ca", "-1", SERVER);
        pki.issue("client", "ca", "30", "extendedKeyUsage=clientAuth\nbasicConstraints=critical,CA:FALSE\n");
        let d = pki.dir;
        let cert = |name: &str| ServerCert {
            ca: d.join("ca.crt"),
            cert: d.join(format!("{name}.crt")),
            key: d.join(format!("{name}.key")),
        };
        (d.clone(), cert("server"), cert("expired"))
    }

    /// A certificate's notAfter in unix seconds, as openssl prints it and
    /// date(1) reads it: sonde's own reader is what is under test.
    fn enddate(crt: &Path) -> f64 {
        let out = Command::new("openssl").args(["x509", "-noout", "-enddate", "-in"]).arg(crt).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let date = text.trim().strip_prefix("notAfter=").unwrap_or_else(|| panic!("openssl said {text:?}"));
        let out = Command::new("date").args(["-u", "+%s", "-d", date]).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
    }

    /// The test CA, a wrong one, the system's bundle, a wrong name, an
    /// expired certificate, a client certificate asked for, a TLS 1.2-only
    /// server with and without min_version TLS13, a redirect from http to
    /// https, fail_if_ssl and fail_if_not_ssl, and insecure_skip_verify
    /// (said in its own family).
    #[test]
    fn https_against_nginx_with_a_test_ca() {
        let dir = Scratch::new("http-tls");
        let (pki, server, expired) = pki(&dir.0);
        // nginx 1.22 offers TLS 1.3 only when told (1.23.4 made it a default).
        let mtls = format!(
            "ssl_protocols TLSv1.2 TLSv1.3;\nssl_verify_client optional; ssl_client_certificate {};\n\
             location /mtls {{ if ($ssl_client_verify != SUCCESS) {{ return 403; }} }}\n",
            pki.join("ca.crt").display()
        );
        let w = web(&dir.0, Some(&server), &mtls);
        std::fs::write(w.nginx.www.join("mtls"), "client verified\n").unwrap();
        let https = format!("https://127.0.0.1:{}", w.nginx.https_port.unwrap());
        let old = Nginx::start_with(&dir.0, Some(&expired), "");
        let tls12 = Nginx::start_with(
            &dir.0,
            Some(&server),
            &format!("ssl_protocols TLSv1.2;\nlocation /secure {{ return 302 {https}/; }}\n"),
        );
        let f = |name: &str| pki.join(name).display().to_string();
        let ca = format!("ca_file = \"{}\"\n", f("ca.crt"));
        let client = format!("{ca}cert_file = \"{}\"\nkey_file = \"{}\"\n", f("client.crt"), f("client.key"));
        let cfg = dir.write(
            "sonde.toml",
            &[
                NO_COLLECTORS.to_owned(),
                check("ok", &format!("{https}/"), &format!("{ca}fail_if_not_ssl = true\n")),
                check("named", &format!("{https}/"), &format!("{ca}server_name = \"localhost\"\n")),
                check("wrong_name", &format!("{https}/"), &format!("{ca}server_name = \"other.test\"\n")),
                check("wrong_ca", &format!("{https}/"), &format!("ca_file = \"{}\"\n", f("other-ca.crt"))),
                check("system_bundle", &format!("{https}/"), ""),
                check(
                    "insecure",
                    &format!("{https}/"),
                    &format!("ca_file = \"{}\"\ninsecure_skip_verify = true\n", f("other-ca.crt")),
                ),
                check("expired", &format!("https://127.0.0.1:{}/", old.https_port.unwrap()), &ca),
                check("client_cert", &format!("{https}/mtls"), &client),
                check("no_client_cert", &format!("{https}/mtls"), &ca),
                check("tls12", &format!("https://127.0.0.1:{}/", tls12.https_port.unwrap()), &ca),
                check(
                    "min13",
                    &format!("https://127.0.0.1:{}/", tls12.https_port.unwrap()),
                    &format!("{ca}min_version = \"TLS13\"\n"),
                ),
                check(
                    "upgraded",
                    &format!("http://127.0.0.1:{}/secure", tls12.port),
                    &format!("{ca}fail_if_not_ssl = true\n"),
                ),
                check("not_ssl", &format!("http://127.0.0.1:{}/", w.nginx.port), "fail_if_not_ssl = true\n"),
                check("ssl", &format!("{https}/"), &format!("{ca}fail_if_ssl = true\n")),
                check("plaintext_port", &format!("https://127.0.0.1:{}/", w.nginx.port), &ca),
            ]
            .concat(),
        );
        let (text, err) = once(&cfg);
        assert!(!err.contains("built without TLS"), "a sonde without TLS ran: {err}");
        promtool_check(&text);
        let v = |family: &str, c: &str| value(&text, &series(family, c));
        let version = |c: &str, ver: &str| {
            value(
                &text,
                &format!(
                    "probe_tls_version_info{{check=\"{c}\",address=\"127.0.0.1\",family=\"ipv4\",version=\"{ver}\"}}"
                ),
            )
        };
        for c in ["ok", "named", "insecure", "client_cert", "tls12", "upgraded"] {
            assert_eq!(success(&text, c, ""), Some(1.0), "{c}:\n{text}\n{err}");
            assert_eq!(v("probe_http_ssl", c), Some(1.0), "{c}");
        }
        assert_eq!(version("ok", "TLS 1.3"), Some(1.0), "{text}");
        assert_eq!(v("probe_ssl_earliest_cert_expiry", "ok"), Some(enddate(&server.cert)));
        assert!(v("probe_http_duration_seconds", "ok").is_none(), "split by phase only");
        let tls_phase = "probe_http_duration_seconds{check=\"ok\",address=\"127.0.0.1\",family=\"ipv4\",phase=\"tls\"}";
        assert!(value(&text, tls_phase).unwrap() > 0.0, "a handshake takes time");
        assert_eq!(v("probe_tls_insecure_skip_verify", "insecure"), Some(1.0));
        assert_eq!(v("probe_tls_insecure_skip_verify", "ok"), None, "no series while verifying");
        for c in ["wrong_name", "wrong_ca", "system_bundle", "expired"] {
            assert_eq!(success(&text, c, "certificate"), Some(0.0), "{c}:\n{text}\n{err}");
        }
        assert!(err.contains("check expired failed") && err.contains("Expired"), "{err}");
        assert!(err.contains("check wrong_ca failed") && err.contains("UnknownIssuer"), "{err}");
        assert_eq!(v("probe_http_status_code", "client_cert"), Some(200.0));
        assert_eq!(success(&text, "no_client_cert", "bad_status"), Some(0.0));
        assert_eq!(v("probe_http_status_code", "no_client_cert"), Some(403.0));
        assert_eq!(version("tls12", "TLS 1.2"), Some(1.0), "{text}");
        assert_eq!(success(&text, "min13", "tls"), Some(0.0), "{text}");
        assert_eq!(
            (v("probe_http_redirects", "upgraded"), v("probe_http_status_code", "upgraded")),
            (Some(1.0), Some(200.0))
        );
        assert_eq!(success(&text, "not_ssl", "unexpected_reply"), Some(0.0));
        assert_eq!(success(&text, "ssl", "unexpected_reply"), Some(0.0));
        assert!(err.contains("the final hop was https (fail_if_ssl)"), "{err}");
        assert_eq!(success(&text, "plaintext_port", "tls"), Some(0.0), "{text}");
    }
}
