//! Unbound's `stats_noreset` reply is untrusted: whatever answers on the
//! control socket or port can send anything. The parser must not panic,
//! must keep its bounds (threads, labelled lines, buckets) whatever numbers
//! the input holds, and must return only finite, non-negative values,
//! short word labels and ascending buckets; a reply it accepts ends in a
//! newline and holds the lines Unbound always prints.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::limits::{MAX_UNBOUND_BUCKETS, MAX_UNBOUND_LABELLED, MAX_UNBOUND_THREADS};
use sonde::wire::unbound::{global_key, parse, thread_key, MAX_LABEL};

fn sane(v: Option<f64>) {
    if let Some(v) = v {
        assert!(v.is_finite() && v >= 0.0, "{v}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = parse(data) else { return };
    assert!(data.ends_with(b"\n"));
    assert!(s.threads.len() <= MAX_UNBOUND_THREADS);
    assert!(s.labelled.len() <= MAX_UNBOUND_LABELLED);
    assert!(s.histogram.len() <= MAX_UNBOUND_BUCKETS);
    assert!(s.total[thread_key::QUERIES].is_some());
    assert!(s.global[global_key::TIME_UP].is_some());
    for block in s.threads.iter().chain([&s.total]) {
        block.iter().copied().for_each(sane);
    }
    s.global.iter().copied().for_each(sane);
    for l in &s.labelled {
        sane(Some(l.value));
        assert!(!l.label.is_empty() && l.label.len() <= MAX_LABEL);
        assert!(l.label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    }
    for pair in s.histogram.windows(2) {
        assert!(pair[0].upper < pair[1].upper);
    }
});
