//! An `Authorization` header is the first thing a hostile client controls:
//! any value splits into user and password inside the caller's buffer, or
//! is refused; never a panic, never a write past the buffer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::base64;
use sonde::wire::http::basic_credentials;

fuzz_target!(|data: &[u8]| {
    let mut buf = [0u8; 256];
    if let Some((user, password)) = basic_credentials(data, &mut buf) {
        assert!(user.len() + 1 + password.len() <= 256);
        assert!(!user.contains(&b':'));
    }
    // The decoder alone, and a round trip of what it decoded.
    let mut out = [0u8; 64];
    if let Some(n) = base64::decode(data, &mut out) {
        assert_eq!(base64::encode(&out[..n]).as_bytes(), data);
    }
});
