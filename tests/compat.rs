//! node_exporter compatibility, measured against the real one: Debian's
//! `prometheus-node-exporter` and sonde run on this host in the same test,
//! and their scrapes are compared.
//!
//! - Every `node_*` family both emit has the same name, type and label
//!   names. Labels that node_exporter added after the version installed
//!   here are listed in [`NEWER`], with the version that added them, and
//!   allowed only when the installed one is older.
//! - Gauges that do not move between scrapes (memory size, boot time,
//!   filesystem sizes, MTUs, the OS's identity, …) are equal series by
//!   series, and the number of CPUs is the same.
//! - node_exporter is scraped before and after sonde: every counter (and
//!   every untyped counter of netstat and vmstat) of sonde's lies between
//!   node_exporter's two values, series by series.
//! - Of the families node_exporter emits here, sonde emits all but those
//!   listed in [`NOT_COVERED`], each of which NODE_EXPORTER_COVERAGE.md
//!   explains.
//!
//! Both read the same textfile directory, so the textfile collector's
//! output is compared too; sonde reads every netclass attribute
//! (`[netclass] all_attributes`), so that all of node_exporter's netclass
//! families are compared. node_exporter missing is a failure, never a
//! skip: `tests/setup.sh` installs it.

// A test that cannot unwrap has failed; the panic is the report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use common::peers::NodeExporter;
use common::{request, Scratch, Sonde};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";

/// node_exporter families sonde does not emit, and why (the same reasons
/// as NODE_EXPORTER_COVERAGE.md gives).
const NOT_COVERED: &[(&str, &str)] = &[("node_exporter_build_info", "sonde's own is sonde_build_info")];

/// Labels node_exporter added after some version: (family, label,
/// version that added it). A family matching a prefix ending in `_`
/// covers the whole subsystem.
const NEWER: &[(&str, &str, (u32, u32))] = &[
    ("node_filesystem_", "device_error", (1, 8)),
    ("node_network_info", "adminstate", (1, 6)),
    ("node_disk_info", "rotational", (1, 9)),
];

/// Gauges that do not move while the test runs: equal, series by series.
const STATIC_GAUGES: &[&str] = &[
    "node_boot_time_seconds",
    "node_memory_MemTotal_bytes",
    "node_memory_SwapTotal_bytes",
    "node_memory_HugePages_Total",
    "node_memory_Hugepagesize_bytes",
    "node_memory_VmallocTotal_bytes",
    "node_entropy_pool_size_bits",
    "node_filefd_maximum",
    "node_nf_conntrack_entries_limit",
    "node_filesystem_size_bytes",
    "node_filesystem_files",
    "node_filesystem_readonly",
    "node_filesystem_device_error",
    "node_network_mtu_bytes",
    "node_network_speed_bytes",
    "node_network_iface_id",
    "node_network_flags",
    "node_network_protocol_type",
    "node_network_transmit_queue_length",
    "node_network_up",
    "node_network_info",
    "node_disk_info",
    "node_uname_info",
    "node_os_info",
    "node_os_version",
    "node_time_zone_offset_seconds",
    "node_time_clocksource_current_info",
    "node_timex_tick_seconds",
    "node_selinux_enabled",
    "node_textfile_scrape_error",
    "node_textfile_mtime_seconds",
    "textfile_compat_answer",
];

/// Untyped node_exporter families that are not counters.
const UNTYPED_GAUGES: &[&str] = &["node_netstat_Tcp_CurrEstab", "node_netstat_Ip_Forwarding"];

#[derive(Debug, Default)]
struct Family {
    kind: String,
    help: String,
    labels: BTreeSet<String>,
    /// Sorted `name="value"` pairs, joined, to the value.
    samples: BTreeMap<Vec<(String, String)>, f64>,
}

/// Families of an exposition, with their samples (summaries and
/// histograms are not compared here and are skipped).
fn parse(text: &str) -> BTreeMap<String, Family> {
    let mut out: BTreeMap<String, Family> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            out.entry(name.to_owned()).or_default().kind = kind.to_owned();
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            out.entry(name.to_owned()).or_default().help = help.to_owned();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            Some((n, l)) => (n, labels_of(l.strip_suffix('}').unwrap())),
            None => (series, Vec::new()),
        };
        let Some(family) = out.get_mut(name) else { continue };
        family.labels.extend(labels.iter().map(|(n, _)| n.clone()));
        family.samples.insert(labels, value.parse().unwrap());
    }
    out
}

/// `a="x",b="y \" z"` as sorted pairs, values unescaped.
fn labels_of(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    while let Some((name, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next().map_or('\\', |(_, c)| if c == 'n' { '\n' } else { c })),
                '"' => {
                    end = i;
                    break;
                }
                c => value.push(c),
            }
        }
        pairs.push((name.trim_start_matches(',').to_owned(), value));
        rest = &after[(end + 1).min(after.len())..];
    }
    pairs.sort();
    pairs
}

fn version_of_node_exporter() -> (u32, u32) {
    let out = Command::new(NODE_EXPORTER).arg("--version").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // "node_exporter, version 1.5.0 (branch: …"
    let v = text.split("version ").nth(1).unwrap().split(['.', ' ']).collect::<Vec<_>>();
    (v[0].parse().unwrap(), v[1].parse().unwrap())
}

/// A label that the installed node_exporter is too old to have.
fn newer_label(family: &str, label: &str, installed: (u32, u32)) -> bool {
    NEWER.iter().any(|(f, l, since)| {
        let covers = if f.ends_with('_') { family.starts_with(f) } else { family == *f };
        covers && *l == label && installed < *since
    })
}

fn scrape(addr: std::net::SocketAddr) -> String {
    let r = request(addr, "GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 200);
    // node_exporter may answer chunked.
    if r.header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(&r.body)
    } else {
        String::from_utf8(r.body).unwrap()
    }
}

fn dechunk(mut body: &[u8]) -> String {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap().trim(), 16).unwrap();
        body = &body[eol + 2..];
        if size == 0 {
            return String::from_utf8(out).unwrap();
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

/// node_exporter on a free loopback port with `args`, its log in `dir`.
fn spawn_node_exporter(dir: &Path, args: &[String]) -> (NodeExporter, std::net::SocketAddr) {
    let ne = NodeExporter::start(dir, args);
    let addr = ([127, 0, 0, 1], ne.port).into();
    (ne, addr)
}

/// The series of `sonde`, with the labels `ne` lacks because it is older
/// taken out, so that series can be matched.
fn comparable(
    family: &str,
    sonde: &Family,
    ne: &Family,
    installed: (u32, u32),
) -> BTreeMap<Vec<(String, String)>, f64> {
    sonde
        .samples
        .iter()
        .map(|(labels, v)| {
            let kept = labels
                .iter()
                .filter(|(n, _)| ne.labels.contains(n) || !newer_label(family, n, installed))
                .cloned()
                .collect();
            (kept, *v)
        })
        .collect()
}

#[test]
fn sonde_is_node_exporter_compatible_on_this_host() {
    let installed = version_of_node_exporter();
    let scratch = Scratch::new("compat");
    let textfile = scratch.0.join("textfile");
    std::fs::create_dir_all(&textfile).unwrap();
    std::fs::write(
        textfile.join("compat.prom"),
        "# HELP textfile_compat_answer From a cron script.\n# TYPE textfile_compat_answer gauge\n\
         textfile_compat_answer{job=\"compat\"} 42\n",
    )
    .unwrap();
    let config = scratch.write(
        "sonde.toml",
        // Every netclass attribute node_exporter reads, so that all its
        // families are compared (sonde reads the basic ones by default).
        &format!(
            "[collectors]\nchrony = false\n[netclass]\nall_attributes = true\n[textfile]\ndirectory = \"{}\"\n",
            textfile.display()
        ),
    );
    let (_ne, ne_addr) =
        spawn_node_exporter(&scratch.0, &[format!("--collector.textfile.directory={}", textfile.display())]);
    let sonde = Sonde::start(&["--config", config.to_str().unwrap()]);

    let before = parse(&scrape(ne_addr));
    let ours = parse(sonde.get("/metrics").text());
    let after = parse(&scrape(ne_addr));

    let mut problems = Vec::new();
    let node = |n: &&String| n.starts_with("node_") || n.starts_with("textfile_");
    // Names, types and label names of the families both have.
    for (name, ne) in before.iter().filter(|(n, _)| node(n)) {
        let Some(s) = ours.get(name) else { continue };
        if s.kind != ne.kind {
            problems.push(format!("{name}: type {} here, {} in node_exporter", s.kind, ne.kind));
        }
        let extra: Vec<_> = s.labels.difference(&ne.labels).filter(|l| !newer_label(name, l, installed)).collect();
        let missing: Vec<_> = ne.labels.difference(&s.labels).collect();
        if !extra.is_empty() || !missing.is_empty() {
            problems.push(format!("{name}: labels {extra:?} only here, {missing:?} only in node_exporter"));
        }
    }
    // The process collector every exporter has: the same families, types
    // and help texts, and values that describe a live process.
    let process: Vec<&String> = before.keys().filter(|n| n.starts_with("process_")).collect();
    assert!(process.len() >= 7, "node_exporter's process_* families: {process:?}");
    for name in process {
        let ne = &before[name];
        match ours.get(name) {
            None => problems.push(format!("{name}: node_exporter has it, sonde does not")),
            Some(s) if s.kind != ne.kind || s.help != ne.help || !s.labels.is_empty() => problems.push(format!(
                "{name}: {} {:?} {:?} here, {} {:?} in node_exporter",
                s.kind, s.help, s.labels, ne.kind, ne.help
            )),
            Some(_) => {}
        }
    }
    let own = |n: &str| ours.get(n).and_then(|f| f.samples.get(&Vec::new())).copied().unwrap_or(f64::NAN);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((now - 600.0..=now).contains(&own("process_start_time_seconds")), "{}", own("process_start_time_seconds"));
    assert!(own("process_open_fds") >= 3.0 && own("process_open_fds") < own("process_max_fds"));
    assert!(own("process_resident_memory_bytes") > 100_000.0);
    assert!(own("process_virtual_memory_bytes") >= own("process_resident_memory_bytes"));
    assert!(own("process_cpu_seconds_total") >= 0.0);
    // Gauges that do not move.
    let mut compared = BTreeSet::new();
    for name in STATIC_GAUGES {
        let (Some(ne), Some(s)) = (before.get(*name), ours.get(*name)) else { continue };
        let s = comparable(name, s, ne, installed);
        for (labels, v) in &ne.samples {
            if let Some(mine) = s.get(labels) {
                compared.insert(*name);
                if (mine - v).abs() > v.abs() * 1e-12 {
                    problems.push(format!("{name}{labels:?}: {mine} here, {v} in node_exporter"));
                }
            }
        }
    }
    // Those every Linux host has must have matched a series.
    for name in
        ["node_boot_time_seconds", "node_memory_MemTotal_bytes", "node_filesystem_size_bytes", "node_uname_info"]
    {
        assert!(compared.contains(name), "no {name} series in common");
    }
    let cpus = |f: &BTreeMap<String, Family>| {
        f["node_cpu_seconds_total"].samples.keys().filter_map(|l| l.iter().find(|(n, _)| n == "cpu")).count()
    };
    assert_eq!(cpus(&ours), cpus(&before), "node_cpu_seconds_total series");
    // Counters lie between node_exporter's scrapes before and after.
    let mut bracketed = 0;
    for (name, s) in ours.iter().filter(|(n, _)| node(n)) {
        let counter = s.kind == "counter" || (s.kind == "untyped" && !UNTYPED_GAUGES.contains(&name.as_str()));
        let (Some(b), Some(a)) = (before.get(name), after.get(name)) else { continue };
        if !counter {
            continue;
        }
        for (labels, v) in comparable(name, s, b, installed) {
            let (Some(lo), Some(hi)) = (b.samples.get(&labels), a.samples.get(&labels)) else { continue };
            // CPU seconds are summed from ticks; allow one tick of rounding.
            // Otherwise allow the last digit: node_exporter divides stall
            // microseconds by 1000 twice, sonde by 1e6 once.
            let slack = if name.starts_with("node_cpu") { 0.011 } else { hi.abs() * 1e-12 };
            if v < lo - slack || v > hi + slack {
                problems.push(format!("{name}{labels:?}: {v} not within node_exporter's {lo}..{hi}"));
            }
            bracketed += 1;
        }
    }
    assert!(bracketed > 100, "only {bracketed} counter series compared");
    // Coverage: what node_exporter emits here, sonde emits.
    let ne_families: BTreeSet<&String> = before.keys().filter(node).collect();
    let ours_families: BTreeSet<&String> = ours.keys().filter(node).collect();
    let uncovered: Vec<&&String> = ne_families.difference(&ours_families).collect();
    for f in &uncovered {
        if !NOT_COVERED.iter().any(|(n, _)| *n == f.as_str()) {
            problems.push(format!("{f}: node_exporter has it here, sonde does not, and NOT_COVERED does not say why"));
        }
    }
    let covered = ne_families.len() - uncovered.len();
    eprintln!(
        "compat: node_exporter {}.{} emits {} node_* families here; sonde emits {covered} of them; \
         not covered: {uncovered:?}; only sonde: {:?}; {bracketed} counter series within bounds; \
         static gauges equal: {compared:?}",
        installed.0,
        installed.1,
        ne_families.len(),
        ours_families.difference(&ne_families).collect::<Vec<_>>()
    );
    assert!(problems.is_empty(), "{} incompatibilities:\n{}", problems.len(), problems.join("\n"));
}

// --- The fixture trees ---------------------------------------------------
//
// The collectors of hardware this host lacks (scheduler statistics, CPU
// frequency, power supplies, fans and voltages) are compared on fixture
// trees instead: node_exporter and sonde read the same tree
// (`--path.procfs`/`--path.sysfs`, `--procfs`/`--sysfs`) with only that
// collector on, and every family, help text, type, label set, series and
// value must agree. The same comparison is made with the current
// node_exporter's golden output for node_exporter's own tree
// (tests/fixtures/README.md).

/// The fixture trees, and the collectors compared on each.
const FIXTURE_RUNS: &[(&str, &str)] = &[
    ("node_exporter", "schedstat"),
    ("node_exporter", "cpufreq"),
    ("procfs", "cpufreq"),
    ("sensors", "cpufreq"),
    ("node_exporter", "powersupplyclass"),
    ("sensors", "powersupplyclass"),
    ("node_exporter", "hwmon"),
    ("openwrt", "hwmon"),
    ("sensors", "hwmon"),
];

/// The families node_exporter's golden output for its tree holds, by the
/// collector that writes them.
const GOLDEN_FAMILIES: &[(&str, &str)] = &[
    ("schedstat", "node_schedstat_"),
    ("cpufreq", "node_cpu_scaling_"),
    ("powersupplyclass", "node_power_supply_"),
    ("hwmon", "node_hwmon_"),
];

/// What sonde writes on the fixture trees that an older node_exporter
/// does not: (family, label, prefix of the label's value, version that
/// added it). An empty label stands for the whole family. Taken out of
/// sonde's side when the installed node_exporter is older.
const NEWER_ON_FIXTURES: &[(&str, &str, &str, (u32, u32))] = &[
    ("node_cpu_scaling_governor", "", "", (1, 6)),
    ("node_cpu_frequency_avg_hertz", "", "", (1, 12)),
    // GPU clocks, named by their label (the `freq` sensor type).
    ("node_hwmon_freq_freq_mhz", "", "", (1, 10)),
    ("node_hwmon_sensor_label", "sensor", "freq", (1, 10)),
];

/// The version from which node_exporter gives hwmon chips that share a
/// device labels of their own (`<device>_<name>`); before, they share
/// one label and all but one chip's samples are dropped as duplicates.
const HWMON_CHIPS_APART: (u32, u32) = (1, 12);

/// What an older node_exporter writes on a fixture tree that the current
/// one does not: (tree, family prefix, label, value, version that
/// stopped it). Taken out of node_exporter's side when it is older.
/// (tree, family prefix, label, value, version).
type Older = (&'static str, &'static str, &'static str, &'static str, (u32, u32));
const OLDER_ON_FIXTURES: &[Older] = &[
    // Offline CPUs are left out since 1.6 (prometheus/procfs 0.10, "Bug
    // Fix: SystemCPUfreq fails when any core is offline").
    ("sensors", "node_cpu_", "cpu", "3", (1, 6)),
];

/// Help texts node_exporter changed after some version: (family, the
/// version that changed it). Not compared when the installed one is older.
const NEWER_HELP: &[(&str, (u32, u32))] = &[
    // "cpu" became "CPU".
    ("node_cpu_frequency_hertz", (1, 6)),
    ("node_cpu_frequency_min_hertz", (1, 6)),
    ("node_cpu_frequency_max_hertz", (1, 6)),
];

/// node_exporter's current version, for its golden output.
const CURRENT: (u32, u32) = (1, 12);

/// `sonde --once` on `root` with only `collectors` on.
fn sonde_on_tree(root: &Path, collectors: &[&str]) -> String {
    let scratch = Scratch::new(&format!("compat-tree-{}", collectors.join("-")));
    let mut config = String::from("[collectors]\ndefaults = false\n");
    for c in collectors {
        config.push_str(&format!("{c} = true\n"));
    }
    let config = scratch.write("sonde.toml", &config);
    let out = common::sonde_command()
        .args(["--once", "--config", config.to_str().unwrap()])
        .args(["--procfs", root.join("proc").to_str().unwrap()])
        .args(["--sysfs", root.join("sys").to_str().unwrap()])
        .args(["--rootfs", root.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sonde on {}: {stderr}", root.display());
    String::from_utf8(out.stdout).unwrap()
}

/// node_exporter's scrape of `root` with only `collector` on.
fn node_exporter_on_tree(root: &Path, collector: &str) -> String {
    let scratch = Scratch::new(&format!("compat-ne-{collector}"));
    let (_ne, addr) = spawn_node_exporter(
        &scratch.0,
        &[
            format!("--path.procfs={}", root.join("proc").display()),
            format!("--path.sysfs={}", root.join("sys").display()),
            "--collector.disable-defaults".to_owned(),
            format!("--collector.{collector}"),
            "--web.disable-exporter-metrics".to_owned(),
        ],
    );
    scrape(addr)
}

/// The `node_*` families of a scrape, without node_exporter's own.
fn node_families(text: &str) -> BTreeMap<String, Family> {
    let mut f = parse(text);
    f.retain(|n, _| n.starts_with("node_") && !n.starts_with("node_scrape_") && !n.starts_with("node_exporter_"));
    f
}

/// Takes the series of `family` whose `label` satisfies `drop` out.
fn drop_series(
    f: &mut BTreeMap<String, Family>,
    family: impl Fn(&str) -> bool,
    label: &str,
    drop: impl Fn(&str) -> bool,
) {
    for (_, fam) in f.iter_mut().filter(|(n, _)| family(n)) {
        fam.samples.retain(|labels, _| !labels.iter().any(|(n, v)| n == label && drop(v)));
    }
    f.retain(|_, fam| !fam.samples.is_empty());
}

/// Compares sonde's families with node_exporter's for the same tree; the
/// number of series compared.
fn compare_tree(
    tree: &str,
    what: &str,
    mut ne: BTreeMap<String, Family>,
    mut ours: BTreeMap<String, Family>,
    installed: (u32, u32),
    problems: &mut Vec<String>,
) -> usize {
    for (t, family, label, value, until) in OLDER_ON_FIXTURES {
        if *t == tree && installed < *until {
            drop_series(&mut ne, |n| n.starts_with(family), label, |v| v == *value);
        }
    }
    for (family, label, prefix, since) in NEWER_ON_FIXTURES {
        if installed >= *since {
            continue;
        }
        if label.is_empty() {
            ours.remove(*family);
        } else {
            drop_series(&mut ours, |n| n == *family, label, |v| v.starts_with(prefix));
        }
    }
    if installed < HWMON_CHIPS_APART {
        // A chip label only node_exporter has, which sonde has split in
        // two or more: leave those chips out on both sides.
        let chips = |f: &BTreeMap<String, Family>| -> BTreeSet<String> {
            f.iter()
                .filter(|(n, _)| n.starts_with("node_hwmon_"))
                .flat_map(|(_, fam)| fam.samples.keys().flatten().filter(|(l, _)| l == "chip").map(|(_, v)| v.clone()))
                .collect()
        };
        let (theirs, mine) = (chips(&ne), chips(&ours));
        for shared in theirs.difference(&mine) {
            let prefix = format!("{shared}_");
            if mine.iter().filter(|c| c.starts_with(&prefix)).count() > 1 {
                drop_series(&mut ne, |n| n.starts_with("node_hwmon_"), "chip", |v| v == shared);
                drop_series(&mut ours, |n| n.starts_with("node_hwmon_"), "chip", |v| v.starts_with(&prefix));
            }
        }
    }
    let mut compared = 0;
    for name in ne.keys().chain(ours.keys()).collect::<BTreeSet<_>>() {
        let (Some(theirs), Some(mine)) = (ne.get(name), ours.get(name)) else {
            let side = if ne.contains_key(name) { "node_exporter" } else { "sonde" };
            problems.push(format!("{what}: {name} only in {side}'s scrape"));
            continue;
        };
        if theirs.kind != mine.kind {
            problems.push(format!("{what}: {name}: type {} here, {} in node_exporter", mine.kind, theirs.kind));
        }
        let help_changed = NEWER_HELP.iter().any(|(f, since)| f == name && installed < *since);
        if theirs.help != mine.help && !help_changed {
            problems.push(format!("{what}: {name}: help {:?} here, {:?} in node_exporter", mine.help, theirs.help));
        }
        if theirs.labels != mine.labels {
            problems
                .push(format!("{what}: {name}: labels {:?} here, {:?} in node_exporter", mine.labels, theirs.labels));
        }
        for labels in theirs.samples.keys().chain(mine.samples.keys()).collect::<BTreeSet<_>>() {
            match (theirs.samples.get(labels), mine.samples.get(labels)) {
                (Some(a), Some(b)) if a == b => compared += 1,
                (a, b) => problems.push(format!("{what}: {name}{labels:?}: {b:?} here, {a:?} in node_exporter")),
            }
        }
    }
    compared
}

#[test]
fn fixture_trees_read_as_node_exporter_reads_them() {
    let installed = version_of_node_exporter();
    let mut problems = Vec::new();
    for (tree, collector) in FIXTURE_RUNS {
        let root = common::repo().join("tests/fixtures").join(tree);
        let ne = node_families(&node_exporter_on_tree(&root, collector));
        let ours = node_families(&sonde_on_tree(&root, &[collector]));
        let what = format!("{tree}/{collector}");
        let n = compare_tree(tree, &what, ne, ours, installed, &mut problems);
        assert!(n > 0, "{what}: no series compared");
        eprintln!("compat: {what}: {n} series equal to node_exporter {}.{}'s", installed.0, installed.1);
    }
    assert!(problems.is_empty(), "{} differences:\n{}", problems.len(), problems.join("\n"));
}

/// node_exporter's golden output for its own tree is the current
/// release's (tests/fixtures/README.md): sonde matches it too, newer
/// labels and families included.
#[test]
fn node_exporter_tree_reads_as_the_current_node_exporter_golden() {
    let root = common::repo().join("tests/fixtures/node_exporter");
    let golden = std::fs::read_to_string(root.join("e2e-output.txt")).unwrap();
    let collectors: Vec<&str> = GOLDEN_FAMILIES.iter().map(|(c, _)| *c).collect();
    let in_scope = |n: &String| GOLDEN_FAMILIES.iter().any(|(_, prefix)| n.starts_with(prefix));
    let mut theirs = node_families(&golden);
    theirs.retain(|n, _| in_scope(n));
    let mut ours = node_families(&sonde_on_tree(&root, &collectors));
    // node_exporter's end-to-end test keeps only some chips
    // (--collector.hwmon.chip-include), which leaves `bogus` out.
    drop_series(&mut ours, |n| n.starts_with("node_hwmon_"), "chip", |v| v == "bogus");
    let mut problems = Vec::new();
    let n = compare_tree("node_exporter", "golden", theirs, ours, CURRENT, &mut problems);
    assert!(problems.is_empty(), "{} differences:\n{}", problems.len(), problems.join("\n"));
    eprintln!("compat: node_exporter's golden output: {n} series equal");
}
