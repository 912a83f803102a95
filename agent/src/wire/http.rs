//! HTTP/1.1 responses as a client reads them (RFC 9112), for the http
//! check: the response head, the body's framing, chunked transfer coding
//! as an incremental state machine, `Location` resolved against the URL
//! asked (RFC 3986 §5), an HTTP-date (RFC 9110 §5.6.7) and base64 for
//! basic credentials.
//!
//! Invariants: nothing here reads a socket or the clock; no input panics.
//! [`parse_head`] builds owned headers, at most [`MAX_HEADERS`] of them
//! and never more bytes than the head it was given (the caller bounds
//! that); [`Chunked`] keeps a few counters whatever it is fed, bounds a
//! size line at [`MAX_CHUNK_LINE`] bytes and the trailer at
//! [`MAX_TRAILER`], and never reads a chunk size past 64 bits.

/// Most header fields in a response head; more is [`Bad::TooManyHeaders`].
pub const MAX_HEADERS: usize = 128;
/// Longest chunk-size line, extensions included.
pub const MAX_CHUNK_LINE: usize = 4096;
/// Longest trailer section after the last chunk.
pub const MAX_TRAILER: usize = 16 * 1024;

/// Why a response is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// Not HTTP/1.x, or framing that breaks the grammar.
    Malformed,
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// A chunk-size line or trailer past its bound.
    TooLong,
}

//----- URL -----

/// The parts of what [`Url::parse`] reads, borrowed: https or not, the
/// authority (host and port as written), and the path and query as
/// written (maybe empty), without the fragment.
pub fn split_url(s: &str) -> Option<(bool, &str, &str)> {
    let (https, rest) = match s.split_once("://") {
        Some(("http", rest)) => (false, rest),
        Some(("https", rest)) => (true, rest),
        Some(_) => return None,
        None => (false, s),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() || authority.contains('@') || s.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    Some((https, authority, path))
}

/// An http or https URL as a check asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub https: bool,
    /// Without brackets for IPv6.
    pub host: String,
    pub port: u16,
    /// Host, and port if written, as the `Host` header sends it.
    pub authority: String,
    /// Path and query, never empty (`/`); no fragment.
    pub path: String,
}

impl Url {
    /// `http://host[:port][/path]`, `https://...`, or a target written
    /// without a scheme, which is http (blackbox_exporter's reading).
    /// Credentials in the URL, spaces and control characters are refused.
    pub fn parse(s: &str) -> Option<Url> {
        let (https, authority, path) = split_url(s)?;
        let (host, port) = super::hostport::split(authority)?;
        let port = port.unwrap_or(if https { 443 } else { 80 });
        let path = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        Some(Url { https, host: host.to_owned(), port, authority: authority.to_owned(), path })
    }

    /// The URL a `Location` value names, resolved against this one (RFC
    /// 3986 §5.2): absolute, scheme-relative (`//host/p`), absolute-path,
    /// query-only or relative. None for another scheme or a bad URL.
    pub fn join(&self, location: &str) -> Option<Url> {
        let location = location.trim();
        // A scheme: a letter, then letters, digits, `+-.`, then `:`,
        // before any `/?#`.
        let scheme_end = location.find([':', '/', '?', '#']).filter(|&i| location.as_bytes()[i] == b':');
        if let Some(i) = scheme_end {
            let scheme = &location[..i];
            let valid = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if valid {
                let lower = scheme.to_ascii_lowercase();
                return match lower.as_str() {
                    "http" | "https" => Url::parse(&format!("{lower}{}", &location[i..])),
                    _ => None,
                };
            }
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", if self.https { "https" } else { "http" }));
        }
        let scheme = if self.https { "https" } else { "http" };
        let base = self.path.split('?').next().unwrap_or("/");
        let location = location.split('#').next().unwrap_or_default();
        let path = if location.starts_with('/') {
            remove_dots(location)
        } else if location.is_empty() {
            self.path.clone()
        } else if location.starts_with('?') {
            format!("{base}{location}")
        } else {
            let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
            remove_dots(&format!("{dir}{location}"))
        };
        Url::parse(&format!("{scheme}://{}{path}", self.authority))
    }
}

/// RFC 3986 §5.2.4 on an absolute path (its query left as it is).
fn remove_dots(p: &str) -> String {
    let (path, query) = match p.find('?') {
        Some(i) => p.split_at(i),
        None => (p, ""),
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." if last => out.push(""),
            "." => {}
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}{query}", out.join("/"))
}

//----- Response head -----

/// A response's status line and header fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor: u8,
    pub status: u16,
    /// Field names as sent; values as UTF-8, invalid bytes read as U+FFFD.
    pub headers: Vec<(String, String)>,
}

/// How the body after a head ends (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body: a response to HEAD, 1xx, 204 or 304.
    None,
    Length(u64),
    Chunked,
    /// Until the server closes.
    Close,
}

/// Parses the head at the start of `buf`: Ok(None) while it is not
/// complete, else the head and its length in bytes.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, Bad> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut headers);
    let len = match r.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Bad::TooManyHeaders),
        Err(_) => return Err(Bad::Malformed),
    };
    let (Some(minor), Some(status)) = (r.version, r.code) else { return Err(Bad::Malformed) };
    let headers =
        r.headers.iter().map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned())).collect();
    Ok(Some((Head { minor, status, headers }, len)))
}

impl Head {
    /// `HTTP/1.1` or `HTTP/1.0`, as blackbox's `valid_http_versions`
    /// spells it.
    pub fn version(&self) -> &'static str {
        if self.minor == 0 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        }
    }

    /// The values of the field `name` (any case), in order.
    pub fn values<'h, 'n>(&'h self, name: &'n str) -> impl Iterator<Item = &'h str> + use<'h, 'n> {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values(name).next()
    }

    /// The body's framing, for a request made with `head_request` (HEAD).
    /// Err for a Content-Length that is not one number.
    pub fn framing(&self, head_request: bool) -> Result<Framing, Bad> {
        if head_request || self.status < 200 || self.status == 204 || self.status == 304 {
            return Ok(Framing::None);
        }
        let mut codings = self.values("transfer-encoding").flat_map(|v| v.split(',')).map(str::trim);
        if let Some(last) = codings.by_ref().filter(|c| !c.is_empty()).last() {
            // Chunked last, or the body ends with the connection.
            return Ok(if last.eq_ignore_ascii_case("chunked") { Framing::Chunked } else { Framing::Close });
        }
        match self.content_length()? {
            Some(n) => Ok(Framing::Length(n)),
            None => Ok(Framing::Close),
        }
    }

    /// Content-Length, when sent without Transfer-Encoding; several equal
    /// values (or a list of them) are one, differing ones are an error.
    pub fn content_length(&self) -> Result<Option<u64>, Bad> {
        if self.get("transfer-encoding").is_some() {
            return Ok(None);
        }
        let mut seen = None;
        for v in self.values("content-length").flat_map(|v| v.split(',')) {
            let n = super::parse_u64(v.trim().as_bytes()).ok_or(Bad::Malformed)?;
            if seen.is_some_and(|s| s != n) {
                return Err(Bad::Malformed);
            }
            seen = Some(n);
        }
        Ok(seen)
    }
}

/// Whether `status` sends the client elsewhere with a `Location` it
/// follows (RFC 9110 §15.4).
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

//----- Chunked transfer coding -----

/// A decoder of the chunked transfer coding (RFC 9112 §7.1), fed the
/// bytes after the head as they arrive. A line may end with CRLF or a
/// bare LF (§2.2 lets a recipient take either); chunk extensions and
/// trailer fields are skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunked {
    state: State,
    /// Bytes of the current size line, or of the trailer so far.
    seen: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Reading hex digits: the value and how many.
    #[default]
    Start,
    Size(u64, u8),
    Ext(u64),
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    TrailerStart,
    TrailerLine,
    TrailerLf,
    EndLf,
    Done,
}

impl Chunked {
    pub fn new() -> Chunked {
        Chunked::default()
    }

    /// Whether the last chunk and the trailer have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes framing from `input` up to the next body bytes, and those:
    /// how many bytes of `input` were used, and the body bytes among them
    /// (empty when `input` held only framing, or the coding is done).
    /// Bytes after the end are not used.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, &'a [u8]), Bad> {
        let mut i = 0;
        while i < input.len() {
            if let State::Data(left) = self.state {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len() - i);
                self.state = if n as u64 == left { State::DataCr } else { State::Data(left - n as u64) };
                return Ok((i + n, &input[i..i + n]));
            }
            if self.state == State::Done {
                break;
            }
            self.step(input[i])?;
            i += 1;
        }
        Ok((i, &[]))
    }

    /// One byte of framing.
    fn step(&mut self, b: u8) -> Result<(), Bad> {
        use State::*;
        let hex = |b: u8| (b as char).to_digit(16).map(u64::from);
        self.state = match (self.state, b) {
            (Start, _) => match hex(b) {
                Some(d) => {
                    self.seen = 1;
                    Size(d, 1)
                }
                None => return Err(Bad::Malformed),
            },
            (Size(n, digits), _) => {
                self.line()?;
                match (hex(b), b) {
                    (Some(_), _) if digits >= 16 => return Err(Bad::TooLong),
                    (Some(d), _) => Size(n << 4 | d, digits + 1),
                    (None, b';' | b' ' | b'\t') => Ext(n),
                    (None, b'\r') => SizeLf(n),
                    (None, b'\n') => Self::size_line_end(n),
                    _ => return Err(Bad::Malformed),
                }
            }
            (Ext(n), b'\r') => SizeLf(n),
            (Ext(n), b'\n') => Self::size_line_end(n),
            (Ext(n), _) => {
                self.line()?;
                Ext(n)
            }
            (SizeLf(n), b'\n') => Self::size_line_end(n),
            (DataCr, b'\r') => DataLf,
            (DataCr | DataLf, b'\n') => Start,
            (TrailerStart, b'\r') => EndLf,
            (TrailerStart | EndLf, b'\n') => Done,
            (TrailerStart | TrailerLine, _) => {
                self.trailer()?;
                match b {
                    b'\r' => TrailerLf,
                    b'\n' => TrailerStart,
                    _ => TrailerLine,
                }
            }
            (TrailerLf, b'\n') => TrailerStart,
            (Data(_) | Done, _) => self.state,
            (SizeLf(_) | DataCr | DataLf | EndLf | TrailerLf, _) => return Err(Bad::Malformed),
        };
        Ok(())
    }

    fn size_line_end(n: u64) -> State {
        if n == 0 {
            State::TrailerStart
        } else {
            State::Data(n)
        }
    }

    fn line(&mut self) -> Result<(), Bad> {
        self.seen += 1;
        if self.seen > MAX_CHUNK_LINE {
            return Err(Bad::TooLong);
        }
        Ok(())
    }

    fn trailer(&mut self) -> Result<(), Bad> {
        self.seen += 1;
        if self.seen > MAX_CHUNK_LINE + MAX_TRAILER {
            return Err(Bad::TooLong);
        }
        Ok(())
    }
}

//----- HTTP-date -----

/// An HTTP-date (`Last-Modified`) as unix seconds: the IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms a
/// recipient must still read (RFC 850's `Sunday, 06-Nov-94 08:49:37
/// GMT`, asctime's `Sun Nov  6 08:49:37 1994`), as Go's http.ParseTime.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let f: Vec<&str> = s.split_ascii_whitespace().collect();
    let (day, month, year, time) = match f.as_slice() {
        [_, d, m, y, t, "GMT"] if s.contains(',') => (*d, *m, year4(y)?, *t),
        [_, dmy, t, "GMT"] => {
            let mut p = dmy.split('-');
            let (d, m, y) = (p.next()?, p.next()?, p.next()?);
            let y: i64 = y.parse().ok().filter(|_| y.len() == 2)?;
            (d, m, if y >= 69 { 1900 + y } else { 2000 + y }, *t)
        }
        [_, m, d, t, y] => (*d, *m, year4(y)?, *t),
        _ => return None,
    };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let day: i64 = day.parse().ok().filter(|d| (1..=31).contains(d) && day.len() <= 2)?;
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok().filter(|_| p.len() == 2));
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + sec)
}

fn year4(y: &str) -> Option<i64> {
    y.parse().ok().filter(|_| y.len() == 4)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nginx 1.22.1's answer to `GET /` with the test harness's config
    /// (tests/common/peers.rs), captured with a Python socket; the body cut
    /// after its first bytes.
    const NGINX_200: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 05 Dec 2026 00:35:01 GMT\r\n\
Content-Type: text/html\r\nContent-Length: 52\r\nLast-Modified: Sat, 05 Dec 2026 00:34:59 GMT\r\n\
Connection: close\r\nETag: \"6b135c33-34\"\r\nAccept-Ranges: bytes\r\n\r\n<html>";

    /// Its chunked body for a page with `ssi on` that includes another
    /// (`<!--# include virtual="/index.html" -->`), as captured, and four
    /// bytes that are not part of it.
    const NGINX_CHUNKED: &[u8] =
        b"d\r\n<html><body>\n\r\n34\r\n<html><body><h1>hello from nginx</h1></body></html>\n\r\n\
1f\r\n\nhello from ssi\n</body></html>\n\r\n0\r\n\r\nmore";

    #[test]
    fn parse_captured_nginx_head() {
        let (head, len) = parse_head(NGINX_200).unwrap().unwrap();
        assert_eq!(&NGINX_200[len..], b"<html>");
        assert_eq!((head.minor, head.status, head.version()), (1, 200, "HTTP/1.1"));
        assert_eq!(head.get("content-type"), Some("text/html"));
        assert_eq!(head.framing(false), Ok(Framing::Length(52)));
        assert_eq!(head.framing(true), Ok(Framing::None));
        assert_eq!(parse_http_date(head.get("Last-Modified").unwrap()), Some(1_796_430_899));
    }

    #[test]
    fn truncated_heads_are_partial_never_errors() {
        let end = NGINX_200.len() - 6;
        for n in 0..end {
            assert_eq!(parse_head(&NGINX_200[..n]), Ok(None), "{n}");
        }
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let head = |h: &str| parse_head(format!("HTTP/1.1 200 OK\r\n{h}\r\n").as_bytes()).unwrap().unwrap().0;
        assert_eq!(head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n").framing(false), Ok(Framing::Chunked));
        assert_eq!(head("Transfer-Encoding: gzip, chunked\r\n").framing(false), Ok(Framing::Chunked));
        assert_eq!(head("Transfer-Encoding: chunked, gzip\r\n").framing(false), Ok(Framing::Close));
        assert_eq!(head("").framing(false), Ok(Framing::Close));
        assert_eq!(head("Content-Length: 7, 7\r\nContent-Length: 7\r\n").framing(false), Ok(Framing::Length(7)));
        assert_eq!(head("Content-Length: 7\r\nContent-Length: 8\r\n").framing(false), Err(Bad::Malformed));
        assert_eq!(head("Content-Length: -1\r\n").framing(false), Err(Bad::Malformed));
        let no_content = parse_head(b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n").unwrap().unwrap().0;
        assert_eq!(no_content.framing(false), Ok(Framing::None));
        assert_eq!(parse_head(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap().0.version(), "HTTP/1.0");
        assert_eq!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n"), Err(Bad::Malformed));
        let many = format!("HTTP/1.1 200 OK\r\n{}\r\n", "A: b\r\n".repeat(MAX_HEADERS + 1));
        assert_eq!(parse_head(many.as_bytes()), Err(Bad::TooManyHeaders));
    }

    /// Decodes `input` fed in pieces of `step` bytes.
    fn dechunk(input: &[u8], step: usize) -> Result<(Vec<u8>, bool, usize), Bad> {
        let mut c = Chunked::new();
        let mut body = Vec::new();
        let mut used = 0;
        for piece in input.chunks(step) {
            let mut rest = piece;
            while !rest.is_empty() && !c.is_done() {
                let (n, data) = c.decode(rest)?;
                body.extend_from_slice(data);
                used += n;
                rest = &rest[n..];
            }
        }
        Ok((body, c.is_done(), used))
    }

    /// nginx's chunked body, fed in pieces of every size; then one with
    /// extensions, a trailer and bare LFs.
    #[test]
    fn chunked_bodies_decode_whatever_the_pieces() {
        let want =
            b"<html><body>\n<html><body><h1>hello from nginx</h1></body></html>\n\nhello from ssi\n</body></html>\n";
        for step in 1..NGINX_CHUNKED.len() {
            let (body, done, used) = dechunk(NGINX_CHUNKED, step).unwrap();
            assert_eq!(body, want);
            assert!(done);
            assert_eq!(used, NGINX_CHUNKED.len() - 4, "the bytes after the end are left");
        }
        for n in 0..NGINX_CHUNKED.len() - 4 {
            let (_, done, _) = dechunk(&NGINX_CHUNKED[..n], 7).unwrap();
            assert!(!done, "a cut body is not done at {n}");
        }
        let odd = b"A;name=value\nhello worl\n1 ; x\r\nd\r\n0\r\nExpires: never\r\nX: y\n\r\n";
        let (body, done, _) = dechunk(odd, 3).unwrap();
        assert_eq!((body.as_slice(), done), (&b"hello world"[..], true));
    }

    #[test]
    fn broken_chunked_framing_is_refused() {
        for bad in [&b"x\r\n"[..], b"\r\n", b"5\r\nhelloX", b"5\r\nhello\rX", b";x\r\n", b"5\r\nhello\r\n0\r\n\rX"] {
            assert_eq!(dechunk(bad, 1).unwrap_err(), Bad::Malformed, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(dechunk(b"11111111111111111\r\n", 4).unwrap_err(), Bad::TooLong, "past 64 bits");
        let long_ext = format!("1;{}\r\n", "x".repeat(MAX_CHUNK_LINE));
        assert_eq!(dechunk(long_ext.as_bytes(), 100).unwrap_err(), Bad::TooLong);
        let long_trailer = format!("0\r\n{}\r\n\r\n", "x".repeat(MAX_TRAILER + MAX_CHUNK_LINE));
        assert_eq!(dechunk(long_trailer.as_bytes(), 100).unwrap_err(), Bad::TooLong);
        // The largest size still reads (and would then be read until the
        // deadline or the body limit).
        let mut c = Chunked::new();
        assert_eq!(c.decode(b"ffffffffffffffff\r\nab"), Ok((20, &b"ab"[..])));
    }

    #[test]
    fn urls_as_blackbox_reads_targets() {
        let u = Url::parse("example.org").unwrap();
        assert_eq!((u.https, u.host.as_str(), u.port, u.path.as_str()), (false, "example.org", 80, "/"));
        let u = Url::parse("https://[::1]:8443/a?b#frag").unwrap();
        assert_eq!((u.https, u.host.as_str(), u.port), (true, "::1", 8443));
        assert_eq!((u.authority.as_str(), u.path.as_str()), ("[::1]:8443", "/a?b"));
        assert_eq!(Url::parse("127.0.0.1:8080?x").unwrap().path, "/?x");
        for bad in ["ftp://x/", "http://user:pw@x/", "http://x/a b", "http:///", "http://x:0/", ""] {
            assert_eq!(Url::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn locations_resolve_as_rfc_3986_says() {
        let base = Url::parse("http://a.test:8080/b/c/d?q").unwrap();
        let join = |l: &str| {
            base.join(l).map(|u| format!("{}://{}{}", if u.https { "https" } else { "http" }, u.authority, u.path))
        };
        assert_eq!(join("/r2").as_deref(), Some("http://a.test:8080/r2"));
        assert_eq!(join("g").as_deref(), Some("http://a.test:8080/b/c/g"));
        assert_eq!(join("../g?x").as_deref(), Some("http://a.test:8080/b/g?x"));
        assert_eq!(join("./").as_deref(), Some("http://a.test:8080/b/c/"));
        assert_eq!(join("../../../g").as_deref(), Some("http://a.test:8080/g"));
        assert_eq!(join("?y").as_deref(), Some("http://a.test:8080/b/c/d?y"));
        assert_eq!(join("//other/x").as_deref(), Some("http://other/x"));
        assert_eq!(join("https://secure.test/").as_deref(), Some("https://secure.test/"));
        assert_eq!(join("mailto:x@y"), None);
        assert_eq!(join("gopher://x/"), None);
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        for s in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(parse_http_date(s), Some(784_111_777), "{s}");
        }
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"), Some(1_835_481_599));
        for bad in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }
}
