//! A spool directory as a power cut, a full disk or a careless hand can
//! leave it: up to four segments and a cursor, all arbitrary bytes.
//! Opening it never panics and never fails; draining it gives back exactly
//! the items it says it holds, each record once, and leaves it empty.
//!
//! Input: a length byte and that many bytes of cursor, then segments, each
//! a little-endian u16 length and its bytes.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use sonde::deliver::spool::Spool;

fn dir() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm".into() } else { std::env::temp_dir() };
    base.join(format!("sonde-fuzz-spool-{}", std::process::id()))
}

fuzz_target!(|data: &[u8]| {
    let d = dir();
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let Some((&n, rest)) = data.split_first() else { return };
    let (cursor, mut rest) = rest.split_at(usize::from(n).min(rest.len()));
    std::fs::write(d.join("cursor"), cursor).unwrap();
    for id in 1..=4u64 {
        if rest.len() < 2 {
            break;
        }
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        std::fs::write(d.join(format!("{id:016x}.seg")), &rest[2..2 + len]).unwrap();
        rest = &rest[2 + len..];
    }
    let (mut spool, _repairs) = Spool::open(&d, 1 << 20).expect("a damaged spool still opens");
    let held = spool.items();
    let mut drained = 0u64;
    for _ in 0..100_000 {
        let Some(t) = spool.peek().expect("what open kept reads") else { break };
        drained += u64::from(t.items);
        spool.ack(&t).unwrap();
    }
    assert_eq!(drained, held, "items said held = items read");
    assert!(spool.is_empty());
});
