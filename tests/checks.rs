//! Service checks against real servers, and against the network failures
//! they must tell apart.
//!
//! The peers are Debian's: unbound (an answer, NXDOMAIN, a TXT set too big
//! for 512 bytes that needs TCP), chronyd serving its local clock at
//! stratum 8, OpenSMTPD for the SMTP banner dialogue and OpenSSH's sshd
//! for the SSH banner, each started by the test on a free loopback port.
//! Failure modes are made real in a network namespace the test creates,
//! with nftables rules (DROP: timeout; REJECT admin-prohibited: no route;
//! nothing listening: refused) and a name that resolves to 127.0.0.1 and
//! ::1 where only IPv4 listens (`ip netns exec` mounts
//! `/etc/netns/NS/hosts` over `/etc/hosts`). A UDP socket in the test
//! plays a DNS server answering garbage.
//!
//! sonde runs `--once` with a config of checks, so each test reads one
//! exposition; these tests need root (chronyd, smtpd, sshd, namespaces) and
//! fail, never skip, without it or the packages (tests/setup.sh).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_tcp_port, probe_value, promtool_check, wait_for, Scratch};

fn need(path: &str, package: &str) {
    assert!(Path::new(path).exists(), "{path} not found: run tests/setup.sh (Debian package {package})");
}

/// A daemon in the foreground, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(cmd: &mut Command, log: &Path) -> Daemon {
    let out = std::fs::File::create(log).unwrap();
    Daemon(cmd.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out).spawn().unwrap())
}

/// A port free for both UDP and TCP on 127.0.0.1 right now.
fn free_port() -> u16 {
    loop {
        let p = free_tcp_port();
        if UdpSocket::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

/// `sonde --once --config CONFIG` (optionally inside a namespace): its
/// stdout, after checking the exit code says whether a check failed.
fn once(ns: Option<&str>, config: &Path, any_failed: bool) -> String {
    let mut c = match ns {
        Some(ns) => in_netns(ns),
        None => common::sonde_command(),
    };
    let out = c.arg("--once").arg("--config").arg(config).stdin(Stdio::null()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(if any_failed { 1 } else { 0 }), "stderr:\n{err}\nstdout:\n{text}");
    assert!(!err.contains("panicked"), "{err}");
    text
}

/// The binary under test in network namespace `ns` (through
/// `$SONDE_RUNNER` when set, as [`common::sonde_command`]).
fn in_netns(ns: &str) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]);
    if let Some(runner) = std::env::var_os("SONDE_RUNNER").filter(|r| !r.is_empty()) {
        c.arg(runner);
    }
    c.arg(common::bin());
    c
}

const NO_COLLECTORS: &str = "[collectors]\ndefaults = false\n";

fn tcp_port_open(port: u16) -> Option<()> {
    std::net::TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
}

#[test]
fn dns_checks_against_unbound_answer_nxdomain_and_fall_back_to_tcp() {
    need("/usr/sbin/unbound", "unbound");
    let dir = Scratch::new("checks-unbound");
    let port = free_port();
    let mut conf = format!(
        "server:\n  interface: 127.0.0.1@{port}\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  \
         directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  logfile: \"\"\n  do-ip6: no\n  \
         access-control: 127.0.0.0/8 allow\n  module-config: \"iterator\"\n  local-zone: \"example.test.\" static\n  \
         local-data: \"www.example.test. 300 IN A 192.0.2.10\"\n",
        d = dir.0.display()
    );
    for i in 0..30 {
        conf.push_str(&format!("  local-data: 'big.example.test. 60 IN TXT \"record {i} padding padding padding\"'\n"));
    }
    let conf = dir.write("unbound.conf", &conf);
    let _unbound = spawn(Command::new("/usr/sbin/unbound").arg("-d").arg("-c").arg(&conf), &dir.0.join("unbound.log"));
    wait_for("unbound", Duration::from_secs(10), || tcp_port_open(port));

    let t = format!("target = \"127.0.0.1:{port}\"\nkind = \"dns\"\n");
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "{NO_COLLECTORS}\
             [[check]]\nname = \"answer\"\n{t}query_name = \"www.example.test\"\nexpect_answers = [\"192.0.2.10\"]\n\
             [[check]]\nname = \"wrong_answer\"\n{t}query_name = \"www.example.test\"\nexpect_answers = [\"192.0.2.99\"]\n\
             [[check]]\nname = \"nx\"\n{t}query_name = \"nothere.example.test\"\n\
             [[check]]\nname = \"nx_expected\"\n{t}query_name = \"nothere.example.test\"\nvalid_rcodes = [\"NXDOMAIN\"]\n\
             [[check]]\nname = \"big\"\n{t}query_name = \"big.example.test\"\nquery_type = \"TXT\"\nedns_udp_size = 0\n\
             [[check]]\nname = \"big_udp\"\n{t}query_name = \"big.example.test\"\nquery_type = \"TXT\"\nedns_udp_size = 0\ntransport = \"udp\"\n\
             [[check]]\nname = \"big_tcp\"\n{t}query_name = \"big.example.test\"\nquery_type = \"TXT\"\ntransport = \"tcp\"\n"
        ),
    );
    let text = once(None, &cfg, true);
    promtool_check(&text);
    let ok =
        |check: &str| format!("probe_success{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"\"}}");
    let failed = |check: &str, reason: &str| {
        format!("probe_success{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"{reason}\"}}")
    };
    let series = |name: &str, check: &str| format!("{name}{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\"}}");
    assert_eq!(probe_value(&text, &ok("answer")), Some(1.0), "{text}");
    assert_eq!(probe_value(&text, &series("probe_dns_answer_rrs", "answer")), Some(1.0));
    assert_eq!(probe_value(&text, &failed("wrong_answer", "unexpected_reply")), Some(0.0), "{text}");
    assert_eq!(probe_value(&text, &failed("nx", "bad_rcode")), Some(0.0), "{text}");
    assert_eq!(probe_value(&text, &series("probe_dns_rcode", "nx")), Some(3.0));
    assert_eq!(probe_value(&text, &ok("nx_expected")), Some(1.0));
    // Too big for 512 bytes: TC over UDP, then all 30 records over TCP.
    assert_eq!(probe_value(&text, &ok("big")), Some(1.0), "{text}");
    assert_eq!(probe_value(&text, &series("probe_dns_reply_truncated", "big")), Some(1.0));
    assert_eq!(probe_value(&text, &series("probe_dns_answer_rrs", "big")), Some(30.0));
    assert_eq!(probe_value(&text, &failed("big_udp", "truncated")), Some(0.0), "{text}");
    assert_eq!(probe_value(&text, &ok("big_tcp")), Some(1.0), "{text}");
    assert_eq!(probe_value(&text, &series("probe_dns_answer_rrs", "big_tcp")), Some(30.0));

    // The same through /probe, as a blackbox_exporter job would ask,
    // with the query name in the URL.
    let sonde = common::Sonde::start(&["--config", cfg.to_str().unwrap()]);
    let r = sonde.get(&format!("/probe?module=dns&target=127.0.0.1:{port}&query_name=www.example.test"));
    assert_eq!(r.status, 200, "{}", r.text());
    promtool_check(r.text());
    assert_eq!(probe_value(r.text(), "probe_success{address=\"127.0.0.1\",family=\"ipv4\",reason=\"\"}"), Some(1.0));
    // Prometheus's scrape timeout, less blackbox_exporter's 0.5 s, bounds
    // a module without a timeout of its own; a configured check's own
    // timeout wins when smaller.
    let with_header = |path: &str, seconds: &str| {
        common::request(
            sonde.addr,
            &format!("GET {path} HTTP/1.1\r\nHost: t\r\nX-Prometheus-Scrape-Timeout-Seconds: {seconds}\r\n\r\n"),
        )
    };
    let timeout = "probe_timeout_seconds{address=\"127.0.0.1\",family=\"ipv4\"}";
    let r = with_header(&format!("/probe?module=dns&target=127.0.0.1:{port}&query_name=www.example.test"), "3");
    assert_eq!(probe_value(r.text(), timeout), Some(2.5), "{}", r.text());
    let r = with_header(&format!("/probe?module=answer&target=127.0.0.1:{port}"), "30");
    assert_eq!(probe_value(r.text(), timeout), Some(5.0), "{}", r.text());
    assert_eq!(probe_value(r.text(), "probe_success{address=\"127.0.0.1\",family=\"ipv4\",reason=\"\"}"), Some(1.0));
    // blackbox_exporter's refusals: its status codes, and what was wrong.
    let r = sonde.get(&format!("/probe?module=nope&target=127.0.0.1:{port}"));
    assert_eq!((r.status, r.text()), (400, "Unknown module \"nope\"\n"));
    let r = sonde.get("/probe?module=dns");
    assert_eq!((r.status, r.text()), (400, "Target parameter is missing\n"));
    let r = with_header(&format!("/probe?module=dns&target=127.0.0.1:{port}"), "soon");
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(r.text().starts_with("Failed to parse timeout from Prometheus header"), "{}", r.text());
    // debug=true: blackbox_exporter's plain-text page, the probe told line
    // by line, then the metrics it would have returned, then the module.
    let r =
        with_header(&format!("/probe?module=dns&target=127.0.0.1:{port}&query_name=www.example.test&debug=true"), "3");
    assert_eq!((r.status, r.header("Content-Type")), (200, Some("text/plain; charset=utf-8")));
    let page = r.text();
    let (logs, rest) = page.split_once("\n\n\nMetrics that would have been returned:\n").expect(page);
    let (metrics, module) = rest.split_once("\n\n\nModule configuration:\n").expect(page);
    assert!(logs.starts_with("Logs for the probe:\n"), "{page}");
    assert!(logs.contains("msg=\"Beginning probe\" timeout_seconds=2.5\n"), "{page}");
    assert!(logs.contains("msg=\"Probe succeeded\" address=127.0.0.1:"), "{page}");
    assert_eq!(probe_value(metrics, "probe_success{address=\"127.0.0.1\",family=\"ipv4\",reason=\"\"}"), Some(1.0));
    promtool_check(metrics);
    assert!(module.contains("kind = \"dns\"\nquery_name = \"www.example.test\"\nquery_type = \"A\"\n"), "{page}");
}

/// Each section of a reply held to patterns, as blackbox_exporter's
/// `validate_*_rrs`, against unbound serving a zone file authoritatively:
/// a referral (NS in authority, A and AAAA glue in additional) and an
/// NXDOMAIN (the zone's SOA in authority).
#[test]
fn dns_sections_are_validated_against_unbound_serving_a_zone() {
    need("/usr/sbin/unbound", "unbound");
    let dir = Scratch::new("checks-unbound-zone");
    let port = free_port();
    let zone = dir.write(
        "zone.test.zone",
        "$ORIGIN zone.test.\n@ 3600 IN SOA ns.zone.test. hostmaster.zone.test. 7 3600 900 86400 300\n\
         @ 3600 IN NS ns.zone.test.\nns 3600 IN A 192.0.2.53\nwww 300 IN A 192.0.2.10\n\
         sub 3600 IN NS ns.sub.zone.test.\nns.sub 3600 IN A 192.0.2.54\nns.sub 3600 IN AAAA 2001:db8::54\n",
    );
    // `transparent`, so unbound's built-in `test.` zone lets the
    // auth-zone answer.
    let conf = dir.write(
        "unbound.conf",
        &format!(
            "server:\n  interface: 127.0.0.1@{port}\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  \
             directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  logfile: \"\"\n  do-ip6: no\n  \
             access-control: 127.0.0.0/8 allow\n  module-config: \"iterator\"\n  local-zone: \"zone.test.\" transparent\n\
             auth-zone:\n  name: \"zone.test.\"\n  zonefile: \"{z}\"\n  for-downstream: yes\n  for-upstream: no\n",
            d = dir.0.display(),
            z = zone.display()
        ),
    );
    let _unbound = spawn(Command::new("/usr/sbin/unbound").arg("-d").arg("-c").arg(&conf), &dir.0.join("unbound.log"));
    wait_for("unbound", Duration::from_secs(10), || tcp_port_open(port));

    // No recursion: the referral is the zone's own answer.
    let referral = format!(
        "kind = \"dns\"\ntarget = \"127.0.0.1:{port}\"\nquery_name = \"www.sub.zone.test\"\nrecursion_desired = false\n"
    );
    let nx = format!(
        "kind = \"dns\"\ntarget = \"127.0.0.1:{port}\"\nquery_name = \"nothere.zone.test\"\nvalid_rcodes = [\"NXDOMAIN\"]\n"
    );
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "{NO_COLLECTORS}\
             [[check]]\nname = \"referral\"\n{referral}forbid_answers = [\"\"]\n\
             expect_authority = [\"\\tNS\\tns.sub.zone.test.\"]\nexpect_all_additional = [\"^ns.sub.zone.test.\\t\"]\n\
             expect_additional = [\"\\tA\\t192.0.2.54\", \"\\tAAAA\\t2001:db8::54\"]\n\
             [[check]]\nname = \"no_v6_glue\"\n{referral}forbid_additional = [\"\\tAAAA\\t\"]\n\
             [[check]]\nname = \"all_v4_glue\"\n{referral}expect_all_additional = [\"\\tA\\t\"]\n\
             [[check]]\nname = \"glue_of_another\"\n{referral}expect_additional = [\"192.0.2.99\"]\n\
             [[check]]\nname = \"nx_soa\"\n{nx}\
             expect_all_authority = [\"^zone.test.\\t300\\tIN\\tSOA\\tns.zone.test. hostmaster.zone.test. 7 \"]\n\
             [[check]]\nname = \"soa_not_in_answer\"\n{nx}expect_all_answers = [\"SOA\"]\n"
        ),
    );
    let text = once(None, &cfg, true);
    promtool_check(&text);
    let at = |check: &str, reason: &str| {
        let s = format!("probe_success{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"{reason}\"}}");
        probe_value(&text, &s)
    };
    assert_eq!(at("referral", ""), Some(1.0), "{text}");
    let rrs = |section: &str| {
        probe_value(
            &text,
            &format!("probe_dns_{section}_rrs{{check=\"referral\",address=\"127.0.0.1\",family=\"ipv4\"}}"),
        )
    };
    assert_eq!((rrs("answer"), rrs("authority"), rrs("additional")), (Some(0.0), Some(1.0), Some(2.0)), "{text}");
    assert_eq!(at("no_v6_glue", "unexpected_reply"), Some(0.0), "{text}");
    // Not every glue record is an A: blackbox's fail_if_all_match_regexp
    // test, as it behaves.
    assert_eq!(at("all_v4_glue", "unexpected_reply"), Some(0.0), "{text}");
    assert_eq!(at("glue_of_another", "unexpected_reply"), Some(0.0), "{text}");
    assert_eq!(at("nx_soa", ""), Some(1.0), "{text}");
    // An empty section never meets an expect_all_.
    assert_eq!(at("soa_not_in_answer", "unexpected_reply"), Some(0.0), "{text}");
}

#[test]
fn ntp_check_against_chronyd_serving_time() {
    need("/usr/sbin/chronyd", "chrony");
    let dir = Scratch::new("checks-chronyd");
    let port = free_port();
    let conf = dir.write(
        "chrony.conf",
        &format!(
            "local stratum 8\nbindaddress 127.0.0.1\nport {port}\ncmdport 0\nallow 127.0.0.1\npidfile {}/chronyd.pid\n",
            dir.0.display()
        ),
    );
    let _chronyd = spawn(Command::new("/usr/sbin/chronyd").args(["-x", "-d", "-f"]).arg(&conf), &dir.0.join("log"));
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "{NO_COLLECTORS}[[check]]\nname = \"ntp\"\nkind = \"ntp\"\ntarget = \"127.0.0.1:{port}\"\ntimeout = \"1s\"\n"
        ),
    );
    let ok = "probe_success{check=\"ntp\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"\"}";
    // chronyd answers once its socket is up; until then the check times out.
    let text = wait_for("chronyd to answer", Duration::from_secs(20), || {
        let out = common::sonde_command().arg("--once").arg("--config").arg(&cfg).output().unwrap();
        let t = String::from_utf8(out.stdout).unwrap();
        (probe_value(&t, ok) == Some(1.0)).then_some(t)
    });
    promtool_check(&text);
    let s = |n: &str| format!("{n}{{check=\"ntp\",address=\"127.0.0.1\",family=\"ipv4\"}}");
    assert_eq!(probe_value(&text, &s("probe_ntp_stratum")), Some(8.0));
    assert_eq!(probe_value(&text, &s("probe_ntp_leap")), Some(0.0));
    // Same host, same clock: the offset is the measurement's noise.
    assert!(probe_value(&text, &s("probe_ntp_offset_seconds")).unwrap().abs() < 0.1, "{text}");
    assert!(probe_value(&text, &s("probe_ntp_rtt_seconds")).unwrap() >= 0.0);
}

#[test]
fn smtp_banner_dialogue_against_opensmtpd() {
    need("/usr/sbin/smtpd", "opensmtpd");
    let dir = Scratch::new("checks-smtpd");
    let port = free_port();
    let conf = dir.write(
        "smtpd.conf",
        &format!(
            "listen on 127.0.0.1 port {port}\naction \"local\" mbox\nmatch from local for local action \"local\"\n"
        ),
    );
    // OpenSMTPD's control socket (/run/smtpd.sock) and queue are fixed
    // paths: a second smtpd (the box's own, or another target's suite)
    // refuses to start. Its own mount namespace gives it private ones.
    let script = format!(
        "mount -t tmpfs -o mode=0755 tmpfs /run && mount -t tmpfs -o mode=0711 tmpfs /var/spool/smtpd && \
         exec /usr/sbin/smtpd -d -f '{}'",
        conf.display()
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", &script]);
    let _smtpd = spawn(&mut cmd, &dir.0.join("log"));
    wait_for("smtpd", Duration::from_secs(10), || tcp_port_open(port));
    let t = format!("kind = \"tcp\"\ntarget = \"127.0.0.1:{port}\"\n");
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "{NO_COLLECTORS}\
             [[check]]\nname = \"smtp\"\n{t}dialogue = [\"expect ^220\", \"send QUIT\", \"expect ^221\"]\n\
             [[check]]\nname = \"not_ssh\"\n{t}timeout = \"2s\"\ndialogue = [\"expect ^SSH-2.0-\"]\n"
        ),
    );
    let text = once(None, &cfg, true);
    promtool_check(&text);
    let at = |check: &str, reason: &str| {
        format!("probe_success{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"{reason}\"}}")
    };
    assert_eq!(probe_value(&text, &at("smtp", "")), Some(1.0), "{text}");
    // An SMTP server never says SSH: its greeting came and did not match,
    // then it waited for us; the deadline ends it as an unexpected reply,
    // not as a silent server's timeout.
    assert_eq!(probe_value(&text, &at("not_ssh", "unexpected_reply")), Some(0.0), "{text}");
    let sonde = common::Sonde::start(&[]);
    let r = sonde.get(&format!("/probe?module=smtp_banner&target=127.0.0.1:{port}"));
    assert_eq!(probe_value(r.text(), "probe_success{address=\"127.0.0.1\",family=\"ipv4\",reason=\"\"}"), Some(1.0));
}

/// The `ssh_banner` module against OpenSSH's sshd, started by the test in
/// the foreground on a loopback port with a host key of its own.
#[test]
fn ssh_banner_against_openssh() {
    need("/usr/sbin/sshd", "openssh-server");
    need("/usr/bin/ssh-keygen", "openssh-client");
    let dir = Scratch::new("checks-sshd");
    let key = dir.0.join("host_key");
    sh(&["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()]);
    // sshd refuses to start without its privilege separation directory,
    // which only the packaged service's start creates.
    if !Path::new("/run/sshd").is_dir() {
        std::fs::create_dir_all("/run/sshd").unwrap();
    }
    let port = free_tcp_port();
    let conf = dir.write(
        "sshd_config",
        &format!("ListenAddress 127.0.0.1:{port}\nHostKey {}\nPidFile none\nUsePAM no\n", key.display()),
    );
    let log = dir.0.join("sshd.log");
    // An absolute path: sshd re-executes itself for every connection.
    let _sshd = spawn(Command::new("/usr/sbin/sshd").args(["-D", "-e", "-f"]).arg(&conf), &log);
    // Its log, not a connection: a probe of ours would be a client too.
    wait_for("sshd to listen", Duration::from_secs(10), || {
        std::fs::read_to_string(&log).unwrap().contains("Server listening on").then_some(())
    });

    let sonde = common::Sonde::start(&[]);
    let r = sonde.get(&format!("/probe?module=ssh_banner&target=127.0.0.1:{port}&debug=true"));
    let page = r.text();
    let at = |name: &str, extra: &str| format!("{name}{{address=\"127.0.0.1\",family=\"ipv4\"{extra}}}");
    assert_eq!(probe_value(page, &at("probe_success", ",reason=\"\"")), Some(1.0), "{page}");
    assert_eq!(probe_value(page, &at("probe_failed_due_to_regex", "")), Some(0.0), "{page}");
    assert!(page.contains("dialogue = [\"expect ^SSH-2.0-\", \"send SSH-2.0-sonde-ssh-check\"]"), "{page}");
    let r = sonde.get(&format!("/probe?module=ssh_banner&target=127.0.0.1:{port}"));
    promtool_check(r.text());
    assert_eq!(probe_value(r.text(), &at("probe_success", ",reason=\"\"")), Some(1.0), "{}", r.text());
    // sshd read an identification from each probe: it logs their closes
    // as a client's, not as a failed key exchange.
    let log = wait_for("sshd to log both probes", Duration::from_secs(10), || {
        let text = std::fs::read_to_string(&log).unwrap();
        (text.matches("Connection closed by 127.0.0.1").count() >= 2).then_some(text)
    });
    assert!(!log.contains("kex_exchange_identification"), "{log}");
}

/// A network namespace the test makes, with /etc/netns/NS/hosts; removed
/// with what runs in it when dropped.
struct Netns {
    name: String,
    children: Vec<Daemon>,
}

impl Drop for Netns {
    fn drop(&mut self) {
        self.children.clear();
        let _ = Command::new("ip").args(["netns", "delete", &self.name]).status();
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.name));
    }
}

fn sh(cmd: &[&str]) {
    let out = Command::new(cmd[0]).args(&cmd[1..]).output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn network_failures_are_told_apart_per_address_family() {
    need("/usr/sbin/nft", "nftables");
    let mut ns = Netns { name: format!("sonde-chk-{}", std::process::id()), children: Vec::new() };
    sh(&["ip", "netns", "add", &ns.name]);
    sh(&["ip", "-n", &ns.name, "link", "set", "lo", "up"]);
    std::fs::create_dir_all(format!("/etc/netns/{}", ns.name)).unwrap();
    std::fs::write(format!("/etc/netns/{}/hosts", ns.name), "127.0.0.1 dual.test\n::1 dual.test\n").unwrap();
    let dir = Scratch::new("checks-netns");
    let rules = dir.write(
        "fw.nft",
        "table inet fw {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    \
         tcp dport 2001 drop\n    tcp dport 2002 reject with icmpx type admin-prohibited\n    \
         tcp dport 2003 reject with tcp reset\n    meta nfproto ipv6 tcp dport 2005 drop\n  }\n}\n",
    );
    sh(&["ip", "netns", "exec", &ns.name, "nft", "-f", rules.to_str().unwrap()]);
    // Listeners on 127.0.0.1 only: sonde's own endpoint, in the namespace.
    // On 2005 its IPv6 side is dropped, and its IPv4 side is a server
    // that says nothing until a client has spoken.
    let listener = spawn(
        in_netns(&ns.name).args(["--listen", "127.0.0.1:2000", "--listen", "127.0.0.1:2005"]),
        &dir.0.join("listener.log"),
    );
    ns.children.push(listener);
    wait_for("the listener in the namespace", Duration::from_secs(10), || ns_has_listener(&ns.name).then_some(()));
    let check = |name: &str, target: &str, extra: &str| {
        format!("[[check]]\nname = \"{name}\"\nkind = \"tcp\"\ntarget = \"{target}\"\ntimeout = \"1s\"\n{extra}")
    };
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "{NO_COLLECTORS}{}{}{}{}{}{}",
            check("listening", "127.0.0.1:2000", ""),
            check("nothing", "127.0.0.1:2004", ""),
            check("dropped", "127.0.0.1:2001", ""),
            check("rejected", "127.0.0.1:2002", ""),
            check("reset", "127.0.0.1:2003", ""),
            check("dual", "dual.test:2000", ""),
        ),
    );
    let text = once(Some(&ns.name), &cfg, true);
    promtool_check(&text);
    let at = |check: &str, addr: &str, fam: &str, reason: &str| {
        format!("probe_success{{check=\"{check}\",address=\"{addr}\",family=\"{fam}\",reason=\"{reason}\"}}")
    };
    let v4 = |check: &str, reason: &str| probe_value(&text, &at(check, "127.0.0.1", "ipv4", reason));
    assert_eq!(v4("listening", ""), Some(1.0), "{text}");
    assert_eq!(v4("nothing", "refused"), Some(0.0), "{text}");
    assert_eq!(v4("dropped", "timeout"), Some(0.0), "{text}");
    assert_eq!(v4("rejected", rejected_reason()), Some(0.0), "{text}");
    assert_eq!(v4("reset", "refused"), Some(0.0), "{text}");
    // Dual stack: up on IPv4, down on IPv6, each said on its own.
    assert_eq!(v4("dual", ""), Some(1.0), "{text}");
    assert_eq!(probe_value(&text, &at("dual", "::1", "ipv6", "refused")), Some(0.0), "{text}");
    assert_eq!(probe_value(&text, "probe_ip_protocol{check=\"dual\",address=\"::1\",family=\"ipv6\"}"), Some(6.0));

    // Both addresses of a dual-stack name use their whole timeout (IPv6
    // dropped, IPv4 silent where a banner is expected): checked at once,
    // the check takes one timeout, where one after the other took two.
    let timeout = 2.0;
    let cfg = dir.write(
        "slow.toml",
        &format!(
            "{NO_COLLECTORS}[[check]]\nname = \"slow\"\nkind = \"tcp\"\ntarget = \"dual.test:2005\"\n\
             timeout = \"{timeout}s\"\ndialogue = [\"expect ^SSH-2.0-\"]\n"
        ),
    );
    let started = Instant::now();
    let text = once(Some(&ns.name), &cfg, true);
    let took = started.elapsed().as_secs_f64();
    assert_eq!(probe_value(&text, &at("slow", "127.0.0.1", "ipv4", "timeout")), Some(0.0), "{text}");
    assert_eq!(probe_value(&text, &at("slow", "::1", "ipv6", "timeout")), Some(0.0), "{text}");
    assert!(took < 1.75 * timeout, "{took:.2} s for two addresses of {timeout} s each: not checked at once");
    // IPv4 first, then IPv6, whatever the resolver's order.
    let v4 = text.find("address=\"127.0.0.1\"").unwrap();
    assert!(v4 < text.find("address=\"::1\"").unwrap(), "{text}");

    // /probe of the dropped port with Prometheus's scrape timeout header:
    // the answer comes within the header's 2 s (less 0.5 s), a timeout,
    // not after the 5 s a module without a timeout has otherwise.
    let (r, took) =
        ns_get(&ns.name, "/probe?module=tcp_connect&target=127.0.0.1:2001", "X-Prometheus-Scrape-Timeout-Seconds: 2");
    assert_eq!(r.status, 200, "{}", r.text());
    let probe_at = |name: &str, extra: &str| format!("{name}{{address=\"127.0.0.1\",family=\"ipv4\"{extra}}}");
    assert_eq!(probe_value(r.text(), &probe_at("probe_success", ",reason=\"timeout\"")), Some(0.0), "{}", r.text());
    assert_eq!(probe_value(r.text(), &probe_at("probe_timeout_seconds", "")), Some(1.5), "{}", r.text());
    assert!(took < 3.0, "{took:.2} s: the header did not bound the probe");
}

/// `GET http://127.0.0.1:2000PATH` with one extra header, from inside
/// network namespace `ns` (curl): the response, and how long it took.
fn ns_get(ns: &str, path: &str, header: &str) -> (common::Response, f64) {
    let started = Instant::now();
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "curl", "-s", "-i", "--max-time", "30", "-H", header])
        .arg(format!("http://127.0.0.1:2000{path}"))
        .output()
        .expect("curl: run tests/setup.sh");
    let took = started.elapsed().as_secs_f64();
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    (common::parse_response(&out.stdout), took)
}

/// A network namespace where TCP port 2001 is dropped and sonde listens on
/// 127.0.0.1:2000 (for [`ns_get`]), with `resolv` as its resolv.conf.
fn probe_netns(tag: &str, resolv: &str) -> (Netns, Scratch) {
    need("/usr/sbin/nft", "nftables");
    let mut ns = Netns { name: format!("sonde-{tag}-{}", std::process::id()), children: Vec::new() };
    sh(&["ip", "netns", "add", &ns.name]);
    sh(&["ip", "-n", &ns.name, "link", "set", "lo", "up"]);
    std::fs::create_dir_all(format!("/etc/netns/{}", ns.name)).unwrap();
    std::fs::write(format!("/etc/netns/{}/hosts", ns.name), "127.0.0.1 localhost\n").unwrap();
    std::fs::write(format!("/etc/netns/{}/resolv.conf", ns.name), resolv).unwrap();
    let dir = Scratch::new(&format!("checks-{tag}"));
    let rules = dir.write(
        "fw.nft",
        "table inet fw {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    \
         tcp dport 2001 drop\n  }\n}\n",
    );
    sh(&["ip", "netns", "exec", &ns.name, "nft", "-f", rules.to_str().unwrap()]);
    ns.children.push(spawn(in_netns(&ns.name).args(["--listen", "127.0.0.1:2000"]), &dir.0.join("listener.log")));
    wait_for("the listener in the namespace", Duration::from_secs(10), || ns_has_listener(&ns.name).then_some(()));
    (ns, dir)
}

/// A socket made inside network namespace `ns` by `make` (on a thread
/// of its own that enters it).
fn in_ns<T: Send + 'static>(ns: &str, make: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let f = std::fs::File::open(path).unwrap();
        // SAFETY: setns(2) on an open namespace file; it moves only this thread.
        assert_eq!(unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&f), libc::CLONE_NEWNET) }, 0);
        make()
    })
    .join()
    .unwrap()
}

/// A DNS server on 127.0.0.1:53 in namespace `ns` that answers every
/// query `delay` late: `A 127.0.0.1`, or no records for another type.
fn slow_dns_server(ns: &str, delay: Duration) {
    let sock = in_ns(ns, || UdpSocket::bind("127.0.0.1:53").unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            let mut r = buf[..n].to_vec();
            let sock = sock.try_clone().unwrap();
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                r[2] |= 0x80; // QR
                r[3] = 0x80; // RA, NOERROR
                r[10..12].fill(0); // no additional (EDNS)
                let qend = 12 + r[12..].iter().position(|&b| b == 0).unwrap() + 5;
                r.truncate(qend);
                if r[qend - 3] == 1 {
                    r[7] = 1; // one answer: the name, A, IN, TTL 60, 127.0.0.1
                    r.extend([0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
                }
                let _ = sock.send_to(&r, peer);
            });
        }
    });
}

/// A slow resolver spends the probe's time too: the answer still comes
/// within the scrape timeout (less the offset), a timeout, not a lookup
/// plus a whole timeout.
#[test]
fn a_probe_counts_its_name_lookup_in_its_timeout() {
    let (ns, _dir) = probe_netns("slowdns", "nameserver 127.0.0.1\noptions timeout:5 attempts:1\n");
    slow_dns_server(&ns.name, Duration::from_millis(1500));
    let header = "X-Prometheus-Scrape-Timeout-Seconds: 3";
    let (r, took) = ns_get(&ns.name, "/probe?module=tcp_connect&target=slow.test:2001", header);
    assert_eq!(r.status, 200, "{}", r.text());
    let at = |name: &str, extra: &str| format!("{name}{{address=\"127.0.0.1\",family=\"ipv4\"{extra}}}");
    assert_eq!(probe_value(r.text(), &at("probe_success", ",reason=\"timeout\"")), Some(0.0), "{}", r.text());
    let lookup = probe_value(r.text(), &at("probe_dns_lookup_time_seconds", "")).unwrap();
    assert!(lookup >= 1.4, "{lookup} s: the resolver was not slow\n{}", r.text());
    assert!(took < 2.5 + 0.5, "{took:.2} s: the lookup came on top of the 2.5 s timeout");
}

/// Probes of a blackholed port cannot take every connection: past 8 at
/// once (half the slots) a probe gets 503 at once, and /metrics answers.
#[test]
fn probes_of_a_blackholed_port_leave_metrics_connections() {
    let (ns, _dir) = probe_netns("busy", "");
    let probe = |_| {
        Command::new("ip")
            .args(["netns", "exec", &ns.name, "curl", "-s", "-i", "--max-time", "30"])
            .args(["-H", "X-Prometheus-Scrape-Timeout-Seconds: 5"])
            .arg("http://127.0.0.1:2000/probe?module=tcp_connect&target=127.0.0.1:2001")
            .stdout(Stdio::piped())
            .spawn()
            .expect("curl: run tests/setup.sh")
    };
    // More than the 16 connection slots, each probe holding one 4.5 s.
    let probes: Vec<Child> = (0..20).map(probe).collect();
    std::thread::sleep(Duration::from_secs(1));
    let (r, took) = ns_get(&ns.name, "/metrics", "X-Test: busy");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(took < 2.0, "{took:.2} s for /metrics while probes ran: no connection was left for it");
    let statuses: Vec<u16> = probes
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let r = common::parse_response(&out.stdout);
            if r.status == 503 {
                assert_eq!(r.text(), "Too many probes at once: 8 are running; try again later\n");
            }
            r.status
        })
        .collect();
    let count = |status| statuses.iter().filter(|&&s| s == status).count();
    assert_eq!((count(200), count(503)), (8, 12), "{statuses:?}");
}

/// The reason a loopback REJECT (ICMP admin-prohibited) gives: `no_route`,
/// except under qemu-user for MIPS. That connect's error is read with
/// getsockopt(SO_ERROR) (the second connect(2) says EALREADY; see
/// sys::net::connect), whose value qemu-user passes through as the host's
/// number: 113, which on MIPS is not EHOSTUNREACH (148), so sonde sees an
/// unknown error. A MIPS kernel gives MIPS's own number.
fn rejected_reason() -> &'static str {
    let runner = std::env::var("SONDE_RUNNER").unwrap_or_default();
    if runner.contains("qemu-mips") {
        "error"
    } else {
        "no_route"
    }
}

fn ns_has_listener(ns: &str) -> bool {
    let out = Command::new("ip").args(["netns", "exec", ns, "ss", "-Htln", "sport = :2000"]).output();
    out.map(|o| !o.stdout.is_empty()).unwrap_or(false)
}

/// What the garbage server sends back to a query.
#[derive(Clone, Copy)]
enum Garbage {
    WrongId,
    WrongQuestion,
    Truncated,
    Oversized,
}

fn garbage_server(kind: Garbage) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            let q = &buf[..n];
            let mut r = q.to_vec();
            r[2] |= 0x80;
            let reply = match kind {
                Garbage::WrongId => {
                    r[0] ^= 0x55;
                    r
                }
                Garbage::WrongQuestion => {
                    r[13] ^= 0x20 ^ 0x01; // a different letter, not only another case
                    r
                }
                Garbage::Truncated => r[..7].to_vec(),
                Garbage::Oversized => {
                    // A header claiming 65535 answers, then 60 KB of pointers.
                    r[6] = 0xFF;
                    r[7] = 0xFF;
                    r.extend(std::iter::repeat_n([0xC0u8, 0x0C], 30_000).flatten());
                    r
                }
            };
            let _ = sock.send_to(&reply, peer);
        }
    });
    port
}

#[test]
fn a_dns_server_answering_garbage_fails_with_a_reason() {
    let dir = Scratch::new("checks-garbage");
    let mut cfg = NO_COLLECTORS.to_owned();
    for (name, kind) in [
        ("wrong_id", Garbage::WrongId),
        ("wrong_question", Garbage::WrongQuestion),
        ("truncated", Garbage::Truncated),
        ("oversized", Garbage::Oversized),
    ] {
        let port = garbage_server(kind);
        cfg.push_str(&format!(
            "[[check]]\nname = \"{name}\"\nkind = \"dns\"\ntarget = \"127.0.0.1:{port}\"\nquery_name = \"www.example.test\"\n\
             timeout = \"1s\"\ntransport = \"udp\"\n"
        ));
    }
    let text = once(None, &dir.write("sonde.toml", &cfg), true);
    promtool_check(&text);
    for (check, reason) in [
        ("wrong_id", "wrong_id"),
        ("wrong_question", "wrong_question"),
        ("truncated", "malformed"),
        ("oversized", "malformed"),
    ] {
        let s = format!("probe_success{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"{reason}\"}}");
        assert_eq!(probe_value(&text, &s), Some(0.0), "{check}:\n{text}");
    }
}

/// The example alert rules alert on probe_success (not up), pass
/// `promtool check rules`, and do what their unit tests say.
#[test]
fn the_example_alert_rules_pass_promtool_check_and_test() {
    let promtool = common::which("promtool").expect("promtool: run tests/setup.sh (Debian package prometheus)");
    let dir = common::repo().join("examples/prometheus");
    for args in [&["check", "rules", "sonde-checks.rules.yml"][..], &["test", "rules", "sonde-checks.test.yml"]] {
        let out = Command::new(&promtool).args(args).current_dir(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rules = std::fs::read_to_string(dir.join("sonde-checks.rules.yml")).unwrap();
    assert!(rules.contains("expr: probe_success == 0\n"), "the plain rule, as for blackbox_exporter's probes");
}

/// Checks run on their own thread while the endpoint serves; a SIGHUP
/// with other checks replaces them (the old scheduler ends).
#[test]
fn checks_are_scheduled_and_replaced_on_reload() {
    let dir = Scratch::new("checks-reload");
    let closed = free_tcp_port();
    let check = |name: &str| {
        format!(
            "{NO_COLLECTORS}[[check]]\nname = \"{name}\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{closed}\"\n\
             interval = \"200ms\"\ntimeout = \"1s\"\n"
        )
    };
    let cfg = dir.write("sonde.toml", &check("before"));
    let sonde = common::Sonde::start(&["--config", cfg.to_str().unwrap()]);
    let series = |name: &str| {
        format!("probe_success{{check=\"{name}\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"refused\"}}")
    };
    wait_for("the first check's result", Duration::from_secs(10), || {
        (probe_value(sonde.get("/metrics").text(), &series("before")) == Some(0.0)).then_some(())
    });
    dir.write("sonde.toml", &check("after"));
    sonde.signal("HUP");
    let text = wait_for("the reloaded check's result", Duration::from_secs(10), || {
        let t = sonde.get("/metrics").text().to_owned();
        (probe_value(&t, &series("after")) == Some(0.0)).then_some(t)
    });
    assert_eq!(probe_value(&text, &series("before")), None, "{text}");
    promtool_check(&text);
}

/// TCP checks with TLS, built with the `tls` feature only:
/// `cargo test --features sonde/tls --test checks -- tls::`.
///
/// The SMTP peer is aiosmtpd (Debian's python3-aiosmtpd), serving STARTTLS
/// on one port and SMTPS on another with certificates of a CA that openssl(1)
/// makes here. OpenSMTPD, the banner test's peer, cannot: Debian 12's
/// 6.8.0p2 fails every handshake against OpenSSL 3 ("EVP lib", alert
/// internal_error; upstream OpenSMTPD issues 1171 and 1239), and exim or
/// postfix would remove it (each is the box's one mail transport agent).
/// openssl s_server, limited to TLS 1.2, is the peer of that version.
/// Scripted peers do what no real server does on demand: close in the
/// middle of a handshake, never answer one, present a certificate that is
/// not DER.
#[cfg(feature = "tls")]
mod tls {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::path::PathBuf;

    use super::*;

    /// Certificates made by openssl(1): a CA and a CA nobody trusts (30
    /// days), an intermediate under the CA (1 day), `mail` signed by the
    /// CA (3 days) and `chain` signed by the intermediate (2 days), both
    /// for `mail.test` and 127.0.0.1; `chain-full.crt` is `chain` then the
    /// intermediate, as a server presents it. EC keys.
    fn make_pki(dir: &Path) -> PathBuf {
        let pki = common::Pki::new(dir);
        pki.ca("ca", "sonde test CA", "30");
        pki.ca("other-ca", "sonde untrusted CA", "30");
        pki.issue("inter", "ca", "1", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n");
        let leaf =
            "basicConstraints=CA:FALSE\nsubjectAltName=DNS:mail.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
        pki.issue("mail", "ca", "3", leaf);
        pki.issue("chain", "inter", "2", leaf);
        let pki = pki.dir;
        let full = [pki.join("chain.crt"), pki.join("inter.crt")].map(|p| std::fs::read_to_string(p).unwrap()).concat();
        std::fs::write(pki.join("chain-full.crt"), full).unwrap();
        pki
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

    /// aiosmtpd on 127.0.0.1:`port` with `tls` arguments (none: plain
    /// SMTP, no STARTTLS offered).
    fn aiosmtpd(dir: &Path, port: u16, tls: &[&Path], flag: &str) -> Daemon {
        need("/usr/lib/python3/dist-packages/aiosmtpd", "python3-aiosmtpd");
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")]);
        if let [cert, key] = tls {
            cmd.arg(format!("--{flag}cert")).arg(cert).arg(format!("--{flag}key")).arg(key);
            if flag == "tls" {
                cmd.arg("--no-requiretls");
            }
        }
        let d = spawn(&mut cmd, &dir.join(format!("aiosmtpd-{port}.log")));
        wait_for("aiosmtpd", Duration::from_secs(20), || tcp_port_open(port));
        d
    }

    /// `sonde --once` with `config`: stdout and stderr; some check failed.
    fn once_failing(config: &Path) -> (String, String) {
        let out = common::sonde_command().arg("--once").arg("--config").arg(config).stdin(Stdio::null()).output();
        let out = out.unwrap();
        let (text, err) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
        assert!(!err.contains("built without TLS"), "a sonde without TLS ran (another build swapped it?): {err}");
        assert_eq!(out.status.code(), Some(1), "stderr:\n{err}\nstdout:\n{text}");
        assert!(!err.contains("panicked"), "{err}");
        (text, err)
    }

    fn at(check: &str, reason: &str) -> String {
        format!("probe_success{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\",reason=\"{reason}\"}}")
    }

    fn series(name: &str, check: &str) -> String {
        format!("{name}{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\"}}")
    }

    fn version(check: &str, v: &str) -> String {
        format!("probe_tls_version_info{{check=\"{check}\",address=\"127.0.0.1\",family=\"ipv4\",version=\"{v}\"}}")
    }

    const STARTTLS: &str = "dialogue = [\"expect ^220 \", \"send EHLO sonde\", \"expect STARTTLS\", \
                            \"send STARTTLS\", \"expect ^220\", \"starttls\", \"send EHLO sonde\", \"expect ^250 \", \
                            \"send QUIT\", \"expect ^221\"]\n";

    /// STARTTLS and SMTPS to a real SMTP server: the dialogue runs inside
    /// TLS, the version and the earliest notAfter presented are exact; an
    /// untrusted CA and a name the certificate lacks are refused as
    /// `certificate`, a server that does not offer STARTTLS is an
    /// unexpected reply, a plaintext port spoken to in TLS is `tls`.
    #[test]
    fn starttls_and_smtps_against_aiosmtpd() {
        let dir = Scratch::new("checks-tls-smtp");
        let pki = make_pki(&dir.0);
        let p = |f: &str| pki.join(f);
        let (starttls, smtps, plain) = (free_port(), free_port(), free_port());
        let _a = aiosmtpd(&dir.0, starttls, &[&p("mail.crt"), &p("mail.key")], "tls");
        let _b = aiosmtpd(&dir.0, smtps, &[&p("chain-full.crt"), &p("chain.key")], "smtps");
        let _c = aiosmtpd(&dir.0, plain, &[], "");
        let ca = format!("ca_file = \"{}\"\n", p("ca.crt").display());
        let other = format!("ca_file = \"{}\"\n", p("other-ca.crt").display());
        let check = |name: &str, port: u16, extra: &str| {
            format!("[[check]]\nname = \"{name}\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{port}\"\n{extra}")
        };
        let banner = "dialogue = [\"expect ^220\", \"send QUIT\", \"expect ^221\"]\n";
        let cfg = dir.write(
            "sonde.toml",
            &[
                NO_COLLECTORS.to_owned(),
                check("starttls", starttls, &format!("{ca}{STARTTLS}")),
                check("smtps", smtps, &format!("{ca}tls = true\n{banner}")),
                check("by_name", smtps, &format!("{ca}tls = true\nserver_name = \"mail.test\"\n")),
                check("untrusted", smtps, &format!("{other}tls = true\n{banner}")),
                check("wrong_name", smtps, &format!("{ca}tls = true\nserver_name = \"other.test\"\n")),
                check("untrusted_starttls", starttls, &format!("{other}{STARTTLS}")),
                check("no_starttls", plain, &format!("{ca}timeout = \"2s\"\n{STARTTLS}")),
                check("not_tls", plain, &format!("{ca}tls = true\n")),
            ]
            .concat(),
        );
        let (text, err) = once_failing(&cfg);
        promtool_check(&text);

        // STARTTLS: the EHLO and QUIT after it went through TLS 1.3, and
        // the expiry is the server certificate's, to the second.
        assert_eq!(probe_value(&text, &at("starttls", "")), Some(1.0), "{text}\n{err}");
        assert_eq!(probe_value(&text, &version("starttls", "TLS 1.3")), Some(1.0), "{text}");
        let mail = enddate(&p("mail.crt"));
        assert_eq!(probe_value(&text, &series("probe_ssl_earliest_cert_expiry", "starttls")), Some(mail), "{text}");
        // SMTPS: TLS from the connect on; of the chain presented, the
        // intermediate expires first (1 day, the leaf 2).
        assert_eq!(probe_value(&text, &at("smtps", "")), Some(1.0), "{text}\n{err}");
        assert_eq!(probe_value(&text, &version("smtps", "TLS 1.3")), Some(1.0), "{text}");
        let (inter, leaf) = (enddate(&p("inter.crt")), enddate(&p("chain.crt")));
        assert!(inter < leaf);
        assert_eq!(probe_value(&text, &series("probe_ssl_earliest_cert_expiry", "smtps")), Some(inter), "{text}");
        assert_eq!(probe_value(&text, &at("by_name", "")), Some(1.0), "{text}\n{err}");

        // Refused certificates: no TLS series for them, and stderr says why.
        assert_eq!(probe_value(&text, &at("untrusted", "certificate")), Some(0.0), "{text}");
        assert_eq!(probe_value(&text, &at("untrusted_starttls", "certificate")), Some(0.0), "{text}");
        assert_eq!(probe_value(&text, &at("wrong_name", "certificate")), Some(0.0), "{text}");
        assert_eq!(probe_value(&text, &series("probe_ssl_earliest_cert_expiry", "untrusted")), None, "{text}");
        assert!(!text.contains("probe_tls_version_info{check=\"untrusted\""), "{text}");
        assert!(err.contains(&format!("check untrusted failed on 127.0.0.1:{smtps} (ipv4): certificate: ")), "{err}");
        assert!(err.contains("UnknownIssuer"), "{err}");
        assert!(err.contains("not valid for name \"other.test\""), "{err}");
        // No STARTTLS in the EHLO reply: the expectation fails, not TLS.
        assert_eq!(probe_value(&text, &at("no_starttls", "unexpected_reply")), Some(0.0), "{text}");
        assert_eq!(probe_value(&text, &series("probe_failed_due_to_regex", "no_starttls")), Some(1.0), "{text}");
        // A plaintext greeting where a ServerHello should be.
        assert_eq!(probe_value(&text, &at("not_tls", "tls")), Some(0.0), "{text}");
    }

    /// The built-in `/probe` modules `smtp_starttls` and `tls_connect`
    /// trust the system's bundle (here `$SSL_CERT_FILE`, the test's CA),
    /// and `hostname=` names the certificate's name, as blackbox_exporter's.
    #[test]
    fn tls_probe_modules_trust_the_system_bundle_and_take_hostname() {
        let dir = Scratch::new("checks-tls-probe");
        let pki = make_pki(&dir.0);
        let p = |f: &str| pki.join(f);
        let (starttls, smtps) = (free_port(), free_port());
        let _a = aiosmtpd(&dir.0, starttls, &[&p("mail.crt"), &p("mail.key")], "tls");
        let _b = aiosmtpd(&dir.0, smtps, &[&p("chain-full.crt"), &p("chain.key")], "smtps");
        let listen = free_tcp_port();
        let mut sonde = common::sonde_command();
        sonde.args(["--listen", &format!("127.0.0.1:{listen}")]).env("SSL_CERT_FILE", p("ca.crt"));
        let _sonde = spawn(&mut sonde, &dir.0.join("sonde.log"));
        wait_for("sonde", Duration::from_secs(10), || tcp_port_open(listen));
        let get = |q: &str| {
            let addr = format!("127.0.0.1:{listen}").parse().unwrap();
            let r = common::request(addr, &format!("GET /probe?{q} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
            assert_eq!(r.status, 200, "{q}: {}", r.text());
            promtool_check(r.text());
            r.text().to_owned()
        };
        let ok = "probe_success{address=\"127.0.0.1\",family=\"ipv4\",reason=\"\"}";
        let v13 = "probe_tls_version_info{address=\"127.0.0.1\",family=\"ipv4\",version=\"TLS 1.3\"}";
        let text = get(&format!("module=smtp_starttls&target=127.0.0.1:{starttls}"));
        assert_eq!(probe_value(&text, ok), Some(1.0), "{text}");
        assert_eq!(probe_value(&text, v13), Some(1.0), "{text}");
        let text = get(&format!("module=tls_connect&target=127.0.0.1:{smtps}&hostname=mail.test"));
        assert_eq!(probe_value(&text, ok), Some(1.0), "{text}");
        let text = get(&format!("module=tls_connect&target=127.0.0.1:{smtps}&hostname=other.test"));
        assert_eq!(
            probe_value(&text, "probe_success{address=\"127.0.0.1\",family=\"ipv4\",reason=\"certificate\"}"),
            Some(0.0)
        );
    }

    /// openssl s_server limited to TLS 1.2: the version label says so, and
    /// the expiry is read from a TLS 1.2 handshake's certificate too.
    #[test]
    fn tls_1_2_against_openssl_s_server() {
        let dir = Scratch::new("checks-tls12");
        let pki = make_pki(&dir.0);
        let port = free_port();
        let mut cmd = Command::new(common::which("openssl").unwrap());
        cmd.current_dir(&pki).args(["s_server", "-quiet", "-www", "-tls1_2", "-cert", "mail.crt", "-key", "mail.key"]);
        cmd.args(["-accept", &format!("127.0.0.1:{port}")]);
        let _server = spawn(&mut cmd, &dir.0.join("s_server.log"));
        wait_for("openssl s_server", Duration::from_secs(10), || tcp_port_open(port));
        let cfg = dir.write(
            "sonde.toml",
            &format!(
                "{NO_COLLECTORS}[[check]]\nname = \"tls12\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{port}\"\n\
                 tls = true\nca_file = \"{}\"\ndialogue = [\"send GET / HTTP/1.0\", \"send \", \"expect ^HTTP/1.0 200\"]\n",
                pki.join("ca.crt").display()
            ),
        );
        let text = once(None, &cfg, false);
        promtool_check(&text);
        assert_eq!(probe_value(&text, &at("tls12", "")), Some(1.0), "{text}");
        assert_eq!(probe_value(&text, &version("tls12", "TLS 1.2")), Some(1.0), "{text}");
        assert_eq!(
            probe_value(&text, &series("probe_ssl_earliest_cert_expiry", "tls12")),
            Some(enddate(&pki.join("mail.crt")))
        );
    }

    /// What a scripted TLS peer does after reading the ClientHello.
    #[derive(Clone, Copy)]
    enum Breaks {
        /// Closes the connection.
        Closes,
        /// Says nothing until the client gives up.
        Silent,
        /// A TLS 1.2 ServerHello, then a Certificate message whose one
        /// certificate is not DER, a ServerKeyExchange, ServerHelloDone.
        GarbageCertificate,
    }

    fn breaking_peer(how: Breaks) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut s in l.incoming().map_while(Result::ok) {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let _ = s.read(&mut [0u8; 4096]);
                match how {
                    Breaks::Closes => {}
                    Breaks::Silent => {
                        let _ = s.read(&mut [0u8; 16]);
                    }
                    Breaks::GarbageCertificate => {
                        let _ = s.write_all(&tls12_flight(b"this is not a certificate"));
                        let _ = s.read(&mut [0u8; 4096]);
                    }
                }
            }
        });
        port
    }

    /// One TLS 1.2 record holding a server's first flight for
    /// ECDHE-ECDSA-AES128-GCM-SHA256 (RFC 5246 §7.4, RFC 8422 §5.4), with
    /// `cert` as its certificate and a key share and signature that are
    /// never looked at (the certificate is checked first).
    fn tls12_flight(cert: &[u8]) -> Vec<u8> {
        let u24 = |n: usize| [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let message = |kind: u8, body: &[u8]| [&[kind][..], &u24(body.len()), body].concat();
        let hello = [&[3, 3][..], &[0x42; 32], &[0], &[0xc0, 0x2b], &[0]].concat();
        let certificates = [&u24(cert.len() + 3)[..], &u24(cert.len()), cert].concat();
        let kx = [&[3, 0, 0x1d, 32][..], &[0x55; 32], &[4, 3, 0, 64], &[0x66; 64]].concat();
        let handshake = [message(2, &hello), message(11, &certificates), message(12, &kx), message(14, &[])].concat();
        let len = handshake.len() as u16;
        [&[0x16, 3, 3][..], &len.to_be_bytes(), &handshake].concat()
    }

    /// A peer that closes mid-handshake, one that never answers, and one
    /// whose certificate is garbage each fail with their reason, and stderr
    /// says what happened; nothing hangs or panics.
    #[test]
    fn peers_that_break_the_handshake_fail_with_a_reason() {
        let dir = Scratch::new("checks-tls-broken");
        let mut cfg = NO_COLLECTORS.to_owned();
        let mut ports = Vec::new();
        for (name, how) in
            [("closes", Breaks::Closes), ("silent", Breaks::Silent), ("garbage", Breaks::GarbageCertificate)]
        {
            let port = breaking_peer(how);
            ports.push(port);
            cfg.push_str(&format!(
                "[[check]]\nname = \"{name}\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{port}\"\ntls = true\ntimeout = \"1s\"\n"
            ));
        }
        let (text, err) = once_failing(&dir.write("sonde.toml", &cfg));
        promtool_check(&text);
        assert_eq!(probe_value(&text, &at("closes", "tls")), Some(0.0), "{text}");
        assert!(err.contains("closed the connection during the TLS handshake"), "{err}");
        assert_eq!(probe_value(&text, &at("silent", "timeout")), Some(0.0), "{text}");
        assert!(err.contains("no TLS handshake before the deadline"), "{err}");
        assert_eq!(probe_value(&text, &at("garbage", "certificate")), Some(0.0), "{text}\n{err}");
        assert!(
            err.contains(&format!("check garbage failed on 127.0.0.1:{} (ipv4): certificate: ", ports[2])),
            "{err}"
        );
        assert!(err.contains("BadEncoding"), "{err}");
    }
}

/// sonde resolves names itself: the hosts file, then resolv.conf's
/// nameserver (Debian's unbound serving a local zone on 127.0.0.1:53 of a
/// namespace the test makes; `ip netns exec` bind-mounts the test's
/// resolv.conf and hosts over /etc's in a mount namespace of its own),
/// with the search list, CNAMEs, NXDOMAIN told as `resolve`; and a
/// nameserver that never answers fails the check within its timeout, not
/// after resolv.conf's 30 s as getaddrinfo did.
#[test]
fn names_resolve_through_resolv_conf_within_the_check_timeout() {
    need("/usr/sbin/unbound", "unbound");
    let mut ns = Netns { name: format!("sonde-dns-{}", std::process::id()), children: Vec::new() };
    sh(&["ip", "netns", "add", &ns.name]);
    sh(&["ip", "-n", &ns.name, "link", "set", "lo", "up"]);
    sh(&["ip", "-n", &ns.name, "addr", "add", "127.0.0.2/8", "dev", "lo"]);
    let etc = format!("/etc/netns/{}", ns.name);
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(format!("{etc}/hosts"), "127.0.0.1 localhost\n127.0.0.1 fromhosts.test\n").unwrap();
    std::fs::write(format!("{etc}/resolv.conf"), "search nothere.test example.test\nnameserver 127.0.0.1\n").unwrap();
    let dir = Scratch::new("checks-resolve");
    // An auth-zone, as local-data answers a CNAME without its target.
    let zone = dir.write(
        "example.test.zone",
        "$ORIGIN example.test.\n@ 60 IN SOA ns hostmaster 1 3600 900 86400 60\n@ 60 IN NS ns\nns 60 IN A 127.0.0.1\n\
         www 60 IN A 127.0.0.1\ndual 60 IN A 127.0.0.1\ndual 60 IN AAAA ::1\nalias 60 IN CNAME alias2\n\
         alias2 60 IN CNAME www\nmail 60 IN MX 10 www\n",
    );
    let conf = dir.write(
        "unbound.conf",
        &format!(
            "server:\n  interface: 127.0.0.1@53\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  \
             directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  logfile: \"\"\n  \
             do-ip6: no\n  access-control: 127.0.0.0/8 allow\n  module-config: \"iterator\"\n  \
             local-zone: \"example.test.\" transparent\n  local-zone: \"nothere.test.\" static\n  local-zone: \"refused.test.\" refuse\n\
             auth-zone:\n  name: \"example.test.\"\n  zonefile: \"{z}\"\n  for-downstream: yes\n  for-upstream: no\n",
            d = dir.0.display(),
            z = zone.display()
        ),
    );
    ns.children.push(spawn(
        Command::new("ip").args(["netns", "exec", &ns.name, "/usr/sbin/unbound", "-d", "-c"]).arg(&conf),
        &dir.0.join("unbound.log"),
    ));
    wait_for("unbound in the namespace", Duration::from_secs(10), || {
        let out = Command::new("ip").args(["netns", "exec", &ns.name, "ss", "-Htln", "sport = :53"]).output();
        out.ok().filter(|o| !o.stdout.is_empty()).map(|_| ())
    });
    // Both families on port 2000; held, never accepted (the backlog
    // completes the handshake).
    let _listener = in_ns(&ns.name, || std::net::TcpListener::bind("[::]:2000").unwrap());
    let check = |name: &str, target: &str| {
        format!("[[check]]\nname = \"{name}\"\nkind = \"tcp\"\ntarget = \"{target}\"\ntimeout = \"3s\"\n")
    };
    let cfg = dir.write(
        "sonde.toml",
        &format!(
            "{NO_COLLECTORS}{}{}{}{}{}{}{}{}{}",
            check("www", "www.example.test:2000"),
            check("searched", "www:2000"),
            check("alias", "alias.example.test.:2000"),
            check("dual", "dual.example.test:2000"),
            check("hosts", "fromhosts.test:2000"),
            check("localhost", "localhost:2000"),
            check("nx", "nothere.example.test:2000"),
            check("noaddress", "mail.example.test:2000"),
            check("refused", "x.refused.test:2000"),
        ),
    );
    let text = once(Some(&ns.name), &cfg, true);
    promtool_check(&text);
    let at = |check: &str, addr: &str, fam: &str| {
        format!("probe_success{{check=\"{check}\",address=\"{addr}\",family=\"{fam}\",reason=\"\"}}")
    };
    for name in ["www", "searched", "alias", "dual", "hosts", "localhost"] {
        assert_eq!(probe_value(&text, &at(name, "127.0.0.1", "ipv4")), Some(1.0), "{name}:\n{text}");
    }
    assert_eq!(probe_value(&text, &at("dual", "::1", "ipv6")), Some(1.0), "{text}");
    assert_eq!(probe_value(&text, &at("localhost", "::1", "ipv6")), None, "the hosts file has only 127.0.0.1");
    let unresolved = |check: &str| {
        format!("sonde_check_failure_info{{check=\"{check}\",address=\"\",family=\"any\",reason=\"resolve\"}}")
    };
    assert_eq!(probe_value(&text, &unresolved("nx")), Some(1.0), "{text}");
    assert_eq!(probe_value(&text, &unresolved("noaddress")), Some(1.0), "{text}");
    // REFUSED from the only server: the lookup ends at the answer, not
    // at the check's 3 s.
    assert_eq!(probe_value(&text, &unresolved("refused")), Some(1.0), "{text}");
    let took = |check: &str| {
        probe_value(&text, &format!("probe_duration_seconds{{check=\"{check}\",address=\"\",family=\"any\"}}")).unwrap()
    };
    assert!(took("refused") < 1.0, "{} s for a REFUSED answer:\n{text}", took("refused"));
    assert!(took("nx") < 1.0, "{} s for NXDOMAIN:\n{text}", took("nx"));

    // A nameserver that takes the query and never answers: a socket held,
    // never read. resolv.conf would wait 30 s; the check's 2 s bound it.
    let _silent = in_ns(&ns.name, || UdpSocket::bind("127.0.0.2:53").unwrap());
    std::fs::write(format!("{etc}/resolv.conf"), "nameserver 127.0.0.2\noptions timeout:30 attempts:1\n").unwrap();
    let cfg = dir.write(
        "silent.toml",
        &format!(
            "{NO_COLLECTORS}[[check]]\nname = \"silent\"\nkind = \"tcp\"\ntarget = \"www.example.test:2000\"\n\
             timeout = \"2s\"\n"
        ),
    );
    let started = Instant::now();
    let text = once(Some(&ns.name), &cfg, true);
    let took = started.elapsed().as_secs_f64();
    assert_eq!(probe_value(&text, &unresolved("silent")), Some(1.0), "{text}");
    let duration = probe_value(&text, "probe_duration_seconds{check=\"silent\",address=\"\",family=\"any\"}").unwrap();
    assert!((1.9..3.0).contains(&duration), "{duration} s for a 2 s check:\n{text}");
    assert!(took < 5.0, "{took:.1} s for --once with a 2 s check: the lookup was not bounded");
}
