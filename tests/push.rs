//! Push mode against real receivers: Prometheus with its remote-write
//! receiver and VictoriaMetrics, started here on loopback.
//!
//! To know exactly what sonde sent, requests go through a recording relay
//! ([`Relay`]): it keeps every request body and passes the bytes on to the
//! real receiver untouched, and its answer back. The relay can also be
//! "down" (its port refuses connections), which is how an outage is made.
//! Only the status-code test uses a scripted receiver instead: no real one
//! answers 503, 400 or 401 on demand.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{free_tcp_port, value, wait_for, Scratch, Sonde};
use sonde::wire::{prw, spool};

const STALE: u64 = prw::STALE_NAN;

/// (labels, timestamp ms) -> value bits
type Samples = BTreeMap<(Vec<(String, String)>, i64), u64>;

/// Samples in the order they were sent: (sorted labels, timestamp ms,
/// value bits).
type Sent = Vec<(Vec<(String, String)>, i64, u64)>;

/// A GET; None if the receiver is not there yet or drops the connection
/// (a starting Prometheus may reset one), so readiness polls retry.
fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    // HTTP/1.0, so Go's servers answer without chunked encoding.
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: t\r\n\r\n").as_bytes()).ok()?;
    let mut all = Vec::new();
    s.read_to_end(&mut all).ok()?;
    let r = common::parse_response(&all);
    Some((r.status, String::from_utf8_lossy(&r.body).into_owned()))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A real receiver process, killed when dropped.
struct Receiver {
    child: Child,
    addr: SocketAddr,
    kind: &'static str,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn need(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(p.is_file(), "{path} not found: run tests/setup.sh (Debian package {package})");
    p
}

fn start_prometheus(dir: &Path) -> Receiver {
    let r = spawn_prometheus(dir, &[]);
    wait_for("prometheus ready", Duration::from_secs(30), || http_get(r.addr, "/-/ready").filter(|(s, _)| *s == 200));
    r
}

/// Prometheus on a free loopback port with its remote-write receiver,
/// storing under `dir`, with `extra` flags; not yet ready.
fn spawn_prometheus(dir: &Path, extra: &[String]) -> Receiver {
    let bin = need("/usr/bin/prometheus", "prometheus");
    let port = free_tcp_port();
    std::fs::write(dir.join("prometheus.yml"), "global:\n  scrape_interval: 1h\nscrape_configs: []\n").unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("prom-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-remote-write-receiver")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Receiver { child, addr: format!("127.0.0.1:{port}").parse().unwrap(), kind: "prometheus" }
}

fn start_victoriametrics(dir: &Path) -> Receiver {
    let bin = need("/usr/bin/victoria-metrics", "victoria-metrics");
    let port = free_tcp_port();
    let child = Command::new(bin)
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .arg(format!("-storageDataPath={}", dir.join("vm-data").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let r = Receiver { child, addr: format!("127.0.0.1:{port}").parse().unwrap(), kind: "victoriametrics" };
    wait_for("victoria-metrics ready", Duration::from_secs(30), || {
        http_get(r.addr, "/health").filter(|(s, _)| *s == 200)
    });
    r
}

impl Receiver {
    fn write_url(&self, via: SocketAddr) -> String {
        let _ = self.kind;
        format!("http://{via}/api/v1/write")
    }

    /// [`Receiver::stored`] once it holds every sample of `want`, or as it
    /// is after 15 s: VictoriaMetrics makes its newest rows searchable up
    /// to a second after it accepted them, even after a force_flush, so
    /// the samples of a push just before the stop may not show at once.
    fn stored_all(&self, want: &Samples) -> Samples {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.stored();
            if want.keys().all(|k| got.contains_key(k)) || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every sample the receiver holds for `{job="sonde"}`, raw.
    fn stored(&self) -> Samples {
        let mut out = Samples::new();
        if self.kind == "prometheus" {
            let q = urlencode("{job=\"sonde\"}[1d]");
            let (status, body) = http_get(self.addr, &format!("/api/v1/query?query={q}")).unwrap();
            assert_eq!(status, 200, "{body}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            for series in v["data"]["result"].as_array().unwrap() {
                let labels = labels_of(&series["metric"]);
                for pair in series["values"].as_array().unwrap() {
                    let ts = (pair[0].as_f64().unwrap() * 1000.0).round() as i64;
                    out.insert((labels.clone(), ts), parse_go_float(pair[1].as_str().unwrap()));
                }
            }
        } else {
            http_get(self.addr, "/internal/force_flush").unwrap();
            let q = urlencode("{job=\"sonde\"}");
            let (status, body) = http_get(self.addr, &format!("/api/v1/export?match[]={q}")).unwrap();
            assert_eq!(status, 200, "{body}");
            for line in body.lines().filter(|l| !l.trim().is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let labels = labels_of(&v["metric"]);
                let values = v["values"].as_array().unwrap();
                for (val, ts) in values.iter().zip(v["timestamps"].as_array().unwrap()) {
                    let bits = match val {
                        serde_json::Value::String(s) => parse_go_float(s),
                        // VictoriaMetrics keeps staleness markers and
                        // exports them as null.
                        serde_json::Value::Null => STALE,
                        n => n.as_f64().unwrap().to_bits(),
                    };
                    out.insert((labels.clone(), ts.as_i64().unwrap()), bits);
                }
            }
        }
        out
    }
}

fn labels_of(metric: &serde_json::Value) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> =
        metric.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
    l.sort();
    l
}

fn parse_go_float(s: &str) -> u64 {
    match s {
        "NaN" => f64::NAN.to_bits(),
        "+Inf" | "Inf" => f64::INFINITY.to_bits(),
        "-Inf" => f64::NEG_INFINITY.to_bits(),
        _ => s.parse::<f64>().unwrap().to_bits(),
    }
}

/// The samples in request bodies (snappy-compressed WriteRequests), in
/// order, staleness markers included.
fn decode_bodies(bodies: &[Vec<u8>]) -> Sent {
    let mut out = Vec::new();
    for body in bodies {
        let raw = snap::raw::Decoder::new().decompress_vec(body).unwrap();
        for s in prw::parse(&raw).unwrap() {
            let mut labels = s.labels.clone();
            labels.sort();
            for (bits, ts) in s.samples {
                out.push((labels.clone(), ts, bits));
            }
        }
    }
    out
}

/// Samples sent, as the receivers store them: each (series, time) once;
/// staleness markers left out (Prometheus never returns them).
fn as_stored(sent: &Sent) -> Samples {
    stored_as(sent, false)
}

/// The same, keeping staleness markers (VictoriaMetrics exports them).
fn stored_as(sent: &Sent, keep_stale: bool) -> Samples {
    let mut out = Samples::new();
    for (labels, ts, bits) in sent {
        if keep_stale || *bits != STALE {
            let prev = out.insert((labels.clone(), *ts), *bits);
            assert!(prev.is_none(), "sent twice: {labels:?} at {ts}");
        }
    }
    out
}

fn normalise_nan(s: Samples) -> Samples {
    s.into_iter()
        .map(|(k, v)| (k, if v != STALE && f64::from_bits(v).is_nan() { f64::NAN.to_bits() } else { v }))
        .collect()
}

/// Per series, the timestamps must rise from one request to the next.
fn assert_in_order(sent: &Sent) {
    let mut last: BTreeMap<&Vec<(String, String)>, i64> = BTreeMap::new();
    for (labels, ts, _) in sent {
        if let Some(prev) = last.insert(labels, *ts) {
            assert!(*ts > prev, "out of order for {labels:?}: {prev} then {ts}");
        }
    }
}

/// A relay in front of a receiver that records request bodies; `up`
/// decides whether its port accepts connections at all.
struct Relay {
    addr: SocketAddr,
    target: SocketAddr,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    statuses: Arc<Mutex<Vec<u16>>>,
    stop: Arc<Mutex<bool>>,
}

impl Relay {
    fn new(target: SocketAddr) -> Relay {
        let port = free_tcp_port();
        Relay {
            addr: format!("127.0.0.1:{port}").parse().unwrap(),
            target,
            bodies: Arc::default(),
            statuses: Arc::default(),
            stop: Arc::new(Mutex::new(true)),
        }
    }

    /// Starts accepting (the outage ends).
    fn up(&self) {
        *self.stop.lock().unwrap() = false;
        // The port was picked free and closed again; until `up` another
        // test's connection may hold it for a moment, so binding is tried
        // again for a while before it is a failure.
        let listener = {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                match TcpListener::bind(self.addr) {
                    Ok(l) => break l,
                    Err(e) if std::time::Instant::now() < deadline => {
                        eprintln!("relay: {} taken ({e}); again", self.addr);
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err(e) => panic!("relay: cannot bind {}: {e}", self.addr),
                }
            }
        };
        listener.set_nonblocking(true).unwrap();
        let (target, bodies, statuses, stop) =
            (self.target, Arc::clone(&self.bodies), Arc::clone(&self.statuses), Arc::clone(&self.stop));
        std::thread::spawn(move || {
            while !*stop.lock().unwrap() {
                match listener.accept() {
                    Ok((mut c, _)) => {
                        c.set_nonblocking(false).unwrap();
                        if let Some((raw, body)) = read_request(&mut c) {
                            bodies.lock().unwrap().push(body);
                            let mut up = TcpStream::connect(target).unwrap();
                            up.write_all(&raw).unwrap();
                            let mut resp = Vec::new();
                            up.read_to_end(&mut resp).unwrap();
                            let status = String::from_utf8_lossy(&resp[9..12]).parse().unwrap_or(0);
                            statuses.lock().unwrap().push(status);
                            let _ = c.write_all(&resp);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        *self.stop.lock().unwrap() = true;
    }
}

/// Reads one HTTP request: (all its bytes, its body).
fn read_request(c: &mut TcpStream) -> Option<(Vec<u8>, Vec<u8>)> {
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = c.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = c.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            return Some((buf, body));
        }
    }
}

/// Issue 14, case 6: samples lost in a spool repair are counted nowhere,
/// so a `--once` that mended its spool exits 1 (cron mails it), and the
/// next, with nothing to mend, exits 0.
/// See: issue 14.
#[test]
fn r14_once_exits_1_when_it_mended_a_damaged_spool() {
    let dir = Scratch::new("push-once-mend");
    let receiver = start_prometheus(&dir.0);
    let relay = Relay::new(receiver.addr);
    let spool = dir.0.join("spool");
    let url = receiver.write_url(relay.addr);
    let host = ["--no-collector", "chrony", "--no-collector", "unbound"];
    let run = || common::run(&[&["--once", "--push", &url, "--spool", spool.to_str().unwrap()][..], &host].concat());
    assert_eq!(run().status.code(), Some(1), "receiver down: exit 1");
    let seg = snapshot(&spool).into_keys().find(|p| p.extension().is_some_and(|x| x == "seg")).unwrap();
    // A record torn by a power cut.
    std::fs::OpenOptions::new().append(true).open(&seg).unwrap().write_all(&[40, 0, 0, 0, 1, 2, 3]).unwrap();
    relay.up();
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("was damaged"), "{stderr}");
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Every file of a directory and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).map(|p| (p.clone(), std::fs::read(p).unwrap())).collect()
}

/// Issue 14, case 8: two sondes on one spool would send its batches
/// twice. A second one, daemon or `--once`, refuses with a clear message
/// and exit 2, and has touched nothing: the spool's files are as they
/// were (the first is held still by SIGSTOP meanwhile; it keeps its lock).
/// See: issue 14.
#[test]
fn r14_a_second_instance_on_one_spool_refuses_and_touches_nothing() {
    let dir = Scratch::new("push-two");
    let relay = Relay::new(free_port_addr());
    let spool = dir.0.join("spool");
    let url = format!("http://{}/api/v1/write", relay.addr);
    let cfg = push_config(&dir, &url, &format!("spool = \"{}\"\n", spool.display()));
    let first = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    wait_for("something spooled", Duration::from_secs(30), || (counters(&first).3 > 0.0).then_some(()));
    first.signal("STOP");
    let before = snapshot(&spool);
    assert!(before.keys().any(|p| p.extension().is_some_and(|x| x == "seg")), "{before:?}");
    for args in
        [&["--config", cfg.to_str().unwrap()][..], &["--once", "--push", &url, "--spool", spool.to_str().unwrap()]]
    {
        let out = common::run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("in use by another sonde"), "{args:?}: {stderr}");
    }
    assert_eq!(snapshot(&spool), before, "the second instance touched the spool");
    first.signal("CONT");
}

fn push_config(dir: &Scratch, url: &str, extra: &str) -> PathBuf {
    let interval = if extra.contains("interval") { "" } else { "interval = \"300ms\"\n" };
    dir.write(
        "sonde.toml",
        &format!("[server]\nlisten = \"127.0.0.1:0\"\n\n[push]\nurl = \"{url}\"\n{interval}{extra}"),
    )
}

/// sonde's own push counters, from its endpoint.
fn counters(sonde: &Sonde) -> (f64, f64, f64, f64) {
    let text = sonde.get("/metrics").text().to_owned();
    let v = |s: &str| value(&text, s).unwrap_or_else(|| panic!("{s} missing"));
    let dropped: f64 = text
        .lines()
        .filter(|l| l.starts_with("sonde_push_samples_dropped_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    let queued = v("sonde_push_queued_samples{where=\"memory\"}") + v("sonde_push_queued_samples{where=\"spool\"}");
    (v("sonde_push_samples_collected_total"), v("sonde_push_samples_delivered_total"), dropped, queued)
}

fn stop(mut sonde: Sonde) -> String {
    sonde.signal("TERM");
    let status = sonde.wait_exit(Duration::from_secs(20)).expect("sonde stops");
    assert_eq!(status.code(), Some(0), "{}", sonde.stderr());
    // The summary is the last line; wait until the reader has it.
    sonde.wait_line(|l| l.contains("push: stopped"), Duration::from_secs(5)).expect("the push summary");
    sonde.stderr()
}

#[test]
fn prometheus_and_victoriametrics_hold_exactly_what_sonde_pushed() {
    let dir = Scratch::new("push-exact");
    for receiver in [start_prometheus(&dir.0), start_victoriametrics(&dir.0)] {
        let relay = Relay::new(receiver.addr);
        relay.up();
        let cfg = push_config(&dir, &receiver.write_url(relay.addr), "");
        let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
        wait_for("five pushes", Duration::from_secs(30), || (relay.bodies.lock().unwrap().len() >= 5).then_some(()));
        let said = stop(sonde);
        assert!(said.contains("0 dropped, 0 spooled, 0 lost"), "{said}");
        let sent = decode_bodies(&relay.bodies.lock().unwrap());
        assert!(relay.statuses.lock().unwrap().iter().all(|s| (200..300).contains(s)));
        assert!(
            sent.iter().any(|(l, _, v)| *v == STALE && l.iter().any(|(n, x)| n == "__name__" && x == "node_load1")),
            "staleness markers at the stop"
        );
        let want = normalise_nan(stored_as(&sent, receiver.kind == "victoriametrics"));
        assert!(want.len() > 200, "{} samples", want.len());
        let got = normalise_nan(receiver.stored_all(&want));
        let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).take(3).collect();
        assert!(missing.is_empty(), "{}: not stored: {missing:?}", receiver.kind);
        // Prometheus stores float64 as it came; VictoriaMetrics converts
        // values to its decimal form and may lose the last digit of a
        // 17-digit value (node_time_seconds), so it is compared to 1e-12.
        let same = |a: u64, b: u64| {
            let (x, y) = (f64::from_bits(a), f64::from_bits(b));
            a == b || (receiver.kind == "victoriametrics" && (x - y).abs() <= 1e-12 * x.abs().max(y.abs()))
        };
        let differ: Vec<_> = want
            .iter()
            .filter(|(k, v)| !got.get(*k).is_some_and(|g| same(**v, *g)))
            .map(|(k, v)| (k, f64::from_bits(*v), got.get(k).map(|g| f64::from_bits(*g))))
            .take(5)
            .collect();
        assert!(differ.is_empty(), "{}: stored differ from sent (sent, stored): {differ:?}", receiver.kind);
        let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).take(5).collect();
        assert!(extra.is_empty(), "{}: stored but never sent: {extra:?}", receiver.kind);
        // The timestamps are the cycles': several distinct, shared by all series.
        let times: BTreeSet<i64> = want.keys().map(|k| k.1).collect();
        assert!(times.len() >= 4, "{times:?}");
    }
}

#[test]
fn an_outage_in_daemon_mode_loses_nothing_and_keeps_order() {
    let dir = Scratch::new("push-outage");
    let receiver = start_prometheus(&dir.0);
    let relay = Relay::new(receiver.addr);
    let spool = dir.0.join("spool");
    let cfg = push_config(&dir, &receiver.write_url(relay.addr), &format!("spool = \"{}\"\n", spool.display()));
    // The receiver is down from the start: nothing listens on the relay's port.
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    wait_for("several cycles spooled", Duration::from_secs(30), || {
        let (collected, delivered, dropped, queued) = counters(&sonde);
        assert_eq!(collected, delivered + dropped + queued, "accounting");
        (queued > 600.0).then_some(())
    });
    assert!(std::fs::read_dir(&spool).unwrap().count() > 0, "batches went to the spool");
    relay.up();
    wait_for("the backlog delivered", Duration::from_secs(60), || {
        let (collected, delivered, dropped, queued) = counters(&sonde);
        assert_eq!(collected, delivered + dropped + queued, "accounting");
        (queued == 0.0 && delivered > 600.0).then_some(())
    });
    let said = stop(sonde);
    assert!(said.contains("0 dropped"), "{said}");
    let sent = decode_bodies(&relay.bodies.lock().unwrap());
    assert_in_order(&sent);
    assert!(
        relay.statuses.lock().unwrap().iter().all(|s| (200..300).contains(s)),
        "{:?}",
        relay.statuses.lock().unwrap()
    );
    assert_eq!(normalise_nan(receiver.stored()), normalise_nan(as_stored(&sent)));
}

#[test]
fn once_mode_spools_through_an_outage_and_delivers_everything_after_it() {
    let dir = Scratch::new("push-once");
    let receiver = start_prometheus(&dir.0);
    let relay = Relay::new(receiver.addr);
    let spool = dir.0.join("spool");
    let url = receiver.write_url(relay.addr);
    // The host's collectors only: whether this machine runs chronyd or
    // Unbound, or is set up for them, must not decide the exit code.
    let host = ["--no-collector", "chrony", "--no-collector", "unbound"];
    let run = || common::run(&[&["--once", "--push", &url, "--spool", spool.to_str().unwrap()][..], &host].concat());
    for _ in 0..3 {
        let out = run();
        assert_eq!(out.status.code(), Some(1), "receiver down: exit 1");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("still spooled for the next run"), "{err}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // What the spool holds is what must arrive.
    let spooled = read_spool(&spool);
    assert_eq!(spooled.iter().map(|(_, ts, _)| *ts).collect::<BTreeSet<_>>().len(), 3, "three cycles");
    relay.up();
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let sent = decode_bodies(&relay.bodies.lock().unwrap());
    assert_in_order(&sent);
    let sent_set = as_stored(&sent);
    for (labels, ts, bits) in &spooled {
        assert_eq!(sent_set.get(&(labels.clone(), *ts)), Some(bits), "spooled sample not sent once: {labels:?}");
    }
    assert_eq!(sent.iter().map(|(_, ts, _)| *ts).collect::<BTreeSet<_>>().len(), 4, "all four cycles sent");
    assert_eq!(normalise_nan(receiver.stored()), normalise_nan(sent_set));
    assert!(read_spool(&spool).is_empty(), "the spool is drained");
}

/// The samples in a spool directory, oldest first, read with sonde's own
/// record codec (tested on its own) from the segment files.
fn read_spool(dir: &Path) -> Sent {
    let cursor = std::fs::read_to_string(dir.join("cursor")).unwrap_or_default();
    // `<segment hex> <offset hex> <crc32 hex>`, fixed width (checked by
    // sonde's own tests).
    let mut fields = cursor.split_whitespace();
    let (cur_seg, cur_off) = match (fields.next(), fields.next()) {
        (Some(s), Some(o)) => (u64::from_str_radix(s, 16).unwrap(), usize::from_str_radix(o, 16).unwrap()),
        _ => (0, 0),
    };
    let mut segs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    segs.sort();
    let mut bodies = Vec::new();
    for seg in segs {
        let id = u64::from_str_radix(seg.file_stem().unwrap().to_str().unwrap(), 16).unwrap();
        if id < cur_seg {
            continue;
        }
        let bytes = std::fs::read(&seg).unwrap();
        let mut pos = if id == cur_seg { cur_off } else { 0 };
        while let Ok((r, used)) = spool::parse(&bytes[pos..]) {
            bodies.push(r.payload.to_vec());
            pos += used;
        }
    }
    decode_bodies(&bodies)
}

#[test]
fn sigkill_while_spooling_loses_nothing_already_spooled() {
    let dir = Scratch::new("push-kill");
    let receiver = start_prometheus(&dir.0);
    let relay = Relay::new(receiver.addr);
    let spool = dir.0.join("spool");
    let cfg = push_config(&dir, &receiver.write_url(relay.addr), &format!("spool = \"{}\"\n", spool.display()));
    let mut sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    wait_for("spooling", Duration::from_secs(30), || (counters(&sonde).3 > 800.0).then_some(()));
    sonde.signal("KILL");
    sonde.wait_exit(Duration::from_secs(10)).unwrap();
    let spooled = read_spool(&spool);
    assert!(spooled.len() > 800, "{} samples spooled", spooled.len());
    relay.up();
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    wait_for("the spool delivered", Duration::from_secs(60), || (read_spool(&spool).is_empty()).then_some(()));
    stop(sonde);
    let sent = as_stored(&decode_bodies(&relay.bodies.lock().unwrap()));
    for (labels, ts, bits) in &spooled {
        if *bits != STALE {
            assert_eq!(sent.get(&(labels.clone(), *ts)), Some(bits), "lost: {labels:?} at {ts}");
        }
    }
    assert_eq!(normalise_nan(receiver.stored()), normalise_nan(sent));
}

#[test]
fn accounting_holds_when_an_outage_hits_the_caps() {
    let dir = Scratch::new("push-caps");
    let relay = Relay::new(free_port_addr());
    let spool = dir.0.join("spool");
    // The smallest caps: the spool holds two segments, so old ones go soon.
    let extra = format!(
        "spool = \"{}\"\nspool_cap = \"128KiB\"\nmemory_cap = \"1KiB\"\ninterval = \"100ms\"\n",
        spool.display()
    );
    let cfg = push_config(&dir, &format!("http://{}/api/v1/write", relay.addr), &extra);
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    let text = wait_for("the spool cap to drop samples", Duration::from_secs(60), || {
        let text = sonde.get("/metrics").text().to_owned();
        let (collected, delivered, dropped, queued) = counters(&sonde);
        assert_eq!(collected, delivered + dropped + queued, "accounting");
        (value(&text, "sonde_push_samples_dropped_total{reason=\"spool_full\"}")? > 0.0).then_some(text)
    });
    let spooled_bytes = value(&text, "sonde_push_queued_bytes{where=\"spool\"}").unwrap();
    assert!(spooled_bytes <= 128.0 * 1024.0, "spool within its cap: {spooled_bytes}");
    drop(sonde);
}

/// Issue 14, case 6: a new process counts what an earlier one left in the
/// spool as restored, so its identity (collected + restored = delivered +
/// dropped + queued) holds from its start, and no sample is delivered
/// that was not counted.
#[test]
fn accounting_holds_across_a_restart_with_a_spool() {
    let dir = Scratch::new("push-restored");
    let spool = dir.0.join("spool");
    let extra = format!("spool = \"{}\"\n", spool.display());
    // Nobody listens: every batch is kept.
    let cfg = push_config(&dir, &format!("http://{}/w", free_port_addr()), &extra);
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    wait_for("samples spooled", Duration::from_secs(30), || (counters(&sonde).3 > 500.0).then_some(()));
    stop(sonde);
    let left = read_spool(&spool).len() as f64;
    assert!(left > 500.0, "{left} samples spooled");

    let (addr, bodies) = scripted(vec![]);
    let cfg = push_config(&dir, &format!("http://{addr}/w"), &extra);
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    let text = wait_for("the spool delivered", Duration::from_secs(60), || {
        let text = sonde.get("/metrics").text().to_owned();
        let (collected, delivered, dropped, queued) = counters(&sonde);
        let restored = value(&text, "sonde_push_samples_restored_total")?;
        assert_eq!(collected + restored, delivered + dropped + queued, "identity\n{text}");
        (queued == 0.0 && delivered > left).then_some(text)
    });
    assert_eq!(value(&text, "sonde_push_samples_restored_total"), Some(left), "what the spool held");
    let sent = decode_bodies(&bodies.lock().unwrap()).len() as f64;
    let delivered = value(&text, "sonde_push_samples_delivered_total").unwrap();
    assert!(sent >= delivered, "counted delivered {delivered}, sent {sent}");
    stop(sonde);
}

/// Issue 14, case 3: a spool whose disk stays full. An outage fills a
/// spool on a tmpfs of a few KiB (ENOSPC: what did not fit is dropped and
/// counted), and the test takes whatever block is left, as anything else
/// on that disk would, so not even a one-byte new file fits. Prometheus
/// comes back and sonde delivers what it spooled; it must record that
/// progress on the full disk, so the sonde started next sends none of it
/// again. Before 8279f06 progress went through a new temporary file,
/// which the full disk refused: the progress lived only in the stopped
/// process, and every later start re-sent the whole spool.
#[test]
fn r14_a_full_spool_disk_still_records_progress_so_a_restart_sends_nothing_twice() {
    let dir = Scratch::new("push-enospc");
    let disk = SpoolDisk::filled_then_drained(&dir);
    let (relay, receiver, cfg) = (&disk.relay, &disk.receiver, &disk.cfg);
    let before = relay.bodies.lock().unwrap().clone();
    let sent_before: BTreeSet<(Vec<(String, String)>, i64)> =
        decode_bodies(&before).into_iter().map(|(labels, ts, _)| (labels, ts)).collect();

    // The disk is still full when the next sonde starts, but for the
    // segment the spool freed when it had delivered it all.
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    wait_for("the restarted sonde delivering", Duration::from_secs(60), || {
        let text = sonde.get("/metrics").text().to_owned();
        let in_spool = value(&text, "sonde_push_queued_samples{where=\"spool\"}")?;
        let delivered = value(&text, "sonde_push_samples_delivered_total")?;
        (in_spool == 0.0 && delivered > 0.0).then_some(())
    });
    stop(sonde);
    let bodies = relay.bodies.lock().unwrap().clone();
    let again: Vec<_> = decode_bodies(&bodies[before.len()..])
        .into_iter()
        .filter(|(l, ts, _)| sent_before.contains(&(l.clone(), *ts)))
        .collect();
    assert!(
        again.is_empty(),
        "the restarted sonde sent again {} samples delivered before it started ({} were spooled), the first: {:?}",
        again.len(),
        disk.spooled,
        again.first()
    );
    let statuses = relay.statuses.lock().unwrap().clone();
    assert!(statuses.iter().all(|s| (200..300).contains(s)), "{statuses:?}");
    // as_stored panics on any (series, time) sent twice.
    let sent = as_stored(&decode_bodies(&bodies));
    assert_eq!(normalise_nan(receiver.stored()), normalise_nan(sent));
}

/// Issue 14, case 3, what came after the re-sends: once the spool has
/// filled its small disk and everything in it is delivered, cron's
/// `--once` runs on that disk must each deliver their own cycle. Before
/// this was fixed, the spool kept its last segment, read to the end, and
/// with the cursor it was the whole disk: every `--once` failed to spool
/// its cycle first ("No space left on device; 430 samples dropped"),
/// exited 1, and delivered nothing, run after run, while the disk stayed
/// full of samples already delivered.
#[test]
fn r14_once_runs_after_a_full_spool_disk_drained_each_deliver_their_cycle() {
    let dir = Scratch::new("push-enospc-once");
    let disk = SpoolDisk::filled_then_drained(&dir);
    let (relay, spool) = (&disk.relay, disk.spool.to_str().unwrap());
    let url = disk.receiver.write_url(relay.addr);
    // The host's collectors only, as in the other `--once` tests: a cycle
    // no larger than the daemon's that filled the disk.
    let host = ["--no-collector", "chrony", "--no-collector", "unbound"];
    for run in 0..2 {
        let before = relay.bodies.lock().unwrap().len();
        let seen: BTreeSet<i64> = decode_bodies(&relay.bodies.lock().unwrap()).iter().map(|s| s.1).collect();
        let out = common::run(&[&["--once", "--push", &url, "--spool", spool][..], &host].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "run {run}: {stderr}");
        assert!(!stderr.contains("dropped"), "run {run}: {stderr}");
        let cycle: Sent = decode_bodies(&relay.bodies.lock().unwrap()[before..])
            .into_iter()
            .filter(|s| !seen.contains(&s.1))
            .collect();
        assert!(!cycle.is_empty(), "run {run} delivered no cycle of its own: {stderr}");
        // What it delivered went with its segment: the disk is free again.
        let held: u64 = std::fs::read_dir(&disk.spool)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "seg"))
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum();
        assert_eq!(held, 0, "run {run}: segments read to the end still take the disk");
    }
    let statuses = relay.statuses.lock().unwrap().clone();
    assert!(statuses.iter().all(|s| (200..300).contains(s)), "{statuses:?}");
    // as_stored panics on any (series, time) sent twice.
    let sent = as_stored(&decode_bodies(&relay.bodies.lock().unwrap()));
    assert_eq!(normalise_nan(disk.receiver.stored_all(&sent)), normalise_nan(sent));
}

/// A spool on a 24 KiB tmpfs, filled by an outage and drained after it.
struct SpoolDisk {
    receiver: Receiver,
    relay: Relay,
    cfg: PathBuf,
    spool: PathBuf,
    /// Samples the spool held when the disk was full.
    spooled: usize,
    _fs: common::Tmpfs,
}

impl SpoolDisk {
    /// A daemon's spool fills its disk while the receiver is down (ENOSPC:
    /// what did not fit is dropped and counted, the identity holds on
    /// every scrape); the test takes whatever block is left; the receiver
    /// comes back, everything spooled is delivered, and the daemon stops.
    fn filled_then_drained(dir: &Scratch) -> SpoolDisk {
        let disk = dir.0.join("disk");
        let fs = common::Tmpfs::mount(&disk, "size=24k");
        let spool = disk.join("spool");
        let receiver = start_prometheus(&dir.0);
        // The relay in front of it is down until the disk is full.
        let relay = Relay::new(receiver.addr);
        let extra = format!("spool = \"{}\"\ninterval = \"100ms\"\n", spool.display());
        let cfg = push_config(dir, &receiver.write_url(relay.addr), &extra);
        let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
        wait_for("the spool's disk full", Duration::from_secs(60), || {
            let text = sonde.get("/metrics").text().to_owned();
            let (collected, delivered, dropped, queued) = counters(&sonde);
            assert_eq!(collected, delivered + dropped + queued, "identity");
            (value(&text, "sonde_push_samples_dropped_total{reason=\"spool_error\"}")? > 0.0).then_some(())
        });
        fill_up(&disk);
        let spooled = read_spool(&spool);
        assert!(!spooled.is_empty(), "some of it spooled");

        relay.up();
        wait_for("the spool delivered", Duration::from_secs(120), || {
            let text = sonde.get("/metrics").text().to_owned();
            let (collected, delivered, dropped, queued) = counters(&sonde);
            assert_eq!(collected, delivered + dropped + queued, "identity");
            let in_spool = value(&text, "sonde_push_queued_samples{where=\"spool\"}")?;
            (in_spool == 0.0 && delivered >= spooled.len() as f64).then_some(())
        });
        stop(sonde);
        let sent: BTreeSet<(Vec<(String, String)>, i64)> =
            decode_bodies(&relay.bodies.lock().unwrap()).into_iter().map(|(labels, ts, _)| (labels, ts)).collect();
        for (labels, ts, _) in &spooled {
            assert!(sent.contains(&(labels.clone(), *ts)), "spooled, never sent: {labels:?} at {ts}");
        }
        SpoolDisk { receiver, relay, cfg, spool, spooled: spooled.len(), _fs: fs }
    }
}

/// Takes every block left on the filesystem of `dir` with a file of its
/// own, until not even a one-byte new file fits: topped up while
/// anything else frees a block meanwhile (a failed append cut back).
fn fill_up(dir: &Path) {
    let mut filler = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("filler")).unwrap();
    let probe = dir.join("probe");
    wait_for("no block left", Duration::from_secs(10), || {
        loop {
            match filler.write(&[0; 512]) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filler: {e}"),
            }
        }
        let fits = std::fs::write(&probe, b"x");
        let _ = std::fs::remove_file(&probe);
        match fits {
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => Some(()),
            Err(e) => panic!("probe: {e}"),
            Ok(()) => None,
        }
    });
}

/// Issue 14: SIGKILL and SIGTERM at random moments of push cycles, run
/// after run on one spool, against a real Prometheus. Every run that
/// SIGTERM ends accounts for each sample (collected + restored =
/// delivered + dropped + spooled, none lost, none dropped); after a last
/// run drains the spool, Prometheus holds exactly the samples of the
/// requests it accepted, and no accepted request carried a sample that an
/// earlier accepted one had, except where a SIGKILL came between the send
/// and its record (at least once is all a killed process can give).
#[test]
fn kills_at_random_moments_keep_the_counts_and_the_receiver_in_step() {
    let dir = Scratch::new("push-random-kills");
    let receiver = start_prometheus(&dir.0);
    let relay = Relay::new(receiver.addr);
    relay.up();
    let spool = dir.0.join("spool");
    let extra = format!("spool = \"{}\"\ninterval = \"100ms\"\n", spool.display());
    let cfg = push_config(&dir, &receiver.write_url(relay.addr), &extra);
    // Fewer runs under qemu, where each is slower.
    let runs = if std::env::var_os("SONDE_RUNNER").is_some_and(|r| !r.is_empty()) { 10 } else { 100 };
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("random kills: seed {seed}");
    let mut x = seed;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut killed_after = None; // the relay's body count at the last SIGKILL
    for run in 0..runs {
        let mut sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
        std::thread::sleep(Duration::from_millis(next() % 700));
        if next() % 2 == 0 {
            sonde.signal("KILL");
            sonde.wait_exit(Duration::from_secs(10)).expect("killed");
            killed_after = Some(relay.bodies.lock().unwrap().len());
            continue;
        }
        let said = stop(sonde);
        let line = said.lines().rfind(|l| l.contains("push: stopped")).unwrap();
        let n: Vec<f64> =
            line.split(|c: char| !c.is_ascii_digit()).filter(|t| !t.is_empty()).map(|t| t.parse().unwrap()).collect();
        let [collected, restored, delivered, dropped, spooled, lost] = n[..] else { panic!("run {run}: {line}") };
        assert_eq!(collected + restored, delivered + dropped + spooled + lost, "run {run}: {line}");
        assert_eq!((dropped, lost), (0.0, 0.0), "run {run}: {line}");
    }
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    wait_for("the spool drained", Duration::from_secs(60), || (read_spool(&spool).is_empty()).then_some(()));
    stop(sonde);
    let bodies = relay.bodies.lock().unwrap().clone();
    let statuses = relay.statuses.lock().unwrap().clone();
    let accepted_from = |from: usize| -> Vec<Vec<u8>> {
        let answered = bodies.iter().zip(&statuses).skip(from);
        answered.filter(|(_, s)| (200..300).contains(*s)).map(|(b, _)| b.clone()).collect()
    };
    let accepted = accepted_from(0);
    // No duplicate among the requests sent after the last SIGKILL.
    stored_as(&decode_bodies(&accepted_from(killed_after.unwrap_or(0))), true);
    let mut sent = Samples::new();
    for (labels, ts, bits) in decode_bodies(&accepted) {
        if bits != STALE {
            sent.insert((labels, ts), bits);
        }
    }
    assert!(sent.len() > 1000, "{} samples", sent.len());
    assert_eq!(normalise_nan(receiver.stored()), normalise_nan(sent));
}

fn free_port_addr() -> SocketAddr {
    format!("127.0.0.1:{}", free_tcp_port()).parse().unwrap()
}

/// The one place a fake is right: a receiver that answers from a script.
fn scripted(script: Vec<&'static str>) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let seen = Arc::clone(&bodies);
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for c in listener.incoming() {
            let mut c = c.unwrap();
            let Some((_, body)) = read_request(&mut c) else { continue };
            seen.lock().unwrap().push(body);
            let answer = script.next().unwrap_or("HTTP/1.1 204 No Content\r\n\r\n");
            let _ = c.write_all(answer.as_bytes());
        }
    });
    (addr, bodies)
}

#[test]
fn status_codes_retry_drop_or_keep_as_specified() {
    let dir = Scratch::new("push-status");
    // 503 with Retry-After, then accepted: the same bytes come again.
    let (addr, bodies) =
        scripted(vec!["HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"]);
    let cfg = push_config(&dir, &format!("http://{addr}/w"), "interval = \"1h\"\n");
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    wait_for("the retry", Duration::from_secs(20), || (bodies.lock().unwrap().len() >= 2).then_some(()));
    {
        let b = bodies.lock().unwrap();
        assert_eq!(b[0], b[1], "a retry re-sends the same bytes");
    }
    let (_, delivered, dropped, queued) = counters(&sonde);
    assert!(delivered > 0.0 && dropped == 0.0 && queued == 0.0);
    drop(sonde);

    // 400: dropped and counted, never retried.
    let (addr, bodies) = scripted(vec!["HTTP/1.1 400 Bad Request\r\nContent-Length: 10\r\n\r\nbad sample"]);
    let cfg = push_config(&dir, &format!("http://{addr}/w"), "interval = \"1h\"\n");
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    let text = wait_for("the drop", Duration::from_secs(20), || {
        let t = sonde.get("/metrics").text().to_owned();
        (value(&t, "sonde_push_samples_dropped_total{reason=\"rejected\"}")? > 0.0).then_some(t)
    });
    assert_eq!(value(&text, "sonde_push_samples_delivered_total"), Some(0.0));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(bodies.lock().unwrap().len(), 1, "a 400 is not retried");
    sonde
        .wait_line(|l| l.contains("refused a batch") && l.contains("400"), Duration::from_secs(5))
        .expect("said on stderr");
    drop(sonde);

    // 401: kept, retried, and said loudly; then accepted.
    let (addr, bodies) = scripted(vec!["HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"]);
    let cfg = push_config(&dir, &format!("http://{addr}/w"), "interval = \"1h\"\n");
    let sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    sonde
        .wait_line(|l| l.contains("answered 401") && l.contains("keeping the data"), Duration::from_secs(20))
        .expect("loud");
    wait_for("the retry after 401", Duration::from_secs(20), || (bodies.lock().unwrap().len() >= 2).then_some(()));
    let b = bodies.lock().unwrap().clone();
    assert_eq!(b[0], b[1], "the kept batch is re-sent as it was");
    let (_, delivered, dropped, _) = counters(&sonde);
    assert!(delivered > 0.0 && dropped == 0.0);
}

/// Issue 14, case 7: SIGTERM while the push backs off and its retry is in
/// flight. The receiver takes the retried request (stores it) but answers
/// only after sonde was told to stop; sonde must wait for that answer and
/// record the batch as delivered, not keep it in the spool, from which the
/// next run would send it a second time.
#[test]
fn sigterm_during_a_retry_in_flight_sends_no_batch_twice() {
    let dir = Scratch::new("push-term-retry");
    let spool = dir.0.join("spool");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Bodies the receiver accepted (answered 2xx, or would have: it keeps
    // what it read before answering, as a real one stores it).
    let accepted: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let (taken, retry_taken) = std::sync::mpsc::channel();
    let keep = Arc::clone(&accepted);
    std::thread::spawn(move || {
        for (n, c) in listener.incoming().enumerate() {
            let mut c = c.unwrap();
            let Some((_, body)) = read_request(&mut c) else { continue };
            if n == 0 {
                let _ = c.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
                continue;
            }
            keep.lock().unwrap().push(body);
            let _ = taken.send(());
            // Answer late: the test sends SIGTERM meanwhile.
            std::thread::sleep(Duration::from_millis(1500));
            let _ = c.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
        }
    });
    let extra = format!("spool = \"{}\"\ninterval = \"1h\"\n", spool.display());
    let cfg = push_config(&dir, &format!("http://{addr}/w"), &extra);
    let mut sonde = Sonde::start_listening(&[], &["--config", cfg.to_str().unwrap()]);
    retry_taken.recv_timeout(Duration::from_secs(30)).expect("the retry after 503");
    sonde.signal("TERM");
    let status = sonde.wait_exit(Duration::from_secs(20)).expect("sonde stops");
    assert_eq!(status.code(), Some(0), "{}", sonde.stderr());

    // The next run, to a receiver that takes everything: whatever was kept
    // is sent now, and nothing the first receiver took may come again.
    let (next, bodies) = scripted(vec![]);
    let cfg = dir.write(
        "next.toml",
        &format!("[collectors]\ndefaults = false\nloadavg = true\n[push]\nurl = \"http://{next}/w\"\n{extra}"),
    );
    let out = common::sonde_command().args(["--once", "--config", cfg.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let first = accepted.lock().unwrap().clone();
    assert_eq!(first.len(), 1, "the first receiver took the retried batch");
    let mut all = first;
    all.extend(bodies.lock().unwrap().iter().cloned());
    // stored_as asserts that no (series, time) was sent twice.
    let samples = stored_as(&decode_bodies(&all), true);
    assert!(!samples.is_empty());
}

#[test]
fn the_push_config_is_checked_with_lines() {
    let dir = Scratch::new("push-config");
    let cfg = dir.write(
        "bad.toml",
        "[push]\nurl = \"gopher://x/\"\ninterval = \"5 s\"\nmemory_cap = \"lots\"\n[push.headers]\nContent-Type = \"text/plain\"\n",
    );
    let out = common::run(&["check-config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    for line in [":2: ", ":3: ", ":4: ", ":6: "] {
        assert!(err.contains(line), "{line} missing:\n{err}");
    }
    let out = common::run(&["--once", "--spool", "/tmp/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--spool needs --push"));
}

/// Runs `cmd` in network namespace `ns`.
fn in_ns(ns: &str, cmd: &[&str]) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]).args(cmd);
    c
}

fn sh(cmd: &[&str]) {
    let out = Command::new(cmd[0]).args(&cmd[1..]).output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Two namespaces the test makes, joined by a veth pair; removed (with
/// what runs in them) when dropped.
struct Regions {
    a: String,
    b: String,
    children: Vec<Child>,
}

impl Drop for Regions {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "delete", ns]).status();
        }
    }
}

/// The field story: a monitoring server in region A, an appliance in
/// region B, a firewall in front of B that drops every new inbound
/// connection. Scraping B from A fails; B's samples reach A by push.
#[test]
fn push_crosses_a_firewall_that_denies_every_inbound_port() {
    need("/usr/sbin/nft", "nftables");
    let prometheus = need("/usr/bin/prometheus", "prometheus");
    let curl = common::which("curl").expect("curl: run tests/setup.sh");
    let id = std::process::id();
    let mut r = Regions { a: format!("sonde-a-{id}"), b: format!("sonde-b-{id}"), children: Vec::new() };
    let (va, vb) = (format!("sa{}", id % 100_000), format!("sb{}", id % 100_000));
    sh(&["ip", "netns", "add", &r.a]);
    sh(&["ip", "netns", "add", &r.b]);
    sh(&["ip", "link", "add", &va, "netns", &r.a, "type", "veth", "peer", "name", &vb, "netns", &r.b]);
    for (ns, dev, addr) in [(&r.a, &va, "10.231.0.1/24"), (&r.b, &vb, "10.231.0.2/24")] {
        sh(&["ip", "-n", ns, "addr", "add", addr, "dev", dev]);
        sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    // B's firewall: nothing new comes in; what B opens may answer.
    let dir = Scratch::new("push-firewall");
    let rules = dir.write(
        "fw.nft",
        "table inet fw {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    \
         iif lo accept\n    ct state established,related accept\n    ct state new drop\n  }\n}\n",
    );
    let ok = in_ns(&r.b, &["nft", "-f", rules.to_str().unwrap()]).status().unwrap();
    assert!(ok.success(), "nft rules in region B");
    std::fs::write(dir.0.join("prometheus.yml"), "global:\n  scrape_interval: 1h\nscrape_configs: []\n").unwrap();
    r.children.push(
        in_ns(&r.a, &[prometheus.to_str().unwrap()])
            .arg(format!("--config.file={}", dir.0.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.0.join("prom-data").display()))
            .args(["--web.listen-address=10.231.0.1:9090", "--web.enable-remote-write-receiver"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let curl = curl.to_str().unwrap().to_owned();
    let fetch = |ns: &str, url: &str| -> Option<String> {
        let out = in_ns(ns, &[&curl, "-sf", "--max-time", "2", url]).output().unwrap();
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    wait_for("prometheus in region A", Duration::from_secs(30), || fetch(&r.a, "http://10.231.0.1:9090/-/ready"));

    // The appliance's own daemon: a chronyd in B, its command port on B's
    // loopback only, never touching the clock (-x).
    let chrony_conf = dir.write(
        "chrony.conf",
        &format!(
            "local stratum 10\nport 0\nbindcmdaddress 127.0.0.1\nbindcmdaddress /\npidfile {}\n",
            dir.0.join("chronyd.pid").display()
        ),
    );
    let chronyd = need("/usr/sbin/chronyd", "chrony");
    r.children.push(
        in_ns(&r.b, &[chronyd.to_str().unwrap(), "-x", "-d", "-u", "root", "-f", chrony_conf.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let cfg = dir.write(
        "sonde.toml",
        "[server]\nlisten = \"0.0.0.0:9858\"\n[chrony]\naddress = \"127.0.0.1:323\"\n\
         [push]\nurl = \"http://10.231.0.1:9090/api/v1/write\"\ninterval = \"300ms\"\n",
    );
    let bin = common::bin();
    r.children.push(
        in_ns(&r.b, &[bin.to_str().unwrap(), "--config", cfg.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The endpoint is up in B...
    wait_for("sonde's endpoint inside region B", Duration::from_secs(20), || {
        fetch(&r.b, "http://127.0.0.1:9858/metrics").filter(|t| t.contains("node_load1 "))
    });
    // ...and A cannot scrape it.
    assert!(fetch(&r.a, "http://10.231.0.2:9858/metrics").is_none(), "the firewall let a scrape through");
    // B's samples arrive in A all the same.
    let q = urlencode("node_load1{job=\"sonde\"}[1m]");
    let body = wait_for("B's samples in A's Prometheus", Duration::from_secs(30), || {
        fetch(&r.a, &format!("http://10.231.0.1:9090/api/v1/query?query={q}")).filter(|b| b.contains("\"values\""))
    });
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(!v["data"]["result"][0]["values"].as_array().unwrap().is_empty());
    // So do the chronyd's: the stratum it is configured with, read by
    // sonde over B's loopback and pushed out.
    let q = urlencode("chrony_tracking_stratum{job=\"sonde\"}");
    let body = wait_for("B's chronyd in A's Prometheus", Duration::from_secs(30), || {
        fetch(&r.a, &format!("http://10.231.0.1:9090/api/v1/query?query={q}")).filter(|b| b.contains("\"value\""))
    });
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "10", "{body}");
}

/// Push over https to a Prometheus that serves TLS with a certificate of a
/// CA made here, and requires a client certificate of the same CA (its
/// `--web.config.file`). Built with the `tls` feature only:
/// `cargo test --features sonde/tls --test push -- https`.
#[cfg(feature = "tls")]
mod https {
    use super::*;

    /// A CA, a server certificate for `receiver.test` and 127.0.0.1 (not
    /// `localhost`), and a client certificate, made by openssl(1).
    fn make_pki(dir: &Path) -> PathBuf {
        let pki = common::Pki::new(dir);
        pki.ca("ca", "sonde test CA", "2");
        let leaf = "basicConstraints=CA:FALSE\n";
        pki.issue(
            "server",
            "ca",
            "2",
            &format!("{leaf}subjectAltName=DNS:receiver.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        );
        pki.issue("client", "ca", "2", &format!("{leaf}extendedKeyUsage=clientAuth\n"));
        pki.dir
    }

    /// Prometheus on 127.0.0.1 over TLS, client certificates required.
    fn start_tls_prometheus(dir: &Path, pki: &Path) -> Receiver {
        let p = pki.display();
        std::fs::write(
            dir.join("web.yml"),
            format!(
                "tls_server_config:\n  cert_file: {p}/server.crt\n  key_file: {p}/server.key\n  \
                 client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {p}/ca.crt\n"
            ),
        )
        .unwrap();
        let r = spawn_prometheus(dir, &[format!("--web.config.file={}", dir.join("web.yml").display())]);
        wait_for("prometheus ready over TLS", Duration::from_secs(30), || curl(&r, pki, "/-/ready"));
        r
    }

    /// GET over TLS with the test's CA and client certificate.
    fn curl(r: &Receiver, pki: &Path, path: &str) -> Option<String> {
        let curl = common::which("curl").expect("curl: run tests/setup.sh");
        let out = Command::new(curl)
            .args(["-sf", "--max-time", "5", "--cacert"])
            .arg(pki.join("ca.crt"))
            .arg("--cert")
            .arg(pki.join("client.crt"))
            .arg("--key")
            .arg(pki.join("client.key"))
            .arg(format!("https://{}{path}", r.addr))
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Every sample Prometheus holds for `{job="sonde"}`.
    fn stored(r: &Receiver, pki: &Path) -> Samples {
        let q = urlencode("{job=\"sonde\"}[1d]");
        let body = curl(r, pki, &format!("/api/v1/query?query={q}")).expect("query over TLS");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut out = Samples::new();
        for series in v["data"]["result"].as_array().unwrap() {
            let labels = labels_of(&series["metric"]);
            for pair in series["values"].as_array().unwrap() {
                let ts = (pair[0].as_f64().unwrap() * 1000.0).round() as i64;
                out.insert((labels.clone(), ts), parse_go_float(pair[1].as_str().unwrap()));
            }
        }
        out
    }

    /// A `--once` push of a few collectors to `url` with `tls` keys.
    fn once(dir: &Scratch, name: &str, url: &str, tls: &str) -> (Option<i32>, String, PathBuf) {
        let spool = dir.0.join(format!("spool-{name}"));
        let cfg = dir.write(
            &format!("{name}.toml"),
            &format!(
                "[collectors]\ndefaults = false\nloadavg = true\nmeminfo = true\n\n\
                 [push]\nurl = \"{url}\"\nspool = \"{}\"\n{tls}",
                spool.display()
            ),
        );
        let out = common::run(&["--once", "--config", cfg.to_str().unwrap()]);
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned(), spool)
    }

    /// An untrusted server keeps the cycle in the spool; with the CA file
    /// the same bytes arrive, with the next cycle, and nothing else.
    #[test]
    fn https_with_a_ca_file_delivers_what_an_untrusted_server_could_not_get() {
        let dir = Scratch::new("push-https");
        let pki = make_pki(&dir.0);
        let r = start_tls_prometheus(&dir.0, &pki);
        let url = format!("https://{}/api/v1/write", r.addr);
        let client = format!(
            "cert_file = \"{}\"\nkey_file = \"{}\"\n",
            pki.join("client.crt").display(),
            pki.join("client.key").display()
        );
        // The system's bundle does not know the test's CA.
        let (code, err, spool) = once(&dir, "untrusted", &url, &client);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("UnknownIssuer"), "{err}");
        let kept = read_spool(&spool);
        assert!(!kept.is_empty(), "the cycle is spooled");
        assert!(stored(&r, &pki).is_empty(), "nothing reached Prometheus");

        let trusted = format!("{client}ca_file = \"{}\"\n", pki.join("ca.crt").display());
        let cfg = dir.write("trusted.toml", &std::fs::read_to_string(dir.0.join("untrusted.toml")).unwrap());
        let text = std::fs::read_to_string(&cfg).unwrap().replace(&client, &trusted);
        std::fs::write(&cfg, text).unwrap();
        let out = common::run(&["--once", "--config", cfg.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(read_spool(&spool).is_empty(), "the spool is drained");
        let held = stored(&r, &pki);
        let kept = as_stored(&kept);
        for (k, bits) in &kept {
            assert_eq!(held.get(k), Some(bits), "spooled sample not delivered: {k:?}");
        }
        let times: BTreeSet<i64> = held.keys().map(|(_, ts)| *ts).collect();
        assert_eq!(times.len(), 2, "the kept cycle and this one, nothing else: {times:?}");
        assert!(held.len() > kept.len(), "this cycle's samples arrived too");
    }

    /// The certificate must be valid for the name (or `server_name`), the
    /// server's demand for a client certificate is met only with one, and
    /// an unreadable CA file stops the push with its name.
    #[test]
    fn https_checks_the_name_and_presents_the_client_certificate() {
        let dir = Scratch::new("push-https-name");
        let pki = make_pki(&dir.0);
        let r = start_tls_prometheus(&dir.0, &pki);
        let p = |f: &str| pki.join(f).display().to_string();
        let ca = format!("ca_file = \"{}\"\n", p("ca.crt"));
        let client = format!("{ca}cert_file = \"{}\"\nkey_file = \"{}\"\n", p("client.crt"), p("client.key"));
        let by_name = format!("https://localhost:{}/api/v1/write", r.addr.port());

        let (code, err, _) = once(&dir, "wrong-name", &by_name, &client);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("not valid for name \"localhost\""), "{err}");

        let (code, err, _) = once(&dir, "server-name", &by_name, &format!("{client}server_name = \"receiver.test\"\n"));
        assert_eq!(code, Some(0), "{err}");

        let url = format!("https://{}/api/v1/write", r.addr);
        let (code, err, spool) = once(&dir, "no-client-cert", &url, &ca);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("received fatal alert"), "{err}");
        assert!(!read_spool(&spool).is_empty(), "a refused handshake keeps the cycle");

        let missing = dir.0.join("no-such-ca.pem");
        let (code, err, _) = once(&dir, "missing-ca", &url, &format!("ca_file = \"{}\"\n", missing.display()));
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&missing.display().to_string()), "{err}");
    }

    /// A receiver whose kernel takes the connection but whose program never
    /// answers the handshake: the push gives up at its timeout, keeps the
    /// cycle, and sonde exits, rather than waiting on the handshake's
    /// reads for ever.
    #[test]
    fn https_to_a_silent_receiver_gives_up_at_the_timeout() {
        let dir = Scratch::new("push-https-silent");
        let pki = make_pki(&dir.0);
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}/api/v1/write", silent.local_addr().unwrap());
        let spool = dir.0.join("spool");
        let cfg = dir.write(
            "silent.toml",
            &format!(
                "[collectors]\ndefaults = false\nloadavg = true\n\n[push]\nurl = \"{url}\"\ntimeout = \"1s\"\n\
                 spool = \"{}\"\nca_file = \"{}\"\n",
                spool.display(),
                pki.join("ca.crt").display()
            ),
        );
        let mut child = common::sonde_command()
            .args(["--once", "--config", cfg.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_for("sonde --once to give up on the silent receiver", Duration::from_secs(20), || {
            child.try_wait().unwrap()
        });
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert_eq!(status.code(), Some(1), "{err}");
        assert!(err.contains("timed out") || err.contains("os error 11"), "{err}");
        assert!(!read_spool(&spool).is_empty(), "the cycle is kept");
        drop(silent);
    }
}
