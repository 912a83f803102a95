//! The exposition reader that push mode uses: never panics on any text,
//! and what it accepts has a valid metric name, valid label names, and
//! labels that can be iterated to the end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::expo::{valid_label_name, valid_metric_name};
use sonde::wire::expfmt;

fuzz_target!(|data: &[u8]| {
    for sample in expfmt::samples(data).flatten() {
        assert!(valid_metric_name(sample.name), "{:?}", sample.name);
        for (name, _value) in sample.labels() {
            assert!(valid_label_name(name), "{name:?}");
        }
    }
});
