//! Prometheus Remote-Write 1.0: the `WriteRequest` protobuf, by hand.
//!
//! The schema is four messages (Remote-Write spec 1.0, "Protocol"):
//!
//! ```proto
//! message WriteRequest { repeated TimeSeries timeseries = 1; }
//! message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
//! message Label        { string name = 1; string value = 2; }
//! message Sample       { double value = 1; int64 timestamp = 2; }
//! ```
//!
//! On the wire (proto3 encoding): every field is a tag byte
//! `(field << 3) | wire_type`, then a varint length and the bytes for a
//! string or message (wire type 2), 8 little-endian bytes for a double
//! (type 1), or a varint for an int64 (type 0; a negative timestamp takes
//! ten bytes, never zigzag). A `WriteRequest` is nothing but its series
//! one after the other, so series are appended as they come, with no
//! outer length to know in advance.
//!
//! Values are written bit for bit, zero and NaNs included: the staleness
//! marker is one particular NaN ([`STALE_NAN`]) and must arrive as such.
//!
//! Invariants: [`emit_series`] does not check labels (the caller sorts and
//! validates them, as the spec requires before sending); [`parse`] never
//! panics and bounds every length by the bytes left.

use crate::wire::Error;

/// The staleness marker: a series that ends gets this value (Prometheus
/// `value.StaleNaN`).
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// Appends one `WriteRequest.timeseries` entry.
pub fn emit_series(out: &mut Vec<u8>, labels: &[(&str, &str)], samples: &[(f64, i64)]) {
    let label_len = |n: &str, v: &str| field_len(n.len()) + field_len(v.len());
    let sample_len = |ts: i64| 1 + 8 + 1 + varint_len(ts as u64);
    let body: usize = labels.iter().map(|(n, v)| field_len(label_len(n, v))).sum::<usize>()
        + samples.iter().map(|&(_, ts)| field_len(sample_len(ts))).sum::<usize>();
    out.push(0x0a);
    varint(out, body as u64);
    for (name, value) in labels {
        out.push(0x0a);
        varint(out, label_len(name, value) as u64);
        out.push(0x0a);
        varint(out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
        out.push(0x12);
        varint(out, value.len() as u64);
        out.extend_from_slice(value.as_bytes());
    }
    for &(value, ts) in samples {
        out.push(0x12);
        varint(out, sample_len(ts) as u64);
        out.push(0x09);
        out.extend_from_slice(&value.to_bits().to_le_bytes());
        out.push(0x10);
        varint(out, ts as u64);
    }
}

/// Bytes of a length-delimited field holding `len` bytes, tag included.
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// One decoded series: labels in wire order, samples as (value bits,
/// timestamp) so NaNs compare exactly.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Series {
    pub labels: Vec<(String, String)>,
    pub samples: Vec<(u64, i64)>,
}

/// Decodes a `WriteRequest`. For tests and the fuzzer: sonde itself only
/// encodes. Unknown fields are skipped, as proto3 requires.
pub fn parse(buf: &[u8]) -> Result<Vec<Series>, Error> {
    let mut series = Vec::new();
    let mut r = Reader(buf);
    while !r.0.is_empty() {
        let (field, wire) = r.tag()?;
        if (field, wire) == (1, 2) {
            series.push(parse_series(r.bytes()?)?);
        } else {
            r.skip(wire)?;
        }
    }
    Ok(series)
}

fn parse_series(buf: &[u8]) -> Result<Series, Error> {
    let mut s = Series::default();
    let mut r = Reader(buf);
    while !r.0.is_empty() {
        match r.tag()? {
            (1, 2) => {
                let mut l = Reader(r.bytes()?);
                let (mut name, mut value) = (String::new(), String::new());
                while !l.0.is_empty() {
                    match l.tag()? {
                        (1, 2) => name = l.string()?,
                        (2, 2) => value = l.string()?,
                        (_, wire) => l.skip(wire)?,
                    }
                }
                s.labels.push((name, value));
            }
            (2, 2) => {
                let mut m = Reader(r.bytes()?);
                let (mut value, mut ts) = (0u64, 0i64);
                while !m.0.is_empty() {
                    match m.tag()? {
                        (1, 1) => value = u64::from_le_bytes(m.fixed8()?),
                        (2, 0) => ts = m.varint()? as i64,
                        (_, wire) => m.skip(wire)?,
                    }
                }
                s.samples.push((value, ts));
            }
            (_, wire) => r.skip(wire)?,
        }
    }
    Ok(s)
}

struct Reader<'a>(&'a [u8]);

const TRUNCATED: Error = Error::at(0, "truncated protobuf");

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, Error> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.0.split_first().ok_or(TRUNCATED)?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(Error::at(0, "varint longer than ten bytes"))
    }

    fn tag(&mut self) -> Result<(u64, u8), Error> {
        let t = self.varint()?;
        Ok((t >> 3, (t & 7) as u8))
    }

    fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let len = usize::try_from(self.varint()?).map_err(|_| TRUNCATED)?;
        if len > self.0.len() {
            return Err(TRUNCATED);
        }
        let (b, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(b)
    }

    fn string(&mut self) -> Result<String, Error> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| Error::at(0, "string is not UTF-8"))
    }

    fn fixed8(&mut self) -> Result<[u8; 8], Error> {
        let b = self.0.get(..8).ok_or(TRUNCATED)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        self.0 = &self.0[8..];
        Ok(a)
    }

    fn skip(&mut self, wire: u8) -> Result<(), Error> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.fixed8().map(drop),
            2 => self.bytes().map(drop),
            5 => {
                self.0 = self.0.get(4..).ok_or(TRUNCATED)?;
                Ok(())
            }
            _ => Err(Error::at(0, "unsupported protobuf wire type")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-assembled per the proto3 rules, so the encoder is checked
    /// against bytes, not only against its own decoder.
    #[test]
    fn emit_one_series_byte_for_byte() {
        let mut out = Vec::new();
        emit_series(&mut out, &[("__name__", "up"), ("job", "x")], &[(1.0, 1000)]);
        let want: &[u8] = &[
            0x0a, 0x28, // timeseries, 40 bytes
            0x0a, 0x0e, 0x0a, 0x08, b'_', b'_', b'n', b'a', b'm', b'e', b'_', b'_', 0x12, 0x02, b'u', b'p', 0x0a, 0x08,
            0x0a, 0x03, b'j', b'o', b'b', 0x12, 0x01, b'x', //
            0x12, 0x0c, 0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x10, 0xe8, 0x07,
        ];
        assert_eq!(out, want);
    }

    #[test]
    fn round_trip_keeps_nan_bits_and_negative_timestamps() {
        let mut out = Vec::new();
        let stale = f64::from_bits(STALE_NAN);
        emit_series(&mut out, &[("__name__", "a")], &[(stale, 1_700_000_000_000), (-0.0, -5)]);
        emit_series(&mut out, &[("__name__", "b"), ("l", "é\"\n")], &[(0.0, 0)]);
        let got = parse(&out).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].samples, vec![(STALE_NAN, 1_700_000_000_000), ((-0.0f64).to_bits(), -5)]);
        assert_eq!(got[1].labels[1], ("l".to_owned(), "é\"\n".to_owned()));
    }

    #[test]
    fn truncated_requests_are_rejected() {
        let mut out = Vec::new();
        emit_series(&mut out, &[("__name__", "up")], &[(1.0, 1)]);
        for n in 1..out.len() {
            assert!(parse(&out[..n]).is_err(), "prefix of {n} bytes");
        }
    }
}
