//! A certificate's bytes come from the TLS server a check connects to, or
//! from a client of the endpoint; rustls verifies the chain, but sonde
//! reads the notAfter of every certificate presented, and a client's
//! subject alternative names, with its own small DER reader. It must not
//! panic on any bytes, must read only one whole certificate, and any date
//! it gives is one RFC 5280's time forms can spell.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::x509::{any_alt_name, not_after};

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the first and the last
/// GeneralizedTime (a UTCTime spells 1950 to 2049).
const EARLIEST: i64 = -62_167_219_200;
const LATEST: i64 = 253_402_300_799;

fuzz_target!(|data: &[u8]| {
    let _ = any_alt_name(data, |_| false);
    if let Ok(t) = not_after(data) {
        assert!((EARLIEST..=LATEST).contains(&t), "{t}");
        assert_eq!(data[0], 0x30);
        let mut longer = data.to_vec();
        longer.push(0);
        assert!(not_after(&longer).is_err(), "a byte after the certificate was ignored");
    }
});
