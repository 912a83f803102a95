//! The Remote-Write encoder against its decoder: whatever labels and
//! samples the input spells, emit_series then parse gives them back bit
//! for bit (NaNs and negative timestamps included), and parse never panics
//! on the raw input itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::prw;

fuzz_target!(|data: &[u8]| {
    let _ = prw::parse(data);

    // Split the input into a few label strings and sample words.
    let mut parts = data.split(|&b| b == 0xff);
    let text = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let words: Vec<&str> = text.split('\u{1}').take(16).collect();
    let labels: Vec<(&str, &str)> = words.chunks(2).map(|c| (c[0], *c.get(1).unwrap_or(&""))).collect();
    let samples: Vec<(f64, i64)> = parts
        .next()
        .unwrap_or_default()
        .chunks(16)
        .filter(|c| c.len() == 16)
        .map(|c| {
            let v = u64::from_le_bytes(c[..8].try_into().unwrap());
            let t = i64::from_le_bytes(c[8..].try_into().unwrap());
            (f64::from_bits(v), t)
        })
        .collect();
    let mut out = Vec::new();
    prw::emit_series(&mut out, &labels, &samples);
    let back = prw::parse(&out).expect("own encoding parses");
    assert_eq!(back.len(), 1);
    let got: Vec<(&str, &str)> = back[0].labels.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(got, labels);
    let want: Vec<(u64, i64)> = samples.iter().map(|(v, t)| (v.to_bits(), *t)).collect();
    assert_eq!(back[0].samples, want);
});
