//! /proc/loadavg bytes are untrusted (a configurable procfs root); the
//! parser must not panic and must only return finite, non-negative loads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::loadavg;

fuzz_target!(|data: &[u8]| {
    match loadavg::parse(data) {
        Ok(load) => assert!(load.iter().all(|v| v.is_finite() && *v >= 0.0), "{load:?}"),
        Err(e) => assert_eq!(e.line, 1),
    }
});
