//! /run/udev/data/b* bytes are untrusted (a configurable root, or, for textfiles,
//! any script's output): the parser must not panic, must end, and what it
//! accepts must look like what it promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::udev;

fuzz_target!(|data: &[u8]| {
    for (key, value) in udev::properties(data) {
        assert!(!key.contains('=') && !value.contains('\n'));
    }
});
