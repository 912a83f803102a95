//! Notifications against real receivers: Debian's Alertmanager (and its
//! own webhook receiver, forwarding to the test), exim delivering to a
//! mailbox, and a webhook receiver run by the test. The events come from
//! checks of TCP ports the test opens and closes (tests/PEERS.md says how
//! each peer starts).
//!
//! Intervals are short (checks every second, Alertmanager re-sends every
//! two), so minutes of Alertmanager's life pass in seconds. No timing is
//! asserted: every wait is for something to happen, with a deadline that
//! only fails a test that never sees it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use common::peers::{mails, Alertmanager, Mta, WebhookSink};
use common::{free_tcp_port, value, wait_for, Scratch, Sonde};

/// A TCP port the test opens and closes: what the checks look at.
struct Port {
    port: u16,
    listener: Option<TcpListener>,
}

impl Port {
    /// A port below Linux's ephemeral range (32768 up): a check
    /// connecting to a closed port from an ephemeral one can be given
    /// that very port and connect to itself (TCP's simultaneous open),
    /// passing, and holding the port the test means to open again.
    fn open() -> Port {
        static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
        let base = 20_000 + (std::process::id() % 400) as u16 * 25;
        loop {
            let port = base + NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst) % 10_000;
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
                return Port { port, listener: Some(listener) };
            }
        }
    }

    fn close(&mut self) {
        self.listener = None;
    }

    fn reopen(&mut self) {
        if self.listener.is_none() {
            self.listener = Some(TcpListener::bind(("127.0.0.1", self.port)).unwrap());
        }
    }
}

/// A check of `port` every second, failing at once.
fn check(name: &str, port: &Port) -> String {
    format!(
        "[[check]]\nname = \"{name}\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{}\"\ninterval = \"1s\"\ntimeout = \"1s\"\n",
        port.port
    )
}

/// `[events]` and `[paths]` of every test: a known instance, the state
/// under the scratch directory.
fn base(dir: &Path) -> String {
    format!(
        "[events]\ninstance = \"box1\"\nstatus_url = \"http://box1.example:9858/\"\n\
         [paths]\nstate_dir = \"{}\"\n[collectors]\ndefaults = false\n",
        dir.join("state").display()
    )
}

fn start(dir: &Scratch, config: &str) -> Sonde {
    let cfg = dir.write("sonde.toml", config);
    Sonde::start(&["--config", cfg.to_str().unwrap()])
}

/// The active alerts Alertmanager lists, as JSON.
fn active(am: &Alertmanager) -> Vec<serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(&am.alerts()).unwrap().as_array().unwrap().clone()
}

fn alert_named<'a>(alerts: &'a [serde_json::Value], check: &str) -> Option<&'a serde_json::Value> {
    alerts.iter().find(|a| a["labels"]["check"] == check && a["status"]["state"] == "active")
}

/// Whether check `name` passes, by its `probe_success`.
fn passing(sonde: &Sonde, name: &str) -> Option<bool> {
    let text = sonde.get("/metrics").text().to_owned();
    let head = format!("probe_success{{check=\"{name}\"");
    text.lines().find(|l| l.starts_with(&head)).map(|l| l.ends_with(" 1"))
}

/// The value of `series` in sonde's metrics.
fn metric(sonde: &Sonde, series: &str) -> Option<f64> {
    value(sonde.get("/metrics").text(), series)
}

/// A check fails: the alert is in Alertmanager with the right labels; it
/// stays active through many times Alertmanager's resolve_timeout and
/// sonde's own endsAt (re-sent, never resolved by either); the check
/// recovers: resolved. Alertmanager's webhook receiver shows both, routed.
#[test]
fn alertmanager_gets_the_alert_keeps_it_while_failing_and_resolves_it() {
    let dir = Scratch::new("notify-am");
    let sink = WebhookSink::start();
    // A resolve_timeout of 3s: an alert not re-sent would be resolved
    // within seconds.
    let am = Alertmanager::start_with_config(
        &dir.0,
        &format!(
            "global:\n  resolve_timeout: 3s\nroute:\n  receiver: hook\n  group_wait: 0s\n  group_interval: 1s\n  \
             repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: \"{}\"\n        \
             send_resolved: true\n",
            sink.url("/hook")
        ),
    );
    let mut port = Port::open();
    let config = format!(
        "{}{}[[notify]]\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:{}\"\nresend = \"2s\"\n",
        base(&dir.0),
        check("web", &port),
        am.port
    );
    let sonde = start(&dir, &config);
    wait_for("the check to pass", Duration::from_secs(10), || (passing(&sonde, "web") == Some(true)).then_some(()));
    assert!(active(&am).is_empty(), "nothing fires while the check passes");

    port.close();
    let alert =
        wait_for("the alert in Alertmanager", Duration::from_secs(15), || alert_named(&active(&am), "web").cloned());
    let labels = &alert["labels"];
    assert_eq!(labels["alertname"], "CheckFailed", "{alert}");
    assert_eq!(labels["instance"], "box1");
    assert_eq!(labels["severity"], "critical");
    assert_eq!(labels.as_object().unwrap().len(), 4, "alertname, check, instance, severity: {alert}");
    assert_eq!(alert["generatorURL"], "http://box1.example:9858/");
    assert!(alert["annotations"]["description"].as_str().unwrap().contains(" on 127.0.0.1:"), "{alert}");

    // Many resolve_timeouts and endsAt spans (4 × 2s) later, still active.
    let until = Instant::now() + Duration::from_secs(25);
    while Instant::now() < until {
        assert!(alert_named(&active(&am), "web").is_some(), "resolved while still failing: {:?}", active(&am));
        std::thread::sleep(Duration::from_millis(500));
    }
    let hooks = sink.requests();
    assert!(!hooks.iter().any(|(_, b)| b.contains("\"resolved\"")), "{hooks:?}");
    assert!(metric(&sonde, "sonde_notify_resends_total{notify=\"alertmanager\"}").unwrap() >= 5.0);

    let firing = sink.wait_body("\"status\":\"firing\"", Duration::from_secs(10));
    let routed: serde_json::Value = serde_json::from_str(&firing).unwrap();
    assert_eq!(routed["receiver"], "hook");
    assert_eq!(routed["alerts"][0]["labels"]["check"], "web");
    assert_eq!(routed["alerts"][0]["labels"]["instance"], "box1");

    port.reopen();
    wait_for("the alert to be resolved", Duration::from_secs(15), || {
        alert_named(&active(&am), "web").is_none().then_some(())
    });
    let resolved = sink.wait_body("\"status\":\"resolved\"", Duration::from_secs(10));
    let routed: serde_json::Value = serde_json::from_str(&resolved).unwrap();
    assert_eq!(routed["alerts"][0]["labels"]["alertname"], "CheckFailed");
    assert_eq!(routed["alerts"][0]["status"], "resolved");

    // Two notifications (firing, resolved), both delivered.
    let text = sonde.get("/metrics").text().to_owned();
    assert_eq!(value(&text, "sonde_notify_raised_total{notify=\"alertmanager\"}"), Some(2.0), "{text}");
    assert_eq!(value(&text, "sonde_notify_delivered_total{notify=\"alertmanager\"}"), Some(2.0), "{text}");
    assert_eq!(value(&text, "sonde_notify_queued{notify=\"alertmanager\"}"), Some(0.0), "{text}");
    common::promtool_check(&text);
}

/// Alertmanager is down when the check fails: the alert arrives when it is
/// back. Then Alertmanager restarts, forgetting every alert: the re-send
/// brings it back.
#[test]
fn an_alertmanager_that_was_down_or_restarted_gets_the_alert() {
    let dir = Scratch::new("notify-am-down");
    let sink = WebhookSink::start();
    let am_port = free_tcp_port();
    let yaml = format!(
        "route:\n  receiver: hook\n  group_wait: 0s\n  group_interval: 1s\nreceivers:\n  - name: hook\n    \
         webhook_configs:\n      - url: \"{}\"\n",
        sink.url("/hook")
    );
    let mut port = Port::open();
    let config = format!(
        "{}{}[[notify]]\nkind = \"alertmanager\"\nurl = \"http://127.0.0.1:{am_port}\"\nresend = \"2s\"\n",
        base(&dir.0),
        check("db", &port),
    );
    let sonde = start(&dir, &config);
    port.close();
    wait_for("the alert queued while Alertmanager is down", Duration::from_secs(15), || {
        let t = sonde.get("/metrics").text().to_owned();
        (value(&t, "sonde_notify_raised_total{notify=\"alertmanager\"}") == Some(1.0)
            && value(&t, "sonde_notify_queued{notify=\"alertmanager\"}") == Some(1.0))
        .then_some(())
    });
    let am = Alertmanager::start_on(&dir.0, am_port, &yaml);
    let alert = wait_for("the alert once Alertmanager is back", Duration::from_secs(200), || {
        alert_named(&active(&am), "db").cloned()
    });
    assert_eq!(alert["labels"]["alertname"], "CheckFailed");
    sink.wait_body("\"check\":\"db\"", Duration::from_secs(10));
    assert_eq!(metric(&sonde, "sonde_notify_delivered_total{notify=\"alertmanager\"}"), Some(1.0));

    // A restart loses every alert; the next re-send tells it again.
    drop(am);
    let am = Alertmanager::start_on(&dir.0, am_port, &yaml);
    wait_for("the alert after Alertmanager's restart", Duration::from_secs(200), || {
        alert_named(&active(&am), "db").cloned()
    });
    let text = sonde.get("/metrics").text().to_owned();
    assert_eq!(
        value(&text, "sonde_notify_raised_total{notify=\"alertmanager\"}"),
        Some(1.0),
        "re-sends are not new: {text}"
    );
    assert_eq!(value(&text, "sonde_notify_dropped_total{notify=\"alertmanager\",reason=\"rejected\"}"), Some(0.0));
}

/// The mail format of the tests: every Monit variable, in a subject and
/// a body of their own.
const MAIL_FORMAT: &str = "subject = \"[box alert] $EVENT $SERVICE\"\n\
    message = [\"event=$EVENT\", \"service=$SERVICE\", \"host=$HOST\", \"action=$ACTION\", \"date=$DATE\", \
    \"description=$DESCRIPTION\"]\n";

/// Failure, reminder and recovery mails arrive at a real MTA, in order,
/// in the configured format, through the second mail server when the
/// first does not answer.
#[test]
fn mails_arrive_in_order_with_the_format_and_the_second_server_when_the_first_is_down() {
    let dir = Scratch::new("notify-mail");
    let mta = Mta::start(&dir.0);
    let dead = free_tcp_port();
    let mut port = Port::open();
    let config = format!(
        "{}{}[[notify]]\nkind = \"mail\"\nurl = [\"smtp://127.0.0.1:{dead}\", \"smtp://127.0.0.1:{}\"]\n\
         to = [\"ops@example.com\"]\nfrom = \"sonde@box1.example\"\nreminder = 3\n{MAIL_FORMAT}",
        base(&dir.0),
        check("smtp", &port),
        mta.port
    );
    let sonde = start(&dir, &config);
    port.close();
    mta.wait_mail("Subject: [box alert] Check failed smtp", Duration::from_secs(30));
    // A reminder, three cycles on, while it still fails.
    wait_for("a reminder mail", Duration::from_secs(30), || {
        (mta.mails().iter().filter(|m| m.contains("Check failed smtp")).count() >= 2).then_some(())
    });
    port.reopen();
    let text = mta.wait_mail("Subject: [box alert] Check succeeded smtp", Duration::from_secs(30));
    let all = mails(&text);
    let subjects: Vec<&str> = all.iter().filter_map(|m| m.lines().find(|l| l.starts_with("Subject: "))).collect();
    let first_ok = subjects.iter().position(|s| s.contains("succeeded")).unwrap();
    assert!(first_ok >= 2 && subjects[..first_ok].iter().all(|s| s.contains("Check failed")), "{subjects:?}");
    let failed = &all[0];
    for want in [
        "From: sonde@box1.example",
        "To: ops@example.com",
        "event=Check failed",
        "service=smtp",
        "host=box1",
        "action=alert",
        // refused, or reset: a connection the listener had queued.
        " on 127.0.0.1:",
    ] {
        assert!(failed.contains(want), "{want:?} in\n{failed}");
    }
    let date = failed.lines().find_map(|l| l.strip_prefix("date=")).unwrap();
    assert!(date.ends_with(" +0000") && date.len() == "Sat, 05 Dec 2026 00:27:02 +0000".len(), "{date}");
    // Exim's own record: delivered by SMTP from sonde, to the mailbox.
    assert!(failed.contains("Envelope-to: ops@example.com"), "{failed}");
    assert!(failed.contains("with esmtp"), "{failed}");
    let stderr = sonde.stderr();
    assert!(stderr.contains(&format!("sent through smtp://127.0.0.1:{}", mta.port)), "{stderr}");
    // The last mail is in the mailbox a moment before its session ends.
    let raised = wait_for("every notification delivered", Duration::from_secs(10), || {
        let t = sonde.get("/metrics").text().to_owned();
        let raised = value(&t, "sonde_notify_raised_total{notify=\"mail\"}")?;
        (value(&t, "sonde_notify_delivered_total{notify=\"mail\"}") == Some(raised)).then_some(raised)
    });
    assert_eq!(raised as usize, mta.mails().len(), "every notification is one mail");
}

/// Mattermost's JSON from a check whose name is hostile (quotes, a
/// backslash, a newline, a tab, non-ASCII): a JSON parser takes it, and
/// every character comes back as it was.
#[test]
fn a_webhook_gets_mattermost_json_whatever_the_text() {
    let dir = Scratch::new("notify-webhook");
    let sink = WebhookSink::start();
    let mut port = Port::open();
    let name = "web \\\"quoted\\\" back\\\\slash\\nnew line\\ttab caf\u{e9}";
    // A second output whose filter takes none of it: told nothing.
    let config = format!(
        "{}{}[[notify]]\nkind = \"webhook\"\nurl = \"{}\"\nusername = \"sonde\"\nchannel = \"ops\"\n\
         icon_emoji = \":satellite:\"\n[[notify]]\nkind = \"webhook\"\nname = \"quiet\"\nurl = \"{}\"\n\
         severity = [\"warning\", \"info\"]\n[[notify]]\nkind = \"webhook\"\nname = \"other\"\nurl = \"{}\"\n\
         match = \"db|DaemonDown\"\n",
        base(&dir.0),
        check(name, &port),
        sink.url("/hooks/secret-key"),
        sink.url("/quiet"),
        sink.url("/other")
    );
    let sonde = start(&dir, &config);
    port.close();
    let body = sink.wait_body("FIRING", Duration::from_secs(15));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let expected = "web \"quoted\" back\\slash\nnew line\ttab caf\u{e9}";
    assert_eq!(v["text"], format!("[FIRING] check {expected}: Check failed on box1"));
    assert_eq!((v["username"].as_str(), v["channel"].as_str()), (Some("sonde"), Some("ops")));
    assert_eq!(v["icon_emoji"], ":satellite:");
    let a = &v["attachments"][0];
    assert_eq!(a["fields"][0]["title"], "Host");
    assert!(a["text"].as_str().unwrap().contains(" on 127.0.0.1:"));
    assert_eq!(sink.requests()[0].0, "/hooks/secret-key");
    port.reopen();
    let body = sink.wait_body("RESOLVED", Duration::from_secs(15));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["attachments"][0]["color"], "#2eb886");
    // The URL is the secret: the log never shows its path.
    assert!(!sonde.stderr().contains("secret-key"), "{}", sonde.stderr());
    assert!(sink.requests().iter().all(|(path, _)| path == "/hooks/secret-key"), "filtered out");
    let t = sonde.get("/metrics").text().to_owned();
    for quiet in ["quiet", "other"] {
        assert_eq!(value(&t, &format!("sonde_notify_raised_total{{notify=\"{quiet}\"}}")), Some(0.0), "{t}");
    }
    assert_eq!(value(&t, "sonde_notify_raised_total{notify=\"webhook-1\"}"), Some(2.0), "{t}");
}

/// AUTH PLAIN (the one offered first) and AUTH LOGIN (asked for), the
/// password read from a file, to a relay on loopback (the one place a
/// password may go in clear text).
#[test]
fn mail_authenticates_with_the_password_from_a_file() {
    let dir = Scratch::new("notify-mail-auth");
    let mta = Mta::start_configured(&dir.0, None, common::peers::EXIM_AUTH);
    let password = dir.write("password", "secret\n");
    let mut port = Port::open();
    let output = |name: &str, auth: &str| {
        format!(
            "[[notify]]\nkind = \"mail\"\nname = \"{name}\"\nurl = \"smtp://127.0.0.1:{}\"\nto = \"{name}@example.com\"\n\
             username = \"sonde\"\npassword_file = \"{}\"\n{auth}",
            mta.port,
            password.display()
        )
    };
    let config = format!(
        "{}{}{}{}",
        base(&dir.0),
        check("auth", &port),
        output("plain", ""),
        output("login", "auth = \"login\"\n")
    );
    let _sonde = start(&dir, &config);
    port.close();
    mta.wait_mail("Envelope-to: plain@example.com", Duration::from_secs(30));
    let text = mta.wait_mail("Envelope-to: login@example.com", Duration::from_secs(30));
    assert_eq!(text.matches("with esmtpa").count(), 2, "authenticated: {text}");
    let log = std::fs::read_to_string(mta.spool.join("mainlog")).unwrap();
    assert!(log.contains("A=plain:sonde") && log.contains("A=login:sonde"), "{log}");
}

/// Mail over STARTTLS and SMTPS with the `tls` feature, the server's
/// certificate verified against the test CA; a server whose certificate
/// another CA signed gets nothing, and the notification waits:
/// `cargo test --features sonde/tls --test notify -- tls::`.
#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use common::peers::{ServerCert, EXIM_AUTH};

    #[test]
    fn mail_over_starttls_and_smtps_verified_against_the_test_ca() {
        let dir = Scratch::new("notify-mail-tls");
        let cert = ServerCert::new(&dir.0);
        let pki = common::Pki::new(&dir.0);
        pki.ca("other-ca", "sonde untrusted CA", "30");
        let other = pki.dir.join("other-ca.crt");
        let mta = Mta::start_configured(&dir.0, Some(&cert), EXIM_AUTH);
        let password = dir.write("password", "secret");
        let mut port = Port::open();
        let output = |name: &str, url: &str, ca: &Path, more: &str| {
            format!(
                "[[notify]]\nkind = \"mail\"\nname = \"{name}\"\nurl = \"{url}\"\nto = \"{name}@example.com\"\n\
                 ca_file = \"{}\"\nusername = \"sonde\"\npassword_file = \"{}\"\n{more}",
                ca.display(),
                password.display()
            )
        };
        let plain = format!("smtp://127.0.0.1:{}", mta.port);
        let smtps = format!("smtps://127.0.0.1:{}", mta.smtps_port.unwrap());
        let config = format!(
            "{}{}{}{}{}",
            base(&dir.0),
            check("tls", &port),
            output("starttls", &plain, &cert.ca, "starttls = true\n"),
            output("smtps", &smtps, &cert.ca, "auth = \"login\"\n"),
            output("untrusted", &plain, &other, "starttls = true\n"),
        );
        let sonde = start(&dir, &config);
        port.close();
        mta.wait_mail("Envelope-to: starttls@example.com", Duration::from_secs(30));
        let text = mta.wait_mail("Envelope-to: smtps@example.com", Duration::from_secs(30));
        assert_eq!(text.matches("with esmtpsa").count(), 2, "over TLS, authenticated: {text}");
        assert!(!text.contains("untrusted@example.com"), "{text}");
        let t = wait_for("the untrusted server's mail to wait", Duration::from_secs(30), || {
            let t = sonde.get("/metrics").text().to_owned();
            (value(&t, "sonde_notify_queued{notify=\"untrusted\"}") == Some(1.0)).then_some(t)
        });
        assert_eq!(value(&t, "sonde_notify_delivered_total{notify=\"untrusted\"}"), Some(0.0), "{t}");
        let stderr = sonde.stderr();
        assert!(stderr.contains("UnknownIssuer") || stderr.contains("certificate"), "{stderr}");
    }
}

/// An HTTP receiver on `port` answering 200 to everything; how many
/// requests it took.
struct Receiver {
    taken: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Receiver {
    fn start(port: u16) -> Receiver {
        use std::io::{Read, Write};
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = std::sync::Arc::clone(&taken);
        std::thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                // The head, then as much body as it says.
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    req.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&req);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if req.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            }
        });
        Receiver { taken }
    }

    fn taken(&self) -> usize {
        self.taken.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// See: nothing lost silently. Checks flapping while the receiver is down
/// fill the queue and its spool; the oldest are dropped and counted
/// (`spool_full`), and at every moment raised = delivered + dropped +
/// queued; when the receiver is back, everything still queued arrives,
/// and it took exactly what sonde counts as delivered.
#[test]
fn accounting_holds_through_an_outage_that_fills_the_queue() {
    let dir = Scratch::new("notify-outage");
    let receiver_port = free_tcp_port();
    let mut port = Port::open();
    let checks: String = (0..40)
        .map(|i| check(&format!("flap{i}"), &port).replace("interval = \"1s\"", "interval = \"100ms\""))
        .collect();
    let config = format!(
        "{}{checks}[[notify]]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{receiver_port}/hook\"\n\
         memory_cap = \"1KiB\"\nspool_cap = \"128KiB\"\nmax_backoff = \"1s\"\n",
        base(&dir.0)
    );
    let sonde = start(&dir, &config);
    let balance = |t: &str| {
        let get = |s: &str| value(t, &format!("sonde_notify_{s}{{notify=\"webhook\"}}")).unwrap();
        let dropped: f64 = t
            .lines()
            .filter(|l| l.starts_with("sonde_notify_dropped_total{notify=\"webhook\""))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum();
        (get("raised_total"), get("delivered_total"), dropped, get("queued"))
    };
    // Flap the port until the spool has had to drop its oldest.
    let until_full = Instant::now() + Duration::from_secs(120);
    loop {
        if port.listener.is_some() {
            port.close()
        } else {
            port.reopen()
        }
        std::thread::sleep(Duration::from_millis(250));
        let t = sonde.get("/metrics").text().to_owned();
        let (raised, delivered, dropped, queued) = balance(&t);
        assert_eq!(raised, delivered + dropped + queued, "{t}");
        if value(&t, "sonde_notify_dropped_total{notify=\"webhook\",reason=\"spool_full\"}").unwrap() > 0.0 {
            break;
        }
        assert!(Instant::now() < until_full, "the spool never filled: {t}");
    }
    port.reopen();
    std::thread::sleep(Duration::from_millis(500));
    let t = sonde.get("/metrics").text().to_owned();
    let (raised, delivered, dropped, queued) = balance(&t);
    assert_eq!(delivered, 0.0);
    assert!(queued > 0.0 && dropped > 0.0);
    assert_eq!(raised, delivered + dropped + queued, "{t}");

    let receiver = Receiver::start(receiver_port);
    let t = wait_for("the queue to drain", Duration::from_secs(120), || {
        let t = sonde.get("/metrics").text().to_owned();
        (value(&t, "sonde_notify_queued{notify=\"webhook\"}") == Some(0.0)).then_some(t)
    });
    let (raised_after, delivered, dropped_after, _) = balance(&t);
    assert_eq!(raised_after, delivered + dropped_after, "{t}");
    assert_eq!(dropped_after, dropped, "nothing more dropped once the receiver is back");
    assert_eq!(receiver.taken(), delivered as usize, "the receiver took what sonde counts as delivered");
}

/// `--once` from cron: each run compares with the last one's state, so a
/// failure is told once, not at every run, and its recovery once; what a
/// run could not deliver (the receiver down) is spooled and goes with
/// the next run.
#[test]
fn once_runs_tell_a_change_once_and_keep_what_they_could_not_send() {
    let dir = Scratch::new("notify-once");
    let receiver_port = free_tcp_port();
    let mut port = Port::open();
    let config = format!(
        "{}{}[[notify]]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{receiver_port}/hook\"\n",
        base(&dir.0),
        check("cron", &port)
    );
    let cfg = dir.write("sonde.toml", &config);
    let once = || common::run(&["--once", "--config", cfg.to_str().unwrap()]);
    let r = once();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    port.close();
    // The receiver is down: the failure is spooled, and the run says so.
    let r = once();
    let stderr = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(!r.status.success() && stderr.contains("1 still spooled for the next run"), "{stderr}");
    let receiver = Receiver::start(receiver_port);
    // Still failing: nothing new, and what was spooled goes now.
    let r = once();
    assert!(!r.status.success(), "the check fails");
    assert_eq!(receiver.taken(), 1, "{}", String::from_utf8_lossy(&r.stderr));
    let r = once();
    assert_eq!(receiver.taken(), 1, "told once: {}", String::from_utf8_lossy(&r.stderr));
    port.reopen();
    let r = once();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(receiver.taken(), 2, "the recovery, once");
    let r = once();
    assert!(r.status.success());
    assert_eq!(receiver.taken(), 2);
}

/// See: hostile text from a log line. A log rule with `notify = true`
/// raises `LogRule` for a line holding quotes, a backslash, a control
/// byte and bytes that are not UTF-8: the webhook gets JSON a parser
/// takes, the invalid bytes as U+FFFD and the rest as it was.
#[test]
fn a_log_rule_tells_its_line_whatever_bytes_it_holds() {
    use std::io::Write;
    let dir = Scratch::new("notify-log");
    let sink = WebhookSink::start();
    let log = dir.0.join("auth.log");
    std::fs::write(&log, b"").unwrap();
    let config = format!(
        "{}[[log]]\npath = \"{f}\"\n[[log_rule]]\nname = \"auth_fail\"\npath = \"{f}\"\nregex = 'Failed password'\n\
         notify = true\n[[notify]]\nkind = \"webhook\"\nurl = \"{}\"\n",
        base(&dir.0),
        sink.url("/hook"),
        f = log.display()
    );
    let sonde = start(&dir, &config);
    // Followed from its end: wait until the follower has it open.
    let files = format!("sonde_log_files{{path=\"{}\"}}", log.display());
    wait_for("the log followed", Duration::from_secs(10), || (metric(&sonde, &files) == Some(1.0)).then_some(()));
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"sshd[7]: Failed password for \"r\xfcot\" \\ from 192.0.2.7 \x1b[31m\xff\n").unwrap();
    let body = sink.wait_body("auth_fail", Duration::from_secs(15));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["text"], "[INFO] rule auth_fail: Log matched on box1");
    let text = v["attachments"][0]["text"].as_str().unwrap();
    let line = "sshd[7]: Failed password for \"r\u{fffd}ot\" \\ from 192.0.2.7 \u{1b}[31m\u{fffd}";
    assert_eq!(text, format!("{}: {line}", log.display()));
}

/// A chronyd the config names that does not answer is `DaemonDown`, told
/// by the service's own look, with no scrape and no push.
#[test]
fn a_daemon_expected_and_down_is_told_though_nothing_scrapes() {
    let dir = Scratch::new("notify-daemon");
    let sink = WebhookSink::start();
    let config = format!(
        "[events]\ninstance = \"box1\"\ndaemon_interval = \"1s\"\n[paths]\nstate_dir = \"{d}/state\"\n\
         [collectors]\ndefaults = false\nchrony = true\n[chrony]\naddress = \"unix:{d}/chronyd.sock\"\n\
         [[notify]]\nkind = \"webhook\"\nurl = \"{}\"\n",
        sink.url("/hook"),
        d = dir.0.display()
    );
    let _sonde = start(&dir, &config);
    let body = sink.wait_body("Daemon down", Duration::from_secs(15));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["text"], "[FIRING] daemon chronyd: Daemon down on box1", "{body}");
    let text = v["attachments"][0]["text"].as_str().unwrap();
    assert!(text.contains("chronyd.sock: connect:"), "{text}");
    // Told once, though it stays down at every look.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(sink.requests().len(), 1, "{:?}", sink.requests());
}
