//! The unbound collector against a real unbound from Debian's package.
//!
//! Each test starts its own unbound on loopback, on free ports, with its
//! control socket in a scratch directory, so a system unbound is neither
//! used nor disturbed. Its config answers everything itself: a static
//! local zone `test.` (`a.test` has A, AAAA and TXT; other names are
//! NXDOMAIN), and a forward zone `fail.` to a loopback address that
//! `do-not-query-localhost` forbids, so its queries get SERVFAIL at once.
//! No query leaves the machine. Known queries are sent with dig, then
//! sonde's values are compared with what `unbound-control stats_noreset`
//! prints just before and just after the scrape, over the unix socket and
//! over plain TCP (`control-use-cert: no`). The failure modes (unbound
//! stopped, a socket that never answers, a reply cut mid-line, garbage)
//! are scripted peers, as no real unbound does them on demand.
//!
//! unbound runs as root here (`username: ""`); these tests fail, never
//! skip, without unbound or dig (`tests/setup.sh` installs them).

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_tcp_port, run, value, wait_for, Scratch, Sonde};

const UNBOUND: &str = "/usr/sbin/unbound";
const UNBOUND_CONTROL: &str = "/usr/sbin/unbound-control";

fn require_unbound() {
    assert!(
        Path::new(UNBOUND).is_file() && Path::new(UNBOUND_CONTROL).is_file(),
        "unbound or unbound-control not found: run tests/setup.sh (Debian package unbound)"
    );
    assert!(common::which("dig").is_some(), "dig not found: run tests/setup.sh (Debian package bind9-dnsutils)");
}

/// A UDP port free on 127.0.0.1 right now.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An unbound in the foreground, killed when dropped.
struct Unbound {
    child: Option<Child>,
    dir: Scratch,
    conf: PathBuf,
    dns_port: u16,
    control_port: u16,
}

impl Unbound {
    fn start(name: &str, extended: bool) -> Unbound {
        Unbound::start_with(name, extended, false)
    }

    /// With `tls`, the control channel is TCP only, with
    /// unbound-control-setup's certificates in the scratch directory.
    fn start_with(name: &str, extended: bool, tls: bool) -> Unbound {
        require_unbound();
        let dir = Scratch::new(name);
        let dns_port = free_udp_port();
        let control_port = free_tcp_port();
        let w = dir.0.display();
        let control = if tls {
            let out = Command::new("unbound-control-setup").arg("-d").arg(&dir.0).output().unwrap();
            assert!(out.status.success(), "unbound-control-setup: {}", String::from_utf8_lossy(&out.stderr));
            format!(
                "  control-interface: 127.0.0.1\n  control-port: {control_port}\n  control-use-cert: yes\n\
                 \x20 server-key-file: {w}/unbound_server.key\n  server-cert-file: {w}/unbound_server.pem\n\
                 \x20 control-key-file: {w}/unbound_control.key\n  control-cert-file: {w}/unbound_control.pem\n"
            )
        } else {
            format!(
                "  control-interface: {w}/unbound.ctl\n  control-interface: 127.0.0.1\n  control-port: {control_port}\n\
                 \x20 control-use-cert: no\n"
            )
        };
        let conf = dir.write(
            "unbound.conf",
            &format!(
                "server:\n  interface: 127.0.0.1@{dns_port}\n  port: {dns_port}\n  do-ip6: no\n  do-tcp: no\n\
                 \x20 access-control: 127.0.0.0/8 allow\n  username: \"\"\n  chroot: \"\"\n  directory: \"{w}\"\n\
                 \x20 pidfile: \"{w}/unbound.pid\"\n  do-daemonize: no\n  use-syslog: no\n  logfile: \"\"\n\
                 \x20 verbosity: 1\n  module-config: \"iterator\"\n  do-not-query-localhost: yes\n\
                 \x20 extended-statistics: {}\n  statistics-cumulative: no\n  num-threads: 2\n\
                 \x20 local-zone: \"test.\" static\n  local-data: \"a.test. 60 IN A 127.0.0.10\"\n\
                 \x20 local-data: \"a.test. 60 IN AAAA ::1\"\n  local-data: 'a.test. 60 IN TXT \"hello\"'\n\
                 forward-zone:\n  name: \"fail.\"\n  forward-addr: 127.0.0.1@9\n\
                 remote-control:\n  control-enable: yes\n{control}",
                if extended { "yes" } else { "no" }
            ),
        );
        let log = std::fs::File::create(dir.0.join("unbound.log")).unwrap();
        let child = Command::new(UNBOUND)
            .args(["-d", "-c"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start unbound");
        let u = Unbound { child: Some(child), dir, conf, dns_port, control_port };
        wait_for("unbound's control socket", Duration::from_secs(10), || {
            let out = Command::new(UNBOUND_CONTROL).arg("-c").arg(&u.conf).arg("status").output().unwrap();
            out.status.success().then_some(())
        });
        u
    }

    fn socket(&self) -> PathBuf {
        self.dir.0.join("unbound.ctl")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("unbound.log")).unwrap_or_default()
    }

    /// `[unbound] address` for sonde, and unbound-control's `-s`.
    fn config(&self, name: &str, address: &str) -> PathBuf {
        self.dir.write(
            name,
            &format!("[collectors]\ndefaults = false\nunbound = true\n\n[unbound]\naddress = \"{address}\"\n"),
        )
    }

    /// Sends one query; asserts the answer's status.
    fn query(&self, name: &str, qtype: &str, status: &str) {
        let out = Command::new("dig")
            .args(["+tries=1", "+time=5", "+notcp", "@127.0.0.1", "-p", &self.dns_port.to_string(), name, qtype])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("status: {status},")), "{name} {qtype}: {text}\n{}", self.log());
    }

    /// `unbound-control stats_noreset` through `server` (a path or IP@PORT).
    fn stats(&self, server: &str) -> BTreeMap<String, f64> {
        let out =
            Command::new(UNBOUND_CONTROL).arg("-c").arg(&self.conf).args(["-s", server, "stats_noreset"]).output();
        let out = out.unwrap();
        assert!(out.status.success(), "unbound-control: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap();
                (k.to_owned(), v.parse().unwrap())
            })
            .collect()
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Known queries: 10 in all, 7 of type A, 2 AAAA, 1 TXT; 2 NXDOMAIN,
/// 2 SERVFAIL.
fn send_queries(u: &Unbound) {
    for _ in 0..3 {
        u.query("a.test", "A", "NOERROR");
    }
    for _ in 0..2 {
        u.query("a.test", "AAAA", "NOERROR");
    }
    u.query("a.test", "TXT", "NOERROR");
    for _ in 0..2 {
        u.query("nx.test", "A", "NXDOMAIN");
        u.query("x.fail", "A", "SERVFAIL");
    }
}

/// The series sonde writes for an unbound-control key, as the letsencrypt
/// exporter names it; None for the keys it does not export.
fn series(key: &str) -> Option<String> {
    if let Some(rest) = key.strip_prefix("thread") {
        let (n, suffix) = rest.split_once('.')?;
        let name = match suffix {
            "num.queries" => "unbound_queries_total",
            "num.cachehits" => "unbound_cache_hits_total",
            "num.cachemiss" => "unbound_cache_misses_total",
            "num.prefetch" => "unbound_prefetches_total",
            "num.expired" => "unbound_expired_total",
            "num.recursivereplies" => "unbound_recursive_replies_total",
            "requestlist.overwritten" => "unbound_request_list_overwritten_total",
            "requestlist.exceeded" => "unbound_request_list_exceeded_total",
            "requestlist.current.all" => "unbound_request_list_current_all",
            "requestlist.current.user" => "unbound_request_list_current_user",
            _ => return None,
        };
        return Some(format!("{name}{{thread=\"{n}\"}}"));
    }
    for (prefix, name, label) in [
        ("num.query.type.", "unbound_query_types_total", "type"),
        ("num.query.class.", "unbound_query_classes_total", "class"),
        ("num.query.opcode.", "unbound_query_opcodes_total", "opcode"),
        ("num.query.flags.", "unbound_query_flags_total", "flag"),
        ("num.answer.rcode.", "unbound_answer_rcodes_total", "rcode"),
        ("num.query.aggressive.", "unbound_query_aggressive_nsec", "rcode"),
        ("mem.cache.", "unbound_memory_caches_bytes", "cache"),
        ("mem.mod.", "unbound_memory_modules_bytes", "module"),
        ("mem.http.", "unbound_memory_doh_bytes", "buffer"),
    ] {
        if let Some(l) = key.strip_prefix(prefix) {
            return Some(format!("{name}{{{label}=\"{l}\"}}"));
        }
    }
    let name = match key {
        "total.recursion.time.avg" => "unbound_recursion_time_seconds_avg",
        "total.recursion.time.median" => "unbound_recursion_time_seconds_median",
        "time.up" => "unbound_time_up_seconds_total",
        "time.now" => "unbound_time_now_seconds",
        "num.query.tcp" => "unbound_query_tcp_total",
        "num.query.udpout" => "unbound_query_udpout_total",
        "num.query.ipv6" => "unbound_query_ipv6_total",
        "num.query.edns.present" => "unbound_query_edns_present_total",
        "num.query.edns.DO" => "unbound_query_edns_DO_total",
        "num.answer.secure" => "unbound_answers_secure_total",
        "num.answer.bogus" => "unbound_answers_bogus",
        "num.rrset.bogus" => "unbound_rrset_bogus_total",
        "unwanted.queries" => "unbound_unwanted_queries_total",
        "unwanted.replies" => "unbound_unwanted_replies_total",
        "msg.cache.count" => "unbound_msg_cache_count",
        "rrset.cache.count" => "unbound_rrset_cache_count",
        "infra.cache.count" => "unbound_infra_cache_count",
        _ => return None,
    };
    Some(name.to_owned())
}

/// Every exported key of `before` whose sonde value is not between its
/// values before and after; and the number of keys compared.
fn compare(text: &str, before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> (Vec<String>, usize) {
    let mut wrong = Vec::new();
    let mut compared = 0;
    for (key, &b) in before {
        let Some(series) = series(key) else { continue };
        let a = after.get(key).copied().unwrap_or(f64::NAN);
        compared += 1;
        match value(text, &series) {
            Some(v) if v >= b.min(a) - 1e-6 && v <= b.max(a) + 1e-6 => {}
            got => wrong.push(format!("{key} = {b} .. {a}; sonde {series} = {got:?}")),
        }
    }
    // The histogram: Unbound's buckets, cumulated.
    let mut cumulative = (0.0, 0.0);
    for (key, &b) in before.iter().filter(|(k, _)| k.starts_with("histogram.")) {
        let a = after.get(key).copied().unwrap_or(f64::NAN);
        cumulative = (cumulative.0 + b, cumulative.1 + a);
        let upper: f64 = key.split(".to.").nth(1).unwrap().parse().unwrap();
        let Some(v) = text.lines().find_map(|l| {
            let rest = l.strip_prefix("unbound_response_time_seconds_bucket{le=\"")?;
            let (le, v) = rest.split_once("\"} ")?;
            (le.parse::<f64>().ok()? == upper).then(|| v.parse::<f64>().unwrap())
        }) else {
            wrong.push(format!("no bucket for {key}"));
            continue;
        };
        compared += 1;
        if v < cumulative.0 || v > cumulative.1 {
            wrong.push(format!("{key}: cumulative {cumulative:?}; sonde {v}"));
        }
    }
    (wrong, compared)
}

/// Scrapes with `config` between two `stats_noreset` through `server`,
/// until they agree (at most three times); returns the scrape's text.
fn scrape_between(u: &Unbound, config: &Path, server: &str) -> String {
    let mut last = Vec::new();
    for _ in 0..3 {
        let before = u.stats(server);
        let out = run(&["--once", "--config", config.to_str().unwrap()]);
        let after = u.stats(server);
        let text = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "sonde --once failed:\n{stderr}\n{text}");
        assert_eq!(value(&text, "sonde_collector_success{collector=\"unbound\"}"), Some(1.0), "{stderr}");
        let (wrong, compared) = compare(&text, &before, &after);
        assert!(compared > 20, "only {compared} keys compared:\n{text}");
        last = wrong;
        if last.is_empty() {
            return text;
        }
    }
    panic!("sonde and unbound-control disagree:\n{}\nunbound's log:\n{}", last.join("\n"), u.log());
}

/// `promtool check metrics` on `text`: nothing found but what
/// compatibility explains (common::promtool_check).
fn promtool_check_inherited(text: &str) {
    common::promtool_check(text);
}

/// The counts the test's queries must give, whoever reads them.
fn assert_known_counts(text: &str) {
    let sum = |name: &str| -> f64 {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{thread=")))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    };
    assert_eq!(sum("unbound_queries_total"), 10.0, "{text}");
    assert_eq!(value(text, "unbound_query_types_total{type=\"A\"}"), Some(7.0));
    assert_eq!(value(text, "unbound_query_types_total{type=\"AAAA\"}"), Some(2.0));
    assert_eq!(value(text, "unbound_query_types_total{type=\"TXT\"}"), Some(1.0));
    assert_eq!(value(text, "unbound_answer_rcodes_total{rcode=\"NXDOMAIN\"}"), Some(2.0));
    assert_eq!(value(text, "unbound_answer_rcodes_total{rcode=\"SERVFAIL\"}"), Some(2.0));
    assert_eq!(value(text, "unbound_answer_rcodes_total{rcode=\"NOERROR\"}"), Some(6.0));
    assert_eq!(value(text, "unbound_up"), Some(1.0));
}

#[test]
fn unix_socket_scrape_equals_unbound_control() {
    let u = Unbound::start("unbound-unix", true);
    send_queries(&u);
    let socket = u.socket();
    let config = u.config("unix.toml", &format!("unix:{}", socket.display()));
    let text = scrape_between(&u, &config, socket.to_str().unwrap());
    assert_known_counts(&text);
    assert!(text.contains("unbound_queries_total{thread=\"1\"}"), "two threads:\n{text}");
    // The first SERVFAIL recursed; the second came from the cache.
    assert_eq!(value(&text, "unbound_response_time_seconds_count"), Some(1.0));
    promtool_check_inherited(&text);
    // stats_noreset reset nothing: a second scrape still sees them all.
    let text = scrape_between(&u, &config, socket.to_str().unwrap());
    assert_known_counts(&text);
}

#[test]
fn tcp_scrape_equals_unbound_control() {
    let u = Unbound::start("unbound-tcp", true);
    send_queries(&u);
    let config = u.config("tcp.toml", &format!("127.0.0.1:{}", u.control_port));
    let text = scrape_between(&u, &config, &format!("127.0.0.1@{}", u.control_port));
    assert_known_counts(&text);
    promtool_check_inherited(&text);
}

#[test]
fn without_extended_statistics_only_the_basic_families() {
    let u = Unbound::start("unbound-basic", false);
    send_queries(&u);
    let config = u.config("tcp.toml", &format!("127.0.0.1:{}", u.control_port));
    let text = scrape_between(&u, &config, &format!("127.0.0.1@{}", u.control_port));
    assert!(!text.contains("unbound_response_time_seconds"), "{text}");
    assert!(!text.contains("unbound_query_types_total"), "{text}");
    let sum: f64 = text
        .lines()
        .filter(|l| l.starts_with("unbound_queries_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(sum, 10.0);
}

/// A stopped unbound: the socket file may stay behind, the port is closed.
#[test]
fn stopped_unbound_is_a_failure_not_a_hang() {
    let mut u = Unbound::start("unbound-stopped", true);
    let unix = u.config("unix.toml", &format!("unix:{}", u.socket().display()));
    let tcp = u.config("tcp.toml", &format!("127.0.0.1:{}", u.control_port));
    u.kill();
    for config in [&unix, &tcp] {
        let out = run(&["--once", "--config", config.to_str().unwrap()]);
        let text = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(value(&text, "sonde_collector_success{collector=\"unbound\"}"), Some(0.0), "{text}");
        assert_eq!(value(&text, "unbound_up"), Some(0.0));
        assert!(stderr.contains("collector unbound failed"), "{stderr}");
    }
}

/// What a scripted control peer does with each connection.
#[derive(Clone, Copy)]
enum Script {
    /// Accepts, reads the request and never answers.
    Silent,
    /// Answers with these bytes, then closes.
    Reply(&'static [u8]),
}

/// Serves `script` on a unix socket and a TCP port until the test ends;
/// the requests seen are sent back on the channel.
fn scripted(dir: &Scratch, script: Script) -> (PathBuf, u16, std::sync::mpsc::Receiver<Vec<u8>>) {
    let path = dir.0.join("fake.ctl");
    let unix = UnixListener::bind(&path).unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = tcp.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    fn serve<S: Read + Write + Send + 'static>(mut s: S, script: Script, tx: std::sync::mpsc::Sender<Vec<u8>>) {
        std::thread::spawn(move || {
            let mut request = Vec::new();
            let mut byte = [0u8];
            while request.len() < 64 && s.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
                if byte[0] == b'\n' {
                    break;
                }
            }
            let _ = tx.send(request);
            match script {
                Script::Silent => std::thread::sleep(Duration::from_secs(60)),
                Script::Reply(bytes) => {
                    let _ = s.write_all(bytes);
                }
            }
        });
    }
    let t = tx.clone();
    std::thread::spawn(move || {
        for s in unix.incoming().map_while(Result::ok) {
            serve(s, script, t.clone());
        }
    });
    std::thread::spawn(move || {
        for s in tcp.incoming().map_while(Result::ok) {
            serve(s, script, tx.clone());
        }
    });
    (path, port, rx)
}

const CAPTURED: &[u8] = include_bytes!("fixtures/unbound/1.17.1/stats_noreset.txt");

fn scripted_failure(name: &str, script: Script, says: &str) {
    let dir = Scratch::new(name);
    let (path, port, requests) = scripted(&dir, script);
    let unix =
        dir.write("unix.toml", &format!("[unbound]\naddress = \"unix:{}\"\ntimeout = \"300ms\"\n", path.display()));
    let tcp = dir.write("tcp.toml", &format!("[unbound]\naddress = \"127.0.0.1:{port}\"\ntimeout = \"300ms\"\n"));
    for config in [&unix, &tcp] {
        let sonde = Sonde::start(&["--config", config.to_str().unwrap()]);
        let r = sonde.get("/metrics");
        assert_eq!(r.status, 200);
        let text = r.text();
        assert_eq!(value(text, "sonde_collector_success{collector=\"unbound\"}"), Some(0.0), "{text}");
        assert_eq!(value(text, "unbound_up"), Some(0.0));
        assert!(!text.contains("unbound_queries_total"), "{text}");
        // The host collectors are unaffected.
        assert_eq!(value(text, "node_scrape_collector_success{collector=\"meminfo\"}"), Some(1.0));
        let line = sonde.wait_line(|l| l.contains("collector unbound failed"), Duration::from_secs(10));
        assert!(line.as_ref().is_some_and(|l| l.contains(says)), "{line:?}\n{}", sonde.stderr());
        // What it asked: unbound-control's command, which resets nothing.
        let request = requests.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(request, b"UBCT1 stats_noreset\n");
    }
}

#[test]
fn a_socket_that_never_answers_fails_within_the_deadline() {
    scripted_failure("unbound-silent", Script::Silent, "stats_noreset");
}

#[test]
fn a_reply_cut_mid_line_is_a_failure() {
    // Cut inside the value of the 40th line.
    static CUT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let at = CAPTURED.iter().enumerate().filter(|(_, &b)| b == b'\n').nth(39).unwrap().0 - 1;
    let cut: &'static [u8] = CUT.get_or_init(|| CAPTURED[..at].to_vec());
    scripted_failure("unbound-cut", Script::Reply(cut), "ends mid-line");
}

#[test]
fn a_reply_of_garbage_is_a_failure() {
    scripted_failure("unbound-garbage", Script::Reply(b"\x16\x03\x01\x00\xa5garbage\nmore=garbage=\n"), "line 1");
}

#[test]
fn an_error_reply_is_a_failure() {
    scripted_failure("unbound-error", Script::Reply(b"error version mismatch\n"), "error");
}

/// An unbound.conf for the namespace tests: DNS on 127.0.0.1:53, the
/// control interfaces given.
fn namespace_conf(dir: &Scratch, name: &str, control: &str) -> PathBuf {
    let w = dir.0.display();
    dir.write(
        name,
        &format!(
            "server:\n  interface: 127.0.0.1\n  do-ip6: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"{w}\"\n\
             \x20 pidfile: \"{w}/unbound.pid\"\n  do-daemonize: no\n  use-syslog: no\n  logfile: \"\"\n\
             \x20 module-config: \"iterator\"\nremote-control:\n  control-enable: yes\n{control}"
        ),
    )
}

/// Runs `script` in a new network and mount namespace with a fresh /run
/// and loopback up, so unbound may use the default socket path and port
/// 8953 beside any system unbound; `start_unbound CONF` starts one and
/// waits for its control channel. Returns what the script printed.
fn in_namespace(dir: &Scratch, script: &str) -> (String, String) {
    require_unbound();
    let runner = std::env::var("SONDE_RUNNER").unwrap_or_default();
    let prelude = format!(
        "set -eu\nmount -t tmpfs none /run\nfor d in /etc/chrony /etc/unbound; do [ ! -d $d ] || mount -t tmpfs none $d; done\n\
         ip link set lo up\nSONDE=\"{runner} {}\"\nW={}\n\
         start_unbound() {{\n  {UNBOUND} -d -c \"$1\" >$W/unbound.log 2>&1 &\n  pid=$!\n  trap 'kill $pid' EXIT\n  \
         i=0\n  until {UNBOUND_CONTROL} -c \"$1\" status >/dev/null 2>&1; do\n    \
         i=$((i+1)); [ $i -lt 200 ] || {{ cat $W/unbound.log >&2; exit 9; }}; sleep 0.05\n  done\n}}\n",
        common::bin().display(),
        dir.0.display()
    );
    common::in_new_namespace(&format!("{prelude}{script}"))
}

#[test]
fn auto_without_unbound_reports_nothing_and_success() {
    let dir = Scratch::new("unbound-auto-none");
    let (text, stderr) = in_namespace(&dir, "$SONDE --once\n");
    assert_eq!(value(&text, "sonde_collector_success{collector=\"unbound\"}"), Some(1.0), "{stderr}");
    assert!(!text.contains("\nunbound_"), "no unbound families without unbound:\n{text}");
    assert!(!stderr.contains("unbound"), "{stderr}");
}

/// See: issue 13, "unbound_up the same". An Unbound that was there and is
/// gone is down, however it went: stopped cleanly (SIGTERM removes its
/// control socket), killed (SIGKILL leaves it, refusing) or hung
/// (SIGSTOP). A running sonde has seen it answer; a `--once` from cron
/// knows it from the box's set-up (its config file) or the socket left.
#[test]
fn an_unbound_that_was_there_and_is_gone_is_down() {
    let dir = Scratch::new("unbound-gone");
    let conf = namespace_conf(&dir, "unbound.conf", "  control-interface: /run/unbound.ctl\n");
    let script = format!(
        r#"
up() {{ echo "$(printf '%s\n' "$1" | grep -E '^(unbound_up|sonde_collector_success\{{collector="unbound"\}}) ' | tr '\n' ' ')"; }}
scrape() {{ curl -sf http://127.0.0.1:9858/metrics; }}
stop() {{
  kill -$1 $pid
  if [ $1 = STOP ]; then return; fi
  wait $pid || true
}}
gone() {{ [ $1 != STOP ] || kill -KILL $pid; wait $pid 2>/dev/null || true; rm -f /run/unbound.ctl; }}
$SONDE --listen 127.0.0.1:9858 --no-collector chrony >$W/sonde.out 2>$W/sonde.err &
S=$!
i=0; until scrape >/dev/null; do i=$((i+1)); [ $i -lt 300 ] || exit 8; sleep 0.05; done
for sig in TERM KILL STOP; do
  start_unbound {conf}
  echo "running $sig before: $(up "$(scrape)")"
  stop $sig
  echo "running $sig after: $(up "$(scrape)")"
  gone $sig
done
kill $S
echo '# unbound, as the package leaves it' > /etc/unbound/unbound.conf
for sig in TERM KILL STOP; do
  start_unbound {conf}
  stop $sig
  set +e; out=$($SONDE --once --no-collector chrony 2>/dev/null); code=$?; set -e
  echo "once $sig: $(up "$out")exit $code"
  gone $sig
done
trap - EXIT
"#,
        conf = conf.display()
    );
    let (text, stderr) = in_namespace(&dir, &script);
    for sig in ["TERM", "KILL", "STOP"] {
        let line = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("{prefix}: {text}\n{stderr}"))
                .to_owned()
        };
        let before = line(&format!("running {sig} before:"));
        assert!(before.contains("unbound_up 1") && before.contains("} 1"), "{before}");
        let after = line(&format!("running {sig} after:"));
        assert!(after.contains("unbound_up 0 sonde_collector_success{collector=\"unbound\"} 0"), "{after}");
        let once = line(&format!("once {sig}:"));
        assert!(once.contains("unbound_up 0 sonde_collector_success{collector=\"unbound\"} 0 exit 1"), "{once}");
    }
}

#[test]
fn auto_finds_unbound_on_the_debian_socket() {
    let dir = Scratch::new("unbound-auto-unix");
    let conf = namespace_conf(&dir, "unbound.conf", "  control-interface: /run/unbound.ctl\n");
    let (text, stderr) = in_namespace(&dir, &format!("start_unbound {}\n$SONDE --once\n", conf.display()));
    assert_eq!(value(&text, "sonde_collector_success{collector=\"unbound\"}"), Some(1.0), "{stderr}");
    assert_eq!(value(&text, "unbound_up"), Some(1.0), "{text}");
    assert!(text.contains("unbound_queries_total{thread=\"0\"} 0\n"), "{text}");
}

#[test]
fn auto_falls_back_to_plain_tcp_on_8953() {
    let dir = Scratch::new("unbound-auto-tcp");
    let conf = namespace_conf(
        &dir,
        "unbound.conf",
        "  control-interface: 127.0.0.1\n  control-port: 8953\n  control-use-cert: no\n",
    );
    let (text, stderr) = in_namespace(&dir, &format!("start_unbound {}\n$SONDE --once\n", conf.display()));
    assert_eq!(value(&text, "sonde_collector_success{collector=\"unbound\"}"), Some(1.0), "{stderr}");
    assert_eq!(value(&text, "unbound_up"), Some(1.0), "{text}");
}

/// An Unbound whose control port speaks TLS (unbound-control-setup's
/// certificates): sonde, without TLS, is refused and says it failed.
#[test]
fn auto_with_a_tls_control_port_is_a_failure() {
    let dir = Scratch::new("unbound-auto-tls");
    let w = dir.0.display();
    let conf = namespace_conf(
        &dir,
        "unbound.conf",
        &format!(
            "  control-interface: 127.0.0.1\n  control-port: 8953\n  control-use-cert: yes\n\
             \x20 server-key-file: {w}/unbound_server.key\n  server-cert-file: {w}/unbound_server.pem\n\
             \x20 control-key-file: {w}/unbound_control.key\n  control-cert-file: {w}/unbound_control.pem\n"
        ),
    );
    let script = format!(
        "unbound-control-setup -d $W >/dev/null 2>&1\nstart_unbound {}\n$SONDE --once || true\n",
        conf.display()
    );
    let (text, stderr) = in_namespace(&dir, &script);
    assert_eq!(value(&text, "sonde_collector_success{collector=\"unbound\"}"), Some(0.0), "{stderr}\n{text}");
    assert_eq!(value(&text, "unbound_up"), Some(0.0), "{text}");
    assert!(stderr.contains("collector unbound failed"), "{stderr}");
}

/// Over TLS with unbound-control-setup's certificates, as unbound-control
/// itself connects (cargo feature `tls`).
#[cfg(feature = "tls")]
#[test]
fn tls_scrape_equals_unbound_control() {
    let u = Unbound::start_with("unbound-tls", true, true);
    send_queries(&u);
    let w = u.dir.0.display();
    let config = u.dir.write(
        "tls.toml",
        &format!(
            "[collectors]\ndefaults = false\nunbound = true\n\n[unbound]\naddress = \"127.0.0.1:{}\"\n\
             server_cert_file = \"{w}/unbound_server.pem\"\ncontrol_cert_file = \"{w}/unbound_control.pem\"\n\
             control_key_file = \"{w}/unbound_control.key\"\n",
            u.control_port
        ),
    );
    let text = scrape_between(&u, &config, &format!("127.0.0.1@{}", u.control_port));
    assert_known_counts(&text);
    // Without a client certificate the server refuses: a plain request to
    // the TLS port is a failure, not a hang.
    let plain = u.config("plain.toml", &format!("127.0.0.1:{}", u.control_port));
    let out = run(&["--once", "--config", plain.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(value(&text, "sonde_collector_success{collector=\"unbound\"}"), Some(0.0), "{text}");
    // A certificate other than the pinned one is refused.
    let other = Scratch::new("unbound-tls-other");
    let out = Command::new("unbound-control-setup").arg("-d").arg(&other.0).output().unwrap();
    assert!(out.status.success());
    let wrong = u.dir.write(
        "wrong.toml",
        &format!(
            "[collectors]\ndefaults = false\nunbound = true\n\n[unbound]\naddress = \"127.0.0.1:{}\"\n\
             server_cert_file = \"{}/unbound_server.pem\"\ncontrol_cert_file = \"{w}/unbound_control.pem\"\n\
             control_key_file = \"{w}/unbound_control.key\"\n",
            u.control_port,
            other.0.display()
        ),
    );
    let out = run(&["--once", "--config", wrong.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(value(&text, "sonde_collector_success{collector=\"unbound\"}"), Some(0.0), "{text}");
    assert!(stderr.contains("UnknownIssuer") || stderr.contains("invalid peer certificate"), "{stderr}");
}
