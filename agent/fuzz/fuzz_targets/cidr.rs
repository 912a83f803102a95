//! `[server] allow` entries are written by hand: any text is an address
//! or prefix or refused, never a panic; a parsed prefix's length fits its
//! family, and it contains its own address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::cidr::Cidr;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(c) = Cidr::parse(text) else { return };
    assert!(c.len <= if c.addr.is_ipv4() { 32 } else { 128 });
    assert!(c.contains(c.addr));
});
