//! Spool records are read back from disk after power cuts: parsing any
//! bytes never panics, a record that parses re-encodes to the same bytes,
//! and a parsed length never exceeds the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::spool;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((r, used)) = spool::parse(rest) {
        assert!(used <= rest.len() && used >= spool::HEADER);
        let mut again = Vec::new();
        spool::emit(&mut again, r.items, r.timestamp_ms, r.payload);
        assert_eq!(&again[..], &rest[..used]);
        rest = &rest[used..];
    }
});
