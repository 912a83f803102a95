//! Queued notifications are read back from the spool and the state file
//! after a restart or a power cut: decoding any bytes never panics, and
//! an event that decodes encodes to bytes that decode to the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::notify::Event;

fuzz_target!(|data: &[u8]| {
    if let Some(e) = Event::decode(data) {
        assert_eq!(Event::decode(&e.encode()), Some(e));
    }
});
