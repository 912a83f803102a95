//! Syslog framing and messages: octet-counted frames and messages read
//! from any bytes never panic and never claim more than they were given;
//! a frame that parses re-frames to the same bytes; and a message emitted
//! from any header fields and text reads back with those fields (made
//! printable, cut as the RFCs say) and never longer than its bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sonde::wire::syslog::{self, Format, Header};

fuzz_target!(|data: &[u8]| {
    // Frames back to back, then whatever they hold read as messages.
    let mut rest = data;
    while let Ok((msg, used)) = syslog::parse_frame(rest) {
        assert!(used <= rest.len() && msg.len() < used);
        let mut again = Vec::new();
        syslog::emit_frame(&mut again, msg);
        assert_eq!(&again[..], &rest[..used]);
        let _ = syslog::parse(msg);
        rest = &rest[used..];
    }
    let _ = syslog::parse(data);
    // Emit: the first bytes choose the fields, the rest is the text.
    if data.len() < 12 {
        return;
    }
    let (head, text) = data.split_at(12);
    let host = String::from_utf8_lossy(&text[..text.len().min(usize::from(head[8]))]).into_owned();
    let app = String::from_utf8_lossy(&text[..text.len().min(usize::from(head[9] % 64))]).into_owned();
    let h = Header {
        facility: head[0],
        severity: head[1],
        time_ms: i64::from_le_bytes([head[2], head[3], head[4], head[5], head[6], head[7], 0, 0]) - (1 << 40),
        hostname: &host,
        app_name: &app,
    };
    let format = if head[10] & 1 == 0 { Format::Rfc5424 } else { Format::Rfc3164 };
    let max = syslog::MIN_MESSAGE + usize::from(head[11]) * 16;
    let mut out = Vec::new();
    let cut = syslog::emit(&mut out, format, &h, text, max);
    assert!(out.len() <= max, "a header is never near the least max");
    let m = syslog::parse(&out).expect("what sonde writes reads back");
    assert_eq!((m.facility, m.severity), (h.facility.min(23), h.severity.min(7)));
    assert_eq!(m.format, format);
    if !cut {
        assert_eq!(m.msg, text, "an uncut text comes back whole");
    } else {
        assert!(text.starts_with(m.msg) && out.len() <= max);
    }
    assert!(m.hostname.iter().chain(m.app_name).all(|b| (33..=126).contains(b)));
});
