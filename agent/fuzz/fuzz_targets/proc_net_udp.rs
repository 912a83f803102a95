//! /proc/net/udp bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::net_udp;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    if let Err(e) = net_udp::parse(data) {
        assert!((2..=lines).contains(&e.line), "line {} of {lines}", e.line);
    }
});
