//! The HTTP/1.1 client of delivery (push, and the notifications' POSTs):
//! one POST per connection, with deadlines, over TCP or (cargo feature
//! `tls`) TLS.
//!
//! A POST every 15 seconds or more does not need connection reuse, so each
//! request opens a connection, sends `Connection: close`, reads the status
//! line and headers (httparse; bounded by [`MAX_RESPONSE_HEAD`]) and a
//! little of the body for the log, and closes. Every step has a deadline:
//! connect, write and read together never take longer than the timeout.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::sys::time::Deadline;
use crate::tls::{ClientTls, TLS_BUILT};
use crate::wire::hostport;

/// Largest response head read; the rest of a longer one is ignored.
pub const MAX_RESPONSE_HEAD: usize = 16 * 1024;
/// How much of an error response's body is kept for the log.
const BODY_SNIPPET: usize = 256;

/// Where batches go: parsed from the push URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `https`: the request goes over TLS.
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, as sent in the request line.
    pub path: String,
}

impl Endpoint {
    /// `http://host[:port]/path` or `https://...`; a build without TLS
    /// refuses `https` with that reason.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let (tls, rest) = match url.split_once("://") {
            Some(("http", rest)) => (false, rest),
            Some(("https", _)) if !TLS_BUILT => {
                return Err(format!("'{url}': this sonde is built without TLS (cargo feature tls); use http"));
            }
            Some(("https", rest)) => (true, rest),
            _ => return Err(format!("'{url}' is not an http:// or https:// URL")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(format!("'{url}': credentials in the URL would show in logs; use basic_auth_user"));
        }
        let (host, port) = hostport::split(authority).ok_or_else(|| format!("'{url}': bad host or port"))?;
        let port = port.unwrap_or(if tls { 443 } else { 80 });
        if path.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(format!("'{url}' is not a usable URL"));
        }
        Ok(Endpoint { tls, host: host.to_owned(), port, path: path.to_owned() })
    }

    fn host_header(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == if self.tls { 443 } else { 80 } {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// What the receiver said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The Retry-After header, as a delay from now.
    pub retry_after: Option<Duration>,
    /// The start of the body, for the log.
    pub body: String,
}

/// An endpoint and, for https, its TLS settings and the name to verify.
/// The CA and client certificate files are read when the push starts, so a
/// bad one stops it there with the file's name, and again whenever they
/// change on disk ([`crate::tls::client_config`]).
pub struct Client {
    endpoint: Endpoint,
    #[cfg(feature = "tls")]
    tls: Option<(ClientTls, String)>,
}

impl Client {
    /// `tls` is used for an https URL only (the config refuses it for http).
    pub fn new(url: &str, tls: &ClientTls) -> Result<Client, String> {
        let endpoint = Endpoint::parse(url)?;
        #[cfg(not(feature = "tls"))]
        let _ = tls; // An https URL was refused by Endpoint::parse.
        #[cfg(feature = "tls")]
        let tls = match endpoint.tls {
            true => {
                crate::tls::client_config(tls).map_err(|e| format!("TLS: {e}"))?;
                Some((tls.clone(), tls.server_name.clone().unwrap_or_else(|| endpoint.host.clone())))
            }
            false => None,
        };
        Ok(Client {
            endpoint,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// POSTs `body` with the given headers (the caller's, already
    /// complete) and returns the receiver's answer, all within `timeout`.
    pub fn post(&self, headers: &[(String, String)], body: &[u8], timeout: Duration) -> io::Result<Response> {
        let deadline = Deadline::after(timeout);
        let tcp = connect(&self.endpoint, deadline)?;
        #[cfg(feature = "tls")]
        if let Some((settings, name)) = &self.tls {
            let stream = crate::tls::connect(tcp, &crate::tls::client_config(settings)?, name)?;
            return exchange(&self.endpoint, Conn::Tls(Box::new(stream)), headers, body, deadline);
        }
        exchange(&self.endpoint, Conn::Plain(tcp), headers, body, deadline)
    }
}

/// A connection to the receiver, plain or TLS (SMTP's too).
pub(super) enum Conn {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::Stream>),
}

impl Conn {
    /// Gives the socket's reads and writes the time left. Both, whatever
    /// the caller is about to do: a TLS write runs the handshake, which
    /// reads, and a TLS read may first write what it holds.
    pub(super) fn arm(&self, deadline: Deadline) -> io::Result<()> {
        let left = deadline.left_io()?;
        self.socket().set_read_timeout(Some(left))?;
        self.socket().set_write_timeout(Some(left))
    }

    fn socket(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            #[cfg(feature = "tls")]
            Conn::Tls(s) => &s.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.flush(),
        }
    }
}

fn exchange(
    ep: &Endpoint,
    mut stream: Conn,
    headers: &[(String, String)],
    body: &[u8],
    deadline: Deadline,
) -> io::Result<Response> {
    let mut head = format!("POST {} HTTP/1.1\r\nHost: {}\r\n", ep.path, ep.host_header());
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let sent = write_by(&mut stream, head.as_bytes(), deadline)
        .and_then(|()| write_by(&mut stream, body, deadline))
        // TLS keeps records back until flushed; for TCP this is nothing.
        .and_then(|()| stream.arm(deadline))
        .and_then(|()| stream.flush());
    match sent {
        Ok(()) => read_response(&mut stream, deadline),
        // A receiver may answer and close before reading everything (an
        // early 413, a TLS alert refusing the handshake): what it said
        // tells the operator more than the broken pipe it left.
        Err(e) => {
            #[cfg(feature = "tls")]
            if let Conn::Tls(s) = &mut stream {
                return Err(crate::tls::alert(s, deadline).unwrap_or(e));
            }
            match read_response(&mut stream, deadline) {
                Ok(r) => Ok(r),
                Err(_) => Err(e),
            }
        }
    }
}

pub(super) fn connect(ep: &Endpoint, deadline: Deadline) -> io::Result<TcpStream> {
    let addrs = crate::resolve::lookup(&ep.host, ep.port, deadline).map_err(|e| e.io(&ep.host))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{} has no address", ep.host));
    for addr in addrs {
        match crate::sys::net::connect(addr, deadline.left_io()?) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

pub(super) fn write_by(stream: &mut Conn, mut bytes: &[u8], deadline: Deadline) -> io::Result<()> {
    while !bytes.is_empty() {
        stream.arm(deadline)?;
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn read_response(stream: &mut Conn, deadline: Deadline) -> io::Result<Response> {
    let mut buf = vec![0u8; MAX_RESPONSE_HEAD];
    let mut len = 0;
    loop {
        stream.arm(deadline)?;
        let n = match stream.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&buf[..len]) {
            Ok(httparse::Status::Complete(head_len)) => {
                let status = resp.code.unwrap_or(0);
                let retry_after = resp
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("retry-after"))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .and_then(|v| retry_after(v, SystemTime::now()));
                let end = len.min(head_len + BODY_SNIPPET);
                let body = String::from_utf8_lossy(&buf[head_len..end]).trim().to_owned();
                return Ok(Response { status, retry_after, body });
            }
            Ok(httparse::Status::Partial) if n > 0 && len < buf.len() => {}
            Ok(httparse::Status::Partial) => {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "incomplete HTTP response"));
            }
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, format!("bad HTTP response: {e}"))),
        }
    }
}

/// A Retry-After value: delay-seconds, or an IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §10.2.3) turned into a
/// delay from `now` (zero if it is past).
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the epoch of an IMF-fixdate.
fn http_date(s: &str) -> Option<u64> {
    let (_, rest) = s.split_once(", ")?;
    let mut f = rest.split(' ');
    let day: u64 = f.next()?.parse().ok()?;
    let name = f.next()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == name)? as u64
        + 1;
    let year: u64 = f.next()?.parse().ok()?;
    let mut hms = f.next()?.split(':').map(|x| x.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if f.next()? != "GMT" || !(1..=31).contains(&day) || year < 1970 || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm, years from 1970).
    let (y, mo) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let e = Endpoint::parse("http://127.0.0.1:9090/api/v1/write").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.path.as_str()), ("127.0.0.1", 9090, "/api/v1/write"));
        let e = Endpoint::parse("http://[::1]:8428/api/v1/write?x=1").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.path.as_str()), ("::1", 8428, "/api/v1/write?x=1"));
        assert_eq!(e.host_header(), "[::1]:8428");
        let e = Endpoint::parse("http://metrics.example").unwrap();
        assert_eq!((e.port, e.path.as_str(), e.host_header().as_str()), (80, "/", "metrics.example"));
        match Endpoint::parse("https://x/") {
            Ok(e) => assert!(TLS_BUILT && e.tls && e.port == 443 && e.host_header() == "x"),
            Err(e) => assert!(!TLS_BUILT && e.contains("without TLS"), "{e}"),
        }
        let e = Endpoint::parse("http://x:443/").unwrap();
        assert_eq!(e.host_header(), "x:443");
        assert!(Endpoint::parse("ftp://x/").is_err());
        assert!(Endpoint::parse("http://u:p@x/").is_err());
        assert!(Endpoint::parse("http://x:99999/").is_err());
        assert!(Endpoint::parse("http://[::1/").is_err());
        assert!(Endpoint::parse("http:///").is_err());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(http_date("Mon, 29 Feb 2016 12:00:00 GMT"), Some(1_456_747_200));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("Sun, 06 Nov 1994 08:49:37 UTC", now), None);
    }
}
