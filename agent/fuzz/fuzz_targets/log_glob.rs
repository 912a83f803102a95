//! Glob patterns of `[[log]] path` against file names: never panics, and
//! stays quick (at most pattern × name steps) whatever the stars; a name
//! matches itself when it has no special byte, and `*` matches every name
//! that does not start with a dot.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::glob;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'/').unwrap_or(data.len());
    let (pattern, name) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let name = &name[..name.len().min(255)];
    let _ = glob::matches(pattern, name);
    if !glob::is_pattern(name) {
        assert!(glob::matches(name, name));
    }
    assert_eq!(glob::matches(b"*", name), name.first() != Some(&b'.'));
});
