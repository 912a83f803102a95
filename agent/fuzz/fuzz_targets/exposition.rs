//! The exposition writer is fed names, help and label values that come
//! from /proc, /sys and config, and a byte limit, so its guarantees must
//! hold for any sequence of calls: no panic, never past the limit, never a
//! cut line, every line in the text format's shape, a family at most once.
//! The input is a little program of calls; a model of what each call
//! should have appended is checked after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::expo::{valid_label_name, valid_metric_name, Exposition, MetricType};
use sonde::limits::MAX_LABEL_VALUE;

/// Reads the fuzz input as a stream of choices; zeros once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }

    fn raw(&mut self) -> String {
        let n = usize::from(self.byte() % 24).min(self.0.len());
        let (s, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8_lossy(s).into_owned()
    }

    /// Mostly names from `dict` (so valid families and labels are common),
    /// sometimes numbered to be distinct, sometimes raw bytes.
    fn word(&mut self, dict: &[&str]) -> String {
        let pick = dict[usize::from(self.byte()) % dict.len()];
        match self.byte() % 4 {
            0 | 1 => pick.to_owned(),
            2 => format!("{pick}{}", self.byte()),
            _ => self.raw(),
        }
    }

    fn value(&mut self) -> f64 {
        match self.byte() % 8 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => f64::from(self.byte()) - 128.0,
            _ => {
                let mut b = [0; 8];
                b.iter_mut().for_each(|x| *x = self.byte());
                f64::from_bits(u64::from_le_bytes(b))
            }
        }
    }
}

const FAMILIES: &[&str] = &["node_load1", "a", "x:y", "_", "node_cpu_seconds_total", "1bad", "a-b", "", "é"];
const LABELS: &[&str] = &["cpu", "mode", "le", "_x", "__name__", "bad-label", "", "ü"];
const VALUES: &[&str] = &["0", "idle", "back\\slash", "\"quoted\"", "new\nline", "{a=\"b\"} 1", ""];
const SUFFIXES: &[&str] = &["", "_bucket", "_sum", "_count", "-bad", "{"];

fn escape(s: &str, quote: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// A sample value as the text format spells it.
fn read_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        t if t.bytes().all(|b| b.is_ascii_digit() || b"-.e".contains(&b)) => t.parse().ok(),
        _ => None,
    }
}

/// The value reads back as exactly the one given.
fn check_value(text: &str, v: f64) {
    let ok = read_value(text).is_some_and(|r| r == v || (r.is_nan() && v.is_nan()));
    assert!(ok, "value {v:?} written as {text:?}");
}

/// The label set after a sample's name: `{n="v",...}`, escapes included.
/// Returns the rest of the line.
fn skip_labels(mut s: &str) -> &str {
    let Some(inner) = s.strip_prefix('{') else { return s };
    s = inner;
    loop {
        let eq = s.find("=\"").expect("label without =\"");
        assert!(valid_label_name(&s[..eq]), "label name {:?}", &s[..eq]);
        s = &s[eq + 2..];
        let mut chars = s.char_indices();
        let end = loop {
            match chars.next().expect("unterminated label value") {
                (_, '\\') => assert!(matches!(chars.next(), Some((_, '\\' | '"' | 'n'))), "bad escape"),
                (i, '"') => break i,
                _ => {}
            }
        };
        s = &s[end + 1..];
        match s.as_bytes().first() {
            Some(b',') => s = &s[1..],
            Some(b'}') => return &s[1..],
            _ => panic!("label set not closed: {s:?}"),
        }
    }
}

/// The whole text, line by line, as a scraper would read it.
fn check_text(text: &str) {
    let mut family: Option<&str> = None;
    let mut help: Option<&str> = None;
    let mut seen = std::collections::HashSet::new();
    for line in text.split_terminator('\n') {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            assert!(rest.len() > name.len(), "HELP without a space after the name: {line:?}");
            assert!(valid_metric_name(name), "{line:?}");
            assert!(seen.insert(name), "family {name} twice");
            help = Some(name);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE without a kind");
            assert!(matches!(kind, "counter" | "gauge" | "untyped"), "{line:?}");
            assert_eq!(help.take(), Some(name), "TYPE not right after its HELP");
            family = Some(name);
        } else {
            let name_end = line.find(['{', ' ']).expect("sample without value");
            let name = &line[..name_end];
            let fam = family.expect("sample before any family");
            assert!(name.starts_with(fam) && valid_metric_name(name), "{line:?} under {fam}");
            let rest = skip_labels(&line[name_end..]);
            let value = rest.strip_prefix(' ').expect("no space before the value");
            assert!(read_value(value).is_some(), "{line:?}");
        }
    }
    assert!(help.is_none(), "HELP without TYPE");
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut limit = usize::from(u16::from_le_bytes([input.byte(), input.byte()]) % 4096);
    let mut max_limit = limit;
    let mut e = Exposition::new(limit);
    // The model: family names in the text, the one open for samples, and
    // marks with the model's length when they were taken.
    let mut names: Vec<String> = Vec::new();
    let mut open: Option<String> = None;
    // The model's number of families at the last mark, if one was taken.
    let mut mark: Option<usize> = None;

    for _ in 0..64 {
        if input.0.is_empty() {
            break;
        }
        let before = e.as_bytes().to_vec();
        let invalid = e.invalid;
        match input.byte() % 8 {
            0 | 1 => {
                let name = input.word(FAMILIES);
                let help = input.word(VALUES);
                let kind = [MetricType::Counter, MetricType::Gauge, MetricType::Untyped][usize::from(input.byte() % 3)];
                e.family(&name, &help, kind);
                let added = &e.as_bytes()[before.len().min(e.len())..];
                open = None;
                if !valid_metric_name(&name) || names.contains(&name) {
                    assert_eq!(e.as_bytes(), &before[..], "refused family {name:?} wrote");
                    assert_eq!(e.invalid, invalid + 1);
                    assert!(e.rejected());
                } else if e.len() == before.len() {
                    assert!(e.overflowed(), "family {name:?} dropped without overflow");
                    assert_eq!(e.invalid, invalid);
                } else {
                    let kind = match kind {
                        MetricType::Counter => "counter",
                        MetricType::Gauge => "gauge",
                        MetricType::Untyped => "untyped",
                        MetricType::Histogram => "histogram",
                        MetricType::Summary => "summary",
                    };
                    let want = format!("# HELP {name} {}\n# TYPE {name} {kind}\n", escape(&help, false));
                    assert_eq!(std::str::from_utf8(added), Ok(&want[..]));
                    names.push(name.clone());
                    open = Some(name);
                }
            }
            2..=4 => {
                let suffix = if input.byte() % 4 == 0 { input.word(SUFFIXES) } else { String::new() };
                let n = usize::from(input.byte() % 4);
                let labels: Vec<(String, String)> = (0..n)
                    .map(|_| {
                        let name = input.word(LABELS);
                        let value = match input.byte() % 16 {
                            0 => "v".repeat(MAX_LABEL_VALUE - 1 + usize::from(input.byte() % 3)),
                            _ => input.word(VALUES),
                        };
                        (name, value)
                    })
                    .collect();
                let refs: Vec<(&str, &str)> = labels.iter().map(|(n, v)| (&n[..], &v[..])).collect();
                let v = input.value();
                if suffix.is_empty() {
                    e.sample(&refs, v);
                } else {
                    e.sample_suffixed(&suffix, &refs, v);
                }
                let bad = labels.iter().any(|(n, v)| !valid_label_name(n) || v.len() > MAX_LABEL_VALUE)
                    || !suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                match &open {
                    None => {
                        assert_eq!(e.as_bytes(), &before[..], "sample written with no open family");
                        assert_eq!(e.invalid, invalid);
                    }
                    Some(_) if bad => {
                        assert_eq!(e.as_bytes(), &before[..], "invalid sample written");
                        assert_eq!(e.invalid, invalid + 1);
                    }
                    Some(_) if e.len() == before.len() => {
                        assert!(e.overflowed(), "sample dropped without overflow");
                        open = None;
                    }
                    Some(family) => {
                        assert!(e.as_bytes().starts_with(&before));
                        let added = std::str::from_utf8(&e.as_bytes()[before.len()..]).expect("UTF-8");
                        let mut want = format!("{family}{suffix}");
                        if !labels.is_empty() {
                            let set: Vec<String> =
                                labels.iter().map(|(n, v)| format!("{n}=\"{}\"", escape(v, true))).collect();
                            want.push_str(&format!("{{{}}}", set.join(",")));
                        }
                        want.push(' ');
                        let value = added.strip_prefix(&want[..]).and_then(|s| s.strip_suffix('\n'));
                        let value = value.unwrap_or_else(|| panic!("wrote {added:?}, wanted {want:?}..."));
                        check_value(value, v);
                    }
                }
            }
            5 => {
                e.mark();
                mark = Some(names.len());
                open = None;
                assert!(!e.overflowed() && !e.rejected());
            }
            6 => {
                // Rolling back twice to the same mark is allowed: only the
                // last mark is kept, and nothing before it is ever removed.
                e.rollback();
                names.truncate(mark.unwrap_or(0));
                open = None;
                assert!(before.starts_with(e.as_bytes()), "rollback changed kept text");
            }
            _ => match input.byte() % 4 {
                0 => {
                    e.clear();
                    names.clear();
                    mark = None;
                    open = None;
                    assert!(e.is_empty() && e.invalid == 0);
                }
                _ => {
                    limit = usize::from(input.byte()) * 16;
                    max_limit = max_limit.max(limit);
                    e.set_limit(limit);
                }
            },
        }
        assert!(e.len() <= limit || e.len() <= before.len(), "grew past the limit {limit}");
    }

    let text = std::str::from_utf8(e.as_bytes()).expect("exposition is not UTF-8");
    assert!(text.is_empty() || text.ends_with('\n'), "last line cut");
    assert!(text.len() <= max_limit, "{} bytes over a limit of {max_limit}", text.len());
    check_text(text);
});
