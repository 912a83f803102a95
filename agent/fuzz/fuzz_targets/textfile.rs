//! *.prom files bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::expo::{valid_label_name, valid_metric_name};
use sonde::wire::expfmt;
use sonde::wire::textfile::{self, Line};

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for item in textfile::parse(data) {
        match item {
            Ok(Line::Help { name, .. } | Line::Type { name, .. }) => assert!(valid_metric_name(name)),
            Ok(Line::Sample { name, labels, value, .. }) => {
                assert!(valid_metric_name(name));
                let _ = value;
                let mut seen = Vec::new();
                for (label, raw) in textfile::labels(labels) {
                    assert!(valid_label_name(label), "{label:?}");
                    assert!(!seen.contains(&label), "label {label} twice");
                    seen.push(label);
                    let mut s = String::new();
                    expfmt::unescape(raw, &mut s);
                    assert!(s.len() <= raw.len());
                }
            }
            Err(e) => assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
});
