//! The text exposition format 0.0.4: its vocabulary (the metric types,
//! what a metric or label name may be), and reading samples back out of it.
//!
//! Push mode sends what a scrape would show: the collectors write the one
//! exposition (expo.rs), and this reads its sample lines back into names,
//! labels and values, so there is a single path from /proc to the wire
//! whichever way the numbers leave the box.
//!
//! ```text
//! # HELP and # TYPE lines, and blank lines: skipped
//! name value
//! name{label="value",other="esc\"aped\\ \n"} value
//! ```
//!
//! Invariants: never panics; a malformed line is an error item with its
//! number, and the lines after it still come; label values are unescaped
//! (`\\`, `\"`, `\n`) only when they contain a backslash.

use std::borrow::Cow;

use crate::wire::{lines, Error};

/// The `# TYPE` of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Untyped,
    Histogram,
    Summary,
}

impl MetricType {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Untyped => "untyped",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
        }
    }

    /// The type a `# TYPE` line names.
    pub fn parse(s: &str) -> Option<MetricType> {
        Some(match s {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" => MetricType::Untyped,
            _ => return None,
        })
    }
}

/// Appends `raw` with its escapes undone (`\\`, `\"`, `\n`).
pub fn unescape(raw: &str, out: &mut String) {
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(c) => out.push(c),
            None => out.push('\\'),
        }
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, and not the reserved `__` prefix.
pub fn valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.starts_with("__")
}

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample<'a> {
    pub name: &'a str,
    /// The text between the braces, still escaped; empty without labels.
    labels: &'a str,
    pub value: f64,
}

impl<'a> Sample<'a> {
    /// The labels in their written order, values unescaped.
    pub fn labels(&self) -> Labels<'a> {
        Labels(self.labels)
    }
}

/// Iterator over a sample's labels. Its input was checked when the line
/// was parsed, so it cannot fail.
pub struct Labels<'a>(&'a str);

impl<'a> Iterator for Labels<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.0.trim_start_matches(',');
        let (name, after) = rest.split_once("=\"")?;
        let end = closing_quote(after)?;
        let raw = &after[..end];
        self.0 = &after[end + 1..];
        let value = if raw.contains('\\') {
            let mut owned = String::with_capacity(raw.len());
            unescape(raw, &mut owned);
            Cow::Owned(owned)
        } else {
            Cow::Borrowed(raw)
        };
        Some((name, value))
    }
}

/// The sample lines of an exposition, in order.
pub fn samples(text: &[u8]) -> impl Iterator<Item = Result<Sample<'_>, Error>> {
    lines(text).filter(|(_, l)| !l.is_empty() && !l.starts_with(b"#")).map(|(n, line)| {
        let line = std::str::from_utf8(line).map_err(|_| Error::at(n, "not UTF-8"))?;
        parse_line(line).ok_or(Error::at(n, "not a sample line"))
    })
}

fn parse_line(line: &str) -> Option<Sample<'_>> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return None;
    }
    let (labels, rest) = if line[name_end..].starts_with('{') {
        let body = &line[name_end + 1..];
        let end = labels_end(body)?;
        (&body[..end], &body[end + 1..])
    } else {
        ("", &line[name_end..])
    };
    let mut fields = rest.split(' ').filter(|f| !f.is_empty());
    let value = parse_value(fields.next()?)?;
    // An optional timestamp may follow; sonde's own output has none.
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().ok()?;
    }
    fields.next().is_none().then_some(Sample { name, labels, value })
}

/// Where the label set that starts `body` ends (the index of its `}`),
/// checking each `name="value"` on the way.
fn labels_end(body: &str) -> Option<usize> {
    let mut pos = 0;
    loop {
        let rest = &body[pos..];
        if rest.starts_with('}') {
            return Some(pos);
        }
        let (name, after) = rest.split_once("=\"")?;
        if !valid_label_name(name) {
            return None;
        }
        let end = closing_quote(after)?;
        pos += name.len() + 2 + end + 1;
        match body[pos..].chars().next()? {
            ',' => pos += 1,
            '}' => return Some(pos),
            _ => return None,
        }
    }
}

/// Index of the quote that ends a label value (skipping escaped ones).
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// A sample value: Go's ParseFloat syntax as Prometheus accepts it, with
/// `NaN`, `+Inf` and `-Inf` spelled out.
fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ if s.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) && !s.is_empty() => super::float::parse(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_errors_with_their_number() {
        let text = b"ok 1\nbad{x=\"1\" 2\n# HELP x y\nalso bad\nok2{a=\"b\"} 1e3 1700000000000\n";
        let got: Vec<_> = samples(text).collect();
        assert_eq!(got.len(), 4);
        assert!(got[0].is_ok());
        assert_eq!(got[1].as_ref().unwrap_err().line, 2);
        assert_eq!(got[2].as_ref().unwrap_err().line, 4);
        assert_eq!(got[3].as_ref().unwrap().value, 1000.0);
    }

    #[test]
    fn truncated_lines_never_panic() {
        let line = "x{a=\"b\\\"c\",d=\"e\"} -1.5e-3\n";
        for n in 0..=line.len() {
            for s in samples(&line.as_bytes()[..n]).flatten() {
                let _ = s.labels().count();
            }
        }
    }
}
