//! /proc/meminfo is read from a path the operator configures (`procfs`),
//! so its bytes are untrusted: the parser must not panic, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::meminfo;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for item in meminfo::parse(data) {
        match item {
            Ok(f) => {
                assert!(!f.key.is_empty());
                assert!(!f.key.contains(|c: char| c.is_ascii_whitespace() || c.is_ascii_control()));
            }
            Err(e) => assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
});
