//! SMTP replies come from any server a mail output is pointed at:
//! parsing any bytes never panics, a reply taken never claims more bytes
//! than there are, and what is read from it (its lines, its text for the
//! log, the EHLO extensions) never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::smtp::{self, Extensions};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some((r, used))) = smtp::parse_reply(rest) {
        assert!(used > 0 && used <= rest.len() && used <= smtp::MAX_REPLY);
        assert!((100..1000).contains(&r.code));
        let text = r.text();
        assert!(!text.contains(['\r', '\n']), "one line for the log");
        let _ = Extensions::of(&r);
        let _ = r.lines().count();
        rest = &rest[used..];
    }
});
