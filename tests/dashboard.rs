//! Grafana's "Node Exporter Full", as an operator replacing node_exporter
//! runs it: a real Prometheus scrapes Debian's node_exporter (job `node`)
//! and sonde (job `sonde`) side by side, and every expression of every
//! panel is evaluated for each, with the dashboard's variables set as
//! Grafana sets them. Wherever an expression has node_exporter data it
//! must have sonde data too; the test lists every one that does not.
//!
//! The expressions are in `tests/fixtures/dashboards/node-exporter-full.txt`,
//! extracted from rfmoz/grafana-dashboards (Apache-2.0; the file's head
//! names the commit) by `extract.py` beside it. Both exporters run with
//! the processes collector on, as the dashboard's README recommends; its
//! other recommendation, node_exporter's systemd collector, is left off
//! (appliances run no systemd, and sonde has no such collector), so those
//! panels are empty for both. NODE_EXPORTER_COVERAGE.md carries the counts
//! this test prints.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::peers::{NodeExporter, Prometheus};
use common::{repo, wait_for, Scratch, Sonde};

/// Grafana's `$__rate_interval` for a 1 s scrape interval is 4 s (four
/// scrape intervals); one more second keeps two samples in every window
/// when a scrape is late.
const RATE_INTERVAL: &str = "5s";

/// One panel target: the panel's id and title, and its expression.
struct Target {
    panel: u32,
    title: String,
    expr: String,
}

fn targets() -> Vec<Target> {
    let path = repo().join("tests/fixtures/dashboards/node-exporter-full.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let targets: Vec<Target> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (id, title, expr) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            Target { panel: id.parse().unwrap(), title: title.to_owned(), expr: expr.to_owned() }
        })
        .collect();
    assert!(targets.len() > 200, "{}: only {} expressions", path.display(), targets.len());
    targets
}

/// `expr` with the dashboard's variables as Grafana sets them for one
/// job and instance.
fn for_job(expr: &str, job: &str, instance: &str) -> String {
    expr.replace("$__rate_interval", RATE_INTERVAL).replace("$node", instance).replace("$job", job)
}

#[test]
fn node_exporter_full_has_sonde_data_wherever_node_exporter_has() {
    let scratch = Scratch::new("dashboard");
    let ne = NodeExporter::start(&scratch.0, &["--collector.processes".to_owned()]);
    // The daemons' collectors are not node_exporter's, and this host may
    // have a stale chronyd socket: off, so nothing but the host is read.
    let sonde = Sonde::start(&["--collector", "processes", "--no-collector", "chrony", "--no-collector", "unbound"]);
    let ne_instance = format!("127.0.0.1:{}", ne.port);
    let sonde_instance = sonde.addr.to_string();
    let job = |name: &str, target: &str| {
        format!("  - job_name: {name}\n    static_configs:\n      - targets: ['{target}']\n")
    };
    let prometheus =
        Prometheus::start(&scratch.0, &format!("{}{}", job("node", &ne_instance), job("sonde", &sonde_instance)), "");
    // Enough samples of both for every rate window, and both scrapes whole.
    for name in ["node", "sonde"] {
        wait_for(&format!("8 scrapes of {name}"), Duration::from_secs(60), || {
            let r = prometheus.query(&format!("count_over_time(up{{job=\"{name}\"}}[30s]) >= 8"));
            (!r.is_empty()).then_some(())
        });
        let (health, error) = prometheus.target(name).unwrap();
        assert_eq!(health, "up", "{name}: {error}");
    }

    // The template variables: job, then nodename by job, then instance by
    // job and nodename, each from node_uname_info.
    let jobs = prometheus.query("count by (job) (node_uname_info)");
    assert_eq!(jobs.len(), 2, "label_values(node_uname_info, job): {jobs:?}");
    let nodename = |job: &str| {
        let r = prometheus.query(&format!("node_uname_info{{job=\"{job}\"}}"));
        assert_eq!(r.len(), 1, "{job}: {r:?}");
        r[0]["metric"]["nodename"].as_str().unwrap().to_owned()
    };
    assert_eq!(nodename("sonde"), nodename("node"));
    let instance = prometheus.query(&format!("node_uname_info{{job=\"sonde\",nodename=\"{}\"}}", nodename("sonde")));
    assert_eq!(instance[0]["metric"]["instance"], sonde_instance.as_str());

    // Every expression, for each exporter.
    let targets = targets();
    let has_data = |expr: &str| !prometheus.query(expr).is_empty();
    let mut missing = Vec::new();
    let mut ne_data = 0;
    // Per panel: whether node_exporter's side has data, and whether
    // sonde's has it wherever node_exporter's does.
    let mut panels: BTreeMap<u32, (bool, bool)> = BTreeMap::new();
    let mut only_sonde = BTreeSet::new();
    for t in &targets {
        let ne_has = has_data(&for_job(&t.expr, "node", &ne_instance));
        let sonde_has = has_data(&for_job(&t.expr, "sonde", &sonde_instance));
        let panel = panels.entry(t.panel).or_insert((false, true));
        if ne_has {
            ne_data += 1;
            panel.0 = true;
            if !sonde_has {
                panel.1 = false;
                missing.push(format!("panel {} \"{}\": {}", t.panel, t.title, t.expr));
            }
        } else if sonde_has {
            only_sonde.insert(format!("panel {} \"{}\"", t.panel, t.title));
        }
    }
    let with_data = panels.values().filter(|(ne, _)| *ne).count();
    let working = panels.values().filter(|(ne, ok)| *ne && *ok).count();
    eprintln!(
        "dashboard: {} panels, {} expressions; node_exporter has data for {ne_data} expressions in {with_data} \
         panels; sonde has data for {} of those expressions and every one of them in {working} panels; \
         sonde alone has data in: {only_sonde:?}",
        panels.len(),
        targets.len(),
        ne_data - missing.len(),
    );
    // The counts that make this test mean something on any Linux host.
    assert!(with_data > 80, "node_exporter has data in only {with_data} panels");
    assert!(
        missing.is_empty(),
        "{} expressions have node_exporter data and no sonde data:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
