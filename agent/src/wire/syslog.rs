//! Syslog messages as sonde writes them, and their framing on a stream.
//!
//! A message is RFC 5424 (`<PRI>1 TIMESTAMP HOSTNAME APP-NAME - - - MSG`,
//! the default) or RFC 3164, the BSD format older receivers and appliances
//! expect (`<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`). PRI is facility × 8 +
//! severity (RFC 5424 §6.2.1). Timestamps are UTC: RFC 3339 with
//! milliseconds and `Z` for 5424; for 3164, which has no zone, the UTC
//! wall time.
//!
//! On a stream (TCP, RFC 6587 §3.4.1; TLS, RFC 5425 §4.3) each message is
//! octet-counted, `MSG-LEN SP SYSLOG-MSG`, so a message may hold any
//! byte, a line break included; over UDP (RFC 5426) a datagram is one
//! message and needs no framing. [`emit_frame`] and [`parse_frame`] are the
//! octet counting; a batch of messages is frames back to back.
//!
//! Invariants: nothing here panics, allocates beyond the caller's buffer
//! or trusts a length it reads: a frame that announces more than
//! [`MAX_FRAME`] bytes is refused unread. [`emit`] never writes more than
//! the `max` it is given (a header alone longer than `max` is still
//! written whole: the caller's `max` is never below [`MIN_MESSAGE`]), and
//! cuts the message text at a UTF-8 character boundary. Header fields are
//! made printable US-ASCII (`PRINTUSASCII`, %d33-126) and cut to the
//! RFC's lengths, so no field can break the header's spaces.

use std::fmt;

/// Largest message a frame may announce.
pub const MAX_FRAME: usize = 1024 * 1024;

/// The least a message may be cut to: RFC 5426 §3.2's 480 bytes every
/// receiver must take.
pub const MIN_MESSAGE: usize = 480;

/// RFC 5424's lengths: HOSTNAME 255, APP-NAME 48. RFC 3164's TAG: 32.
const MAX_HOSTNAME: usize = 255;
const MAX_APP_NAME: usize = 48;
const MAX_TAG: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Rfc5424,
    Rfc3164,
}

/// Facility names (RFC 5424 §6.2.1, with the names syslog.conf uses), by
/// number.
pub const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp",
    "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
];

/// Severity names, by number.
pub const SEVERITIES: [&str; 8] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/// The facility called `name` (case-insensitive; `security` is `auth`).
pub fn facility(name: &str) -> Option<u8> {
    let n = name.to_ascii_lowercase();
    let n = if n == "security" { "auth" } else { &n };
    FACILITIES.iter().position(|f| *f == n).map(|i| i as u8)
}

/// The severity called `name`, in the words syslog.conf and the usual
/// log levels use (case-insensitive): `error`, `warn`, `fatal`,
/// `critical`, `panic` and `trace` too.
pub fn severity(name: &str) -> Option<u8> {
    let n = name.to_ascii_lowercase();
    let n = match n.as_str() {
        "panic" | "emergency" => "emerg",
        "fatal" | "critical" => "crit",
        "error" => "err",
        "warn" => "warning",
        "information" | "informational" => "info",
        "trace" => "debug",
        other => other,
    };
    SEVERITIES.iter().position(|s| *s == n).map(|i| i as u8)
}

/// What a message's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// 0 to 23; larger is read as 23.
    pub facility: u8,
    /// 0 to 7; larger is read as 7.
    pub severity: u8,
    /// Milliseconds since the epoch, UTC.
    pub time_ms: i64,
    pub hostname: &'a str,
    /// APP-NAME for 5424, TAG for 3164.
    pub app_name: &'a str,
}

/// Appends one message, at most `max` bytes long (at least the header):
/// the header, then as much of `msg` as fits, cut before a UTF-8
/// continuation byte. True when `msg` was cut.
pub fn emit(out: &mut Vec<u8>, format: Format, h: &Header<'_>, msg: &[u8], max: usize) -> bool {
    let start = out.len();
    let pri = u16::from(h.facility.min(23)) * 8 + u16::from(h.severity.min(7));
    out.push(b'<');
    push_decimal(out, u64::from(pri), 1);
    out.push(b'>');
    let (date, (hh, mi, ss), ms) = civil(h.time_ms);
    match format {
        Format::Rfc5424 => {
            out.extend_from_slice(b"1 ");
            push_decimal(out, date.0 as u64, 4);
            out.push(b'-');
            push_decimal(out, u64::from(date.1), 2);
            out.push(b'-');
            push_decimal(out, u64::from(date.2), 2);
            out.push(b'T');
            push_clock(out, hh, mi, ss);
            out.push(b'.');
            push_decimal(out, u64::from(ms), 3);
            out.extend_from_slice(b"Z ");
            push_field(out, h.hostname, MAX_HOSTNAME, b"");
            out.push(b' ');
            push_field(out, h.app_name, MAX_APP_NAME, b"");
            // PROCID, MSGID and STRUCTURED-DATA: none.
            out.extend_from_slice(b" - - - ");
        }
        Format::Rfc3164 => {
            const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
            let m = usize::from(date.1.clamp(1, 12) - 1) * 3;
            out.extend_from_slice(&MONTHS[m..m + 3]);
            out.push(b' ');
            if date.2 < 10 {
                out.push(b' ');
            }
            push_decimal(out, u64::from(date.2), 1);
            out.push(b' ');
            push_clock(out, hh, mi, ss);
            out.push(b' ');
            push_field(out, h.hostname, MAX_HOSTNAME, b"");
            out.push(b' ');
            // A TAG ends at its colon; receivers also end it at '['.
            push_field(out, h.app_name, MAX_TAG, b":[]");
            out.extend_from_slice(b": ");
        }
    }
    let room = max.saturating_sub(out.len() - start);
    if msg.len() <= room {
        out.extend_from_slice(msg);
        return false;
    }
    let mut cut = room;
    // Back off at most three continuation bytes: a valid character is at
    // most four bytes; invalid text is cut where it is.
    for _ in 0..3 {
        if cut > 0 && msg.get(cut).is_some_and(|b| b & 0xc0 == 0x80) {
            cut -= 1;
        }
    }
    if msg.get(cut).is_some_and(|b| b & 0xc0 == 0x80) {
        cut = room;
    }
    out.extend_from_slice(&msg[..cut]);
    true
}

/// Appends `msg` as one octet-counted frame (RFC 6587 §3.4.1).
pub fn emit_frame(out: &mut Vec<u8>, msg: &[u8]) {
    push_decimal(out, msg.len() as u64, 1);
    out.push(b' ');
    out.extend_from_slice(msg);
}

/// Why bytes are not what was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// The bytes end before the frame or message does.
    Truncated,
    /// Something that cannot be right: a length without digits, too
    /// large, a PRI out of range, a field missing.
    Malformed,
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bad::Truncated => "truncated",
            Bad::Malformed => "malformed",
        })
    }
}

/// The octet-counted frame at the start of `buf`: its message and the
/// bytes the frame took.
pub fn parse_frame(buf: &[u8]) -> Result<(&[u8], usize), Bad> {
    let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
    // MSG-LEN = NONZERO-DIGIT *DIGIT
    if digits > 7 || buf.first() == Some(&b'0') {
        return Err(Bad::Malformed);
    }
    match buf.get(digits) {
        None => return Err(Bad::Truncated),
        Some(b' ') if digits > 0 => {}
        Some(_) => return Err(Bad::Malformed),
    }
    let len = buf[..digits].iter().fold(0usize, |n, b| n * 10 + usize::from(b - b'0'));
    if len > MAX_FRAME {
        return Err(Bad::Malformed);
    }
    let end = digits + 1 + len;
    let msg = buf.get(digits + 1..end).ok_or(Bad::Truncated)?;
    Ok((msg, end))
}

/// A message read back: what a receiver sees of what [`emit`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub format: Format,
    pub facility: u8,
    pub severity: u8,
    pub timestamp: &'a [u8],
    pub hostname: &'a [u8],
    pub app_name: &'a [u8],
    pub msg: &'a [u8],
}

/// Reads a message: RFC 5424 when a version follows the PRI, else RFC
/// 3164 (a 15-byte timestamp, HOSTNAME, `TAG: `).
pub fn parse(m: &[u8]) -> Result<Message<'_>, Bad> {
    let close = m.iter().take(5).position(|&b| b == b'>').ok_or(Bad::Malformed)?;
    if m.first() != Some(&b'<') || close < 2 {
        return Err(Bad::Malformed);
    }
    let pri = m[1..close].iter().try_fold(0u16, |n, &b| b.is_ascii_digit().then(|| n * 10 + u16::from(b - b'0')));
    let pri = pri.filter(|&p| p <= 191).ok_or(Bad::Malformed)?;
    let (facility, severity) = ((pri / 8) as u8, (pri % 8) as u8);
    let rest = &m[close + 1..];
    if let Some(rest) = rest.strip_prefix(b"1 ") {
        let mut fields = rest.splitn(7, |&b| b == b' ');
        let mut next = || fields.next().ok_or(Bad::Truncated);
        let (timestamp, hostname, app_name) = (next()?, next()?, next()?);
        let (_procid, _msgid, sd) = (next()?, next()?, next()?);
        if sd != b"-" {
            return Err(Bad::Malformed); // sonde writes no structured data
        }
        let msg = fields.next().unwrap_or_default();
        return Ok(Message { format: Format::Rfc5424, facility, severity, timestamp, hostname, app_name, msg });
    }
    let timestamp = rest.get(..15).ok_or(Bad::Truncated)?;
    let rest = rest.get(15..).ok_or(Bad::Truncated)?.strip_prefix(b" ").ok_or(Bad::Malformed)?;
    let sp = rest.iter().position(|&b| b == b' ').ok_or(Bad::Truncated)?;
    let (hostname, rest) = (&rest[..sp], &rest[sp + 1..]);
    let colon = rest.iter().position(|&b| b == b':').ok_or(Bad::Truncated)?;
    let (app_name, rest) = (&rest[..colon], &rest[colon + 1..]);
    let msg = rest.strip_prefix(b" ").unwrap_or(rest);
    Ok(Message { format: Format::Rfc3164, facility, severity, timestamp, hostname, app_name, msg })
}

/// `s` as a header field: printable US-ASCII, `-` for what is not (and
/// for the bytes in `also`), at most `max` bytes; `-` (the NILVALUE) when
/// empty.
fn push_field(out: &mut Vec<u8>, s: &str, max: usize, also: &[u8]) {
    if s.is_empty() {
        out.push(b'-');
        return;
    }
    for &b in s.as_bytes().iter().take(max) {
        out.push(if (33..=126).contains(&b) && !also.contains(&b) { b } else { b'_' });
    }
}

fn push_clock(out: &mut Vec<u8>, h: u8, m: u8, s: u8) {
    push_decimal(out, u64::from(h), 2);
    out.push(b':');
    push_decimal(out, u64::from(m), 2);
    out.push(b':');
    push_decimal(out, u64::from(s), 2);
}

/// `n` in decimal, zero-padded to `width` digits.
fn push_decimal(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = n;
    while n > 0 || i == buf.len() {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let digits = buf.len() - i;
    for _ in digits..width {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

/// The UTC date (year, month, day), time of day and milliseconds of a
/// time in milliseconds since the epoch, clamped to years 1970 to 9999
/// (what both formats can spell).
fn civil(ms: i64) -> ((i64, u8, u8), (u8, u8, u8), u16) {
    const MAX_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
    let ms = ms.clamp(0, MAX_MS);
    let (days, in_day) = (ms / 86_400_000, ms % 86_400_000);
    let secs = in_day / 1000;
    let clock = ((secs / 3600) as u8, (secs / 60 % 60) as u8, (secs % 60) as u8);
    // Days to a civil date (Howard Hinnant's algorithm, for days >= 0).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    ((year, month, day), clock, (in_day % 1000) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Header<'static> =
        Header { facility: 16, severity: 5, time_ms: 1_764_849_072_345, hostname: "box1", app_name: "dnsdist" };

    #[test]
    fn rfc5424_as_the_rfc_spells_it() {
        let mut out = Vec::new();
        assert!(!emit(&mut out, Format::Rfc5424, &H, b"query a.example", 2048));
        assert_eq!(out, b"<133>1 2025-12-04T11:51:12.345Z box1 dnsdist - - - query a.example");
        let m = parse(&out).unwrap();
        assert_eq!((m.facility, m.severity, m.msg), (16, 5, &b"query a.example"[..]));
        assert_eq!((m.hostname, m.app_name), (&b"box1"[..], &b"dnsdist"[..]));
    }

    #[test]
    fn rfc3164_pads_the_day_and_ends_the_tag() {
        let mut out = Vec::new();
        let h = Header { time_ms: 1_767_312_000_000, app_name: "kern el:[x]", ..H };
        emit(&mut out, Format::Rfc3164, &h, b"IN=eth0 OUT= SRC=192.0.2.1", 1024);
        assert_eq!(out, b"<133>Jan  2 00:00:00 box1 kern_el__x_: IN=eth0 OUT= SRC=192.0.2.1");
        let m = parse(&out).unwrap();
        assert_eq!(
            (m.format, m.app_name, m.msg),
            (Format::Rfc3164, &b"kern_el__x_"[..], &b"IN=eth0 OUT= SRC=192.0.2.1"[..])
        );
    }

    #[test]
    fn fields_are_printable_and_nil_when_empty() {
        let mut out = Vec::new();
        let h = Header { hostname: "", app_name: "a b\u{e9}", facility: 99, severity: 99, time_ms: -5 };
        emit(&mut out, Format::Rfc5424, &h, b"", 2048);
        assert_eq!(out, b"<191>1 1970-01-01T00:00:00.000Z - a_b__ - - - ");
    }

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary() {
        let mut out = Vec::new();
        let msg = "\u{20ac}".repeat(1000); // three bytes each
        assert!(emit(&mut out, Format::Rfc5424, &H, msg.as_bytes(), 500));
        assert!(out.len() <= 500 && out.len() > 495, "{}", out.len());
        let text = std::str::from_utf8(&out).unwrap();
        assert!(text.ends_with('\u{20ac}'));
        // Invalid text is cut where it is.
        out.clear();
        assert!(emit(&mut out, Format::Rfc5424, &H, &[0x80; 1000], 500));
        assert_eq!(out.len(), 500);
    }

    #[test]
    fn frames_count_octets_and_carry_line_breaks() {
        let mut out = Vec::new();
        emit_frame(&mut out, b"<13>1 - - - - - - two\nlines");
        emit_frame(&mut out, b"x");
        let (m, used) = parse_frame(&out).unwrap();
        assert_eq!(m, b"<13>1 - - - - - - two\nlines");
        assert_eq!(parse_frame(&out[used..]).unwrap(), (&b"x"[..], 3));
        assert_eq!(parse_frame(b"12 short"), Err(Bad::Truncated));
        assert_eq!(parse_frame(b"12"), Err(Bad::Truncated));
        for bad in [&b" 1 x"[..], b"01 x", b"1x", b"99999999 x", b"2000000 x"] {
            assert_eq!(parse_frame(bad), Err(Bad::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn names_of_facilities_and_severities() {
        assert_eq!(facility("local0"), Some(16));
        assert_eq!(facility("AUTHPRIV"), Some(10));
        assert_eq!(facility("security"), Some(4));
        assert_eq!(facility("local8"), None);
        assert_eq!(severity("notice"), Some(5));
        assert_eq!(severity("ERROR"), Some(3));
        assert_eq!(severity("Warn"), Some(4));
        assert_eq!(severity("verbose"), None);
    }

    #[test]
    fn civil_dates_across_leap_years_and_the_clamp() {
        assert_eq!(civil(0), ((1970, 1, 1), (0, 0, 0), 0));
        assert_eq!(civil(951_782_400_000), ((2000, 2, 29), (0, 0, 0), 0));
        assert_eq!(civil(4_107_542_399_999), ((2100, 2, 28), (23, 59, 59), 999));
        assert_eq!(civil(i64::MAX).0, (9999, 12, 31));
    }

    #[test]
    fn malformed_messages_are_refused_not_trusted() {
        for bad in [&b""[..], b"<", b"<>", b"<192>1 x", b"<1a>", b"13>", b"<13>1 a b c d e [sd] m"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse(b"<13>Jan  1 00:00:00 h"), Err(Bad::Truncated));
    }
}
