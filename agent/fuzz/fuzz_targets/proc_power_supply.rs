//! A power supply's attribute files are untrusted (a configurable root,
//! or a driver's own text): the value and label readers must not panic,
//! and what they give must look like what they promise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::power_supply::{self, Unit};

fuzz_target!(|data: &[u8]| {
    for unit in [Unit::Raw, Unit::Micro, Unit::DeciCelsius] {
        if let Ok(v) = power_supply::value(data, unit) {
            assert!(v.is_finite());
        }
    }
    for trim in [true, false] {
        let label = power_supply::label(data, trim);
        // At most 128 bytes are read; each one becomes at most a U+FFFD.
        assert!(label.len() <= 3 * 128);
        if trim {
            assert_eq!(label.trim_start_matches(|c: char| c.is_ascii_whitespace()).len(), label.len());
            assert_eq!(label.trim_end_matches(|c: char| c.is_ascii_whitespace()).len(), label.len());
        } else {
            assert!(!label.starts_with('\n') && !label.ends_with('\n'));
        }
    }
});
