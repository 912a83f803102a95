//! hwmon file names and values are untrusted (a configurable root, or a
//! driver's own files): the splitter and the value reader must not panic,
//! and what they accept must look like what they promise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::hwmon;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = std::str::from_utf8(data) {
        if let Some((kind, _, item)) = hwmon::split(file) {
            assert!(hwmon::TYPES.contains(&kind));
            assert!(file.starts_with(kind));
            assert!(item.is_empty() || (file.ends_with(item) && file[..file.len() - item.len()].ends_with('_')));
            assert!(!item.contains('\n'));
        }
    }
    let _ = hwmon::value(data);
});
