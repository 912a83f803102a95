//! The peer harness itself (tests/common/peers.rs), tested: each real peer
//! of the watchdog, notification, log and HTTP-check features starts on
//! loopback and answers a real request. sonde is not involved; when one
//! of these fails, the feature tests built on that peer cannot pass
//! either, and this says why first.
//!
//! Every peer comes from tests/setup.sh (root); a missing one fails the
//! test with the package to install, never skips it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::peers::{
    chromium_dump_dom, chromium_screenshot, openssl, png_size, xml_field, Alertmanager, BlackboxExporter, Logrotate,
    Monit, Mta, Mtail, Nginx, ServerCert, SyslogProto, SyslogReceiver, WebhookSink,
};
use common::{value, wait_for, Scratch};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl").args(["-sS", "--max-time", "20"]).args(args).output().expect("curl (setup.sh)");
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn nginx_serves_a_page_over_http_and_https() {
    let dir = Scratch::new("peers-nginx");
    let cert = ServerCert::new(&dir.0);
    let nginx = Nginx::start_with(&dir.0, Some(&cert), "location /moved { return 302 /index.html; }");
    let r = common::peers::http(nginx.port, "GET", "/", None).unwrap();
    assert_eq!(r.status, 200, "{}", r.head);
    assert!(r.text().contains("hello from nginx"), "{}", r.text());
    let moved = common::peers::http(nginx.port, "GET", "/moved", None).unwrap();
    assert_eq!(moved.status, 302);
    assert!(moved.header("Location").unwrap().ends_with("/index.html"), "{}", moved.head);
    let https = format!("https://127.0.0.1:{}/", nginx.https_port.unwrap());
    assert!(curl(&["--cacert", cert.ca.to_str().unwrap(), &https]).contains("hello from nginx"));
    let access = std::fs::read_to_string(&nginx.access_log).unwrap();
    assert!(access.lines().any(|l| l.contains("\"GET / HTTP/1.1\" 200") && l.contains("curl/")), "{access}");
}

#[test]
fn alertmanager_accepts_lists_and_forwards_an_alert() {
    let dir = Scratch::new("peers-alertmanager");
    let sink = WebhookSink::start();
    let am = Alertmanager::start(&dir.0, &sink.url("/hook"));
    let r = am.post_alerts(
        r#"[{"labels":{"alertname":"PeersTestDown","instance":"box1"},"annotations":{"summary":"from tests/peers.rs"}}]"#,
    );
    assert_eq!(r.status, 200, "{}\n{}", r.head, r.text());
    let listed = am.alerts();
    assert!(listed.contains(r#""alertname":"PeersTestDown""#) && listed.contains(r#""state":"active""#), "{listed}");
    let body = sink.wait_body("PeersTestDown", WAIT);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "firing", "{body}");
    assert_eq!(json["alerts"][0]["labels"]["instance"], "box1", "{body}");
    assert_eq!(sink.requests()[0].0, "/hook");
}

/// One SMTP line-by-line dialogue: each command, then the reply's code.
fn smtp_send(port: u16, rcpt: &str, body: &str) -> String {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut reply = || {
        let mut all = String::new();
        loop {
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            all.push_str(&l);
            if l.len() < 4 || l.as_bytes()[3] != b'-' {
                return all;
            }
        }
    };
    assert!(reply().starts_with("220 "));
    let mut say = |line: &str, code: &str| {
        w.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        let got = reply();
        assert!(got.starts_with(code), "{line:?} got {got:?}");
        got
    };
    let ehlo = say("EHLO client.test", "250");
    say("MAIL FROM:<sonde@client.test>", "250");
    say(&format!("RCPT TO:<{rcpt}>"), "250");
    say("DATA", "354");
    say(&format!("Subject: peers test\r\n\r\n{body}\r\n."), "250");
    say("QUIT", "221");
    ehlo
}

#[test]
fn exim_delivers_plain_smtp_to_its_mailbox_and_offers_no_starttls() {
    let dir = Scratch::new("peers-exim");
    let mta = Mta::start(&dir.0);
    let ehlo = smtp_send(mta.port, "ops@mx.test", "plain body from tests/peers.rs");
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    let mbox = mta.wait_mail("plain body from tests/peers.rs", WAIT);
    assert!(mbox.starts_with("From sonde@client.test "), "{mbox}");
    assert!(mbox.contains("Envelope-to: ops@mx.test") && mbox.contains("Subject: peers test"), "{mbox}");
}

#[test]
fn exim_delivers_over_starttls_and_smtps_with_a_test_ca() {
    let dir = Scratch::new("peers-exim-tls");
    let cert = ServerCert::new(&dir.0);
    let mta = Mta::start_tls(&dir.0, &cert);
    let ehlo = smtp_send(mta.port, "ops@mx.test", "plain before tls");
    assert!(ehlo.contains("250-STARTTLS"), "{ehlo}");
    let msg = dir.write("msg.txt", "Subject: over tls\r\n\r\ntls body from tests/peers.rs\r\n");
    let ca = cert.ca.to_str().unwrap();
    let send = |url: &str, extra: &[&str]| {
        let mut args = vec!["--cacert", ca, "--mail-from", "sonde@client.test", "--mail-rcpt", "ops@mx.test"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--upload-file", msg.to_str().unwrap(), url]);
        curl(&args);
    };
    send(&format!("smtp://127.0.0.1:{}", mta.port), &["--ssl-reqd"]);
    send(&format!("smtps://127.0.0.1:{}", mta.smtps_port.unwrap()), &[]);
    let mbox = wait_for("both TLS mails", WAIT, || {
        let m = mta.mailbox_text();
        (m.matches("tls body from tests/peers.rs").count() == 2).then_some(m)
    });
    // Exim's Received header names the protocol: esmtps is ESMTP over TLS.
    assert_eq!(mbox.matches("with esmtps").count(), 2, "{mbox}");
}

/// Sends one message of each kind to a receiver and checks both files.
fn syslog_round_trip(start: impl Fn(&Path, SyslogProto) -> SyslogReceiver, name: &str) {
    let dir = Scratch::new(&format!("peers-{name}"));
    let cert = ServerCert::new(&dir.0);
    let msg = |tag: &str| format!("<165>1 2026-01-02T03:04:05.678Z box1 sonde 42 ID47 [ex@32473 k=\"v\"] hello {tag}");
    let octets = |m: &str| format!("{} {m}", m.len());

    let udp = start(&dir.0, SyslogProto::Udp);
    UdpSocket::bind("127.0.0.1:0").unwrap().send_to(msg("udp").as_bytes(), ("127.0.0.1", udp.port)).unwrap();

    let tcp = start(&dir.0, SyslogProto::Tcp);
    let mut s = TcpStream::connect(("127.0.0.1", tcp.port)).unwrap();
    s.write_all(format!("{}{}", octets(&msg("tcp 1")), octets(&msg("tcp 2"))).as_bytes()).unwrap();
    drop(s);

    let tls = start(&dir.0, SyslogProto::Tls(&cert));
    let mut c = Command::new(openssl())
        .args(["s_client", "-quiet", "-no_ign_eof", "-verify_return_error", "-verify_ip", "127.0.0.1"])
        .arg("-CAfile")
        .arg(&cert.ca)
        .arg("-connect")
        .arg(format!("127.0.0.1:{}", tls.port))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(octets(&msg("tls")).as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success(), "s_client: {}", String::from_utf8_lossy(&out.stderr));

    for (rx, tag) in [(&udp, "udp"), (&tcp, "tcp 1"), (&tcp, "tcp 2"), (&tls, "tls")] {
        let line = rx.wait_line(&format!("hello {tag}"), WAIT);
        assert_eq!(line, format!("165\tbox1\tsonde\t42\tID47\t[ex@32473 k=\"v\"]\thello {tag}"), "{name} {tag}");
        // The raw file is another action of the receiver's, written in
        // its own time: waited for, not read at once.
        wait_for(&format!("{name} {tag} in the raw file"), WAIT, || {
            let raw = std::fs::read_to_string(&rx.raw).unwrap_or_default();
            raw.lines().any(|l| l == msg(tag)).then_some(())
        });
    }
    assert_eq!(tcp.lines().len(), 2, "{:?}", tcp.lines());
}

#[test]
fn rsyslog_writes_what_it_receives_over_udp_tcp_and_tls() {
    syslog_round_trip(SyslogReceiver::rsyslog, "rsyslog");
}

#[test]
fn syslog_ng_writes_what_it_receives_over_udp_tcp_and_tls() {
    syslog_round_trip(SyslogReceiver::syslog_ng, "syslog-ng");
}

#[test]
fn rsyslog_tcp_also_takes_lf_framing() {
    let dir = Scratch::new("peers-rsyslog-lf");
    let rx = SyslogReceiver::rsyslog(&dir.0, SyslogProto::Tcp);
    let mut s = TcpStream::connect(("127.0.0.1", rx.port)).unwrap();
    s.write_all(b"<13>1 2026-01-02T03:04:05Z box1 sonde - - - lf framed\n").unwrap();
    drop(s);
    assert_eq!(rx.wait_line("lf framed", WAIT), "13\tbox1\tsonde\t-\t-\t-\tlf framed");
}

#[test]
fn logrotate_rotates_in_create_and_copytruncate_modes() {
    let dir = Scratch::new("peers-logrotate");
    let (create, copy) = (dir.0.join("create.log"), dir.0.join("copy.log"));
    let append = |p: &Path| std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap();
    let (mut w_create, mut w_copy) = (append(&create), append(&copy));
    w_create.write_all(b"before\n").unwrap();
    w_copy.write_all(b"before\n").unwrap();
    let copy_inode = std::fs::metadata(&copy).unwrap().ino();
    let lr = Logrotate::new(
        &dir.0,
        &format!(
            "{} {{\n  rotate 3\n  create 0640\n}}\n{} {{\n  rotate 3\n  copytruncate\n}}\n",
            create.display(),
            copy.display()
        ),
    );
    let said = lr.force();
    // A writer that keeps its descriptor: after create, it still writes
    // into the renamed file; after copytruncate, into the emptied one.
    w_create.write_all(b"after\n").unwrap();
    w_copy.write_all(b"after\n").unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&dir.0.join("create.log.1")), "before\nafter\n", "{said}");
    assert_eq!(read(&create), "");
    assert_eq!(std::fs::metadata(&create).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(read(&dir.0.join("copy.log.1")), "before\n", "{said}");
    assert_eq!(std::fs::metadata(&copy).unwrap().ino(), copy_inode);
    // O_APPEND: the write lands at the new end, no hole of zeros.
    assert_eq!(read(&copy), "after\n");
    assert!(std::fs::read_to_string(&lr.state).unwrap().contains(copy.to_str().unwrap()));
    lr.force();
    assert_eq!(read(&dir.0.join("copy.log.2")), "before\n");
}

#[test]
fn mtail_counts_lines_of_a_log() {
    let dir = Scratch::new("peers-mtail");
    let log = dir.write("app.log", "");
    let prog = "counter lines_total\ncounter errors_total\n/$/ {\n  lines_total++\n}\n/ERROR/ {\n  errors_total++\n}\n";
    let mtail = Mtail::start(&dir.0, &[("app.mtail", prog)], &[&log]);
    let mut w = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    w.write_all(b"ok one\nERROR two\nok three\n").unwrap();
    let text = wait_for("mtail to count 3 lines", WAIT, || {
        let m = mtail.metrics();
        (value(&m, "lines_total{prog=\"app.mtail\"}") == Some(3.0)).then_some(m)
    });
    assert_eq!(value(&text, "errors_total{prog=\"app.mtail\"}"), Some(1.0), "{text}");
}

/// Kills the process whose pid is in a file (one that monit started, in a
/// session of its own) when dropped.
struct KillPidfile<'a>(&'a Path);

impl Drop for KillPidfile<'_> {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(self.0).ok().and_then(|p| p.trim().parse::<i32>().ok()) {
            // SAFETY: kill(2) takes no pointers.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

#[test]
fn monit_starts_a_process_and_reports_it_over_http() {
    let dir = Scratch::new("peers-monit");
    let pidfile = dir.0.join("sleeper.pid");
    let _kill = KillPidfile(&pidfile);
    let script = dir.write(
        "start-sleeper",
        &format!("#!/bin/sh\nsleep 300 </dev/null >/dev/null 2>&1 &\necho $! > {}\n", pidfile.display()),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The process does not run yet: monit's first cycle starts it.
    let monit = Monit::start(
        &dir.0,
        &format!(
            "check process sleeper with pidfile {}\n  start program = \"{}\"\n  stop program = \"/bin/true\"\n",
            pidfile.display(),
            script.display()
        ),
    );
    let service = monit.wait_service("sleeper", WAIT, |s| xml_field(s, "pid").is_some_and(|p| p != "-1" && p != "0"));
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(xml_field(&service, "pid"), Some(pid.trim()), "{service}");
    assert_eq!(xml_field(&service, "status"), Some("0"), "{service}");
    let text = common::peers::http_get_ok(monit.port, "/_status?format=text");
    assert!(text.contains("Process 'sleeper'"), "{text}");
}

#[test]
fn blackbox_exporter_answers_a_probe() {
    let dir = Scratch::new("peers-blackbox");
    let bb = BlackboxExporter::start(
        &dir.0,
        "modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 5s\n    tcp:\n      preferred_ip_protocol: ip4\n  \
         http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n",
    );
    let me = format!("127.0.0.1:{}", bb.port);
    let tcp = bb.probe("tcp_connect", &me);
    assert_eq!(value(&tcp, "probe_success"), Some(1.0), "{tcp}");
    let http = bb.probe("http_2xx", &format!("http://{me}/-/healthy"));
    assert_eq!(value(&http, "probe_success"), Some(1.0), "{http}");
    assert_eq!(value(&http, "probe_http_status_code"), Some(200.0), "{http}");
    let closed = bb.probe("tcp_connect", &format!("127.0.0.1:{}", common::free_tcp_port()));
    assert_eq!(value(&closed, "probe_success"), Some(0.0), "{closed}");
}

#[test]
fn chromium_renders_a_local_page() {
    let dir = Scratch::new("peers-chromium");
    let nginx = Nginx::start(&dir.0);
    std::fs::write(
        nginx.www.join("status.html"),
        "<html><body style=\"background:#2a7\"><h1>sonde</h1><p id=\"js\">no script</p>\
         <script>document.getElementById('js').textContent = 'rendered by script';</script></body></html>\n",
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{}/status.html", nginx.port);
    let png = dir.0.join("status.png");
    chromium_screenshot(&url, &png, 640, 480);
    assert_eq!(png_size(&std::fs::read(&png).unwrap()), (640, 480));
    assert!(chromium_dump_dom(&url).contains("rendered by script"));
    let access = std::fs::read_to_string(&nginx.access_log).unwrap();
    assert_eq!(access.lines().filter(|l| l.contains("\"GET /status.html HTTP/1.1\" 200")).count(), 2, "{access}");
}
