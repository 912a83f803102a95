//! What a mail carries comes from events, whose text may be a log line:
//! the DATA section made of any bytes ends exactly once, at its end, with
//! every line within SMTP's limit; a header made of any text never
//! starts a header of its own; and dates of any time are well-formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::{date, smtp};

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    smtp::data(data, &mut out);
    assert!(out.ends_with(b".\r\n"));
    let body = &out[..out.len() - 3];
    assert!(body.is_empty() || body.ends_with(b"\r\n"));
    assert!(!body.windows(5).any(|w| w == b"\r\n.\r\n") && !body.starts_with(b".\r\n"), "ends early");
    for line in out.split(|&b| b == b'\n') {
        assert!(line.len() <= smtp::MAX_LINE + 1);
        assert!(!line[..line.len().saturating_sub(1)].contains(&b'\r'), "a bare CR");
    }
    let text = String::from_utf8_lossy(data);
    let mut h = String::new();
    smtp::header_text(7, &text, &mut h);
    for (i, line) in h.split("\r\n").enumerate() {
        assert!(!line.contains(['\r', '\n']));
        assert!(i == 0 || line.starts_with(' '), "a folded line starts with a space: {h:?}");
    }
    let _ = smtp::is_address(&text);
    if data.len() >= 8 {
        let ms = i64::from_le_bytes(data[..8].try_into().unwrap_or_default());
        let (mut a, mut b) = (String::new(), String::new());
        date::rfc3339(ms, &mut a);
        date::rfc5322(ms, &mut b);
        assert_eq!((a.len(), b.len()), (24, 31), "{a} {b}");
    }
});
