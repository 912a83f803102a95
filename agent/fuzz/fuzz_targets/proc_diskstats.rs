//! /proc/diskstats bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::diskstats;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for item in diskstats::parse(data) {
        match item {
            Ok(d) => {
                assert!((4..=d.stats.len()).contains(&d.count), "{} counters", d.count);
                assert!(d.stats[d.count..].iter().all(|&s| s == 0), "an absent counter is not data");
            }
            Err(e) => assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
});
