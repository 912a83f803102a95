//! SMTP as a client speaks it (RFC 5321) and the mail it sends (RFC 5322,
//! RFC 2047 for words in headers): server replies, the extensions an EHLO
//! reply lists, the DATA section's transparency, and header text.
//!
//! A reply is one or more lines `CODE-text` ending with `CODE text` (or a
//! bare `CODE`), every line with the same three-digit code; lines end in
//! CRLF, and a bare LF is taken too, as most clients do. A reply longer
//! than [`MAX_REPLY`] bytes is refused rather than buffered without end.
//!
//! Invariants: parsing borrows its input and never panics; emitting
//! appends to the caller's buffer and never writes a line longer than
//! [`MAX_LINE`] bytes plus CRLF, nor a header value that could break out of
//! its header (no CR or LF ever passes through).

/// Longest reply taken, all of its lines together (an EHLO reply lists a
/// dozen extensions; RFC 5321 §4.5.3.1.5 allows 512 bytes a line).
pub const MAX_REPLY: usize = 8192;

/// Longest line of a message, CRLF not counted (RFC 5321 §4.5.3.1.6).
pub const MAX_LINE: usize = 998;

/// Why a reply is not one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// A line does not start with three digits and a space or hyphen.
    Syntax,
    /// The lines of one reply carry different codes.
    MixedCodes,
    /// Longer than [`MAX_REPLY`] without ending.
    TooLong,
}

/// One complete reply, borrowed from the bytes read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    pub code: u16,
    /// Every line, CRLF included.
    raw: &'a [u8],
}

impl<'a> Reply<'a> {
    /// The text of each line, after the code and its separator.
    pub fn lines(&self) -> impl Iterator<Item = &'a [u8]> {
        let raw = self.raw;
        raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            l.get(4..).unwrap_or(&[])
        })
    }

    /// 2 (done), 3 (go on), 4 (try again later) or 5 (refused for good).
    pub fn class(&self) -> u16 {
        self.code / 100
    }

    /// The reply's text on one line, for a log: lines joined by a space,
    /// anything unprintable shown as `?`.
    pub fn text(&self) -> String {
        let mut out = self.code.to_string();
        for l in self.lines() {
            out.push(' ');
            out.extend(l.iter().map(|&b| if (0x20..0x7f).contains(&b) { char::from(b) } else { '?' }));
        }
        out
    }
}

/// The first complete reply at the start of `buf` and the bytes it
/// takes; `Ok(None)` when more bytes are needed.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply<'_>, usize)>, Bad> {
    let mut pos = 0;
    let mut code: Option<u16> = None;
    loop {
        let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') else {
            return if buf.len() > MAX_REPLY { Err(Bad::TooLong) } else { Ok(None) };
        };
        let end = pos + nl + 1;
        if end > MAX_REPLY {
            return Err(Bad::TooLong);
        }
        let line = &buf[pos..pos + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) || line[0] == b'0' {
            return Err(Bad::Syntax);
        }
        let this = line[..3].iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        if code.is_some_and(|c| c != this) {
            return Err(Bad::MixedCodes);
        }
        code = Some(this);
        match line.get(3) {
            None | Some(b' ') => return Ok(Some((Reply { code: this, raw: &buf[..end] }, end))),
            Some(b'-') => pos = end,
            Some(_) => return Err(Bad::Syntax),
        }
    }
}

/// What an EHLO reply says the server offers, of what sonde uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    pub starttls: bool,
    pub auth_plain: bool,
    pub auth_login: bool,
    /// RFC 6152: the message may hold 8-bit text.
    pub eight_bit_mime: bool,
}

impl Extensions {
    /// Reads the lines of an EHLO reply after the first (the greeting).
    pub fn of(reply: &Reply<'_>) -> Extensions {
        let mut e = Extensions::default();
        for line in reply.lines().skip(1) {
            let mut words = line.split(|&b| b == b' ' || b == b'=').filter(|w| !w.is_empty());
            let Some(keyword) = words.next() else { continue };
            if keyword.eq_ignore_ascii_case(b"STARTTLS") {
                e.starttls = true;
            } else if keyword.eq_ignore_ascii_case(b"8BITMIME") {
                e.eight_bit_mime = true;
            } else if keyword.eq_ignore_ascii_case(b"AUTH") {
                // `AUTH PLAIN LOGIN`, or the older `AUTH=LOGIN`.
                for w in words {
                    e.auth_plain |= w.eq_ignore_ascii_case(b"PLAIN");
                    e.auth_login |= w.eq_ignore_ascii_case(b"LOGIN");
                }
            }
        }
        e
    }
}

/// Appends `message` as the DATA section carries it (RFC 5321
/// §4.5.2): every line end CRLF (a bare LF or CR becomes one), a line
/// starting with `.` gets another in front, a line longer than
/// [`MAX_LINE`] is broken, and the section ends with `CRLF . CRLF`.
pub fn data(message: &[u8], out: &mut Vec<u8>) {
    out.reserve(message.len() + message.len() / 32 + 5);
    let mut at_line_start = true;
    let mut line_len = 0usize;
    let mut i = 0;
    while i < message.len() {
        let b = message[i];
        i += 1;
        if b == b'\r' || b == b'\n' {
            if b == b'\r' && message.get(i) == Some(&b'\n') {
                i += 1;
            }
            out.extend_from_slice(b"\r\n");
            at_line_start = true;
            line_len = 0;
            continue;
        }
        if line_len == MAX_LINE - 1 {
            // Leave room for a stuffed dot at the start of the next part.
            out.extend_from_slice(b"\r\n");
            at_line_start = true;
            line_len = 0;
        }
        if at_line_start && b == b'.' {
            out.push(b'.');
            line_len += 1;
        }
        out.push(b);
        line_len += 1;
        at_line_start = false;
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}

/// Appends `value` as the text of a header field that starts
/// `name_len + 2` bytes into its line: printable ASCII as it is (runs of
/// white space, CR and LF among them, as one space, so nothing can start
/// a header of its own), anything else as RFC 2047 encoded words
/// (`=?UTF-8?B?...?=`), folded so that no line passes 78 bytes.
pub fn header_text(name_len: usize, value: &str, out: &mut String) {
    let mut clean = String::with_capacity(value.len());
    let mut space = false;
    for c in value.trim().chars() {
        if c.is_whitespace() || c.is_control() {
            space = true;
            continue;
        }
        if space {
            clean.push(' ');
            space = false;
        }
        clean.push(c);
    }
    if clean.is_ascii() && name_len + 2 + clean.len() <= 78 {
        out.push_str(&clean);
        return;
    }
    if clean.is_ascii() {
        // Long ASCII: folded at spaces (RFC 5322 §2.2.3).
        let mut col = name_len + 2;
        for (n, word) in clean.split(' ').enumerate() {
            if n > 0 {
                if col + 1 + word.len() > 78 {
                    out.push_str("\r\n");
                    col = 0;
                }
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += word.len();
        }
        return;
    }
    // Encoded words of at most 39 bytes of text each (52 in base64, 64
    // with the wrapping, so even after `Subject: ` a line stays within
    // RFC 2047's 76), never splitting a character (RFC 2047 §5).
    let mut chunk_start = 0;
    let mut first = true;
    let mut flush = |chunk: &str, out: &mut String| {
        if !first {
            out.push_str("\r\n ");
        }
        first = false;
        out.push_str("=?UTF-8?B?");
        super::base64::encode_into(chunk.as_bytes(), out);
        out.push_str("?=");
    };
    for (i, c) in clean.char_indices() {
        if i + c.len_utf8() - chunk_start > 39 {
            flush(&clean[chunk_start..i], out);
            chunk_start = i;
        }
    }
    flush(&clean[chunk_start..], out);
}

/// Whether `s` can stand as an address in `MAIL FROM:<...>`, `RCPT
/// TO:<...>` and a header: `local@domain`, printable ASCII, no space,
/// angle bracket, comma or quote that would need more of RFC 5321's
/// grammar than sonde writes.
pub fn is_address(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    let ok = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_graphic() && !b"<>(),;:\\\"[]@".contains(&b));
    s.len() <= 254 && ok(local) && ok(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Exim 4.96's replies, captured from the test MTA (tests/PEERS.md).
    const GREETING: &[u8] = b"220 mx.test ESMTP Exim 4.96 Sat, 05 Dec 2026 00:30:00 +0000\r\n";
    const EHLO: &[u8] = b"250-mx.test Hello localhost [127.0.0.1]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n\
250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250-STARTTLS\r\n250-PRDR\r\n250 HELP\r\n";

    #[test]
    fn parse_captured_exim_replies() {
        let (r, used) = parse_reply(GREETING).unwrap().unwrap();
        assert_eq!((r.code, r.class(), used), (220, 2, GREETING.len()));
        assert!(r.text().starts_with("220 mx.test ESMTP Exim 4.96"));
        let (r, used) = parse_reply(EHLO).unwrap().unwrap();
        assert_eq!((r.code, used), (250, EHLO.len()));
        assert_eq!(r.lines().count(), 9);
        let e = Extensions::of(&r);
        assert_eq!(e, Extensions { starttls: true, auth_plain: true, auth_login: true, eight_bit_mime: true });
    }

    #[test]
    fn truncated_replies_want_more_and_never_fail() {
        for n in 0..EHLO.len() {
            assert_eq!(parse_reply(&EHLO[..n]), Ok(None), "cut at {n}");
        }
    }

    #[test]
    fn two_replies_in_one_read_are_taken_one_at_a_time() {
        let both = b"250 OK\r\n354 go ahead\n";
        let (r, used) = parse_reply(both).unwrap().unwrap();
        assert_eq!((r.code, used), (250, 8));
        let (r, _) = parse_reply(&both[used..]).unwrap().unwrap();
        assert_eq!((r.code, r.text().as_str()), (354, "354 go ahead"));
        let (r, _) = parse_reply(b"250\r\n").unwrap().unwrap();
        assert_eq!((r.code, r.lines().count()), (250, 1));
    }

    #[test]
    fn hostile_replies_are_refused() {
        assert_eq!(parse_reply(b"25 x\r\n"), Err(Bad::Syntax));
        assert_eq!(parse_reply(b"abc x\r\n"), Err(Bad::Syntax));
        assert_eq!(parse_reply(b"250x\r\n"), Err(Bad::Syntax));
        assert_eq!(parse_reply(b"050 x\r\n"), Err(Bad::Syntax));
        assert_eq!(parse_reply(b"250-a\r\n251 b\r\n"), Err(Bad::MixedCodes));
        let endless = vec![b'2'; MAX_REPLY + 1];
        assert_eq!(parse_reply(&endless), Err(Bad::TooLong));
        let mut lines = Vec::new();
        while lines.len() <= MAX_REPLY {
            lines.extend_from_slice(b"250-more\r\n");
        }
        assert_eq!(parse_reply(&lines), Err(Bad::TooLong));
    }

    #[test]
    fn auth_in_the_old_form_and_lower_case() {
        let (r, _) = parse_reply(b"250-x\r\n250-auth=login\r\n250 starttls\r\n").unwrap().unwrap();
        let e = Extensions::of(&r);
        assert!(e.auth_login && !e.auth_plain && e.starttls && !e.eight_bit_mime);
    }

    fn data_of(m: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        data(m, &mut out);
        out
    }

    #[test]
    fn data_stuffs_dots_and_makes_every_line_end_crlf() {
        assert_eq!(data_of(b"a\n.\n..b\r\nc"), b"a\r\n..\r\n...b\r\nc\r\n.\r\n");
        assert_eq!(data_of(b"x\r\n"), b"x\r\n.\r\n");
        assert_eq!(data_of(b""), b".\r\n");
        assert_eq!(data_of(b"bare\rcr"), b"bare\r\ncr\r\n.\r\n");
    }

    /// See: a log line longer than SMTP allows must not get the mail refused.
    #[test]
    fn long_lines_are_broken_and_never_end_the_data_early() {
        let mut long = vec![b'x'; 3000];
        long[MAX_LINE - 1] = b'.';
        let out = data_of(&long);
        for line in out.split(|&b| b == b'\n') {
            assert!(line.len() <= MAX_LINE + 1, "{}", line.len());
        }
        let body = &out[..out.len() - 3];
        assert!(!body.windows(5).any(|w| w == b"\r\n.\r\n"), "no early end");
        assert!(out.windows(3).any(|w| w == b"\n.."), "the dot that began a line is stuffed");
    }

    #[test]
    fn header_text_never_starts_a_header_of_its_own() {
        let mut out = String::new();
        header_text(7, "web down\r\nBcc: victim@example.com", &mut out);
        assert_eq!(out, "web down Bcc: victim@example.com");
        out.clear();
        header_text(7, "caf\u{e9} ferm\u{e9}\n", &mut out);
        assert_eq!(out, "=?UTF-8?B?Y2Fmw6kgZmVybcOp?=");
        out.clear();
        let long: String = "\u{e9}".repeat(100);
        header_text(7, &long, &mut out);
        for line in out.split("\r\n") {
            assert!(line.len() <= 78, "{line}");
        }
        assert_eq!(out.matches("=?UTF-8?B?").count(), 6, "{out}");
        out.clear();
        header_text(7, &"word ".repeat(40), &mut out);
        assert!(out.split("\r\n").all(|l| l.len() <= 78 && !l.is_empty()), "{out}");
        assert!(out.split("\r\n").skip(1).all(|l| l.starts_with(' ')));
    }

    #[test]
    fn addresses() {
        assert!(is_address("ops@example.com"));
        assert!(is_address("sonde+box1@mx.test"));
        for bad in ["", "ops", "@x", "x@", "a b@x", "a@x>", "a@x\r\nRCPT TO:<b@y>", "\"q\"@x"] {
            assert!(!is_address(bad), "{bad:?}");
        }
    }
}
