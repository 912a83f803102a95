//! /proc/self/stat bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::pid_stat;

fuzz_target!(|data: &[u8]| {
    if let Ok((state, _)) = pid_stat::parse(data) {
        assert!(state.is_ascii_alphabetic());
    }
});
