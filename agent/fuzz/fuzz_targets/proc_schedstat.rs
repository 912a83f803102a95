//! /proc/schedstat bytes are untrusted (a configurable root): the parser
//! must not panic, must end, and what it accepts must look like what it
//! promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::schedstat;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for item in schedstat::parse(data) {
        match item {
            // The CPU label is the digits of `cpuN`.
            Ok(c) => assert!(!c.cpu.is_empty() && c.cpu.bytes().all(|b| b.is_ascii_digit()), "{:?}", c.cpu),
            Err(e) => assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
});
