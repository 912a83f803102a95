//! The HTTP endpoint: `GET /metrics`, `GET /probe`, `GET /`, and nothing
//! else.
//!
//! Threads: the main thread waits on the listening sockets and the signal
//! pipe with poll(2), accepts, and hands each connection to a pool of
//! connection threads with small stacks, started on demand and kept for
//! the next connection. At most [`MAX_CONNECTIONS`] connections are queued
//! or served at once; while that many are, the listeners are not polled,
//! so further clients wait in the kernel's accept queue instead of costing
//! memory.
//!
//! Each connection carries one request (`Connection: close`): the head must
//! arrive whole within [`HEAD_DEADLINE`] of the accept (a total, so a
//! client that sends nothing or trickles bytes loses its slot), fit in
//! [`MAX_REQUEST_HEAD`] bytes (else 431), and parse with httparse (else
//! 400). GET and HEAD are served; other methods get 405. Scrapes are
//! serialised on one [`Scraper`], which keeps the collectors' buffers
//! between scrapes.
//!
//! Signals: SIGTERM and SIGINT stop accepting, give responses in flight
//! [`STOP_GRACE`] to finish, and return. SIGHUP reloads the config through
//! the caller's function; a config that does not load, or whose new
//! listen addresses cannot be bound, leaves the running one in place and
//! says why on stderr.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

mod probe;

use crate::agent::Agent;
use crate::config::Config;
use crate::limits::{
    CONNECTION_STACK, HEAD_DEADLINE, LINGER, MAX_CONNECTIONS, MAX_REQUEST_HEAD, MAX_REQUEST_HEADERS, STOP_GRACE,
    WRITE_DEADLINE,
};
use crate::sys::log;
use crate::sys::net::{self, Listen};
use crate::sys::signal;
use crate::sys::time::Deadline;

/// The exposition's media type, text format 0.0.4.
pub const CONTENT_TYPE_METRICS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves until SIGTERM or SIGINT. `reload` is called on SIGHUP, and a
/// config it returns goes to the agent.
pub fn run(shared: Arc<Agent>, reload: &dyn Fn() -> Result<Config, String>) -> Result<(), String> {
    let signals = signal::Signals::install().map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let mut listeners = bind_all(&shared.config().listen)?;
    let active = Arc::new(AtomicUsize::new(0));
    let pool = Arc::new(Pool {
        state: Mutex::new(PoolState { queue: VecDeque::new(), idle: 0, threads: 0 }),
        ready: Condvar::new(),
    });
    let mut backoff = false;
    let mut fds = Vec::new();
    let mut ready = Vec::new();
    loop {
        let full = active.load(Ordering::Acquire) >= MAX_CONNECTIONS;
        let accepting = !full && !backoff;
        fds.clear();
        fds.push(signals.fd());
        if accepting {
            fds.extend(listeners.iter().map(|l| l.as_raw_fd()));
        }
        ready.clear();
        ready.resize(fds.len(), false);
        // While full or backing off, wake now and then to look again; a
        // finishing connection also wakes the loop through the pipe.
        let timeout = if accepting { -1 } else { 100 };
        net::wait_readable(&fds, &mut ready, timeout).map_err(|e| format!("poll: {e}"))?;
        backoff = false;

        if ready[0] {
            let events = signals.drain();
            if let Some(sig) = events.stop {
                log::info!("{}, stopping", signal::name(sig));
                break;
            }
            if events.reload {
                reload_config(&shared, &mut listeners, reload);
                continue;
            }
        }
        for (i, listener) in listeners.iter().enumerate() {
            if !ready.get(i + 1).copied().unwrap_or(false) {
                continue;
            }
            // One accept per readiness: a second would mostly say
            // EAGAIN, and more waiting clients make poll return at once.
            if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                break;
            }
            match listener.accept() {
                Ok((stream, _)) => pool.dispatch(stream, &shared, &active),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS: the listener stays
                    // readable, so wait a little instead of spinning.
                    log::warn!("accept: {e}");
                    backoff = true;
                }
            }
        }
    }
    drop(listeners);
    let deadline = Instant::now() + STOP_GRACE;
    while active.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Connection threads. Started on demand, at most [`MAX_CONNECTIONS`],
/// and kept waiting for the next connection once started: a scrape then
/// costs no thread creation, and the number of threads stays bounded.
struct Pool {
    state: Mutex<PoolState>,
    ready: Condvar,
}

struct PoolState {
    queue: VecDeque<TcpStream>,
    /// Threads waiting for a connection that no queued one is promised to.
    idle: usize,
    threads: usize,
}

impl Pool {
    /// Queues an accepted connection, and wakes or starts a thread for it.
    fn dispatch(self: &Arc<Self>, stream: TcpStream, shared: &Arc<Agent>, active: &Arc<AtomicUsize>) {
        active.fetch_add(1, Ordering::AcqRel);
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.queue.push_back(stream);
        if st.idle > 0 {
            st.idle -= 1;
            drop(st);
            self.ready.notify_one();
        } else if st.threads < MAX_CONNECTIONS {
            st.threads += 1;
            drop(st);
            let (pool, shared, active2) = (Arc::clone(self), Arc::clone(shared), Arc::clone(active));
            let spawned = thread::Builder::new()
                .name("sonde-http".into())
                .stack_size(CONNECTION_STACK)
                .spawn(move || pool.work(&shared, &active2));
            if let Err(e) = spawned {
                log::error!("cannot start a connection thread: {e}");
                let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                st.threads -= 1;
                if st.threads == 0 {
                    // Nobody would ever take the queued connections.
                    let dropped = st.queue.len();
                    st.queue.clear();
                    active.fetch_sub(dropped, Ordering::AcqRel);
                }
            }
        }
        // Otherwise every thread is busy; the connection is taken by the
        // first to finish (there are never more than MAX_CONNECTIONS
        // connections queued or in service).
    }

    fn work(&self, shared: &Agent, active: &AtomicUsize) {
        loop {
            let stream = {
                let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if st.queue.is_empty() {
                    st.idle += 1;
                    while st.queue.is_empty() {
                        st = self.ready.wait(st).unwrap_or_else(PoisonError::into_inner);
                    }
                }
                st.queue.pop_front()
            };
            if let Some(stream) = stream {
                serve_connection(stream, shared);
            }
            // Only a full house stops the main loop from polling the
            // listeners; wake it when this slot ends one.
            if active.fetch_sub(1, Ordering::AcqRel) == MAX_CONNECTIONS {
                signal::wake();
            }
        }
    }
}

fn reload_config(shared: &Arc<Agent>, listeners: &mut Vec<TcpListener>, reload: &dyn Fn() -> Result<Config, String>) {
    let new = match reload() {
        Ok(c) => c,
        Err(e) => {
            log::error!("SIGHUP: the config has errors, the running one stays:\n{e}");
            return;
        }
    };
    let current = shared.config();
    if new.listen != current.listen {
        // Close the old sockets first, so the new set may reuse a port.
        listeners.clear();
        match bind_all(&new.listen) {
            Ok(l) => *listeners = l,
            Err(e) => {
                log::error!("SIGHUP: {e}; the running config stays");
                match bind_all(&current.listen) {
                    Ok(l) => *listeners = l,
                    Err(e) => log::error!("cannot listen again on the old addresses: {e}"),
                }
                return;
            }
        }
    }
    shared.reload(new);
    log::info!("SIGHUP: config reloaded");
}

/// Binds every address of `listen`; the error says which address failed.
/// Of an `:PORT` pair, a family the box does not have is skipped.
fn bind_all(listen: &[Listen]) -> Result<Vec<TcpListener>, String> {
    let mut out = Vec::new();
    for l in listen {
        let mut bound = 0;
        let mut skipped = Vec::new();
        for (addr, may_fail) in l.addrs() {
            match net::listen(addr) {
                Ok(listener) => {
                    let shown = listener.local_addr().map_or(addr, |a| a);
                    log::info!("listening on http://{shown}/metrics");
                    out.push(listener);
                    bound += 1;
                }
                Err(e) if may_fail && family_missing(&e) => skipped.push(format!("{addr}: {e}")),
                Err(e) => return Err(format!("cannot listen on {addr}: {e}")),
            }
        }
        if bound == 0 {
            return Err(format!("cannot listen on {l}: {}", skipped.join("; ")));
        }
    }
    Ok(out)
}

/// The error of binding an address family the kernel or interfaces lack.
fn family_missing(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL | libc::EPROTONOSUPPORT))
}

/// Reads one request head and answers it.
fn serve_connection(mut stream: TcpStream, shared: &Agent) {
    let deadline = Deadline::after(HEAD_DEADLINE);
    let mut head = [0u8; MAX_REQUEST_HEAD];
    let mut len = 0;
    loop {
        if len > 0 {
            let mut headers = [httparse::EMPTY_HEADER; MAX_REQUEST_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&head[..len]) {
                Ok(httparse::Status::Complete(_)) => {
                    let method = req.method.unwrap_or("");
                    let path = req.path.unwrap_or("");
                    respond(&mut stream, method, path, req.headers, shared);
                    return;
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) => {
                    return refuse(&mut stream, 431, "Request Header Fields Too Large");
                }
                Err(_) => return refuse(&mut stream, 400, "Bad Request"),
            }
        }
        if len == head.len() {
            return refuse(&mut stream, 431, "Request Header Fields Too Large");
        }
        let Some(left) = deadline.left() else {
            return refuse(&mut stream, 408, "Request Timeout");
        };
        if stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut head[len..]) {
            Ok(0) => return,
            Ok(n) => len += n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return refuse(&mut stream, 408, "Request Timeout");
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

fn respond(stream: &mut TcpStream, method: &str, target: &str, headers: &[httparse::Header<'_>], shared: &Agent) {
    if method != "GET" && method != "HEAD" {
        let body = b"Only GET and HEAD are served here.\n";
        return send(
            stream,
            405,
            "Method Not Allowed",
            "text/plain; charset=utf-8",
            &[("Allow", "GET, HEAD")],
            body,
            method,
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    match path {
        "/metrics" => {
            let body = shared.scrape();
            send(stream, 200, "OK", CONTENT_TYPE_METRICS, &[], &body, method);
        }
        "/probe" => {
            let query = target.split_once('?').map_or("", |(_, q)| q.split('#').next().unwrap_or(""));
            // Prometheus says how long it will wait; the probe ends before.
            let scrape_timeout = headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("X-Prometheus-Scrape-Timeout-Seconds"))
                .map(|h| h.value);
            match probe::probe(query, scrape_timeout, &shared.config().checks) {
                Ok(a) if a.debug => send(stream, 200, "OK", "text/plain; charset=utf-8", &[], &a.body, method),
                Ok(a) => send(stream, 200, "OK", CONTENT_TYPE_METRICS, &[], &a.body, method),
                Err(e) => {
                    let reason = match e.status {
                        500 => "Internal Server Error",
                        503 => "Service Unavailable",
                        _ => "Bad Request",
                    };
                    let body = format!("{}\n", e.message);
                    send(stream, e.status, reason, "text/plain; charset=utf-8", &[], body.as_bytes(), method)
                }
            }
        }
        "/" => send(stream, 200, "OK", "text/html; charset=utf-8", &[], INDEX.as_bytes(), method),
        _ => send(
            stream,
            404,
            "Not Found",
            "text/plain; charset=utf-8",
            &[],
            b"Not found. See / for the endpoints.\n",
            method,
        ),
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

/// Writes a whole response within [`WRITE_DEADLINE`], then closes.
#[allow(clippy::too_many_arguments)]
fn send(
    stream: &mut TcpStream,
    code: u16,
    reason: &str,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
    method: &str,
) {
    let mut head = String::with_capacity(160);
    head.push_str(&format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    ));
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let body = if method == "HEAD" { &[][..] } else { body };
    let _ =
        write_all_by(stream, &mut [IoSlice::new(head.as_bytes()), IoSlice::new(body)], Deadline::after(WRITE_DEADLINE));
    let _ = stream.shutdown(Shutdown::Write);
}

/// Answers an unreadable request with an error status, then drains what
/// the client still sends for a moment, so it reads the status rather
/// than a connection reset.
fn refuse(stream: &mut TcpStream, code: u16, reason: &str) {
    send(stream, code, reason, "text/plain; charset=utf-8", &[], format!("{code} {reason}\n").as_bytes(), "GET");
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
