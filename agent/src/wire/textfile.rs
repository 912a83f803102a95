//! The Prometheus text exposition format, version 0.0.4, as written by
//! people and cron scripts into node_exporter's textfile directory.
//!
//! ```text
//! # HELP backup_last_success_timestamp_seconds Last good backup.
//! # TYPE backup_last_success_timestamp_seconds gauge
//! backup_last_success_timestamp_seconds{job="nightly"} 1.7e9
//! ```
//!
//! Accepted as Prometheus's own parser (expfmt `TextParser`) accepts it:
//! blanks (spaces, tabs) between tokens; `# HELP name text` with `\\` and
//! `\n` escapes; `# TYPE name counter|gauge|histogram|summary|untyped`;
//! any other `#` line is a comment; labels `name="value"` with `\\`, `\"`
//! and `\n` escapes, a trailing comma allowed; a value as Go's ParseFloat
//! reads it (`1e3`, `+Inf`, `NaN`); an optional integer timestamp, which
//! the collector refuses as node_exporter does.
//!
//! Items borrow from the input: names are checked, label values and help
//! texts are left escaped and validated, [`crate::wire::expfmt::unescape`]
//! undoes them.

use crate::wire::expfmt::{valid_label_name, valid_metric_name, MetricType};
use crate::wire::{lines, Error};

/// One meaningful line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Line<'a> {
    Help {
        name: &'a str,
        /// Escaped; see [`crate::wire::expfmt::unescape`].
        text: &'a str,
    },
    Type {
        name: &'a str,
        kind: MetricType,
    },
    Sample {
        name: &'a str,
        /// The text between the braces, validated, still escaped; see
        /// [`labels`].
        labels: &'a str,
        value: f64,
        /// It carried a timestamp.
        timestamp: bool,
    },
}

/// The HELP, TYPE and sample lines of a text exposition, in order; blank
/// lines and comments are skipped; a line that does not parse is an error
/// item (the caller decides whether one bad line spoils the file).
pub fn parse(input: &[u8]) -> impl Iterator<Item = Result<Line<'_>, Error>> {
    lines(input).filter_map(|(n, line)| match std::str::from_utf8(line) {
        Err(_) => Some(Err(Error::at(n, "not UTF-8"))),
        Ok(line) => parse_line(line).ok_or(Error::at(n, "not a valid exposition line")).transpose(),
    })
}

fn blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `Some(None)`: a blank line or a comment; `None`: malformed.
fn parse_line(line: &str) -> Option<Option<Line<'_>>> {
    let line = line.trim_start_matches(blank);
    if line.is_empty() {
        return Some(None);
    }
    if let Some(rest) = line.strip_prefix('#') {
        let rest = rest.trim_start_matches(blank);
        let (token, rest) = rest.split_once(blank).unwrap_or((rest, ""));
        if token != "HELP" && token != "TYPE" {
            return Some(None);
        }
        let rest = rest.trim_start_matches(blank);
        let (name, rest) = rest.split_once(blank).unwrap_or((rest, ""));
        if !valid_metric_name(name) {
            return None;
        }
        let rest = rest.trim_start_matches(blank);
        if token == "HELP" {
            return valid_escapes(rest, false).then_some(Some(Line::Help { name, text: rest }));
        }
        let kind = MetricType::parse(rest.trim_end_matches(blank))?;
        return Some(Some(Line::Type { name, kind }));
    }
    let name_end = line.find(|c: char| blank(c) || c == '{').unwrap_or(line.len());
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return None;
    }
    let mut rest = line[name_end..].trim_start_matches(blank);
    let mut labels = "";
    if let Some(body) = rest.strip_prefix('{') {
        let end = labels_end(body)?;
        labels = &body[..end];
        rest = body[end + 1..].trim_start_matches(blank);
    }
    let mut fields = rest.split(blank).filter(|f| !f.is_empty());
    let value = parse_value(fields.next()?)?;
    let timestamp = match fields.next() {
        None => false,
        Some(ts) => {
            ts.parse::<i64>().ok()?;
            true
        }
    };
    if fields.next().is_some() {
        return None;
    }
    Some(Some(Line::Sample { name, labels, value, timestamp }))
}

/// Where the label set that `body` starts (just after `{`) ends: the
/// index of its `}`, after checking every label in it.
fn labels_end(body: &str) -> Option<usize> {
    let mut i = 0;
    let bytes = body.as_bytes();
    let skip = |i: &mut usize| {
        while bytes.get(*i).is_some_and(|&b| b == b' ' || b == b'\t') {
            *i += 1;
        }
    };
    let mut names: [&str; 32] = [""; 32];
    let mut count = 0;
    loop {
        skip(&mut i);
        if *bytes.get(i)? == b'}' {
            return Some(i);
        }
        let start = i;
        while bytes.get(i).is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_') {
            i += 1;
        }
        let name = &body[start..i];
        // A label twice in one sample is refused, as Prometheus does; the
        // check's bound is the labels' own count, at most 32.
        if !valid_label_name(name) || count == names.len() || names[..count].contains(&name) {
            return None;
        }
        names[count] = name;
        count += 1;
        skip(&mut i);
        if *bytes.get(i)? != b'=' {
            return None;
        }
        i += 1;
        skip(&mut i);
        if *bytes.get(i)? != b'"' {
            return None;
        }
        i += 1;
        let value_start = i;
        loop {
            match *bytes.get(i)? {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        if !valid_escapes(body.get(value_start..i)?, true) {
            return None;
        }
        i += 1;
        skip(&mut i);
        match *bytes.get(i)? {
            b',' => i += 1,
            b'}' => {}
            _ => return None,
        }
    }
}

/// Whether every backslash starts a known escape: `\\`, `\n`, and `\"` in
/// a label value.
fn valid_escapes(text: &str, quote: bool) -> bool {
    let mut it = text.bytes();
    while let Some(b) = it.next() {
        if b == b'\\' {
            match it.next() {
                Some(b'\\' | b'n') => {}
                Some(b'"') if quote => {}
                _ => return false,
            }
        }
    }
    true
}

/// A sample value: what Go's ParseFloat reads, which for these files is
/// what Rust's does too (`1`, `-1.5e3`, `Inf`, `+Inf`, `NaN`).
fn parse_value(field: &str) -> Option<f64> {
    if field.len() > 64 || field.contains('_') {
        return None;
    }
    super::float::parse(field)
}

/// The labels of a sample's validated label text: name and escaped value.
pub fn labels(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let body = rest.trim_start_matches(|c: char| blank(c) || c == ',');
        let (name, after) = body.split_once('=')?;
        let after = after.trim_start_matches(blank).strip_prefix('"')?;
        let mut end = 0;
        let bytes = after.as_bytes();
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        let value = after.get(..end)?;
        rest = after.get(end + 1..)?;
        Some((name.trim_end_matches(blank), value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::expfmt::unescape;

    // A cron script's output, as the textfile collector's docs show it,
    // with node_exporter's own fixture's escapes.
    const CAPTURED: &[u8] = b"# HELP backup_last_success_timestamp_seconds Last good backup.\n\
# TYPE backup_last_success_timestamp_seconds gauge\n\
backup_last_success_timestamp_seconds{job=\"nightly\",path=\"C:\\\\bak \\\"x\\\"\"} 1.7e9\n\
# a comment\n\
\n\
apt_upgrades_pending{origin=\"Debian\",arch=\"amd64\",} 3\n\
# TYPE rpc_seconds summary\n\
rpc_seconds{quantile=\"0.5\"} 0.25\n\
rpc_seconds_sum 12\n\
rpc_seconds_count 40\n\
temperature\t+Inf\n";

    #[test]
    fn parse_captured_textfile() {
        let got: Vec<_> = parse(CAPTURED).map(Result::unwrap).collect();
        assert_eq!(got.len(), 9);
        assert_eq!(got[0], Line::Help { name: "backup_last_success_timestamp_seconds", text: "Last good backup." });
        assert_eq!(got[1], Line::Type { name: "backup_last_success_timestamp_seconds", kind: MetricType::Gauge });
        let Line::Sample { labels: l, value, .. } = got[2] else { panic!() };
        assert_eq!(value, 1.7e9);
        let pairs: Vec<_> = labels(l).collect();
        assert_eq!(pairs, vec![("job", "nightly"), ("path", "C:\\\\bak \\\"x\\\"")]);
        let mut s = String::new();
        unescape(pairs[1].1, &mut s);
        assert_eq!(s, "C:\\bak \"x\"");
        let Line::Sample { labels: l, .. } = got[3] else { panic!() };
        assert_eq!(labels(l).count(), 2);
        assert_eq!(got[4], Line::Type { name: "rpc_seconds", kind: MetricType::Summary });
        assert!(matches!(got[8], Line::Sample { name: "temperature", value, .. } if value == f64::INFINITY));
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in [
            "x{a=\"1\" 1",
            "x{a=1} 1",
            "x{a=\"1\",a=\"2\"} 1",
            "x{__name__=\"y\"} 1",
            "x{a=\"\\q\"} 1",
            "x 1 2 3",
            "x one",
            "x 1 1.5",
            "1x 1",
            "x",
            "# TYPE x gauges",
            "# HELP x bad \\q escape",
            "x{a=\"1\"}} 1",
            "x 1_000",
        ] {
            let got: Vec<_> = parse(bad.as_bytes()).collect();
            assert!(matches!(got[..], [Err(_)]), "{bad}: {got:?}");
        }
        assert!(matches!(parse(b"x 1 1700000000000").next(), Some(Ok(Line::Sample { timestamp: true, .. }))));
        assert_eq!(parse(b"#TYPE x gauge\n#\n# other\n").count(), 1);
    }

    #[test]
    fn truncated_textfile_never_panics() {
        for n in 0..CAPTURED.len() {
            for item in parse(&CAPTURED[..n]) {
                if let Ok(Line::Sample { labels: l, .. }) = item {
                    for (_, v) in labels(l) {
                        unescape(v, &mut String::new());
                    }
                }
            }
        }
    }
}
