//! /proc/self/mountinfo bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::mountinfo;

fuzz_target!(|data: &[u8]| {
    let lines = data.split(|&b| b == b'\n').count();
    for item in mountinfo::parse(data) {
        match item {
            Ok(m) => {
                assert!(!m.mount_point.is_empty() && !m.fs_type.is_empty());
                let mut s = String::new();
                mountinfo::unescape(m.mount_point, &mut s);
                assert!(s.len() <= m.mount_point.len(), "unescaping only shortens");
            }
            Err(e) => assert!((1..=lines).contains(&e.line), "line {} of {lines}", e.line),
        }
    }
});
