//! /proc/net/stat/nf_conntrack bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::nf_conntrack_stat;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    if let Err(e) = nf_conntrack_stat::parse(data) {
        assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line);
    }
});
