//! NTP replies are untrusted UDP. The parser must not panic, must accept
//! only a server-mode reply echoing our nonce from a synchronised server,
//! and offsets and delays computed from any accepted reply are finite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::ntp::{parse_reply, MAX_DISTANCE, MAX_STRATUM, MODE_SERVER};

fuzz_target!(|data: &[u8]| {
    let sent = data.get(24..32).map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap()));
    if let Ok(r) = parse_reply(data, sent) {
        assert_eq!(data[0] & 7, MODE_SERVER);
        assert!((1..=MAX_STRATUM).contains(&r.stratum));
        assert!(r.leap != 3);
        assert!(r.root_distance() <= MAX_DISTANCE);
        let (offset, delay) = r.offset_delay(sent, sent.wrapping_add(1 << 32));
        assert!(offset.is_finite() && delay.is_finite() && delay >= 0.0);
    }
});
