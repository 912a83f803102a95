//! The `sonde_log_*` families, written from what the logs service
//! counted: pure functions, so a fixture tests them.
//!
//! Per path (`path` is the `[[log]]` or `[[log_rule]]` path as written,
//! `sonde` for sonde's own log): lines read, and for a forwarding path
//! forwarded, dropped by reason and queued, which add up:
//! `read = forwarded + Σ dropped + Σ queued` (lines read by an earlier run
//! and found in the spool at the start count as read). Then what the
//! following saw: lines cut, bytes skipped by reason, rotations, files
//! followed and ignored. Per rule: matches per label set, the last value
//! and a histogram of a captured number, and what the rule refused.

use super::follow::{Counts, IGNORED, ROTATIONS, SKIPPED};
use super::rules::{Rules, DROPPED};
use crate::deliver::{Stats, DROP_REASONS};
use crate::expo::{Exposition, MetricType};

/// What one path's forwarder counted.
#[derive(Clone, Debug, Default)]
pub struct Forwarded {
    pub stats: Stats,
    pub memory: u64,
    pub spool: u64,
    /// Found queued in the spool at the start.
    pub initial: u64,
    /// sonde's own lines dropped before they reached the queue.
    pub overflow: u64,
    /// Messages cut at `max_message`.
    pub cut: u64,
}

/// One path's counts.
pub struct View<'a> {
    pub path: &'a str,
    pub counts: Counts,
    pub forwarded: Option<Forwarded>,
}

pub fn render(views: &[View<'_>], rules: &Rules, out: &mut Exposition) {
    if !views.is_empty() {
        paths(views, out);
    }
    if !rules.rules.is_empty() {
        render_rules(rules, out);
    }
}

/// A family with one sample per path and label value; `get` is None for
/// a path the family is not about (a path that does not forward).
struct Family {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
    label: &'static str,
    values: &'static [&'static str],
    get: fn(&View<'_>, usize) -> Option<u64>,
}

const DROP_NAMES: [&str; 7] = [
    DROP_REASONS[0].1,
    DROP_REASONS[1].1,
    DROP_REASONS[2].1,
    DROP_REASONS[3].1,
    DROP_REASONS[4].1,
    DROP_REASONS[5].1,
    DROP_REASONS[6].1,
];
/// Where [`DROP_NAMES`] has `memory_full`, which sonde's own lines dropped
/// before the queue count in.
const MEMORY_FULL: usize = 2;

const FAMILIES: [Family; 9] = [
    Family {
        name: "sonde_log_lines_read_total",
        help: "Lines read from the files of a path.",
        kind: MetricType::Counter,
        label: "",
        values: &[""],
        get: |v, _| Some(v.forwarded.as_ref().map_or(v.counts.read, |f| f.stats.added + f.initial + f.overflow)),
    },
    Family {
        name: "sonde_log_lines_forwarded_total",
        help: "Lines delivered to the path's syslog receiver.",
        kind: MetricType::Counter,
        label: "",
        values: &[""],
        get: |v, _| v.forwarded.as_ref().map(|f| f.stats.delivered),
    },
    Family {
        name: "sonde_log_lines_dropped_total",
        help: "Lines read and not forwarded, by reason.",
        kind: MetricType::Counter,
        label: "reason",
        values: &DROP_NAMES,
        get: |v, i| v.forwarded.as_ref().map(|f| f.stats.dropped[i] + if i == MEMORY_FULL { f.overflow } else { 0 }),
    },
    Family {
        name: "sonde_log_lines_queued",
        help: "Lines read and waiting to be forwarded, in memory or in the spool.",
        kind: MetricType::Gauge,
        label: "where",
        values: &["memory", "spool"],
        get: |v, i| v.forwarded.as_ref().map(|f| if i == 0 { f.memory } else { f.spool }),
    },
    Family {
        name: "sonde_log_lines_truncated_total",
        help: "Lines longer than kept (or than a syslog message may be), cut.",
        kind: MetricType::Counter,
        label: "",
        values: &[""],
        get: |v, _| Some(v.counts.truncated + v.forwarded.as_ref().map_or(0, |f| f.cut)),
    },
    Family {
        name: "sonde_log_skipped_bytes_total",
        help: "Bytes not read as lines, by reason: NUL padding, the cut part of long lines, \
               a truncation or a file gone before they were read (at least this many).",
        kind: MetricType::Counter,
        label: "reason",
        values: &SKIPPED,
        get: |v, i| Some(v.counts.skipped[i]),
    },
    Family {
        name: "sonde_log_rotations_total",
        help: "Files found moved away from the path (renamed, deleted) or truncated.",
        kind: MetricType::Counter,
        label: "kind",
        values: &ROTATIONS,
        get: |v, i| Some(v.counts.rotations[i]),
    },
    Family {
        name: "sonde_log_files",
        help: "Files followed for the path, rotated ones still read included.",
        kind: MetricType::Gauge,
        label: "",
        values: &[""],
        get: |v, _| Some(v.counts.files),
    },
    Family {
        name: "sonde_log_files_ignored",
        help: "Files the path names that are not followed, by reason, at the last look.",
        kind: MetricType::Gauge,
        label: "reason",
        values: &IGNORED,
        get: |v, i| Some(v.counts.ignored[i]),
    },
];

fn paths(views: &[View<'_>], out: &mut Exposition) {
    for f in &FAMILIES {
        if views.iter().all(|v| (f.get)(v, 0).is_none()) {
            continue;
        }
        out.family(f.name, f.help, f.kind);
        for v in views {
            for (i, value) in f.values.iter().enumerate() {
                let Some(n) = (f.get)(v, i) else { continue };
                let labels = [("path", v.path), (f.label, value)];
                out.sample(&labels[..if f.label.is_empty() { 1 } else { 2 }], n as f64);
            }
        }
    }
}

fn render_rules(rules: &Rules, out: &mut Exposition) {
    out.family("sonde_log_rule_matches_total", "Lines a log rule matched, by its labels.", MetricType::Counter);
    for s in &rules.rules {
        if s.series.is_empty() {
            // A rule that has not matched yet still has its series, so an
            // alert's increase() sees the first match.
            let empty: Vec<(&str, &str)> = std::iter::once(("rule", s.rule.name.as_str()))
                .chain(s.rule.labels.iter().map(|l| (l.as_str(), "")))
                .collect();
            out.sample(&empty, 0.0);
        }
        for x in &s.series {
            let l = series_labels(s, x);
            out.sample(&l, x.matches as f64);
        }
    }
    let valued: Vec<&super::rules::State> = rules.rules.iter().filter(|s| s.rule.value.is_some()).collect();
    if !valued.is_empty() {
        out.family(
            "sonde_log_rule_last_value",
            "The number a log rule captured last, by its labels.",
            MetricType::Gauge,
        );
        for s in &valued {
            for x in s.series.iter().filter(|x| x.count > 0 || x.last != 0.0) {
                out.sample(&series_labels(s, x), x.last);
            }
        }
    }
    let histograms: Vec<&&super::rules::State> = valued.iter().filter(|s| !s.rule.buckets.is_empty()).collect();
    if !histograms.is_empty() {
        out.family("sonde_log_rule_value", "The numbers a log rule captured, by its labels.", MetricType::Histogram);
        for s in histograms {
            for x in &s.series {
                let l = series_labels(s, x);
                let mut total = 0;
                for (i, n) in x.buckets.iter().enumerate() {
                    total += n;
                    let le = s.rule.buckets.get(i).map_or_else(|| "+Inf".to_owned(), |b| format!("{b}"));
                    let mut with = l.clone();
                    with.push(("le", &le));
                    out.sample_suffixed("_bucket", &with, total as f64);
                }
                out.sample_suffixed("_sum", &l, x.sum);
                out.sample_suffixed("_count", &l, x.count as f64);
            }
        }
    }
    out.family("sonde_log_rule_dropped_total", "What a log rule refused, by reason.", MetricType::Counter);
    for s in &rules.rules {
        for (reason, n) in DROPPED.iter().zip(s.dropped) {
            out.sample(&[("rule", s.rule.name.as_str()), ("reason", reason)], n as f64);
        }
    }
}

fn series_labels<'a>(s: &'a super::rules::State, x: &'a super::rules::Series) -> Vec<(&'a str, &'a str)> {
    std::iter::once(("rule", s.rule.name.as_str()))
        .chain(s.rule.labels.iter().map(String::as_str).zip(x.labels.iter().map(String::as_str)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Rule;
    use crate::wire::regex::Regex;
    use std::sync::Arc;

    #[test]
    fn families_add_up_and_read_as_prometheus_text() {
        let mut f = Forwarded { memory: 2, spool: 3, initial: 4, overflow: 1, cut: 1, ..Forwarded::default() };
        f.stats.added = 10;
        f.stats.delivered = 7;
        f.stats.dropped[0] = 2;
        let counts = Counts { read: 99, truncated: 1, files: 1, ..Counts::default() };
        let views = [
            View { path: "/var/log/dnsdist.log", counts, forwarded: Some(f) },
            View { path: "/var/log/fail2ban.log", counts: Counts { read: 5, ..Counts::default() }, forwarded: None },
        ];
        let rule = Rule {
            name: "q".into(),
            path: "/var/log/dnsdist.log".into(),
            regex: Regex::new(r"(?P<qtype>[A-Z]+) (?P<ms>\S+)").unwrap(),
            labels: vec!["qtype".into()],
            value: Some("ms".into()),
            buckets: vec![0.5, 1.0],
            notify: false,
        };
        let mut rules = Rules::new(&[rule], Arc::new(|_| {}));
        rules.apply(0, "AAAA 0.25", std::path::Path::new("f"), 0);
        rules.apply(0, "AAAA 2", std::path::Path::new("f"), 0);
        let mut out = Exposition::new(1 << 20);
        render(&views, &rules, &mut out);
        let text = String::from_utf8(out.as_bytes().to_vec()).unwrap();
        for line in [
            "sonde_log_lines_read_total{path=\"/var/log/dnsdist.log\"} 15",
            "sonde_log_lines_read_total{path=\"/var/log/fail2ban.log\"} 5",
            "sonde_log_lines_forwarded_total{path=\"/var/log/dnsdist.log\"} 7",
            "sonde_log_lines_dropped_total{path=\"/var/log/dnsdist.log\",reason=\"memory_full\"} 1",
            "sonde_log_lines_queued{path=\"/var/log/dnsdist.log\",where=\"spool\"} 3",
            "sonde_log_lines_truncated_total{path=\"/var/log/dnsdist.log\"} 2",
            "sonde_log_rule_matches_total{rule=\"q\",qtype=\"AAAA\"} 2",
            "sonde_log_rule_last_value{rule=\"q\",qtype=\"AAAA\"} 2",
            "sonde_log_rule_value_bucket{rule=\"q\",qtype=\"AAAA\",le=\"0.5\"} 1",
            "sonde_log_rule_value_bucket{rule=\"q\",qtype=\"AAAA\",le=\"+Inf\"} 2",
            "sonde_log_rule_value_sum{rule=\"q\",qtype=\"AAAA\"} 2.25",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        // read = forwarded + dropped + queued: 10 added + 4 found spooled + 1
        // overflow = 7 delivered + (2 + 1) dropped + (2 + 3) queued.
        assert_eq!(out.invalid, 0);
    }
}
