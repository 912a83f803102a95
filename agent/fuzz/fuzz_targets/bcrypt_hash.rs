//! A bcrypt hash comes from a hand-edited web-config.yml: any bytes parse
//! to a hash or an error, never a panic; a parsed hash spells back to the
//! same text (one spelling per hash), and its cost is within the bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::bcrypt::{encode, Hash, MAX_COST};

fuzz_target!(|data: &[u8]| {
    let Ok(h) = Hash::parse(data) else { return };
    assert!((4..=MAX_COST).contains(&h.cost));
    let mut out = [0u8; 31];
    assert_eq!(encode(&h.salt, &mut out), 22);
    assert_eq!(&out[..22], &data[7..29]);
    assert_eq!(encode(&h.hash, &mut out), 31);
    assert_eq!(&out[..31], &data[29..60]);
    if h.cost == 4 {
        // Verification of any password never panics (cost 4: 1 ms).
        let _ = h.verify(&data[..data.len().min(80)]);
    }
});
