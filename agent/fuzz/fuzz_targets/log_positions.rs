//! Log positions are read back from the state file and its journal after
//! crashes and power cuts, and from spooled batches: parsing any bytes
//! never panics, a record that parses re-encodes to the same bytes, and a
//! batch that splits gives positions that iterate to the end of its head.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::logstate::{self, Record};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((r, used)) = logstate::parse(rest) {
        assert!(used <= rest.len() && used >= 9);
        let mut again = Vec::new();
        logstate::emit(&mut again, &r);
        assert_eq!(&again[..], &rest[..used]);
        if let Record::File(e) = r {
            assert!(e.path.len() <= logstate::MAX_PATH);
        }
        rest = &rest[used..];
    }
    if let Ok((positions, frames)) = logstate::split_batch(data) {
        let entries: Vec<_> = positions.iter().collect();
        assert!(entries.len() <= usize::from(data[0]));
        let mut again = Vec::new();
        logstate::emit_batch_head(&mut again, &entries);
        assert_eq!(&again[..], &data[..data.len() - frames.len()]);
    }
});
