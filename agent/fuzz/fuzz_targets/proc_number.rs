//! /proc/sys/kernel/pid_max bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::number;

fuzz_target!(|data: &[u8]| {
    // A decimal number's digits, when it parses, are the trimmed first line.
    if let Ok(v) = number::parse(data) {
        let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
        assert_eq!(std::str::from_utf8(line).unwrap().trim().parse::<i64>().ok(), Some(v));
    }
    let _ = number::parse_hex_value(data);
    let _ = number::text(data);
});
