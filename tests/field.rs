//! Field truth: an operator's own blackbox.yml, Prometheus job file and
//! alert rule, given to sonde and to blackbox_exporter side by side,
//! against a real Unbound and a real SMTP server (exim), under a real
//! Prometheus: whenever blackbox's alert fires, sonde's fires, and they
//! resolve alike (issue 13: the field's `dns` job passed with the record
//! gone, and `probe_success == 0 for:` never fired while a failure changed
//! its reason).

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::peers::{need, BlackboxExporter, Daemon, Mta, Prometheus};
use common::{wait_for, Scratch, Sonde};

/// The operator's file, as the field had it: the dns module asks its own
/// name, the smtp banner is blackbox's example module.
const BLACKBOX_YML: &str = r#"modules:
  dns:
    prober: dns
    dns: {query_name: "test.example.com.", query_type: A, valid_rcodes: [NOERROR], preferred_ip_protocol: ip4}
  smtp_banner:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - expect: "^220"
      preferred_ip_protocol: ip4
"#;

/// The field's alert: on probe_success, never on up.
const RULES: &str = "groups:
  - name: field
    rules:
      - alert: ProbeFailed
        expr: probe_success == 0
        for: 4s
";

/// One Prometheus job as blackbox's README writes it: the target becomes
/// a parameter and the instance, the exporter is the address.
fn job(name: &str, module: &str, target: &str, exporter: u16) -> String {
    format!(
        "  - job_name: {name}\n    metrics_path: /probe\n    params:\n      module: [{module}]\n    \
         static_configs:\n      - targets: ['{target}']\n    relabel_configs:\n      \
         - source_labels: [__address__]\n        target_label: __param_target\n      \
         - source_labels: [__param_target]\n        target_label: instance\n      \
         - target_label: __address__\n        replacement: 127.0.0.1:{exporter}\n"
    )
}

/// What this test asks of Prometheus about the jobs' probes and alerts.
trait Probes {
    fn alert(&self, job: &str) -> Option<(String, String)>;
    fn firing(&self, job: &str) -> bool;
    fn success(&self, job: &str) -> (Option<f64>, usize);
    fn averaged_series(&self, job: &str) -> usize;
}

impl Probes for Prometheus {
    /// The state of ProbeFailed for `job`: None (inactive), "pending" or
    /// "firing", with its activeAt.
    fn alert(&self, job: &str) -> Option<(String, String)> {
        let v = self.get("/api/v1/alerts");
        v["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["labels"]["job"] == job)
            .map(|a| (a["state"].as_str().unwrap().to_owned(), a["activeAt"].as_str().unwrap_or_default().to_owned()))
    }

    fn firing(&self, job: &str) -> bool {
        self.alert(job).is_some_and(|(state, _)| state == "firing")
    }

    /// probe_success of `job`'s one series, and how many series it has.
    fn success(&self, job: &str) -> (Option<f64>, usize) {
        let r = self.query(&format!("probe_success{{job=\"{job}\"}}"));
        (r.first().and_then(|s| s["value"][1].as_str()?.parse().ok()), r.len())
    }

    /// How many series `avg_over_time(probe_success{job}[1m])` has: one,
    /// unless a label that changes with the failure splits the series.
    fn averaged_series(&self, job: &str) -> usize {
        self.query(&format!("avg_over_time(probe_success{{job=\"{job}\"}}[1m])")).len()
    }
}

fn unbound(dir: &Path) -> (Daemon, u16, std::path::PathBuf) {
    let bin = need("/usr/sbin/unbound", "unbound");
    let port = common::peers::free_udp_tcp_port();
    let d = dir.display();
    let conf = dir.join("unbound.conf");
    std::fs::write(
        &conf,
        format!(
            "server:\n  interface: 127.0.0.1\n  port: {port}\n  do-ip6: no\n  access-control: 127.0.0.0/8 allow\n  \
             username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  \
             use-syslog: no\n  logfile: \"\"\n  module-config: \"iterator\"\n  \
             local-zone: \"example.com.\" static\n  local-data: \"test.example.com. 60 IN A 192.0.2.7\"\n\
             remote-control:\n  control-enable: yes\n  control-interface: {d}/unbound.ctl\n"
        ),
    )
    .unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("-d").arg("-c").arg(&conf);
    let mut daemon = Daemon::spawn("unbound", &mut cmd, &dir.join("unbound.log"));
    daemon.wait_ready(Duration::from_secs(30), || {
        Command::new("/usr/sbin/unbound-control")
            .arg("-c")
            .arg(&conf)
            .arg("status")
            .output()
            .ok()?
            .status
            .success()
            .then_some(())
    });
    (daemon, port, conf)
}

fn control(conf: &Path, args: &[&str]) {
    let out = Command::new("/usr/sbin/unbound-control").arg("-c").arg(conf).args(args).output().unwrap();
    assert!(out.status.success(), "unbound-control {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) takes no pointers.
    assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0, "kill {pid}");
}

/// Waits until blackbox's job and sonde's job agree on `firing`.
fn both(p: &Prometheus, jobs: (&str, &str), firing: bool, what: &str) {
    wait_for(what, Duration::from_secs(60), || {
        (p.firing(jobs.0) == firing && p.firing(jobs.1) == firing).then_some(())
    });
}

#[test]
fn the_fields_jobs_fire_in_sonde_whenever_they_fire_in_blackbox() {
    let dir = Scratch::new("field");
    let (resolver, dns_port, unbound_conf) = unbound(&dir.0);
    let mta = Mta::start(&dir.0);
    let blackbox = BlackboxExporter::start(&dir.0, BLACKBOX_YML);
    let yml = dir.write("blackbox.yml", BLACKBOX_YML);
    let sonde = Sonde::start(&["--blackbox-config", yml.to_str().unwrap(), "--no-collector", "chrony"]);
    let dns_target = format!("127.0.0.1:{dns_port}");
    let smtp_target = format!("127.0.0.1:{}", mta.port);
    let sonde_port = sonde.addr.port();
    let jobs = [
        job("dns", "dns", &dns_target, blackbox.port),
        job("sonde_dns", "dns", &dns_target, sonde_port),
        job("smtp_check", "smtp_banner", &smtp_target, blackbox.port),
        job("sonde_smtp_check", "smtp_banner", &smtp_target, sonde_port),
    ]
    .concat();
    let p = Prometheus::start(&dir.0, &jobs, RULES);
    let dns = ("dns", "sonde_dns");
    let smtp = ("smtp_check", "sonde_smtp_check");
    for job in ["dns", "sonde_dns", "smtp_check", "sonde_smtp_check"] {
        wait_for(&format!("{job} up"), Duration::from_secs(30), || (p.success(job).0 == Some(1.0)).then_some(()));
    }

    // The record removed: NXDOMAIN, which blackbox's module (NOERROR only)
    // fails, and sonde's too, since it asks the module's own name.
    control(&unbound_conf, &["local_data_remove", "test.example.com."]);
    both(&p, dns, true, "both dns alerts firing without the record");
    control(&unbound_conf, &["local_data", "test.example.com. 60 IN A 192.0.2.7"]);
    both(&p, dns, false, "both dns alerts resolved with the record back");

    // The SMTP server hung (its greeting never comes: timeout), then
    // stopped (refused): the failure changes its reason, and the alert
    // that fired while it hung keeps firing, from the same moment.
    signal(mta.daemon.pid(), libc::SIGSTOP);
    both(&p, smtp, true, "both smtp alerts firing while the server hangs");
    let active = (p.alert(smtp.0).unwrap().1, p.alert(smtp.1).unwrap().1);
    signal(mta.daemon.pid(), libc::SIGKILL);
    signal(mta.daemon.pid(), libc::SIGCONT);
    let refused =
        |t: &str| sonde.get(&format!("/probe?module=smtp_banner&target={t}")).text().contains("reason=\"refused\"");
    wait_for("sonde to see the server refuse", Duration::from_secs(30), || refused(&smtp_target).then_some(()));
    // Three evaluations later, on both sides, the same alerts.
    let evaluation = || p.get("/api/v1/rules")["data"]["groups"][0]["lastEvaluation"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let seen = evaluation();
        wait_for("the next evaluation", Duration::from_secs(30), || (evaluation() != seen).then_some(()));
    }
    assert_eq!(p.alert(smtp.0).map(|a| a.1), Some(active.0), "blackbox's alert kept firing");
    assert_eq!(p.alert(smtp.1).map(|a| a.1), Some(active.1), "sonde's alert kept firing, its for: clock unbroken");
    assert!(p.firing(smtp.1));
    assert_eq!(p.success(smtp.1), (Some(0.0), 1), "one probe_success series through the change of reason");
    assert_eq!(p.averaged_series(smtp.1), 1, "avg_over_time does not split");

    // The resolver stopped: both fail.
    signal(resolver.pid(), libc::SIGKILL);
    both(&p, dns, true, "both dns alerts firing with the resolver stopped");
    drop((sonde, resolver));
}
