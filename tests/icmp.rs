//! The icmp check in network namespaces the test makes: a probe
//! namespace and a target namespace joined by a veth pair, IPv4 and IPv6,
//! with nftables rules in the target for what a network does to echoes:
//! a reachable host, a DROP rule (timeout), and lossy paths, one dropping
//! 3 echoes in 10 at random and one dropping exactly every 3rd, 4th... by
//! a counter (`numgen inc mod 10 < 3`: exactly 30 %). `tc netem loss 30%`
//! would be the usual way; this machine's kernel is built without
//! sch_netem (CONFIG_NET_SCH_NETEM is not set, and it loads no modules),
//! so nftables' numgen, which every kernel with nf_tables has, drops
//! instead. Then the sockets: a new namespace's
//! `net.ipv4.ping_group_range` is "1 0" (nobody may open a datagram
//! socket), so root gets a raw socket; with "0 2147483647" nobody gets a
//! datagram socket; with neither, the check says why. Last, blackbox's
//! icmp module side by side with blackbox_exporter 0.23 on loopback.
//!
//! These tests need root (namespaces, raw sockets); a missing tool fails
//! them, never skips them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::peers::BlackboxExporter;
use common::{probe_value, promtool_check, value, Scratch, Sonde};

/// Two namespaces joined by a veth pair; removed when dropped.
struct Net {
    probe: String,
    target: String,
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in [&self.probe, &self.target] {
            let _ = Command::new("ip").args(["netns", "delete", ns]).status();
        }
        let _ = std::fs::remove_dir_all(format!("/etc/netns/{}", self.probe));
    }
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The probe namespace at 10.16.0.1 and fd16::1; the target at .2 to .5
/// and fd16::2, fd16::3, with the nftables rules of `rules` (the body of
/// an input chain); `target.test` names .2 and fd16::2 in the probe's
/// /etc/hosts.
fn net(tag: &str, dir: &Path, rules: &str) -> Net {
    let id = std::process::id();
    let n = Net { probe: format!("sonde-icmp-{tag}-{id}"), target: format!("sonde-icmpt-{tag}-{id}") };
    let (p, t) = (n.probe.as_str(), n.target.as_str());
    sh(&["ip", "netns", "add", p]);
    sh(&["ip", "netns", "add", t]);
    sh(&["ip", "-n", p, "link", "add", "icmp0", "type", "veth", "peer", "name", "icmp1"]);
    sh(&["ip", "-n", p, "link", "set", "icmp1", "netns", t]);
    for (ns, dev, addrs) in [
        (p, "icmp0", &["10.16.0.1/24", "fd16::1/64"][..]),
        (t, "icmp1", &["10.16.0.2/24", "10.16.0.3/24", "10.16.0.4/24", "10.16.0.5/24", "fd16::2/64", "fd16::3/64"]),
    ] {
        for a in addrs {
            // nodad: an IPv6 address is usable at once, not after DAD.
            let extra: &[&str] = if a.contains(':') { &["nodad"] } else { &[] };
            sh(&[&["ip", "-n", ns, "addr", "add", a, "dev", dev], extra].concat());
        }
        sh(&["ip", "-n", ns, "link", "set", dev, "up"]);
        sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
    }
    std::fs::create_dir_all(format!("/etc/netns/{p}")).unwrap();
    std::fs::write(format!("/etc/netns/{p}/hosts"), "10.16.0.2 target.test\nfd16::2 target.test\n").unwrap();
    let nft = dir.join(format!("{tag}.nft"));
    std::fs::write(
        &nft,
        format!("table inet fw {{\n  chain input {{\n    type filter hook input priority 0; policy accept;\n{rules}  }}\n}}\n"),
    )
    .unwrap();
    sh(&["ip", "netns", "exec", t, "nft", "-f", nft.to_str().unwrap()]);
    n
}

/// `sonde --once --config CONFIG` in namespace `ns`, as `user` (root
/// when None): stdout and stderr, after checking the exit code says
/// whether a check failed.
fn once(ns: &str, user: Option<&str>, config: &Path, any_failed: bool) -> (String, String) {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]);
    if let Some(uid) = user {
        c.args(["setpriv", &format!("--reuid={uid}"), &format!("--regid={uid}"), "--clear-groups"]);
    }
    if let Some(runner) = std::env::var_os("SONDE_RUNNER").filter(|r| !r.is_empty()) {
        c.arg(runner);
    }
    let out = c.arg(common::bin()).arg("--once").arg("--config").arg(config).stdin(Stdio::null()).output().unwrap();
    let (text, err) = (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert_eq!(out.status.code(), Some(i32::from(any_failed)), "stderr:\n{err}\nstdout:\n{text}");
    assert!(!err.contains("panicked"), "{err}");
    (text, err)
}

/// An icmp check, with a timeout of 2 s unless `extra` sets one.
fn check(name: &str, target: &str, extra: &str) -> String {
    let timeout = if extra.contains("timeout") { "" } else { "timeout = \"2s\"\n" };
    format!("[[check]]\nname = \"{name}\"\nkind = \"icmp\"\ntarget = \"{target}\"\n{timeout}{extra}")
}

const NO_COLLECTORS: &str = "[collectors]\ndefaults = false\n";

fn at(family: &str, check: &str, addr: &str) -> String {
    let fam = if addr.contains(':') { "ipv6" } else { "ipv4" };
    format!("{family}{{check=\"{check}\",address=\"{addr}\",family=\"{fam}\"}}")
}

fn success(text: &str, check: &str, addr: &str, reason: &str) -> Option<f64> {
    let fam = if addr.contains(':') { "ipv6" } else { "ipv4" };
    probe_value(
        text,
        &format!("probe_success{{check=\"{check}\",address=\"{addr}\",family=\"{fam}\",reason=\"{reason}\"}}"),
    )
}

/// A reachable dual-stack name (both families, each its own outcome), a
/// DROP rule on IPv4 and IPv6 (timeout), 20 echoes through 30 % loss (by
/// counter: exactly 0.3; at random: near it), and don't-fragment: a
/// 2000-byte payload refused at the 1500-byte link, fragmented without it.
#[test]
fn echoes_through_reachable_dropped_and_lossy_paths() {
    let dir = Scratch::new("icmp-paths");
    let n = net(
        "paths",
        &dir.0,
        "    ip daddr 10.16.0.3 icmp type echo-request drop\n    ip6 daddr fd16::3 icmpv6 type echo-request drop\n    \
         ip daddr 10.16.0.4 icmp type echo-request numgen inc mod 10 < 3 drop\n    \
         ip daddr 10.16.0.5 icmp type echo-request numgen random mod 10 < 3 drop\n",
    );
    let cfg = dir.write(
        "sonde.toml",
        &[
            NO_COLLECTORS,
            &check("reachable", "target.test", "count = 3\n"),
            &check("dropped", "10.16.0.3", ""),
            &check("dropped6", "fd16::3", ""),
            &check("counted_loss", "10.16.0.4", "count = 20\ntimeout = \"4s\"\n"),
            &check("random_loss", "10.16.0.5", "count = 20\ntimeout = \"4s\"\n"),
            &check("df", "10.16.0.2", "payload_size = 2000\ndont_fragment = true\n"),
            &check("fragmented", "10.16.0.2", "payload_size = 2000\n"),
        ]
        .concat(),
    );
    let (text, err) = once(&n.probe, None, &cfg, true);
    promtool_check(&text);
    let v = |family: &str, c: &str, addr: &str| value(&text, &at(family, c, addr));
    for addr in ["10.16.0.2", "fd16::2"] {
        assert_eq!(success(&text, "reachable", addr, ""), Some(1.0), "{addr}:\n{text}\n{err}");
        assert_eq!(v("probe_icmp_reply_hop_limit", "reachable", addr), Some(64.0), "{addr}: one hop, nothing routed");
        assert_eq!(v("probe_icmp_packets_sent", "reachable", addr), Some(3.0));
        assert_eq!(v("probe_icmp_packets_received", "reachable", addr), Some(3.0));
        assert_eq!(v("probe_icmp_packet_loss_ratio", "reachable", addr), Some(0.0));
        let socket = format!(
            "probe_icmp_socket_info{{check=\"reachable\",address=\"{addr}\",family=\"{}\",socket=\"raw\"}}",
            if addr.contains(':') { "ipv6" } else { "ipv4" }
        );
        assert_eq!(value(&text, &socket), Some(1.0), "root in a new namespace: raw\n{text}");
        let (min, avg, max) = (
            v("probe_icmp_rtt_min_seconds", "reachable", addr).unwrap(),
            v("probe_icmp_rtt_avg_seconds", "reachable", addr).unwrap(),
            v("probe_icmp_rtt_max_seconds", "reachable", addr).unwrap(),
        );
        assert!(0.0 < min && min <= avg && avg <= max, "{min} {avg} {max}");
        assert!(v("probe_icmp_rtt_stddev_seconds", "reachable", addr).unwrap() <= max - min);
    }
    for (c, addr) in [("dropped", "10.16.0.3"), ("dropped6", "fd16::3")] {
        assert_eq!(success(&text, c, addr, "timeout"), Some(0.0), "{c}:\n{text}");
        assert_eq!(v("probe_icmp_packet_loss_ratio", c, addr), Some(1.0));
        assert_eq!(v("probe_icmp_rtt_avg_seconds", c, addr), None, "no round trip without a reply");
        assert_eq!(v("probe_icmp_reply_hop_limit", c, addr), None);
    }
    assert_eq!(success(&text, "counted_loss", "10.16.0.4", ""), Some(1.0), "some echoes came back");
    assert_eq!(v("probe_icmp_packets_received", "counted_loss", "10.16.0.4"), Some(14.0), "{text}");
    assert_eq!(v("probe_icmp_packet_loss_ratio", "counted_loss", "10.16.0.4"), Some(0.3), "{text}");
    // Binomial(20, 0.3): outside 1..13 losses about once in a thousand runs.
    let random = v("probe_icmp_packet_loss_ratio", "random_loss", "10.16.0.5").unwrap();
    assert!((0.05..=0.65).contains(&random), "loss ratio {random} for 30 % random loss");
    assert_eq!(success(&text, "df", "10.16.0.2", "error"), Some(0.0), "{text}");
    // EMSGSIZE: "Message too long" (glibc), "Message too large" (musl).
    assert!(err.contains("check df failed") && err.contains("sending an echo: Message too l"), "{err}");
    assert_eq!(success(&text, "fragmented", "10.16.0.2", ""), Some(1.0), "{text}");
}

/// Which socket: with `ping_group_range` "0 2147483647" even nobody gets
/// a datagram socket; with the new namespace's "1 0", root falls back to
/// a raw socket and nobody gets neither, and the words say both.
#[test]
fn the_socket_is_unprivileged_where_allowed_raw_else_and_said_when_neither() {
    let dir = Scratch::new("icmp-sockets");
    let n = net("sockets", &dir.0, "");
    let cfg = dir.write("sonde.toml", &[NO_COLLECTORS, &check("echo", "target.test", "")].concat());
    let nobody = Some("65534");
    let socket = |text: &str, addr: &str, kind: &str| {
        let fam = if addr.contains(':') { "ipv6" } else { "ipv4" };
        value(
            text,
            &format!("probe_icmp_socket_info{{check=\"echo\",address=\"{addr}\",family=\"{fam}\",socket=\"{kind}\"}}"),
        )
    };
    sh(&["ip", "netns", "exec", &n.probe, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"]);
    let (text, _) = once(&n.probe, nobody, &cfg, false);
    for addr in ["10.16.0.2", "fd16::2"] {
        assert_eq!(success(&text, "echo", addr, ""), Some(1.0), "{text}");
        assert_eq!(socket(&text, addr, "datagram"), Some(1.0), "{text}");
        assert_eq!(
            value(&text, &at("probe_icmp_reply_hop_limit", "echo", addr)),
            Some(64.0),
            "from the control message"
        );
    }
    sh(&["ip", "netns", "exec", &n.probe, "sysctl", "-qw", "net.ipv4.ping_group_range=1 0"]);
    let (text, _) = once(&n.probe, None, &cfg, false);
    assert_eq!((socket(&text, "10.16.0.2", "raw"), socket(&text, "fd16::2", "raw")), (Some(1.0), Some(1.0)), "{text}");
    let (text, err) = once(&n.probe, nobody, &cfg, true);
    assert_eq!(success(&text, "echo", "10.16.0.2", "no_socket"), Some(0.0), "{text}");
    assert_eq!(success(&text, "echo", "fd16::2", "no_socket"), Some(0.0), "{text}");
    for said in [
        "an ICMP datagram socket: Permission denied",
        "outside net.ipv4.ping_group_range \"1 0\"",
        "a raw socket: Operation not permitted",
        "root or CAP_NET_RAW",
    ] {
        assert!(err.contains(said), "{said}: {err}");
    }
}

/// blackbox's example icmp module and one for IPv4 with a payload and a
/// TTL, through blackbox_exporter 0.23 and sonde's /probe, on loopback
/// (the host's own network is not the test's to break, so the failure
/// here is a target without an address of the family asked): the same
/// probe_success, the same families and label names.
#[test]
fn icmp_modules_side_by_side_with_blackbox_exporter() {
    let dir = Scratch::new("icmp-blackbox");
    let yml = "modules:
  icmp:
    prober: icmp
    timeout: 2s
  icmp_ip4:
    prober: icmp
    timeout: 2s
    icmp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      payload_size: 64
      ttl: 5
";
    let bb = BlackboxExporter::start(&dir.0, yml);
    let file = dir.write("blackbox.yml", yml);
    let sonde = Sonde::start(&["--blackbox-config", file.to_str().unwrap(), "--no-collector", "chrony"]);
    for (module, target, want) in [
        ("icmp", "127.0.0.1", 1.0),
        ("icmp", "::1", 1.0),
        ("icmp_ip4", "127.0.0.1", 1.0),
        // No IPv4 address, no fallback: both fail before any echo.
        ("icmp_ip4", "::1", 0.0),
    ] {
        let got = side_by_side(&sonde, &bb, module, target);
        assert_eq!(got, want, "{module} {target}");
    }
}

/// `/probe` of `module` for `target` on both: probe_success, and the
/// families with their label names (sonde's `probe_timeout_seconds` and,
/// while failing, `sonde_check_failure_info` aside: blackbox 0.23 has
/// neither).
fn side_by_side(sonde: &Sonde, bb: &BlackboxExporter, module: &str, target: &str) -> f64 {
    let path = format!("/probe?module={module}&target={}", target.replace(':', "%3A"));
    // HTTP/1.0, so that blackbox's answer comes whole, not chunked.
    let theirs = common::request(([127, 0, 0, 1], bb.port).into(), &format!("GET {path} HTTP/1.0\r\n\r\n"));
    let theirs = theirs.text().to_owned();
    let r = sonde.get(&path);
    assert_eq!(r.status, 200, "{}", r.text());
    let ours = r.text().to_owned();
    promtool_check(&ours);
    let success = value(&theirs, "probe_success").unwrap();
    let said = format!("{module} {target}:\nblackbox:\n{theirs}\nsonde:\n{ours}");
    assert_eq!(value(&ours, "probe_success"), Some(success), "{said}");
    let ours_shape: Vec<_> = shape(&ours)
        .into_iter()
        .filter(|(n, _)| n != "probe_timeout_seconds" && n != "sonde_check_failure_info")
        .collect();
    assert_eq!(ours_shape, shape(&theirs), "{said}");
    success
}

/// Each family with the label names of its samples, sorted.
fn shape(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, labels) = match l.split_once('{') {
                Some((name, rest)) => (name, rest.rsplit_once('}').unwrap().0),
                None => (l.split(' ').next().unwrap(), ""),
            };
            // These label values hold no commas or equals signs.
            let mut names: Vec<String> =
                labels.split(',').filter(|p| !p.is_empty()).map(|p| p.split('=').next().unwrap().to_owned()).collect();
            names.sort();
            (name.to_owned(), names)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
