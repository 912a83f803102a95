//! Lines into metrics, mtail's job: each `[[log_rule]]` is a regex run on
//! every line of its path. A match counts in the rule's series for the
//! text of its label groups; with `value`, the captured number is kept as
//! the last value and observed in a histogram; with `notify`, it raises an
//! [`Event`].
//!
//! Bounds: at most [`MAX_RULE_SERIES`] label sets per rule, each value at
//! most [`MAX_RULE_LABEL_VALUE`] bytes. A match past them is still
//! counted, in the rule's series whose label values are all empty (which
//! Prometheus reads as the series without those labels), so `sum by
//! (rule)` counts every match; and it is counted as refused
//! (`sonde_log_rule_dropped_total{reason="label_values"}`). A value that
//! is not a number is counted (`reason="not_a_number"`), and events past
//! [`MAX_RULE_EVENTS_PER_MINUTE`] too (`reason="event_rate"`).
//!
//! Events are values, routed by an [`EventSink`]: the agent's raises each
//! as a notification (`notify::Event::log_line`) and writes it to sonde's
//! log with [`log_event`].

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Rule;
use crate::limits::{MAX_RULE_EVENTS_PER_MINUTE, MAX_RULE_LABEL_VALUE, MAX_RULE_SERIES};
use crate::sys::log;

/// Why a rule refused something, in `sonde_log_rule_dropped_total{reason}`.
pub const DROPPED: [&str; 3] = ["label_values", "not_a_number", "event_rate"];

/// Longest line text an event carries.
const MAX_EVENT_LINE: usize = 512;

/// A rule's match, for whoever is told (a notification).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub rule: String,
    /// The path (or glob) as configured.
    pub path: String,
    /// The file the line was in.
    pub file: String,
    /// The rule's labels and their text in this line.
    pub labels: Vec<(String, String)>,
    /// The line, cut at [`MAX_EVENT_LINE`] bytes.
    pub line: String,
    pub time_ms: i64,
}

/// Where events go.
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;

/// A line of sonde's log.
pub fn log_event(e: Event) {
    let mut labels = String::new();
    for (k, v) in &e.labels {
        labels.push_str(if labels.is_empty() { "" } else { " " });
        labels.push_str(k);
        labels.push('=');
        labels.push_str(v);
    }
    log::warn!("log rule {} matched in {} ({labels}): {}", e.rule, e.file, e.line);
}

/// One label set's counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub labels: Vec<String>,
    pub matches: u64,
    pub last: f64,
    /// Observations per bucket (not cumulative), and past the last.
    pub buckets: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

/// A rule and what it counted.
pub struct State {
    pub rule: Rule,
    /// Label groups, then the value group.
    groups: Vec<String>,
    pub series: Vec<Series>,
    pub dropped: [u64; 3],
    window: (Instant, u32),
}

/// Every rule.
pub struct Rules {
    pub rules: Vec<State>,
    sink: EventSink,
    caps: Vec<String>,
}

impl Rules {
    pub fn new(rules: &[Rule], sink: EventSink) -> Rules {
        let rules = rules
            .iter()
            .map(|r| State {
                groups: r.labels.iter().chain(r.value.iter()).cloned().collect(),
                rule: r.clone(),
                series: Vec::new(),
                dropped: [0; 3],
                window: (Instant::now(), 0),
            })
            .collect();
        Rules { rules, sink, caps: Vec::new() }
    }

    /// The rules on `path`, by index.
    pub fn on(&self, path: &str) -> Vec<usize> {
        self.rules.iter().enumerate().filter(|(_, s)| s.rule.path == path).map(|(i, _)| i).collect()
    }

    /// Runs rule `i` on one line's text (from `file`).
    pub fn apply(&mut self, i: usize, text: &str, file: &Path, time_ms: i64) {
        let Some(s) = self.rules.get_mut(i) else { return };
        let mut caps = Vec::new();
        if !s.rule.regex.groups(text, &s.groups, &mut caps) {
            return;
        }
        let n = s.rule.labels.len();
        self.caps.clear();
        self.caps.extend(caps[..n].iter().map(|c| c.to_string()));
        let at = match s.series.iter().position(|x| x.labels == self.caps) {
            Some(at) => at,
            None => {
                let fits =
                    s.series.len() < MAX_RULE_SERIES && self.caps.iter().all(|c| c.len() <= MAX_RULE_LABEL_VALUE);
                if !fits {
                    s.dropped[0] += 1;
                    self.caps.iter_mut().for_each(String::clear);
                }
                match s.series.iter().position(|x| x.labels == self.caps) {
                    Some(at) => at,
                    None => {
                        let buckets = match s.rule.buckets.len() {
                            0 => Vec::new(),
                            n => vec![0; n + 1],
                        };
                        s.series.push(Series { labels: self.caps.clone(), buckets, ..Series::default() });
                        s.series.len() - 1
                    }
                }
            }
        };
        let series = &mut s.series[at];
        series.matches += 1;
        if s.rule.value.is_some() {
            match crate::wire::float::parse(caps[n].trim()) {
                Some(v) if v.is_finite() => {
                    series.last = v;
                    if !s.rule.buckets.is_empty() {
                        let b = s.rule.buckets.iter().position(|&le| v <= le).unwrap_or(s.rule.buckets.len());
                        series.buckets[b] += 1;
                        series.sum += v;
                        series.count += 1;
                    }
                }
                _ => s.dropped[1] += 1,
            }
        }
        if s.rule.notify {
            let now = Instant::now();
            if now.duration_since(s.window.0) >= Duration::from_secs(60) {
                s.window = (now, 0);
            }
            if s.window.1 >= MAX_RULE_EVENTS_PER_MINUTE {
                s.dropped[2] += 1;
                return;
            }
            s.window.1 += 1;
            let mut line = text;
            if line.len() > MAX_EVENT_LINE {
                let mut cut = MAX_EVENT_LINE;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line = &line[..cut];
            }
            let labels = s.rule.labels.iter().cloned().zip(caps[..n].iter().map(|c| c.to_string())).collect();
            (self.sink)(Event {
                rule: s.rule.name.clone(),
                path: s.rule.path.clone(),
                file: file.to_string_lossy().into_owned(),
                labels,
                line: line.to_owned(),
                time_ms,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::regex::Regex;
    use std::sync::Mutex;

    fn rule(regex: &str, labels: &[&str], value: Option<&str>, notify: bool) -> Rule {
        Rule {
            name: "r".into(),
            path: "/var/log/x".into(),
            regex: Regex::new(regex).unwrap(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            value: value.map(str::to_owned),
            buckets: if value.is_some() { vec![1.0, 10.0] } else { Vec::new() },
            notify,
        }
    }

    #[test]
    fn counts_per_label_set_within_the_bound() {
        let mut r = Rules::new(&[rule(r"Ban (?P<ip>\S+)", &["ip"], None, false)], Arc::new(|_| {}));
        for i in 0..MAX_RULE_SERIES + 10 {
            r.apply(0, &format!("NOTICE [sshd] Ban 192.0.2.{i}"), Path::new("f"), 0);
        }
        r.apply(0, "NOTICE [sshd] Ban 192.0.2.0", Path::new("f"), 0);
        r.apply(0, "NOTICE [sshd] Unban 192.0.2.0", Path::new("f"), 0);
        let s = &r.rules[0];
        assert_eq!(s.series.len(), MAX_RULE_SERIES + 1, "the bound, and the unlabelled one");
        assert_eq!(s.series[0].matches, 2);
        assert_eq!(s.series.iter().map(|x| x.matches).sum::<u64>(), MAX_RULE_SERIES as u64 + 11);
        assert_eq!(s.series.last().unwrap(), &Series { labels: vec![String::new()], matches: 10, ..Series::default() });
        assert_eq!(s.dropped, [10, 0, 0]);
    }

    #[test]
    fn values_are_observed_and_bad_ones_counted() {
        let mut r = Rules::new(&[rule(r"took (?P<ms>\S+)", &[], Some("ms"), false)], Arc::new(|_| {}));
        for t in ["took 0.5", "took 5", "took 50", "took fast"] {
            r.apply(0, t, Path::new("f"), 0);
        }
        let s = &r.rules[0].series[0];
        assert_eq!((s.matches, s.last, s.count, s.sum), (4, 50.0, 3, 55.5));
        assert_eq!(s.buckets, [1, 1, 1]);
        assert_eq!(r.rules[0].dropped, [0, 1, 0]);
    }

    #[test]
    fn events_are_values_and_their_rate_is_bounded() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&got);
        let mut r = Rules::new(
            &[rule(r"Ban (?P<ip>\S+)", &["ip"], None, true)],
            Arc::new(move |e| keep.lock().unwrap().push(e)),
        );
        for _ in 0..MAX_RULE_EVENTS_PER_MINUTE + 3 {
            r.apply(0, "Ban 192.0.2.7", Path::new("/var/log/fail2ban.log"), 7);
        }
        let got = got.lock().unwrap();
        assert_eq!(got.len(), MAX_RULE_EVENTS_PER_MINUTE as usize);
        assert_eq!(got[0].labels, [("ip".to_owned(), "192.0.2.7".to_owned())]);
        assert_eq!((got[0].file.as_str(), got[0].time_ms), ("/var/log/fail2ban.log", 7));
        assert_eq!(r.rules[0].dropped, [0, 0, 3]);
    }
}
