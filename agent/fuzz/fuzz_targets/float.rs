//! `wire::float::parse` replaced std's `str::parse::<f64>` everywhere
//! sonde reads a float (exposition values, textfiles, config, /proc): for
//! any text, std is the oracle. Both accept or both refuse, and what they
//! accept is the same `f64` bit for bit (any NaN matches any NaN of the
//! same sign). The text is also tried with an exponent appended, so long
//! mantissas meet extreme scales.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::float::parse;

fn check(text: &str) {
    let want = text.parse::<f64>().ok();
    let got = parse(text);
    match (want, got) {
        (None, None) => {}
        (Some(w), Some(g)) if w.is_nan() => {
            assert!(g.is_nan() && g.is_sign_negative() == w.is_sign_negative(), "{text:?}: {g}")
        }
        (Some(w), Some(g)) => assert_eq!(w.to_bits(), g.to_bits(), "{text:?}: std {w:e}, sonde {g:e}"),
        _ => panic!("{text:?}: std {want:?}, sonde {got:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    check(text);
    if let Some((&first, rest)) = data.split_first() {
        if let Ok(text) = std::str::from_utf8(rest) {
            // The first byte picks an exponent in -400..=400.
            let e = i32::from(first) * 800 / 255 - 400;
            check(&format!("{text}e{e}"));
        }
    }
});
