//! /proc/stat bytes are untrusted (a configurable procfs root); the parser
//! must not panic and must keep its column-count promise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::stat::{self, Line};

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for item in stat::parse(data) {
        match item {
            Ok(Line::Cpu { times, columns, .. } | Line::CpuTotal { times, columns }) => {
                // At least four columns; missing ones are absent, not data.
                assert!((4..=times.len()).contains(&columns), "{columns} columns");
                assert!(times[columns..].iter().all(|&t| t == 0));
            }
            Ok(_) => {}
            Err(e) => assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
});
