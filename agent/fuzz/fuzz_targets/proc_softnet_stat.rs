//! /proc/net/softnet_stat bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::softnet_stat;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for item in softnet_stat::parse(data) {
        match item {
            // The backlog length comes only with the index column.
            Ok(c) => assert!(c.backlog_len.is_none() || c.flow_limit_count.is_some()),
            Err(e) => assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
});
