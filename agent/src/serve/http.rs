//! One request on one connection: its head read within
//! [`HEAD_DEADLINE`](crate::limits::HEAD_DEADLINE) of the accept (a total, so a client that sends
//! nothing or trickles bytes is closed; the main loop waits for the head
//! before a thread takes the connection), bounded by
//! [`MAX_REQUEST_HEAD`] (else 431), parsed by httparse (else 400); GET and
//! HEAD served (else 405); the response written within [`WRITE_DEADLINE`],
//! and the connection closed (`Connection: close`).

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};

use super::probe;
use crate::agent::Agent;
use crate::limits::{LINGER, MAX_REQUEST_HEAD, MAX_REQUEST_HEADERS, WRITE_DEADLINE};
use crate::sys::time::Deadline;

/// The exposition's media type, text format 0.0.4.
pub const CONTENT_TYPE_METRICS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Plain text, for errors and the debug page.
const TEXT: &str = "text/plain; charset=utf-8";

/// The response to a client that did not send its head by the deadline.
pub(super) const TIMEOUT_408: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n\r\n408 Request Timeout\n";

/// Whether `head` (the bytes received so far) is a whole request head,
/// or already wrong: either way a thread can answer it now.
pub(super) fn head_arrived(head: &[u8]) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; MAX_REQUEST_HEADERS];
    head.len() >= MAX_REQUEST_HEAD
        || !matches!(httparse::Request::new(&mut headers).parse(head), Ok(httparse::Status::Partial))
}

/// Reads one request head, by `deadline` (the accept's, plus
/// [`HEAD_DEADLINE`](crate::limits::HEAD_DEADLINE)), and answers it.
/// Returns the socket when it may carry another request (HTTP/1.1
/// keep-alive): a connection whose client did not ask to close,
/// that sent nothing beyond this head, and that took the whole response.
pub(super) fn serve_connection(mut stream: TcpStream, deadline: Deadline, shared: &Agent) -> Option<TcpStream> {
    let mut head = [0u8; MAX_REQUEST_HEAD];
    let mut len = 0;
    loop {
        if len > 0 {
            let mut headers = [httparse::EMPTY_HEADER; MAX_REQUEST_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&head[..len]) {
                Ok(httparse::Status::Complete(end)) => {
                    let method = req.method.unwrap_or("");
                    let path = req.path.unwrap_or("");
                    // Bytes past the head would be the next request's,
                    // read here and lost to the main loop: close instead.
                    let keep = end == len && keep_alive(req.version, req.headers);
                    let sent = respond(&mut stream, method, path, req.headers, shared, keep);
                    return (keep && sent).then_some(stream);
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => {
                    refuse(&mut stream, 431, "Request Header Fields Too Large");
                    return None;
                }
                Err(_) => {
                    refuse(&mut stream, 400, "Bad Request");
                    return None;
                }
            }
        }
        if len == head.len() {
            refuse(&mut stream, 431, "Request Header Fields Too Large");
            return None;
        }
        let Some(left) = deadline.left() else {
            refuse(&mut stream, 408, "Request Timeout");
            return None;
        };
        stream.set_read_timeout(Some(left)).ok()?;
        match stream.read(&mut head[len..]) {
            Ok(0) => return None,
            Ok(n) => len += n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                refuse(&mut stream, 408, "Request Timeout");
                return None;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// Whether the client lets the connection carry another request: HTTP/1.1
/// unless it says `Connection: close`, HTTP/1.0 only if it says
/// `keep-alive` (RFC 9112 §9.3).
fn keep_alive(version: Option<u8>, headers: &[httparse::Header<'_>]) -> bool {
    let says = |token: &str| {
        headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("Connection"))
            .any(|h| h.value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes())))
    };
    match version {
        Some(1) => !says("close"),
        Some(0) => says("keep-alive"),
        _ => false,
    }
}

/// Answers one request; true when the whole response was written (and the
/// connection, with `keep`, may carry another).
fn respond(
    stream: &mut TcpStream,
    method: &str,
    target: &str,
    headers: &[httparse::Header<'_>],
    shared: &Agent,
    keep: bool,
) -> bool {
    let head_only = method == "HEAD";
    let send = |stream: &mut TcpStream, r: &Response<'_>, head_only: bool| send(stream, r, head_only, keep);
    if method != "GET" && !head_only {
        let body = b"Only GET and HEAD are served here.\n";
        return send(stream, &Response::text(405, "Method Not Allowed", body).with(&[("Allow", "GET, HEAD")]), false);
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    match path {
        "/metrics" => {
            let body = shared.scrape();
            send(stream, &Response::ok(CONTENT_TYPE_METRICS, &body), head_only)
        }
        "/probe" => {
            let query = target.split_once('?').map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
            // Prometheus says how long it will wait; the probe ends before.
            let scrape_timeout = headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("X-Prometheus-Scrape-Timeout-Seconds"))
                .map(|h| h.value);
            match probe::probe(query, scrape_timeout, &shared.config()) {
                Ok(a) if a.debug => send(stream, &Response::ok(TEXT, &a.body), head_only),
                Ok(a) => send(stream, &Response::ok(CONTENT_TYPE_METRICS, &a.body), head_only),
                Err(e) => {
                    let reason = match e.status {
                        500 => "Internal Server Error",
                        503 => "Service Unavailable",
                        _ => "Bad Request",
                    };
                    let body = format!("{}\n", e.message);
                    send(stream, &Response::text(e.status, reason, body.as_bytes()), head_only)
                }
            }
        }
        "/" => send(stream, &Response::ok("text/html; charset=utf-8", INDEX.as_bytes()), head_only),
        _ => send(stream, &Response::text(404, "Not Found", b"Not found. See / for the endpoints.\n"), head_only),
    }
}

const INDEX: &str = concat!(
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sonde</title></head><body>\n",
    "<h1>sonde</h1>\n<p>A monitoring agent for small Linux appliances, version ",
    env!("CARGO_PKG_VERSION"),
    ".</p>\n<ul>\n",
    "<li><a href=\"/metrics\">/metrics</a>: the host's and the agent's metrics, Prometheus text format 0.0.4</li>\n",
    "<li>/probe?module=M&amp;target=T: one check, now, as blackbox_exporter's /probe (modules tcp_connect, smtp_banner, ssh_banner, dns, ntp, or a configured check's name; &amp;debug=true explains it)</li>\n",
    "</ul>\n</body></html>\n"
);

/// A response: its status, what the body is, extra headers, the body.
struct Response<'a> {
    status: u16,
    reason: &'a str,
    content_type: &'a str,
    extra: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

impl<'a> Response<'a> {
    fn ok(content_type: &'a str, body: &'a [u8]) -> Response<'a> {
        Response { status: 200, reason: "OK", content_type, extra: &[], body }
    }

    fn text(status: u16, reason: &'a str, body: &'a [u8]) -> Response<'a> {
        Response { status, reason, content_type: TEXT, extra: &[], body }
    }

    fn with(self, extra: &'a [(&'a str, &'a str)]) -> Response<'a> {
        Response { extra, ..self }
    }
}

/// Writes a whole response (its head alone, for HEAD) within
/// [`WRITE_DEADLINE`], then closes unless `keep`. True when it was all
/// written.
fn send(stream: &mut TcpStream, r: &Response<'_>, head_only: bool, keep: bool) -> bool {
    let mut head = String::with_capacity(160);
    head.push_str(&format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}",
        r.status,
        r.reason,
        r.content_type,
        r.body.len(),
        if keep { "" } else { "Connection: close\r\n" }
    ));
    for (name, value) in r.extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let body = if head_only { &[][..] } else { r.body };
    let written =
        write_all_by(stream, &mut [IoSlice::new(head.as_bytes()), IoSlice::new(body)], Deadline::after(WRITE_DEADLINE));
    if !keep || written.is_err() {
        let _ = stream.shutdown(Shutdown::Write);
    }
    written.is_ok()
}

/// Answers an unreadable request with an error status, then drains what
/// the client still sends for a moment, so it reads the status rather
/// than a connection reset.
fn refuse(stream: &mut TcpStream, code: u16, reason: &str) {
    send(stream, &Response::text(code, reason, format!("{code} {reason}\n").as_bytes()), false, false);
    let deadline = Deadline::after(LINGER);
    let mut sink = [0u8; 4096];
    while let Some(left) = deadline.left() {
        if stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Writes head and body with writev, one segment for a small response,
/// all of it by `deadline`.
fn write_all_by(stream: &mut TcpStream, mut parts: &mut [IoSlice<'_>], deadline: Deadline) -> io::Result<()> {
    while parts.iter().any(|p| !p.is_empty()) {
        let left = deadline.left_io()?;
        stream.set_write_timeout(Some(left))?;
        match stream.write_vectored(parts) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut parts, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
