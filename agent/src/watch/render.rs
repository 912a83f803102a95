//! The watchdog's families, from a snapshot of its last cycle: what users
//! scrape out of Monit's XML status today, as Prometheus series.
//!
//! `sonde_service_state{service,state}` (1 for the current state, 0 for
//! the four others: ok, failed, restarting, gave_up, unmonitored),
//! `sonde_service_restarts_total{service}`, the actions taken
//! (`sonde_service_actions_total{service,action}`), each condition's last result
//! (`sonde_service_condition_success{service,condition}`, the condition
//! as written), the cycles run, and for each running process
//! process-exporter's families with `groupname` = the service (so its
//! dashboards work): `namedprocess_namegroup_num_procs`, `_cpu_seconds_total{mode}`,
//! `_memory_bytes{memtype}`, `_num_threads`, `_open_filedesc` and
//! `_oldest_start_time_seconds`.

use super::Action;
use crate::expo::{Exposition, MetricType};

/// A service's state as the metric says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Ok,
    Failed,
    Restarting,
    GaveUp,
    Unmonitored,
}

impl Shown {
    pub const ALL: [Shown; 5] = [Shown::Ok, Shown::Failed, Shown::Restarting, Shown::GaveUp, Shown::Unmonitored];

    pub fn as_str(self) -> &'static str {
        match self {
            Shown::Ok => "ok",
            Shown::Failed => "failed",
            Shown::Restarting => "restarting",
            Shown::GaveUp => "gave_up",
            Shown::Unmonitored => "unmonitored",
        }
    }
}

/// What was seen of a running process.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Seen {
    pub user_seconds: f64,
    pub system_seconds: f64,
    pub resident_bytes: f64,
    pub virtual_bytes: f64,
    pub threads: f64,
    pub fds: Option<f64>,
    pub start_seconds: f64,
}

/// One service or file check.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub name: String,
    pub state: Shown,
    /// None for a file check.
    pub restarts: Option<u64>,
    /// Actions taken since sonde started, by [`Action::index`]; None for a
    /// file check.
    pub actions: Option<[u64; 6]>,
    /// Each condition as written, and whether it passed last time.
    pub conditions: Vec<(String, bool)>,
    pub process: Option<Seen>,
}

impl View {
    /// A file, mount or program check's view: a state and nothing else.
    pub fn of(name: &str, state: Shown) -> View {
        View { name: name.to_owned(), state, restarts: None, actions: None, conditions: Vec::new(), process: None }
    }
}

/// The last cycle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub cycles: u64,
    pub services: Vec<View>,
}

impl Snapshot {
    /// Whether a service is failed, restarting or gave up (`--once`'s exit).
    pub fn any_failed(&self) -> bool {
        self.services.iter().any(|v| matches!(v.state, Shown::Failed | Shown::Restarting | Shown::GaveUp))
    }
}

pub fn render(s: &Snapshot, out: &mut Exposition) {
    out.family("sonde_watch_cycles_total", "sonde: Cycles the watchdog has run.", MetricType::Counter);
    out.sample(&[], s.cycles as f64);
    if s.services.is_empty() {
        return;
    }
    out.family(
        "sonde_service_state",
        "sonde: Watched service's state (1 for the current one): ok, failed, restarting, gave_up, unmonitored.",
        MetricType::Gauge,
    );
    for v in &s.services {
        for st in Shown::ALL {
            out.sample(&[("service", &v.name), ("state", st.as_str())], f64::from(u8::from(v.state == st)));
        }
    }
    out.family(
        "sonde_service_restarts_total",
        "sonde: Starts and restarts the watchdog made of the service.",
        MetricType::Counter,
    );
    for v in &s.services {
        if let Some(n) = v.restarts {
            out.sample(&[("service", &v.name)], n as f64);
        }
    }
    if s.services.iter().any(|v| v.actions.is_some()) {
        out.family(
        "sonde_service_actions_total",
        "sonde: Actions the watchdog took on the service since sonde started (alert, restart, start, stop, unmonitor, exec).",
        MetricType::Counter,
    );
        for v in &s.services {
            for (action, n) in Action::NAMES.iter().zip(v.actions.iter().flatten()) {
                out.sample(&[("service", &v.name), ("action", action)], *n as f64);
            }
        }
    }
    if s.services.iter().any(|v| !v.conditions.is_empty()) {
        out.family(
            "sonde_service_condition_success",
            "sonde: Whether the service's condition passed at its last test.",
            MetricType::Gauge,
        );
        for v in &s.services {
            for (c, ok) in &v.conditions {
                out.sample(&[("service", &v.name), ("condition", c)], f64::from(u8::from(*ok)));
            }
        }
    }
    let procs: Vec<(&str, &Seen)> =
        s.services.iter().filter_map(|v| Some((v.name.as_str(), v.process.as_ref()?))).collect();
    out.family("namedprocess_namegroup_num_procs", "number of processes in this group", MetricType::Gauge);
    for v in s.services.iter().filter(|v| v.restarts.is_some()) {
        out.sample(&[("groupname", &v.name)], f64::from(u8::from(v.process.is_some())));
    }
    type Col = (&'static str, &'static str, MetricType, &'static [(&'static str, fn(&Seen) -> Option<f64>)]);
    const COLS: &[Col] = &[
        (
            "namedprocess_namegroup_cpu_seconds_total",
            "Cpu user usage in seconds",
            MetricType::Counter,
            &[("user", |p| Some(p.user_seconds)), ("system", |p| Some(p.system_seconds))],
        ),
        (
            "namedprocess_namegroup_memory_bytes",
            "number of bytes of memory in use",
            MetricType::Gauge,
            &[("resident", |p| Some(p.resident_bytes)), ("virtual", |p| Some(p.virtual_bytes))],
        ),
        ("namedprocess_namegroup_num_threads", "Number of threads", MetricType::Gauge, &[("", |p| Some(p.threads))]),
        (
            "namedprocess_namegroup_open_filedesc",
            "number of open file descriptors for this group",
            MetricType::Gauge,
            &[("", |p| p.fds)],
        ),
        (
            "namedprocess_namegroup_oldest_start_time_seconds",
            "start time in seconds since 1970/01/01 of oldest process in group",
            MetricType::Gauge,
            &[("", |p| Some(p.start_seconds))],
        ),
    ];
    if procs.is_empty() {
        return;
    }
    for (name, help, kind, parts) in COLS {
        out.family(name, help, *kind);
        for (g, p) in &procs {
            for (label, value) in parts.iter() {
                let Some(v) = value(p) else { continue };
                let key = if name.ends_with("cpu_seconds_total") { "mode" } else { "memtype" };
                if label.is_empty() {
                    out.sample(&[("groupname", g)], v);
                } else {
                    out.sample(&[("groupname", g), (key, label)], v);
                }
            }
        }
    }
}
