//! The cpufreq sysfs files that are not one number (the offline CPU list,
//! a policy's governors) are untrusted (a configurable root): the parsers
//! must not panic, must end, and what they accept must look like what
//! they promise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::proc::cpufreq;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the CPU asked about.
    let cpu = u64::from(data.first().copied().unwrap_or(0));
    if let Err(e) = cpufreq::in_cpu_list(data, cpu) {
        assert_eq!(e.line, 1);
    }
    let mut bytes = 0;
    for g in cpufreq::governors(data) {
        assert!(!g.contains(' '));
        bytes += g.len() + 1;
    }
    // Only the first 128 bytes are read.
    assert!(bytes <= 129, "{bytes}");
});
