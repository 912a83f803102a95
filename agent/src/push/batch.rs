//! From one collection cycle's exposition to encoded push batches.
//!
//! Each sample line becomes a series: `__name__`, the sample's labels, then
//! the external labels (`instance`, `job`, configured ones) that the sample
//! does not already carry, sorted by name as the spec requires, empty
//! values left out (an empty value is the same as no label). A series of
//! the previous cycle that is gone from this one gets a staleness marker,
//! so Prometheus ends it at once instead of five minutes later.
//!
//! A batch ([`Batch`], whose items are samples) holds at most
//! `batch_samples` samples, all of one cycle, and is
//! compressed once (snappy block format) into the bytes that are sent, and
//! re-sent as they are on a retry.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use crate::deliver::Batch;
use crate::wire::{expfmt, prw};

/// Turns expositions into batches, remembering the last cycle's series.
#[derive(Default)]
pub struct Builder {
    /// The last cycle's exposition and the keys of its series, to find
    /// the series that ended. The exposition is read again only when a
    /// key is missing from the new cycle, which is rare.
    last: Vec<u8>,
    last_keys: HashSet<u64>,
    raw: Vec<u8>,
    series: usize,
}

impl Builder {
    /// Encodes one cycle, with staleness markers for the last cycle's
    /// series that are gone. Malformed lines (there should be none: sonde
    /// wrote them) are skipped and counted in the return.
    pub fn cycle(
        &mut self,
        exposition: &[u8],
        external: &[(String, String)],
        timestamp_ms: i64,
        batch_samples: usize,
        out: &mut Vec<Batch>,
    ) -> usize {
        let mut skipped = 0;
        let mut seen = HashSet::new();
        for s in expfmt::samples(exposition) {
            match s {
                Ok(s) => {
                    seen.insert(key(&s));
                    self.add(&s, external, s.value, timestamp_ms, batch_samples, out);
                }
                Err(_) => skipped += 1,
            }
        }
        let last = std::mem::take(&mut self.last);
        if self.last_keys.iter().any(|k| !seen.contains(k)) {
            for s in expfmt::samples(&last).flatten() {
                if !seen.contains(&key(&s)) {
                    self.add(&s, external, f64::from_bits(prw::STALE_NAN), timestamp_ms, batch_samples, out);
                }
            }
        }
        self.last_keys = seen;
        self.finish(timestamp_ms, out);
        self.last = last;
        self.last.clear();
        self.last.extend_from_slice(exposition);
        skipped
    }

    /// Marks every series of the last cycle stale: sent at a clean stop.
    pub fn stale_all(
        &mut self,
        external: &[(String, String)],
        timestamp_ms: i64,
        batch_samples: usize,
        out: &mut Vec<Batch>,
    ) {
        let last = std::mem::take(&mut self.last);
        self.last_keys.clear();
        for s in expfmt::samples(&last).flatten() {
            self.add(&s, external, f64::from_bits(prw::STALE_NAN), timestamp_ms, batch_samples, out);
        }
        self.finish(timestamp_ms, out);
    }

    fn add(
        &mut self,
        s: &expfmt::Sample<'_>,
        external: &[(String, String)],
        value: f64,
        timestamp_ms: i64,
        batch_samples: usize,
        out: &mut Vec<Batch>,
    ) {
        let own: Vec<(&str, std::borrow::Cow<'_, str>)> = s.labels().filter(|(_, v)| !v.is_empty()).collect();
        let mut labels: Vec<(&str, &str)> = Vec::with_capacity(own.len() + external.len() + 1);
        labels.push(("__name__", s.name));
        labels.extend(own.iter().map(|(n, v)| (*n, v.as_ref())));
        for (n, v) in external {
            if !v.is_empty() && !labels.iter().any(|(have, _)| have == n) {
                labels.push((n, v));
            }
        }
        labels.sort_unstable_by(|a, b| a.0.cmp(b.0));
        prw::emit_series(&mut self.raw, &labels, &[(canonical(value), timestamp_ms)]);
        self.series += 1;
        if self.series >= batch_samples.max(1) {
            self.finish(timestamp_ms, out);
        }
    }

    fn finish(&mut self, timestamp_ms: i64, out: &mut Vec<Batch>) {
        if self.series == 0 {
            return;
        }
        // The raw encoder is snappy's block format, which Remote-Write
        // requires; the framed format would be refused.
        let payload = snap::raw::Encoder::new().compress_vec(&self.raw).unwrap_or_default();
        out.push(Batch { payload, items: self.series as u32, timestamp_ms });
        self.raw.clear();
        self.series = 0;
    }
}

/// A NaN from a collector must never read as the staleness marker.
fn canonical(v: f64) -> f64 {
    if v.is_nan() && v.to_bits() != prw::STALE_NAN {
        f64::from_bits(0x7ff8_0000_0000_0001)
    } else {
        v
    }
}

fn key(s: &expfmt::Sample<'_>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.name.hash(&mut h);
    for (n, v) in s.labels() {
        n.hash(&mut h);
        v.hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(b: &Batch) -> Vec<prw::Series> {
        let raw = snap::raw::Decoder::new().decompress_vec(&b.payload).unwrap();
        prw::parse(&raw).unwrap()
    }

    fn ext() -> Vec<(String, String)> {
        vec![("instance".into(), "box1".into()), ("job".into(), "sonde".into())]
    }

    #[test]
    fn series_get_sorted_labels_with_external_ones() {
        let mut b = Builder::default();
        let mut out = Vec::new();
        b.cycle(b"# TYPE x gauge\nx{zeta=\"1\",alpha=\"\",job=\"own\"} 2\ny 3\n", &ext(), 1000, 100, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].items, 2);
        let s = decode(&out[0]);
        let names: Vec<&str> = s[0].labels.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, vec!["__name__", "instance", "job", "zeta"]);
        assert_eq!(s[0].labels[2].1, "own", "the series' own label wins");
        assert_eq!(s[1].samples, vec![(3.0f64.to_bits(), 1000)]);
    }

    #[test]
    fn batches_split_at_the_sample_limit() {
        let text: String = (0..10).map(|i| format!("m{i} {i}\n")).collect();
        let mut out = Vec::new();
        Builder::default().cycle(text.as_bytes(), &ext(), 5, 4, &mut out);
        assert_eq!(out.iter().map(|b| b.items).collect::<Vec<_>>(), vec![4, 4, 2]);
    }

    #[test]
    fn vanished_series_get_a_staleness_marker() {
        let mut b = Builder::default();
        let mut out = Vec::new();
        b.cycle(b"a 1\nb{x=\"1\"} 2\n", &ext(), 1000, 100, &mut out);
        out.clear();
        b.cycle(b"a 1\n", &ext(), 2000, 100, &mut out);
        let s = decode(&out[0]);
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].labels[0].1, "b");
        assert_eq!(s[1].samples, vec![(prw::STALE_NAN, 2000)]);
        out.clear();
        b.stale_all(&ext(), 3000, 100, &mut out);
        assert_eq!(decode(&out[0])[0].samples, vec![(prw::STALE_NAN, 3000)]);
    }

    #[test]
    fn an_ordinary_nan_is_not_the_staleness_marker() {
        let mut out = Vec::new();
        Builder::default().cycle(b"a NaN\n", &ext(), 1, 10, &mut out);
        let bits = decode(&out[0])[0].samples[0].0;
        assert!(f64::from_bits(bits).is_nan());
        assert_ne!(bits, prw::STALE_NAN);
    }
}
