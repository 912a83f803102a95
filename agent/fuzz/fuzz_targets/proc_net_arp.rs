//! /proc/net/arp bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::net_arp;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for item in net_arp::parse(data) {
        match item {
            Ok(device) => assert!(!device.is_empty() && !device.contains(|c: char| c.is_ascii_whitespace())),
            Err(e) => assert!((2..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
});
