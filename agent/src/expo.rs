//! The one writer of the Prometheus text exposition format, version 0.0.4.
//!
//! Nothing else in sonde writes exposition text. Every family gets `# HELP`
//! and `# TYPE` before its samples; help text and label values are escaped
//! here and nowhere else; names are checked against the format's grammar.
//!
//! Invariants:
//! - The output is bounded: it never grows past the limit it was given
//!   ([`crate::limits::MAX_EXPOSITION`] in practice). A line that would
//!   cross the limit is not written, and the exposition remembers that it
//!   overflowed, so the caller can remove the whole collector's part with
//!   [`Exposition::rollback`] and count it. Nothing is cut mid-line or
//!   mid-family silently.
//! - A family name appears at most once per exposition: a second family of
//!   the same name, an invalid name or label, or a label value longer than
//!   [`MAX_LABEL_VALUE`] is rejected, counted in [`Exposition::invalid`] and
//!   flagged, and its samples are skipped.
//! - After the first scrapes it allocates nothing: the buffers are reused.
//!
//! Format reference: Prometheus "Exposition formats", text format 0.0.4.

use std::io::Write as _;

use crate::limits::MAX_LABEL_VALUE;
pub use crate::wire::expfmt::{valid_label_name, valid_metric_name, MetricType};

/// The point [`Exposition::rollback`] returns to.
#[derive(Clone, Copy, Debug, Default)]
struct Mark {
    len: usize,
    families: usize,
}

/// Text exposition under construction, bounded by a byte limit.
pub struct Exposition {
    buf: Vec<u8>,
    limit: usize,
    /// Name of the open family; samples are written under it.
    family: String,
    /// Whether the open family was accepted; if not, its samples are skipped.
    family_ok: bool,
    /// FNV-1a hashes of the family names written so far, in order.
    families: Vec<u64>,
    /// A write was refused for size since the last [`Exposition::mark`].
    overflowed: bool,
    /// A write was refused as invalid since the last [`Exposition::mark`].
    rejected: bool,
    /// Writes refused as invalid over this exposition.
    pub invalid: u64,
    /// Set by [`Exposition::mark`]. Only one is kept, so a rollback can
    /// never return to a point inside text written after another one.
    mark: Mark,
}

impl Exposition {
    /// An empty exposition that will hold at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Exposition {
            buf: Vec::new(),
            limit,
            family: String::new(),
            family_ok: false,
            families: Vec::new(),
            overflowed: false,
            rejected: false,
            invalid: 0,
            mark: Mark::default(),
        }
    }

    /// Empties it for the next scrape, keeping the allocations.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.family.clear();
        self.family_ok = false;
        self.families.clear();
        self.overflowed = false;
        self.rejected = false;
        self.invalid = 0;
        self.mark = Mark::default();
    }

    /// Changes the byte limit; the part already written is kept.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Remembers this point for [`Exposition::rollback`], and clears the
    /// overflow and rejection flags.
    pub fn mark(&mut self) {
        self.overflowed = false;
        self.rejected = false;
        self.family_ok = false;
        self.mark = Mark { len: self.buf.len(), families: self.families.len() };
    }

    /// Removes everything written since the last mark, families included.
    pub fn rollback(&mut self) {
        self.buf.truncate(self.mark.len);
        self.families.truncate(self.mark.families);
        self.family_ok = false;
    }

    /// Whether a write was refused for size since the last mark.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Whether a write was refused as invalid since the last mark.
    pub fn rejected(&self) -> bool {
        self.rejected
    }

    /// Opens a family: writes its HELP and TYPE lines. Samples written
    /// after it belong to it until the next family.
    pub fn family(&mut self, name: &str, help: &str, kind: MetricType) {
        self.family_parts(&[name], &[help], kind);
    }

    /// [`Exposition::family`] with the name and the help each given in
    /// parts, written one after the other (`["node_sockstat_", "TCP",
    /// "_inuse"]`): collectors whose names come from the input spell them
    /// here, without building a string of their own.
    pub fn family_parts(&mut self, name: &[&str], help: &[&str], kind: MetricType) {
        self.family_ok = false;
        self.family.clear();
        for part in name {
            self.family.push_str(part);
        }
        if !valid_metric_name(&self.family) {
            self.reject();
            return;
        }
        let hash = fnv1a(self.family.as_bytes());
        if self.families.contains(&hash) {
            self.reject();
            return;
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(b"# HELP ");
        self.buf.extend_from_slice(self.family.as_bytes());
        self.buf.push(b' ');
        for part in help {
            escape(&mut self.buf, part.as_bytes(), false);
        }
        self.buf.extend_from_slice(b"\n# TYPE ");
        self.buf.extend_from_slice(self.family.as_bytes());
        self.buf.push(b' ');
        self.buf.extend_from_slice(kind.as_str().as_bytes());
        self.buf.push(b'\n');
        if !self.fits(start) {
            return;
        }
        self.families.push(hash);
        self.family_ok = true;
    }

    /// Writes one sample of the open family.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        self.sample_suffixed("", labels, value);
    }

    /// Writes one sample whose name is the family's plus `suffix`
    /// (`_bucket`, `_sum`, `_count` of a histogram).
    pub fn sample_suffixed(&mut self, suffix: &str, labels: &[(&str, &str)], value: f64) {
        if !self.family_ok {
            // The family was refused; its refusal was counted once.
            return;
        }
        for (name, value) in labels {
            if !valid_label_name(name) || value.len() > MAX_LABEL_VALUE {
                self.reject();
                return;
            }
        }
        if !suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            self.reject();
            return;
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(self.family.as_bytes());
        self.buf.extend_from_slice(suffix.as_bytes());
        if !labels.is_empty() {
            self.buf.push(b'{');
            for (i, (name, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b',');
                }
                self.buf.extend_from_slice(name.as_bytes());
                self.buf.extend_from_slice(b"=\"");
                escape(&mut self.buf, value.as_bytes(), true);
                self.buf.push(b'"');
            }
            self.buf.push(b'}');
        }
        self.buf.push(b' ');
        write_value(&mut self.buf, value);
        self.buf.push(b'\n');
        self.fits(start);
    }

    /// Keeps the line written since `start` if it is within the limit;
    /// otherwise removes it and flags the overflow.
    fn fits(&mut self, start: usize) -> bool {
        if self.buf.len() <= self.limit {
            return true;
        }
        self.buf.truncate(start);
        self.overflowed = true;
        self.family_ok = false;
        false
    }

    fn reject(&mut self) {
        self.rejected = true;
        self.invalid += 1;
    }
}

/// Appends `text` with `\\` and newline escaped, and `"` too in a label
/// value. Runs without special bytes are copied whole: help texts and
/// label values rarely need escaping, and this is the scrape's hot loop.
fn escape(buf: &mut Vec<u8>, text: &[u8], quote: bool) {
    let special = |b: &u8| *b == b'\\' || *b == b'\n' || (quote && *b == b'"');
    let mut rest = text;
    while let Some(i) = rest.iter().position(special) {
        buf.extend_from_slice(&rest[..i]);
        buf.extend_from_slice(match rest[i] {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            _ => b"\\\"",
        });
        rest = &rest[i + 1..];
    }
    buf.extend_from_slice(rest);
}

/// Writes a sample value as the text format spells it: `NaN`, `+Inf`,
/// `-Inf`, integers without a fraction, very large or small magnitudes in
/// exponent form (Rust's `{}` would print all 300 digits of 1e300).
fn write_value(buf: &mut Vec<u8>, v: f64) {
    // Writing into a Vec cannot fail.
    let _ = if v.is_nan() {
        buf.write_all(b"NaN")
    } else if v.is_infinite() {
        buf.write_all(if v > 0.0 { b"+Inf" } else { b"-Inf" })
    } else if v == v.trunc() && v.abs() < 1e15 {
        // Most samples are integral (counters, bytes); spelled by hand,
        // they skip the formatting machinery.
        if v < 0.0 {
            buf.push(b'-');
        }
        buf.write_all(decimal(v.abs() as u64, &mut [0; 20]).as_bytes())
    } else if v.abs() >= 1e15 || v.abs() < 1e-5 {
        write!(buf, "{v:e}")
    } else {
        write!(buf, "{v}")
    };
}

/// `n` in decimal, spelled into `buf`: for label values such as a CPU
/// number, and integral sample values, without the formatting machinery.
pub fn decimal(n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_the_writer_wrote() {
        let mut e = Exposition::new(1 << 20);
        e.family("a_total", "h", MetricType::Counter);
        e.sample(&[], 3.0);
        e.family("b", "h\nx", MetricType::Gauge);
        e.sample(&[("x", "1"), ("y", "q\"uo\\te\nnl")], f64::NAN);
        e.sample(&[("x", "")], f64::NEG_INFINITY);
        let got: Vec<_> = crate::wire::expfmt::samples(e.as_bytes()).map(Result::unwrap).collect();
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].name, got[0].value), ("a_total", 3.0));
        assert!(got[1].value.is_nan());
        let labels: Vec<_> = got[1].labels().collect();
        assert_eq!(
            labels,
            vec![("x", std::borrow::Cow::Borrowed("1")), ("y", std::borrow::Cow::Owned("q\"uo\\te\nnl".to_owned()))]
        );
        assert_eq!(got[2].labels().collect::<Vec<_>>(), vec![("x", std::borrow::Cow::Borrowed(""))]);
        assert_eq!(got[2].value, f64::NEG_INFINITY);
    }

    fn text(e: &Exposition) -> &str {
        std::str::from_utf8(e.as_bytes()).unwrap()
    }

    #[test]
    fn family_with_help_type_and_samples() {
        let mut e = Exposition::new(1 << 20);
        e.family("node_load1", "1m load average.", MetricType::Gauge);
        e.sample(&[], 0.25);
        e.family("node_cpu_seconds_total", "Seconds.", MetricType::Counter);
        e.sample(&[("cpu", "0"), ("mode", "idle")], 12.5);
        assert_eq!(
            text(&e),
            "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.25\n\
             # HELP node_cpu_seconds_total Seconds.\n# TYPE node_cpu_seconds_total counter\n\
             node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 12.5\n"
        );
    }

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut e = Exposition::new(1 << 20);
        e.family("x", "a \\ b\nc \"q\"", MetricType::Gauge);
        e.sample(&[("v", "back\\slash \"quote\"\nnewline")], 1.0);
        assert_eq!(
            text(&e),
            "# HELP x a \\\\ b\\nc \"q\"\n# TYPE x gauge\n\
             x{v=\"back\\\\slash \\\"quote\\\"\\nnewline\"} 1\n"
        );
    }

    #[test]
    fn values_spelled_as_the_format_wants() {
        let cases: &[(f64, &str)] = &[
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.0, "0"),
            (-3.0, "-3"),
            (8_242_348_032.0, "8242348032"),
            (0.001, "0.001"),
            (1e300, "1e300"),
            (1.5e-9, "1.5e-9"),
            (1_700_000_000.123_456, "1700000000.123456"),
        ];
        for &(v, want) in cases {
            let mut buf = Vec::new();
            write_value(&mut buf, v);
            assert_eq!(std::str::from_utf8(&buf).unwrap(), want, "value {v}");
        }
    }

    #[test]
    fn decimal_spells_numbers() {
        let mut buf = [0; 20];
        assert_eq!(decimal(0, &mut buf), "0");
        assert_eq!(decimal(17, &mut buf), "17");
        assert_eq!(decimal(u64::MAX, &mut buf), "18446744073709551615");
    }

    #[test]
    fn duplicate_family_is_rejected_and_its_samples_skipped() {
        let mut e = Exposition::new(1 << 20);
        e.family("a", "h", MetricType::Gauge);
        e.sample(&[], 1.0);
        let before = e.len();
        e.family("a", "h", MetricType::Gauge);
        e.sample(&[], 2.0);
        assert_eq!(e.len(), before);
        assert_eq!(e.invalid, 1);
        assert!(e.rejected());
    }

    #[test]
    fn invalid_names_are_rejected() {
        let mut e = Exposition::new(1 << 20);
        for bad in ["", "1abc", "a-b", "a b", "é"] {
            e.family(bad, "h", MetricType::Gauge);
            e.sample(&[], 1.0);
        }
        e.family("ok", "h", MetricType::Gauge);
        e.sample(&[("bad-label", "v")], 1.0);
        e.sample(&[("__reserved", "v")], 1.0);
        e.sample(&[("big", &"x".repeat(MAX_LABEL_VALUE + 1))], 1.0);
        assert_eq!(e.invalid, 8);
        assert_eq!(text(&e), "# HELP ok h\n# TYPE ok gauge\n");
    }

    #[test]
    fn overflow_never_cuts_a_line_and_rollback_removes_the_part() {
        let mut e = Exposition::new(100);
        e.family("first", "h", MetricType::Gauge);
        e.sample(&[], 1.0);
        let kept = text(&e).to_owned();
        e.mark();
        e.family("second", "h", MetricType::Gauge);
        for i in 0..100 {
            e.sample(&[], f64::from(i));
        }
        assert!(e.overflowed());
        assert!(e.len() <= 100);
        assert!(text(&e).ends_with('\n'));
        e.rollback();
        assert_eq!(text(&e), kept);
        // The removed family may be written again (by nobody, but the
        // bookkeeping must agree with the text).
        e.set_limit(1 << 20);
        e.family("second", "h", MetricType::Gauge);
        assert!(!e.rejected());
    }
}
