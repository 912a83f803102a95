//! /proc/net/snmp and /proc/net/netstat bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::net_snmp;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    // Every item, good or bad, consumes input: the iterator ends.
    for item in net_snmp::parse(data).take(data.len() + 1) {
        match item {
            Ok(c) => assert!(!c.proto.is_empty() && !c.name.is_empty()),
            Err(e) => assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
    assert!(net_snmp::parse(data).nth(data.len() + 1).is_none(), "more items than bytes");
});
