//! /proc/sys/fs/file-nr bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::file_nr;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = file_nr::parse(data) {
        assert_eq!(e.line, 1);
    }
});
